package report

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/width"
)

// Text is a table printed for a terminal: columns aligned, Chinese characters counted as two columns, as
// a terminal shows them.
type Text struct {
	Header []string
	Indent string // before each line
	rows   [][]string
}

// Add adds a row.
func (t *Text) Add(cells ...string) { t.rows = append(t.rows, cells) }

// Write prints the header and the rows.
func (t *Text) Write(w io.Writer) {
	widths := make([]int, len(t.Header))
	all := append([][]string{t.Header}, t.rows...)
	for _, row := range all {
		for i, c := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], displayWidth(c))
			}
		}
	}
	for _, row := range all {
		var b strings.Builder
		b.WriteString(t.Indent)
		for i, c := range row {
			b.WriteString(c)
			if i < len(row)-1 && i < len(widths) {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
