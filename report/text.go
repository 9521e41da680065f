package report

import (
	"bytes"
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
	all := append([][]string{t.Header}, t.rows...)
	widths := make([]int, len(t.Header))
	cells := make([][]int, len(all)) // each cell's display width, worked out once
	for j, row := range all {
		cells[j] = make([]int, len(row))
		for i, c := range row {
			cells[j][i] = displayWidth(c)
			if i < len(widths) {
				widths[i] = max(widths[i], cells[j][i])
			}
		}
	}
	var b bytes.Buffer
	for j, row := range all {
		b.WriteString(t.Indent)
		for i, c := range row {
			b.WriteString(c)
			if i < len(row)-1 && i < len(widths) {
				b.WriteString(strings.Repeat(" ", widths[i]-cells[j][i]+2))
			}
		}
		b.WriteByte('\n')
	}
	w.Write(b.Bytes())
}

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r < 0x1100 { // below the first wide characters (Hangul Jamo): one column
			n++
			continue
		}
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
