package robot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/graphemes"
)

// Message is what a robot posts, independent of the service: a short title and a body in the markdown
// all three services render (bold, links, lines, "- " lists; no headings, tables or HTML in the body).
// Text, when set, is the plain-text body for FormatText; when empty it is derived from Markdown.
// A Message marshals to JSON, to be kept in the outbox and rendered when sent.
type Message struct {
	Title    string `json:"title"`
	Markdown string `json:"markdown"`
	Text     string `json:"text,omitempty"`
}

// Suffix ends content cut at a service's size limit.
const Suffix = "…（完整内容见邮件/控制台）"

// The services' size limits, as their documentation gives them (see the package doc).
const (
	// WeComMarkdownMax is the most bytes (UTF-8) of a WeCom markdown.content.
	WeComMarkdownMax = 4096
	// WeComTextMax is the most bytes (UTF-8) of a WeCom text.content.
	WeComTextMax = 2048
	// DingTalkTextMax is the most characters (UTF-16 units, as DingTalk's Java counts) of a DingTalk
	// markdown.text or text.content. The robot page gives no limit; this is the closest documented
	// one (global error 34016: markdown ≤ 5000), a conservative bound.
	DingTalkTextMax = 5000
	// DingTalkTitleMax is the most characters of a DingTalk markdown.title (same source: title ≤ 64).
	DingTalkTitleMax = 64
	// FeishuBodyMax is the most bytes of a whole Feishu request body. Documented: 20 KB; we stay under
	// 20 000 bytes whichever KB is meant.
	FeishuBodyMax = 20000
	// feishuTitleMax bounds the card's header; Feishu documents no limit, a header is one line.
	feishuTitleMax = 100
)

// render is the JSON body for the robot's service and format, within its limits.
func (r *Robot) render(m Message, now time.Time) ([]byte, error) {
	title := cleanLine(m.Title)
	if title == "" {
		title = "briefd"
	}
	md := cleanText(m.Markdown)
	text := cleanText(m.Text)
	if text == "" {
		text = PlainText(md)
	}
	var body []byte
	var err error
	switch r.kind {
	case WeCom:
		body, err = renderWeCom(r.format, title, md, text)
	case DingTalk:
		body, err = renderDingTalk(r.format, title, md, text)
	case Feishu:
		ts, sign := "", ""
		if r.secret != "" {
			s := now.Unix()
			ts, sign = strconv.FormatInt(s, 10), feishuSign(string(r.secret), s)
		}
		body, err = renderFeishu(r.format, title, md, text, ts, sign)
	default:
		return nil, fmt.Errorf("unknown kind %q", r.kind)
	}
	if err != nil {
		return nil, fmt.Errorf("render the message: %w", err)
	}
	return body, nil
}

type wecomContent struct {
	Content string `json:"content"`
}

func renderWeCom(f Format, title, md, text string) ([]byte, error) {
	if f == FormatText {
		c := truncate(title+"\n"+text, WeComTextMax, byteLen)
		return marshal(struct {
			MsgType string       `json:"msgtype"`
			Text    wecomContent `json:"text"`
		}{"text", wecomContent{c}})
	}
	c := truncate("### "+title+"\n"+md, WeComMarkdownMax, byteLen)
	return marshal(struct {
		MsgType  string       `json:"msgtype"`
		Markdown wecomContent `json:"markdown"`
	}{"markdown", wecomContent{c}})
}

func renderDingTalk(f Format, title, md, text string) ([]byte, error) {
	if f == FormatText {
		c := truncate(title+"\n"+text, DingTalkTextMax, utf16Len)
		return marshal(struct {
			MsgType string       `json:"msgtype"`
			Text    wecomContent `json:"text"`
		}{"text", wecomContent{c}})
	}
	// DingTalk shows markdown.title only in the chat list, so the message repeats it as a heading. A
	// single newline does not break a line in DingTalk's markdown: two spaces before it do.
	c := truncate("### "+title+"\n\n"+strings.ReplaceAll(md, "\n", "  \n"), DingTalkTextMax, utf16Len)
	type markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	return marshal(struct {
		MsgType  string   `json:"msgtype"`
		Markdown markdown `json:"markdown"`
	}{"markdown", markdown{cutTo(title, DingTalkTitleMax, utf16Len), c}})
}

// Feishu: a custom robot's "post" (rich text) is built of text/a/at/img tags and does not render
// markdown; a message card ("interactive") with a "markdown" element does. Posts use the card.
type feishuBody struct {
	Timestamp string      `json:"timestamp,omitempty"`
	Sign      string      `json:"sign,omitempty"`
	MsgType   string      `json:"msg_type"`
	Content   *feishuText `json:"content,omitempty"`
	Card      *feishuCard `json:"card,omitempty"`
}

type feishuText struct {
	Text string `json:"text"`
}

type feishuCard struct {
	Config struct {
		WideScreenMode bool `json:"wide_screen_mode"`
	} `json:"config"`
	Header struct {
		Title    feishuPlain `json:"title"`
		Template string      `json:"template"`
	} `json:"header"`
	Elements []feishuPlain `json:"elements"`
}

type feishuPlain struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

func renderFeishu(f Format, title, md, text, ts, sign string) ([]byte, error) {
	b := feishuBody{Timestamp: ts, Sign: sign}
	var content *string
	if f == FormatText {
		b.MsgType = "text"
		b.Content = &feishuText{}
		content, text = &b.Content.Text, title+"\n"+text
	} else {
		b.MsgType = "interactive"
		c := &feishuCard{}
		c.Config.WideScreenMode = true
		c.Header.Title = feishuPlain{Tag: "plain_text", Content: cutTo(title, feishuTitleMax, runeLen)}
		c.Header.Template = "blue"
		c.Elements = []feishuPlain{{Tag: "markdown"}}
		b.Card = c
		content, text = &c.Elements[0].Content, md
	}
	// The limit is on the whole body: what is left for the content, counted as JSON writes it.
	empty, err := marshal(b)
	if err != nil {
		return nil, err
	}
	*content = truncate(text, FeishuBodyMax-len(empty), jsonLen)
	body, err := marshal(b)
	if err != nil {
		return nil, err
	}
	if len(body) > FeishuBodyMax {
		return nil, fmt.Errorf("feishu body of %d bytes is over %d after cutting (a bug)", len(body), FeishuBodyMax)
	}
	return body, nil
}

// marshal is json.Marshal without HTML escaping (the services take UTF-8 JSON as it is).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// dingTalkSign is DingTalk's signature: Base64(HMAC-SHA256(key=secret, msg=timestamp+"\n"+secret)),
// timestamp in milliseconds. It goes into the query, percent-encoded.
func dingTalkSign(secret string, tsMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(tsMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// feishuSign is Feishu's signature: Base64(HMAC-SHA256(key=timestamp+"\n"+secret, msg="")), timestamp
// in seconds. It goes into the body.
func feishuSign(secret string, tsSeconds int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(tsSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// truncate returns s when measure(s) ≤ limit, else the longest prefix of s that ends at a grapheme
// boundary (never inside a character, nor between a base and its combining marks or inside an emoji
// sequence) and, followed by Suffix, measures at most limit. When a line break falls in the second
// half of the kept text it cuts there, so that a line's markdown is not left half open.
func truncate(s string, limit int, measure func(string) int) string {
	if measure(s) <= limit {
		return s
	}
	kept := prefix(s, limit-measure(Suffix), measure)
	if i := strings.LastIndexByte(kept, '\n'); i >= len(kept)/2 && i > 0 {
		kept = kept[:i+1]
	}
	return kept + Suffix
}

// cutTo is truncate for short fields (titles), ending in "…".
func cutTo(s string, limit int, measure func(string) int) string {
	if measure(s) <= limit {
		return s
	}
	return prefix(s, limit-measure("…"), measure) + "…"
}

// prefix is the longest prefix of s ending at a grapheme boundary with measure ≤ budget. The measures
// are additive over graphemes.
func prefix(s string, budget int, measure func(string) int) string {
	if budget <= 0 {
		return ""
	}
	g := graphemes.FromString(s)
	n, end := 0, 0
	for g.Next() {
		n += measure(g.Value())
		if n > budget {
			break
		}
		end += len(g.Value())
	}
	return s[:end]
}

func byteLen(s string) int { return len(s) }

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// utf16Len counts UTF-16 units: what Java's String.length() says.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// jsonLen is the length of s inside a JSON string as marshal writes it (without the quotes).
func jsonLen(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t' || r == '\b' || r == '\f':
			n += 2
		case r < 0x20 || r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += utf8.RuneLen(r) // RuneError from invalid bytes is written as \ufffd: cleanText removes them
		}
	}
	return n
}

// cleanText makes text safe to post: valid UTF-8, \n line ends, no control or bidi-override
// characters (a right-to-left override could disguise a name or link), no trailing spaces.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			return '\n'
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\uFEFF':
			return -1
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// cleanLine is cleanText on one line: line breaks become spaces.
func cleanLine(s string) string {
	return strings.Join(strings.Fields(cleanText(s)), " ")
}

var (
	mdLink    = regexp.MustCompile(`\[([^\]\n]*)\]\(([^)\s]*)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} +`)
	mdQuote   = regexp.MustCompile(`(?m)^> ?`)
)

// PlainText is markdown in the subset Message uses, as plain text: **bold** loses its stars, a link
// [text](url) becomes "text url", headings and quotes lose their marks.
func PlainText(md string) string {
	s := mdLink.ReplaceAllString(md, "$1 $2")
	s = strings.ReplaceAll(s, "**", "")
	s = mdHeading.ReplaceAllString(s, "")
	s = mdQuote.ReplaceAllString(s, "")
	return s
}
