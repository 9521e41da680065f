// Package rusage reads what the OS says about a finished child process, on the systems that say it.
package rusage

import "os"

// PeakRSS is the largest resident set of a child that has been waited for, in bytes: rusage's maxrss on
// Linux (KiB) and macOS (bytes); 0 where the OS does not report it (Windows).
func PeakRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	return peakRSS(ps)
}
