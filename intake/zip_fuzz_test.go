package intake

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"briefd/pdfcheck"
)

// FuzzUnzip feeds archives to Unzip. Whatever comes in, it returns no error (the spool folder works), the
// archive's reason is one of the zip codes, exactly the entries' paths are left spooled, and names are
// valid UTF-8 without control characters or unsafe paths. Seeds: the fixtures in testdata/zip and a few
// archives built as in zip_test.go; and testdata/fuzz/FuzzUnzip/.
func FuzzUnzip(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "zip", "*.zip"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	pdf := readCorpus(f, "valid-1page.pdf")
	good := buildZip(f, zfile{name: "a/b.pdf", data: pdf}, zfile{name: gbk("报告.pdf"), data: pdf, nonUTF8: true},
		zfile{name: "c.pdf", data: pdf, store: true}, zfile{name: "d.zip", data: buildZip(f, zfile{name: "x.pdf", data: pdf})})
	f.Add(good)
	f.Add(duplicateEntry(f, good, 0, "a/c.pdf"))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	reasons := []string{"", pdfcheck.ReasonZipNoPDF, pdfcheck.ReasonZipEncrypted, pdfcheck.ReasonZipTooMany,
		pdfcheck.ReasonZipTooLarge, pdfcheck.ReasonZipBomb, pdfcheck.ReasonZipUnsafePath, pdfcheck.ReasonZipDamaged,
		pdfcheck.ReasonZipMethod, pdfcheck.ReasonArchiveOther}
	// One folder for all runs, in memory when it can be: creating and removing folders on every run
	// costs far more than Unzip on some disks.
	base := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "fuzzunzip-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	zp, spool := filepath.Join(dir, "in.zip"), filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(zp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := Unzip(zp, spool, ZipOptions{MaxTotal: 4 << 20})
		if err != nil {
			t.Fatalf("Unzip: %v", err)
		}
		checkSpool(t, res, spool)
		if !slices.Contains(reasons, res.Reason) {
			t.Errorf("reason %q", res.Reason)
		}
		for _, e := range res.Entries {
			for _, s := range []string{e.Name, e.Filename} {
				if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Errorf("name %q", s)
				}
			}
			if unsafeZipPath(e.Name) || strings.Contains(e.Filename, "/") || e.Filename == "" {
				t.Errorf("entry %q named %q", e.Name, e.Filename)
			}
		}
		res.Cleanup()
	})
}
