package winsvc

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

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
