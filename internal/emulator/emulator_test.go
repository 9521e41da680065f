package emulator

import (
	"slices"
	"testing"
)

func TestCommand(t *testing.T) {
	t.Setenv(Env, "")
	if got := Command("/tmp/x.test", "-test.run=^A$"); !slices.Equal(got, []string{"/tmp/x.test", "-test.run=^A$"}) {
		t.Errorf("native: %q", got)
	}
	t.Setenv(Env, "qemu-aarch64-static")
	if got := Command("/tmp/x.test", "-v"); !slices.Equal(got, []string{"qemu-aarch64-static", "/tmp/x.test", "-v"}) {
		t.Errorf("emulated: %q", got)
	}
	if Name() != "qemu-aarch64-static" {
		t.Errorf("Name = %q", Name())
	}
}
