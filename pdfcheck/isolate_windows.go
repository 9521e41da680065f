//go:build windows

package pdfcheck

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows each worker runs in a Job Object of its own (job.go decides its limits): its committed memory
// is bounded, it cannot start processes, and it ends when the parent's handle on the job closes, which
// happens however the parent exits. The result pipe is an inherited handle whose value the worker gets in
// workerPipeEnv; the worker has no console (so no Ctrl-C of the parent's).
func prepareIsolation(cmd *exec.Cmd, pw *os.File, opts Options) (*isolation, error) {
	h := syscall.Handle(pw.Fd())
	if err := syscall.SetHandleInformation(h, syscall.HANDLE_FLAG_INHERIT, syscall.HANDLE_FLAG_INHERIT); err != nil {
		return nil, fmt.Errorf("result pipe: %w", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		AdditionalInheritedHandles: []syscall.Handle{h},
		CreationFlags:              windows.CREATE_NO_WINDOW,
	}
	iso := &isolation{pipe: strconv.FormatUint(uint64(h), 10)}
	limits := jobLimitsFor(opts)
	iso.onStart = func(p *os.Process) (int64, error) {
		release, err := confineInJob(windowsJobs{}, p.Pid, limits)
		if err != nil {
			return 0, err
		}
		iso.onExit = release
		return limits.ProcessMemory, nil
	}
	return iso, nil
}

// limitMemory sets nothing in the worker: its job, set by the parent, bounds it.
func limitMemory(int64) (int64, error) { return 0, nil }

// windowsJobs is jobAPI on Windows.
type windowsJobs struct{}

func (windowsJobs) create() (uintptr, error) {
	h, err := windows.CreateJobObject(nil, nil)
	return uintptr(h), err
}

func (windowsJobs) set(job uintptr, l jobLimits) error {
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	b := &info.BasicLimitInformation
	if l.ProcessMemory > 0 {
		b.LimitFlags |= windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY
		info.ProcessMemoryLimit = uintptr(l.ProcessMemory)
	}
	if l.ActiveProcesses > 0 {
		b.LimitFlags |= windows.JOB_OBJECT_LIMIT_ACTIVE_PROCESS
		b.ActiveProcessLimit = l.ActiveProcesses
	}
	if l.KillOnClose {
		b.LimitFlags |= windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	}
	if l.DieOnException {
		b.LimitFlags |= windows.JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
	}
	_, err := windows.SetInformationJobObject(windows.Handle(job), windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	return err
}

// assign opens the process by its id: os.Process keeps its own handle open until Wait, so the id cannot
// have been reused by another process.
func (windowsJobs) assign(job uintptr, pid int) error {
	p, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return err
	}
	defer windows.CloseHandle(p)
	return windows.AssignProcessToJobObject(windows.Handle(job), p)
}

func (windowsJobs) close(job uintptr) error { return windows.CloseHandle(windows.Handle(job)) }
