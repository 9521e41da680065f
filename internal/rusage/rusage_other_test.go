//go:build !linux

package rusage

func onTmpfs(string) bool { return false }
