package web

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// readyz is 200 when the store answers and the mailbox was checked successfully within MailboxMaxAge,
// else 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var problems, lines []string
	if _, _, err := s.st.Mark("readyz"); err != nil {
		problems = append(problems, "store not readable: "+err.Error())
	}
	if s.o.Health != nil {
		h := s.o.Health()
		switch age := s.o.Now().Sub(h.LastMailboxOK); {
		case h.LastMailboxOK.IsZero():
			problems = append(problems, "no successful mailbox check yet")
		case age > s.o.MailboxMaxAge:
			problems = append(problems, fmt.Sprintf("last successful mailbox check %s ago (limit %s)",
				age.Round(1e9), s.o.MailboxMaxAge))
		}
		for _, p := range h.Parts {
			state := "running"
			if !p.Running {
				state = "not running"
				problems = append(problems, p.Name+" not running")
			}
			if p.Failures > 0 {
				state += fmt.Sprintf(" (%d failures, last: %s)", p.Failures, p.LastError)
			}
			lines = append(lines, p.Name+": "+state)
		}
	}
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.Join(problems, "; "))
	} else {
		w.Write([]byte("ready\n"))
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// metrics writes the Prometheus text format (version 0.0.4).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	var h Health
	if s.o.Health != nil {
		h = s.o.Health()
	}
	counted, pending, err := s.verdictCounts()
	if err != nil {
		s.log.Error("web: metrics", "err", err)
		http.Error(w, "store not readable", http.StatusInternalServerError)
		return
	}
	counts := h.Verdicts
	if counts == nil {
		counts = counted
	}
	all := map[string]int{}
	for _, v := range verdicts {
		all[v] = 0
	}
	maps.Copy(all, counts)
	var b bytes.Buffer
	head := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	head("briefd_mails_total", "counter", "Received mails by verdict.")
	for _, v := range slices.Sorted(maps.Keys(all)) {
		fmt.Fprintf(&b, "briefd_mails_total{verdict=%s} %d\n", strconv.Quote(v), all[v])
	}
	head("briefd_mailbox_errors_total", "counter", "Mailbox errors since the daemon started.")
	fmt.Fprintf(&b, "briefd_mailbox_errors_total %d\n", h.MailboxErrors)
	head("briefd_mailbox_reconnects_total", "counter", "Mailbox reconnects since the daemon started.")
	fmt.Fprintf(&b, "briefd_mailbox_reconnects_total %d\n", h.Reconnects)
	head("briefd_outbox_depth", "gauge", "Outgoing mails waiting to be sent.")
	fmt.Fprintf(&b, "briefd_outbox_depth %d\n", h.OutboxDepth)
	head("briefd_outbox_failed", "gauge", "Outgoing mails that failed for good.")
	fmt.Fprintf(&b, "briefd_outbox_failed %d\n", h.OutboxFailed)
	head("briefd_seconds_since_mailbox_ok", "gauge", "Seconds since the last successful mailbox check (+Inf when none).")
	since := math.Inf(1)
	if !h.LastMailboxOK.IsZero() {
		since = s.o.Now().Sub(h.LastMailboxOK).Seconds()
	}
	fmt.Fprintf(&b, "briefd_seconds_since_mailbox_ok %s\n", promFloat(since))
	head("briefd_receipts_unassigned", "gauge", "Mails from unregistered senders waiting for a person (待确认).")
	fmt.Fprintf(&b, "briefd_receipts_unassigned %d\n", pending)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func promFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', 3, 64)
}
