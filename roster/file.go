package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
// aliases and emails are separated by ";", ",", "、" or spaces. An error is a *FileError.
func LoadUnitsFile(path string) ([]Unit, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Name: path, EN: err.Error(), ZH: "文件无法读取"}
	}
	return ReadUnits(path, data)
}

// ReadUnits is LoadUnitsFile of a file's contents (an upload); name's extension says what it is.
func ReadUnits(name string, data []byte) ([]Unit, error) {
	sh, err := ReadUnitsSheet(name, data)
	if err != nil {
		return nil, err
	}
	return sh.Units, nil
}

// UnitsSheet is a units file as read: the units, and which of the optional columns (aliases, kind) it
// has, so that a sheet without them leaves them as they are.
type UnitsSheet struct {
	Units   []Unit
	Columns []string // of id, name, aliases, emails, kind: those the first row names
}

// Has reports whether the sheet has the column (id, name, aliases, emails, kind).
func (s *UnitsSheet) Has(column string) bool { return slices.Contains(s.Columns, column) }

// ReadUnitsSheet is ReadUnits, with the columns the sheet has.
func ReadUnitsSheet(name string, data []byte) (*UnitsSheet, error) {
	var rows [][]string
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx", ".xlsm":
		rows, err = readXLSX(name, data)
	case ".csv", ".txt":
		rows, err = readCSV(name, data)
	default:
		return nil, &FileError{Name: name, EN: "use a .csv or .xlsx file", ZH: "请使用 .xlsx 或 .csv 格式的表格（.xls 请在 Excel 或 WPS 中另存为 .xlsx）"}
	}
	if err != nil {
		return nil, err
	}
	return unitsFromRows(name, rows)
}

// FileError is what is wrong with a units file, in English and in Chinese.
type FileError struct {
	Name string // the file
	EN   string
	ZH   string
}

func (e *FileError) Error() string { return e.Name + ": " + e.EN }

func readCSV(name string, data []byte) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		var err error
		if data, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data); err != nil {
			return nil, &FileError{Name: name, EN: "neither UTF-8 nor GBK: " + err.Error(), ZH: "文件既不是 UTF-8 也不是 GBK 编码"}
		}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, &FileError{Name: name, EN: err.Error(), ZH: "CSV 格式有误（" + csvWhere(err) + "），请在 Excel 或 WPS 中重新另存为 CSV"}
	}
	return rows, nil
}

func csvWhere(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("第 %d 行", pe.StartLine)
	}
	return err.Error()
}

func readXLSX(name string, data []byte) ([][]string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, &FileError{Name: name, EN: err.Error(), ZH: "不是可以读取的 .xlsx 表格"}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &FileError{Name: name, EN: "no sheet", ZH: "表格中没有工作表"}
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, &FileError{Name: name, EN: err.Error(), ZH: "表格无法读取"}
	}
	return rows, nil
}

// columnZH names the columns as the office's spreadsheets head them.
var columnZH = map[string]string{"id": "编号", "name": "单位名称", "aliases": "别名", "emails": "邮箱", "kind": "类型"}

func unitsFromRows(name string, rows [][]string) (*UnitsSheet, error) {
	if len(rows) == 0 {
		return nil, &FileError{Name: name, EN: "empty file (the first row must name the columns id, name, aliases, emails, kind)",
			ZH: "表格是空的（第一行应为列名：编号、单位名称、别名、邮箱、类型）"}
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
	var missing, missingZH []string
	for _, key := range []string{"id", "name", "emails"} {
		if _, ok := col[key]; !ok {
			missing = append(missing, key)
			missingZH = append(missingZH, columnZH[key]+"（"+key+"）")
		}
	}
	if len(missing) > 0 {
		return nil, &FileError{Name: name,
			EN: fmt.Sprintf("the first row has no column %s (it has: %s)", strings.Join(missing, ", "), strings.Join(rows[0], ", ")),
			ZH: fmt.Sprintf("表格第一行缺少列：%s（现有列：%s）", strings.Join(missingZH, "、"), strings.Join(rows[0], "、"))}
	}
	cell := func(row []string, key string) string {
		i, ok := col[key]
		if !ok || i >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[i])
	}
	sheet := &UnitsSheet{}
	for _, key := range []string{"id", "name", "aliases", "emails", "kind"} {
		if _, ok := col[key]; ok {
			sheet.Columns = append(sheet.Columns, key)
		}
	}
	rowOf := map[string]int{}
	for n, row := range rows[1:] {
		if strings.TrimSpace(strings.Join(row, "")) == "" {
			continue
		}
		u := Unit{ID: cell(row, "id"), Name: cell(row, "name"), Aliases: splitList(cell(row, "aliases")),
			Emails: splitList(cell(row, "emails")), Kind: cell(row, "kind")}
		if u.ID == "" {
			return nil, &FileError{Name: name, EN: fmt.Sprintf("row %d has no id", n+2), ZH: fmt.Sprintf("第 %d 行没有编号", n+2)}
		}
		if first, dup := rowOf[u.ID]; dup {
			return nil, &FileError{Name: name, EN: fmt.Sprintf("row %d: id %s is also in row %d", n+2, u.ID, first),
				ZH: fmt.Sprintf("编号 %s 出现了两次（第 %d 行和第 %d 行）", u.ID, first, n+2)}
		}
		rowOf[u.ID] = n + 2
		sheet.Units = append(sheet.Units, u)
	}
	return sheet, nil
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
