package robot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/graphemes"
)

func TestTruncate(t *testing.T) {
	cjk := strings.Repeat("报送单位", 2000) // 3 bytes a character
	tests := []struct {
		name    string
		s       string
		limit   int
		measure func(string) int
	}{
		// 4096 - len(Suffix) = 4056 = 3*1352: the cut falls on a boundary; 4095 puts it inside a character.
		{"bytes on a boundary", cjk, 4096, byteLen},
		{"bytes inside a character", cjk, 4095, byteLen},
		{"bytes inside a character 2", cjk, 4094, byteLen},
		{"utf16 units", cjk, 5000, utf16Len},
		{"json bytes", strings.Repeat("引号\"与\\换行\n", 900), 3001, jsonLen},
		{"emoji sequence at the boundary", strings.Repeat("👨‍👩‍👧单位", 300), 2000, byteLen},
		{"combining marks at the boundary", strings.Repeat("e\u0301", 3000), 1001, byteLen},
		{"utf16 with astral characters", strings.Repeat("𠀀中", 3000), 5000, utf16Len},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.s, tc.limit, tc.measure)
			if !utf8.ValidString(got) {
				t.Fatalf("not valid UTF-8")
			}
			if n := tc.measure(got); n > tc.limit {
				t.Fatalf("measure %d over the limit %d", n, tc.limit)
			}
			if !strings.HasSuffix(got, Suffix) {
				t.Fatalf("does not end with the suffix: …%q", got[len(got)-20:])
			}
			kept := strings.TrimSuffix(got, Suffix)
			if !strings.HasPrefix(tc.s, kept) {
				t.Fatalf("kept text is not a prefix of the input")
			}
			// The cut is at a grapheme boundary of the input.
			boundary := false
			g := graphemes.FromString(tc.s)
			pos := 0
			for g.Next() {
				if pos == len(kept) {
					boundary = true
				}
				pos += len(g.Value())
			}
			if !boundary {
				t.Fatalf("cut at byte %d is not a grapheme boundary", len(kept))
			}
			// Nothing more would fit, except when it cut back to a line end.
			rest := tc.s[len(kept):]
			g = graphemes.FromString(rest)
			g.Next()
			if !strings.HasSuffix(kept, "\n") && tc.measure(kept+g.Value()+Suffix) <= tc.limit {
				t.Fatalf("cut too early: %q would still fit", g.Value())
			}
			if strings.HasSuffix(kept, "\n") && len(kept) < len(tc.s)/20 && tc.measure(kept) < tc.limit/2 {
				t.Fatalf("cut back to a line end too far: kept %d", tc.measure(kept))
			}
		})
	}
	if got := truncate("短", 10, byteLen); got != "短" {
		t.Errorf("short text changed: %q", got)
	}
}

func TestTruncatePrefersLineEnd(t *testing.T) {
	s := strings.Repeat("- 某某县第一职业中学\n", 300)
	got := truncate(s, 2048, byteLen)
	kept := strings.TrimSuffix(got, Suffix)
	if !strings.HasSuffix(kept, "\n") {
		t.Errorf("not cut at a line end: …%q", kept[len(kept)-30:])
	}
	if len(got) < 2048-len("- 某某县第一职业中学\n") {
		t.Errorf("cut too early: %d bytes", len(got))
	}
}

func TestCutTo(t *testing.T) {
	title := strings.Repeat("职", 100)
	got := cutTo(title, DingTalkTitleMax, utf16Len)
	if utf16Len(got) != DingTalkTitleMax || !strings.HasSuffix(got, "…") {
		t.Errorf("cutTo = %q (%d units)", got, utf16Len(got))
	}
}

// jsonLen must agree with what marshal writes, or Feishu bodies could exceed their limit.
func TestJSONLen(t *testing.T) {
	for _, s := range []string{
		"", "plain", "报送单位", `quote " and \ backslash`, "line\nbreak\r\ttab", "\b\f\x00\x01\x1f",
		"<html> & 'apos'", "\u2028\u2029", "👨‍👩‍👧", "\u007f\u0080\u00ff", "\uFFFD", "混合 mixed \"报\" \n",
	} {
		b, err := marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := jsonLen(s), len(b)-2; got != want {
			t.Errorf("jsonLen(%q) = %d, marshal writes %d (%s)", s, got, want, b)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\r\nb\rc", "a\nb\nc"},
		{"名\u202e字", "名字"},             // right-to-left override
		{"x\x00y\x1b[31mz", "xy[31mz"}, // control characters
		{"  trailing  \n  next ", "trailing\n  next"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"tab\there", "tab here"},
	}
	for _, tc := range tests {
		if got := cleanText(tc.in); got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := cleanLine("a\nb  c"); got != "a b c" {
		t.Errorf("cleanLine = %q", got)
	}
}

func TestPlainText(t *testing.T) {
	got := PlainText("### 标题\n**未报**：甲校\n> 引用\n[打开控制台](https://x.example/a)")
	want := "标题\n未报：甲校\n引用\n打开控制台 https://x.example/a"
	if got != want {
		t.Errorf("PlainText = %q, want %q", got, want)
	}
}

// The renderers' JSON shape, per kind and format, before any fake sees it.
func TestRenderShape(t *testing.T) {
	m := Message{Title: "报送周报", Markdown: "**甲**\n- 乙"}
	now := time.Unix(1700000000, 0)
	tests := []struct {
		kind   Kind
		format Format
		secret secret
		want   string
	}{
		{WeCom, FormatMarkdown, "", `{"msgtype":"markdown","markdown":{"content":"### 报送周报\n**甲**\n- 乙"}}`},
		{WeCom, FormatText, "", `{"msgtype":"text","text":{"content":"报送周报\n甲\n- 乙"}}`},
		{DingTalk, FormatMarkdown, "s", `{"msgtype":"markdown","markdown":{"title":"报送周报","text":"### 报送周报\n\n**甲**  \n- 乙"}}`},
		{DingTalk, FormatText, "", `{"msgtype":"text","text":{"content":"报送周报\n甲\n- 乙"}}`},
		{Feishu, FormatMarkdown, "", `{"msg_type":"interactive","card":{"config":{"wide_screen_mode":true},"header":{"title":{"tag":"plain_text","content":"报送周报"},"template":"blue"},"elements":[{"tag":"markdown","content":"**甲**\n- 乙"}]}}`},
		{Feishu, FormatText, "sec", `{"timestamp":"1700000000","sign":"` + feishuSign("sec", 1700000000) + `","msg_type":"text","content":{"text":"报送周报\n甲\n- 乙"}}`},
	}
	for _, tc := range tests {
		r := &Robot{kind: tc.kind, format: tc.format, secret: tc.secret}
		b, err := r.render(m, now)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s/%s:\n got %s\nwant %s", tc.kind, tc.format, b, tc.want)
		}
		if !json.Valid(b) {
			t.Errorf("%s/%s: invalid JSON", tc.kind, tc.format)
		}
	}
}

// The signatures against values computed by hand with openssl:
//
//	printf '1700000000000\nSECabc' | openssl dgst -sha256 -hmac 'SECabc' -binary | base64
//	printf '' | openssl dgst -sha256 -hmac "$(printf '1700000000\nSECabc')" -binary | base64
func TestSignatures(t *testing.T) {
	if got, want := dingTalkSign("SECabc", 1700000000000), "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM="; got != want {
		t.Errorf("dingTalkSign = %s, want %s", got, want)
	}
	if got, want := feishuSign("SECabc", 1700000000), "XprR1de+0SSBnwWyU/4k6x2TL+Q2SJlM5NNEdAv7MWg="; got != want {
		t.Errorf("feishuSign = %s, want %s", got, want)
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	l := newLimiter(WeCom)
	for i := range 20 {
		if d := l.reserve(t0.Add(time.Duration(i) * time.Second)); d != 0 {
			t.Fatalf("post %d refused: %s", i, d)
		}
	}
	// The 21st, at 20s: the first (at 0s) leaves the window at 60s.
	if d := l.reserve(t0.Add(20 * time.Second)); d != 40*time.Second {
		t.Fatalf("21st post: wait %s, want 40s", d)
	}
	if d := l.ready(t0.Add(60 * time.Second)); d != 0 {
		t.Fatalf("at 60s: wait %s, want 0", d)
	}
	if d := l.reserve(t0.Add(60 * time.Second)); d != 0 {
		t.Fatalf("at 60s refused: %s", d)
	}
	if d := l.reserve(t0.Add(60*time.Second + time.Millisecond)); d != time.Second-time.Millisecond {
		t.Fatalf("then: wait %s, want the second post's exit", d)
	}
	l.pause(t0.Add(10 * time.Minute))
	if d := l.ready(t0.Add(2 * time.Minute)); d != 8*time.Minute {
		t.Fatalf("paused: wait %s, want 8m", d)
	}

	f := newLimiter(Feishu)
	for i := range 5 {
		if d := f.reserve(t0.Add(time.Duration(i) * 10 * time.Millisecond)); d != 0 {
			t.Fatalf("feishu post %d refused", i)
		}
	}
	if d := f.reserve(t0.Add(50 * time.Millisecond)); d != 950*time.Millisecond {
		t.Fatalf("feishu 6th in a second: wait %s, want 950ms", d)
	}
}

func TestSecretTypesPrintMasked(t *testing.T) {
	s := secret("SECvalue")
	u, _ := url.Parse("https://open.feishu.cn/open-apis/bot/v2/hook/HOOKvalue")
	h := hookURL{u: u, kind: Feishu}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s, "url", h)
	outs := []string{fmt.Sprint(s), fmt.Sprintf("%#v %+v %q %x %d", s, s, s, s, s), fmt.Sprint(h),
		fmt.Sprintf("%#v %+v %q %x", h, h, h, h), logged.String()}
	for _, out := range outs {
		if strings.Contains(out, "value") {
			t.Errorf("leaks: %s", out)
		}
	}
	if !strings.Contains(logged.String(), `"url":"https://open.feishu.cn/open-apis/bot/v2/hook/****"`) {
		t.Errorf("log: %s", logged.String())
	}
}
