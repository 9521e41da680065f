package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestControlProtocolVersions: a command and a daemon of different control protocols say so in one
// line, and the daemon runs nothing it was asked in another protocol.
func TestControlProtocolVersions(t *testing.T) {
	cfgPath := testStore(t, sampleReceipts()...)
	a, err := openApp(&env{stdout: io.Discard, stderr: io.Discard, getenv: secretEnv}, cfgPath, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := listenControl(a.cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serveControl(ctx, a, ln) }()
	sock := controlSocket(a.cfg.Store.Path)
	waitForSocket(t, sock)

	t.Run("the same protocol", func(t *testing.T) {
		var out, errb bytes.Buffer
		if code := forward(ctx, &env{stdout: &out, stderr: &errb, getenv: secretEnv}, sock, []string{"receipts", "-json"}); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if !strings.Contains(out.String(), `"receipt"`) {
			t.Errorf("output %q", out.String())
		}
	})
	t.Run("an older command", func(t *testing.T) {
		before := readOutbox(t, a)
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
		if after := readOutbox(t, a); after != before {
			t.Errorf("the daemon ran the command: outbox %d -> %d", before, after)
		}
	})
	cancel()
	<-done

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
			code := forward(context.Background(), &env{stdout: &out, stderr: &errb, getenv: secretEnv}, fake, []string{"status"})
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

func readOutbox(t *testing.T, a *app) int {
	t.Helper()
	items, err := a.st.Outbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(items)
	return len(b)
}

func waitForSocket(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil && daemonAnswers(path) {
			return
		}
	}
	t.Fatalf("no control socket at %s", path)
}
