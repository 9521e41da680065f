package robot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// secret is a signing secret. It prints as **** with every verb (%#v included) and in logs, JSON
// handlers included.
type secret string

func (secret) String() string                { return "****" }
func (secret) LogValue() slog.Value          { return slog.StringValue("****") }
func (secret) Format(f fmt.State, verb rune) { io.WriteString(f, "****") }

// hookURL is a webhook URL. It prints masked: …?key=****, …?access_token=****, …/hook/****.
type hookURL struct {
	u    *url.URL
	kind Kind
}

func (h hookURL) String() string {
	if h.u == nil {
		return "(no URL)"
	}
	base := h.u.Scheme + "://" + h.u.Host
	switch h.kind {
	case WeCom:
		return base + h.u.EscapedPath() + "?key=****"
	case DingTalk:
		return base + h.u.EscapedPath() + "?access_token=****"
	case Feishu:
		p := strings.TrimSuffix(h.u.Path, "/")
		return base + p[:strings.LastIndexByte(p, '/')+1] + "****"
	}
	return base + "/****"
}
func (h hookURL) LogValue() slog.Value          { return slog.StringValue(h.String()) }
func (h hookURL) Format(f fmt.State, verb rune) { io.WriteString(f, h.String()) }

// credentials are the secret parts of the URL and the secret, to be masked in any text we show.
func (h hookURL) credentials() []string {
	if h.u == nil {
		return nil
	}
	switch h.kind {
	case WeCom:
		return h.u.Query()["key"]
	case DingTalk:
		return h.u.Query()["access_token"]
	case Feishu:
		return []string{hookID(h.u)}
	}
	return nil
}

// Robot is a configured group robot: its name, kind and events, and, in unexported fields that never
// print (String, GoString, Format and LogValue mask them), its webhook URL and signing secret. Make one
// with Config.Resolve. A Robot is safe for concurrent use; copies share one rate limiter.
type Robot struct {
	name   string
	kind   Kind
	events []Event
	format Format
	url    hookURL
	secret secret
	client *http.Client
	lim    *limiter
	o      Options
}

// Name is the robot's name from the config.
func (r *Robot) Name() string { return r.name }

// Kind is the robot's service.
func (r *Robot) Kind() Kind { return r.kind }

// Events are the events the robot posts.
func (r *Robot) Events() []Event { return slices.Clone(r.events) }

// Wants reports whether the robot posts this event.
func (r *Robot) Wants(e Event) bool { return slices.Contains(r.events, e) }

// Signed reports whether posts are signed with a secret (DingTalk 加签, Feishu 签名校验).
func (r *Robot) Signed() bool { return r.secret != "" }

// MaskedURL is the webhook URL with its key, token or hook id replaced by ****.
func (r *Robot) MaskedURL() string { return r.url.String() }

// String describes the robot without its URL's key or its secret, e.g.
// robot "职教科群" (wecom, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****, markdown; summary, alert).
func (r Robot) String() string {
	signed := ""
	if r.secret != "" {
		signed = ", signed"
	}
	evs := make([]string, len(r.events))
	for i, e := range r.events {
		evs[i] = string(e)
	}
	return fmt.Sprintf("robot %q (%s, %s, %s%s; %s)", r.name, r.kind, r.url, r.format, signed, strings.Join(evs, ", "))
}

// Format prints String for every verb, so that no verb (%#v, %d, %x, %+v on a value) reaches the
// fields.
func (r Robot) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

// LogValue logs the robot's name, kind and masked URL.
func (r Robot) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", r.name), slog.String("kind", string(r.kind)),
		slog.String("url", r.url.String()))
}

// Ready is how long to wait before the robot may post again: 0 when it may post now. It is over its
// rate (20 posts in any minute; Feishu also 5 in any second), or the service said it is rate limited.
// The count is kept in memory only: after a restart the robot starts from zero (the services' own
// limits then refuse the excess with a temporary error).
func (r *Robot) Ready() time.Duration { return r.lim.ready(r.o.Now()) }

// maxAnswer bounds what is read of an answer; the services answer with a few hundred bytes.
const maxAnswer = 64 << 10

// Post renders m for the robot's service and format, within the service's size limits (cutting long
// content with Suffix), signs it when the robot has a secret, and posts it.
//
// The error is nil only when the service answered success (errcode 0 or code 0 in its JSON answer, not
// merely HTTP 200). Otherwise it is an *Error: IsTemporary says whether to try again later (network,
// HTTP 5xx, the service's rate-limit and busy codes; RetryAfter suggests when), else the service
// refused for good (invalid key or token, signature, keyword or IP not allowed) and Error says why.
// Over the rate limit (Ready > 0) nothing is sent and the error is temporary. No error text contains
// the webhook URL's key, token or hook id, or the secret.
//
// The Answer is the service's answer when there was one.
func (r *Robot) Post(ctx context.Context, m Message) (Answer, error) {
	now := r.o.Now()
	if wait := r.lim.reserve(now); wait > 0 {
		return Answer{}, r.fail(&Error{Temporary: true, RateLimited: true, Local: true, RetryAfter: wait,
			Msg: fmt.Sprintf("not sent: over this robot's rate limit (%s); ready in %s", r.lim, roundUp(wait))})
	}
	body, err := r.render(m, now)
	if err != nil {
		return Answer{}, r.fail(&Error{Msg: err.Error()})
	}
	target := r.target(now)

	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		// NewRequest quotes the URL in its errors: never show them.
		return Answer{}, r.fail(&Error{Msg: "cannot make the request from the webhook URL"})
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "briefd")
	resp, err := r.client.Do(req)
	if err != nil {
		inner := unwrapURLError(err)
		return Answer{}, r.fail(&Error{Temporary: true, Err: inner,
			Msg: "no answer from the service: " + r.scrub(inner.Error())})
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		inner := unwrapURLError(err)
		return Answer{Status: resp.StatusCode}, r.fail(&Error{Temporary: true, Status: resp.StatusCode, Err: inner,
			Msg: "the answer was cut off: " + r.scrub(inner.Error())})
	}
	a := r.parseAnswer(resp.StatusCode, raw)
	if e := classify(r.kind, a, resp.Header, now); e != nil {
		if e.RateLimited && e.RetryAfter > 0 {
			r.lim.pause(now.Add(e.RetryAfter))
		}
		return a, r.fail(e)
	}
	return a, nil
}

// fail fills in the robot and masks what must not show.
func (r *Robot) fail(e *Error) *Error {
	e.Robot, e.Kind = r.name, r.kind
	e.Msg = r.scrub(e.Msg)
	return e
}

// target is the URL to post to: DingTalk's signed robots add timestamp (ms) and sign to the query.
func (r *Robot) target(now time.Time) string {
	if r.kind != DingTalk || r.secret == "" {
		return r.url.u.String()
	}
	u := *r.url.u
	q := u.Query()
	ts := now.UnixMilli()
	q.Set("timestamp", fmt.Sprint(ts))
	q.Set("sign", dingTalkSign(string(r.secret), ts)) // Encode percent-encodes the Base64 (+, /, =)
	u.RawQuery = q.Encode()
	return u.String()
}

// scrub masks the key, token or hook id and the secret wherever they appear in s, plain or
// percent-encoded.
func (r *Robot) scrub(s string) string {
	creds := r.url.credentials()
	if r.secret != "" {
		creds = append(creds, string(r.secret))
	}
	for _, c := range creds {
		if len(c) < 4 { // too short to mask without wrecking the text; Resolve never sees such keys in practice
			continue
		}
		s = strings.ReplaceAll(s, c, "****")
		if e := url.QueryEscape(c); e != c {
			s = strings.ReplaceAll(s, e, "****")
		}
		if e := url.PathEscape(c); e != c {
			s = strings.ReplaceAll(s, e, "****")
		}
	}
	return s
}

// unwrapURLError drops net/http's *url.Error, whose text quotes the whole URL with its key.
func unwrapURLError(err error) error {
	for {
		ue, ok := err.(*url.Error)
		if !ok {
			return err
		}
		err = ue.Err
	}
}

// Answer is the service's answer to a post.
type Answer struct {
	Status  int    // HTTP status
	HasCode bool   // the answer was JSON with the service's result code
	Code    int    // errcode (WeCom, DingTalk) or code (Feishu); 0 is success
	Msg     string // errmsg or msg
	Body    string // the answer as received, at most 2000 bytes, with the key, token and secret masked
}

// OK reports whether the answer is the service's success: HTTP 2xx and result code 0.
func (a Answer) OK() bool { return a.Status/100 == 2 && a.HasCode && a.Code == 0 }

// String is the answer in one line, e.g. `HTTP 200, code 0 "success"`.
func (a Answer) String() string {
	if a.Status == 0 {
		return "no answer"
	}
	s := fmt.Sprintf("HTTP %d", a.Status)
	if a.HasCode {
		s += fmt.Sprintf(", code %d %q", a.Code, a.Msg)
	}
	return s
}

// parseAnswer reads the result code of a JSON answer: errcode/errmsg for WeCom and DingTalk; code/msg
// for Feishu, or its older StatusCode/StatusMessage.
func (r *Robot) parseAnswer(status int, raw []byte) Answer {
	// Mask before cutting: a cut could leave part of a key that no longer matches.
	a := Answer{Status: status, Body: cutBytes(r.scrub(strings.ToValidUTF8(string(raw), "\uFFFD")), 2000)}
	var w struct {
		ErrCode       *int   `json:"errcode"`
		ErrMsg        string `json:"errmsg"`
		Code          *int   `json:"code"`
		Msg           string `json:"msg"`
		StatusCode    *int   `json:"StatusCode"`
		StatusMessage string `json:"StatusMessage"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return a
	}
	switch {
	case r.kind != Feishu && w.ErrCode != nil:
		a.HasCode, a.Code, a.Msg = true, *w.ErrCode, w.ErrMsg
	case r.kind == Feishu && w.Code != nil:
		a.HasCode, a.Code, a.Msg = true, *w.Code, w.Msg
	case r.kind == Feishu && w.StatusCode != nil:
		a.HasCode, a.Code, a.Msg = true, *w.StatusCode, w.StatusMessage
	}
	a.Msg = cutBytes(r.scrub(a.Msg), 500)
	return a
}

// cutBytes cuts s to at most n bytes at a rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Test posts a test message (TestMessage) and returns the service's answer as text for
// `briefd robot test`: the robot, the answer's status and code, and its body. The error is Post's.
func Test(ctx context.Context, r *Robot) (string, error) {
	a, err := r.Post(ctx, TestMessage(r.name, r.o.Now()))
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r)
	switch {
	case err == nil:
		fmt.Fprintf(&b, "posted: %s\n", a)
	case a.Status != 0:
		fmt.Fprintf(&b, "refused: %s\n%v\n", a, err)
	default:
		fmt.Fprintf(&b, "not posted: %v\n", err)
	}
	if a.Body != "" {
		fmt.Fprintf(&b, "answer: %s\n", a.Body)
	}
	return b.String(), err
}
