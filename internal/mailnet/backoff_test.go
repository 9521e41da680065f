package mailnet

import (
	"testing"
	"time"
)

// TestBackoffWait: the outbox's waits, 1 min doubling to 6 h.
func TestBackoffWait(t *testing.T) {
	b := Backoff{Min: time.Minute, Max: 6 * time.Hour}
	want := []time.Duration{time.Minute, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, 64 * time.Minute, 128 * time.Minute, 256 * time.Minute, 6 * time.Hour, 6 * time.Hour}
	for n, w := range want {
		if got := b.Wait(n); got != w {
			t.Errorf("Wait(%d) = %v, want %v", n, got, w)
		}
	}
	if got := b.Wait(1 << 30); got != 6*time.Hour {
		t.Errorf("Wait(many) = %v", got)
	}
}

// TestBackoffJittered: the watcher's reconnect waits (1 s to 5 min) stay within bounds and grow to
// about the maximum.
func TestBackoffJittered(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 5 * time.Minute}
	var d time.Duration
	for n := 1; n <= 20; n++ {
		d = b.Jittered(n)
		if d < time.Second || d > 5*time.Minute {
			t.Fatalf("failure %d: %v out of range", n, d)
		}
	}
	if d < 3*time.Minute {
		t.Errorf("backoff after 20 failures is %v, want near 5m", d)
	}
}
