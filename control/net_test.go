package control

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoopbackStandIn runs the control socket's stand-in for systems without Unix sockets (old
// Windows) here, where the code is the same: commands are forwarded through it, a connection without the
// secret gets nothing done, and the file goes when the daemon stops.
func TestLoopbackStandIn(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "briefd.db.sock")
	ln, err := listenTCP(sock)
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, "v1", func([]string) string { return "" }, func(ctx context.Context, args []string, out Output) int {
			ran.Add(1)
			io.WriteString(out.Stdout, "ran "+strings.Join(args, " "))
			return 0
		})
	}()

	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("stand-in file mode %v, want a regular file 0600", fi.Mode())
	}
	addr, secret, ok := readTCP(sock)
	if !ok || !strings.HasPrefix(addr, "127.0.0.1:") || len(secret) != 64 {
		t.Fatalf("stand-in file: %q %q %v", addr, secret, ok)
	}
	if !Answers(sock) {
		t.Fatal("Answers = false while the daemon listens")
	}
	var out, errb bytes.Buffer
	if code := Forward(ctx, sock, "v1", []string{"receipts", "-json"}, &out, &errb); code != 0 || out.String() != "ran receipts -json" {
		t.Fatalf("forwarded: exit %d, %q %q", code, out.String(), errb.String())
	}
	for _, c := range []struct{ name, first string }{
		{"no secret", `{"proto": 2, "args": ["resend", "JB2022-0001"]}` + "\n"},
		{"wrong secret", strings.Repeat("0", 64) + "\n" + `{"proto": 2, "args": ["resend", "JB2022-0001"]}` + "\n"},
		{"secret's prefix", secret[:32] + "\n" + `{"proto": 2, "args": ["resend", "JB2022-0001"]}` + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := ran.Load()
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
			if ran.Load() != before {
				t.Error("the daemon ran the command")
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
	if Answers(sock) {
		t.Error("Answers = true after the daemon stopped")
	}
}

// TestStandInRefused: a stand-in file naming a port nobody listens on, or an address off this machine,
// is not a daemon.
func TestStandInRefused(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, c := range []struct{ name, content string }{
		{"closed port", tcpMagic + " " + closed + " " + strings.Repeat("a", 64) + "\n"},
		{"not loopback", tcpMagic + " 192.0.2.1:4000 " + strings.Repeat("a", 64) + "\n"},
		{"not ours", "hello world\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".sock")
			if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if Answers(p) {
				t.Error("Answers = true")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
