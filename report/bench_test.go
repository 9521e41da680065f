package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"briefd/roster"
	"briefd/store"
)

// bigFixture is 200 units owing a monthly campaign of 12 periods (2026), and 20,000 receipts: on
// average eight per unit and period, one in five without a usable PDF, one in fifty unassigned.
func bigFixture(b *testing.B) (*store.Store, *roster.Roster) {
	b.Helper()
	var units []roster.Unit
	for i := range 200 {
		units = append(units, roster.Unit{ID: fmt.Sprintf("u%03d", i), Name: fmt.Sprintf("第%d中学", i),
			Emails: []string{fmt.Sprintf("u%03d@example.cn", i)}})
	}
	ros, err := roster.New(units, []roster.Campaign{{ID: "monthly", Title: "月报", Opens: roster.Date{Year: 2026, Month: 1, Day: 1},
		Every: "month", Until: roster.Date{Year: 2026, Month: 12, Day: 31}}}, cst)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() { // 20,000 fsyncs on a disk take minutes
		if d, err := os.MkdirTemp("/dev/shm", "briefd-bench-"); err == nil {
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	st, err := store.Open(filepath.Join(dir, "b.db"), store.Options{Location: cst})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ok := []store.Attachment{{Filename: "a.pdf", Verdict: "ok", Pages: 2}}
	for i := range 20000 {
		unit := fmt.Sprintf("u%03d", i%200)
		month := time.Month(i/200%12 + 1)
		r := &store.Receipt{Received: time.Date(2026, month, 1+i%28, 9, i%60, 0, 0, cst), MessageID: fmt.Sprintf("<%d@x>", i),
			From: unit + "@example.cn", Subject: "月报", Unit: unit, Match: "address", Campaign: "monthly",
			Period: fmt.Sprintf("2026-%02d", month), Verdict: store.VerdictAccepted, Attachments: ok}
		if i%5 == 0 {
			r.Verdict, r.Attachments = store.VerdictRejected, []store.Attachment{{Filename: "a.doc", Verdict: "reject"}}
		}
		if i%50 == 0 {
			r.Unit, r.Match, r.Campaign, r.Period = "", "none", "", ""
		}
		if _, _, err := st.Record(r, nil, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	return st, ros
}

// BenchmarkStatus is the status of 200 units × 12 monthly periods from 20,000 receipts, as `briefd
// status`, the summary and the export compute it: the receipt index, then roster.Status. Target: under
// 200 ms.
func BenchmarkStatus(b *testing.B) {
	st, ros := bigFixture(b)
	now := time.Date(2027, 1, 15, 0, 0, 0, 0, cst)
	if _, err := st.Entries(nil); err != nil { // the index is loaded once per process
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		es, err := st.Entries(nil)
		if err != nil {
			b.Fatal(err)
		}
		ps := Status(es, ros, "", now)
		if len(ps) != 12 || len(ps[0].Units) != 200 {
			b.Fatalf("%d periods", len(ps))
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkExportXLSX is the full workbook of the same data: 14 sheets, 20,000 receipt rows.
func BenchmarkExportXLSX(b *testing.B) {
	st, ros := bigFixture(b)
	now := time.Date(2027, 1, 15, 0, 0, 0, 0, cst)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := Export(io.Discard, st, ros, now, "xlsx", "", ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkText is the table `briefd status` prints over the bench's scale store: 223 campaign periods of
// 60 units, each a Chinese name, a state, a receipt number and a time.
func BenchmarkText(b *testing.B) {
	names, numbers := make([]string, 60), make([]string, 223*60)
	for u := range names {
		names[u] = fmt.Sprintf("忻州市第%d职业中学", u)
	}
	for i := range numbers {
		numbers[i] = fmt.Sprintf("JB2026-%d", i)
	}
	for b.Loop() {
		for p := range 223 {
			t := &Text{Header: []string{"单位", "状态", "回执编号", "时间"}, Indent: "  "}
			for u, name := range names {
				t.Add(name, StateZH(roster.StateReported), numbers[p*60+u], "2026-03-04 09:30")
			}
			t.Write(io.Discard)
		}
	}
}
