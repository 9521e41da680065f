package roster

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// beijing is the office time zone of every test.
var beijing = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func d(s string) Date {
	v, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// testUnits is a small version of 忻州's list, with a school whose name contains a county's short form.
func testUnits() []Unit {
	return []Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Aliases: []string{"忻府区", "忻府"}, Emails: []string{"xinfu-jky@example.cn"}, Kind: "county"},
		{ID: "yuanping", Name: "原平市教育科技局", Aliases: []string{"原平"}, Emails: []string{"YuanPing-JKY@Example.cn "}, Kind: "county"},
		{ID: "dingxiang", Name: "定襄县教育科技局", Aliases: []string{"定襄"}, Emails: []string{"dingxiang-jky@example.cn"}, Kind: "county"},
		{ID: "ypzx", Name: "原平市职业技术学校", Emails: []string{"ypzx@example.cn"}, Kind: "school"},
		{ID: "abc", Name: "ABC职业学校", Kind: "school"}, // no email: matched by name only
	}
}

func testCampaigns() []Campaign {
	return []Campaign{
		{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Opens: d("2022-01-05"), Due: d("2022-01-31"),
			Keywords: []string{"学习贯彻", "职教大会精神"}},
		{ID: "zjdh-monthly", Title: "职业教育大会筹备召开情况", Units: []string{"xinfu", "yuanping"}, Opens: d("2022-01-05"),
			Every: "month", Until: d("2022-04-30"), Keywords: []string{"筹备", "召开情况", "月报"}},
	}
}

func testRoster(t *testing.T) *Roster {
	t.Helper()
	r, err := New(testUnits(), testCampaigns(), beijing)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestNewValid(t *testing.T) {
	r := testRoster(t)
	if got := len(r.Units()); got != 5 {
		t.Errorf("units = %d, want 5", got)
	}
	if u, ok := r.UnitByAddress("yuanping-jky@example.cn"); !ok || u != "yuanping" {
		t.Errorf("registered address with capitals and a trailing space: got %q %v, want yuanping", u, ok)
	}
	c, _ := r.Campaign("zjdh-study")
	if got := len(r.UnitsOf(c)); got != 5 {
		t.Errorf("a campaign without units is owed by all 5 units, got %d", got)
	}
	c, _ = r.Campaign("zjdh-monthly")
	if r.Owes("dingxiang", c) || !r.Owes("xinfu", c) {
		t.Errorf("zjdh-monthly is owed by xinfu and yuanping only")
	}
}

func TestNewProblems(t *testing.T) {
	tests := []struct {
		name      string
		units     func([]Unit) []Unit
		campaigns func([]Campaign) []Campaign
		want      []string // each must appear in one problem line
	}{
		{
			name:  "duplicate unit id",
			units: func(u []Unit) []Unit { return append(u, Unit{ID: "xinfu", Name: "另一个忻府"}) },
			want:  []string{`units[5]: id "xinfu" is used by two units`},
		},
		{
			name: "email registered to two units",
			units: func(u []Unit) []Unit {
				return append(u, Unit{ID: "other", Name: "其他单位", Emails: []string{"XINFU-jky@example.cn"}})
			},
			want: []string{"units[5] (other).emails: xinfu-jky@example.cn is already registered to unit xinfu"},
		},
		{
			name:  "unit without id",
			units: func(u []Unit) []Unit { return append(u, Unit{Name: "无编号单位"}) },
			want:  []string{"units[5]: id is empty"},
		},
		{
			name: "email that is not an address",
			units: func(u []Unit) []Unit {
				return append(u, Unit{ID: "bad", Name: "坏邮箱", Emails: []string{"bad.example.cn"}})
			},
			want: []string{`units[5] (bad).emails: "bad.example.cn" is not an email address`},
		},
		{
			name: "campaign naming an unknown unit",
			campaigns: func(c []Campaign) []Campaign {
				c[1].Units = []string{"xinfu", "nosuch"}
				return c
			},
			want: []string{`campaigns[1] (zjdh-monthly).units: no unit has the id "nosuch"`},
		},
		{
			name: "due before opens",
			campaigns: func(c []Campaign) []Campaign {
				c[0].Due = d("2022-01-01")
				return c
			},
			want: []string{"campaigns[0] (zjdh-study).due: 2022-01-01 is before opens 2022-01-05"},
		},
		{
			name: "until before opens",
			campaigns: func(c []Campaign) []Campaign {
				c[1].Until = d("2021-12-31")
				return c
			},
			want: []string{"campaigns[1] (zjdh-monthly).until: 2021-12-31 is before opens 2022-01-05"},
		},
		{
			name: "bad every",
			campaigns: func(c []Campaign) []Campaign {
				c[1].Every = "week"
				return c
			},
			want: []string{`campaigns[1] (zjdh-monthly).every: "week" is not supported`},
		},
		{
			name: "once campaign without due",
			campaigns: func(c []Campaign) []Campaign {
				c[0].Due = Date{}
				return c
			},
			want: []string{"campaigns[0] (zjdh-study).due: missing"},
		},
		{
			name: "duplicate campaign id",
			campaigns: func(c []Campaign) []Campaign {
				c[1].ID = c[0].ID
				return c
			},
			want: []string{"campaigns[1] (zjdh-study): id is used by two campaigns"},
		},
		{
			name:  "every problem is listed at once",
			units: func(u []Unit) []Unit { return append(u, Unit{ID: "xinfu", Name: "重复"}) },
			campaigns: func(c []Campaign) []Campaign {
				c[0].Due = d("2022-01-01")
				c[1].Every = "week"
				return c
			},
			want: []string{`id "xinfu" is used by two units`, ".due: 2022-01-01 is before opens", `.every: "week"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			units, camps := testUnits(), testCampaigns()
			if tc.units != nil {
				units = tc.units(units)
			}
			if tc.campaigns != nil {
				camps = tc.campaigns(camps)
			}
			r, err := New(units, camps, beijing)
			if err == nil {
				t.Fatalf("New accepted it (roster with %d units)", len(r.Units()))
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *roster.Error: %v", err, err)
			}
			if len(re.Problems) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(re.Problems), len(tc.want), err)
			}
			if len(re.Details) != len(re.Problems) {
				t.Errorf("%d details for %d problems", len(re.Details), len(re.Problems))
			}
			for i, p := range re.Details {
				if p.ZH == "" || !hasHan(p.ZH) {
					t.Errorf("problem %q has no Chinese sentence: %q", re.Problems[i], p.ZH)
				}
				if p.Key+": "+p.EN != re.Problems[i] {
					t.Errorf("detail %+v does not make the line %q", p, re.Problems[i])
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no problem says %q; got:\n%s", w, err)
				}
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"2022-01-31", "2022-01-31", true},
		{" 2024-02-29 ", "2024-02-29", true},
		{"2023-02-29", "", false},
		{"2022/01/31", "", false},
		{"", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDate(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseDate(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if got.String() != tc.want {
				t.Errorf("ParseDate(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestRosterOwnsItsSlices(t *testing.T) {
	units := testUnits()
	units[1].Emails = make([]string, 1, 4) // spare capacity, as YAML decoding leaves it
	units[1].Emails[0] = "YuanPing@Example.cn"
	r, err := New(units, nil, beijing)
	if err != nil {
		t.Fatal(err)
	}
	if units[1].Emails[0] != "YuanPing@Example.cn" {
		t.Errorf("New changed the caller's slice: %q", units[1].Emails[0])
	}
	// What `assign -learn` does: take the units, add an address, build a new roster; twice.
	a := r.Units()
	a[1].Emails = append(a[1].Emails, "first@qq.com")
	ra, err := New(a, nil, beijing)
	if err != nil {
		t.Fatal(err)
	}
	b := r.Units()
	b[1].Emails = append(b[1].Emails, "second@qq.com")
	b[0].Aliases[0] = "changed"
	if _, err := New(b, nil, beijing); err != nil {
		t.Fatal(err)
	}
	if u, _ := ra.Unit("yuanping"); len(u.Emails) != 2 || u.Emails[1] != "first@qq.com" {
		t.Errorf("building a second roster changed the first one's unit: %v", u.Emails)
	}
	if u, _ := r.Unit("xinfu"); u.Aliases[0] != "忻府区" {
		t.Errorf("changing Units() changed the roster: %v", u.Aliases)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestNewProblemsInChinese: what the office reads for the mistakes it can make in the dashboard.
func TestNewProblemsInChinese(t *testing.T) {
	camps := testCampaigns()
	camps[0].Due = d("2022-01-01")
	camps[1].Units = []string{"xinfu", "nosuch", "kind:village"}
	camps = append(camps, Campaign{ID: "zjdh-study", Title: "", Opens: d("2022-01-05"), Due: d("2022-02-01")})
	units := append(testUnits(), Unit{ID: "twin", Name: "双胞胎", Emails: []string{"xinfu-jky@example.cn"}})
	_, err := New(units, camps, beijing)
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("New: %v", err)
	}
	var zh []string
	for _, p := range re.Details {
		zh = append(zh, p.ZH)
	}
	for _, want := range []string{"截止日期 2022-01-01 早于开始日期 2022-01-05", "没有编号为“nosuch”的单位",
		"“kind:village”不是单位类型", "任务编号 zjdh-study 已被另一个报送任务使用", "任务名称不能为空",
		"邮箱 xinfu-jky@example.cn 已登记给单位 忻府区教育科技局（xinfu）"} {
		if !slices.ContainsFunc(zh, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no problem says %q:\n%s", want, strings.Join(zh, "\n"))
		}
	}
}

// TestOwesByKind: "kind:county" is every county, also one added later; a unit without a kind is other.
func TestOwesByKind(t *testing.T) {
	camps := []Campaign{{ID: "county", Title: "县区简报", Units: []string{"kind:county"}, Opens: d("2022-01-05"), Due: d("2022-01-31")},
		{ID: "mixed", Title: "学校和其他", Units: []string{"kind:school", "kind:other", "xinfu"}, Opens: d("2022-01-05"), Due: d("2022-01-31")}}
	units := append(testUnits(), Unit{ID: "new", Name: "新县教育科技局", Kind: "county"}, Unit{ID: "nokind", Name: "无类型单位"})
	r, err := New(units, camps, beijing)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(c string) []string {
		camp, _ := r.Campaign(c)
		var out []string
		for _, u := range r.UnitsOf(camp) {
			out = append(out, u.ID)
		}
		return out
	}
	if got := ids("county"); !slices.Equal(got, []string{"xinfu", "yuanping", "dingxiang", "new"}) {
		t.Errorf("kind:county owed by %v", got)
	}
	if got := ids("mixed"); !slices.Equal(got, []string{"xinfu", "ypzx", "abc", "nokind"}) {
		t.Errorf("kind:school, kind:other and xinfu owed by %v", got)
	}
}

// TestClosedCampaign: a closed campaign keeps the periods opened before it was closed, no later ones.
func TestClosedCampaign(t *testing.T) {
	c := testCampaigns()[1] // monthly, 2022-01-05 … 2022-04-30
	c.Closed = d("2022-02-10")
	var keys []string
	for _, p := range c.Periods() {
		keys = append(keys, p.Key)
	}
	if !slices.Equal(keys, []string{"2022-01", "2022-02"}) {
		t.Errorf("periods of a campaign closed on 2022-02-10: %v", keys)
	}
	c.Closed = d("2022-01-01") // closed before it opened
	if ps := c.Periods(); len(ps) != 0 {
		t.Errorf("a campaign closed before it opened has periods %v", ps)
	}
	r, err := New(testUnits(), []Campaign{c}, beijing)
	if err != nil {
		t.Fatal(err)
	}
	if pl, ok := r.Place("xinfu", time.Date(2022, 3, 1, 9, 0, 0, 0, beijing), "筹备召开情况", nil); ok {
		t.Errorf("mail placed in a campaign without periods: %+v", pl)
	}
	if _, ok := r.PeriodAt(c, time.Date(2022, 3, 1, 9, 0, 0, 0, beijing)); ok {
		t.Error("PeriodAt found a period of a campaign without periods")
	}
	once := testCampaigns()[0]
	once.Closed = d("2022-01-20")
	if ps := once.Periods(); len(ps) != 1 {
		t.Errorf("a once campaign closed after it opened keeps its period: %v", ps)
	}
}
