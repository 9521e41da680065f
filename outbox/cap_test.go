package outbox

import (
	"strings"
	"testing"
	"time"

	"briefd/store"
)

// TestFoldKeyMatchesEqualFold: the per-pass counts of the hourly cap group addresses exactly as
// strings.EqualFold (used by the outbox scan outside a pass) does.
func TestFoldKeyMatchesEqualFold(t *testing.T) {
	words := []string{"a@b.cn", "A@B.CN", "Xinfu@Example.cn", "xinfu@example.CN", "k@x", "\u212a@x", "K@X",
		"s@x", "\u017f@x", "S@X", "张@例子.cn", "ǅ@x", "ǆ@x", "Ǆ@x", "\xff@x", "\xfe@x", "ß@x", "ẞ@x", ""}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("%q vs %q: same key %v, EqualFold %v", a, b, got, want)
			}
		}
	}
}

// TestHourlyCapAcrossPasses: replies sent in earlier passes count, whatever the case of the address,
// and a reply sent in this pass counts for the next reply to the same sender in this pass.
func TestHourlyCapAcrossPasses(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PerSenderPerHour = 2 })
	e.record(t, accepted("Xinfu-JKY@example.cn"))
	if sent, _ := e.flush(t); sent != 1 {
		t.Fatalf("first pass: sent %d; want 1", sent)
	}
	e.clk.Add(time.Minute)
	for i := 0; i < 3; i++ {
		e.record(t, accepted("xinfu-jky@EXAMPLE.cn"))
	}
	if sent, _ := e.flush(t); sent != 1 {
		t.Errorf("second pass: sent %d; want 1 (cap 2, one sent before)", sent)
	}
	var supp int
	for _, it := range e.items(t) {
		if it.State == store.OutSuppressed {
			supp++
		}
	}
	if supp != 2 {
		t.Errorf("%d suppressed; want 2", supp)
	}
}
