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

// Written is how many bytes a child that has been waited for (with its own waited-for children) caused
// to be written to storage, from rusage's oublock on Linux (512-byte units); 0 elsewhere.
func Written(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	return written(ps)
}
