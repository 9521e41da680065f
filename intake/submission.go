package intake

import (
	"fmt"
	"strings"
	"time"

	"briefd/mailmsg"
	"briefd/roster"
	"briefd/store"
)

// The office's address is printed in public notices: its mailbox also gets spam, newsletters,
// questions and years of old mail. Only submissions get a receipt reply (QUIRKS.md, "what gets a reply").

// Why a submission gets no reply (Receipt.ReplyNote starts with it).
const (
	noteHistory   = "history: "
	noteSpam      = "marked as spam by the mail provider: "
	noteSpoofed   = "sender failed authentication at the mail provider: no reply to the address it claims"
	noteNoReplies = "replies are switched off"
)

// questionWords mark a mail as a question to be answered by a person, even when it speaks of 简报.
var questionWords = []string{"？", "?", "请问", "吗", "能否", "是否", "可否", "怎么", "怎样", "如何", "什么时候", "哪天",
	"哪里", "多少", "咨询", "请教"}

// submitWords are what a unit writes when it sends its briefing (and forgets the attachment).
var submitWords = []string{"简报", "报送", "附件", "材料", "请查收", "查收", "上报"}

// classifyIntent decides whether a mail without attachments and links is a submission (the unit
// forgot the attachment: it gets the helpful reply) or not (a question, a stranger's mail). It is
// called only for mail that mailmsg.Classify let through and that carries no attachment and no link.
//
// The rules, in order: an unknown sender is a stranger; a unit's mail that asks something (a question
// mark or a question word in the subject or the first lines) is a question, even when it speaks of 简报
// ("请问简报截止时间是哪天？"); a unit's mail that speaks of submitting (简报, 报送, 附件, a campaign's
// title or keywords) is a submission; any other mail of a unit is a question.
func classifyIntent(unit string, subject, text string, ros *roster.Roster) (category string) {
	if unit == "" {
		return store.CategoryStranger
	}
	head := subject + "\n" + firstRunes(text, 300)
	for _, w := range questionWords {
		if strings.Contains(head, w) {
			return store.CategoryQuestion
		}
	}
	all := roster.Normalize(subject + " " + firstRunes(text, 2000))
	for _, w := range submitWords {
		if strings.Contains(all, w) {
			return ""
		}
	}
	for _, c := range ros.Campaigns() {
		if !ros.Owes(unit, c) {
			continue
		}
		if t := roster.Normalize(c.Title); t != "" && strings.Contains(all, t) {
			return ""
		}
		for _, k := range c.Keywords {
			if k = roster.Normalize(k); k != "" && strings.Contains(all, k) {
				return ""
			}
		}
	}
	return store.CategoryQuestion
}

// categoryOf names the mailmsg.Classify reasons: lists and bulk mail, else automatic mail.
func categoryOf(reason string) string {
	if strings.HasPrefix(reason, "precedence:") || strings.HasPrefix(reason, "mailing list") {
		return store.CategoryBulk
	}
	return store.CategoryAuto
}

// spamFlag returns what says the mail provider (or a filter before it) took the mail for spam: the
// SpamAssassin fields most providers and gateways write (X-Spam-Flag: YES, X-Spam-Status: Yes), "" when
// nothing does. 163 and QQ move spam to the spam folder rather than flag it (Fetched.Junk).
func spamFlag(m *mailmsg.Message) string {
	h := m.Header
	if strings.EqualFold(strings.TrimSpace(h.Get("X-Spam-Flag")), "yes") {
		return "X-Spam-Flag: YES"
	}
	if v := strings.TrimSpace(h.Get("X-Spam-Status")); len(v) >= 3 && strings.EqualFold(v[:3], "yes") {
		return "X-Spam-Status: Yes"
	}
	return ""
}

// historic says why a mail is too old to be answered ("" when it is not): received more than maxAge
// ago, or before the earliest campaign opened. Such mail is recorded and counted as usual.
func historic(received, now time.Time, maxAge time.Duration, ros *roster.Roster) string {
	if maxAge > 0 && now.Sub(received) > maxAge {
		return noteHistory + "received " + received.Format("2006-01-02") + ", more than " + days(maxAge) + " ago; not answered"
	}
	var first time.Time
	for _, c := range ros.Campaigns() {
		if c.Opens.IsZero() {
			continue
		}
		if t := c.Opens.Start(ros.Location()); first.IsZero() || t.Before(first) {
			first = t
		}
	}
	if !first.IsZero() && received.Before(first) {
		return noteHistory + "received " + received.Format("2006-01-02") + ", before the first campaign opened (" +
			first.Format("2006-01-02") + "); not answered"
	}
	return ""
}

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) }

// firstRunes returns s cut after n runes.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
