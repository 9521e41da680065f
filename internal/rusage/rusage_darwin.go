package rusage

import (
	"os"
	"syscall"
)

func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

func written(*os.ProcessState) int64 { return 0 } // macOS counts block operations, not bytes
