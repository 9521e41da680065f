package booklet_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"briefd/booklet"
)

// The command and the dashboard build the units from the roster's status (in the roster's order) and the
// chosen receipt's accepted files, then write both downloads.
func Example() {
	units := []booklet.Unit{
		{Seq: 1, Name: "忻府区教育科技局", State: booklet.StateReported, Receipt: "JB2026-0012",
			Received: time.Date(2026, 3, 28, 10, 5, 0, 0, time.UTC),
			Files:    []string{filepath.Join("..", "pdfcheck", "testdata", "corpus", "valid-cjk.pdf")}},
		{Seq: 2, Name: "原平市教育局", State: booklet.StateMissing},
		{Seq: 3, Name: "五台县教育局", State: booklet.StateLate, Receipt: "JB2026-0031",
			Files: []string{filepath.Join("archive", "gone.pdf")}},
	}
	cover := booklet.Cover{Office: "忻州市教育局办公室", Campaign: "3月教育工作简报", Period: "2026-03", Due: "2026-03-31"}
	ctx := context.Background()

	res, err := booklet.WritePDF(ctx, io.Discard, cover, units, booklet.Options{PageNumbers: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Printf("%d pages: cover, %d contents, %d merged file(s)\n", res.Pages, res.ContentsPages, res.Merged)
	for _, p := range res.Placeholders {
		fmt.Printf("not merged: %s %s %s\n", p.Name, p.Receipt, filepath.Base(p.File))
	}
	for i, u := range units {
		fmt.Printf("%s: page %d\n", u.Name, res.Units[i].Start)
	}
	problems, err := booklet.WriteZip(ctx, io.Discard, units, booklet.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Printf("zip: %d file(s) missing\n", len(problems))
	// Output:
	// 5 pages: cover, 1 contents, 1 merged file(s)
	// not merged: 五台县教育局 JB2026-0031 gone.pdf
	// 忻府区教育科技局: page 3
	// 原平市教育局: page 0
	// 五台县教育局: page 5
	// zip: 1 file(s) missing
}
