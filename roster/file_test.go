package roster

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

const unitsCSV = "id,name,aliases,emails,kind\n" +
	"xinfu,忻府区教育科技局,忻府区;忻府,xinfu-jky@example.cn,county\n" +
	"yuanping,原平市教育科技局,原平,\"yp@example.cn, yp2@example.cn\",county\n" +
	"xzzx,忻州市职业技术学校,忻州职校,,school\n" // no email

var wantUnits = []Unit{
	{ID: "xinfu", Name: "忻府区教育科技局", Aliases: []string{"忻府区", "忻府"}, Emails: []string{"xinfu-jky@example.cn"}, Kind: "county"},
	{ID: "yuanping", Name: "原平市教育科技局", Aliases: []string{"原平"}, Emails: []string{"yp@example.cn", "yp2@example.cn"}, Kind: "county"},
	{ID: "xzzx", Name: "忻州市职业技术学校", Aliases: []string{"忻州职校"}, Kind: "school"},
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode GBK: %v", err)
	}
	return b
}

func writeXLSX(t *testing.T, path string, rows [][]string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		for j, v := range row {
			cell, err := excelize.CoordinatesToCellName(j+1, i+1)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatalf("save xlsx: %v", err)
	}
}

func csvRows(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestLoadUnitsFile(t *testing.T) {
	const chineseHeader = "编号,单位名称,简称,邮箱,类型\n"
	body := strings.SplitN(unitsCSV, "\n", 2)[1]
	tests := []struct {
		name  string
		file  string
		write func(t *testing.T, path string)
		want  []Unit
	}{
		{"UTF-8 CSV", "units.csv", func(t *testing.T, p string) { writeFile(t, p, []byte(unitsCSV)) }, wantUnits},
		{"UTF-8 CSV with a BOM", "units.csv", func(t *testing.T, p string) {
			writeFile(t, p, append([]byte("\xef\xbb\xbf"), unitsCSV...))
		}, wantUnits},
		{"GBK CSV as Excel saves it", "units.csv", func(t *testing.T, p string) { writeFile(t, p, gbk(t, unitsCSV)) }, wantUnits},
		{"GBK CSV with CRLF line ends", "units.csv", func(t *testing.T, p string) {
			writeFile(t, p, gbk(t, strings.ReplaceAll(unitsCSV, "\n", "\r\n")))
		}, wantUnits},
		{"GBK CSV behind a UTF-8 BOM", "units.csv", func(t *testing.T, p string) {
			writeFile(t, p, append([]byte("\xef\xbb\xbf"), gbk(t, unitsCSV)...))
		}, wantUnits},
		{"Chinese header names", "单位.csv", func(t *testing.T, p string) { writeFile(t, p, []byte(chineseHeader+body)) }, wantUnits},
		{"Chinese header names in GBK", "units.csv", func(t *testing.T, p string) { writeFile(t, p, gbk(t, chineseHeader+body)) }, wantUnits},
		{"columns in another order with capitals and spaces", "units.csv", func(t *testing.T, p string) {
			writeFile(t, p, []byte(" Name , ID ,Emails\n忻府区教育科技局,xinfu,xinfu-jky@example.cn\n\n,,\n"))
		}, []Unit{{ID: "xinfu", Name: "忻府区教育科技局", Emails: []string{"xinfu-jky@example.cn"}}}},
		{"XLSX", "units.xlsx", func(t *testing.T, p string) {
			rows := csvRows(t, unitsCSV)
			rows[2][3] = "yp@example.cn、yp2@example.cn"
			writeXLSX(t, p, rows)
		}, wantUnits},
		{"XLSX with Chinese header names", "units.xlsx", func(t *testing.T, p string) {
			rows := csvRows(t, chineseHeader+body)
			rows[2][3] = "yp@example.cn；yp2@example.cn"
			writeXLSX(t, p, rows)
		}, wantUnits},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.file)
			tc.write(t, p)
			got, err := LoadUnitsFile(p)
			if err != nil {
				t.Fatalf("LoadUnitsFile: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("units:\n got %+v\nwant %+v", got, tc.want)
			}
			if _, err := New(got, nil, beijing); err != nil {
				t.Errorf("the loaded units do not make a roster: %v", err)
			}
		})
	}
}

func TestLoadUnitsFileBad(t *testing.T) {
	tests := []struct {
		name string
		file string
		data []byte
		want []string // all must be in the error
	}{
		{"missing emails column", "units.csv", []byte("id,name,aliases,kind\nxinfu,忻府区教育科技局,忻府,county\n"),
			[]string{"no column emails", "it has: id, name, aliases, kind"}},
		{"missing id and name columns, GBK", "units.csv", nil, []string{"no column id, name"}},
		{"empty file", "units.csv", []byte(""), []string{"empty file", "id, name"}},
		{"row without an id", "units.csv", []byte("id,name,emails\n,忻府区教育科技局,a@example.cn\n"), []string{"row 2 has no id"}},
		{"unbalanced quote", "units.csv", []byte("id,name,emails\nxinfu,\"忻府,a@example.cn\n"), []string{"units.csv"}},
		{"wrong extension", "units.xls", []byte("whatever"), []string{"use a .csv or .xlsx file"}},
		{"not really an xlsx", "units.xlsx", []byte("id,name,emails\n"), []string{"units.xlsx"}},
		{"duplicate id", "units.csv", []byte("id,name,emails\nxinfu,忻府,a@example.cn\nyp,原平,b@example.cn\nxinfu,又一个忻府,c@example.cn\n"),
			[]string{"row 4: id xinfu is also in row 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.file)
			data := tc.data
			if data == nil {
				data = gbk(t, "编码,单位全称,邮箱\nxinfu,忻府区教育科技局,a@example.cn\n")
			}
			writeFile(t, p, data)
			units, err := LoadUnitsFile(p)
			if err == nil {
				t.Fatalf("LoadUnitsFile accepted it: %+v", units)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.ZH == "" {
				t.Errorf("error %v has no Chinese sentence", err)
			}
		})
	}
	t.Run("Chinese", func(t *testing.T) {
		for data, want := range map[string]string{
			"编号,名称,别名\nxinfu,忻府,忻府区\n":                                 "表格第一行缺少列：邮箱（emails）（现有列：编号、名称、别名）",
			"编号,名称,邮箱\nxinfu,忻府,a@example.cn\nxinfu,忻府,a@example.cn\n": "编号 xinfu 出现了两次（第 2 行和第 3 行）",
		} {
			_, err := ReadUnits("上传.csv", gbk(t, data))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("ReadUnits: %v, want a *FileError", err)
			} else if fe.ZH != want {
				t.Errorf("ReadUnits: Chinese %q, want %q", fe.ZH, want)
			}
		}
	})
	t.Run("file not found", func(t *testing.T) {
		if _, err := LoadUnitsFile(filepath.Join(t.TempDir(), "nope.csv")); err == nil || !strings.Contains(err.Error(), "nope.csv") {
			t.Errorf("error %v does not name the file", err)
		}
	})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
