package intake_test

import (
	"fmt"
	"os"

	"briefd/intake"
	"briefd/pdfcheck"
)

// An archive sent by a Windows user: CP936 names, a folder, Thumbs.db.
func ExampleUnzip() {
	spool, err := os.MkdirTemp("", "spool-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(spool)
	res, err := intake.Unzip("testdata/zip/python-cp936.zip", spool, intake.ZipOptions{MaxTotal: 50 << 20})
	if err != nil {
		fmt.Println(err) // this machine's fault: the message is tried again later
		return
	}
	defer res.Cleanup()
	if res.Reason != "" {
		zh, _ := pdfcheck.ReasonText(res.Reason)
		fmt.Println(zh)
		return
	}
	for _, e := range res.Entries {
		// Each spooled e.Path is checked like an attachment; e.Reason set means not spooled.
		fmt.Println(e.Name, e.Filename, e.Kind, e.Size, e.Reason == "")
	}
	fmt.Println(res.Contents(0))
	for _, s := range res.Skipped {
		fmt.Println("skipped:", s.Name, s.Why)
	}
	// Output:
	// 各校简报/一中简报.pdf 一中简报.pdf pdf 875 true
	// 各校简报/誠信承诺书.pdf 誠信承诺书.pdf pdf 1770 true
	// 各校简报/一中简报.pdf（PDF）、各校简报/誠信承诺书.pdf（PDF）
	// skipped: 各校简报/ directory
	// skipped: 各校简报/Thumbs.db Windows metadata
}
