package pdfcheck

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"briefd/internal/emulator"
)

const bomb = "testdata/corpus/hostile-bomb-objstm.pdf" // parses for seconds without a memory bound

// TestWorkerExitsWhenInputCloses: the worker's own guard, the same on every OS. Closing its input in the
// middle of a long parse ends it at once.
func TestWorkerExitsWhenInputCloses(t *testing.T) {
	c := newTestChecker(t, Options{Timeout: time.Minute, MaxMemory: -1, Workers: 1})
	if v := c.CheckFile(context.Background(), "testdata/corpus/valid-cjk.pdf"); !v.OK() {
		t.Fatalf("got %+v", v)
	}
	w := <-c.slots
	c.slots <- w
	done := make(chan Verdict, 1)
	go func() { done <- c.CheckFile(context.Background(), bomb) }()
	time.Sleep(300 * time.Millisecond) // well inside the parse, which takes seconds
	if w.dead() {
		t.Fatal("the worker is gone before its input was closed")
	}
	closed := time.Now()
	w.stdin.Close()
	select {
	case <-w.exited:
		t.Logf("worker exited %v after its input closed", time.Since(closed))
	case <-time.After(2 * time.Second):
		t.Fatal("the worker is still running 2 s after its input closed")
	}
	if v := <-done; v.Reason != ReasonCheckFailed {
		t.Errorf("got %+v", v)
	}
}

// TestHelperOrphanParent is the parent of TestWorkerDiesWithParent: it starts a check of the bomb, says
// its worker's pid and waits to be killed.
func TestHelperOrphanParent(t *testing.T) {
	if os.Getenv("PDFCHECK_TEST_ORPHAN") == "" {
		t.Skip("helper process for TestWorkerDiesWithParent")
	}
	c := New(Options{Timeout: time.Minute, MaxMemory: -1, Workers: 1, Command: workerCommand()}, nil)
	if v := c.CheckFile(context.Background(), "testdata/corpus/valid-cjk.pdf"); !v.OK() {
		fmt.Println("error:", v.Warnings)
		os.Exit(1)
	}
	w := <-c.slots
	c.slots <- w
	go c.CheckFile(context.Background(), bomb)
	time.Sleep(200 * time.Millisecond)
	fmt.Println("worker", w.pid)
	time.Sleep(time.Minute)
	os.Exit(1)
}

// TestWorkerDiesWithParent: a daemon killed outright (SIGKILL, TerminateProcess) while its worker parses a
// memory bomb leaves no worker behind.
func TestWorkerDiesWithParent(t *testing.T) {
	argv := emulator.Command(os.Args[0], "-test.run=^TestHelperOrphanParent$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PDFCHECK_TEST_ORPHAN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "worker "))
	if err != nil {
		t.Fatalf("helper said %q", line)
	}
	if !processAlive(pid) {
		t.Fatalf("worker %d is not running while it parses", pid)
	}
	killed := time.Now()
	cmd.Process.Kill()
	cmd.Wait()
	for processAlive(pid) {
		if time.Since(killed) > 3*time.Second {
			t.Fatalf("worker %d still runs 3 s after its parent was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("worker gone %v after its parent was killed", time.Since(killed))
}
