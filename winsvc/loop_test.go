package winsvc

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// serviceManager is the service manager's side of runService in a test.
type serviceManager struct {
	mu      sync.Mutex
	reports []serviceState
}

func (m *serviceManager) report(s serviceState) {
	m.mu.Lock()
	m.reports = append(m.reports, s)
	m.mu.Unlock()
}

func (m *serviceManager) seen() []serviceState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.reports)
}

func TestRunService(t *testing.T) {
	t.Run("stop", func(t *testing.T) {
		m := &serviceManager{}
		reqs := make(chan serviceRequest)
		finished := make(chan struct{})
		var cancelled time.Time
		code := make(chan int, 1)
		go func() {
			code <- runService(reqs, m.report, 10*time.Millisecond, func(ctx context.Context) int {
				<-ctx.Done()
				cancelled = time.Now()
				time.Sleep(80 * time.Millisecond) // the work in hand
				close(finished)
				return 0
			})
		}()
		reqs <- askInterrogate
		reqs <- askStop
		reqs <- askStop // a second request changes nothing
		if c := <-code; c != 0 {
			t.Errorf("exit %d", c)
		}
		select {
		case <-finished:
		default:
			t.Error("runService returned before the daemon finished")
		}
		got := m.seen()
		if len(got) < 5 || got[0] != serviceStarting || got[1] != serviceRunning || got[2] != serviceRunning || got[3] != serviceStopping {
			t.Fatalf("reports %v", got)
		}
		ticks := 0
		for _, s := range got[3:] {
			if s != serviceStopping {
				t.Fatalf("reports %v: state after stopping", got)
			}
			ticks++
		}
		if ticks < 4 { // two for the requests, and at least two ticks in 80 ms at 10 ms
			t.Errorf("%d stopping reports while the daemon finished, want progress every tick: %v", ticks, got)
		}
		if cancelled.IsZero() {
			t.Error("context not cancelled")
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		m := &serviceManager{}
		reqs := make(chan serviceRequest, 1)
		reqs <- askShutdown
		c := runService(reqs, m.report, time.Second, func(ctx context.Context) int { <-ctx.Done(); return 0 })
		if c != 0 || !slices.Contains(m.seen(), serviceStopping) {
			t.Errorf("exit %d, reports %v", c, m.seen())
		}
	})
	t.Run("requests closed", func(t *testing.T) {
		m := &serviceManager{}
		reqs := make(chan serviceRequest)
		close(reqs)
		c := runService(reqs, m.report, time.Second, func(ctx context.Context) int { time.Sleep(50 * time.Millisecond); return 3 })
		if got := m.seen(); c != 3 || len(got) != 2 {
			t.Errorf("exit %d, reports %v; want 3 and starting, running", c, got)
		}
	})
	t.Run("daemon fails", func(t *testing.T) {
		m := &serviceManager{}
		c := runService(make(chan serviceRequest), m.report, time.Second, func(ctx context.Context) int { return 1 })
		if c != 1 {
			t.Errorf("exit %d, want the daemon's 1 (a failure for the recovery actions)", c)
		}
		if got := m.seen(); slices.Contains(got, serviceStopping) {
			t.Errorf("reports %v", got)
		}
	})
}
