package roster

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// How a unit was matched, as recorded in receipts.
const (
	MatchAddress = "address"
	MatchName    = "name"
	MatchManual  = "manual"
	MatchNone    = "none"
)

// term is one way a unit's name can be written.
type term struct {
	text string
	unit string
}

// suffixes are stripped from names to find the short form people write ("忻府区教育科技局" → "忻府区" → "忻府").
var suffixes = []string{"教育科技局", "教育和科技局", "教育局", "教科局", "教育体育局", "教体局"}

func buildTerms(units []Unit) []term {
	var ts []term
	seen := map[string]string{}
	add := func(s, unit string) {
		s = Normalize(s)
		if len([]rune(s)) < 2 {
			return
		}
		if other, ok := seen[s]; ok {
			if other != unit {
				seen[s] = "" // the same form for two units identifies neither
			}
			return
		}
		seen[s] = unit
	}
	for _, u := range units {
		for _, name := range append([]string{u.Name}, u.Aliases...) {
			add(name, u.ID)
			short := Normalize(name)
			for _, suf := range suffixes {
				if s, ok := strings.CutSuffix(short, suf); ok {
					short = s
					break
				}
			}
			add(short, u.ID)
			for _, suf := range []string{"县", "区", "市"} {
				if s, ok := strings.CutSuffix(short, suf); ok && len([]rune(s)) >= 2 {
					add(s, u.ID)
				}
			}
		}
	}
	for s, u := range seen {
		if u != "" {
			ts = append(ts, term{s, u})
		}
	}
	sort.Slice(ts, func(i, j int) bool {
		if li, lj := len([]rune(ts[i].text)), len([]rune(ts[j].text)); li != lj {
			return li > lj
		}
		return ts[i].text < ts[j].text
	})
	return ts
}

// Normalize folds full-width forms to half-width (NFKC), lowercases and removes white space, so that
// "忻府区 教育科技局" and "忻府区教育科技局" compare equal.
func Normalize(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u3000' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// NormalizeAddress trims and lowercases an email address; it accepts "Name <addr>" forms too.
func NormalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	if a, err := mail.ParseAddress(s); err == nil {
		s = a.Address
	}
	return strings.ToLower(strings.Trim(s, "<> \t"))
}

// AddressProblem says why addr is not one plain address briefd is willing to write to (and so to
// register for a unit or the office) ("" when it is): a
// dot-atom local part (no quotes, spaces or controls), an ASCII domain of letters, digits, hyphens and
// dots.
func AddressProblem(addr string) string {
	if addr == "" {
		return "empty address"
	}
	if len(addr) > 254 {
		return "address longer than 254 characters"
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "not of the form local@domain"
	}
	local, domain := addr[:at], addr[at+1:]
	if len(local) > 64 {
		return "local part longer than 64 characters"
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return "empty atom in local part"
		}
		for i := 0; i < len(atom); i++ {
			if !IsAtext(atom[i]) {
				return fmt.Sprintf("character %q not allowed in local part", atom[i])
			}
		}
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "malformed domain"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("character %q not allowed in domain", c)
			}
		}
	}
	return ""
}

// IsAtext reports whether c may stand in the local part of an address (RFC 5322 atext).
func IsAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// UnitByAddress returns the unit an address is registered to.
func (r *Roster) UnitByAddress(addr string) (string, bool) {
	u, ok := r.byEmail[NormalizeAddress(addr)]
	return u, ok
}

// Match says which unit a mail comes from: by its registered address, else by the unit's name or an alias
// in the display name, then the subject, then the attachment filenames. A text that names two units
// equally well identifies none of them. It returns the unit id ("" for none) and how it matched.
func (r *Roster) Match(addr, displayName, subject string, filenames []string) (unitID, how string) {
	if u, ok := r.UnitByAddress(addr); ok {
		return u, MatchAddress
	}
	for _, text := range []string{displayName, subject, strings.Join(filenames, " ")} {
		if u := r.matchText(text); u != "" {
			return u, MatchName
		}
	}
	return "", MatchNone
}

// matchText finds the one unit that the text names. Longer forms win over shorter ones they contain
// ("原平市职业技术学校" over "原平"); two different units found with equally long forms give "".
func (r *Roster) matchText(text string) string {
	text = Normalize(text)
	if text == "" {
		return ""
	}
	found := ""
	bestLen := 0
	covered := make([]bool, len(text))
	for _, t := range r.terms {
		l := len([]rune(t.text))
		if found != "" && l < bestLen {
			// A shorter form only counts where no longer form already matched.
			if idx := indexUncovered(text, t.text, covered); idx >= 0 && t.unit != found {
				return ""
			}
			continue
		}
		idx := indexUncovered(text, t.text, covered)
		if idx < 0 {
			continue
		}
		if found != "" && t.unit != found {
			return ""
		}
		found, bestLen = t.unit, l
		markAll(text, t.text, covered)
	}
	return found
}

// indexUncovered returns the first occurrence of sub in s that does not overlap a covered byte.
func indexUncovered(s, sub string, covered []bool) int {
	for off := 0; ; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return -1
		}
		i += off
		ok := true
		for j := i; j < i+len(sub); j++ {
			if covered[j] {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
		off = i + 1
	}
}

func markAll(s, sub string, covered []bool) {
	for off := 0; ; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return
		}
		i += off
		for j := i; j < i+len(sub); j++ {
			covered[j] = true
		}
		off = i + len(sub)
	}
}
