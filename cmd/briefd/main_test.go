package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/config"
	"briefd/demo"
	"briefd/internal/mailtest"
	"briefd/pdfcheck"
)

// TestMain lets the test binary act as the briefd binary: as the isolated PDF checker (pdfcheck re-executes
// the running binary), and as `briefd` itself when BRIEFD_TEST_MAIN is set, so tests can run commands
// as subprocesses the way a user does.
func TestMain(m *testing.M) {
	pdfcheck.MaybeWorker()
	if os.Getenv("BRIEFD_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// briefdCommand returns a command that runs this test binary as `briefd args...`.
func briefdCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "BRIEFD_TEST_MAIN=1")
	return cmd
}

// TestDemo runs `briefd demo` as a subprocess, as the README tells a newcomer to, and checks that its
// output gives every sample its expected verdict, shows a reply and the status, and cleans up. Its run time is logged (target: under 10 s).
func TestDemo(t *testing.T) {
	cmd := briefdCommand(t, "demo")
	cmd.Env = append(cmd.Env, "TMPDIR="+t.TempDir())
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("briefd demo: %v\n%s", err, out)
	}
	t.Logf("briefd demo took %s", took.Round(time.Millisecond))
	text := string(out)
	samples, err := mailtest.Samples(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		found := false
		for _, line := range strings.Split(text, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == s.Name {
				found = true
				if f[1] != s.Verdict {
					t.Errorf("sample %s: verdict %s, want %s", s.Name, f[1], s.Verdict)
				}
			}
		}
		if !found {
			t.Errorf("the demo's output does not name sample %s", s.Name)
		}
	}
	for _, want := range []string{"回执：已收到《原平市简报》", "附件是Word文档，不是PDF", "== The weekly summary", "报送情况周报",
		"逾期报送 1", "待确认来信", "zhang.teacher@example.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	left, _ := os.ReadDir(cmd.Env[len(cmd.Env)-1][len("TMPDIR="):])
	if len(left) != 0 {
		t.Errorf("the demo left %d files in its temp folder", len(left))
	}
}

// writeDemoConfig writes the demo's config around servers of a test's own (its state in dir, the
// dashboard on 8080 when it is free) and returns its path.
func writeDemoConfig(dir, imapAddr, smtpAddr string, now time.Time) (string, error) {
	c, err := demo.Config(dir, imapAddr, smtpAddr, freePort(8080), now)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "config.yaml")
	return path, config.Write(path, c)
}
