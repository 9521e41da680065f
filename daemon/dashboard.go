package daemon

import (
	"time"

	"briefd/intake"
	"briefd/store"
	"briefd/web"
)

// EnableDashboard builds the dashboard on the daemon's office and store; Run then serves it.
func (d *Daemon) EnableDashboard() error {
	cfg := d.o.Config
	w, err := web.New(web.Options{
		Listen:        cfg.Web.Listen,
		Password:      cfg.Web.Value(),
		Location:      cfg.Location(),
		OfficeName:    cfg.Office.Name,
		Office:        d.o.Office,
		Health:        d.health,
		Now:           d.o.Now,
		MailboxMaxAge: max(15*time.Minute, 3*cfg.IMAP.Every()),
		// A briefing registered by hand may be as large as one that comes by mail.
		MaxUpload: max(64<<20, cfg.Limits.MessageBytes()),
	}, d.o.Store, d.o.Office.Archive(), d.o.Log)
	if err != nil {
		return err
	}
	d.web = w
	return nil
}

// health reports the watcher, the parts and the outbox for /readyz and /metrics.
func (d *Daemon) health() web.Health {
	ws := d.watcher.Stats()
	h := web.Health{LastMailboxOK: ws.LastOK, MailboxErrors: ws.Errors, Reconnects: ws.Reconnects}
	if d.parts != nil {
		for _, p := range d.parts.States() {
			h.Parts = append(h.Parts, web.PartState{Name: p.Name, Running: p.Running, Failures: p.Failures, LastError: p.LastError})
		}
	}
	if h.LastMailboxOK.IsZero() {
		if t, ok, err := d.o.Store.Mark(intake.MarkIMAPLastOK); err == nil && ok {
			h.LastMailboxOK = t
		}
	}
	items, err := d.o.Store.Outbox(func(it *store.OutboxItem) bool { return it.State == store.OutQueued || it.State == store.OutFailed })
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
