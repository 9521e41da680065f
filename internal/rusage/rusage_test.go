package rusage

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// TestPeakRSS: a child that touches 64 MiB has a peak of at least that, where the OS reports it.
func TestPeakRSS(t *testing.T) {
	if os.Getenv("RUSAGE_TEST_CHILD") != "" {
		b := make([]byte, 64<<20)
		for i := range b {
			b[i] = byte(i)
		}
		runtime.KeepAlive(b)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSS$")
	cmd.Env = append(os.Environ(), "RUSAGE_TEST_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	got := PeakRSS(cmd.ProcessState)
	switch runtime.GOOS {
	case "linux", "darwin":
		if got < 64<<20 || got > 1<<30 {
			t.Errorf("PeakRSS = %d, want at least 64 MiB and less than 1 GiB", got)
		}
	default:
		if got != 0 {
			t.Errorf("PeakRSS = %d on %s, want 0 (not reported)", got, runtime.GOOS)
		}
	}
	if PeakRSS(nil) != 0 {
		t.Error("PeakRSS(nil) != 0")
	}
}
