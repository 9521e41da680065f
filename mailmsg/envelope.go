package mailmsg

import (
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// This file reads the envelope fields of the top-level header: From (address and display name), Subject,
// Date, Message-ID, In-Reply-To and References, each as leniently as real mailers need.

// envelope fills the Message's From, Subject, Date, ids and Auth from the top-level header.
func (p *parser) envelope(h textproto.Header) {
	m := p.msg
	m.From, m.FromName = parseFrom(h.Get("From"))
	m.Subject = DecodeHeader(h.Get("Subject"))
	m.Date = parseDate(h.Get("Date"))
	if raw := h.Get("Message-Id"); raw != "" {
		m.MessageID = parseMessageID(raw)
		if m.MessageID == "" {
			p.problem("malformed Message-ID %q ignored", truncate(raw, 100))
		}
	}
	if ids := msgIDs(h.Get("In-Reply-To"), 1); len(ids) > 0 {
		m.InReplyTo = ids[0]
	}
	m.References = msgIDs(h.Get("References"), maxIDs)
	m.Auth = authResult(h, p.opts.AuthServIDs)
}

// parseFrom returns the first address (lowercased) and decoded display name of a From value.
func parseFrom(raw string) (addr, name string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", ""
	}
	inQuote, esc, depth := false, false, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"' && depth == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			end := strings.IndexByte(raw[i:], '>')
			a := raw[i+1:]
			if end >= 0 {
				a = raw[i+1 : i+end]
			}
			return normAddr(a), displayName(raw[:i])
		case c == ',':
			raw = raw[:i]
		}
	}
	// No angle brackets: "user@host (Name)" or a bare address.
	name = ""
	if o := strings.IndexByte(raw, '('); o >= 0 {
		if c := strings.LastIndexByte(raw, ')'); c > o {
			name = displayName(raw[o+1 : c])
		}
		raw = raw[:o]
	}
	for _, f := range strings.Fields(raw) {
		if strings.Contains(f, "@") {
			return normAddr(f), name
		}
	}
	return normAddr(raw), name
}

func normAddr(a string) string {
	a = strings.TrimSpace(a)
	a = strings.TrimPrefix(strings.TrimPrefix(a, "mailto:"), "MAILTO:")
	a = strings.Trim(a, "<>\"' ")
	return strings.ToLower(FixText(a))
}

func displayName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	}
	return strings.TrimSpace(DecodeHeader(s))
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	time.RFC3339,
}

// parseDate reads a Date header leniently; zero when it cannot.
func parseDate(raw string) time.Time {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(raw); err == nil {
		return t
	}
	s := raw
	if i := strings.IndexByte(s, '('); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// messageID returns the msg-id in raw with its brackets, or "" when there is none that looks right.
func parseMessageID(raw string) string {
	if ids := msgIDs(raw, 1); len(ids) > 0 {
		return ids[0]
	}
	s := strings.TrimSpace(raw)
	if s != "" && !strings.ContainsAny(s, " \t<>\"") && strings.Contains(s, "@") && len(s) <= 998 {
		return "<" + s + ">"
	}
	return ""
}

// msgIDs returns up to max "<...>" tokens from raw.
func msgIDs(raw string, max int) []string {
	var ids []string
	for len(ids) < max {
		i := strings.IndexByte(raw, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(raw[i:], '>')
		if j < 0 {
			break
		}
		id := raw[i+1 : i+j]
		raw = raw[i+j+1:]
		if id == "" || strings.ContainsAny(id, " \t<\r\n") || len(id) > 998 {
			continue
		}
		ids = append(ids, "<"+id+">")
	}
	return ids
}
