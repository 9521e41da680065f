package booklet

import (
	"archive/zip"
	"compress/flate"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"briefd/internal/pdfcpuconf"
)

// ListName is the name of the list inside the zip.
const ListName = "清单.csv"

// maxNameRunes bounds the unit-name part of a file name in the zip, so that the whole path stays well
// inside Windows' limits once extracted.
const maxNameRunes = 40

// zipFlagUTF8 is the general-purpose flag bit saying a name is UTF-8 (APPNOTE 4.4.4, bit 11).
const zipFlagUTF8 = 0x800

// ZipName is the name of a unit's n-th file (from 1) in the zip: <序号>_<单位名>_<回执编号>_<n>.pdf, the
// sequence number padded to width digits, characters Windows refuses in names replaced by "_".
func ZipName(seq, width int, name, receipt string, n int) string {
	if receipt == "" {
		receipt = "无回执"
	}
	return fmt.Sprintf("%0*d_%s_%s_%d.pdf", width, seq, safeName(name, maxNameRunes), safeName(receipt, 32), n)
}

// safeName makes s usable as part of a file name on Windows, Linux and macOS: / \ : * ? " < > | and
// control or format characters become "_", spaces and dots at the ends go, and it is cut to maxRunes.
func safeName(s string, maxRunes int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "_") {
		if n == maxRunes {
			break
		}
		switch {
		case strings.ContainsRune(`/\:*?"<>|`, r), unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			r = '_'
		case unicode.IsSpace(r):
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	out := strings.Trim(b.String(), " .")
	if out == "" {
		return "_"
	}
	return out
}

// seqWidth is the digits of the largest sequence number, at least 2.
func seqWidth(units []Unit) int {
	w := 2
	for i := range units {
		w = max(w, len(strconv.Itoa(seqOf(units, i))))
	}
	return w
}

// WriteZip writes to w a zip of every reporting unit's files in the given order, named by ZipName and
// stored with the UTF-8 name flag, followed by 清单.csv (UTF-8 with a byte order mark, for Excel and WPS):
// one row per unit with its state, receipt, time received, files in the zip and their pages. A file that
// cannot be read is left out and returned as a Problem (the list says so too). The error is for the
// caller's mistakes, a failed write or ctx ending; w then holds a partial zip.
func WriteZip(ctx context.Context, w io.Writer, units []Unit, o Options) ([]Problem, error) {
	if err := validate(units); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	pdfcpuconf.NoConfigDir()
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed) // PDFs are mostly compressed already
	})
	width := seqWidth(units)
	var problems []Problem
	rows := [][]string{{"序号", "单位", "状态", "回执编号", "收到时间", "文件", "页数", "备注"}}
	for i, u := range units {
		if err := ctx.Err(); err != nil {
			return problems, err
		}
		var names, notes []string
		pages, uncounted := 0, false
		for k, f := range u.Files {
			name := ZipName(seqOf(units, i), width, u.Name, u.Receipt, k+1)
			err := addZipFile(zw, name, f, u.Received)
			if err != nil {
				if we, ok := errors.AsType[*writeError](err); ok {
					return problems, we.err
				}
				problems = append(problems, Problem{Unit: i, Name: u.Name, Receipt: u.Receipt, File: f, Err: err})
				notes = append(notes, fmt.Sprintf("第 %d 份文件无法读取，未放入压缩包", k+1))
				continue
			}
			names = append(names, name)
			n, err := countPages(ctx, f, o)
			if err != nil {
				notes = append(notes, fmt.Sprintf("第 %d 份文件的页数无法读出", k+1))
				uncounted = true
				continue
			}
			pages += n
		}
		if u.reporting() && len(u.Files) == 0 {
			notes = append(notes, "没有可用的文件")
		}
		received := ""
		if !u.Received.IsZero() {
			received = u.Received.In(o.Location).Format("2006-01-02 15:04")
		}
		pageCell := ""
		if len(names) > 0 && !uncounted {
			pageCell = strconv.Itoa(pages)
		}
		rows = append(rows, []string{strconv.Itoa(seqOf(units, i)), csvSafe(clean(u.Name)), StateWord(u.State),
			csvSafe(u.Receipt), received, strings.Join(names, "; "), pageCell, strings.Join(notes, "；")})
	}
	hdr := &zip.FileHeader{Name: ListName, Method: zip.Deflate, Flags: zipFlagUTF8, Modified: time.Now().In(o.Location)}
	lw, err := zw.CreateHeader(hdr)
	if err != nil {
		return problems, fmt.Errorf("write zip: %w", err)
	}
	if _, err := io.WriteString(lw, "\uFEFF"); err != nil {
		return problems, fmt.Errorf("write zip: %w", err)
	}
	cw := csv.NewWriter(lw)
	cw.UseCRLF = true // what Excel writes
	if err := cw.WriteAll(rows); err != nil {
		return problems, fmt.Errorf("write zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return problems, fmt.Errorf("write zip: %w", err)
	}
	return problems, nil
}

// writeError marks a failure to write the zip, as opposed to one to read a source file.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// addZipFile copies the file at path into the zip. The file is opened before its entry is made, so a
// missing file leaves no empty entry behind.
func addZipFile(zw *zip.Writer, name, path string, mod time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	if mod.IsZero() {
		mod = fi.ModTime()
	}
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Flags: zipFlagUTF8, Modified: mod}
	zf, err := zw.CreateHeader(hdr)
	if err != nil {
		return &writeError{fmt.Errorf("write zip: %w", err)}
	}
	if _, err := io.Copy(zf, f); err != nil {
		// the entry is started: the zip cannot be kept consistent, whichever side failed
		return &writeError{fmt.Errorf("write zip entry %s: %w", name, err)}
	}
	return nil
}

// countPages parses a file to count its pages, as the booklet would find them.
func countPages(ctx context.Context, path string, o Options) (int, error) {
	src, err := openSource(ctx, path, o)
	if err != nil {
		return 0, err
	}
	return len(src.pages), nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if r, _ := utf8.DecodeRuneInString(s); strings.ContainsRune("=+-@\t\r", r) {
		return "'" + s
	}
	return s
}
