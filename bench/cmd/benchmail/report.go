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
	var targets []string
	t := func(format string, a ...any) { targets = append(targets, fmt.Sprintf(format, a...)) }
	for _, set := range b.sets {
		if set.briefd.Wall == 0 {
			continue
		}
		kinds := set.kinds()
		p("**%s backlog**: %d mails, %.0f MB as stored (%.0f MB of attachments): %d with one PDF, %d with two, "+
			"%d Word files, %d broken PDFs", set.name, len(set.mails), float64(set.bytes)/1e6, float64(set.pdfs)/1e6,
			kinds["pdf"], kinds["pdf2"], kinds["word"], kinds["broken"])
		if set.pool != nil {
			p("; %d of the PDFs are real-world files (%d files of `%s` that poppler opens, ≥ %d KB), the rest generated", set.realFiles,
				len(set.pool.files), set.pool.dir, b.c.realMin>>10)
		} else {
			p("; generated PDFs of 0.1–3 MB")
		}
		p(". Dovecot %s on loopback, replies to an SMTP sink on loopback.\n\n", dovecotVersion())
		p("| %s, %d mails | wall | CPU (user+sys) | written to disk | peak RSS |\n|---|---|---|---|---|\n", set.name, len(set.mails))
		p("| `briefd poll` (fresh store, replies sent) | %s | %s | %s | %s (main %s, pdfcheck worker %s) |\n",
			secs(set.briefd.Wall), secs(set.briefd.CPU), mb(set.briefd.Written), mb(set.briefd.MaxRSS), mb(set.briefd.MainHWM), mb(set.briefd.ChildHWM))
		p("| plain go-imap fetch to io.Discard | %s | %s | %s | %s |\n", secs(set.plain.Wall), secs(set.plain.CPU), mb(set.plain.Written), mb(set.plain.MaxRSS))
		p("| `mbsync` into a Maildir | %s | %s | %s | %s |\n", secs(set.mbsync.Wall), secs(set.mbsync.CPU), mb(set.mbsync.Written), mb(set.mbsync.MaxRSS))
		if set.pipeline.Wall > 0 {
			p("| admin pipeline: mbsync, munpack, qpdf --check | %s | %s | %s | %s |\n", secs(set.pipeline.Wall), secs(set.pipeline.CPU),
				mb(set.pipeline.Written), mb(set.pipeline.MaxRSS))
			p("| mbsync + munpack: the mail and its files on disk, nothing checked | %s | %s | %s | %s |\n", secs(set.unpack.Wall), secs(set.unpack.CPU),
				mb(set.unpack.Written), mb(set.unpack.MaxRSS))
		}
		if set.pool == nil && r.briefdSmall.Wall > 0 {
			p("| `briefd poll`, first %d mails only | %s | %s | %s | %s (main %s, worker %s) |\n", b.c.small,
				secs(r.briefdSmall.Wall), secs(r.briefdSmall.CPU), mb(r.briefdSmall.Written), mb(r.briefdSmall.MaxRSS), mb(r.briefdSmall.MainHWM), mb(r.briefdSmall.ChildHWM))
		}
		p("\nbriefd's verdicts: %s. The pipeline's: %s.\n\n", set.briefdNote, set.pipelineNote)
		bm := ratio(set.briefd.Wall, set.mbsync.Wall)
		limit := 1.3
		if set.pool != nil {
			limit = 1.5
		}
		t("| briefd poll ≤ %.1f× mbsync, %s | %.2f× | %s |", limit, set.name, bm, mark(bm <= limit))
		if set.unpack.Wall > 0 {
			t("| (for comparison) briefd poll / (mbsync + munpack), %s; mbsync + munpack / mbsync | %.2f×; %.2f× | |", set.name,
				ratio(set.briefd.Wall, set.unpack.Wall), ratio(set.unpack.Wall, set.mbsync.Wall))
		}
		if set.pool != nil && set.pipeline.Wall > 0 {
			pb := ratio(set.pipeline.Wall, set.briefd.Wall)
			t("| admin pipeline ≥ 12× briefd poll, %s | %.2f× | %s |", set.name, pb, mark(pb >= 12))
		}
		t("| peak RSS ≤ 150 MB, %s | %s | %s |", set.name, mb(set.briefd.MaxRSS), mark(set.briefd.MaxRSS <= 150<<20))
		if set.pool == nil && r.briefdSmall.Wall > 0 {
			flat := float64(set.briefd.MaxRSS) / float64(max(r.briefdSmall.MaxRSS, 1))
			t("| RSS flat: %d vs %d mails | %s vs %s (%.2f×) | %s |", b.c.n, b.c.small, mb(set.briefd.MaxRSS), mb(r.briefdSmall.MaxRSS), flat, mark(flat <= 1.25))
		}
	}
	p("| target | measured | |\n|---|---|---|\n")
	for _, l := range targets {
		p("%s\n", l)
	}
	if r.latGot > 0 {
		p("| IDLE latency p50 ≤ 1 s | %s | %s |\n", secs(r.lat50), mark(r.lat50 <= time.Second))
		p("| IDLE latency p99 ≤ 2 s | %s (max %s; %d of %d replies) | %s |\n", secs(r.lat99), secs(r.latMax), r.latGot, r.latN, mark(r.lat99 <= 2*time.Second && r.latGot == r.latN))
	}
	sr := r.scale
	if sr.receipts > 0 {
		p("| `briefd status`, %d receipts ≤ 300 ms | %s | %s |\n", sr.receipts, secs(sr.status.Wall), mark(sr.status.Wall <= 300*time.Millisecond))
		if sr.forwarded.Wall > 0 {
			p("| `briefd status` forwarded to a running daemon, %d receipts ≤ 30 ms | %s | %s |\n", sr.receipts, secs(sr.forwarded.Wall), mark(sr.forwarded.Wall <= 30*time.Millisecond))
		}
		if sr.forwardedNew.Wall > 0 {
			p("| the same, the first status after a new receipt ≤ 30 ms | %s | %s |\n", secs(sr.forwardedNew.Wall), mark(sr.forwardedNew.Wall <= 30*time.Millisecond))
		}
		p("\nScale: %d receipts (%d units, %d campaigns, %d campaign periods), written with store.Record in %s; database %s.\n\n",
			sr.receipts, sr.units, sr.campaigns, sr.period, secs(sr.genTime), mb(sr.dbSize))
		p("| over %d receipts | time | peak RSS |\n|---|---|---|\n", sr.receipts)
		p("| `briefd status` | %s | %s |\n", secs(sr.status.Wall), mb(sr.status.MaxRSS))
		p("| `briefd status -json` | %s | %s |\n", secs(sr.statusJSON.Wall), mb(sr.statusJSON.MaxRSS))
		if sr.forwarded.Wall > 0 {
			p("| `briefd status` forwarded to `briefd run` | %s | %s (the client) |\n", secs(sr.forwarded.Wall), mb(sr.forwarded.MaxRSS))
			if sr.forwardedNew.Wall > 0 {
				p("| `briefd status` forwarded, the first after a new receipt (`receipt add`) | %s | %s (the client) |\n", secs(sr.forwardedNew.Wall), mb(sr.forwardedNew.MaxRSS))
			}
		} else if sr.forwardNote != "" {
			p("| `briefd status` forwarded to `briefd run` | %s | |\n", sr.forwardNote)
		}
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
