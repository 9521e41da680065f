package mailnet

import (
	"math/rand/v2"
	"time"
)

// Backoff is the wait before trying a server again after failures in a row: Min after the first, twice
// as long after each next one, never more than Max.
type Backoff struct {
	Min, Max time.Duration
}

// Wait is the wait after the n-th failure in a row (n from 1): Min, 2·Min, 4·Min, … at most Max. The
// outbox uses it as it is, so that the next try of a message is a time the office can be told.
func (b Backoff) Wait(n int) time.Duration {
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Jittered is Wait(n) moved at random by up to a quarter either way, kept within Min and Max: clients
// that lost the server together do not all come back at the same moment. The IMAP watcher reconnects
// with it.
func (b Backoff) Jittered(n int) time.Duration {
	d := b.Wait(n)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return min(b.Max, max(b.Min, d+jitter))
}
