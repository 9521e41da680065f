package robot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"briefd/robot"
	"briefd/robot/robottest"
)

// leaks reports which credentials of the tests appear in s, plain or percent-encoded.
func leaks(s string) []string {
	var found []string
	for _, c := range []string{testKey, testToken, testHook, testSecret} {
		for _, form := range []string{c, url.QueryEscape(c), c[:12]} {
			if strings.Contains(s, form) {
				found = append(found, form)
			}
		}
	}
	return found
}

// All the ways a robot is printed or logged.
func TestRobotPrintsNoSecrets(t *testing.T) {
	for _, kind := range robot.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			secret := testSecret
			if kind == robot.WeCom {
				secret = ""
			}
			srv := robottest.New(t, string(kind), kindToken[kind], robottest.Options{Secret: secret})
			r := resolve(t, kind, srv.URL(), secret, "", robot.Options{})
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("posting", "robot", r, "value", *r)
			slog.New(slog.NewTextHandler(&logged, nil)).Info("posting", "robot", r)
			outs := map[string]string{
				"Sprint":     fmt.Sprint(r),
				"Sprint *r":  fmt.Sprint(*r),
				"%v":         fmt.Sprintf("%v", r),
				"%+v":        fmt.Sprintf("%+v", r),
				"%#v":        fmt.Sprintf("%#v", r),
				"%+v *r":     fmt.Sprintf("%+v", *r),
				"%#v *r":     fmt.Sprintf("%#v", *r),
				"%d *r":      fmt.Sprintf("%d", *r),
				"%x *r":      fmt.Sprintf("%x", *r),
				"%s in a []": fmt.Sprintf("%v", []robot.Robot{*r}),
				"%+v struct": fmt.Sprintf("%+v", struct{ R robot.Robot }{*r}),
				"log":        logged.String(),
				"MaskedURL":  r.MaskedURL(),
			}
			for name, out := range outs {
				if l := leaks(out); l != nil {
					t.Errorf("%s leaks %q: %s", name, l, out)
				}
				if !strings.Contains(out, "****") && name != "%d *r" {
					t.Errorf("%s does not show the masked URL: %s", name, out)
				}
			}
			if !strings.Contains(outs["log"], `"name":"职教科群"`) {
				t.Errorf("log lacks the robot's name: %s", outs["log"])
			}
		})
	}
}

// Every error and answer of a failed post, including net/http's errors that quote the URL.
func TestErrorsLeakNothing(t *testing.T) {
	closed := func() string { // a loopback port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	done := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer slow.Close()
	defer close(done) // before Close, which waits for the handlers
	// A server that echoes what it was sent: the URL with the key, and the body.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"errcode":40001,"code":40001,"errmsg":"bad request to %s %s","msg":"bad request to %s %s"}`,
			r.URL.RequestURI(), url.QueryEscape(string(b)), r.URL.RequestURI(), url.QueryEscape(string(b)))
	}))
	defer echo.Close()
	// A server that answers garbage with the URL in it, not JSON.
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<html>forbidden: %s</html>", r.URL.String())
	}))
	defer garbage.Close()

	paths := map[robot.Kind]string{
		robot.WeCom:    "/cgi-bin/webhook/send?key=" + testKey,
		robot.DingTalk: "/robot/send?access_token=" + testToken,
		robot.Feishu:   "/open-apis/bot/v2/hook/" + testHook,
	}
	for _, kind := range robot.Kinds {
		secret := testSecret
		if kind == robot.WeCom {
			secret = ""
		}
		cases := map[string]struct {
			base string
			o    robot.Options
			srv  *robottest.Server
		}{
			"connection refused": {base: "http://" + closed},
			"timeout":            {base: slow.URL, o: robot.Options{Timeout: 50 * time.Millisecond}},
			"echo":               {base: echo.URL},
			"garbage":            {base: garbage.URL},
		}
		for _, a := range []robottest.Answer{robottest.RateLimited, robottest.InvalidKey, robottest.ServerError} {
			srv := robottest.New(t, string(kind), kindToken[kind], robottest.Options{Secret: secret})
			srv.Next(a)
			cases[fmt.Sprintf("forced %d", a)] = struct {
				base string
				o    robot.Options
				srv  *robottest.Server
			}{srv: srv}
		}
		for name, c := range cases {
			t.Run(string(kind)+"/"+name, func(t *testing.T) {
				u := c.base + paths[kind]
				if c.srv != nil {
					u = c.srv.URL()
				}
				r := resolve(t, kind, u, secret, "", c.o)
				a, err := r.Post(context.Background(), summary())
				if err == nil {
					t.Fatal("no error")
				}
				out, terr := robot.Test(context.Background(), r)
				texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), a.String(), a.Body, a.Msg, out}
				if terr != nil {
					texts = append(texts, terr.Error())
				}
				if u := errors.Unwrap(err); u != nil {
					texts = append(texts, u.Error())
				}
				for _, s := range texts {
					if l := leaks(s); l != nil {
						t.Errorf("leaks %q in %q", l, s)
					}
				}
				if name == "timeout" && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("timeout: errors.Is(DeadlineExceeded) false: %v", err)
				}
				if name == "echo" && !strings.Contains(a.Body, "****") {
					t.Errorf("echo: the masked key is not in the answer: %s", a.Body)
				}
			})
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	followed := false
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed = true
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	r := resolve(t, robot.WeCom, redirect.URL+"/cgi-bin/webhook/send?key="+testKey, "", "", robot.Options{})
	_, err := r.Post(context.Background(), summary())
	if err == nil || robot.IsTemporary(err) || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("redirect: %v", err)
	}
	if followed {
		t.Fatal("the redirect was followed, with the key")
	}
}

func TestOtherAnswers(t *testing.T) {
	tests := []struct {
		name      string
		kind      robot.Kind
		status    int
		header    map[string]string
		body      string
		ok        bool
		temporary bool
		retry     time.Duration
		says      string
	}{
		{"wecom success", robot.WeCom, 200, nil, `{"errcode":0,"errmsg":"ok"}`, true, false, 0, ""},
		{"feishu legacy success", robot.Feishu, 200, nil, `{"StatusCode":0,"StatusMessage":"success"}`, true, false, 0, ""},
		{"http 200 is not success", robot.WeCom, 200, nil, `{"errcode":93000,"errmsg":"invalid webhook url"}`, false, false, 0, "invalid webhook key"},
		{"429 with Retry-After", robot.Feishu, 429, map[string]string{"Retry-After": "120"}, "", false, true, 2 * time.Minute, "HTTP 429"},
		{"429 without", robot.DingTalk, 429, nil, "", false, true, time.Minute, "HTTP 429"},
		{"502 from a proxy", robot.DingTalk, 502, nil, "<html>bad gateway</html>", false, true, 0, "HTTP 502"},
		{"200 not JSON", robot.WeCom, 200, nil, "<html>portal</html>", false, true, 0, "unexpected answer"},
		{"404 not JSON", robot.Feishu, 404, nil, "404 page not found", false, false, 0, "HTTP 404"},
		{"busy", robot.DingTalk, 200, nil, `{"errcode":-1,"errmsg":"系统繁忙"}`, false, true, 0, "busy"},
		{"660026", robot.DingTalk, 200, nil, `{"errcode":660026,"errmsg":"x"}`, false, true, 10 * time.Minute, "rate limited"},
		{"dingtalk keywords", robot.DingTalk, 200, nil, `{"errcode":310000,"errmsg":"keywords not in content"}`, false, false, 0, "keyword"},
		{"feishu 9499 bad request", robot.Feishu, 200, nil, `{"code":9499,"msg":"Bad Request","data":{}}`, false, false, 0, "bad request"},
		{"feishu 9499 too many", robot.Feishu, 200, nil, `{"code":9499,"msg":"too many request","data":{}}`, false, true, time.Minute, "rate limited"},
		{"feishu ip", robot.Feishu, 200, nil, `{"code":19022,"msg":"Ip Not Allowed"}`, false, false, 0, "IP allowlist"},
		{"unknown code", robot.WeCom, 200, nil, `{"errcode":12345,"errmsg":"something new"}`, false, false, 0, `refused by the service: code 12345 "something new"`},
		{"wecom answer read as feishu", robot.Feishu, 200, nil, `{"errcode":0,"errmsg":"ok"}`, false, true, 0, "unexpected answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			path := map[robot.Kind]string{robot.WeCom: "/cgi-bin/webhook/send?key=k", robot.DingTalk: "/robot/send?access_token=t",
				robot.Feishu: "/open-apis/bot/v2/hook/h"}[tc.kind]
			r := resolve(t, tc.kind, srv.URL+path, "", "", robot.Options{})
			a, err := r.Post(context.Background(), summary())
			if tc.ok {
				if err != nil || !a.OK() {
					t.Fatalf("%v, answer %s", err, a)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, answer %s", a)
			}
			if robot.IsTemporary(err) != tc.temporary || robot.RetryAfter(err) != tc.retry {
				t.Errorf("temporary %v retry %s, want %v %s: %v", robot.IsTemporary(err), robot.RetryAfter(err), tc.temporary, tc.retry, err)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
	if robot.IsTemporary(nil) || robot.IsTemporary(errors.New("x")) || robot.RetryAfter(errors.New("x")) != 0 {
		t.Error("IsTemporary/RetryAfter of a non-robot error")
	}
}
