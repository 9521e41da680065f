package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestControlLoopbackStandIn runs the control socket's stand-in for systems without Unix sockets (old
// Windows) here, where the code is the same: commands are forwarded through it, a connection without the
// secret gets nothing done, and the file goes when the daemon stops.
func TestControlLoopbackStandIn(t *testing.T) {
	cfgPath := testStore(t, sampleReceipts()...)
	a, err := openApp(&env{stdout: io.Discard, stderr: io.Discard, getenv: secretEnv}, cfgPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	sock := controlSocket(a.cfg.Store.Path)
	ln, err := listenControlTCP(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serveControl(ctx, a, ln) }()

	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("stand-in file mode %v, want a regular file 0600", fi.Mode())
	}
	addr, secret, ok := readControlTCP(sock)
	if !ok || !strings.HasPrefix(addr, "127.0.0.1:") || len(secret) != 64 {
		t.Fatalf("stand-in file: %q %q %v", addr, secret, ok)
	}
	if !daemonAnswers(sock) {
		t.Fatal("daemonAnswers = false while the daemon listens")
	}

	t.Run("forwarded command", func(t *testing.T) {
		var out, errb bytes.Buffer
		if code := forward(ctx, &env{stdout: &out, stderr: &errb, getenv: secretEnv}, sock, []string{"receipts", "-json"}); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if !strings.Contains(out.String(), `"receipt"`) {
			t.Errorf("output %q", out.String())
		}
	})
	for _, c := range []struct{ name, first string }{
		{"no secret", `{"proto": 2, "args": ["resend", "JB2022-0001"]}` + "\n"},
		{"wrong secret", strings.Repeat("0", 64) + "\n" + `{"proto": 2, "args": ["resend", "JB2022-0001"]}` + "\n"},
		{"secret's prefix", secret[:32] + "\n" + `{"proto": 2, "args": ["resend", "JB2022-0001"]}` + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := readOutbox(t, a)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte(c.first))
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := conn.Read(make([]byte, 64)); n != 0 || err == nil {
				t.Errorf("the daemon answered %d bytes (err %v), want the connection closed unanswered", n, err)
			}
			if after := readOutbox(t, a); after != before {
				t.Errorf("the daemon ran the command: outbox %d -> %d", before, after)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("stand-in file left after the daemon stopped: %v", err)
	}
	if daemonAnswers(sock) {
		t.Error("daemonAnswers = true after the daemon stopped")
	}
}

// TestControlStandInRefused: a stand-in file naming a port nobody listens on, or an address off this
// machine, is not a daemon.
func TestControlStandInRefused(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, c := range []struct{ name, content string }{
		{"closed port", controlTCPMagic + " " + closed + " " + strings.Repeat("a", 64) + "\n"},
		{"not loopback", controlTCPMagic + " 192.0.2.1:4000 " + strings.Repeat("a", 64) + "\n"},
		{"not ours", "hello world\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".sock")
			if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if daemonAnswers(p) {
				t.Error("daemonAnswers = true")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
