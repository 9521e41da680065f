package robot

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a failed post. Temporary errors are worth trying again later: the network, HTTP 5xx, the
// services' rate-limit and busy codes, our own rate limit. Others mean the service refused the post
// and will refuse it again (invalid key or token, signature, keyword or IP not allowed): keep the item
// with Error's text. The text never contains the webhook URL's key, token or hook id, or the secret.
type Error struct {
	Robot string // the robot's name
	Kind  Kind
	// Temporary: try again later. Not temporary: the service refused for good.
	Temporary bool
	// RateLimited: the service said too many posts (or, with Local, our own limiter did).
	RateLimited bool
	// Local: refused by this robot's rate limiter before sending anything.
	Local bool
	// RetryAfter, when not 0, is when to try again at the earliest: the service's rate-limit pause.
	RetryAfter time.Duration
	// Status is the HTTP status, 0 when there was no answer.
	Status int
	// HasCode and Code are the service's result code (errcode or code) when the answer had one.
	HasCode bool
	Code    int
	// Msg says what went wrong, with the service's message.
	Msg string
	// Err is the network error, when there was no answer; it is free of the URL.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("robot %q (%s): %s", e.Robot, e.Kind, e.Msg)
}

// Unwrap returns the network error, so that errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// IsTemporary reports whether err is a failed post worth trying again later. It is false for nil, for
// a refusal and for errors that are not an *Error.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary
}

// RetryAfter is the earliest time to try again after err, when the service (or the robot's own rate
// limit) said so; 0 otherwise (use the outbox's backoff).
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// code is what a service's result code means.
type code struct {
	temporary bool
	rate      bool          // a rate limit: pause the robot for delay
	delay     time.Duration // the pause, when rate
	what      string
}

// codes are the result codes we know, per service, from their documentation and from answers quoted
// in public bug reports (see the package doc). A code not listed is a refusal (permanent).
var codes = map[Kind]map[int]code{
	WeCom: {
		-1:    {temporary: true, what: "the service is busy"},
		45009: {temporary: true, rate: true, delay: time.Minute, what: "rate limited: more than 20 messages in a minute"},
		93000: {what: "invalid webhook key: the robot was removed from the group or the key is wrong"},
		40058: {what: "a field of the message is too long or invalid"},
	},
	DingTalk: {
		-1:     {temporary: true, what: "the service is busy"},
		130101: {temporary: true, rate: true, delay: 10 * time.Minute, what: "rate limited: more than 20 messages in a minute; DingTalk holds the robot for 10 minutes"},
		// 660026 is named as a rate-limit code in briefd's issue 18; it is not in any DingTalk page we
		// could read. Retrying costs little, so it is treated as temporary.
		660026: {temporary: true, rate: true, delay: 10 * time.Minute, what: "rate limited"},
		310000: {what: "refused by the robot's security settings: signature (wrong secret, or this machine's clock is more than an hour off), keyword or IP address"},
		300001: {what: "invalid access_token: the robot was removed or the token is wrong"},
		300005: {what: "invalid access_token: the robot was removed or the token is wrong"},
	},
	Feishu: {
		11232: {temporary: true, rate: true, delay: time.Minute, what: "rate limited"},
		9499:  {what: "bad request: the body is not what the service expects, or larger than 20 KB"},
		19001: {what: "invalid webhook: the robot was removed or the hook id is wrong"},
		19021: {what: "signature refused: wrong secret, or this machine's clock is more than an hour off"},
		19022: {what: "refused by the robot's IP allowlist"},
		19024: {what: "refused by the robot's keywords: the message has none of them"},
	},
}

// defaultRatePause is the pause after an HTTP 429 without Retry-After.
const defaultRatePause = time.Minute

// classify turns an answer into nil (success) or an *Error.
func classify(kind Kind, a Answer, h http.Header, now time.Time) *Error {
	e := &Error{Status: a.Status, HasCode: a.HasCode, Code: a.Code}
	service := ""
	if a.HasCode {
		service = fmt.Sprintf("code %d", a.Code)
		if a.Msg != "" {
			service += " " + strconv.Quote(a.Msg)
		}
	}
	switch {
	case a.Status >= 300 && a.Status < 400:
		e.Msg = fmt.Sprintf("the webhook answered with a redirect (HTTP %d), which is not followed: check the URL", a.Status)
		return e
	case a.Status == http.StatusTooManyRequests:
		e.Temporary, e.RateLimited, e.RetryAfter = true, true, retryAfter(h, now)
		e.Msg = fmt.Sprintf("rate limited (HTTP 429); retry after %s", roundUp(e.RetryAfter))
		return e
	case a.Status >= 500:
		e.Temporary = true
		e.Msg = fmt.Sprintf("the service failed (HTTP %d)", a.Status)
		if service != "" {
			e.Msg += ": " + service
		}
		return e
	case !a.HasCode && a.Status/100 == 2:
		// Not the service's JSON: a proxy or a portal page in between. Try again.
		e.Temporary = true
		e.Msg = fmt.Sprintf("unexpected answer (HTTP %d without a result code): %s", a.Status, strconv.Quote(cutBytes(a.Body, 200)))
		return e
	case !a.HasCode:
		e.Msg = fmt.Sprintf("refused (HTTP %d): %s", a.Status, strconv.Quote(cutBytes(a.Body, 200)))
		return e
	case a.Code == 0 && a.Status/100 == 2:
		return nil
	}
	c := codes[kind][a.Code]
	if kind == Feishu && a.Code == 9499 && tooMany(a.Msg) {
		// 9499 is documented as Bad Request, yet answers reading "too many request" are reported.
		c = code{temporary: true, rate: true, delay: time.Minute, what: "rate limited"}
	}
	switch {
	case c.what == "": // a code we do not know: the service refused
		e.Msg = "refused by the service: " + service
	case c.temporary:
		e.Temporary = true
		e.Msg = c.what + ": " + service
	default:
		e.Msg = c.what + ": " + service
	}
	if c.rate {
		e.RateLimited, e.RetryAfter = true, c.delay
		e.Msg += fmt.Sprintf("; retry after %s", roundUp(c.delay))
	}
	return e
}

func tooMany(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "too many") || strings.Contains(m, "frequency")
}

// retryAfter reads Retry-After (seconds or an HTTP date), bounded to an hour; default a minute.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return defaultRatePause
	}
	return min(d, time.Hour)
}

func roundUp(d time.Duration) time.Duration {
	if d < time.Second {
		return time.Second
	}
	return d.Round(time.Second)
}
