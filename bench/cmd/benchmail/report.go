package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// report formats the results as a Markdown section (what README's Performance section holds).
func (b *bench) report() string {
	r := b.res
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("Measured %s on %s (%d cores), Linux, %s; median of %d runs, each on a fresh state.\n\n",
		time.Now().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.Version(), b.c.runs)
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	ratio := func(a, c time.Duration) float64 {
		if c == 0 {
			return 0
		}
		return float64(a) / float64(c)
	}
	if r.briefd.Wall > 0 {
		kinds := map[string]int{}
		for _, m := range b.mails {
			kinds[m.Kind]++
		}
		p("Backlog: %d mails, %.0f MB as stored (%.0f MB of attachments, 0.1–3 MB each): %d with one PDF, %d with two, "+
			"%d Word files, %d broken PDFs; Dovecot %s on loopback, replies to an SMTP sink on loopback.\n\n",
			len(b.mails), float64(b.bytes)/1e6, float64(b.pdfs)/1e6, kinds["pdf"], kinds["pdf2"], kinds["word"], kinds["broken"], dovecotVersion())
		p("| %d mails | wall | CPU (user+sys) | peak RSS |\n|---|---|---|---|\n", len(b.mails))
		p("| `briefd poll` (fresh store, replies sent) | %s | %s | %s (main %s, pdfcheck worker %s) |\n",
			secs(r.briefd.Wall), secs(r.briefd.CPU), mb(r.briefd.MaxRSS), mb(r.briefd.MainHWM), mb(r.briefd.ChildHWM))
		p("| plain go-imap fetch to io.Discard | %s | %s | %s |\n", secs(r.plain.Wall), secs(r.plain.CPU), mb(r.plain.MaxRSS))
		p("| `mbsync` into a Maildir | %s | %s | %s |\n", secs(r.mbsync.Wall), secs(r.mbsync.CPU), mb(r.mbsync.MaxRSS))
		if r.pipeline.Wall > 0 {
			p("| admin pipeline: mbsync, munpack, qpdf --check | %s | %s | %s |\n", secs(r.pipeline.Wall), secs(r.pipeline.CPU), mb(r.pipeline.MaxRSS))
		}
		p("| `briefd poll`, first %d mails only | %s | %s | %s (main %s, worker %s) |\n\n", b.c.small,
			secs(r.briefdSmall.Wall), secs(r.briefdSmall.CPU), mb(r.briefdSmall.MaxRSS), mb(r.briefdSmall.MainHWM), mb(r.briefdSmall.ChildHWM))
		p("briefd's verdicts: %s. The pipeline's: %s.\n\n", r.briefdNote, r.pipelineNote)
		p("| target | measured | |\n|---|---|---|\n")
		bm := ratio(r.briefd.Wall, r.mbsync.Wall)
		p("| briefd ≤ 2× mbsync | %.2f× | %s |\n", bm, mark(bm <= 2))
		bp := ratio(r.briefd.Wall, r.plain.Wall)
		p("| briefd ≤ 2× plain fetch | %.2f× | %s |\n", bp, mark(bp <= 2))
		if r.pipeline.Wall > 0 {
			pb := ratio(r.pipeline.Wall, r.briefd.Wall)
			p("| admin pipeline ≥ 10× briefd | %.2f× | %s |\n", pb, mark(pb >= 10))
		}
		p("| peak RSS ≤ 150 MB | %s | %s |\n", mb(r.briefd.MaxRSS), mark(r.briefd.MaxRSS <= 150<<20))
		flat := float64(r.briefd.MaxRSS) / float64(max(r.briefdSmall.MaxRSS, 1))
		p("| RSS flat: %d vs %d mails | %s vs %s (%.2f×) | %s |\n", b.c.n, b.c.small, mb(r.briefd.MaxRSS), mb(r.briefdSmall.MaxRSS), flat, mark(flat <= 1.25))
	}
	if r.latGot > 0 {
		p("| IDLE latency p50 ≤ 1 s | %s | %s |\n", secs(r.lat50), mark(r.lat50 <= time.Second))
		p("| IDLE latency p99 ≤ 3 s | %s (max %s; %d of %d replies) | %s |\n", secs(r.lat99), secs(r.latMax), r.latGot, r.latN, mark(r.lat99 <= 3*time.Second && r.latGot == r.latN))
	}
	sr := r.scale
	if sr.receipts > 0 {
		p("| `briefd status`, %d receipts ≤ 300 ms | %s | %s |\n", sr.receipts, secs(sr.status.Wall), mark(sr.status.Wall <= 300*time.Millisecond))
		p("\nScale: %d receipts (%d units, %d campaigns, %d campaign periods), written with store.Record in %s; database %s.\n\n",
			sr.receipts, sr.units, sr.campaigns, sr.period, secs(sr.genTime), mb(sr.dbSize))
		p("| over %d receipts | time | peak RSS |\n|---|---|---|\n", sr.receipts)
		p("| `briefd status` | %s | %s |\n", secs(sr.status.Wall), mb(sr.status.MaxRSS))
		p("| `briefd status -json` | %s | %s |\n", secs(sr.statusJSON.Wall), mb(sr.statusJSON.MaxRSS))
		if sr.summaryNote == "" {
			p("| `briefd summary` | %s | %s |\n", secs(sr.summary.Wall), mb(sr.summary.MaxRSS))
		} else {
			p("| `briefd summary` | %s | |\n", sr.summaryNote)
		}
		if sr.webNote == "" || sr.webCold > 0 {
			p("| dashboard overview `/`, first request after opening the store | %s | |\n", secs(sr.webCold))
			p("| dashboard overview `/`, later requests | %s | |\n", secs(sr.webWarm))
		}
		if sr.webNote != "" {
			p("\nDashboard: %s\n", sr.webNote)
		}
	}
	for _, n := range r.notes {
		p("\n%s\n", n)
	}
	p("\nWhole bench run: %s.\n", time.Since(b.started).Round(time.Second))
	return w.String()
}

func dovecotVersion() string {
	out, err := exec.Command("dovecot", "--version").Output()
	if err != nil {
		return ""
	}
	return strings.Fields(string(out) + " ")[0]
}
