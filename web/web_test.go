package web

import (
	"archive/zip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"briefd/pdfcheck"
	"briefd/store"
)

// client is a browser without JavaScript: it keeps cookies and does not follow redirects.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, h http.Handler) *client {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: ts.URL, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(b)
}

// getRaw sends path exactly as written (no cleaning of dot segments by the client).
func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.URL.Opaque = path // sent as the request target unchanged
	if i := strings.IndexByte(path, '?'); i >= 0 {
		req.URL.Opaque, req.URL.RawQuery = path[:i], path[i+1:]
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a page's form.
func (c *client) csrf(path string) string {
	c.t.Helper()
	resp, body := c.get(path)
	m := csrfRe.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		c.t.Fatalf("GET %s: %d, no csrf token in the page", path, resp.StatusCode)
	}
	return m[1]
}

func (c *client) login(password string) *http.Response {
	c.t.Helper()
	tok := c.csrf("/login")
	resp, _ := c.post("/login", url.Values{"csrf": {tok}, "password": {password}, "next": {"/pending"}})
	return resp
}

func wantStatus(t *testing.T, what string, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Errorf("%s: status %d, want %d", what, resp.StatusCode, want)
	}
}

func setup(t *testing.T, edit func(*Options)) (*fixture, *Server, *client) {
	t.Helper()
	f := newFixture(t)
	f.seed()
	o := f.options()
	if edit != nil {
		edit(&o)
	}
	s := f.server(o)
	return f, s, newClient(t, s.Handler())
}

func TestPages(t *testing.T) {
	f, _, c := setup(t, nil)
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"总览", "/", []string{"<h1>总览</h1>", "忻府区教育科技局", "学习贯彻全省职教大会精神情况简报", "已报送", "逾期报送", "未通过", "未报送",
			`data-unit="shenchi" data-period="zjdh-study/2022-01">未报送`, `data-unit="yuanping" data-period="zjdh-study/2022-01"><a href="/receipts/` + f.named["yuanping-late"]}},
		{"总览 one campaign", "/?campaign=zjdh-monthly", []string{"职业教育大会筹备召开情况", "2022-03", "截止 2022-03-31"}},
		{"收件记录", "/receipts", []string{"<h1>收件记录</h1>", f.named["xinfu-study"], "忻府区学习贯彻全省职教大会精神情况简报", "已受理", "部分受理", "无附件", "邮件过大", "无法解析", "非报送邮件"}},
		{"回执详情", "/receipts/" + f.named["xinfu-study"], []string{"回执 " + f.named["xinfu-study"], "xinfu-jky@example.cn",
			"忻府区学习贯彻全省职教大会精神情况简报.pdf", "可以打开", "/receipts/" + f.named["xinfu-study"] + "/files/1", "/receipts/" + f.named["xinfu-study"] + "/raw",
			"已发送", "重新发送回执", "2022-01-10 14:32"}},
		{"回执详情 with rejected file", "/receipts/" + f.named["dingxiang-docx"], []string{"不可用", "Word 文档", "另存为”→“PDF”"}},
		{"回执详情 with a cloud link", "/receipts/" + f.named["fanshi-link"], []string{`href="https://mail.qq.com/cgi-bin/ftnExs_download?k=abc123&amp;t=exs_ftn_download"`, "发送失败", "550 5.1.1"}},
		{"待确认", "/pending", []string{"<h1>待确认</h1>", f.named["pending"], "zhangsan1987@qq.com", "同时登记该邮箱", f.named["malformed"]}},
		{"单位", "/units", []string{"<h1>单位</h1>", "忻州市职业技术学校", "xinfu-jky@example.cn", "学校", "期逾期未报"}},
		{"404", "/nope", []string{"没有这个页面"}},
		{"unknown receipt", "/receipts/JB2022-9999", []string{"没有这个回执编号"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := c.get(tc.path)
			wantCode := 200
			if strings.Contains(tc.name, "404") || strings.Contains(tc.name, "unknown") {
				wantCode = 404
			}
			wantStatus(t, tc.path, resp, wantCode)
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: page lacks %q", tc.path, w)
				}
			}
			for h, want := range map[string]string{
				"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
				"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("GET %s: %s = %q, want %q", tc.path, h, got, want)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, w := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"} {
				if !strings.Contains(csp, w) {
					t.Errorf("CSP %q lacks %q", csp, w)
				}
			}
			if strings.Contains(body, "<script") || strings.Contains(body, " style=") {
				t.Errorf("GET %s: the page has inline script or style", tc.path)
			}
		})
	}
	t.Run("ignored mail is not pending", func(t *testing.T) {
		_, body := c.get("/pending")
		if strings.Contains(body, f.named["ignored"]) {
			t.Error("the bounce is listed in 待确认")
		}
	})
	t.Run("static CSS", func(t *testing.T) {
		resp, body := c.get("/static/style.css")
		wantStatus(t, "style.css", resp, 200)
		if !strings.Contains(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ".matrix") {
			t.Errorf("style.css: %s, %d bytes", resp.Header.Get("Content-Type"), len(body))
		}
	})
}

func TestAuth(t *testing.T) {
	f, _, c := setup(t, func(o *Options) { o.Password = "忻州 2022 secret" })
	n := f.named["pending"]
	t.Run("pages redirect to the login", func(t *testing.T) {
		for _, p := range []string{"/", "/receipts", "/receipts/" + n, "/pending", "/units", "/receipts/" + f.named["xinfu-study"] + "/files/1",
			"/receipts/" + n + "/raw", "/export?format=csv"} {
			resp, body := c.get(p)
			wantStatus(t, p, resp, http.StatusSeeOther)
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
				t.Errorf("GET %s: Location %q", p, loc)
			}
			if strings.Contains(body, "%PDF") || strings.Contains(body, "张三") {
				t.Errorf("GET %s without login served content", p)
			}
		}
	})
	t.Run("actions refused", func(t *testing.T) {
		tok := c.csrf("/login") // a valid pre-login token does not let anyone act
		resp, _ := c.post("/receipts/"+n+"/assign", url.Values{"csrf": {tok}, "unit": {"shenchi"}})
		wantStatus(t, "assign without login", resp, http.StatusForbidden)
		resp, _ = c.post("/receipts/"+n+"/resend", url.Values{"csrf": {tok}})
		wantStatus(t, "resend without login", resp, http.StatusForbidden)
		if f.assigns != 0 || f.resends != 0 {
			t.Errorf("actions ran without login: %d assigns, %d resends", f.assigns, f.resends)
		}
	})
	t.Run("monitoring is public", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/static/style.css"} {
			resp, _ := c.get(p)
			wantStatus(t, p, resp, 200)
		}
	})
	t.Run("wrong password refused", func(t *testing.T) {
		resp := c.login("wrong")
		wantStatus(t, "login with a wrong password", resp, http.StatusUnauthorized)
		resp, _ = c.get("/")
		wantStatus(t, "after a wrong password", resp, http.StatusSeeOther)
	})
	t.Run("login without CSRF token refused", func(t *testing.T) {
		resp, _ := c.post("/login", url.Values{"password": {"忻州 2022 secret"}})
		wantStatus(t, "login without token", resp, http.StatusForbidden)
	})
	t.Run("login, use, logout", func(t *testing.T) {
		resp := c.login("忻州 2022 secret")
		wantStatus(t, "login", resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/pending" {
			t.Errorf("after login: Location %q, want /pending", loc)
		}
		var sess *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure || len(sess.Value) < 43 {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, 32 random bytes", sess)
		}
		resp, body := c.get("/pending")
		wantStatus(t, "/pending after login", resp, 200)
		if !strings.Contains(body, "退出") {
			t.Error("no logout button")
		}
		tok := c.csrf("/pending")
		resp, _ = c.post("/logout", url.Values{"csrf": {tok}})
		wantStatus(t, "logout", resp, http.StatusSeeOther)
		resp, _ = c.get("/pending")
		wantStatus(t, "after logout", resp, http.StatusSeeOther)
	})
	t.Run("expired session", func(t *testing.T) {
		c.login("忻州 2022 secret")
		f.now = f.now.Add(13 * time.Hour)
		defer func() { f.now = f.now.Add(-13 * time.Hour) }()
		resp, _ := c.get("/")
		wantStatus(t, "after 13 hours", resp, http.StatusSeeOther)
	})
	t.Run("open redirect refused", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
			c2 := newClient(t, c.handler(t, f))
			tok := c2.csrf("/login")
			resp, _ := c2.post("/login", url.Values{"csrf": {tok}, "password": {"忻州 2022 secret"}, "next": {next}})
			if loc := resp.Header.Get("Location"); loc != "/" {
				t.Errorf("next=%q: Location %q, want /", next, loc)
			}
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		c3 := newClient(t, c.handler(t, f))
		for range loginFailures {
			c3.login("guess")
		}
		resp := c3.login("忻州 2022 secret")
		wantStatus(t, "right password after 5 failures", resp, http.StatusTooManyRequests)
		f.now = f.now.Add(loginWindow + time.Second)
		defer func() { f.now = f.now.Add(-loginWindow - time.Second) }()
		resp = c3.login("忻州 2022 secret")
		wantStatus(t, "after the window", resp, http.StatusSeeOther)
	})
}

// handler builds a second server over the fixture (each with its own sessions and limits).
func (c *client) handler(t *testing.T, f *fixture) http.Handler {
	o := f.options()
	o.Password = "忻州 2022 secret"
	return f.server(o).Handler()
}

func TestSecureCookie(t *testing.T) {
	_, _, c := setup(t, func(o *Options) { o.Password = "pw"; o.TLS = true })
	tok := c.csrf("/login")
	// The client jar keeps Secure cookies off plain http, so send the pre-session cookie by hand.
	u, _ := url.Parse(c.base)
	var pre string
	for _, ck := range c.c.Jar.Cookies(&url.URL{Scheme: "https", Host: u.Host}) {
		if ck.Name == preCookie {
			pre = ck.Value
		}
	}
	req, _ := http.NewRequest("POST", c.base+"/login", strings.NewReader(url.Values{"csrf": {tok}, "password": {"pw"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: preCookie, Value: pre})
	resp, _ := c.do(req)
	wantStatus(t, "login over TLS", resp, http.StatusSeeOther)
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && !ck.Secure {
			t.Errorf("session cookie is not Secure with TLS")
		}
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS header with TLS")
	}
}

func TestCSRF(t *testing.T) {
	f, _, c := setup(t, nil)
	n := f.named["pending"]
	other := newClient(t, c.handler(t, f)) // another browser's token
	otherTok := other.csrf("/login")
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"no token", url.Values{"unit": {"shenchi"}}},
		{"empty token", url.Values{"csrf": {""}, "unit": {"shenchi"}}},
		{"forged token", url.Values{"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "unit": {"shenchi"}}},
		{"another browser's token", url.Values{"csrf": {otherTok}, "unit": {"shenchi"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.get("/pending") // has a pre-session cookie
			resp, body := c.post("/receipts/"+n+"/assign", tc.form)
			wantStatus(t, "assign", resp, http.StatusForbidden)
			if !strings.Contains(body, "CSRF") {
				t.Errorf("refusal does not say why: %s", body)
			}
			resp, _ = c.post("/receipts/"+n+"/resend", tc.form)
			wantStatus(t, "resend", resp, http.StatusForbidden)
		})
	}
	if f.assigns != 0 || f.resends != 0 {
		t.Errorf("refused requests ran actions: %d assigns, %d resends", f.assigns, f.resends)
	}
	r, _ := f.st.Receipt(n)
	if r.Unit != "" {
		t.Errorf("receipt changed to unit %q", r.Unit)
	}
	t.Run("cross-site request refused", func(t *testing.T) {
		tok := c.csrf("/pending")
		req, _ := http.NewRequest("POST", c.base+"/receipts/"+n+"/resend", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, _ := c.do(req)
		wantStatus(t, "cross-site POST", resp, http.StatusForbidden)
	})
	t.Run("with the token it works", func(t *testing.T) {
		tok := c.csrf("/pending")
		resp, _ := c.post("/receipts/"+n+"/resend", url.Values{"csrf": {tok}})
		wantStatus(t, "resend with token", resp, http.StatusSeeOther)
	})
}

func TestEscaping(t *testing.T) {
	f, _, c := setup(t, nil)
	n := f.named["script"]
	for _, p := range []string{"/pending", "/receipts", "/receipts/" + n, "/receipts?q=" + url.QueryEscape("<script>")} {
		t.Run(p, func(t *testing.T) {
			_, body := c.get(p)
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s does not show the subject as text", p)
			}
			for _, bad := range []string{"<script>alert(1)", "<img src=x", "<b>bold</b>", `href="javascript:`} {
				if strings.Contains(body, bad) {
					t.Errorf("%s contains %q unescaped", p, bad)
				}
			}
		})
	}
	_, body := c.get("/receipts/" + f.named["fanshi-link"])
	if strings.Contains(body, `href="javascript:`) || !strings.Contains(body, "javascript:alert(2)") {
		t.Error("a javascript: link from a mail is a link, or is not shown as text")
	}
}

func TestDownloads(t *testing.T) {
	f, _, c := setup(t, nil)
	n := f.named["xinfu-study"]
	t.Run("archived PDF", func(t *testing.T) {
		resp, body := c.get("/receipts/" + n + "/files/1")
		wantStatus(t, "PDF", resp, 200)
		if body != string(f.pdfs[n]) {
			t.Errorf("served %d bytes, want the archived %d", len(body), len(f.pdfs[n]))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("Content-Type %q", ct)
		}
		cd := resp.Header.Get("Content-Disposition")
		want := "filename*=UTF-8''" + url.PathEscape("忻府区学习贯彻全省职教大会精神情况简报.pdf")
		if !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, want) {
			t.Errorf("Content-Disposition %q, want attachment with %s", cd, want)
		}
	})
	t.Run("raw message", func(t *testing.T) {
		resp, body := c.get("/receipts/" + n + "/raw")
		wantStatus(t, "raw", resp, 200)
		if !strings.Contains(body, "raw message of "+n) || resp.Header.Get("Content-Type") != "message/rfc822" ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="`+n+`.eml"`) {
			t.Errorf("raw: %s %s %q", resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body)
		}
	})
	// A receipt whose stored path was tampered with: the archive must still refuse it.
	bad := f.named["wutai-partial"]
	if err := f.st.UpdateReceipt(bad, func(r *store.Receipt) error {
		r.Attachments[0].Archived = "../config.yaml"
		r.Raw = "../../config.yaml"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"/receipts/../../config.yaml",
		"/../../config.yaml",
		"/receipts/" + n + "/files/../../config.yaml",
		"/receipts/" + n + "/files/../../x",
		"/receipts/X/files/../../x",
		"/receipts/" + n + "/files/..%2f..%2fconfig.yaml",
		"/receipts/" + n + "/files/%2e%2e%2f%2e%2e%2fconfig.yaml",
		"/receipts/..%2f..%2fconfig.yaml/raw",
		"/receipts/%2e%2e/raw",
		"/receipts/" + n + "/files/0",
		"/receipts/" + n + "/files/2",
		"/receipts/" + n + "/files/-1",
		"/receipts/" + n + "/files/1.pdf",
		"/receipts/" + n + "/files/config.yaml",
		"/receipts/" + n + "//files/1",
		"/receipts/" + n + "/files/1/../../../../config.yaml",
		"/receipts/" + f.named["dingxiang-docx"] + "/files/1", // rejected: never archived
		"/receipts/" + f.named["ignored"] + "/raw",            // not archived
		"/receipts/" + bad + "/files/1",                       // tampered path
		"/receipts/" + bad + "/raw",
		"/static/../config.yaml",
		"/static/..%2fconfig.yaml",
	} {
		t.Run(p, func(t *testing.T) {
			resp, body := c.get(p)
			if resp.StatusCode != 404 && resp.StatusCode != 400 {
				t.Errorf("GET %s: status %d, want 404 or 400", p, resp.StatusCode)
			}
			if strings.Contains(body, "SECRET-CONFIG") || strings.Contains(body, "%PDF") {
				t.Errorf("GET %s served a file", p)
			}
		})
	}
}

func TestAssign(t *testing.T) {
	f, _, c := setup(t, nil)
	n := f.named["pending"]
	cellBefore := `data-unit="shenchi" data-period="zjdh-study/2022-01">未报送`
	_, body := c.get("/")
	if !strings.Contains(body, cellBefore) {
		t.Fatal("fixture: 神池 is not missing before the assign")
	}
	if !strings.Contains(body, `<b>3</b><span>待确认</span>`) {
		t.Error("overview does not count 3 pending mails")
	}
	tok := c.csrf("/pending")
	t.Run("unknown unit", func(t *testing.T) {
		resp, _ := c.post("/receipts/"+n+"/assign", url.Values{"csrf": {tok}, "unit": {"atlantis"}})
		wantStatus(t, "unknown unit", resp, http.StatusBadRequest)
		resp, _ = c.post("/receipts/"+n+"/assign", url.Values{"csrf": {tok}})
		wantStatus(t, "no unit", resp, http.StatusBadRequest)
	})
	t.Run("unknown receipt", func(t *testing.T) {
		resp, _ := c.post("/receipts/JB2022-9999/assign", url.Values{"csrf": {tok}, "unit": {"shenchi"}})
		wantStatus(t, "unknown receipt", resp, http.StatusNotFound)
	})
	resp, _ := c.post("/receipts/"+n+"/assign", url.Values{"csrf": {tok}, "unit": {"shenchi"}, "learn": {"1"}, "back": {"pending"}})
	wantStatus(t, "assign", resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/pending?done="+n {
		t.Errorf("Location %q", loc)
	}
	_, body = c.get(resp.Header.Get("Location"))
	if strings.Contains(body, `id="r-`+n+`"`) {
		t.Error("the assigned mail is still in 待确认")
	}
	if !strings.Contains(body, n+" 已分配给 神池县教育科技局") {
		t.Error("no confirmation after the assign")
	}
	_, body = c.get("/")
	if !strings.Contains(body, `data-unit="shenchi" data-period="zjdh-study/2022-01"><a href="/receipts/`+n+`"`) ||
		!strings.Contains(body, `>已报送</a>`) {
		t.Error("the matrix does not show 神池 as reported")
	}
	r, _ := f.st.Receipt(n)
	if r.Unit != "shenchi" || r.Campaign != "zjdh-study" || r.Period != "2022-01" || r.Match != "manual" {
		t.Errorf("receipt after assign: %s %s %s %s", r.Unit, r.Campaign, r.Period, r.Match)
	}
	if l, _ := f.st.Learned(); l["zhangsan1987@qq.com"] != "shenchi" {
		t.Errorf("address not learned: %v", l)
	}
	// The archived PDF moved from the unassigned folder to the unit's, and is still served.
	if want := f.arch.PDFPath("zjdh-study", "2022-01", "神池县教育科技局", n, 1); r.Attachments[0].Archived != want {
		t.Errorf("archived at %q, want %q", r.Attachments[0].Archived, want)
	}
	if left, _ := filepath.Glob(filepath.Join(f.arch.Root, "unassigned", "*", "*_"+n+"_*")); len(left) != 0 {
		t.Errorf("files left in the unassigned folder: %v", left)
	}
	if resp, body := c.get("/receipts/" + n + "/files/1"); resp.StatusCode != 200 || body != string(f.pdfs[n]) {
		t.Errorf("after the assign the PDF is not served (%d, %d bytes, want %d)", resp.StatusCode, len(body), len(f.pdfs[n]))
	}
	_, body = c.get("/units")
	if !strings.Contains(body, `<span class="mono">zhangsan1987@qq.com</span> <small>（指定单位时登记）</small>`) {
		t.Error("the learned address is not shown with its unit, marked as learned")
	}
	t.Run("assign error shown", func(t *testing.T) {
		// The address is registered to 神池 now: learning it for 代县 fails and says so.
		resp, body := c.post("/receipts/"+n+"/assign", url.Values{"csrf": {tok}, "unit": {"daixian"}, "learn": {"1"}})
		wantStatus(t, "conflicting learn", resp, http.StatusConflict)
		if !strings.Contains(body, "already registered") {
			t.Errorf("the error is not shown: %s", body)
		}
	})
	t.Run("from the receipt page", func(t *testing.T) {
		m := f.named["malformed"]
		resp, _ := c.post("/receipts/"+m+"/assign", url.Values{"csrf": {tok}, "unit": {"kelan"}})
		wantStatus(t, "assign", resp, http.StatusSeeOther)
		_, body := c.get(resp.Header.Get("Location"))
		if !strings.Contains(body, "已分配给 岢岚县教育科技局") {
			t.Error("no confirmation on the receipt page")
		}
	})
}

func TestActionsHiddenWhenNil(t *testing.T) {
	f, _, c := setup(t, func(o *Options) { o.ReadOnly, o.Password = true, "pw" })
	n := f.named["pending"]
	c.login("pw")
	for _, p := range []string{"/pending", "/receipts/" + n, "/"} {
		_, body := c.get(p)
		for _, w := range []string{"/assign", "/resend", "/export"} {
			if strings.Contains(body, w) {
				t.Errorf("%s shows %s without its callback", p, w)
			}
		}
	}
	tok := c.csrf("/")
	resp, _ := c.post("/receipts/"+n+"/assign", url.Values{"csrf": {tok}, "unit": {"shenchi"}})
	wantStatus(t, "assign", resp, 404)
	resp, _ = c.post("/receipts/"+n+"/resend", url.Values{"csrf": {tok}})
	wantStatus(t, "resend", resp, 404)
	resp, _ = c.get("/export?format=csv")
	wantStatus(t, "export", resp, 404)
}

func TestResend(t *testing.T) {
	f, _, c := setup(t, nil)
	n := f.named["fanshi-link"]
	before, _ := f.st.Outbox(nil)
	tok := c.csrf("/receipts/" + n)
	resp, _ := c.post("/receipts/"+n+"/resend", url.Values{"csrf": {tok}})
	wantStatus(t, "resend", resp, http.StatusSeeOther)
	_, body := c.get(resp.Header.Get("Location"))
	if !strings.Contains(body, "回执已重新排队发送") || !strings.Contains(body, "待发送") {
		t.Error("the receipt page does not show the queued reply")
	}
	after, _ := f.st.Outbox(nil)
	if len(after) != len(before)+1 {
		t.Errorf("outbox has %d items, want %d", len(after), len(before)+1)
	}
	resp, _ = c.post("/receipts/JB2022-9999/resend", url.Values{"csrf": {tok}})
	wantStatus(t, "unknown receipt", resp, 404)
	resp, _ = c.get("/receipts/" + n + "/resend")
	if resp.StatusCode != 404 && resp.StatusCode != 405 {
		t.Errorf("GET resend: %d", resp.StatusCode)
	}
}

func TestExport(t *testing.T) {
	_, _, c := setup(t, nil)
	_, body := c.get("/")
	if !strings.Contains(body, `href="/export?format=xlsx"`) {
		t.Error("no export button")
	}
	resp, body := c.get("/export?format=csv&campaign=zjdh-monthly")
	wantStatus(t, "export", resp, 200)
	cd := resp.Header.Get("Content-Disposition")
	if !strings.HasPrefix(cd, `attachment; filename="`) || !strings.Contains(cd, "filename*=UTF-8''"+url.PathEscape("简报收取情况_20220310.csv")) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !strings.Contains(body, "职业教育大会筹备召开情况月报") || strings.Contains(body, "定襄县学习贯彻情况") {
		t.Errorf("export is not the campaign's: %s", body)
	}
	for _, q := range []string{"format=pdf", "format=", "format=csv&campaign=nope"} {
		resp, _ := c.get("/export?" + q)
		wantStatus(t, q, resp, 400)
	}
}

func TestReceiptFilters(t *testing.T) {
	f, _, c := setup(t, func(o *Options) { o.PageSize = 4 })
	count := func(body string) int { return strings.Count(body, `<td data-label="回执编号" class="nowrap">`) }
	tests := []struct {
		query string
		want  int
		has   string
	}{
		{"", 4, ""},
		{"unit=daixian", 2, "代县简报（去掉密码）"},
		{"unit=none", 4, "fapiao888@example.com"},
		{"verdict=rejected", 3, "定襄县学习贯彻情况"},
		{"campaign=zjdh-monthly", 3, "原平市职业教育大会筹备"},
		{"campaign=none&verdict=malformed", 1, "li.si@163.com"},
		{"from=2022-02-01&to=2022-02-03", 3, "原平市关于学习贯彻"}, // 2 Feb 10:00, 3 Feb 09:15, 1 Feb 06:00
		{"to=2022-01-10", 1, f.named["xinfu-study"]},
		{"q=" + url.QueryEscape("情况汇报"), 1, "张三"},
		{"q=" + url.QueryEscape("原平1月"), 1, "原平市职业教育大会筹备"},
		{"q=ZHANGSAN1987", 1, "张三"},
		{"q=" + f.named["dingxiang-docx"], 1, "定襄县"},
		{"q=nothing-like-this", 0, "没有符合条件的邮件"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := c.get("/receipts?" + tc.query)
			wantStatus(t, tc.query, resp, 200)
			if got := count(body); got != tc.want {
				t.Errorf("%d rows, want %d", got, tc.want)
			}
			if !strings.Contains(body, tc.has) {
				t.Errorf("lacks %q", tc.has)
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		_, body := c.get("/receipts?verdict=accepted")
		if !strings.Contains(body, "共 8 封") || !strings.Contains(body, "第 1 / 2 页") ||
			!strings.Contains(body, `href="/receipts?verdict=accepted&amp;page=2"`) {
			t.Errorf("page 1 of accepted mail: %s", regexp.MustCompile(`(?s)<p class="hint">.*?</nav>`).FindString(body))
		}
		_, body = c.get("/receipts?verdict=accepted&page=2")
		if count(body) != 4 || !strings.Contains(body, `rel="prev"`) || strings.Contains(body, `rel="next"`) {
			t.Errorf("page 2: %d rows", count(body))
		}
		_, body = c.get("/receipts?verdict=accepted&page=999")
		if count(body) != 4 || !strings.Contains(body, "第 2 / 2 页") {
			t.Errorf("a page past the end shows %d rows, want the last page", count(body))
		}
	})
}

func TestHealth(t *testing.T) {
	f, _, c := setup(t, nil)
	resp, body := c.get("/healthz")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	resp, _ = c.get("/readyz")
	wantStatus(t, "/readyz", resp, 200)
	t.Run("every part running", func(t *testing.T) {
		_, _, c := setup(t, func(o *Options) {
			o.Health = func() Health {
				return Health{LastMailboxOK: f.now, Parts: []PartState{{Name: "mailbox watcher", Running: true}, {Name: "dashboard", Running: true, Failures: 1, LastError: "web: accept: too many open files"}}}
			}
		})
		resp, body := c.get("/readyz")
		wantStatus(t, "/readyz", resp, 200)
		if body != "ready\nmailbox watcher: running\ndashboard: running (1 failures, last: web: accept: too many open files)\n" {
			t.Errorf("/readyz says %q", body)
		}
	})
	resp, body = c.get("/metrics")
	wantStatus(t, "/metrics", resp, 200)
	for _, w := range []string{
		`briefd_mails_total{verdict="accepted"} 8`, `briefd_mails_total{verdict="ignored"} 3`, `briefd_mails_total{verdict="too_large"} 1`,
		"briefd_mailbox_errors_total 3", "briefd_mailbox_reconnects_total 1", "briefd_outbox_depth 2", "briefd_outbox_failed 0",
		"briefd_seconds_since_mailbox_ok 90.000", "briefd_receipts_unassigned 3", "# TYPE briefd_mails_total counter",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("/metrics Content-Type %q", ct)
	}

	for _, tc := range []struct {
		name string
		h    Health
		want string
	}{
		{"stale mailbox", Health{LastMailboxOK: f.now.Add(-20 * time.Minute)}, "last successful mailbox check 20m0s ago"},
		{"never checked", Health{}, "no successful mailbox check yet"},
		{"a part not running", Health{LastMailboxOK: f.now, Parts: []PartState{
			{Name: "mailbox watcher", Running: true},
			{Name: "outbox sender", Failures: 2, LastError: "smtp: connection refused"},
		}}, "not ready: outbox sender not running\nmailbox watcher: running\noutbox sender: not running (2 failures, last: smtp: connection refused)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, c := setup(t, func(o *Options) { o.Health = func() Health { return tc.h } })
			resp, body := c.get("/readyz")
			wantStatus(t, "/readyz", resp, 503)
			if !strings.Contains(body, tc.want) {
				t.Errorf("/readyz says %q, want %q", body, tc.want)
			}
			_, body = c.get("/metrics")
			if tc.h.LastMailboxOK.IsZero() && !strings.Contains(body, "briefd_seconds_since_mailbox_ok +Inf") {
				t.Error("no +Inf for a mailbox never checked")
			}
		})
	}
	t.Run("closed store", func(t *testing.T) {
		f, s, c := setup(t, nil)
		_ = s
		f.st.Close()
		resp, body := c.get("/readyz")
		wantStatus(t, "/readyz", resp, 503)
		if !strings.Contains(body, "store not readable") {
			t.Errorf("/readyz says %q", body)
		}
	})
}

func TestNewRefusesPublicWithoutPassword(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		listen, password string
		ok               bool
	}{
		{"", "", true},
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "", true},
		{"[::1]:8080", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"192.168.1.20:8080", "", false},
		{"0.0.0.0:8080", "pw", true},
		{"no-port", "", false},
	} {
		o := f.options()
		o.Listen, o.Password = tc.listen, tc.password
		_, err := New(o, f.st, f.arch, nil)
		if (err == nil) != tc.ok {
			t.Errorf("New(listen %q, password %q): %v, want ok=%v", tc.listen, tc.password, err, tc.ok)
		}
	}
}

func TestListenAndServe(t *testing.T) {
	f := newFixture(t)
	o := f.options()
	o.Listen = "127.0.0.1:0"
	s := f.server(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenAndServe after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ListenAndServe did not return after its context was cancelled")
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"简报.pdf", `attachment; filename="__.pdf"; filename*=UTF-8''%E7%AE%80%E6%8A%A5.pdf`},
		{"a\"b\r\nX-Evil: 1.pdf", `attachment; filename="a_bX-Evil__1.pdf"; filename*=UTF-8''a_bX-Evil__1.pdf`},
		{"../../etc/passwd", `attachment; filename="etc_passwd"; filename*=UTF-8''etc_passwd`},
	} {
		got := contentDisposition(tc.in)
		if strings.ContainsAny(got, "\r\n") || strings.Count(got, `"`) != 2 {
			t.Errorf("contentDisposition(%q) = %q: unsafe", tc.in, got)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("contentDisposition(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every page reads the store's index on each request: a change made elsewhere (the intake, `briefd
// assign`) shows on the next page, as does the dashboard's own action.
func TestPagesCurrent(t *testing.T) {
	f, _, c := setup(t, nil)
	cell := func() string {
		_, body := c.get("/")
		m := regexp.MustCompile(`data-unit="shenchi" data-period="zjdh-study/2022-01">(?:<a [^>]*>)?([^<]+)<`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no 神池 cell")
		}
		return m[1]
	}
	if got := cell(); got != "未报送" {
		t.Fatalf("before: %s", got)
	}
	n := f.named["pending"]
	if err := f.st.UpdateReceipt(n, func(r *store.Receipt) error {
		r.Unit, r.Campaign, r.Period, r.Match = "shenchi", "zjdh-study", "2022-01", "manual"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := cell(); got != "已报送" {
		t.Errorf("after a change elsewhere: %s, want 已报送", got)
	}
	if _, body := c.get("/pending"); strings.Contains(body, n) {
		t.Error("a receipt given a unit elsewhere is still on 待确认")
	}
	tok := c.csrf("/pending")
	resp, _ := c.post("/receipts/"+n+"/assign", url.Values{"csrf": {tok}, "unit": {"daixian"}})
	wantStatus(t, "assign", resp, http.StatusSeeOther)
	if got := cell(); got != "未报送" {
		t.Errorf("after the assign to 代县: %s, want 未报送", got)
	}
	_, body := c.get("/receipts?unit=daixian")
	if !strings.Contains(body, n) {
		t.Error("the receipt assigned to 代县 is not in its list")
	}
}

// 回执详情 shows the reply's text as the sender gets it, as text, when there is a reply.
func TestReplyText(t *testing.T) {
	compose := func(r *store.Receipt) (string, error) {
		return "您好：\n\n回执编号 " + r.Number + "\n主题：" + r.Subject + "\n<script>alert(2)</script>", nil
	}
	fail := func(r *store.Receipt) (string, error) { return "", errors.New("template broken") }
	for _, tc := range []struct {
		name    string
		fn      func(*store.Receipt) (string, error)
		receipt string // fixture name
		want    []string
		notWant []string
	}{
		{"shown", compose, "xinfu-study", []string{"<h3>回执正文</h3>", `<pre class="reply">您好：` + "\n\n回执编号 {n}\n",
			"&lt;script&gt;alert(2)&lt;/script&gt;</pre>"}, []string{"<script>alert(2)"}},
		{"suppressed", compose, "script", nil, []string{"回执正文"}},
		{"no reply", compose, "ignored", nil, []string{"回执正文"}},
		{"failed", fail, "xinfu-study", []string{"回执正文生成失败"}, []string{"<pre", "template broken"}},
		{"no composer", nil, "xinfu-study", nil, []string{"回执正文"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, c := setup(t, func(o *Options) { o.Office.(*countingOffice).replyText = tc.fn })
			n := f.named[tc.receipt]
			resp, body := c.get("/receipts/" + n)
			wantStatus(t, "GET", resp, 200)
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "{n}", n)
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

func TestReasonText(t *testing.T) {
	f, _, c := setup(t, nil)
	_, body := c.get("/receipts/" + f.named["daixian-encrypted"])
	if zh, _ := pdfcheck.ReasonText(pdfcheck.ReasonPassword); !strings.Contains(body, zh) {
		t.Errorf("the attachment's reason is not given in words (%s):\n%s", zh, body)
	}
}

// TestLetters: a unit's question waits on 来信待处理 with its text (escaped), is counted in the menu,
// and leaves when marked as dealt with; other ignored mail is on 其他来信, filterable by category.
func TestLetters(t *testing.T) {
	f, _, c := setup(t, nil)
	q := f.named["question"]
	_, body := c.get("/")
	if !strings.Contains(body, `来信待处理 <span class="count">1</span>`) {
		t.Error("the menu does not count 1 open question")
	}
	_, body = c.get("/letters")
	for _, want := range []string{"请问简报截止时间是哪天？", "请问学习贯彻简报的截止时间是哪天？", "五寨县教育科技局", `action="/receipts/` + q + `/answered"`,
		"&lt;script&gt;alert(9)&lt;/script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("/letters lacks %q", want)
		}
	}
	if strings.Contains(body, "代开发票") || strings.Contains(body, "<script>alert(9)") {
		t.Error("/letters shows what it must not")
	}
	_, body = c.get("/other")
	if !strings.Contains(body, "代开发票") || !strings.Contains(body, "Undelivered Mail") || strings.Contains(body, "请问简报截止") {
		t.Errorf("/other: %s", body)
	}
	_, body = c.get("/other?category=stranger")
	if !strings.Contains(body, "代开发票") || strings.Contains(body, "Undelivered Mail") {
		t.Error("/other?category=stranger does not filter")
	}
	tok := c.csrf("/letters")
	if resp, _ := c.post("/receipts/"+f.named["spam"]+"/answered", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("marking a stranger's mail as answered: %d, want 409", resp.StatusCode)
	}
	resp, _ := c.post("/receipts/"+q+"/answered", url.Values{"csrf": {tok}})
	wantStatus(t, "answered", resp, http.StatusSeeOther)
	_, body = c.get(resp.Header.Get("Location"))
	if !strings.Contains(body, q+" 已标记为已处理") || strings.Contains(body, `id="r-`+q+`"`) {
		t.Error("after marking, the question is still listed or not confirmed")
	}
	if r, _ := f.st.Receipt(q); r.Answered.IsZero() {
		t.Error("not recorded as answered")
	}
	_, body = c.get("/letters?all=1")
	if !strings.Contains(body, `id="r-`+q+`"`) || !strings.Contains(body, "已处理") {
		t.Error("/letters?all=1 does not show the answered question")
	}
}

// TestBookletDownloads: the overview offers each period's 简报汇编, built on request: a PDF a viewer
// opens, the zip of every file; an unknown period is a 404.
func TestBookletDownloads(t *testing.T) {
	_, _, c := setup(t, nil)
	_, body := c.get("/")
	if !strings.Contains(body, `href="/booklet/zjdh-study/2022-01.pdf"`) || !strings.Contains(body, "打包下载全部文件") {
		t.Fatal("the overview does not offer the booklet")
	}
	resp, pdf := c.get("/booklet/zjdh-study/2022-01.pdf")
	wantStatus(t, "booklet", resp, 200)
	if resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Errorf("booklet: %v, %d bytes", resp.Header, len(pdf))
	}
	if _, err := exec.LookPath("pdfinfo"); err == nil {
		f := filepath.Join(t.TempDir(), "b.pdf")
		os.WriteFile(f, []byte(pdf), 0o600)
		if out, err := exec.Command("pdfinfo", f).CombinedOutput(); err != nil {
			t.Errorf("pdfinfo refuses the booklet: %v\n%s", err, out)
		}
	}
	resp, z := c.get("/booklet/zjdh-study/2022-01.zip")
	wantStatus(t, "zip", resp, 200)
	zr, err := zip.NewReader(strings.NewReader(z), int64(len(z)))
	if err != nil || len(zr.File) < 2 {
		t.Errorf("zip: %v", err)
	}
	resp, _ = c.get("/booklet/zjdh-study/1999-01.pdf")
	wantStatus(t, "unknown period", resp, 404)
	resp, _ = c.get("/booklet/zjdh-study/2022-01.exe")
	wantStatus(t, "unknown kind", resp, 404)
}

// TestOverviewLatest: a unit that sent a corrected version shows both: the first receipt decides the
// state, the latest is linked as 更正版.
func TestOverviewLatest(t *testing.T) {
	f, _, c := setup(t, nil)
	_, body := c.get("/")
	if strings.Contains(body, "更正版") {
		t.Fatal("a correction before any was sent")
	}
	n := f.add(mail{at: bj(1, 20, 9, 0), from: "xinfu-jky@example.cn", subject: "忻府区学习贯彻简报（更正）", unit: "xinfu",
		campaign: "zjdh-study", period: "2022-01", verdict: store.VerdictAccepted, files: []store.Attachment{pdfFile("更正.pdf", 3)},
		reply: store.ReplySent, archive: true})
	_, body = c.get("/")
	if !strings.Contains(body, `<a class="latest" href="/receipts/`+n+`"`) || !strings.Contains(body, `href="/receipts/`+f.named["xinfu-study"]+`"`) {
		t.Errorf("the overview does not show the first receipt and the correction %s", n)
	}
}

// TestUndelivered: what failed for good in the last 7 days (a wrong SMTP password, an invalid robot key)
// is on the overview, newest first, with the answer; older failures and what was sent are not.
func TestUndelivered(t *testing.T) {
	f, _, c := setup(t, nil)
	now := f.now
	for _, it := range []*store.OutboxItem{
		{Kind: store.KindRobot, To: "职教科群", Subject: "summary", State: store.OutFailed, Created: now.Add(-time.Hour),
			LastError: "invalid webhook key: the robot was removed from the group or the key is wrong: code 93000"},
		{Kind: store.KindReply, To: "xinfu-jky@example.cn", State: store.OutFailed, Created: now.Add(-10 * 24 * time.Hour), LastError: "old failure"},
		{Kind: store.KindSummary, To: "head@example.cn", State: store.OutSent, Created: now.Add(-time.Hour)},
	} {
		if err := f.st.Enqueue(it); err != nil {
			t.Fatal(err)
		}
	}
	res, body := c.get("/")
	if res.StatusCode != 200 {
		t.Fatalf("overview: %d", res.StatusCode)
	}
	for _, want := range []string{"最近 7 天有 1 条消息发送失败", "群机器人消息 → 职教科群", "code 93000"} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "old failure") {
		t.Error("a failure older than 7 days is shown")
	}
}

// TestPeriodWords: a monthly campaign's periods are shown as 2022年2月, a once campaign's one period
// not at all (its title says it), on the overview and a receipt's page alike.
func TestPeriodWords(t *testing.T) {
	f, _, c := setup(t, nil)
	_, body := c.get("/")
	for _, w := range []string{`scope="col">2022年2月<small>截止 2022-02-28`, `scope="col"><small>截止 2022-01-31`} {
		if !strings.Contains(body, w) {
			t.Errorf("overview lacks %q", w)
		}
	}
	if strings.Contains(body, `scope="col">2022-0`) {
		t.Error("the overview shows a period's key")
	}
	rs, err := f.st.Receipts(func(r *store.Receipt) bool { return r.Campaign == "zjdh-study" })
	if err != nil || len(rs) == 0 {
		t.Fatalf("no receipt of the once campaign: %v", err)
	}
	_, body = c.get("/receipts/" + rs[0].Number)
	if !strings.Contains(body, "截止 2022-01-31") || strings.Contains(body, "第 ") {
		t.Errorf("receipt page of a once campaign: %s", body[strings.Index(body, "报送任务"):][:400])
	}
}
