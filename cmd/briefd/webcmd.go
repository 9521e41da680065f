package main

import (
	"time"

	"briefd/store"
	"briefd/web"
)

// buildWeb wires the dashboard to the daemon's store, roster and actions.
func (s *services) buildWeb() (*web.Server, error) {
	a := s.a
	return web.New(web.Options{
		Listen:        a.cfg.Web.Listen,
		Password:      a.cfg.Web.Value(),
		Location:      a.cfg.Location(),
		OfficeName:    a.cfg.Office.Name,
		Office:        a.off,
		Health:        s.health,
		Now:           a.now,
		MailboxMaxAge: max(15*time.Minute, 3*a.cfg.IMAP.Every()),
	}, a.st, a.archive, a.log)
}

// poke wakes the outbox sender.
func (s *services) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// health reports the watcher and the outbox for /readyz and /metrics.
func (s *services) health() web.Health {
	ws := s.watcher.Stats()
	h := web.Health{LastMailboxOK: ws.LastOK, MailboxErrors: ws.Errors, Reconnects: ws.Reconnects}
	if s.parts != nil {
		for _, p := range s.parts.States() {
			h.Parts = append(h.Parts, web.PartState{Name: p.Name, Running: p.Running, Failures: p.Failures, LastError: p.LastError})
		}
	}
	if h.LastMailboxOK.IsZero() {
		if t, ok, err := s.a.st.Mark("imap:last_ok"); err == nil && ok {
			h.LastMailboxOK = t
		}
	}
	items, err := s.a.st.Outbox(func(it *store.OutboxItem) bool { return it.State == store.OutQueued || it.State == store.OutFailed })
	if err == nil {
		for _, it := range items {
			if it.State == store.OutQueued {
				h.OutboxDepth++
			} else {
				h.OutboxFailed++
			}
		}
	}
	return h
}
