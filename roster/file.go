package roster

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// unitColumns are the columns of a units file. The header row may use the English or Chinese names.
var unitColumns = map[string][]string{
	"id":      {"id", "编号", "代码", "单位代码"},
	"name":    {"name", "名称", "单位名称", "单位"},
	"aliases": {"aliases", "别名", "简称"},
	"emails":  {"emails", "email", "邮箱", "电子邮箱"},
	"kind":    {"kind", "类型", "单位类型"},
}

// LoadUnitsFile reads units from a .csv (UTF-8, UTF-8 with BOM, or GBK/GB18030 as Excel and WPS save it)
// or an .xlsx file (the first sheet). The first row names the columns id, name, aliases, emails, kind;
// aliases and emails are separated by ";", ",", "、" or spaces.
func LoadUnitsFile(path string) ([]Unit, error) {
	var rows [][]string
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		rows, err = readXLSX(path)
	case ".csv", ".txt":
		rows, err = readCSV(path)
	default:
		return nil, fmt.Errorf("%s: use a .csv or .xlsx file", path)
	}
	if err != nil {
		return nil, err
	}
	return unitsFromRows(path, rows)
}

func readCSV(path string) ([][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		if data, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data); err != nil {
			return nil, fmt.Errorf("%s: neither UTF-8 nor GBK: %v", path, err)
		}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return rows, nil
}

func readXLSX(path string) ([][]string, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%s: no sheet", path)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return rows, nil
}

func unitsFromRows(path string, rows [][]string) ([]Unit, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty file (the first row must name the columns id, name, aliases, emails, kind)", path)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		h = strings.ToLower(strings.TrimSpace(h))
		for key, names := range unitColumns {
			for _, n := range names {
				if h == n {
					col[key] = i
				}
			}
		}
	}
	var missing []string
	for _, key := range []string{"id", "name", "emails"} {
		if _, ok := col[key]; !ok {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: the first row has no column %s (it has: %s)", path,
			strings.Join(missing, ", "), strings.Join(rows[0], ", "))
	}
	cell := func(row []string, key string) string {
		i, ok := col[key]
		if !ok || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[i])
	}
	var units []Unit
	for n, row := range rows[1:] {
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue
		}
		u := Unit{ID: cell(row, "id"), Name: cell(row, "name"), Aliases: splitList(cell(row, "aliases")),
			Emails: splitList(cell(row, "emails")), Kind: cell(row, "kind")}
		if u.ID == "" {
			return nil, fmt.Errorf("%s: row %d has no id", path, n+2)
		}
		units = append(units, u)
	}
	return units, nil
}

func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == '、' || r == '，' || r == '；' || r == ' ' || r == '\n'
	})
	if len(f) == 0 {
		return nil
	}
	return f
}
