package mailmsg

import (
	"strings"
)

// autoReplySubjects start the subjects of QQ, 163, Outlook and Foxmail vacation and out-of-office
// replies, compared lowercased after leading brackets and spaces are removed.
var autoReplySubjects = []string{
	"自动回复", "自动答复", "自動回覆", "自動回復", "休假", "外出", "不在办公室",
	"auto reply", "auto-reply", "autoreply", "automatic reply", "auto response", "autoresponse",
	"out of office", "out of the office", "vacation reply", "away from",
}

// Classify says why a message must get no automatic reply, "" when a reply is allowed (RFC 3834 and
// the practice of Sieve vacation, RFC 5230). ours are our own addresses (the office mailbox) and
// ourMarker the marker our Message-IDs carry (e.g. "briefd").
//
// It refuses: an empty or "<>" sender; MAILER-DAEMON, postmaster, LISTSERV, majordomo, *-request,
// owner-*, noreply/no-reply/donotreply senders; any Auto-Submitted other than "no"; X-Autoreply,
// X-Autorespond and friends; Precedence bulk/junk/list; any List-* header; X-Auto-Response-Suppress
// All or OOF; delivery and disposition reports; mail from our own address or carrying our marker in
// its Message-ID; auto-reply subjects ("自动回复", "Out of Office", "休假", ...); and a reply to one
// of our own messages that brings no attachment and no link (nothing to receipt, and answering it
// could start a loop with an auto-responder that does not mark itself).
func Classify(m *Message, ours []string, ourMarker string) string {
	from := strings.ToLower(strings.TrimSpace(m.From))
	if from == "" || from == "<>" {
		return "empty sender"
	}
	local := from
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		local = from[:i]
	}
	squashed := strings.NewReplacer("-", "", "_", "", ".", "").Replace(local)
	switch {
	case local == "mailer-daemon" || squashed == "mailerdaemon":
		return "sender is mailer-daemon"
	case local == "postmaster":
		return "sender is postmaster"
	case local == "listserv":
		return "sender is listserv"
	case local == "majordomo":
		return "sender is majordomo"
	case strings.HasSuffix(local, "-request"):
		return "sender is a list request address"
	case strings.HasPrefix(local, "owner-"):
		return "sender is a list owner address"
	case strings.Contains(squashed, "noreply") || strings.Contains(squashed, "donotreply"):
		return "sender is a no-reply address"
	}
	for _, o := range ours {
		if o = strings.ToLower(strings.TrimSpace(o)); o != "" && o == from {
			return "sender is our own address"
		}
	}

	h := m.Header
	if v := firstToken(h.Get("Auto-Submitted")); v != "" && v != "no" {
		return "auto-submitted: " + v
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Autoresponder", "X-Auto-Reply", "X-Mail-Autoreply"} {
		if h.Has(k) {
			return "auto-reply header " + k
		}
	}
	switch v := firstToken(h.Get("Precedence")); v {
	case "bulk", "junk", "list", "auto_reply":
		return "precedence: " + v
	}
	fields := h.Fields()
	for fields.Next() {
		if k := fields.Key(); len(k) > 5 && strings.EqualFold(k[:5], "list-") {
			return "mailing list (" + k + ")"
		}
	}
	for _, v := range strings.Split(h.Get("X-Auto-Response-Suppress"), ",") {
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case "all", "oof":
			return "x-auto-response-suppress: " + v
		}
	}
	if m.Report || m.ContentType == "multipart/report" {
		return "delivery report"
	}
	marker := strings.ToLower(strings.TrimSpace(ourMarker))
	if marker != "" && strings.Contains(strings.ToLower(m.MessageID), marker) {
		return "our own message (Message-ID)"
	}
	subj := strings.ToLower(strings.TrimLeft(strings.TrimSpace(m.Subject), "【[(（<《 \t"))
	for _, s := range autoReplySubjects {
		if strings.HasPrefix(subj, s) {
			return "auto-reply subject"
		}
	}
	if marker != "" && len(m.Attachments) == 0 && len(m.Links) == 0 && repliesToMarker(m, marker) {
		return "reply to our own message without attachment"
	}
	return ""
}

// firstToken lowercases v and cuts it at the first ';', '(' or space ("auto-replied; owner=x").
func firstToken(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		v = v[:i]
	}
	return v
}

func repliesToMarker(m *Message, marker string) bool {
	if strings.Contains(strings.ToLower(m.InReplyTo), marker) {
		return true
	}
	for _, r := range m.References {
		if strings.Contains(strings.ToLower(r), marker) {
			return true
		}
	}
	return false
}
