package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// checkSafe fails when name is not one harmless path element.
func checkSafe(t *testing.T, in, name string) {
	t.Helper()
	switch {
	case name == "" || name == "." || name == "..":
		t.Errorf("SafeName(%q) = %q: not a file name", in, name)
	case strings.ContainsAny(name, "/\\:*?\"<>|\x00"):
		t.Errorf("SafeName(%q) = %q: contains a separator or a character Windows refuses", in, name)
	case strings.Contains(name, ".."):
		t.Errorf("SafeName(%q) = %q: contains ..", in, name)
	case len(name) > maxNameBytes:
		t.Errorf("SafeName(%q…) is %d bytes, want at most %d", in[:min(len(in), 20)], len(name), maxNameBytes)
	case !utf8.ValidString(name):
		t.Errorf("SafeName(%q) = %q: not valid UTF-8", in, name)
	case !filepath.IsLocal(name) || filepath.Base(name) != name:
		t.Errorf("SafeName(%q) = %q: not a local path element", in, name)
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		t.Errorf("SafeName(%q) = %q: ends with a dot or a space (Windows drops them)", in, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Errorf("SafeName(%q) = %q: contains %U", in, name, r)
		}
	}
}

func TestSafeName(t *testing.T) {
	long := strings.Repeat("忻府区教育科技局关于学习贯彻全省职业教育大会精神的情况简报", 10) // 300 characters, 900 bytes
	tests := []struct {
		name string
		in   string
		want string // "" means only check that it is safe
	}{
		{"ordinary Chinese name", "忻府区教育科技局", "忻府区教育科技局"},
		{"spaces become underscores", "2022年 1月 简报", "2022年_1月_简报"},
		{"path traversal", "../../etc/passwd", "etc_passwd"},
		{"Windows traversal", `..\..\windows\system32`, "windows_system32"},
		{"separators and drive letter", `a/b\c:d`, "a_b_c_d"},
		{"dot dot", "..", "_"},
		{"dot", ".", "_"},
		{"empty", "", "_"},
		{"only separators", "///", "_"},
		{"NUL inside", "a\x00b", "ab"},
		{"control characters", "a\r\nb\tc\x1b[31m", ""},
		{"RTL override hides the real extension", "简报\u202Efdp.exe", "简报fdp.exe"},
		{"zero-width and BOM characters", "\ufeff简\u200b报", "简报"},
		{"invalid UTF-8", "简报\xff\xfe.pdf", "简报.pdf"},
		{"hidden file", ".bashrc", "bashrc"},
		{"trailing dots and spaces", "简报. . ", "简报"},
		{"Windows device name con", "con", ""},
		{"Windows device name CON with extension", "CON.pdf", ""},
		{"Windows device name lpt1", "lpt1", ""},
		{"Windows device name nul", "NUL", ""},
		{"wildcards and quotes", `a*b?"c"<d>|e`, "a_b__c__d__e"},
		{"300 Chinese characters", long, ""},
		{"300 Latin characters then a dot at the cut", strings.Repeat("a", maxNameBytes-1) + ".." + "bbbb", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SafeName(tc.in)
			checkSafe(t, tc.in, got)
			if tc.want != "" && got != tc.want {
				t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("Windows device names are changed", func(t *testing.T) {
		for _, in := range []string{"con", "CON.pdf", "lpt1", "NUL", "aux", "com3.txt", "prn"} {
			got := SafeName(in)
			base, _, _ := strings.Cut(got, ".")
			if isWindowsDevice(strings.ToUpper(base)) {
				t.Errorf("SafeName(%q) = %q: a Windows device name", in, got)
			}
		}
		if got := SafeName("console"); got != "console" {
			t.Errorf("SafeName(console) = %q, want it unchanged", got)
		}
	})
	t.Run("long name keeps the start, whole characters", func(t *testing.T) {
		got := SafeName(long)
		if !strings.HasPrefix(long, got) {
			t.Errorf("SafeName(long) is not a prefix of the name: %q", got)
		}
		if len(got) < maxNameBytes-3 {
			t.Errorf("SafeName(long) is only %d bytes", len(got))
		}
	})
}

func isWindowsDevice(s string) bool {
	switch s {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	return len(s) == 4 && (strings.HasPrefix(s, "COM") || strings.HasPrefix(s, "LPT")) && s[3] >= '0' && s[3] <= '9'
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", "忻府区", "a\x00b", "\u202e", "con", "..", "con", strings.Repeat("简", 100)} {
		f.Add(s)
		f.Add(s + "." + strings.Repeat("x", maxNameBytes))
	}
	f.Fuzz(func(t *testing.T, s string) { checkSafe(t, s, SafeName(s)) })
}

func TestPDFPath(t *testing.T) {
	a := Archive{Root: "/srv/archive"}
	tests := []struct {
		name                            string
		campaign, period, unit, receipt string
		n                               int
		want                            string
	}{
		{"ordinary", "zjdh-study", "2022-01", "忻府区教育科技局", "JB2022-0007", 1, "zjdh-study/2022-01/忻府区教育科技局_JB2022-0007_1.pdf"},
		{"unassigned", "", "", "", "JB2022-0008", 2, "unassigned/none/__JB2022-0008_2.pdf"},
		{"hostile parts", "../..", "../etc", "../../x", "JB/../1", 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := a.PDFPath(tc.campaign, tc.period, tc.unit, tc.receipt, tc.n)
			if !filepath.IsLocal(got) || len(strings.Split(got, "/")) != 3 || strings.Contains(got, `\`) {
				t.Errorf("PDFPath = %q: not three elements inside the archive", got)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("PDFPath = %q, want %q", got, tc.want)
			}
		})
	}
	if got := a.RawPath(2022, "JB2022-0007"); got != "raw/2022/JB2022-0007.eml" {
		t.Errorf("RawPath = %q", got)
	}
}

func TestArchiveSaveOpen(t *testing.T) {
	root := filepath.Join(t.TempDir(), "archive")
	a := Archive{Root: root}
	src := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(src, []byte("%PDF-1.4 test"), 0o644); err != nil {
		t.Fatal(err)
	}
	rel := a.PDFPath("zjdh-study", "2022-01", "忻府区教育科技局", "JB2022-0007", 1)
	if err := a.Save(rel, src); err != nil {
		t.Fatal(err)
	}
	f, err := a.Open(rel)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	if st.Size() != 13 || st.Mode().Perm() != 0o600 {
		t.Errorf("archived file: size %d mode %o, want 13 and 600", st.Size(), st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Join(root, "zjdh-study", "2022-01"))
	if dst == nil || dst.Mode().Perm() != 0o700 {
		t.Errorf("archive folder mode: %v", dst)
	}

	// A file outside the root that the refused paths would reach.
	if err := os.WriteFile(filepath.Join(filepath.Dir(root), "config.yaml"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../config.yaml", "../../config.yaml", "zjdh-study/../../config.yaml", filepath.Join(filepath.Dir(root), "config.yaml"), "/etc/passwd", "", "."} {
		t.Run("refuses "+bad, func(t *testing.T) {
			if f, err := a.Open(bad); err == nil {
				f.Close()
				t.Errorf("Open(%q) succeeded", bad)
			}
			if err := a.Save(bad, src); err == nil {
				t.Errorf("Save(%q) succeeded", bad)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "config.yaml")); err != nil {
		t.Errorf("the file outside the archive was touched: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.db")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := WriteFileAtomic(path, 0o600, func(w io.Writer) error {
		if _, err := w.Write([]byte("half of the new")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the fill error", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "out.db" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v after a failed write, want only out.db", names)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("the old file changed to %q", b)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), 0o600, nil); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}
