package mailtest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	_ "github.com/emersion/go-message/charset" // headers in GBK and the like
	gomail "github.com/emersion/go-message/mail"
)

// Render is a readable form of a mail briefd writes, for golden files and tests: its decoded headers
// (From, To, Subject, Date, the ids, Auto-Submitted, X-Auto-Response-Suppress), then each part with its
// media type, line ends as LF.
func Render(t testing.TB, raw []byte) string {
	t.Helper()
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, k := range []string{"From", "To", "Subject", "Date", "Message-Id", "In-Reply-To", "References", "Auto-Submitted", "X-Auto-Response-Suppress"} {
		v, err := mr.Header.Text(k)
		if err != nil {
			v = mr.Header.Get(k)
		}
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := p.Header.(*gomail.InlineHeader).ContentType()
		body, _ := io.ReadAll(p.Body)
		fmt.Fprintf(&b, "\n===== %s =====\n%s", ct, strings.ReplaceAll(string(body), "\r\n", "\n"))
	}
	return b.String()
}
