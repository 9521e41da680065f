package mailtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// MountTmpfs mounts a tmpfs of the given size (e.g. "5m") at dir, read-only when ro, and returns a
// function that unmounts it. Only root can: others get an error (tests skip, or fail under CI).
func MountTmpfs(t TB, dir, size string, ro bool) (remount func(size string, ro bool) error) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("mounting a tmpfs needs root, and CI runs as root")
		}
		t.Skipf("mounting a tmpfs needs root")
	}
	opts := func(size string, ro bool) string {
		o := "size=" + size + ",mode=0700"
		if ro {
			o += ",ro"
		} else {
			o += ",rw"
		}
		return o
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts(size, ro), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs at %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", dir, err, out)
		}
	})
	return func(size string, ro bool) error {
		out, err := exec.Command("mount", "-o", "remount,"+opts(size, ro), dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("remount %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
}
