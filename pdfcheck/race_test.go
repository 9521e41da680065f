//go:build race

package pdfcheck

// raceEnabled: the race detector reserves address space (no RLIMIT_AS) and slows the worker's start.
const raceEnabled = true
