package roster

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestStatusTies: at equal times the lower receipt number is the first, compared as numbers, whatever
// the order the submissions are given in.
func TestStatusTies(t *testing.T) {
	r := testRoster(t)
	now := time.Date(2022, 3, 1, 12, 0, 0, 0, beijing)
	at := time.Date(2022, 1, 10, 9, 0, 0, 0, beijing)
	for _, tc := range []struct {
		name string
		subs []Submission
		want string
	}{
		{"at the same moment, the one numbered first (given first)", []Submission{
			{Receipt: "JB2022-9999", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at, Usable: true},
			{Receipt: "JB2022-10000", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at, Usable: true},
		}, "JB2022-9999"},
		{"earlier time wins over lower number", []Submission{
			{Receipt: "JB2022-0001", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at.Add(time.Second), Usable: true},
			{Receipt: "JB2022-0002", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at, Usable: true},
		}, "JB2022-0002"},
		{"usable wins over earlier unusable", []Submission{
			{Receipt: "JB2022-0001", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at},
			{Receipt: "JB2022-0003", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at.Add(2 * time.Hour), Usable: true},
			{Receipt: "JB2022-0002", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at.Add(time.Hour), Usable: true},
		}, "JB2022-0002"},
		{"none usable: the earliest", []Submission{
			{Receipt: "JB2022-9998", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at},
			{Receipt: "JB2022-10001", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at},
		}, "JB2022-9998"},
		{"none usable: the earliest time, given later", []Submission{
			{Receipt: "JB2022-0001", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at.Add(time.Hour)},
			{Receipt: "JB2022-0002", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at},
		}, "JB2022-0002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := r.Status(tc.subs, "zjdh-study", now)
			if len(st) != 1 {
				t.Fatalf("%d periods", len(st))
			}
			for _, u := range st[0].Units {
				if u.Unit != "xinfu" {
					continue
				}
				if u.Receipt != tc.want || u.Tries != len(tc.subs) {
					t.Errorf("receipt %s tries %d, want %s tries %d", u.Receipt, u.Tries, tc.want, len(tc.subs))
				}
			}
		})
	}
}

// TestTallyAddedTo: a tally added to in steps gives, after each step, the status of all the submissions
// given at once.
func TestTallyAddedTo(t *testing.T) {
	r := testRoster(t)
	now := time.Date(2022, 3, 1, 12, 0, 0, 0, beijing)
	rng := rand.New(rand.NewPCG(3, 4))
	units := []string{"xinfu", "yuanping", "nobody"}
	var subs []Submission
	var tally Tally
	for i := range 200 {
		s := Submission{Receipt: fmt.Sprintf("JB2022-%04d", i+1), Unit: units[rng.IntN(len(units))], Campaign: "zjdh-study",
			Period: "2022-01", At: time.Date(2022, 1, 5+rng.IntN(40), 9, 0, 0, 0, beijing), Usable: rng.IntN(2) == 0}
		subs = append(subs, s)
		tally.Add(s)
		if got, want := r.StatusOf(&tally, "", now), r.Status(subs, "", now); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %d submissions:\n%v\nwant\n%v", i+1, got, want)
		}
	}
	if tally.Len() != len(subs) {
		t.Errorf("Len %d, want %d", tally.Len(), len(subs))
	}
}

// TestUpdateStatus: the periods touched are worked out again and equal StatusOf, the others are shared
// with prev; a prev the roster did not make is refused.
func TestUpdateStatus(t *testing.T) {
	r := testRoster(t)
	now := time.Date(2022, 3, 1, 12, 0, 0, 0, beijing)
	var tally Tally
	tally.Add(Submission{Receipt: "JB2022-0001", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01",
		At: time.Date(2022, 1, 10, 9, 0, 0, 0, beijing), Usable: true})
	prev := r.StatusOf(&tally, "", now)
	if len(prev) < 2 {
		t.Fatalf("%d periods: the test needs two", len(prev))
	}
	tally.Add(Submission{Receipt: "JB2022-0002", Unit: "xinfu", Campaign: prev[1].Campaign, Period: prev[1].Period,
		At: time.Date(2022, 2, 10, 9, 0, 0, 0, beijing), Usable: true})
	got, ok := r.UpdateStatus(&tally, prev, func(c, p string) bool { return c == prev[1].Campaign && p == prev[1].Period })
	if want := r.StatusOf(&tally, "", now); !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("UpdateStatus %v:\n%v\nwant\n%v", ok, got, want)
	}
	if &got[0].Units[0] != &prev[0].Units[0] || &got[1].Units[0] == &prev[1].Units[0] {
		t.Error("the period not touched was worked out again, or the touched one was not")
	}
	foreign := slices.Clone(prev)
	foreign[1].Campaign = "nope"
	if _, ok := r.UpdateStatus(&tally, foreign, func(c, p string) bool { return true }); ok {
		t.Error("a status of a campaign the roster does not have was updated")
	}
}

// BenchmarkStatus100k: 100,000 submissions spread over 60 units and every period of a monthly campaign.
func BenchmarkStatus100k(b *testing.B) {
	var us []Unit
	for i := range 60 {
		us = append(us, Unit{ID: fmt.Sprintf("u%02d", i), Name: fmt.Sprintf("单位%02d", i), Kind: "school"})
	}
	cs := []Campaign{{ID: "monthly", Title: "月报", Opens: d("2020-01-01"), Every: "month", Until: d("2026-12-31")}}
	r, err := New(us, cs, beijing)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, beijing)
	periods := r.PeriodsUntil(r.Campaigns()[0], now)
	rng := rand.New(rand.NewPCG(1, 2))
	subs := make([]Submission, 100_000)
	for i := range subs {
		p := periods[rng.IntN(len(periods))]
		subs[i] = Submission{Receipt: fmt.Sprintf("JB%d-%04d", 2020+i/20000, i%20000+1), Unit: us[rng.IntN(len(us))].ID,
			Campaign: "monthly", Period: p.Key, At: p.Opens.Start(beijing).Add(time.Duration(rng.IntN(40*24)) * time.Hour),
			Usable: rng.IntN(10) != 0}
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Status(subs, "", now)
	}
}

// TestStatusLatest: a unit that sends a corrected version after an accepted one is reported by its first
// usable receipt (lateness follows it) and has the correction as Latest (以最后一次报送为准).
func TestStatusLatest(t *testing.T) {
	r := testRoster(t)
	at := time.Date(2022, 1, 10, 9, 0, 0, 0, beijing)
	subs := []Submission{
		{Receipt: "JB2022-0001", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at, Usable: true},
		{Receipt: "JB2022-0002", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at.Add(time.Hour)},
		{Receipt: "JB2022-0003", Unit: "xinfu", Campaign: "zjdh-study", Period: "2022-01", At: at.AddDate(0, 0, 30), Usable: true},
	}
	for _, u := range r.Status(subs, "zjdh-study", at.AddDate(0, 1, 0))[0].Units {
		if u.Unit != "xinfu" {
			continue
		}
		if u.State != StateReported || u.Receipt != "JB2022-0001" || u.Latest != "JB2022-0003" || !u.LatestAt.Equal(subs[2].At) || u.Tries != 3 {
			t.Errorf("%+v", u)
		}
	}
}
