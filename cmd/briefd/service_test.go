package main

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"briefd/winsvc"
)

// TestServiceSettings: what winsvc is told of the config: the store's paths as written, and only the
// passwords that come from environment variables (SMTP's default one here; IMAP's is in a file).
func TestServiceSettings(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // as the service reads its config
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(`office: {name: 科, address: a@example.cn}
imap: {server: "imap.example.cn:993", username: a@example.cn, password_file: imap.pass}
smtp: {server: "smtp.example.cn:465", username: a@example.cn}
units: [{id: u, name: 单位, emails: [u@example.cn]}]
campaigns: [{id: c, title: 简报, units: all, opens: 2022-01-05, due: 2022-01-31}]
store: {path: data/briefd.db, archive: /srv/briefd/archive, spool: spool}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := serviceSettings(cfgPath, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s.DBPath != "data/briefd.db" || s.Archive != "/srv/briefd/archive" || s.Spool != "spool" ||
		!slices.Equal(s.EnvSecrets, []winsvc.EnvSecret{{Key: "smtp", Env: "BRIEFD_SMTP_PASSWORD"}}) {
		t.Errorf("settings %+v", s)
	}
	if _, err := serviceSettings(filepath.Join(dir, "missing.yaml"), noEnv); err == nil {
		t.Error("a missing config gave settings")
	}
}

// TestServiceCommand: the command's usage, and what it says where there are no Windows services.
func TestServiceCommand(t *testing.T) {
	for _, args := range [][]string{{"service"}, {"service", "restart"}, {"service", "install", "extra"}} {
		if code, _, errOut := run(t, noEnv, args...); code != 2 || !strings.Contains(errOut, "briefd service") {
			t.Errorf("briefd %q: exit %d, %q", args, code, errOut)
		}
	}
	if runtime.GOOS == "windows" {
		return
	}
	code, _, errOut := run(t, noEnv, "service", "install")
	if code != 2 || !strings.Contains(errOut, "for Windows") || !strings.Contains(errOut, "systemd") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}
