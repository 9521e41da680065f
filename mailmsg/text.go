package mailmsg

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file keeps the start of what the sender wrote (Message.Text): the first plain-text body, else the
// first HTML body as text.

var (
	htmlDropRe  = regexp.MustCompile(`(?is)<(script|style|head|title)\b.*?</(script|style|head|title)\s*>|<!--.*?-->`)
	htmlBreakRe = regexp.MustCompile(`(?i)<(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>`)
	htmlTagRe   = regexp.MustCompile(`<[A-Za-z/!][^>]*>`)
	blankRunRe  = regexp.MustCompile(`\n[ \t\x{3000}\x{a0}]*(\n[ \t\x{3000}\x{a0}]*)+`)
)

// htmlText is the text a person reads of an HTML body: no scripts, styles or tags, entities decoded,
// a line break for each break, paragraph or cell.
func htmlText(s string) string {
	s = htmlDropRe.ReplaceAllString(s, "")
	s = htmlBreakRe.ReplaceAllString(s, "\n")
	s = htmlTagRe.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}

// plainText tidies a body for display: line ends as LF, no control characters, runs of blank lines as
// one, trimmed, at most maxText bytes cut at a rune.
func plainText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = blankRunRe.ReplaceAllString(s, "\n\n")
	s = strings.TrimSpace(s)
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// maxText bounds the text kept of a message (Message.Text), in raw bytes read and in UTF-8 kept.
const maxText = 8 << 10

// textCapture keeps the first maxText bytes written to it.
type textCapture struct {
	charset string
	buf     []byte
}

func (c *textCapture) Write(b []byte) (int, error) {
	if room := maxText - len(c.buf); room > 0 {
		c.buf = append(c.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}
