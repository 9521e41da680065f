// Package supervise runs the long-lived parts of the daemon (mailbox watcher, outbox sender, scheduler,
// dashboard, control socket) as one: a part that cannot start ends the whole at once with an error that
// names it; a part that fails later is started again with backoff; a part that keeps failing ends the
// whole, so that the service manager (systemd) restarts the process. Never a daemon that looks alive and
// is not.
package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Part is one long-lived part.
type Part struct {
	// Name says what it is in errors, logs and /readyz, e.g. "dashboard".
	Name string
	// Start prepares the part, e.g. binds its address. Optional. An error at the first start ends the
	// whole at once; at a restart it counts as a failure.
	Start func() error
	// Run runs the part until ctx is done and then returns nil. An error before that is a failure. It
	// releases what Start took, also when called with ctx already done (the whole did not start).
	Run func(ctx context.Context) error
}

// Options configure a Supervisor. Zero values take the defaults.
type Options struct {
	// MaxFailures within Window end the whole. Default 5 within 10 minutes.
	MaxFailures int
	Window      time.Duration
	// BackoffMin and BackoffMax bound the wait before a restart, doubling from one to the other.
	// Default 1s to 1 minute.
	BackoffMin, BackoffMax time.Duration
}

// State is what a part is doing, for /readyz.
type State struct {
	Name      string
	Running   bool
	Failures  int    // since the start
	LastError string // of the last failure
	Since     time.Time
}

// Supervisor runs parts.
type Supervisor struct {
	o     Options
	log   *slog.Logger
	parts []Part

	mu     sync.Mutex
	states []State
}

// New returns a Supervisor of parts.
func New(o Options, log *slog.Logger, parts ...Part) *Supervisor {
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.Window <= 0 {
		o.Window = 10 * time.Minute
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = time.Second
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(time.Minute, o.BackoffMin)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Supervisor{o: o, log: log, parts: parts, states: make([]State, len(parts))}
	for i, p := range parts {
		s.states[i].Name = p.Name
	}
	return s
}

// States returns the state of every part, in the order given to New.
func (s *Supervisor) States() []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]State(nil), s.states...)
}

func (s *Supervisor) set(i int, fn func(*State)) {
	s.mu.Lock()
	fn(&s.states[i])
	s.mu.Unlock()
}

// Run starts every part in order (the first that cannot start ends Run with its error, after the ones
// started are stopped), then runs them all until ctx is done or one fails too often; that one's error
// is returned. Run returns nil when ctx ends it.
func (s *Supervisor) Run(ctx context.Context) error {
	for i, p := range s.parts {
		if p.Start == nil {
			continue
		}
		if err := p.Start(); err != nil {
			// The parts started before release what they took.
			for _, q := range s.parts[:i] {
				if q.Start != nil {
					cctx, cancel := context.WithCancel(ctx)
					cancel()
					q.Run(cctx)
				}
			}
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, p := range s.parts {
		g.Go(func() error { return s.keep(gctx, i, p) })
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// keep runs part i (already started) and starts it again after each failure, until ctx is done or it
// failed MaxFailures times within Window.
func (s *Supervisor) keep(ctx context.Context, i int, p Part) error {
	var failures []time.Time
	backoff := time.Duration(0)
	for {
		s.set(i, func(st *State) { st.Running, st.Since = true, time.Now() })
		err := p.Run(ctx)
		s.set(i, func(st *State) { st.Running = false })
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("stopped on its own")
		}
		now := time.Now()
		failures = append(failures, now)
		for len(failures) > 0 && now.Sub(failures[0]) > s.o.Window {
			failures = failures[1:]
		}
		s.set(i, func(st *State) { st.Failures++; st.LastError = err.Error(); st.Since = now })
		if len(failures) >= s.o.MaxFailures {
			s.log.Error("part keeps failing; stopping briefd", "part", p.Name, "failures", len(failures), "within", s.o.Window, "err", err)
			return fmt.Errorf("%s failed %d times within %s: %w", p.Name, len(failures), s.o.Window, err)
		}
		backoff = min(max(2*backoff, s.o.BackoffMin), s.o.BackoffMax)
		s.log.Warn("part failed; starting it again", "part", p.Name, "err", err, "retry_in", backoff)
		for {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			if p.Start == nil {
				break
			}
			serr := p.Start()
			if serr == nil {
				break
			}
			now := time.Now()
			failures = append(failures, now)
			s.set(i, func(st *State) { st.Failures++; st.LastError = serr.Error(); st.Since = now })
			if len(failures) >= s.o.MaxFailures {
				s.log.Error("part cannot start again; stopping briefd", "part", p.Name, "err", serr)
				return fmt.Errorf("%s: %w", p.Name, serr)
			}
			backoff = min(2*backoff, s.o.BackoffMax)
			s.log.Warn("part cannot start yet", "part", p.Name, "err", serr, "retry_in", backoff)
		}
	}
}
