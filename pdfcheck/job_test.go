package pdfcheck

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestJobLimitsFor(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want jobLimits
	}{
		{"default", Options{}.withDefaults(), jobLimits{ProcessMemory: DefaultMaxMemory + windowsStartCommit, ActiveProcesses: 1, KillOnClose: true, DieOnException: true}},
		{"256 MiB", Options{MaxMemory: 256 << 20}, jobLimits{ProcessMemory: 256<<20 + windowsStartCommit, ActiveProcesses: 1, KillOnClose: true, DieOnException: true}},
		{"no bound", Options{MaxMemory: -1}, jobLimits{ActiveProcesses: 1, KillOnClose: true, DieOnException: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobLimitsFor(tt.opts); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// fakeJobs records the calls confineInJob makes and fails the one named in fail.
type fakeJobs struct {
	calls []string
	fail  string
	got   jobLimits
	open  int // jobs created and not closed
}

func (f *fakeJobs) call(name string) error {
	f.calls = append(f.calls, name)
	if name == f.fail {
		return errors.New(name + " refused")
	}
	return nil
}

func (f *fakeJobs) create() (uintptr, error) {
	if err := f.call("create"); err != nil {
		return 0, err
	}
	f.open++
	return 7, nil
}

func (f *fakeJobs) set(job uintptr, l jobLimits) error {
	f.got = l
	return f.call("set")
}

func (f *fakeJobs) assign(job uintptr, pid int) error { return f.call("assign") }

func (f *fakeJobs) close(job uintptr) error {
	f.open--
	return f.call("close")
}

// TestConfineInJob: the limits are set before the worker joins the job, and a job is closed exactly once
// whatever fails: a job left open would keep nothing bounded, one closed early would kill the worker.
func TestConfineInJob(t *testing.T) {
	limits := jobLimitsFor(Options{MaxMemory: 1 << 20})
	tests := []struct {
		fail      string
		wantCalls []string // before release
		wantErr   string
	}{
		{"", []string{"create", "set", "assign"}, ""},
		{"create", []string{"create"}, "create job object"},
		{"set", []string{"create", "set", "close"}, "set job object limits"},
		{"assign", []string{"create", "set", "assign", "close"}, "put worker 42 in its job object"},
	}
	for _, tt := range tests {
		t.Run("fail "+tt.fail, func(t *testing.T) {
			f := &fakeJobs{fail: tt.fail}
			release, err := confineInJob(f, 42, limits)
			if !slices.Equal(f.calls, tt.wantCalls) {
				t.Errorf("calls %q, want %q", f.calls, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil || release == nil {
					t.Fatalf("err %v, release %v", err, release != nil)
				}
				if f.got != limits {
					t.Errorf("set %+v, want %+v", f.got, limits)
				}
				if f.open != 1 {
					t.Errorf("%d jobs open before release, want 1", f.open)
				}
				release()
				if f.open != 0 || f.calls[len(f.calls)-1] != "close" {
					t.Errorf("after release: %d open, calls %q", f.open, f.calls)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.fail+" refused") {
				t.Errorf("err %v, want one saying %q and the cause", err, tt.wantErr)
			}
			if release != nil || f.open != 0 {
				t.Errorf("release %v, %d jobs left open", release != nil, f.open)
			}
		})
	}
}
