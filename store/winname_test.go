package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// windowsNameProblem says why Windows would refuse, or misread, name as one element of a path, following
// Microsoft's "Naming Files, Paths, and Namespaces": "" if it would not. It is written from that page,
// not from SafeName, so that the two check each other.
func windowsNameProblem(name string) string {
	switch {
	case name == "" || name == "." || name == "..":
		return "empty, . or .."
	case !utf8.ValidString(name):
		return "not UTF-8"
	case strings.ContainsAny(name, `<>:"/\|?*`):
		return "a reserved character"
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return "ends with a dot or a space (Windows drops them)"
	case len(utf16.Encode([]rune(name))) > 255:
		return "longer than 255 UTF-16 units"
	}
	for _, r := range name {
		if r < 32 || r == 127 {
			return "a control character"
		}
	}
	// A device name is reserved with any extension, and with spaces before the dot ("NUL .txt").
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	for _, dev := range []string{"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} {
		if strings.EqualFold(base, dev) {
			return "the device name " + dev
		}
	}
	for _, d := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³"} {
		for _, dev := range []string{"COM", "LPT"} {
			if strings.EqualFold(base, dev+d) {
				return "the device name " + dev + d
			}
		}
	}
	return ""
}

// TestSafeNameWindows: whatever the office's units, campaigns and senders are called, the archive's names
// can be created on Windows, and copied there from a Linux backup.
func TestSafeNameWindows(t *testing.T) {
	hostile := []string{
		"CON", "con.pdf", "NUL.tar.gz", "Aux ", "nul .pdf", "CONIN$", "conout$.txt", "COM1", "lpt9.pdf", "COM¹", "lpt³.doc",
		"COM0", "LPT0.x", "a.", "a. . .", "trailing space ", " .leading", "...", "a<b>c", `a:b"c`, "a|b?c*d", `a\b/c`,
		"报送 单位：忻府区？", "\x00\x01\x1f\x7f", "\u202egpj.pdf", "x\ufeffy", strings.Repeat("忻", 200),
		strings.Repeat("a", 179) + ".b", strings.Repeat("𠀀", 100), "COM10", "LPT", "CONSOLE", "nul..pdf",
	}
	for _, in := range hostile {
		if p := windowsNameProblem(SafeName(in)); p != "" {
			t.Errorf("SafeName(%q) = %q: %s", in, SafeName(in), p)
		}
	}
	// The validator itself refuses what it should.
	for _, bad := range []string{"CON", "con.pdf", "NUL .txt", "COM²", "a.", "a ", "a:b", "a\x01", strings.Repeat("a", 256)} {
		if windowsNameProblem(bad) == "" {
			t.Errorf("windowsNameProblem(%q) = ok", bad)
		}
	}
	// Random names from the characters that cause trouble.
	pool := []string{"C", "O", "N", "P", "R", "U", "L", "A", "X", "M", "T", "1", "³", "$", ".", " ", "\t", "<", ">", ":", `"`,
		"/", `\`, "|", "?", "*", "\x00", "\x7f", "\u202e", "\u200b", "忻", "府", "𠀀", "é", "-", "_", "\xff"}
	rng := rand.New(rand.NewPCG(20, 26))
	for i := range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pool[rng.IntN(len(pool))])
		}
		if i%100 == 0 {
			b.WriteString(strings.Repeat("长", rng.IntN(120)))
		}
		in := b.String()
		if p := windowsNameProblem(SafeName(in)); p != "" {
			t.Fatalf("SafeName(%q) = %q: %s", in, SafeName(in), p)
		}
	}
}

// TestArchivePathsPortable: the paths kept in receipts use "/" on every OS, so a database and its archive
// copied from a Windows PC to a Linux server (or back) still find their files.
func TestArchivePathsPortable(t *testing.T) {
	root := t.TempDir()
	a := Archive{Root: root}
	src := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(src, []byte("%PDF-1.4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{a.PDFPath("zjdh-study", "2022-01", "忻府区:教育/科技局", "JB2022-0007", 1), a.RawPath(2022, "JB2022-0007")} {
		if strings.Contains(rel, `\`) || !strings.Contains(rel, "/") {
			t.Errorf("%q: want / between the parts", rel)
		}
		if err := a.Save(rel, src); err != nil {
			t.Fatal(err)
		}
		f, err := a.Open(rel)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, part := range strings.Split(rel, "/") {
			if p := windowsNameProblem(part); p != "" {
				t.Errorf("%q: part %q: %s", rel, part, p)
			}
		}
	}
	if _, err := a.Open(fmt.Sprintf("..%c..%cetc", filepath.Separator, filepath.Separator)); err == nil {
		t.Error("Open outside the archive succeeded")
	}
}
