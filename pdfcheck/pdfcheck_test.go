package pdfcheck

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"briefd/internal/emulator"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from the current verdicts")

func TestMain(m *testing.M) {
	MaybeWorker()
	os.Exit(m.Run())
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// workerCommand starts the tests' workers: this test binary, through the emulator when the tests run
// under one (see package emulator); nil (the default, os.Executable) when they run natively.
func workerCommand() []string {
	if emulator.Name() == "" {
		return nil
	}
	return emulator.Command(os.Args[0])
}

// hardBoundFiles are the corpus files whose verdict depends on the worker's hard memory bound: without it
// (macOS, qemu-user) the parse of this memory bomb runs to its end, about 2 GB later, and says
// pdf_no_pages instead of being cut short (check_failed). They are left out where no bound is in force.
var hardBoundFiles = []string{"hostile-bomb-objstm.pdf"}

// hardMemoryBound reports whether a worker started as the tests start them runs with a hard memory bound
// (see Options.MaxMemory), and if not, why.
var hardMemoryBound = sync.OnceValues(func() (bool, string) {
	c := New(Options{Workers: 1, Command: workerCommand()}, nil)
	defer c.Close()
	if v := c.CheckFile(context.Background(), "testdata/corpus/valid-cjk.pdf"); !v.OK() {
		return false, fmt.Sprintf("the probe's check failed: %+v", v)
	}
	w := <-c.slots
	defer func() { c.slots <- w }()
	if w.limit > 0 {
		return true, ""
	}
	if w.note != "" {
		return false, w.note
	}
	return false, "none on " + runtime.GOOS
})

func newTestChecker(t testing.TB, opts Options) *Checker {
	if opts.Workers == 0 {
		opts.Workers = 2
	}
	if opts.Command == nil {
		opts.Command = workerCommand()
	}
	c := New(opts, testLogger(t))
	t.Cleanup(func() { c.Close() })
	return c
}

func corpusFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in testdata/corpus (run go run ./pdfcheck/internal/gencorpus): %v", err)
	}
	slices.Sort(files)
	if ok, why := hardMemoryBound(); !ok {
		files = slices.DeleteFunc(files, func(f string) bool {
			if slices.Contains(hardBoundFiles, filepath.Base(f)) {
				t.Logf("left out %s: its verdict needs the worker's hard memory bound, not in force here (%s)", f, why)
				return true
			}
			return false
		})
	}
	return files
}

// checkAll checks files concurrently and returns the verdicts by base name.
func checkAll(t testing.TB, c *Checker, files []string) map[string]Verdict {
	out := make(map[string]Verdict, len(files))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, f := range files {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			v := c.CheckFile(context.Background(), f)
			mu.Lock()
			out[filepath.Base(f)] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// golden is the part of a verdict that must not change without a review.
type golden struct {
	Kind      string `json:"kind"`
	Verdict   string `json:"verdict"`
	Pages     int    `json:"pages"`
	Encrypted bool   `json:"encrypted"`
	Reason    string `json:"reason"`
}

func TestGolden(t *testing.T) {
	files := corpusFiles(t)
	c := newTestChecker(t, Options{Timeout: 20 * time.Second})
	got := checkAll(t, c, files)
	gotG := map[string]golden{}
	for name, v := range got {
		gotG[name] = golden{v.Kind, v.Verdict, v.Pages, v.Encrypted, v.Reason}
	}
	const path = "testdata/golden.json"
	if *update {
		b, err := json.MarshalIndent(gotG, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d files)", path, len(gotG))
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var want map[string]golden
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no golden verdict for %s (run with -update and review)", name)
			}
			if g := gotG[name]; g != w {
				t.Errorf("got %+v, want %+v; warnings: %q", g, w, got[name].Warnings)
			}
		})
	}
	for name := range want {
		bound, _ := hardMemoryBound()
		if _, ok := gotG[name]; !ok && (bound || !slices.Contains(hardBoundFiles, name)) {
			t.Errorf("golden verdict for %s, which is not in the corpus", name)
		}
	}
}
