package report

import (
	"bytes"
	"io"

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

// Write prints the header and the rows, in one Write.
func (t *Text) Write(w io.Writer) {
	all := append([][]string{t.Header}, t.rows...)
	ncol := len(t.Header)
	widths := make([]int, ncol)
	cells := make([]int, 0, len(all)*ncol) // each cell's display width, worked out once, row after row
	size := 0
	for _, row := range all {
		for i, c := range row {
			n := displayWidth(c)
			cells = append(cells, n)
			if i < ncol {
				widths[i] = max(widths[i], n)
			}
			size += len(c) + 2
		}
		size += len(t.Indent) + 1
	}
	var b bytes.Buffer
	b.Grow(size + len(all)*sum(widths))
	k := 0
	for _, row := range all {
		b.WriteString(t.Indent)
		for i, c := range row {
			b.WriteString(c)
			if i < len(row)-1 && i < ncol {
				pad(&b, widths[i]-cells[k]+2)
			}
			k++
		}
		b.WriteByte('\n')
	}
	w.Write(b.Bytes())
}

const spaces = "                                                                "

// pad writes n spaces.
func pad(b *bytes.Buffer, n int) {
	for n > len(spaces) {
		b.WriteString(spaces)
		n -= len(spaces)
	}
	b.WriteString(spaces[:n])
}

func sum(ns []int) int {
	s := 0
	for _, n := range ns {
		s += n
	}
	return s
}

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r < 0x1100: // below the first wide characters (Hangul Jamo): one column
			n++
		case r >= 0x4E00 && r <= 0x9FFF: // CJK Unified Ideographs, all wide: most of what is printed
			n += 2
		default:
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				n += 2
			default:
				n++
			}
		}
	}
	return n
}
