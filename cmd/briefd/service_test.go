package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"briefd/config"
)

// TestServiceSID: the SIDs Windows gives well-known services' virtual accounts.
func TestServiceSID(t *testing.T) {
	for name, want := range map[string]string{
		"TrustedInstaller": "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
		"trustedinstaller": "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", // names are upper-cased first
		"MSSQLSERVER":      "S-1-5-80-3880718306-3832830129-1677859214-2598158968-1052248003",
	} {
		if got := serviceSID(name); got != want {
			t.Errorf("serviceSID(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestPrivateDACL(t *testing.T) {
	got := privateDACL("S-1-5-21-1-2-3-1001", serviceSID("briefd"))
	want := "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-21-1-2-3-1001)(A;OICI;FA;;;" + serviceSID("briefd") + ")"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCheckPrivateFolder(t *testing.T) {
	keep := []string{`C:\ProgramData`, `C:\Program Files`, `C:\Windows`, `C:\Users`, `C:\Users\kejizhang`, `C:\Users\kejizhang\Desktop`}
	tests := []struct {
		dir string
		ok  bool
	}{
		{`C:\ProgramData\briefd`, true},
		{`c:/programdata/briefd/`, true},
		{`D:\briefd`, true},
		{`C:\Users\kejizhang\Desktop\briefd`, true}, // a folder of its own, even on the desktop
		{`C:\ProgramData`, false},
		{`c:\programdata\`, false},
		{`C:\`, false},
		{`D:`, false},
		{`C:\Users`, false},
		{`C:\Users\kejizhang`, false},
		{`C:\Users\KEJIZHANG\desktop`, false},
		{`C:\Program Files`, false},
	}
	for _, tt := range tests {
		err := checkPrivateFolder(tt.dir, keep)
		if (err == nil) != tt.ok {
			t.Errorf("checkPrivateFolder(%q) = %v, want ok %v", tt.dir, err, tt.ok)
		}
	}
	if !winPathWithin(`C:\ProgramData\briefd\data\archive`, `c:/programdata/BRIEFD`) || winPathWithin(`C:\ProgramData\briefd2`, `C:\ProgramData\briefd`) {
		t.Error("winPathWithin")
	}
}

func TestPlanService(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	t.Chdir(dir) // as the service reads its config
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const head = `office: {name: 科, address: a@example.cn}
imap: {server: "imap.example.cn:993", username: a@example.cn, password_file: imap.pass}
smtp: {server: "smtp.example.cn:465", username: a@example.cn}
units: [{id: u, name: 单位, emails: [u@example.cn]}]
campaigns: [{id: c, title: 简报, units: all, opens: 2022-01-05, due: 2022-01-31}]
`
	tests := []struct {
		name, store string
		folders     []string
		log         string
	}{
		{"all inside the config's folder", "store: {path: data/briefd.db, archive: data/archive}\n",
			[]string{dir}, filepath.Join(dir, "data", "briefd.log")},
		{"archive elsewhere", "store: {path: data/briefd.db, archive: " + filepath.Join(other, "archive") + "}\n",
			[]string{dir, filepath.Join(other, "archive")}, filepath.Join(dir, "data", "briefd.log")},
		{"database elsewhere", "store: {path: " + filepath.Join(other, "db", "briefd.db") + ", archive: archive, spool: spool}\n",
			[]string{dir, filepath.Join(other, "db")}, filepath.Join(other, "db", "briefd.log")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgPath := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(cfgPath, []byte(head+tt.store), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(cfgPath, noEnv, false)
			if err != nil {
				t.Fatal(err)
			}
			p := planService("briefd", cfgPath, cfg)
			if !slices.Equal(p.folders, tt.folders) || p.logPath != tt.log || p.workDir != dir {
				t.Errorf("folders %q, log %s, work dir %s; want %q, %s, %s", p.folders, p.logPath, p.workDir, tt.folders, tt.log, dir)
			}
			// IMAP reads a file; SMTP's password would come from a variable the service does not see.
			if len(p.warnings) != 1 || !strings.HasPrefix(p.warnings[0], "smtp:") || !strings.Contains(p.warnings[0], "BRIEFD_SMTP_PASSWORD") {
				t.Errorf("warnings %q", p.warnings)
			}
		})
	}
	if got := serviceCommandLine("briefd", `C:\ProgramData\briefd\config.yaml`); !slices.Equal(got,
		[]string{"service", "run", "-name", "briefd", "-config", `C:\ProgramData\briefd\config.yaml`}) {
		t.Errorf("command line %q", got)
	}
	if serviceAccount("briefd") != `NT SERVICE\briefd` {
		t.Error(serviceAccount("briefd"))
	}
}

// serviceManager is the service manager's side of runService in a test.
type serviceManager struct {
	mu      sync.Mutex
	reports []serviceState
}

func (m *serviceManager) report(s serviceState) {
	m.mu.Lock()
	m.reports = append(m.reports, s)
	m.mu.Unlock()
}

func (m *serviceManager) seen() []serviceState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.reports)
}

func TestRunService(t *testing.T) {
	t.Run("stop", func(t *testing.T) {
		m := &serviceManager{}
		reqs := make(chan serviceRequest)
		finished := make(chan struct{})
		var cancelled time.Time
		code := make(chan int, 1)
		go func() {
			code <- runService(reqs, m.report, 10*time.Millisecond, func(ctx context.Context) int {
				<-ctx.Done()
				cancelled = time.Now()
				time.Sleep(80 * time.Millisecond) // the work in hand
				close(finished)
				return 0
			})
		}()
		reqs <- askInterrogate
		reqs <- askStop
		reqs <- askStop // a second request changes nothing
		if c := <-code; c != 0 {
			t.Errorf("exit %d", c)
		}
		select {
		case <-finished:
		default:
			t.Error("runService returned before the daemon finished")
		}
		got := m.seen()
		if len(got) < 5 || got[0] != serviceStarting || got[1] != serviceRunning || got[2] != serviceRunning || got[3] != serviceStopping {
			t.Fatalf("reports %v", got)
		}
		ticks := 0
		for _, s := range got[3:] {
			if s != serviceStopping {
				t.Fatalf("reports %v: state after stopping", got)
			}
			ticks++
		}
		if ticks < 4 { // two for the requests, and at least two ticks in 80 ms at 10 ms
			t.Errorf("%d stopping reports while the daemon finished, want progress every tick: %v", ticks, got)
		}
		if cancelled.IsZero() {
			t.Error("context not cancelled")
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		m := &serviceManager{}
		reqs := make(chan serviceRequest, 1)
		reqs <- askShutdown
		c := runService(reqs, m.report, time.Second, func(ctx context.Context) int { <-ctx.Done(); return 0 })
		if c != 0 || !slices.Contains(m.seen(), serviceStopping) {
			t.Errorf("exit %d, reports %v", c, m.seen())
		}
	})
	t.Run("requests closed", func(t *testing.T) {
		m := &serviceManager{}
		reqs := make(chan serviceRequest)
		close(reqs)
		c := runService(reqs, m.report, time.Second, func(ctx context.Context) int { time.Sleep(50 * time.Millisecond); return 3 })
		if got := m.seen(); c != 3 || len(got) != 2 {
			t.Errorf("exit %d, reports %v; want 3 and starting, running", c, got)
		}
	})
	t.Run("daemon fails", func(t *testing.T) {
		m := &serviceManager{}
		c := runService(make(chan serviceRequest), m.report, time.Second, func(ctx context.Context) int { return 1 })
		if c != 1 {
			t.Errorf("exit %d, want the daemon's 1 (a failure for the recovery actions)", c)
		}
		if got := m.seen(); slices.Contains(got, serviceStopping) {
			t.Errorf("reports %v", got)
		}
	})
}

func TestRotatingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "briefd.log")
	if err := os.WriteFile(p, []byte(strings.Repeat("a", 60)), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := openRotating(p, 100)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("b", 29) + "\n"
	for range 4 { // 60 + 30 fits; the next one starts a new file, which then takes three lines
		if _, err := r.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(p + ".1")
	cur, _ := os.ReadFile(p)
	if string(old) != strings.Repeat("a", 60)+line || string(cur) != strings.Repeat(line, 3) {
		t.Errorf("briefd.log.1 %q, briefd.log %q", old, cur)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, %v", fi.Mode(), err)
		}
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Error("write after close succeeded")
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
