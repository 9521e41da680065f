package mailtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Halt stops the Dovecot server and keeps its folder and mail, as when the mail server goes down: clients
// see their connections end at once and new ones refused until Resume. (A plain `doveadm stop` leaves
// the processes serving open connections running for about ten seconds: Halt kills them first.)
func (d *Dovecot) Halt() error {
	if d.cmd == nil {
		return nil
	}
	for _, pid := range childPIDs(d.cmd.Process.Pid) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
	err := exec.Command(dovecotBin("doveadm"), "-c", d.conf, "stop").Run()
	select {
	case <-d.exit:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.exit
	}
	d.cmd = nil
	if err != nil {
		return fmt.Errorf("mailtest: doveadm stop: %w", err)
	}
	return nil
}

// Resume starts a halted Dovecot again on the same port with the same mail.
func (d *Dovecot) Resume() error {
	if d.cmd != nil {
		return nil
	}
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ { // the port may linger for a moment
		d.cmd = exec.Command(dovecotBin("dovecot"), "-F", "-c", d.conf)
		out, err := os.OpenFile(filepath.Join(d.Dir, "stderr.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("mailtest: resume dovecot: %w", err)
		}
		d.cmd.Stdout, d.cmd.Stderr = out, out
		if err := d.cmd.Start(); err != nil {
			out.Close()
			return fmt.Errorf("mailtest: resume dovecot: %w", err)
		}
		out.Close()
		d.exit = make(chan error, 1)
		go func(cmd *exec.Cmd, exit chan error) { exit <- cmd.Wait() }(d.cmd, d.exit)
		if lastErr = d.waitReady(10 * time.Second); lastErr == nil {
			return nil
		}
		d.kill()
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("mailtest: resume dovecot: %w\n%s", lastErr, d.Log())
}

// childPIDs lists the processes whose parent is ppid (Linux /proc).
func childPIDs(ppid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 {
			if p, err := strconv.Atoi(f[1]); err == nil && p == ppid {
				out = append(out, pid)
			}
		}
	}
	return out
}
