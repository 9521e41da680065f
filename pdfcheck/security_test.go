package pdfcheck

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// needTool skips the test when a program is not installed, except under CI (CI set), where that fails.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found; it is required when CI is set: %v", name, err)
		}
		t.Skipf("%s not found: install it to run this test", name)
	}
}

// encCase is an encrypted file and the verdict a viewer gives it.
type encCase struct {
	name      string
	build     func(t *testing.T, dir string) string // returns the file's path
	ok        bool
	encrypted bool
	// known, when set, is our reason where we fall short of poppler: pdfcpu cannot decrypt what poppler
	// decrypts, and the structure cannot be read undecrypted either.
	known string
}

// TestEncryptionAsPoppler checks files encrypted by qpdf at every revision of the standard security
// handler, with and without a user password, and files derived from them by editing the encryption
// dictionary the ways real producers get it wrong. The expected verdict is poppler's: when pdfinfo is
// installed the test also asserts that pdfinfo agrees, so the expectations cannot drift from poppler.
func TestEncryptionAsPoppler(t *testing.T) {
	needTool(t, "qpdf")
	const src = "testdata/corpus/valid-v1.4.pdf" // 2 pages
	qpdf := func(out string, args ...string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, out)
			enc, extra, _ := strings.Cut(strings.Join(args, "\x00"), "\x00--\x00") // "--" ends the encryption options
			cmd := append([]string{"--allow-weak-crypto", "--encrypt"}, strings.Split(enc, "\x00")...)
			cmd = append(cmd, "--")
			if extra != "" {
				cmd = append(cmd, strings.Split(extra, "\x00")...)
			}
			cmd = append(cmd, src, p)
			if b, err := exec.Command("qpdf", cmd...).CombinedOutput(); err != nil {
				t.Fatalf("qpdf %q: %v: %s", cmd, err, b)
			}
			return p
		}
	}
	// edit derives a file from a qpdf one by replacing, exactly once, what re matches with repl
	// (expanded as in regexp.Expand).
	edit := func(from func(*testing.T, string) string, re, repl string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := from(t, dir)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rx := regexp.MustCompile(re)
			if n := len(rx.FindAllIndex(b, -1)); n != 1 {
				t.Fatalf("edit %q: %d matches in %s", re, n, p)
			}
			b = rx.ReplaceAll(b, []byte(repl))
			out := p[:len(p)-4] + "-edited.pdf"
			if err := os.WriteFile(out, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	userRC4 := qpdf("user-rc4-128.pdf", "user", "owner", "128", "--use-aes=n")
	userAES := qpdf("user-aes-128.pdf", "user", "owner", "128", "--use-aes=y")
	userR6 := qpdf("user-aes-256.pdf", "user", "owner", "256")
	cases := []encCase{
		// qpdf at each revision: R2 (RC4 40), R3 (RC4 128), R4 (AES-128), R5, R6 (AES-256)
		{"R2 owner password only", qpdf("o-r2.pdf", "", "owner", "40"), true, true, ""},
		{"R2 user password", qpdf("u-r2.pdf", "user", "owner", "40"), false, true, ""},
		{"R3 owner password only", qpdf("o-r3.pdf", "", "owner", "128", "--use-aes=n"), true, true, ""},
		{"R3 user password", userRC4, false, true, ""},
		{"R4 AES-128 owner password only", qpdf("o-r4.pdf", "", "owner", "128", "--use-aes=y"), true, true, ""},
		{"R4 AES-128 owner only, metadata in clear", qpdf("o-r4-clear.pdf", "", "owner", "128", "--use-aes=y", "--cleartext-metadata"), true, true, ""},
		{"R4 AES-128 user password", userAES, false, true, ""},
		{"R5 owner password only", qpdf("o-r5.pdf", "", "owner", "256", "--force-R5"), true, true, ""},
		{"R5 user password", qpdf("u-r5.pdf", "user", "owner", "256", "--force-R5"), false, true, ""},
		{"R5 empty owner password", qpdf("e-r5.pdf", "user", "", "256", "--force-R5", "--allow-insecure"), true, true, ""},
		{"R6 owner password only", qpdf("o-r6.pdf", "", "owner", "256"), true, true, ""},
		{"R6 user password", userR6, false, true, ""},
		{"R6 empty owner password", qpdf("e-r6.pdf", "user", "", "256", "--allow-insecure"), true, true, ""},
		// pdfcpu never tries an empty owner password for AES-256; without object streams the structure is
		// read undecrypted, with them it cannot be: not judged (check_failed), rather than called damaged.
		{"R6 empty owner password, object streams",
			qpdf("e-r6-objstm.pdf", "user", "", "256", "--allow-insecure", "--", "--object-streams=generate"), true, true, ReasonCheckFailed},
		// R3 whose owner password is empty and user password is not (qpdf cannot make one: it uses the user
		// password as owner password): Algorithm 7 recovers the user password from /O.
		{"R3 empty owner password", emptyOwnerRC4(userRC4), true, true, ""},
		{"R4 empty owner password", emptyOwnerRC4(userAES), true, true, ""},
		// what poppler reads as not encrypted
		{"R6 with /Identity stream and string filters (an /EFOpen file)",
			edit(userR6, `/StmF /StdCF /StrF /StdCF`, `/StmF /Identity /StrF /Identity`), true, false, ""},
		{"V4 with different stream and string filters",
			edit(userAES, `/StrF /StdCF`, `/StrF /Identity`), true, false, ""},
		{"unknown revision", edit(userRC4, `/R 3`, `/R 9`), true, false, ""},
		{"/U of the wrong type", edit(userRC4, `/U <`, `/U 1 <`), true, false, ""},
		{"/Encrypt points at no object", edit(userRC4, `/Encrypt \d+ 0 R`, `/Encrypt 999 0 R`), true, false, ""},
		// what poppler cannot open
		{"certificate security handler", edit(userRC4, `/Filter /Standard`, `/Filter /Adobe.PubSec`), false, true, ""},
		{"encryption dictionary written into the trailer", directEncrypt(userR6), false, true, ""},
	}
	var pdfinfoOK bool
	if _, err := exec.LookPath("pdfinfo"); err == nil {
		pdfinfoOK = true
	} else {
		t.Log("pdfinfo not installed: the expectations are not compared with poppler")
	}
	c := newTestChecker(t, Options{})
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.build(t, dir)
			if pdfinfoOK {
				if pv := pdfinfo(p); pv.opens != tc.ok {
					t.Fatalf("pdfinfo opens=%v (%s), the case expects %v: fix the case", pv.opens, pv.msg, tc.ok)
				}
			}
			v := c.CheckFile(context.Background(), p)
			switch {
			case tc.known != "":
				if v.Reason != tc.known {
					t.Errorf("got %s/%s, want the known shortfall %s; warnings %q", v.Verdict, v.Reason, tc.known, v.Warnings)
				}
			case tc.ok && (!v.OK() || v.Pages != 2):
				t.Errorf("got %s/%s %d pages, want ok with 2 pages; warnings %q", v.Verdict, v.Reason, v.Pages, v.Warnings)
			case !tc.ok && v.Reason != ReasonPassword:
				t.Errorf("got %s/%s, want %s; warnings %q", v.Verdict, v.Reason, ReasonPassword, v.Warnings)
			}
			if v.Encrypted != tc.encrypted {
				t.Errorf("Encrypted = %v, want %v; warnings %q", v.Encrypted, tc.encrypted, v.Warnings)
			}
		})
	}
}

var (
	hexORE = regexp.MustCompile(`/O <([0-9a-f]{64})>`)
	hexURE = regexp.MustCompile(`/U <([0-9a-f]{64})>`)
	idRE   = regexp.MustCompile(`/ID \[ ?<([0-9a-f]+)>`)
	rRE    = regexp.MustCompile(`/R (\d)`)
)

// emptyOwnerRC4 rewrites /O and /U of a qpdf R3 or R4 file (128-bit key) as a producer would for the
// owner password "" and the user password "user" (ISO 32000-1 Algorithms 3 and 5). The file key changes,
// so the content no longer decrypts, but a viewer still opens the file and counts its pages.
func emptyOwnerRC4(from func(*testing.T, string) string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := from(t, dir)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		id, err := hex.DecodeString(string(idRE.FindSubmatch(b)[1]))
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		// Algorithm 3: O from the owner password "" and the user password
		sum := md5.Sum(padPassword(nil))
		key := sum[:]
		for range 50 {
			s := md5.Sum(key[:n])
			key = s[:]
		}
		o := rc4Apply(key[:n], padPassword([]byte("user")))
		for i := 1; i <= 19; i++ {
			tmp := make([]byte, n)
			for j := range tmp {
				tmp[j] = key[j] ^ byte(i)
			}
			o = rc4Apply(tmp, o)
		}
		// Algorithm 5: U from the user password
		fk := rc4FileKey([]byte("user"), o, uint32(0xfffffffc), id, 3, n, true) // qpdf writes /P -4
		h := md5.New()
		h.Write(passwordPad)
		h.Write(id)
		u := rc4Apply(fk, h.Sum(nil))
		for i := 1; i <= 19; i++ {
			tmp := make([]byte, n)
			for j := range tmp {
				tmp[j] = fk[j] ^ byte(i)
			}
			u = rc4Apply(tmp, u)
		}
		u = append(u, make([]byte, 16)...)
		if !bytes.Contains(b, []byte("/P -4 ")) || rRE.FindSubmatch(b) == nil {
			t.Fatalf("%s: not the qpdf dictionary this test knows", p)
		}
		b = hexORE.ReplaceAll(b, []byte(fmt.Sprintf("/O <%x>", o)))
		b = hexURE.ReplaceAll(b, []byte(fmt.Sprintf("/U <%x>", u)))
		out := p[:len(p)-4] + "-emptyowner.pdf"
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// directEncrypt moves a qpdf file's encryption dictionary into its trailer (/Encrypt << ... >> instead of
// a reference), which pdfcpu ignores and poppler does not.
func directEncrypt(from func(*testing.T, string) string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := from(t, dir)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ref := regexp.MustCompile(`/Encrypt (\d+) 0 R`).FindSubmatch(b)
		if ref == nil {
			t.Fatalf("%s: no /Encrypt reference", p)
		}
		obj := regexp.MustCompile(`(?s)\n` + string(ref[1]) + ` 0 obj\n(<<.*?>>)\nendobj`).FindSubmatch(b)
		if obj == nil {
			t.Fatalf("%s: encryption dictionary %s not found", p, ref[1])
		}
		b = bytes.Replace(b, ref[0], append([]byte("/Encrypt "), obj[1]...), 1)
		out := p[:len(p)-4] + "-direct.pdf"
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
}
