// Package emulator lets a test that starts a copy of its own binary (a pdfcheck worker, a helper process)
// start it through the user-mode emulator the test itself runs under. On a machine whose kernel cannot run
// the binary (qemu-user without binfmt_misc), `go test -exec qemu-aarch64-static` runs the test binary,
// but the binary's own exec of itself would fail with "exec format error". `make test-emulated` sets Env
// to the emulator's program.
package emulator

import "os"

// Env names the emulator the tests run under, e.g. qemu-aarch64-static; unset or empty when they run
// natively.
const Env = "BRIEFD_TEST_EMULATOR"

// Name is the emulator the tests run under, "" when they run natively.
func Name() string { return os.Getenv(Env) }

// Command returns argv, prefixed with the emulator when the tests run under one.
func Command(argv ...string) []string {
	if e := Name(); e != "" {
		return append([]string{e}, argv...)
	}
	return argv
}
