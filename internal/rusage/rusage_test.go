package rusage

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestWritten: a child that writes and syncs 8 MiB to a disk file caused at least that much to be written,
// on Linux.
func TestWritten(t *testing.T) {
	if path := os.Getenv("RUSAGE_TEST_WRITE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			_, err = f.Write(make([]byte, 8<<20))
		}
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWritten$")
	cmd.Env = append(os.Environ(), "RUSAGE_TEST_WRITE="+filepath.Join(dir, "w"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	got := Written(cmd.ProcessState)
	if runtime.GOOS != "linux" {
		if got != 0 {
			t.Errorf("Written = %d on %s, want 0 (not reported)", got, runtime.GOOS)
		}
		return
	}
	if got < 8<<20 {
		if got == 0 {
			t.Skipf("nothing written: %s is on a file system without a block device (tmpfs, a VM's shared folder)", dir)
		}
		t.Errorf("Written = %d, want at least 8 MiB", got)
	}
}
