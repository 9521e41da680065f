package pdfcheck

import "fmt"

// On Windows each worker runs in a Job Object of its own (isolate_windows.go). What the job enforces and
// the order of the calls that set it up are decided here, in code that builds and is tested on every OS;
// the Windows file only turns jobLimits into JOBOBJECT_EXTENDED_LIMIT_INFORMATION.

// windowsStartCommit is what a worker commits before its first file (the Go runtime, the program's image,
// pdfcpu's tables), which MaxMemory comes on top of, as RLIMIT_AS comes on top of the address space a
// Linux worker has at start.
const windowsStartCommit = 64 << 20

// jobLimits is what a worker's job enforces.
type jobLimits struct {
	ProcessMemory   int64  // committed memory of the process, bytes (JOB_OBJECT_LIMIT_PROCESS_MEMORY); 0 none
	ActiveProcesses uint32 // processes in the job (JOB_OBJECT_LIMIT_ACTIVE_PROCESS): the worker starts none
	KillOnClose     bool   // the parent's handle closing, however it exits, ends the worker
	DieOnException  bool   // an unhandled exception ends the worker, no error-report dialog waits for a click
}

// jobLimitsFor is the job of a worker started with opts.
func jobLimitsFor(opts Options) jobLimits {
	l := jobLimits{ActiveProcesses: 1, KillOnClose: true, DieOnException: true}
	if opts.MaxMemory > 0 {
		l.ProcessMemory = opts.MaxMemory + windowsStartCommit
	}
	return l
}

// jobAPI is the part of Windows a job needs.
type jobAPI interface {
	create() (uintptr, error)
	set(job uintptr, l jobLimits) error
	assign(job uintptr, pid int) error
	close(job uintptr) error
}

// confineInJob puts the running process pid into a new job with limits l. The job's limits are set before
// the process joins it, so the process is never in a job without them. release closes the job; call it once
// the process has been waited for (with KillOnClose, closing it earlier would end the process).
func confineInJob(api jobAPI, pid int, l jobLimits) (release func(), err error) {
	job, err := api.create()
	if err != nil {
		return nil, fmt.Errorf("create job object: %w", err)
	}
	if err := api.set(job, l); err != nil {
		api.close(job)
		return nil, fmt.Errorf("set job object limits: %w", err)
	}
	if err := api.assign(job, pid); err != nil {
		api.close(job)
		return nil, fmt.Errorf("put worker %d in its job object: %w", pid, err)
	}
	return func() { api.close(job) }, nil
}
