package mailtest

import (
	"regexp"
	"strings"
)

// UnsafeLoginText is what NetEase (163/126) answers to SELECT when the client did not send ID.
const UnsafeLoginText = "Unsafe Login. Please contact kefu@188.com for help"

// StartUnsafeLogin starts a proxy in front of upstream that behaves like NetEase's IMAP server: it
// advertises ID, answers ID itself (go-imap's test server does not implement it), and answers SELECT
// and EXAMINE with "NO Unsafe Login" unless the client sent ID after LOGIN.
func StartUnsafeLogin(upstream string) (*Proxy, error) {
	return StartProxy(upstream, ProxyOptions{UnsafeLogin: true})
}

// NewUnsafeLogin starts StartUnsafeLogin for a test and stops it when the test ends.
func NewUnsafeLogin(t TB, upstream string) *Proxy {
	t.Helper()
	return NewProxy(t, upstream, ProxyOptions{UnsafeLogin: true})
}

// IDSent reports how many connections sent ID after LOGIN.
func (p *Proxy) IDSent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idSent
}

// unsafeLogin answers the commands the fake handles itself; it reports whether it did.
func (c *proxyConn) unsafeLogin(tag, cmd string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch cmd {
	case "LOGIN", "AUTHENTICATE":
		c.loggedIn = true // optimistic: a failed login cannot SELECT anyway
	case "ID":
		if c.loggedIn && !c.sentID {
			c.sentID = true
			c.p.mu.Lock()
			c.p.idSent++
			c.p.mu.Unlock()
		}
		c.toClient(`* ID ("name" "Coremail Imap" "vendor" "Mailtech" "TransID" "mailtest")` + "\r\n" +
			tag + " OK ID completed\r\n")
		return true
	case "SELECT", "EXAMINE":
		if !c.sentID {
			c.toClient(tag + " NO " + UnsafeLoginText + "\r\n")
			return true
		}
	}
	return false
}

var capRE = regexp.MustCompile(`(?i)^(\* CAPABILITY |\S+ OK \[CAPABILITY |\* OK \[CAPABILITY )`)

// addIDCap adds ID to a capability list in a greeting, a CAPABILITY response or a tagged OK.
func addIDCap(line string) string {
	loc := capRE.FindStringIndex(line)
	if loc == nil {
		return line
	}
	end := strings.IndexAny(line[loc[1]:], "]\r\n")
	if end >= 0 {
		for _, c := range strings.Fields(line[loc[1] : loc[1]+end]) {
			if strings.EqualFold(c, "ID") {
				return line
			}
		}
	}
	return line[:loc[1]] + "ID " + line[loc[1]:]
}
