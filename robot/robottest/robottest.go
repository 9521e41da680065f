// Package robottest runs fake WeCom, DingTalk and Feishu group-robot webhooks on a loopback address,
// for tests. Each fake checks what its service checks, as robot's package doc cites it: the path and
// key, token or hook id; POST with a JSON body; the message type and the fields it needs; the size
// limits; the signature and its timestamp window (an hour either way) for a signed robot; the robot's
// keywords when it has some; its rate (WeCom and DingTalk 20 a minute, Feishu 100 a minute and 5 a
// second). It answers as the service does: HTTP 200 with errcode (WeCom, DingTalk) or code (Feishu),
// 0 on success. It can also be told to give its next answers: rate limited, invalid key, HTTP 500.
//
// The fakes share no code with package robot: signatures and limits are computed here again, so that a
// mistake in one is not repeated in the other. Where a service's code for a refusal is not known (a
// missing field), the fake uses a code of that service's family; what matters to a client is that it
// is not 0.
package robottest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The kinds of fake.
const (
	WeCom    = "wecom"
	DingTalk = "dingtalk"
	Feishu   = "feishu"
)

// Answer is a forced answer for the next post (Server.Next).
type Answer int

// The forced answers.
const (
	RateLimited Answer = iota + 1 // WeCom 45009, DingTalk 130101, Feishu 11232
	InvalidKey                    // WeCom 93000, DingTalk 300001, Feishu 19001
	ServerError                   // HTTP 500 with an HTML page
)

// Options describe the fake robot.
type Options struct {
	// Secret is the signing secret of a DingTalk (加签) or Feishu (签名校验) robot; "" is a robot that
	// does not sign. A signed robot refuses unsigned posts.
	Secret string
	// Keywords are the robot's keywords (DingTalk, Feishu 自定义关键词): a message must contain one.
	Keywords []string
	// TLS serves https with a test certificate; use Server.Client.
	TLS bool
	// Now is the service's clock. Default time.Now.
	Now func() time.Time
}

// Post is a post the fake accepted.
type Post struct {
	MsgType string // msgtype or msg_type
	Title   string // DingTalk markdown.title, Feishu card header
	Content string // the text or markdown content (Feishu card: its markdown and lark_md texts)
	Signed  bool
	Body    []byte
}

// Refusal is a post the fake refused, with the code it answered and why.
type Refusal struct {
	Status int
	Code   int
	Reason string
}

// Server is a fake robot webhook.
type Server struct {
	Kind  string
	Token string // the key, access_token or hook id in the URL

	srv *httptest.Server
	o   Options

	mu       sync.Mutex
	forced   []Answer
	accepted []Post
	refused  []Refusal
	times    []time.Time // of the posts counted against the rate
	held     time.Time   // DingTalk holds a robot 10 minutes after it went over
}

// New starts a fake of kind (WeCom, DingTalk or Feishu) for the robot with this key, access_token or
// hook id; it stops when the test ends.
func New(t testing.TB, kind, token string, o Options) *Server {
	t.Helper()
	switch kind {
	case WeCom, DingTalk, Feishu:
	default:
		t.Fatalf("robottest: unknown kind %q", kind)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{Kind: kind, Token: token, o: o}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a client refusing the test certificate is a test's business
	if o.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the robot's webhook URL on the fake, key included.
func (s *Server) URL() string {
	switch s.Kind {
	case WeCom:
		return s.srv.URL + "/cgi-bin/webhook/send?key=" + s.Token
	case DingTalk:
		return s.srv.URL + "/robot/send?access_token=" + s.Token
	}
	return s.srv.URL + "/open-apis/bot/v2/hook/" + s.Token
}

// Client is an HTTP client that trusts the fake's certificate (with Options.TLS).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Next makes the next posts get these answers, one each, whatever they are.
func (s *Server) Next(a ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = append(s.forced, a...)
}

// Accepted are the posts accepted so far.
func (s *Server) Accepted() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.accepted...)
}

// Refused are the posts refused so far, forced answers included.
func (s *Server) Refused() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refused...)
}

// ServeHTTP answers a post as the service does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.forced) > 0 {
		a := s.forced[0]
		s.forced = s.forced[1:]
		s.answerForced(w, a)
		return
	}
	p, ref := s.check(r)
	if ref != nil {
		s.refuse(w, *ref)
		return
	}
	s.accepted = append(s.accepted, p)
	s.ok(w)
}

func (s *Server) answerForced(w http.ResponseWriter, a Answer) {
	switch a {
	case RateLimited:
		s.refuse(w, s.rateLimited())
	case InvalidKey:
		s.refuse(w, s.invalidKey())
	default:
		s.refused = append(s.refused, Refusal{Status: 500, Reason: "forced: server error"})
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<html><body><h1>500 Internal Server Error</h1></body></html>")
	}
}

func (s *Server) ok(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	if s.Kind == Feishu {
		io.WriteString(w, `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`)
		return
	}
	io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
}

func (s *Server) refuse(w http.ResponseWriter, ref Refusal) {
	s.refused = append(s.refused, ref)
	if ref.Status == 0 {
		ref.Status = http.StatusOK // the services answer refusals with HTTP 200 and a code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ref.Status)
	var b []byte
	if s.Kind == Feishu {
		b, _ = json.Marshal(map[string]any{"code": ref.Code, "msg": ref.Reason, "data": map[string]any{}})
	} else {
		b, _ = json.Marshal(map[string]any{"errcode": ref.Code, "errmsg": ref.Reason})
	}
	w.Write(b)
}

// The services' answers, as quoted in real answers (see robot's package doc).
func (s *Server) invalidKey() Refusal {
	switch s.Kind {
	case WeCom:
		return Refusal{Code: 93000, Reason: "invalid webhook url, hint: [1755605200056773468916791], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}
	case DingTalk:
		return Refusal{Code: 300001, Reason: "token is not exist"}
	}
	return Refusal{Code: 19001, Reason: "param invalid: incoming webhook access token invalid"}
}

func (s *Server) rateLimited() Refusal {
	switch s.Kind {
	case WeCom:
		return Refusal{Code: 45009, Reason: "api freq out of limit, hint: [1773643642077182456917975], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=45009"}
	case DingTalk:
		return Refusal{Code: 130101, Reason: "send too fast, exceed 20 times per minute"}
	}
	return Refusal{Code: 11232, Reason: "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}
}

func (s *Server) badRequest(why string) *Refusal {
	switch s.Kind {
	case WeCom:
		return &Refusal{Code: 40058, Reason: why + ". invalid Request Parameter"}
	case DingTalk:
		return &Refusal{Code: 40035, Reason: "缺少参数 json: " + why}
	}
	return &Refusal{Code: 9499, Reason: "Bad Request: " + why}
}

// feishuBodyMax is Feishu's documented 20 KB, read as KiB (the fake allows the larger reading).
const feishuBodyMax = 20 << 10

// check verifies a post as the service would.
func (s *Server) check(r *http.Request) (Post, *Refusal) {
	var p Post
	if r.Method != http.MethodPost {
		return p, &Refusal{Status: http.StatusMethodNotAllowed, Code: 405, Reason: "method " + r.Method + " not allowed"}
	}
	if !s.rightPath(r) {
		ref := s.invalidKey()
		return p, &ref
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return p, s.badRequest("Content-Type must be application/json, not " + strconv.Quote(r.Header.Get("Content-Type")))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return p, s.badRequest("cannot read the body")
	}
	p.Body = body
	if s.Kind == Feishu && len(body) > feishuBodyMax {
		return p, s.badRequest(fmt.Sprintf("body of %d bytes is over 20 KB", len(body)))
	}
	if !utf8.Valid(body) {
		return p, s.badRequest("body is not UTF-8")
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return p, s.badRequest("body is not a JSON object")
	}
	if ref := s.checkSignature(r, m); ref != nil {
		return p, ref
	}
	p.Signed = s.o.Secret != ""
	if ref := s.overRate(); ref != nil {
		return p, ref
	}
	var ref *Refusal
	switch s.Kind {
	case WeCom:
		ref = s.checkWeCom(m, &p)
	case DingTalk:
		ref = s.checkDingTalk(m, &p)
	case Feishu:
		ref = s.checkFeishu(m, &p)
	}
	if ref != nil {
		return p, ref
	}
	if len(s.o.Keywords) > 0 && !containsAny(p.Title+"\n"+p.Content, s.o.Keywords) {
		if s.Kind == DingTalk {
			return p, &Refusal{Code: 310000, Reason: "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}
		}
		return p, &Refusal{Code: 19024, Reason: "Key Words Not Found"}
	}
	s.times = append(s.times, s.o.Now())
	return p, nil
}

func (s *Server) rightPath(r *http.Request) bool {
	switch s.Kind {
	case WeCom:
		return r.URL.Path == "/cgi-bin/webhook/send" && r.URL.Query().Get("key") == s.Token
	case DingTalk:
		return r.URL.Path == "/robot/send" && r.URL.Query().Get("access_token") == s.Token
	}
	return r.URL.Path == "/open-apis/bot/v2/hook/"+s.Token
}

// checkSignature: DingTalk's timestamp (ms) and sign in the query, Feishu's timestamp (s, a string) and
// sign in the body; the timestamp within an hour of the service's clock.
func (s *Server) checkSignature(r *http.Request, m map[string]any) *Refusal {
	if s.o.Secret == "" || s.Kind == WeCom {
		return nil
	}
	now := s.o.Now()
	if s.Kind == DingTalk {
		bad := &Refusal{Code: 310000, Reason: "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}
		q := r.URL.Query() // decodes %2B as + and a bare + as a space, as any server does
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil {
			return bad
		}
		if d := now.Sub(time.UnixMilli(ts)); d > time.Hour || d < -time.Hour {
			return bad
		}
		mac := hmac.New(sha256.New, []byte(s.o.Secret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + s.o.Secret))
		if !hmac.Equal([]byte(q.Get("sign")), []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
			return bad
		}
		return nil
	}
	bad := &Refusal{Code: 19021, Reason: "sign match fail or timestamp is not within one hour from current time"}
	tsStr, _ := m["timestamp"].(string)
	sign, _ := m["sign"].(string)
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if err != nil {
		return bad
	}
	if d := now.Sub(time.Unix(ts, 0)); d > time.Hour || d < -time.Hour {
		return bad
	}
	mac := hmac.New(sha256.New, []byte(tsStr+"\n"+s.o.Secret))
	if !hmac.Equal([]byte(sign), []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
		return bad
	}
	return nil
}

// overRate refuses a post over the service's rate.
func (s *Server) overRate() *Refusal {
	now := s.o.Now()
	count := func(per time.Duration) int {
		n := 0
		for _, t := range s.times {
			if t.After(now.Add(-per)) {
				n++
			}
		}
		return n
	}
	switch s.Kind {
	case WeCom:
		if count(time.Minute) >= 20 {
			ref := s.rateLimited()
			return &ref
		}
	case DingTalk:
		if now.Before(s.held) {
			ref := s.rateLimited()
			return &ref
		}
		if count(time.Minute) >= 20 {
			s.held = now.Add(10 * time.Minute)
			ref := s.rateLimited()
			return &ref
		}
	case Feishu:
		if count(time.Minute) >= 100 || count(time.Second) >= 5 {
			ref := s.rateLimited()
			return &ref
		}
	}
	return nil
}

func (s *Server) checkWeCom(m map[string]any, p *Post) *Refusal {
	p.MsgType, _ = m["msgtype"].(string)
	switch p.MsgType {
	case "text", "markdown":
	default:
		return &Refusal{Code: 40008, Reason: "invalid message type " + strconv.Quote(p.MsgType)}
	}
	obj, ok := m[p.MsgType].(map[string]any)
	if !ok {
		return s.badRequest("missing " + p.MsgType)
	}
	p.Content, ok = obj["content"].(string)
	if !ok || p.Content == "" {
		return s.badRequest(p.MsgType + ".content missing")
	}
	max := 4096
	if p.MsgType == "text" {
		max = 2048
	}
	if len(p.Content) > max {
		return &Refusal{Code: 40058, Reason: fmt.Sprintf("%s.content exceed max length %d. invalid Request Parameter", p.MsgType, max)}
	}
	return nil
}

// dingTalkMax is the bound robot uses for DingTalk (see its DingTalkTextMax), in UTF-16 units.
const dingTalkMax, dingTalkTitleMax = 5000, 64

func (s *Server) checkDingTalk(m map[string]any, p *Post) *Refusal {
	p.MsgType, _ = m["msgtype"].(string)
	obj, _ := m[p.MsgType].(map[string]any)
	switch p.MsgType {
	case "text":
		p.Content, _ = obj["content"].(string)
		if p.Content == "" {
			return s.badRequest("text.content missing")
		}
	case "markdown":
		p.Title, _ = obj["title"].(string)
		p.Content, _ = obj["text"].(string)
		if p.Title == "" || p.Content == "" {
			return s.badRequest("markdown.title and markdown.text are required")
		}
		if n := len(utf16.Encode([]rune(p.Title))); n > dingTalkTitleMax {
			return s.badRequest(fmt.Sprintf("markdown.title of %d characters is over %d", n, dingTalkTitleMax))
		}
	default:
		return s.badRequest("invalid msgtype " + strconv.Quote(p.MsgType))
	}
	if n := len(utf16.Encode([]rune(p.Content))); n > dingTalkMax {
		return s.badRequest(fmt.Sprintf("content of %d characters is over %d", n, dingTalkMax))
	}
	return nil
}

func (s *Server) checkFeishu(m map[string]any, p *Post) *Refusal {
	p.MsgType, _ = m["msg_type"].(string)
	switch p.MsgType {
	case "text":
		c, _ := m["content"].(map[string]any)
		p.Content, _ = c["text"].(string)
		if p.Content == "" {
			return s.badRequest("content.text missing")
		}
	case "post":
		c, _ := m["content"].(map[string]any)
		if _, ok := c["post"].(map[string]any); !ok {
			return s.badRequest("content.post missing")
		}
	case "interactive":
		card, ok := m["card"].(map[string]any)
		if !ok {
			return s.badRequest("card missing")
		}
		if h, ok := card["header"].(map[string]any); ok {
			t, _ := h["title"].(map[string]any)
			tag, _ := t["tag"].(string)
			if tag != "plain_text" && tag != "lark_md" {
				return s.badRequest("header.title.tag must be plain_text or lark_md")
			}
			p.Title, _ = t["content"].(string)
		}
		els, ok := card["elements"].([]any)
		if !ok || len(els) == 0 {
			return s.badRequest("card.elements missing")
		}
		var texts []string
		for _, e := range els {
			el, _ := e.(map[string]any)
			switch tag, _ := el["tag"].(string); tag {
			case "markdown":
				c, ok := el["content"].(string)
				if !ok {
					return s.badRequest("markdown element without content")
				}
				texts = append(texts, c)
			case "div":
				t, _ := el["text"].(map[string]any)
				c, _ := t["content"].(string)
				texts = append(texts, c)
			case "hr", "note", "img", "action", "column_set":
			default:
				return s.badRequest("unknown card element " + strconv.Quote(tag))
			}
		}
		p.Content = strings.Join(texts, "\n")
	default:
		return s.badRequest("invalid msg_type " + strconv.Quote(p.MsgType))
	}
	return nil
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
