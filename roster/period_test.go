package roster

import (
	"fmt"
	"testing"
	"time"
)

func TestMonthEnd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2022-01-31", "2022-01-31"},
		{"2022-01-01", "2022-01-31"},
		{"2024-02-10", "2024-02-29"}, // leap year
		{"2023-02-10", "2023-02-28"},
		{"2000-02-01", "2000-02-29"}, // divisible by 400: leap
		{"2100-02-01", "2100-02-28"}, // divisible by 100: not leap
		{"2022-04-15", "2022-04-30"},
		{"2022-12-01", "2022-12-31"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := d(tc.in).MonthEnd().String(); got != tc.want {
				t.Errorf("MonthEnd(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func periodsString(ps []Period) string {
	s := ""
	for _, p := range ps {
		s += fmt.Sprintf("%s:%s..%s ", p.Key, p.Opens, p.Due)
	}
	return s
}

func TestPeriods(t *testing.T) {
	tests := []struct {
		name string
		c    Campaign
		want string
	}{
		{
			name: "once",
			c:    Campaign{ID: "x", Opens: d("2022-01-05"), Due: d("2022-01-31")},
			want: "2022-01:2022-01-05..2022-01-31 ",
		},
		{
			name: "monthly opening on Jan 31 in a leap year",
			c:    Campaign{ID: "x", Every: "month", Opens: d("2024-01-31"), Until: d("2024-04-30")},
			want: "2024-01:2024-01-31..2024-01-31 2024-02:2024-02-01..2024-02-29 2024-03:2024-03-01..2024-03-31 2024-04:2024-04-01..2024-04-30 ",
		},
		{
			name: "monthly through February of a common year",
			c:    Campaign{ID: "x", Every: "month", Opens: d("2023-01-31"), Until: d("2023-03-31")},
			want: "2023-01:2023-01-31..2023-01-31 2023-02:2023-02-01..2023-02-28 2023-03:2023-03-01..2023-03-31 ",
		},
		{
			name: "December to January rolls the year",
			c:    Campaign{ID: "x", Every: "month", Opens: d("2022-11-15"), Until: d("2023-01-31")},
			want: "2022-11:2022-11-15..2022-11-30 2022-12:2022-12-01..2022-12-31 2023-01:2023-01-01..2023-01-31 ",
		},
		{
			name: "until in the middle of a month ends the last period there",
			c:    Campaign{ID: "x", Every: "month", Opens: d("2022-01-05"), Until: d("2022-03-15")},
			want: "2022-01:2022-01-05..2022-01-31 2022-02:2022-02-01..2022-02-28 2022-03:2022-03-01..2022-03-15 ",
		},
		{
			name: "until on Apr 30",
			c:    Campaign{ID: "x", Every: "month", Opens: d("2022-04-01"), Until: d("2022-04-30")},
			want: "2022-04:2022-04-01..2022-04-30 ",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := periodsString(tc.c.Periods()); got != tc.want {
				t.Errorf("Periods:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestLateAtTheBeijingDayBoundary(t *testing.T) {
	r := testRoster(t)
	c, _ := r.Campaign("zjdh-study")
	p := c.Periods()[0] // due 2022-01-31
	m, _ := r.Campaign("zjdh-monthly")
	feb, ok := m.Period("2022-02")
	if !ok {
		t.Fatal("zjdh-monthly has no period 2022-02")
	}
	tests := []struct {
		name string
		p    Period
		at   time.Time
		late bool
	}{
		{"23:59 Beijing on the due date is 15:59 UTC", p, time.Date(2022, 1, 31, 15, 59, 0, 0, time.UTC), false},
		{"the last second of the due date in Beijing", p, time.Date(2022, 1, 31, 23, 59, 59, 0, beijing), false},
		{"00:00:30 Beijing next day is still Jan 31 in UTC", p, time.Date(2022, 1, 31, 16, 0, 30, 0, time.UTC), true},
		{"midnight Beijing exactly is late", p, time.Date(2022, 2, 1, 0, 0, 0, 0, beijing), true},
		{"morning of the due date in UTC", p, time.Date(2022, 1, 31, 1, 0, 0, 0, time.UTC), false},
		{"Feb 28 23:59 Beijing in 2022", feb, time.Date(2022, 2, 28, 23, 59, 0, 0, beijing), false},
		{"Mar 1 00:01 Beijing is late for February", feb, time.Date(2022, 2, 28, 16, 1, 0, 0, time.UTC), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Late(tc.p, tc.at); got != tc.late {
				t.Errorf("Late(due %s, %s) = %v, want %v", tc.p.Due, tc.at.In(beijing), got, tc.late)
			}
		})
	}
}

func TestPeriodsUntil(t *testing.T) {
	r := testRoster(t)
	m, _ := r.Campaign("zjdh-monthly")
	for _, tc := range []struct {
		name string
		at   time.Time
		want int
	}{
		{"before it opens", time.Date(2022, 1, 4, 23, 0, 0, 0, beijing), 0},
		{"the day it opens, Beijing midnight (Jan 4 16:00 UTC)", time.Date(2022, 1, 4, 16, 0, 0, 0, time.UTC), 1},
		{"Feb 1 Beijing opens the second period although it is Jan 31 in UTC", time.Date(2022, 1, 31, 16, 30, 0, 0, time.UTC), 2},
		{"long after until", time.Date(2023, 1, 1, 0, 0, 0, 0, beijing), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(r.PeriodsUntil(m, tc.at)); got != tc.want {
				t.Errorf("PeriodsUntil(%s) = %d periods, want %d", tc.at, got, tc.want)
			}
		})
	}
}

func TestPlace(t *testing.T) {
	r := testRoster(t)
	bj := func(y int, m time.Month, day, h, min int) time.Time {
		return time.Date(y, m, day, h, min, 0, 0, beijing)
	}
	tests := []struct {
		name    string
		unit    string
		at      time.Time
		subject string
		files   []string
		want    Placement
		ok      bool
	}{
		{"keywords pick the once campaign", "xinfu", bj(2022, 1, 20, 10, 0),
			"忻府区学习贯彻全省职教大会精神情况简报", nil, Placement{"zjdh-study", "2022-01", false}, true},
		{"keywords pick the monthly campaign", "xinfu", bj(2022, 1, 20, 10, 0),
			"忻府区职业教育大会筹备召开情况", nil, Placement{"zjdh-monthly", "2022-01", false}, true},
		{"keywords in the filename only", "xinfu", bj(2022, 1, 20, 10, 0),
			"简报", []string{"忻府区学习贯彻职教大会精神.pdf"}, Placement{"zjdh-study", "2022-01", false}, true},
		{"1月 in the subject, sent in February: January and late", "xinfu", bj(2022, 2, 3, 9, 0),
			"忻府区1月筹备召开情况月报", nil, Placement{"zjdh-monthly", "2022-01", true}, true},
		{"2022年2月 in the subject, sent in February", "yuanping", bj(2022, 2, 10, 9, 0),
			"原平市2022年2月职业教育大会筹备召开情况", nil, Placement{"zjdh-monthly", "2022-02", false}, true},
		{"2022年2月 in the subject, sent in January ahead of time", "yuanping", bj(2022, 1, 25, 9, 0),
			"原平市2022年2月筹备召开情况", nil, Placement{"zjdh-monthly", "2022-02", false}, true},
		{"full-width month ２月", "yuanping", bj(2022, 2, 10, 9, 0),
			"原平市２月筹备召开情况", nil, Placement{"zjdh-monthly", "2022-02", false}, true},
		{"no month named: the month of the mail", "xinfu", bj(2022, 3, 10, 9, 0),
			"筹备召开情况", nil, Placement{"zjdh-monthly", "2022-03", false}, true},
		{"no month named, mail on Mar 31 23:59 Beijing (15:59 UTC): March on time", "xinfu",
			time.Date(2022, 3, 31, 15, 59, 0, 0, time.UTC), "筹备召开情况", nil, Placement{"zjdh-monthly", "2022-03", false}, true},
		{"a unit that does not owe the monthly campaign", "dingxiang", bj(2022, 1, 20, 10, 0),
			"定襄县职业教育大会筹备召开情况", nil, Placement{"zjdh-study", "2022-01", false}, true},
		{"nothing said, both open: the one due soonest (a tie on Jan 31 keeps the first)", "xinfu", bj(2022, 1, 20, 10, 0),
			"材料", nil, Placement{"zjdh-study", "2022-01", false}, true},
		{"nothing said, once campaign past due: the open monthly period", "xinfu", bj(2022, 2, 10, 10, 0),
			"材料", nil, Placement{"zjdh-monthly", "2022-02", false}, true},
		{"only the once campaign, after its due date: late", "dingxiang", bj(2022, 2, 1, 0, 0),
			"定襄县学习贯彻简报", nil, Placement{"zjdh-study", "2022-01", true}, true},
		{"before any campaign opens", "xinfu", bj(2022, 1, 4, 23, 59), "学习贯彻", nil, Placement{}, false},
		{"unknown unit", "nosuch", bj(2022, 1, 20, 10, 0), "学习贯彻", nil, Placement{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := r.Place(tc.unit, tc.at, tc.subject, tc.files)
			if ok != tc.ok || got != tc.want {
				t.Errorf("Place(%s, %s, %q) = %+v %v, want %+v %v", tc.unit, tc.at.In(beijing), tc.subject, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	r := testRoster(t)
	bj := func(m time.Month, day, h, min, s int) time.Time {
		return time.Date(2022, m, day, h, min, s, 0, beijing)
	}
	sub := func(n, unit string, at time.Time, usable bool) Submission {
		return Submission{Receipt: n, Unit: unit, Campaign: "zjdh-study", Period: "2022-01", At: at, Usable: usable}
	}
	tests := []struct {
		name        string
		subs        []Submission
		unit        string
		wantState   string
		wantReceipt string
	}{
		{"nothing: missing", nil, "xinfu", StateMissing, ""},
		{"accepted before due: reported", []Submission{sub("JB2022-0001", "xinfu", bj(1, 10, 9, 0, 0), true)}, "xinfu", StateReported, "JB2022-0001"},
		{"accepted at 23:59:59 Beijing on the due date: reported",
			[]Submission{sub("JB2022-0001", "xinfu", bj(1, 31, 23, 59, 59), true)}, "xinfu", StateReported, "JB2022-0001"},
		{"accepted at 00:00:30 Beijing after the due date: late",
			[]Submission{sub("JB2022-0001", "xinfu", time.Date(2022, 1, 31, 16, 0, 30, 0, time.UTC), true)}, "xinfu", StateLate, "JB2022-0001"},
		{"only unusable mail: rejected", []Submission{sub("JB2022-0001", "xinfu", bj(1, 10, 9, 0, 0), false)}, "xinfu", StateRejected, "JB2022-0001"},
		{"rejected then accepted in time: reported by the accepted one", []Submission{
			sub("JB2022-0001", "xinfu", bj(1, 10, 9, 0, 0), false),
			sub("JB2022-0002", "xinfu", bj(1, 11, 9, 0, 0), true),
		}, "xinfu", StateReported, "JB2022-0002"},
		{"rejected in time, accepted late: late", []Submission{
			sub("JB2022-0001", "xinfu", bj(1, 30, 9, 0, 0), false),
			sub("JB2022-0002", "xinfu", bj(2, 2, 9, 0, 0), true),
		}, "xinfu", StateLate, "JB2022-0002"},
		{"accepted then rejected: the first usable one decides", []Submission{
			sub("JB2022-0001", "xinfu", bj(1, 10, 9, 0, 0), true),
			sub("JB2022-0002", "xinfu", bj(1, 11, 9, 0, 0), false),
		}, "xinfu", StateReported, "JB2022-0001"},
		{"accepted in time then again late: stays reported", []Submission{
			sub("JB2022-0002", "xinfu", bj(2, 3, 9, 0, 0), true), // given out of order
			sub("JB2022-0001", "xinfu", bj(1, 10, 9, 0, 0), true),
		}, "xinfu", StateReported, "JB2022-0001"},
		{"another unit's mail does not count", []Submission{sub("JB2022-0001", "yuanping", bj(1, 10, 9, 0, 0), true)}, "xinfu", StateMissing, ""},
	}
	now := time.Date(2022, 2, 15, 12, 0, 0, 0, beijing)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := r.Status(tc.subs, "zjdh-study", now)
			if len(st) != 1 {
				t.Fatalf("got %d period statuses, want 1", len(st))
			}
			ps := st[0]
			if ps.Due != "2022-01-31" || ps.Period != "2022-01" || len(ps.Units) != 5 {
				t.Fatalf("period %s due %s with %d units, want 2022-01 due 2022-01-31 with 5", ps.Period, ps.Due, len(ps.Units))
			}
			var found bool
			for _, u := range ps.Units {
				if u.Unit != tc.unit {
					continue
				}
				found = true
				if u.State != tc.wantState || u.Receipt != tc.wantReceipt {
					t.Errorf("%s: state %s receipt %q, want %s %q", u.Unit, u.State, u.Receipt, tc.wantState, tc.wantReceipt)
				}
				if u.Receipt != "" && u.At.Location() != beijing {
					t.Errorf("At is in %v, want the office time zone", u.At.Location())
				}
			}
			if !found {
				t.Fatalf("unit %s not in the status", tc.unit)
			}
			total := 0
			for _, n := range ps.Counts {
				total += n
			}
			if total != 5 {
				t.Errorf("counts add up to %d, want 5: %v", total, ps.Counts)
			}
		})
	}
}

func TestStatusPeriodsOpenedByNow(t *testing.T) {
	r := testRoster(t)
	// Feb 1 00:30 Beijing is still Jan 31 in UTC; the February period is open.
	now := time.Date(2022, 1, 31, 16, 30, 0, 0, time.UTC)
	st := r.Status(nil, "zjdh-monthly", now)
	var keys []string
	for _, ps := range st {
		keys = append(keys, ps.Period)
		if len(ps.Units) != 2 {
			t.Errorf("%s: %d units, want 2 (xinfu, yuanping)", ps.Period, len(ps.Units))
		}
	}
	if fmt.Sprint(keys) != "[2022-01 2022-02]" {
		t.Errorf("periods = %v, want [2022-01 2022-02]", keys)
	}
	if all := r.Status(nil, "", now); len(all) != 3 {
		t.Errorf("all campaigns: %d period statuses, want 3", len(all))
	}
}

func TestPeriodName(t *testing.T) {
	monthly := Campaign{ID: "m", Every: "month"}
	once := Campaign{ID: "o", Due: Date{2026, 12, 7}}
	for _, tc := range []struct {
		c    Campaign
		key  string
		want string
	}{
		{monthly, "2026-03", "2026年3月"},
		{monthly, "2026-11", "2026年11月"},
		{monthly, "2026-13", "2026-13"},
		{monthly, "odd", "odd"},
		{once, "2026-12", ""},
	} {
		if got := tc.c.PeriodName(tc.key); got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.c.ID, tc.key, got, tc.want)
		}
	}
	ros, err := New(nil, []Campaign{{ID: "m", Title: "月报", Opens: Date{2026, 1, 1}, Every: "month", Until: Date{2026, 12, 31}}}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := ros.PeriodName("m", "2026-02"); got != "2026年2月" {
		t.Errorf("roster: %q", got)
	}
	if got := ros.PeriodName("gone", "2026-02"); got != "2026-02" {
		t.Errorf("unknown campaign: %q", got)
	}
}
