package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// WriteCSV writes one sheet as CSV: UTF-8 with a byte order mark, CRLF line ends, every cell
// neutralised.
func WriteCSV(w io.Writer, sh Sheet) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	rec := make([]string, 0, 16)
	for _, row := range sh.Rows {
		rec = rec[:0]
		for _, c := range row {
			rec = append(rec, cellString(c))
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return bw.Flush()
}

// WriteXLSX writes the sheets as one .xlsx workbook. Sheet names are made valid (at most 31
// characters, none of : \ / ? * [ ]) and unique. Text cells are neutralised; ints stay numbers.
func WriteXLSX(w io.Writer, sheets []Sheet) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return fmt.Errorf("report: xlsx style: %w", err)
	}
	if len(sheets) == 0 {
		sheets = []Sheet{{Name: "空", Rows: [][]any{{"（没有数据）"}}}}
	}
	used := map[string]bool{}
	for i, sh := range sheets {
		name := sheetName(sh.Name, used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("report: xlsx sheet %q: %w", name, err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("report: xlsx sheet %q: %w", name, err)
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return fmt.Errorf("report: xlsx sheet %q: %w", name, err)
		}
		for c, wd := range sh.Width {
			if err := sw.SetColWidth(c+1, c+1, wd); err != nil {
				return fmt.Errorf("report: xlsx sheet %q: %w", name, err)
			}
		}
		if len(sh.Rows) > 1 {
			if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
				return fmt.Errorf("report: xlsx sheet %q: %w", name, err)
			}
		}
		vals := make([]any, 0, 16)
		for r, row := range sh.Rows {
			vals = vals[:0]
			for _, c := range row {
				var v any
				switch x := c.(type) {
				case int, int64:
					v = x
				default:
					v = cellString(x)
				}
				if r == 0 {
					v = excelize.Cell{StyleID: bold, Value: v}
				}
				vals = append(vals, v)
			}
			cell, err := excelize.CoordinatesToCellName(1, r+1)
			if err != nil {
				return err
			}
			if err := sw.SetRow(cell, vals); err != nil {
				return fmt.Errorf("report: xlsx sheet %q row %d: %w", name, r+1, err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("report: xlsx sheet %q: %w", name, err)
		}
	}
	// The first sheet is the active one already; SetActiveSheet would parse every streamed sheet back.
	if err := f.Write(w); err != nil {
		return fmt.Errorf("report: write xlsx: %w", err)
	}
	return nil
}

// sheetName makes name a valid, unused sheet name and records it in used.
func sheetName(name string, used map[string]bool) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	name = strings.Trim(name, "'")
	if name == "" {
		name = "Sheet"
	}
	base := cut(name, 31)
	name = base
	for n := 2; used[strings.ToLower(name)]; n++ {
		suffix := "~" + strconv.Itoa(n)
		name = cut(base, 31-len(suffix)) + suffix
	}
	used[strings.ToLower(name)] = true
	return name
}

func cut(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		return string(rs[:n])
	}
	return s
}
