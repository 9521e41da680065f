package mailmsg

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"strings"

	gomail "github.com/emersion/go-message/mail"
)

// Readable shows a mail the way a mail program would: a few headers and the plain text part.
func Readable(raw []byte) string {
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		return string(raw)
	}
	var b strings.Builder
	for _, k := range []string{"From", "To", "Subject", "Date"} {
		v, err := mr.Header.Text(k)
		if err != nil {
			v = mr.Header.Get(k)
		}
		if k == "From" || k == "To" {
			if a, err := mail.ParseAddress(v); err == nil && a.Name != "" {
				v = a.Name + " <" + a.Address + ">"
			}
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	b.WriteString("\n")
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if h, ok := p.Header.(*gomail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				body, _ := io.ReadAll(p.Body)
				b.Write(body)
				break
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
