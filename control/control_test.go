package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve starts Serve on a socket in a temp folder with run and returns the socket.
func serve(t *testing.T, run Runner) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "briefd.db.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", fi, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, "v1.2.3", func(args []string) string {
			if args[0] == "run" {
				return "briefd run: the daemon is running"
			}
			return ""
		}, run)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return sock
}

// TestForward: a forwarded command's output and files arrive where the caller asked, with its exit status.
func TestForward(t *testing.T) {
	ran := 0
	sock := serve(t, func(ctx context.Context, args []string, out Output) int {
		ran++
		io.WriteString(out.Stdout, "out "+strings.Join(args, " "))
		io.WriteString(out.Stderr, "err")
		if len(args) > 1 {
			f, err := out.Create(args[1])
			if err != nil {
				return 3
			}
			f.Write(bytes.Repeat([]byte("x"), 200_000))
			f.Close()
		}
		return 4
	})
	file := filepath.Join(t.TempDir(), "backup.db")
	var stdout, stderr bytes.Buffer
	if code := Forward(context.Background(), sock, "v1.2.3", []string{"backup", file}, &stdout, &stderr); code != 4 {
		t.Errorf("exit %d, want 4", code)
	}
	if stdout.String() != "out backup "+file || stderr.String() != "err" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	if b, err := os.ReadFile(file); err != nil || len(b) != 200_000 {
		t.Errorf("file: %d bytes, %v", len(b), err)
	}
	stderr.Reset()
	if code := Forward(context.Background(), sock, "v1.2.3", []string{"run"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "the daemon is running") || ran != 1 {
		t.Errorf("a refused command: exit %d, %q, ran %d", code, stderr.String(), ran)
	}
}

// countingWriter records the writes it gets and the time of the first one that contains mark.
type countingWriter struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	mark   string
	seen   time.Time
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	w.b.Write(p)
	if w.seen.IsZero() && w.mark != "" && strings.Contains(w.b.String(), w.mark) {
		w.seen = time.Now()
	}
	return len(p), nil
}

// TestForwardCoalesced: a command that prints line by line reaches the caller in a few writes, in the
// order it printed stdout and stderr, and what it printed before a pause arrives during the pause.
func TestForwardCoalesced(t *testing.T) {
	var paused time.Time
	sock := serve(t, func(ctx context.Context, args []string, out Output) int {
		for i := range 13_000 {
			fmt.Fprintf(out.Stdout, "line %d 忻府区教育科技局 已报送\n", i)
		}
		io.WriteString(out.Stderr, "a warning\n")
		io.WriteString(out.Stdout, "after the warning\n")
		io.WriteString(out.Stdout, "progress\n")
		paused = time.Now()
		time.Sleep(time.Second)
		io.WriteString(out.Stdout, "done\n")
		return 0
	})
	var stdout, stderr countingWriter
	stdout.mark = "progress"
	if code := Forward(context.Background(), sock, "v1.2.3", []string{"status"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.b.String())
	}
	lines := strings.Split(stdout.b.String(), "\n")
	if len(lines) != 13_004 || lines[0] != "line 0 忻府区教育科技局 已报送" || lines[12_999] != "line 12999 忻府区教育科技局 已报送" ||
		lines[13_000] != "after the warning" || lines[13_002] != "done" {
		t.Errorf("%d lines; around the end: %q", len(lines), lines[max(0, len(lines)-5):])
	}
	if stderr.b.String() != "a warning\n" {
		t.Errorf("stderr %q", stderr.b.String())
	}
	// 13,000 lines of ~45 bytes are ~600 KB: about ten 64 KB frames, not 13,000.
	if stdout.writes > 40 {
		t.Errorf("%d writes to stdout for 13,000 lines", stdout.writes)
	}
	if wait := stdout.seen.Sub(paused); stdout.seen.IsZero() || wait > 500*time.Millisecond {
		t.Errorf("output printed before a pause arrived %v after it began, want within %v", wait, flushEvery)
	}
}

// TestProtocolVersions: a command and a daemon of different control protocols say so in one line, and
// the daemon runs nothing it was asked in another protocol.
func TestProtocolVersions(t *testing.T) {
	ran := 0
	sock := serve(t, func(ctx context.Context, args []string, out Output) int { ran++; return 0 })
	t.Run("an older command", func(t *testing.T) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte(`{"Args": ["resend", "JB2022-0001"]}` + "\n")) // as briefd before version 2 asked
		frames := readFrames(t, c)
		if len(frames) != 3 || frames[0].kind != frameHello || frames[1].kind != frameStderr || frames[2].kind != frameExit ||
			frames[2].payload[0] != 1 {
			t.Fatalf("frames %q", frames)
		}
		if msg := string(frames[1].payload); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "control protocol 2") ||
			!strings.Contains(msg, "the other side 0") {
			t.Errorf("message %q", msg)
		}
		if ran != 0 {
			t.Error("the daemon ran a command of another protocol")
		}
	})
	for _, c := range []struct {
		name  string
		first []byte // the fake daemon's first frame
		want  string
	}{
		{"a newer daemon", frame(frameHello, []byte(`{"proto": 3, "version": "v9.9.9"}`)), "the other side 3 (briefd v9.9.9)"},
		{"an older daemon", frame(frameStdout, []byte("JB2022-0001 …\n")), "the other side 1 (briefd from before control protocol 2)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := filepath.Join(t.TempDir(), "fake.sock")
			ln, err := net.Listen("unix", fake)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				bufio.NewReader(conn).ReadBytes('\n')
				conn.Write(c.first)
				conn.Write(frame(frameExit, []byte{0}))
			}()
			var out, errb bytes.Buffer
			code := Forward(context.Background(), fake, "v1.2.3", []string{"status"}, &out, &errb)
			if code != 1 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and one line with %q", code, out.String(), errb.String(), c.want)
			}
		})
	}
}

type rawFrame struct {
	kind    byte
	payload []byte
}

func frame(kind byte, p []byte) []byte {
	b := []byte{kind, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(p)))
	return append(b, p...)
}

func readFrames(t *testing.T, c net.Conn) []rawFrame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var out []rawFrame
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return out
		}
		p := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(c, p); err != nil {
			t.Fatal(err)
		}
		out = append(out, rawFrame{hdr[0], p})
		if hdr[0] == frameExit {
			return out
		}
	}
}
