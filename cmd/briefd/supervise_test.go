package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
)

// TestRunPartCannotStart: `briefd run` whose dashboard port is taken, or whose control socket cannot be
// made, exits 1 at once with one line saying which part and which address — never a daemon without a
// dashboard or without its socket.
func TestRunPartCannotStart(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{})
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	run := func(cfg string) (int, string, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var out, errb bytes.Buffer
		start := time.Now()
		code := runMain(ctx, &env{stdout: &out, stderr: &errb, getenv: noEnv}, []string{"run", "-config", cfg})
		return code, errb.String(), time.Since(start)
	}
	lastLine := func(s string) string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		return lines[len(lines)-1]
	}

	t.Run("dashboard port taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		dir := t.TempDir()
		rc := &relConfig{IMAP: srv.Addr, SMTP: sink.Addr(), User: srv.User, Pass: srv.Pass}
		cfg := writeRelConfig(t, dir, rc)
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, bytes.Replace(b, []byte(rc.WebListen), []byte(ln.Addr().String()), 1), 0o600)
		code, stderr, took := run(cfg)
		line := lastLine(stderr)
		if code != 1 || took > 5*time.Second || !strings.Contains(line, "briefd run: dashboard:") ||
			!strings.Contains(line, ln.Addr().String()) || !strings.Contains(line, "address already in use") {
			t.Errorf("exit %d after %v; last line %q", code, took, line)
		}
	})
	t.Run("control socket cannot be made", func(t *testing.T) {
		dir := t.TempDir()
		// A Unix socket path has at most 107 bytes: a database this deep has no socket beside it.
		deep := filepath.Join(dir, strings.Repeat("d", 60), strings.Repeat("e", 60))
		os.MkdirAll(deep, 0o700)
		rc := &relConfig{IMAP: srv.Addr, SMTP: sink.Addr(), User: srv.User, Pass: srv.Pass}
		cfg := writeRelConfig(t, dir, rc)
		b, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, bytes.Replace(b, []byte(filepath.Join(dir, "data", "briefd.db")), []byte(filepath.Join(deep, "briefd.db")), 1), 0o600)
		code, stderr, took := run(cfg)
		line := lastLine(stderr)
		if code != 1 || took > 5*time.Second || !strings.Contains(line, "briefd run: control socket:") || !strings.Contains(line, deep) {
			t.Errorf("exit %d after %v; last line %q", code, took, line)
		}
	})
}
