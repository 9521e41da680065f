package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"briefd/internal/rusage"
)

// usage is what one measured process (and everything it started) used.
type usage struct {
	Wall, CPU time.Duration // CPU: user+sys of the process and its waited-for children
	MaxRSS    int64         // bytes: peak of the summed RSS of the process and all its descendants (sampled)
	MainHWM   int64         // bytes: the process's own peak RSS (VmHWM)
	ChildHWM  int64         // bytes: the largest peak RSS (VmHWM) among its descendants
	Written   int64         // bytes the process and its waited-for children caused to be written to storage
	Output    string        // stderr tail, for errors
}

// measure runs cmd to completion and reports its usage. Peaks of the process and its children are
// sampled from /proc every 20 ms; the total peak comes from wait4.
func measure(ctx context.Context, cmd *exec.Cmd) (usage, error) {
	var out bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &tail{b: &out}
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &tail{b: &out}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, err
	}
	var u usage
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		pid := cmd.Process.Pid
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			m, _ := procMem(pid)
			tree, c := int64(0), int64(0)
			for _, k := range descendantsOf(pid) {
				hwm, rss := procMem(k)
				c = max(c, hwm)
				tree += rss
			}
			_, rss := procMem(pid)
			tree += rss
			mu.Lock()
			u.MainHWM, u.ChildHWM, u.MaxRSS = max(u.MainHWM, m), max(u.ChildHWM, c), max(u.MaxRSS, tree)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var err error
	select {
	case err = <-waitErr:
	case <-ctx.Done():
		cmd.Process.Kill()
		err = <-waitErr
		if err == nil {
			err = ctx.Err()
		}
	}
	u.Wall = time.Since(start)
	close(stop)
	<-done
	// wait4's ru_maxrss is not used: it includes the RSS of this process, whose memory the child
	// shared between fork and exec.
	u.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	u.MaxRSS = max(u.MaxRSS, u.MainHWM, u.ChildHWM)
	u.Written = rusage.Written(cmd.ProcessState)
	u.Output = out.String()
	if err != nil {
		return u, fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, u.Output)
	}
	return u, nil
}

// tail keeps the last 8 KB written to it.
type tail struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if t.b.Len() > 16<<10 {
		keep := append([]byte(nil), t.b.Bytes()[t.b.Len()-8<<10:]...)
		t.b.Reset()
		t.b.Write(keep)
	}
	return len(p), nil
}

// procMem is VmHWM and VmRSS of pid in bytes, 0 when it is gone.
func procMem(pid int) (hwm, rss int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	kb := func(v string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		return n << 10
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = kb(v)
		} else if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = kb(v)
		}
	}
	return hwm, rss
}

// descendantsOf lists every process below pid.
func descendantsOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	kids := map[int][]int{}
	for _, e := range ents {
		k, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			kids[pp] = append(kids[pp], k)
		}
	}
	var out []int
	queue := kids[pid]
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		out = append(out, k)
		queue = append(queue, kids[k]...)
	}
	return out
}

// median of the runs, by wall time for times and separately for every other figure.
func median(us []usage) usage {
	pick := func(f func(usage) int64) int64 {
		v := make([]int64, len(us))
		for i, u := range us {
			v[i] = f(u)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return v[len(v)/2]
	}
	return usage{
		Wall:     time.Duration(pick(func(u usage) int64 { return int64(u.Wall) })),
		CPU:      time.Duration(pick(func(u usage) int64 { return int64(u.CPU) })),
		MaxRSS:   pick(func(u usage) int64 { return u.MaxRSS }),
		MainHWM:  pick(func(u usage) int64 { return u.MainHWM }),
		ChildHWM: pick(func(u usage) int64 { return u.ChildHWM }),
		Written:  pick(func(u usage) int64 { return u.Written }),
	}
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

func secs(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// daemonProc is `briefd run` started by the bench, with the tail of what it prints.
type daemonProc struct {
	cmd  *exec.Cmd
	out  tail
	done chan struct{} // closed when it has exited; err is then Wait's
	err  error
}

// startDaemon starts `briefd run` with the config cfg. Stop it with stop.
func startDaemon(briefd, cfg string) (*daemonProc, error) {
	d := &daemonProc{cmd: exec.Command(briefd, "run", "-config", cfg), out: tail{b: &bytes.Buffer{}}, done: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out // one writer: exec copies both through one pipe
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// output is the tail of what it printed so far.
func (d *daemonProc) output() string {
	d.out.mu.Lock()
	defer d.out.mu.Unlock()
	return d.out.b.String()
}

// stop ends it with SIGTERM, with SIGKILL after 10 s; nothing when it has exited already.
func (d *daemonProc) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}
