package intake

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/pdfcheck"
)

// gbk encodes a name as Chinese Windows writes it in a zip archive.
var gbk = mailtest.GBK

// zfile is one entry of a zip built by a test.
type zfile struct {
	name    string // as written: GBK bytes when nonUTF8 is set and the test means GBK
	data    []byte
	nonUTF8 bool   // do not set the UTF-8 flag
	store   bool   // stored, not deflated
	method  uint16 // written raw with this method (data taken as already compressed)
	extra   []byte
	mode    fs.FileMode
}

// buildZip writes a zip of files with archive/zip.
func buildZip(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, NonUTF8: f.nonUTF8, Method: zip.Deflate, Extra: f.extra}
		h.Modified = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
		if f.store || strings.HasSuffix(f.name, "/") {
			h.Method = zip.Store
		}
		if f.mode != 0 {
			h.SetMode(f.mode)
		}
		var err error
		var fw io.Writer
		if f.method != 0 {
			h.Method = f.method
			h.CRC32 = crc32.ChecksumIEEE(f.data)
			h.CompressedSize64, h.UncompressedSize64 = uint64(len(f.data)), uint64(len(f.data))
			fw, err = w.CreateRaw(h)
		} else {
			fw, err = w.CreateHeader(h)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// centralHeaders returns the offsets of the central directory records of a zip written by buildZip.
func centralHeaders(t testing.TB, b []byte) []int {
	t.Helper()
	end := bytes.LastIndex(b, []byte("PK\x05\x06"))
	if end < 0 {
		t.Fatal("no end of central directory")
	}
	n := int(binary.LittleEndian.Uint16(b[end+10:]))
	off := int(binary.LittleEndian.Uint32(b[end+16:]))
	var offs []int
	for range n {
		if !bytes.HasPrefix(b[off:], []byte("PK\x01\x02")) {
			t.Fatalf("no central header at %d", off)
		}
		offs = append(offs, off)
		off += 46 + int(binary.LittleEndian.Uint16(b[off+28:])) + int(binary.LittleEndian.Uint16(b[off+30:])) +
			int(binary.LittleEndian.Uint16(b[off+32:]))
	}
	return offs
}

// localHeader returns the offset of the local header a central record points to.
func localHeader(b []byte, cd int) int { return int(binary.LittleEndian.Uint32(b[cd+42:])) }

// patchEntry changes entry i of a built zip: fn gets its central and local header offsets.
func patchEntry(t testing.TB, b []byte, i int, fn func(b []byte, cd, local int)) []byte {
	t.Helper()
	b = bytes.Clone(b)
	cd := centralHeaders(t, b)[i]
	fn(b, cd, localHeader(b, cd))
	return b
}

// duplicateEntry appends to the central directory a copy of record i, renamed (same length), so that two
// entries share one local header and its data: the overlapping zip bomb.
func duplicateEntry(t testing.TB, b []byte, i int, name string) []byte {
	t.Helper()
	cds := centralHeaders(t, b)
	end := bytes.LastIndex(b, []byte("PK\x05\x06"))
	cd := cds[i]
	rl := 46 + int(binary.LittleEndian.Uint16(b[cd+28:])) + int(binary.LittleEndian.Uint16(b[cd+30:])) +
		int(binary.LittleEndian.Uint16(b[cd+32:]))
	rec := bytes.Clone(b[cd : cd+rl])
	if len(name) != int(binary.LittleEndian.Uint16(rec[28:])) {
		t.Fatal("duplicateEntry: name length differs")
	}
	copy(rec[46:], name)
	out := append(bytes.Clone(b[:end]), rec...)
	tail := bytes.Clone(b[end:])
	binary.LittleEndian.PutUint16(tail[8:], binary.LittleEndian.Uint16(tail[8:])+1)
	binary.LittleEndian.PutUint16(tail[10:], binary.LittleEndian.Uint16(tail[10:])+1)
	binary.LittleEndian.PutUint32(tail[12:], binary.LittleEndian.Uint32(tail[12:])+uint32(rl))
	return append(out, tail...)
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "pdfcheck", "testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unzipBytes writes b to a file, unzips it into a fresh folder and checks that exactly the entries'
// Paths are left in that folder.
func unzipBytes(t testing.TB, b []byte, opts ZipOptions) *ZipResult {
	t.Helper()
	dir := t.TempDir()
	zp := filepath.Join(dir, "in.zip")
	if err := os.WriteFile(zp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	res, err := Unzip(zp, spool, opts)
	if err != nil {
		t.Fatalf("Unzip: %v", err)
	}
	checkSpool(t, res, spool)
	return res
}

func checkSpool(t testing.TB, res *ZipResult, spool string) {
	t.Helper()
	left, err := os.ReadDir(spool)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, e := range left {
		got = append(got, filepath.Join(spool, e.Name()))
	}
	for _, e := range res.Entries {
		if e.Path != "" {
			want = append(want, e.Path)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("spool folder holds %q, entries' paths are %q", got, want)
	}
	if res.Reason != "" && len(want) > 0 {
		t.Errorf("archive refused (%s) but %d files stay spooled", res.Reason, len(want))
	}
}

// wantEntry is what a test expects of one entry; Path is expected set exactly when reason is "" and
// the archive is not refused.
type wantEntry struct {
	name, filename, kind, reason string
}

func entriesOf(res *ZipResult) []wantEntry {
	var out []wantEntry
	for _, e := range res.Entries {
		out = append(out, wantEntry{e.Name, e.Filename, e.Kind, e.Reason})
	}
	return out
}

func skippedOf(res *ZipResult) []string {
	var out []string
	for _, s := range res.Skipped {
		out = append(out, s.Name+" ("+s.Why+")")
	}
	return out
}

// docx is a minimal Word document: a zip pdfcheck sniffs as docx.
func docx(t testing.TB) []byte {
	return buildZip(t, zfile{name: "[Content_Types].xml", data: []byte("<Types/>")},
		zfile{name: "word/document.xml", data: []byte("<w:document/>")})
}

func TestUnzip(t *testing.T) {
	pdf := readCorpus(t, "valid-1page.pdf")
	pdf2 := readCorpus(t, "valid-cjk.pdf")
	inner := buildZip(t, zfile{name: "inner.pdf", data: pdf})
	upath := func(raw, name string) []byte {
		d := append([]byte{1}, binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE([]byte(raw)))...)
		d = append(d, name...)
		return append(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, 0x7075), uint16(len(d))), d...)
	}
	stale := upath("other", "通知.pdf")
	good := buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "b.pdf", data: pdf2})
	many := func(n int) []byte {
		var files []zfile
		for i := range n {
			files = append(files, zfile{name: fmt.Sprintf("报告/%03d.pdf", i), data: pdf})
		}
		return buildZip(t, files...)
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}

	tests := []struct {
		name    string
		zip     []byte
		opts    ZipOptions
		reason  string
		entries []wantEntry
		skipped []string
		problem string // a substring of some Problem
		// manySkipped, when set, is how many skipped entries are listed; skipped is not compared.
		manySkipped int
	}{
		{name: "UTF-8 flag set", zip: buildZip(t, zfile{name: "报告/一中简报.pdf", data: pdf}),
			entries: []wantEntry{{"报告/一中简报.pdf", "一中简报.pdf", "pdf", ""}}},
		{name: "GBK names without the flag", zip: buildZip(t,
			zfile{name: gbk("二中/月报.pdf"), data: pdf, nonUTF8: true},
			zfile{name: gbk("誠信承诺书.pdf"), data: pdf2, nonUTF8: true}), // 誠 is D5 5C: a backslash byte
			entries: []wantEntry{{"二中/月报.pdf", "月报.pdf", "pdf", ""}, {"誠信承诺书.pdf", "誠信承诺书.pdf", "pdf", ""}}},
		// GBK 录取 (C2 BC C8 A1) is valid UTF-8 (¼ȡ): the archive's other name shows it is GBK.
		{name: "GBK name that is valid UTF-8 in a GBK archive", zip: buildZip(t,
			zfile{name: gbk("录取.pdf"), data: pdf, nonUTF8: true},
			zfile{name: gbk("名单.pdf"), data: pdf, nonUTF8: true}),
			entries: []wantEntry{{"录取.pdf", "录取.pdf", "pdf", ""}, {"名单.pdf", "名单.pdf", "pdf", ""}}},
		{name: "UTF-8 without the flag (macOS, Info-ZIP)", zip: buildZip(t, zfile{name: "总结.pdf", data: pdf, nonUTF8: true}),
			entries: []wantEntry{{"总结.pdf", "总结.pdf", "pdf", ""}}},
		{name: "flagged UTF-8 that is really GBK", zip: patchEntry(t, buildZip(t, zfile{name: gbk("三中.pdf"), data: pdf, nonUTF8: true}), 0,
			func(b []byte, cd, _ int) {
				binary.LittleEndian.PutUint16(b[cd+8:], binary.LittleEndian.Uint16(b[cd+8:])|0x800)
			}),
			entries: []wantEntry{{"三中.pdf", "三中.pdf", "pdf", ""}}},
		{name: "Unicode Path extra field", zip: buildZip(t, zfile{name: "??.pdf", data: pdf, nonUTF8: true, extra: upath("??.pdf", "通知.pdf")}),
			entries: []wantEntry{{"通知.pdf", "通知.pdf", "pdf", ""}}},
		{name: "stale Unicode Path extra field ignored", zip: buildZip(t, zfile{name: "??.pdf", data: pdf, nonUTF8: true, extra: stale}),
			entries: []wantEntry{{"??.pdf", "??.pdf", "pdf", ""}}},
		{name: "backslashes", zip: buildZip(t, zfile{name: gbk(`材料\四中.pdf`), data: pdf, nonUTF8: true}),
			entries: []wantEntry{{"材料/四中.pdf", "四中.pdf", "pdf", ""}}},
		{name: "folders and junk", zip: buildZip(t,
			zfile{name: "报告/"},
			zfile{name: "报告/一中.pdf", data: pdf},
			zfile{name: "报告/.DS_Store", data: []byte("Bud1")},
			zfile{name: "__MACOSX/"},
			zfile{name: "__MACOSX/报告/._一中.pdf", data: []byte("\x00\x05\x16\x07")},
			zfile{name: "._二中.pdf", data: []byte("\x00\x05\x16\x07")},
			zfile{name: "报告/Thumbs.db", data: []byte("x")},
			zfile{name: "desktop.ini", data: []byte("x")},
			zfile{name: "报告/~$总结.docx", data: []byte("x")},
			zfile{name: "link.pdf", data: []byte("报告/一中.pdf"), mode: fs.ModeSymlink | 0o777},
			zfile{name: "二中.pdf", data: pdf2}),
			entries: []wantEntry{{"报告/一中.pdf", "一中.pdf", "pdf", ""}, {"二中.pdf", "二中.pdf", "pdf", ""}},
			skipped: []string{"报告/ (directory)", "报告/.DS_Store (macOS metadata)", "__MACOSX/ (directory)",
				"__MACOSX/报告/._一中.pdf (macOS metadata)", "._二中.pdf (macOS metadata)", "报告/Thumbs.db (Windows metadata)",
				"desktop.ini (Windows metadata)", "报告/~$总结.docx (Office lock file)", "link.pdf (symlink)"}},
		{name: "nested zip is not opened", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "inner.zip", data: inner}),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"inner.zip", "inner.zip", "archive", "zip_nested"}}},
		{name: "nested zip named .pdf", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "b.pdf", data: inner}),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.pdf", "b.pdf", "archive", "zip_nested"}}},
		{name: "only a nested zip", zip: buildZip(t, zfile{name: "inner.zip", data: inner}), reason: "zip_no_pdf",
			entries: []wantEntry{{"inner.zip", "inner.zip", "archive", "zip_nested"}}},
		{name: "no PDF", zip: buildZip(t, zfile{name: "报告.docx", data: docx(t)}, zfile{name: "说明.txt", data: []byte("Please find the reports attached.\n")},
			zfile{name: "照片.jpg", data: []byte("\xff\xd8\xff\xe0\x00\x10JFIF")}),
			reason:  "zip_no_pdf",
			entries: []wantEntry{{"报告.docx", "报告.docx", "docx", ""}, {"说明.txt", "说明.txt", "text", ""}, {"照片.jpg", "照片.jpg", "image", ""}}},
		{name: "Word document named .pdf with a PDF", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "b.pdf", data: docx(t)}),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.pdf", "b.pdf", "docx", ""}}},
		{name: "empty zip", zip: buildZip(t), reason: "zip_no_pdf"},
		{name: "only folders and junk", zip: buildZip(t, zfile{name: "a/"}, zfile{name: "__MACOSX/._a.pdf", data: []byte("x")}),
			reason: "zip_no_pdf", skipped: []string{"a/ (directory)", "__MACOSX/._a.pdf (macOS metadata)"}},
		{name: "empty file with a PDF", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "空.pdf"}),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"空.pdf", "空.pdf", "empty", ""}}},
		{name: "100 files", zip: many(100), entries: func() []wantEntry {
			var w []wantEntry
			for i := range 100 {
				n := fmt.Sprintf("%03d.pdf", i)
				w = append(w, wantEntry{"报告/" + n, n, "pdf", ""})
			}
			return w
		}()},
		{name: "101 files", zip: many(101), reason: "zip_too_many", problem: "101 files, more than 100"},
		{name: "101 files with a higher limit", zip: many(101), opts: ZipOptions{MaxEntries: 200}, entries: func() []wantEntry {
			var w []wantEntry
			for i := range 101 {
				n := fmt.Sprintf("%03d.pdf", i)
				w = append(w, wantEntry{"报告/" + n, n, "pdf", ""})
			}
			return w
		}()},
		{name: "junk does not count", zip: func() []byte {
			files := []zfile{{name: "a.pdf", data: pdf}}
			for i := range 150 {
				files = append(files, zfile{name: fmt.Sprintf("__MACOSX/._%d.pdf", i), data: []byte("x")})
			}
			return buildZip(t, files...)
		}(), entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}}, manySkipped: 100},
		{name: "parent path", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "../evil.pdf", data: pdf}),
			reason: "zip_unsafe_path", problem: `"../evil.pdf"`},
		{name: "parent path inside", zip: buildZip(t, zfile{name: "a/../../evil.pdf", data: pdf}), reason: "zip_unsafe_path"},
		{name: "parent path in junk", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "__MACOSX/../../._x", data: pdf}),
			reason: "zip_unsafe_path"},
		{name: "absolute path", zip: buildZip(t, zfile{name: "/etc/cron.d/evil.pdf", data: pdf}), reason: "zip_unsafe_path"},
		{name: "drive letter", zip: buildZip(t, zfile{name: `C:\Windows\evil.pdf`, data: pdf}), reason: "zip_unsafe_path"},
		{name: "drive relative", zip: buildZip(t, zfile{name: `d:evil.pdf`, data: pdf}), reason: "zip_unsafe_path"},
		{name: "backslash parent", zip: buildZip(t, zfile{name: `..\evil.pdf`, data: pdf}), reason: "zip_unsafe_path"},
		{name: "UNC path", zip: buildZip(t, zfile{name: `\\server\share\evil.pdf`, data: pdf}), reason: "zip_unsafe_path"},
		{name: "parent path in the Unicode Path field", zip: buildZip(t, zfile{name: "x.pdf", data: pdf, extra: upath("x.pdf", "../x.pdf")}),
			reason: "zip_unsafe_path"},
		{name: "dots that are a name", zip: buildZip(t, zfile{name: "..a/b...pdf", data: pdf}),
			entries: []wantEntry{{"..a/b...pdf", "b...pdf", "pdf", ""}}},
		{name: "encrypted flag", zip: patchEntry(t, good, 1, func(b []byte, cd, local int) {
			b[cd+8] |= 1
			b[local+6] |= 1
		}), reason: "zip_encrypted", entries: []wantEntry{{"a.pdf", "a.pdf", "", ""}, {"b.pdf", "b.pdf", "", ""}}},
		{name: "AES method", zip: patchEntry(t, good, 0, func(b []byte, cd, local int) {
			binary.LittleEndian.PutUint16(b[cd+10:], 99)
			binary.LittleEndian.PutUint16(b[local+8:], 99)
		}), reason: "zip_encrypted", entries: []wantEntry{{"a.pdf", "a.pdf", "", ""}, {"b.pdf", "b.pdf", "", ""}}},
		{name: "encrypted junk is ignored", zip: patchEntry(t, buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "__MACOSX/._a.pdf", data: []byte("x")}), 1,
			func(b []byte, cd, local int) { b[cd+8] |= 1; b[local+6] |= 1 }),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}}, skipped: []string{"__MACOSX/._a.pdf (macOS metadata)"}},
		{name: "truncated", zip: good[:len(good)/2], reason: "zip_damaged", problem: "cannot read the archive"},
		{name: "end of directory only, cut", zip: good[:len(good)-10], reason: "zip_damaged"},
		// The end record puts the directory 1000 bytes later than it is: archive/zip then looks for the
		// local headers 1000 bytes before they are, at negative offsets.
		{name: "directory offset too large", zip: func() []byte {
			b := bytes.Clone(good)
			end := bytes.LastIndex(b, []byte("PK\x05\x06"))
			binary.LittleEndian.PutUint32(b[end+16:], binary.LittleEndian.Uint32(b[end+16:])+1000)
			return b
		}(), reason: "zip_damaged", entries: []wantEntry{{"a.pdf", "a.pdf", "", "zip_damaged"}, {"b.pdf", "b.pdf", "", "zip_damaged"}}},
		{name: "garbage after PK", zip: []byte("PK\x03\x04garbage"), reason: "zip_damaged"},
		{name: "not an archive", zip: pdf, reason: "zip_damaged"},
		{name: "empty file", zip: nil, reason: "zip_damaged"},
		{name: "rar", zip: append([]byte("Rar!\x1a\x07\x01\x00"), random(200)...), reason: "archive_unsupported"},
		{name: "7z", zip: append([]byte("7z\xbc\xaf\x27\x1c\x00\x04"), random(200)...), reason: "archive_unsupported"},
		{name: "gzip", zip: append([]byte{0x1f, 0x8b, 8, 0}, random(200)...), reason: "archive_unsupported"},
		{name: "corrupt data, one of two", zip: patchEntry(t, good, 1, func(b []byte, cd, local int) {
			d := local + 30 + int(binary.LittleEndian.Uint16(b[local+26:])) + int(binary.LittleEndian.Uint16(b[local+28:]))
			for i := d + 20; i < d+60; i++ {
				b[i] ^= 0x55
			}
		}), entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.pdf", "b.pdf", "", "zip_damaged"}}, problem: `"b.pdf"`},
		{name: "CRC mismatch, the only PDF", zip: patchEntry(t, buildZip(t, zfile{name: "a.pdf", data: pdf}), 0, func(b []byte, cd, _ int) {
			b[cd+16] ^= 0xff
		}), reason: "zip_damaged", entries: []wantEntry{{"a.pdf", "a.pdf", "", "zip_damaged"}}, problem: "CRC-32"},
		{name: "header says fewer bytes", zip: patchEntry(t, buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "b.pdf", data: pdf}), 1,
			func(b []byte, cd, _ int) { binary.LittleEndian.PutUint32(b[cd+24:], 100) }),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.pdf", "b.pdf", "", "zip_damaged"}}, problem: "header says 100"},
		{name: "header says more bytes", zip: patchEntry(t, buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "b.pdf", data: pdf}), 1,
			func(b []byte, cd, _ int) { binary.LittleEndian.PutUint32(b[cd+24:], 1<<30) }),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.pdf", "b.pdf", "", "zip_damaged"}}},
		{name: "compressed size beyond the end", zip: patchEntry(t, good, 1, func(b []byte, cd, _ int) {
			binary.LittleEndian.PutUint32(b[cd+20:], 1<<30)
		}), entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.pdf", "b.pdf", "", "zip_damaged"}}},
		{name: "bzip2 method", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "b.pdf", data: []byte("BZh91AY&SY"), method: 12}),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.pdf", "b.pdf", "", "zip_method"}}},
		{name: "bzip2 method only", zip: buildZip(t, zfile{name: "b.pdf", data: []byte("BZh91AY&SY"), method: 12}),
			reason: "zip_method", entries: []wantEntry{{"b.pdf", "b.pdf", "", "zip_method"}}},
		{name: "overlapping entries", zip: duplicateEntry(t, good, 0, "c.pdf"), reason: "zip_bomb", problem: "overlap"},
		{name: "stored entries", zip: buildZip(t, zfile{name: "a.pdf", data: pdf, store: true}),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}}},
		{name: "highly compressible small file is no bomb", zip: buildZip(t, zfile{name: "a.pdf", data: pdf},
			zfile{name: "空白.txt", data: bytes.Repeat([]byte{' '}, 900<<10)}),
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"空白.txt", "空白.txt", "text", ""}}},
		{name: "compressible file over the ratio", zip: buildZip(t, zfile{name: "a.pdf", data: pdf},
			zfile{name: "空白.txt", data: bytes.Repeat([]byte{' '}, 3<<20)}),
			reason: "zip_bomb", entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"空白.txt", "空白.txt", "", "zip_bomb"}}},
		{name: "many small files over the ratio together", zip: func() []byte {
			files := []zfile{{name: "a.pdf", data: pdf}}
			for i := range 60 {
				files = append(files, zfile{name: fmt.Sprintf("%02d.txt", i), data: make([]byte, 900<<10)})
			}
			return buildZip(t, files...)
		}(), reason: "zip_bomb", entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"00.txt", "00.txt", "other", ""},
			{"01.txt", "01.txt", "", "zip_bomb"}}, problem: "in all files so far"},
		{name: "higher ratio allowed", zip: buildZip(t, zfile{name: "a.pdf", data: pdf},
			zfile{name: "空白.txt", data: bytes.Repeat([]byte{' '}, 3<<20)}), opts: ZipOptions{MaxRatio: 5000},
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"空白.txt", "空白.txt", "text", ""}}},
		{name: "total over the limit", zip: buildZip(t, zfile{name: "a.pdf", data: pdf}, zfile{name: "b.bin", data: random(600 << 10), store: true},
			zfile{name: "c.bin", data: random(600 << 10)}), opts: ZipOptions{MaxTotal: 1 << 20}, reason: "zip_too_large",
			entries: []wantEntry{{"a.pdf", "a.pdf", "pdf", ""}, {"b.bin", "b.bin", "other", ""}, {"c.bin", "c.bin", "", "zip_too_large"}}},
		{name: "header lies small, total over the limit", zip: patchEntry(t, buildZip(t, zfile{name: "a.pdf", data: random(3 << 20), store: true}), 0,
			func(b []byte, cd, local int) { binary.LittleEndian.PutUint32(b[cd+24:], 1000) }),
			opts: ZipOptions{MaxTotal: 1 << 20}, reason: "zip_too_large", entries: []wantEntry{{"a.pdf", "a.pdf", "", "zip_too_large"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := unzipBytes(t, tt.zip, tt.opts)
			if res.Reason != tt.reason {
				t.Errorf("reason %q, want %q; problems %q", res.Reason, tt.reason, res.Problems)
			}
			if got := entriesOf(res); !slices.Equal(got, tt.entries) {
				t.Errorf("entries\n got %q\nwant %q\nproblems %q", got, tt.entries, res.Problems)
			}
			if tt.manySkipped > 0 {
				if len(res.Skipped) != tt.manySkipped {
					t.Errorf("%d skipped listed, want %d", len(res.Skipped), tt.manySkipped)
				}
			} else if got := skippedOf(res); !slices.Equal(got, tt.skipped) {
				t.Errorf("skipped\n got %q\nwant %q", got, tt.skipped)
			}
			if tt.problem != "" && !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, tt.problem) }) {
				t.Errorf("no problem mentions %q: %q", tt.problem, res.Problems)
			}
			for _, e := range res.Entries {
				if (e.Path != "") != (res.Reason == "" && e.Reason == "") {
					t.Errorf("%s: path %q with reason %q, archive reason %q", e.Name, e.Path, e.Reason, res.Reason)
				}
				if e.Path == "" {
					continue
				}
				b, err := os.ReadFile(e.Path)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if int64(len(b)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
					t.Errorf("%s: spooled %d bytes sha256 %x; entry says %d %s", e.Name, len(b), sum, e.Size, e.SHA256)
				}
			}
			res.Cleanup()
			for _, e := range res.Entries {
				if e.Path != "" {
					t.Errorf("%s: path left after Cleanup", e.Name)
				}
			}
		})
	}
}

// TestUnzipContent checks that a PDF comes out of the archive byte for byte, and that pdfcheck accepts
// the spooled file as it accepts an attachment.
func TestUnzipContent(t *testing.T) {
	pdf := readCorpus(t, "valid-20pages.pdf")
	res := unzipBytes(t, buildZip(t, zfile{name: gbk("报告/二十页.pdf"), data: pdf, nonUTF8: true}), ZipOptions{})
	if res.Reason != "" || len(res.Entries) != 1 {
		t.Fatalf("reason %q, %d entries", res.Reason, len(res.Entries))
	}
	e := res.Entries[0]
	got, err := os.ReadFile(e.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pdf)
	if !bytes.Equal(got, pdf) || e.SHA256 != hex.EncodeToString(sum[:]) || e.Size != int64(len(pdf)) {
		t.Errorf("spooled file differs from the PDF zipped (%d bytes, sha256 %s)", e.Size, e.SHA256)
	}
	chk := pdfcheck.New(pdfcheck.Options{Timeout: 20 * time.Second}, nil)
	v := chk.CheckFile(context.Background(), e.Path)
	if v.Fault != nil || !v.OK() || v.Pages != 20 {
		t.Errorf("pdfcheck: %+v", v)
	}
}

func TestUnzipFaults(t *testing.T) {
	dir := t.TempDir()
	zp := filepath.Join(dir, "a.zip")
	if err := os.WriteFile(zp, buildZip(t, zfile{name: "a.pdf", data: readCorpus(t, "valid-1page.pdf")}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("missing archive", func(t *testing.T) {
		_, err := Unzip(filepath.Join(dir, "nope.zip"), dir, ZipOptions{})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err %v, want not exist", err)
		}
	})
	t.Run("missing spool folder", func(t *testing.T) {
		res, err := Unzip(zp, filepath.Join(dir, "no-such-dir"), ZipOptions{})
		if !errors.Is(err, fs.ErrNotExist) || res != nil {
			t.Errorf("res %v err %v, want not exist", res, err)
		}
	})
	t.Run("archive is a folder", func(t *testing.T) {
		if _, err := Unzip(dir, dir, ZipOptions{}); err == nil {
			t.Error("no error reading a folder")
		}
	})
}

func TestUnzipContents(t *testing.T) {
	res := &ZipResult{Entries: []ZipEntry{
		{Name: "报告/一中.pdf", Kind: "pdf"}, {Name: "表.xlsx", Kind: "xlsx"}, {Name: "坏.pdf", Reason: "zip_damaged"},
	}}
	for _, tt := range []struct {
		limit int
		want  string
	}{
		{0, "报告/一中.pdf（PDF）、表.xlsx（Excel表格）、坏.pdf"},
		{2, "报告/一中.pdf（PDF）、表.xlsx（Excel表格）等3个文件"},
		{3, "报告/一中.pdf（PDF）、表.xlsx（Excel表格）、坏.pdf"},
	} {
		if got := res.Contents(tt.limit); got != tt.want {
			t.Errorf("Contents(%d) = %q, want %q", tt.limit, got, tt.want)
		}
	}
	if got := (&ZipResult{}).Contents(0); got != "" {
		t.Errorf("empty: %q", got)
	}
}

// zipGolden is what a fixture is expected to give.
type zipGolden struct {
	Reason  string        `json:"reason"`
	Entries []goldenEntry `json:"entries"`
	Skipped []ZipSkip     `json:"skipped"`
}

type goldenEntry struct {
	Name     string `json:"name"`
	Filename string `json:"filename"`
	Kind     string `json:"kind"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Reason   string `json:"reason,omitempty"`
}

// TestUnzipFixtures opens zips made by real tools (testdata/zip/make.sh) and compares with golden files.
func TestUnzipFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "zip", "*.zip"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, zp := range files {
		t.Run(filepath.Base(zp), func(t *testing.T) {
			spool := t.TempDir()
			res, err := Unzip(zp, spool, ZipOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkSpool(t, res, spool)
			defer res.Cleanup()
			g := zipGolden{Reason: res.Reason, Entries: []goldenEntry{}, Skipped: res.Skipped}
			for _, e := range res.Entries {
				g.Entries = append(g.Entries, goldenEntry{e.Name, e.Filename, e.Kind, e.Size, e.SHA256, e.Reason})
			}
			if g.Skipped == nil {
				g.Skipped = []ZipSkip{}
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			gfile := strings.TrimSuffix(zp, ".zip") + ".golden.json"
			if *update {
				if err := os.WriteFile(gfile, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(gfile)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("result differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", gfile, got, want)
			}
		})
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var (
	bombOnce sync.Once
	bombZip  []byte
)

// bomb is a zip of one file of 200 MiB of zeros (about 200 KB), built once.
func bomb(t testing.TB) []byte {
	bombOnce.Do(func() {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		f, err := w.Create("简报.pdf")
		if err != nil {
			panic(err)
		}
		if _, err := io.CopyN(f, zeros{}, 200<<20); err != nil {
			panic(err)
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
		bombZip = b.Bytes()
	})
	return bombZip
}

func TestUnzipBomb(t *testing.T) {
	b := bomb(t)
	for _, tt := range []struct {
		name string
		zip  []byte
		opts ZipOptions
	}{
		{"200 MiB of zeros", b, ZipOptions{}},
		// The headers say the file is 1000 bytes: only the bytes read are believed.
		{"header says 1000 bytes", patchEntry(t, b, 0, func(b []byte, cd, local int) {
			binary.LittleEndian.PutUint32(b[cd+24:], 1000)
			binary.LittleEndian.PutUint32(b[local+22:], 1000)
		}), ZipOptions{}},
		{"the ratio alone stops it", b, ZipOptions{MaxTotal: 300 << 20}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := unzipBytes(t, tt.zip, tt.opts)
			took := time.Since(start)
			if res.Reason != pdfcheck.ReasonZipBomb {
				t.Fatalf("reason %q, want zip_bomb; problems %q", res.Reason, res.Problems)
			}
			if len(res.Entries) != 1 || res.Entries[0].Size > zipRatioSlack+zipChunk {
				t.Errorf("entries %+v: more than %d bytes inflated", res.Entries, zipRatioSlack+zipChunk)
			}
			if took > 2*time.Second {
				t.Errorf("took %v", took)
			}
			t.Logf("%v, problems %q", took, res.Problems)
		})
	}
}

// TestUnzipHugeDirectory: a central directory of 30,000 tiny records is refused while it is read, not
// after archive/zip has built 30,000 structs.
func TestUnzipHugeDirectory(t *testing.T) {
	var files []zfile
	for i := range 30000 {
		files = append(files, zfile{name: fmt.Sprintf("%d", i), store: true})
	}
	res := unzipBytes(t, buildZip(t, files...), ZipOptions{})
	if res.Reason != pdfcheck.ReasonZipTooMany || !slices.ContainsFunc(res.Problems, func(p string) bool {
		return strings.Contains(p, "central directory larger")
	}) {
		t.Errorf("reason %q problems %q", res.Reason, res.Problems)
	}
}

// BenchmarkUnzip measures time and peak heap on the zip bomb, on 100 PDFs (20 KB each) and on a central
// directory of 30,000 records (refused while read): go test ./intake -run '^$' -bench Unzip -benchmem.
func BenchmarkUnzip(b *testing.B) {
	pdf := readCorpus(b, "valid-linearized.pdf")
	var hundred []zfile
	for i := range 100 {
		hundred = append(hundred, zfile{name: fmt.Sprintf("报告/%03d.pdf", i), data: pdf})
	}
	var tiny []zfile
	for i := range 30000 {
		tiny = append(tiny, zfile{name: fmt.Sprintf("%d", i), store: true})
	}
	for _, bc := range []struct {
		name string
		zip  []byte
	}{
		{"bomb-200MiB", bomb(b)},
		{"100-pdfs", buildZip(b, hundred...)},
		{"directory-30000-records", buildZip(b, tiny...)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			zp := filepath.Join(dir, "in.zip")
			if err := os.WriteFile(zp, bc.zip, 0o600); err != nil {
				b.Fatal(err)
			}
			peak := newHeapPeak()
			b.ResetTimer()
			for range b.N {
				spool, err := os.MkdirTemp(dir, "spool-")
				if err != nil {
					b.Fatal(err)
				}
				res, err := Unzip(zp, spool, ZipOptions{})
				if err != nil {
					b.Fatal(err)
				}
				res.Cleanup()
				os.RemoveAll(spool)
			}
			b.StopTimer()
			mb := peak.stop()
			b.ReportMetric(mb, "peak-heap-MB")
			b.Logf("%s: %d bytes zipped, %v per Unzip, peak heap above start %.1f MB", bc.name, len(bc.zip),
				b.Elapsed()/time.Duration(b.N), mb)
		})
	}
}

// heapPeak samples the heap every millisecond until stopped.
type heapPeak struct {
	base uint64
	max  atomic.Uint64
	done chan struct{}
	wg   sync.WaitGroup
}

func newHeapPeak() *heapPeak {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p := &heapPeak{base: m.HeapAlloc, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-p.done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > p.max.Load() {
					p.max.Store(m.HeapAlloc)
				}
			}
		}
	}()
	return p
}

// stop returns the highest heap seen above the start, in MB.
func (p *heapPeak) stop() float64 {
	close(p.done)
	p.wg.Wait()
	if p.max.Load() < p.base {
		return 0
	}
	return float64(p.max.Load()-p.base) / 1e6
}
