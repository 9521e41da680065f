package notify

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"

	"briefd/internal/mailtest"
	"briefd/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// corpus is one receipt per kind of reply. Their order fixes receipt numbers and outbox ids.
func corpus() []struct {
	name string
	r    *store.Receipt
} {
	return []struct {
		name string
		r    *store.Receipt
	}{
		{"accepted", &store.Receipt{MessageID: "<20260120093000.A1B2@mail.example.cn>", From: "xinfu-jky@example.cn", FromName: "忻府区教科局 李明",
			Subject: "忻府区学习贯彻全省职教大会精神情况简报", Unit: "xinfu", Match: "address", Campaign: "zjdh-study", Period: "2026-01",
			Verdict: store.VerdictAccepted, Auth: "pass", Attachments: []store.Attachment{pdf("忻府区简报.pdf", 4)}}},
		{"partial", &store.Receipt{MessageID: "<tencent_77@qq.com>", From: "xinfu-jky@example.cn",
			Subject: "2026年1月职业教育大会筹备情况", Unit: "xinfu", Match: "address", Campaign: "zjdh-monthly", Period: "2026-01", Late: true,
			Verdict: store.VerdictPartial, Attachments: []store.Attachment{pdf("简报.pdf", 2), bad("简报.docx", "docx", "not_pdf_word")}}},
		{"rejected", &store.Receipt{MessageID: "<r1@example.cn>", From: "dx@example.cn", Subject: "定襄县简报",
			Unit: "dingxiang", Match: "address", Campaign: "zjdh-study", Period: "2026-01", Verdict: store.VerdictRejected,
			Attachments: []store.Attachment{bad("扫描件.jpg", "image", "image"), bad("简报.pdf", "pdf", "pdf_password"), bad("x.bin", "other", "weird_code")}}},
		{"no_attachment", &store.Receipt{MessageID: "<n1@example.cn>", From: "dx@example.cn", Subject: "定襄县简报",
			Unit: "dingxiang", Match: "address", Campaign: "zjdh-study", Period: "2026-01", Verdict: store.VerdictNoAttachment}},
		{"cloud_link", &store.Receipt{MessageID: "<c1@example.cn>", From: "dx@example.cn", Subject: "定襄县简报（超大附件）",
			Unit: "dingxiang", Match: "address", Verdict: store.VerdictNoAttachment, Links: []string{"https://mail.163.com/large-attachment-download/index.html?p=X"}}},
		{"too_large", &store.Receipt{MessageID: "<t1@example.cn>", From: "dx@example.cn", Subject: "定襄县简报",
			Unit: "dingxiang", Match: "address", Verdict: store.VerdictTooLarge, Size: 75_900_000}},
		{"duplicate", &store.Receipt{MessageID: "<d1@example.cn>", From: "xinfu-jky@example.cn", Subject: "忻府区简报（重发）",
			Unit: "xinfu", Match: "address", Campaign: "zjdh-study", Period: "2026-01", Verdict: store.VerdictAccepted, DuplicateOf: "JB2026-0001",
			Attachments: []store.Attachment{{Filename: "忻府区简报.pdf", Size: 245_000, Kind: "pdf", Verdict: "ok", Pages: 4, DuplicateOf: "JB2026-0001"}}}},
		{"unregistered", &store.Receipt{MessageID: "<u1@qq.com>", From: "12345678@qq.com", FromName: "张三<script>alert(1)</script>",
			Subject: "简报", Match: "none", Verdict: store.VerdictAccepted, Attachments: []store.Attachment{pdf("简报 & <附件>.pdf", 3)}}},
		{"tentative", &store.Receipt{MessageID: "<te1@163.com>", From: "dxjy2026@163.com", Subject: "定襄县教育局学习贯彻全省职教大会精神情况简报",
			Unit: "dingxiang", Match: "name", Campaign: "zjdh-study", Period: "2026-01", Verdict: store.VerdictAccepted, Attachments: []store.Attachment{pdf("定襄.pdf", 6)}}},
		{"auth_fail", &store.Receipt{MessageID: "<af@example.cn>", From: "xinfu-jky@example.cn", Subject: "简报", Unit: "xinfu", Match: "address",
			Auth: "fail", Campaign: "zjdh-study", Period: "2026-01", Verdict: store.VerdictAccepted, Attachments: []store.Attachment{pdf("a.pdf", 1)}}},
		{"malformed", &store.Receipt{From: "dx@example.cn", Unit: "dingxiang", Match: "address", Verdict: store.VerdictMalformed}},
		{"bad_input", &store.Receipt{MessageID: "no-angle-brackets and spaces", From: "weird@example.cn",
			FromName: "王\r\nBcc: evil@attacker.example\x00\xd6\xd0\xce\xc4\u202e", Subject: strings.Repeat("长\r\nX-Evil: 1 ", 1000)[:10000],
			Match: "none", Verdict: store.VerdictRejected, Attachments: []store.Attachment{bad("a\r\nb.doc", "doc", "not_pdf_word")}}},
	}
}

// TestReplyGolden composes the reply to each receipt of the corpus as the outbox sends it (for its
// outbox item) and compares the message with testdata/replies/<name>.eml (exact bytes) and a readable
// rendering with <name>.txt. Run with -update to rewrite them. That the outbox sends exactly these bytes
// is outbox's TestReplySent.
func TestReplyGolden(t *testing.T) {
	e := newEnv(t, nil)
	cs := corpus()
	nums := map[string]string{}
	for _, c := range cs {
		nums[c.name] = e.record(t, c.r)
	}
	items := map[string]uint64{}
	for _, it := range e.items(t) {
		items[it.Receipt] = it.ID
	}
	for _, c := range cs {
		t.Run(c.name, func(t *testing.T) {
			r := e.receipt(t, nums[c.name])
			msg, err := e.n.Reply(r, items[r.Number], false)
			if err != nil {
				t.Fatal(err)
			}
			checkReply(t, e.n, r, msg)
			golden(t, filepath.Join("testdata", "replies", c.name+".eml"), msg)
			golden(t, filepath.Join("testdata", "replies", c.name+".txt"), []byte(mailtest.Render(t, msg)))
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update and review the diff):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d\nwant: %q\ngot:  %q", i+1, w, g)
		}
	}
	return ""
}

// checkReply parses a reply back with net/mail and go-message and checks what every reply must have.
func checkReply(t *testing.T, n *Notifier, r *store.Receipt, raw []byte) {
	t.Helper()
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 || !isPrintableASCII(strings.ReplaceAll(line, "\t", " ")) {
			t.Errorf("header line not short printable ASCII: %q", line)
		}
	}
	if bytes.Contains(raw, []byte("\n")) && bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
		t.Error("bare LF in message")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail: %v", err)
	}
	h := msg.Header
	allowed := map[string]bool{"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true, "In-Reply-To": true,
		"References": true, "Auto-Submitted": true, "X-Auto-Response-Suppress": true, "Mime-Version": true, "Content-Type": true}
	for k, v := range h {
		if !allowed[k] || len(v) != 1 {
			t.Errorf("unexpected header %s: %q", k, v)
		}
	}
	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Address != officeAddr || from.Name != "忻州市教育局职业教育科" {
		t.Errorf("From %q: %v %v", h.Get("From"), from, err)
	}
	to, err := mail.ParseAddressList(h.Get("To"))
	if err != nil || len(to) != 1 || to[0].Address != r.From {
		t.Errorf("To %q: %v %v; want only %s", h.Get("To"), to, err, r.From)
	}
	if to != nil && strings.ContainsAny(to[0].Name, "\r\n\x00") {
		t.Errorf("To name has controls: %q", to[0].Name)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || !strings.HasPrefix(subj, "回执：已收到") || !strings.HasSuffix(subj, "（编号 "+r.Number+"）") {
		t.Errorf("Subject %q (%v)", subj, err)
	}
	if n := len([]rune(subj)); n > 80 {
		t.Errorf("Subject is %d characters long", n)
	}
	if h.Get("Auto-Submitted") != "auto-replied" || h.Get("X-Auto-Response-Suppress") != "All" || h.Get("Mime-Version") != "1.0" {
		t.Error("Auto-Submitted / X-Auto-Response-Suppress / MIME-Version missing")
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	id := h.Get("Message-Id")
	if !n.OwnMessageID(id) || !strings.HasPrefix(id, "<"+r.Number+".") {
		t.Errorf("Message-ID %q not ours", id)
	}
	if want, ok := normalizeMsgID(r.MessageID); ok {
		if h.Get("In-Reply-To") != want || h.Get("References") != want {
			t.Errorf("In-Reply-To %q References %q; want %q", h.Get("In-Reply-To"), h.Get("References"), want)
		}
	} else if h.Get("In-Reply-To") != "" || h.Get("References") != "" {
		t.Errorf("In-Reply-To/References for malformed original %q", r.MessageID)
	}

	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message: %v", err)
	}
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		ct, params, _ := p.Header.(*gomail.InlineHeader).ContentType()
		types = append(types, ct+";"+params["charset"])
		body, _ := io.ReadAll(p.Body)
		if !strings.Contains(string(body), r.Number) {
			t.Errorf("%s part lacks the receipt number", ct)
		}
		if ct == "text/html" && (strings.Contains(string(body), "<script>") || strings.Contains(string(body), "<附件>")) {
			t.Error("HTML part has unescaped mail-derived text")
		}
		if r.Auth == "fail" && !strings.Contains(string(body), "发件人未通过验证") {
			t.Errorf("%s part lacks 发件人未通过验证", ct)
		}
	}
	if strings.Join(types, ",") != "text/plain;UTF-8,text/html;UTF-8" {
		t.Errorf("parts %v; want text/plain and text/html in UTF-8", types)
	}
}

// TestComposeVariants checks that each variant says what it must (independent of the golden files).
func TestComposeVariants(t *testing.T) {
	e := newEnv(t, nil)
	want := map[string][]string{
		"accepted":      {"忻府区教育科技局：", "结果：已接收", "忻府区简报.pdf（239 KB）：已接收，可以打开，共 4 页", "学习贯彻全省职教大会精神情况简报", "截止日期 2026年1月31日", "记为按时报送", "王老师", "2026年1月20日 09:59（北京时间）"},
		"partial":       {"部分接收", "1个附件已接收，1个附件无法使用", "Word中选择", "（2026年1月），截止日期 2026年1月31日", "记为逾期报送"},
		"rejected":      {"未接收", "扫描为PDF", "去除密码", "原因：weird_code", "请在截止日期前重新发送"},
		"no_attachment": {"没有附件，是否忘记添加了"},
		"cloud_link":    {"云附件", "直接添加为附件"},
		"too_large":     {"约 72.4 MB", "上限（60 MB）"},
		"duplicate":     {"回执编号 JB2026-0001）相同", "与回执 JB2026-0001 中的文件相同"},
		"unregistered":  {"张三<script>", "尚未登记为报送单位的邮箱", "人工确认"},
		"tentative":     {"暂记为定襄县教育局报送", "定襄县教育局："},
		"auth_fail":     {"发件人未通过验证"},
		"malformed":     {"格式有误"},
		"bad_input":     {"王 Bcc: evil@attacker.example"},
	}
	for _, c := range corpus() {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			r.Number = "JB2026-0001"
			r.Received = e.clk.Now().Add(-time.Minute)
			d := e.n.replyData(r)
			var text bytes.Buffer
			if err := e.n.textTmpl.Execute(&text, d); err != nil {
				t.Fatal(err)
			}
			for _, w := range want[c.name] {
				if !strings.Contains(text.String(), w) {
					t.Errorf("text lacks %q:\n%s", w, text.String())
				}
			}
			if r.Auth != "fail" && strings.Contains(text.String(), "未通过验证") {
				t.Error("verification warning without auth fail")
			}
		})
	}
}

// TestBadInput: hostile header values give a well-formed reply with no injected header.
func TestBadInput(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		name string
		r    store.Receipt
	}{
		{"gbk and controls in from name", store.Receipt{From: "a@example.cn", FromName: "=?GBK?B?1tDOxA==?= \x01\x1b[31m\r\n\tX-Injected: yes\xd6\xd0"}},
		{"subject of 10000 characters", store.Receipt{From: "a@example.cn", Subject: strings.Repeat("很长的标题", 2000)}},
		{"subject with CRLF", store.Receipt{From: "a@example.cn", Subject: "简报\r\nBcc: x@evil.example\r\n\r\nbody"}},
		{"missing message-id", store.Receipt{From: "a@example.cn"}},
		{"message-id with CRLF", store.Receipt{From: "a@example.cn", MessageID: "<a@b>\r\nBcc: x@evil.example"}},
		{"message-id without @", store.Receipt{From: "a@example.cn", MessageID: "<abc>"}},
		{"message-id without brackets", store.Receipt{From: "a@example.cn", MessageID: "abc@example.cn"}},
		{"message-id two @", store.Receipt{From: "a@example.cn", MessageID: "<a@b@c>"}},
		{"message-id non-ascii", store.Receipt{From: "a@example.cn", MessageID: "<简报@example.cn>"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			r.Number, r.Received, r.Match, r.Verdict = "JB2026-0042", e.clk.Now(), "none", store.VerdictNoAttachment
			msg, err := e.n.ComposeReply(&r)
			if err != nil {
				t.Fatal(err)
			}
			checkReply(t, e.n, &r, msg)
			m, _ := mail.ReadMessage(bytes.NewReader(msg))
			if m.Header.Get("Bcc") != "" || m.Header.Get("X-Injected") != "" {
				t.Error("header injected")
			}
		})
	}
	if got, _ := normalizeMsgID("abc@example.cn"); got != "<abc@example.cn>" {
		t.Errorf("brackets not added: %q", got)
	}
}

func TestTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reply.txt.tmpl"), []byte("自定义 {{.Number}} {{.Greeting}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.TemplateDir = dir })
	msg, err := e.n.ComposeReply(&store.Receipt{Number: "JB2026-0009", From: "a@example.cn", Match: "none", Received: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mailtest.Render(t, msg), "自定义 JB2026-0009 a@example.cn") {
		t.Errorf("override not used:\n%s", mailtest.Render(t, msg))
	}
	if !strings.Contains(mailtest.Render(t, msg), "text/html") {
		t.Error("html part should still come from the embedded template")
	}

	if err := os.WriteFile(filepath.Join(dir, "reply.html.tmpl"), []byte("{{.NoSuchField}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{Office: testOffice(), TemplateDir: dir}, nil)
	if err == nil || !strings.Contains(err.Error(), "NoSuchField") {
		t.Errorf("broken override: %v; want an error naming the field", err)
	}
}

func TestMessageIDStable(t *testing.T) {
	e := newEnv(t, nil)
	r := &store.Receipt{Number: "JB2026-0012", MessageID: "<x@y>"}
	a, b, c := e.n.MessageID(r, 7), e.n.MessageID(r, 7), e.n.MessageID(r, 8)
	if a != b || a == c {
		t.Errorf("ids %s %s %s: want stable per item, different across items", a, b, c)
	}
	if !strings.HasPrefix(a, "<JB2026-0012.7.") || !strings.HasSuffix(a, "@briefd.example.cn>") || !e.n.OwnMessageID(a) {
		t.Errorf("id %s", a)
	}
	if e.n.OwnMessageID("<abc@example.cn>") {
		t.Error("foreign id taken for ours")
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"忻府区\r\n教育局", "忻府区 教育局"},
		{"\xd6\xd0\xce\xc4", "中文"},              // raw GBK
		{"王\x00\xd6\xd0\xce\xc4 简报", "王 中文 简报"}, // UTF-8 and GBK mixed
		{"a\u202eb\u200bc", "a b c"},            // bidi override and zero-width space
		{"  x\t\ty  ", "x y"},
		{strings.Repeat("长", 50), strings.Repeat("长", 39) + "…"},
	} {
		if got := Clean(c.in, 40); got != c.want {
			t.Errorf("Clean(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	if got := displayName("=?GBK?B?1tDOxA==?= \x01Li"); got != "中文 Li" {
		t.Errorf("displayName = %q", got)
	}
}
