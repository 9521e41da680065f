package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

// TestStatusTextKept: the daemon prints `briefd status` as it would print it afresh, before and after a
// new receipt and another roster; after a new receipt it prints again only the period the receipt is
// in, and reuses the text of the others.
func TestStatusTextKept(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	var units []roster.Unit
	for i := range 5 {
		units = append(units, roster.Unit{ID: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("第%d中学", i)})
	}
	camps := []roster.Campaign{{ID: "monthly", Title: "月报", Opens: roster.Date{Year: 2026, Month: 1, Day: 1}, Every: "month",
		Until: roster.Date{Year: 2026, Month: 12, Day: 31}}}
	ros, err := roster.New(units, camps, loc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "b.db"), store.Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	record := func(unit, period string, at time.Time) {
		t.Helper()
		if _, _, err := st.Record(&store.Receipt{Received: at, MessageID: fmt.Sprintf("<%s.%s.%d@x>", unit, period, at.Unix()),
			From: unit + "@example.cn", Unit: unit, Match: "address", Campaign: "monthly", Period: period, Verdict: store.VerdictAccepted,
			Attachments: []store.Attachment{{Filename: "a.pdf", Verdict: "ok", Pages: 1}}}, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	record("u1", "2026-01", time.Date(2026, 1, 20, 9, 30, 0, 0, loc))
	record("u2", "2026-02", time.Date(2026, 3, 2, 9, 30, 0, 0, loc))
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, loc)

	var cache report.StatusCache
	var text statusText
	print := func(what string, ros *roster.Roster) map[string][]byte {
		t.Helper()
		status, _, err := cache.Status(st, ros, "", now)
		if err != nil {
			t.Fatal(err)
		}
		var got, want bytes.Buffer
		text.write(&got, status, ros)
		for i := range status {
			want.Write(periodText(&status[i], ros.PeriodName(status[i].Campaign, status[i].Period)))
		}
		if got.String() != want.String() {
			t.Fatalf("%s: printed\n%s\nwant\n%s", what, got.String(), want.String())
		}
		if !bytes.Contains(got.Bytes(), []byte("monthly  月报  2026年3月  截止 ")) {
			t.Fatalf("%s: not the status:\n%s", what, got.String())
		}
		byPeriod := map[string][]byte{}
		for k, b := range text.text {
			byPeriod[k.period] = b
		}
		if len(byPeriod) != len(status) {
			t.Errorf("%s: %d periods kept for %d printed", what, len(byPeriod), len(status))
		}
		return byPeriod
	}
	kept := func(before, after map[string][]byte) (same []string) {
		for p, b := range after {
			if &before[p][0] == &b[0] {
				same = append(same, p)
			}
		}
		return same
	}
	first := print("first", ros)
	again := print("again", ros)
	if n := len(kept(first, again)); n != len(first) {
		t.Errorf("the same status: %d of %d periods kept", n, len(first))
	}
	record("u3", "2026-03", time.Date(2026, 3, 5, 8, 0, 0, 0, loc))
	after := print("a new receipt", ros)
	if same := kept(again, after); len(same) != len(again)-1 || bytes.Equal(again["2026-03"], after["2026-03"]) {
		t.Errorf("after a receipt for 2026-03, kept %v", same)
	}
	ros2, err := roster.New(append(units, roster.Unit{ID: "u9", Name: "新学校"}), camps, loc)
	if err != nil {
		t.Fatal(err)
	}
	if same := kept(after, print("another roster", ros2)); len(same) != 0 {
		t.Errorf("another roster: kept %v", same)
	}
}
