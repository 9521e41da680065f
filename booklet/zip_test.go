package booklet

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// rawZipEntry is what the zip's own headers say of an entry, read byte by byte (not with archive/zip).
type rawZipEntry struct {
	name                   string
	centralFlags, locFlags uint16
	localName              string
}

// rawZipEntries reads the end-of-central-directory record, every central directory header, and the
// local header each one points at.
func rawZipEntries(t *testing.T, b []byte) []rawZipEntry {
	t.Helper()
	le := binary.LittleEndian
	eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
	if eocd < 0 || len(b)-eocd < 22 {
		t.Fatal("no end of central directory record")
	}
	count := int(le.Uint16(b[eocd+10:]))
	off := int(le.Uint32(b[eocd+16:]))
	var out []rawZipEntry
	for range count {
		if off+46 > len(b) || string(b[off:off+4]) != "PK\x01\x02" {
			t.Fatalf("no central directory header at %d", off)
		}
		e := rawZipEntry{centralFlags: le.Uint16(b[off+8:])}
		nlen, xlen, clen := int(le.Uint16(b[off+28:])), int(le.Uint16(b[off+30:])), int(le.Uint16(b[off+32:]))
		loc := int(le.Uint32(b[off+42:]))
		e.name = string(b[off+46 : off+46+nlen])
		off += 46 + nlen + xlen + clen
		if loc+30 > len(b) || string(b[loc:loc+4]) != "PK\x03\x04" {
			t.Fatalf("%s: no local header at %d", e.name, loc)
		}
		e.locFlags = le.Uint16(b[loc+6:])
		e.localName = string(b[loc+30 : loc+30+int(le.Uint16(b[loc+26:]))])
		out = append(out, e)
	}
	return out
}

func TestZip(t *testing.T) {
	units, _ := mixedUnits(t)
	long := strings.Repeat("忻州市五寨县教育科技局直属第一职业技术学校", 5)
	units[0].Name = long
	var buf bytes.Buffer
	problems, err := WriteZip(context.Background(), &buf, units, Options{Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Unit != 6 || !errors.Is(problems[0], fs.ErrNotExist) {
		t.Errorf("problems = %v, want 宁武县's vanished file", problems)
	}
	cut := string([]rune(long)[:maxNameRunes])
	want := []string{
		"01_" + cut + "_JB2026-0012_1.pdf",
		"01_" + cut + "_JB2026-0012_2.pdf",
		"03_定襄县教育科技局_JB2026-0031_1.pdf",
		"05_代县教育局（加密）_JB2026-0015_1.pdf",
		"06_繁峙县教育局_JB2026-0016_1.pdf", // damaged files are in the zip all the same
		"06_繁峙县教育局_JB2026-0016_2.pdf",
		ListName,
	}
	raw := rawZipEntries(t, buf.Bytes())
	var names []string
	for _, e := range raw {
		names = append(names, e.name)
		if e.centralFlags&0x800 == 0 || e.locFlags&0x800 == 0 {
			t.Errorf("%s: UTF-8 flag not set (central %#x, local %#x)", e.name, e.centralFlags, e.locFlags)
		}
		if e.localName != e.name {
			t.Errorf("local header name %q, central %q", e.localName, e.name)
		}
		if !utf8.ValidString(e.name) || strings.ContainsAny(e.name, `/\:*?"<>|`) {
			t.Errorf("%q is not a safe UTF-8 file name", e.name)
		}
	}
	if !slices.Equal(names, want) {
		t.Fatalf("names =\n%q\nwant\n%q", names, want)
	}

	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	// every file is the archived one, byte for byte
	src := map[string]string{want[0]: units[0].Files[0], want[2]: units[2].Files[0], want[4]: units[5].Files[0]}
	for name, path := range src {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := readZipFile(t, zr, name); !bytes.Equal(got, orig) {
			t.Errorf("%s differs from %s", name, path)
		}
	}

	list := readZipFile(t, zr, ListName)
	if !bytes.HasPrefix(list, []byte("\xef\xbb\xbf")) {
		t.Fatalf("%s has no UTF-8 byte order mark", ListName)
	}
	rows, err := csv.NewReader(bytes.NewReader(list[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(units) {
		t.Fatalf("%d rows, want header and %d units", len(rows), len(units))
	}
	wantRows := map[int][]string{
		1: {"1", long, "已报送", "JB2026-0012", "2026-03-28 10:05", want[0] + "; " + want[1], "5", ""},
		2: {"2", "原平市教育局", "未报送", "", "", "", "", ""},
		3: {"3", "定襄县教育科技局", "逾期报送", "JB2026-0031", "2026-04-02 10:05", want[2], "4", ""},
		4: {"4", "五台县教育局", "未通过", "JB2026-0007", "2026-03-28 10:05", "", "", ""},
		5: {"5", "代县教育局（加密）", "已报送", "JB2026-0015", "2026-03-28 10:05", want[3], "2", ""},
		6: {"6", "繁峙县教育局", "已报送", "JB2026-0016", "2026-03-28 10:05", want[4] + "; " + want[5], "", "第 1 份文件的页数无法读出"},
		7: {"7", `宁武县/教育\局:*?"<>|`, "已报送", "JB2026-0020", "2026-03-28 10:05", "", "", "第 1 份文件无法读取，未放入压缩包"},
	}
	for i, w := range wantRows {
		if !slices.Equal(rows[i], w) {
			t.Errorf("row %d = %q\nwant     %q", i, rows[i], w)
		}
	}
}

func readZipFile(t *testing.T, zr *zip.Reader, name string) []byte {
	t.Helper()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatalf("open %s in zip: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestZipName(t *testing.T) {
	for _, tc := range []struct {
		seq, width int
		name, rec  string
		n          int
		want       string
	}{
		{3, 2, "原平市教育局", "JB2026-0012", 1, "03_原平市教育局_JB2026-0012_1.pdf"},
		{12, 3, `a/b\c:d*e?f"g<h>i|j`, "JB1", 2, "012_a_b_c_d_e_f_g_h_i_j_JB1_2.pdf"},
		{1, 2, " .x. ", "", 1, "01_x_无回执_1.pdf"},
		{1, 2, "a\x00b\u202ec\nd", "JB/1", 1, "01_a_b_c_d_JB_1_1.pdf"},
		{1, 2, "...", "JB1", 1, "01___JB1_1.pdf"},
		{1, 2, "bad\xffutf8", "JB1", 1, "01_bad_utf8_JB1_1.pdf"},
	} {
		if got := ZipName(tc.seq, tc.width, tc.name, tc.rec, tc.n); got != tc.want {
			t.Errorf("ZipName(%d, %d, %q, %q, %d) = %q, want %q", tc.seq, tc.width, tc.name, tc.rec, tc.n, got, tc.want)
		}
	}
}
