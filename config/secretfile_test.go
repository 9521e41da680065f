package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPasswordFileFromNotepad: a password file saved by Windows Notepad (a UTF-8 BOM, CRLF) gives the
// password itself.
func TestPasswordFileFromNotepad(t *testing.T) {
	for name, content := range map[string]string{
		"BOM and CRLF": "\ufeff授权码abc\r\n",
		"BOM":          "\ufeff授权码abc",
		"LF":           "授权码abc\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "imap.pass")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := Secret{PasswordFile: p}
			if got, err := s.resolve(func(string) string { return "" }); err != nil || got != "授权码abc" {
				t.Errorf("resolve = %q, %v", got, err)
			}
		})
	}
}
