package pdfcheck_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"briefd/pdfcheck"
)

// The program's main (and TestMain in tests) must call pdfcheck.MaybeWorker first thing: the checker
// re-executes the running binary to parse PDFs in isolation.
func ExampleChecker_CheckFile() {
	c := pdfcheck.New(pdfcheck.Options{Timeout: 10 * time.Second}, slog.Default())
	defer c.Close()
	for _, f := range []string{"testdata/corpus/valid-cjk.pdf", "testdata/corpus/word-docx.pdf"} {
		v := c.CheckFile(context.Background(), f)
		if v.OK() {
			fmt.Println(v.Kind, v.Verdict, v.Pages, "pages")
			continue
		}
		zh, _ := pdfcheck.ReasonText(v.Reason)
		fmt.Println(v.Kind, v.Verdict, v.Reason, zh)
	}
	// Output:
	// pdf ok 2 pages
	// docx reject not_pdf_word 附件是Word文档，不是PDF。请在Word中选择“另存为”→“PDF”后重新发送。
}
