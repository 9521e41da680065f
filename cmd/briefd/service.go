package main

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"briefd/config"
)

// `briefd service install|uninstall|start|stop` runs briefd as a Windows service (service_windows.go).
// What the service is, the loop that answers the service manager, its log file and the access list of its
// folders are decided here, in code that builds and is tested on every OS; the Windows file only talks to
// the service manager, the event log and the file system's security.
//
// The service runs `briefd service run -name NAME -config CONFIG` under its own virtual account
// (NT SERVICE\NAME), in the config's folder (relative paths in the config are relative to it, as for
// systemd's WorkingDirectory), and logs to briefd.log beside the database.

const serviceUsage = "service install|uninstall|start|stop [-name NAME] [-config PATH]"

// serviceDefaultName is the service's name unless -name gives another (two offices on one machine).
const serviceDefaultName = "briefd"

// cmdService implements `briefd service ...`.
func cmdService(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "usage: briefd "+serviceUsage)
		if len(args) == 0 {
			return usagef("name what to do: install, uninstall, start or stop")
		}
		return errHelp
	}
	verb := args[0]
	fs, cfgFlag := newFlags(e, "service "+verb, serviceUsage)
	name := fs.String("name", serviceDefaultName, "the service's name")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected %q", fs.Arg(0))
	}
	switch verb {
	case "install", "uninstall", "start", "stop", "run":
	default:
		return usagef("unknown service command %q: install, uninstall, start or stop", verb)
	}
	return serviceCommand(ctx, e, verb, *name, config.Path(*cfgFlag, e.getenv))
}

// serviceCommandLine is the command the service manager runs: the arguments after the executable.
func serviceCommandLine(name, configAbs string) []string {
	return []string{"service", "run", "-name", name, "-config", configAbs}
}

// serviceAccount is the virtual account the service runs as: it has no password and no rights of its
// own beyond what the folders' access lists give its SID (serviceSID).
func serviceAccount(name string) string { return `NT SERVICE\` + name }

// serviceSID is the SID of a service's virtual account, NT SERVICE\<name>: S-1-5-80- followed by the
// SHA-1 of the upper-cased name in UTF-16LE as five 32-bit little-endian numbers. Folders can be given to
// it before the service exists.
func serviceSID(name string) string {
	h := sha1.New()
	for _, u := range utf16.Encode([]rune(strings.ToUpper(name))) {
		h.Write([]byte{byte(u), byte(u >> 8)})
	}
	sum := h.Sum(nil)
	sid := "S-1-5-80"
	for i := 0; i < 20; i += 4 {
		sid += fmt.Sprintf("-%d", binary.LittleEndian.Uint32(sum[i:]))
	}
	return sid
}

// privateDACL is the access list of the service's folders, in SDDL: protected (nothing inherited from
// the folder above, such as C:\ProgramData's "Users may read"), full control for SYSTEM, the
// Administrators and each SID given, passed down to every folder and file created inside.
func privateDACL(sids ...string) string {
	d := "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
	for _, s := range sids {
		d += "(A;OICI;FA;;;" + s + ")"
	}
	return d
}

// winPathWithin reports whether the Windows path p is dir or inside it (case does not matter, either
// slash separates). Both must be absolute.
func winPathWithin(p, dir string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.ReplaceAll(s, "/", `\`))
		return strings.TrimRight(s, `\`) + `\`
	}
	return strings.HasPrefix(norm(p), norm(dir))
}

// checkPrivateFolder refuses to replace the access list of a folder that is not briefd's own: a drive's
// root, or a folder that is, or holds, one of the system's and the user's folders in keep (C:\ProgramData,
// C:\Users\x, the desktop …). The config belongs in a folder of its own, such as C:\ProgramData\briefd.
func checkPrivateFolder(dir string, keep []string) error {
	trimmed := strings.TrimRight(strings.ReplaceAll(dir, "/", `\`), `\`)
	if len(trimmed) <= 2 { // "C:" or ""
		return fmt.Errorf("%s is a drive's root: give briefd a folder of its own, such as C:\\ProgramData\\briefd", dir)
	}
	for _, k := range keep {
		if k != "" && winPathWithin(k, dir) {
			return fmt.Errorf("%s is, or holds, %s: give briefd a folder of its own, such as C:\\ProgramData\\briefd", dir, k)
		}
	}
	return nil
}

// servicePlan is what `briefd service install` sets up, worked out from the config.
type servicePlan struct {
	name, config string   // the service's name, the config's absolute path
	workDir      string   // the config's folder: the service's working directory
	folders      []string // absolute; given the private access list, each unless inside another
	logPath      string   // the service's log file
	warnings     []string // printed at install
}

// planService works out the service for the config at cfgPath (absolute), read with the working directory
// set to the config's folder, as the service will read it.
func planService(name, cfgPath string, cfg *config.Config) servicePlan {
	dir := filepath.Dir(cfgPath)
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	p := servicePlan{name: name, config: cfgPath, workDir: dir, logPath: serviceLogPath(abs(cfg.Store.Path))}
	p.folders = []string{dir}
	for _, f := range []string{filepath.Dir(abs(cfg.Store.Path)), abs(cfg.Store.Archive), abs(cfg.Store.Spool)} {
		inside := false
		for _, g := range p.folders {
			if winPathWithin(f, g) {
				inside = true
			}
		}
		if !inside {
			p.folders = append(p.folders, f)
		}
	}
	for _, s := range []struct {
		key string
		sec config.Secret
	}{{"imap", cfg.IMAP.Secret}, {"smtp", cfg.SMTP.Secret}} {
		if s.sec.PasswordFile == "" && s.sec.PasswordEnv != "" {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: the password comes from the environment variable %s, which the service "+
				"does not see unless it is set for the whole machine (where every user can read it): put it in a file in %s "+
				"and set %s.password_file", s.key, s.sec.PasswordEnv, dir, s.key))
		}
	}
	return p
}

// serviceLogPath is the service's log file: briefd.log beside the database.
func serviceLogPath(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), "briefd.log") }

// The service manager's view of the service, and what it asks of it.
type serviceState int

const (
	serviceStarting serviceState = iota + 1
	serviceRunning
	serviceStopping // repeated every serviceStopTick while the daemon finishes, to show progress
)

type serviceRequest int

const (
	askStop serviceRequest = iota + 1
	askShutdown
	askInterrogate
)

// runService runs the daemon for the service manager: it reports starting and then running, cancels the
// daemon's context on a stop or shutdown request and reports stopping until the daemon has finished its
// work in hand, answers interrogations with the current state, and returns the daemon's exit status (not
// 0: the service manager counts a failure and applies the recovery actions).
func runService(reqs <-chan serviceRequest, report func(serviceState), tick time.Duration, run func(context.Context) int) int {
	state := serviceStarting
	report(state)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx) }()
	state = serviceRunning
	report(state)
	var ticks <-chan time.Time
	for {
		select {
		case code := <-done:
			return code
		case <-ticks:
			report(state)
		case r, ok := <-reqs:
			if !ok { // the service manager's side is gone: wait for the daemon alone
				reqs = nil
				continue
			}
			switch r {
			case askStop, askShutdown:
				if state != serviceStopping {
					state = serviceStopping
					cancel()
					t := time.NewTicker(tick)
					defer t.Stop()
					ticks = t.C
				}
				report(state)
			case askInterrogate:
				report(state)
			}
		}
	}
}

// rotatingFile is the service's log: appended to, and renamed to <path>.1 (replacing the one before) when
// it would grow past max.
type rotatingFile struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File
	size int64
}

func openRotating(path string, max int64) (*rotatingFile, error) {
	r := &rotatingFile{path: path, max: max}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, fi.Size()
	return nil
}

func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	if r.size > 0 && r.size+int64(len(p)) > r.max {
		r.f.Close()
		r.f = nil
		renamed := os.Rename(r.path, r.path+".1") == nil
		if err := r.open(); err != nil {
			return 0, err
		}
		if !renamed { // held open elsewhere: keep logging into it, and try again after another max bytes
			r.size = 0
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
