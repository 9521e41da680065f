package mailtest

import "golang.org/x/text/encoding/simplifiedchinese"

// GBK returns s encoded in GBK, as Chinese Windows programs write names and text that they do not
// label; it panics on a character GBK does not have.
func GBK(s string) string {
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}
