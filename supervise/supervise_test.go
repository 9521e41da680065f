package supervise

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fast() Options {
	return Options{MaxFailures: 3, Window: time.Minute, BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond}
}

// TestCannotStart: a part that cannot start ends Run at once with its name; the parts started before it
// release what they took.
func TestCannotStart(t *testing.T) {
	released := false
	s := New(fast(), nil,
		Part{Name: "control socket", Start: func() error { return nil }, Run: func(ctx context.Context) error {
			<-ctx.Done()
			released = true
			return nil
		}},
		Part{Name: "dashboard", Start: func() error { return errors.New("listen tcp 127.0.0.1:8080: bind: address already in use") },
			Run: func(ctx context.Context) error { t.Error("ran a part that did not start"); return nil }},
	)
	start := time.Now()
	err := s.Run(context.Background())
	if err == nil || err.Error() != "dashboard: listen tcp 127.0.0.1:8080: bind: address already in use" {
		t.Fatalf("Run = %v", err)
	}
	if time.Since(start) > time.Second || !released {
		t.Errorf("took %v, released %v", time.Since(start), released)
	}
}

// TestRestart: a part that fails is started again; one that fails too often ends the whole; the
// others are stopped then.
func TestRestart(t *testing.T) {
	var flaky, starts atomic.Int32
	stopped := make(chan struct{})
	s := New(fast(), nil,
		Part{Name: "outbox", Run: func(ctx context.Context) error {
			if flaky.Add(1) <= 2 {
				return errors.New("smtp: boom")
			}
			<-ctx.Done()
			return nil
		}},
		Part{Name: "steady", Run: func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil }},
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Second)
	for flaky.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	st := s.States()
	if !st[0].Running || st[0].Failures != 2 || st[0].LastError != "smtp: boom" || !st[1].Running {
		t.Errorf("states %+v", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v", err)
	}

	s = New(fast(), nil,
		Part{Name: "dashboard", Start: func() error { starts.Add(1); return nil }, Run: func(ctx context.Context) error {
			return errors.New("web: accept: too many open files")
		}},
		Part{Name: "steady", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }},
	)
	err := s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "dashboard failed 3 times") || !strings.Contains(err.Error(), "too many open files") {
		t.Errorf("Run = %v", err)
	}
	if starts.Load() != 3 {
		t.Errorf("started %d times, want 3", starts.Load())
	}
	<-stopped
}
