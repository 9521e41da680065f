package robot

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// rule allows at most n posts in any window of length per.
type rule struct {
	n   int
	per time.Duration
}

// limiter is a robot's rate limit: sliding windows over the posts it let through, and a pause after
// the service said it is rate limited. It lives in memory only.
type limiter struct {
	rules []rule

	mu     sync.Mutex
	sent   []time.Time // ascending; older than the longest window are dropped
	paused time.Time   // no post before
}

// The rates per robot. WeCom and DingTalk document 20 messages a minute per robot. Feishu documents
// 100 a minute and 5 a second; briefd keeps to 20 a minute for every kind (the rate; an
// office's chat needs far fewer) and to Feishu's 5 a second.
func newLimiter(k Kind) *limiter {
	l := &limiter{rules: []rule{{20, time.Minute}}}
	if k == Feishu {
		l.rules = append(l.rules, rule{5, time.Second})
	}
	return l
}

func (l *limiter) String() string {
	var s []string
	for _, r := range l.rules {
		s = append(s, fmt.Sprintf("%d per %s", r.n, r.per))
	}
	return strings.Join(s, ", ")
}

// ready is how long until a post is allowed at now (0: now).
func (l *limiter) ready(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wait(now)
}

// reserve counts a post at now and returns 0, or returns how long to wait and counts nothing.
func (l *limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.wait(now); d > 0 {
		return d
	}
	l.sent = append(l.sent, now)
	return 0
}

// pause holds the robot until t, when the service said it is rate limited.
func (l *limiter) pause(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.paused) {
		l.paused = t
	}
}

func (l *limiter) wait(now time.Time) time.Duration {
	var longest time.Duration
	for _, r := range l.rules {
		longest = max(longest, r.per)
	}
	// Forget what no window looks at any more. A clock that went back keeps everything counted.
	i := 0
	for i < len(l.sent) && !l.sent[i].After(now.Add(-longest)) {
		i++
	}
	l.sent = l.sent[i:]

	d := l.paused.Sub(now)
	for _, r := range l.rules {
		// The posts in (now-per, now]; when there are n, the oldest of them must leave the window.
		in := 0
		for j := len(l.sent) - 1; j >= 0 && l.sent[j].After(now.Add(-r.per)); j-- {
			in++
		}
		if in >= r.n {
			oldest := l.sent[len(l.sent)-in]
			d = max(d, oldest.Add(r.per).Sub(now))
		}
	}
	return max(d, 0)
}
