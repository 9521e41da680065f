package winsvc

import (
	"context"
	"time"
)

// The service manager's view of the service, and what it asks of it.
type serviceState int

const (
	serviceStarting serviceState = iota + 1
	serviceRunning
	serviceStopping // repeated every serviceStopTick while the daemon finishes, to show progress
)

type serviceRequest int

const (
	askStop serviceRequest = iota + 1
	askShutdown
	askInterrogate
)

// runService runs the daemon for the service manager: it reports starting and then running, cancels the
// daemon's context on a stop or shutdown request and reports stopping until the daemon has finished its
// work in hand, answers interrogations with the current state, and returns the daemon's exit status (not
// 0: the service manager counts a failure and applies the recovery actions).
func runService(reqs <-chan serviceRequest, report func(serviceState), tick time.Duration, run func(context.Context) int) int {
	state := serviceStarting
	report(state)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx) }()
	state = serviceRunning
	report(state)
	var ticks <-chan time.Time
	for {
		select {
		case code := <-done:
			return code
		case <-ticks:
			report(state)
		case r, ok := <-reqs:
			if !ok { // the service manager's side is gone: wait for the daemon alone
				reqs = nil
				continue
			}
			switch r {
			case askStop, askShutdown:
				if state != serviceStopping {
					state = serviceStopping
					cancel()
					t := time.NewTicker(tick)
					defer t.Stop()
					ticks = t.C
				}
				report(state)
			case askInterrogate:
				report(state)
			}
		}
	}
}
