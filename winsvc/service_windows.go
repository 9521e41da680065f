package winsvc

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// serviceLogMax is the size at which the service's log file is renamed to briefd.log.1 and started anew.
const serviceLogMax = 10 << 20

// serviceRestartDelays are the service manager's recovery actions: restart after each delay in turn, the
// last one repeated; the count starts again after a day without failure. A run that fails to start (a
// port taken, a bad config) exits with status 1 or 2 and counts as a failure.
var serviceRestartDelays = []time.Duration{10 * time.Second, 30 * time.Second, 60 * time.Second}

// serviceStopTick is how often a stopping service tells the service manager it is still at it.
const serviceStopTick = 5 * time.Second

// connect reaches the service manager, which only an administrator may change.
func connect() (*mgr.Mgr, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, fmt.Errorf("cannot reach the service manager (run this in a command prompt opened as administrator): %w", err)
	}
	return m, nil
}

// openService reaches the service manager and opens the service name; done closes both. hint follows
// the name in the error when there is no such service.
func openService(name, hint string) (s *mgr.Service, done func(), err error) {
	m, err := connect()
	if err != nil {
		return nil, nil, err
	}
	s, err = m.OpenService(name)
	if err != nil {
		m.Disconnect()
		return nil, nil, fmt.Errorf("no service named %s%s: %w", name, hint, err)
	}
	return s, func() { s.Close(); m.Disconnect() }, nil
}

// loadPlan reads the config as the service will, from its folder (where relative paths start), and
// works out the service.
func loadPlan(name, cfgAbs string, load Loader) (servicePlan, error) {
	if err := os.Chdir(filepath.Dir(cfgAbs)); err != nil {
		return servicePlan{}, err
	}
	s, err := load(cfgAbs)
	if err != nil {
		return servicePlan{}, err
	}
	return planService(name, cfgAbs, s), nil
}

// Install registers the service name for the config at cfgPath: it gives the config's folder (and the
// database, archive and spool folders elsewhere) a private access list, creates the service with its
// restarts and its event log source, and writes what it did to out (notes to errOut).
func Install(name, cfgPath string, load Loader, out, errOut io.Writer) error {
	m, err := connect()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	cfgAbs, err := filepath.Abs(cfgPath)
	if err != nil {
		return err
	}
	plan, err := loadPlan(name, cfgAbs, load)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	keep := knownFolders()
	for _, f := range plan.folders {
		if err := checkPrivateFolder(f, keep); err != nil {
			return err
		}
	}
	if s, err := m.OpenService(name); err == nil {
		s.Close()
		return fmt.Errorf("a service named %s is installed already: `briefd service uninstall -name %s` first, or choose another -name", name, name)
	}
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return fmt.Errorf("who is installing: %w", err)
	}
	dacl := privateDACL(user.User.Sid.String(), serviceSID(name))
	for _, f := range plan.folders {
		if err := os.MkdirAll(f, 0o700); err != nil {
			return err
		}
		if err := setDACL(f, dacl); err != nil {
			return fmt.Errorf("restrict access to %s: %w", f, err)
		}
	}
	s, err := m.CreateService(name, exe, mgr.Config{
		DisplayName:      name + " 报送邮箱 (report mailbox)",
		Description:      "Watches the report mailbox, checks that every briefing is a PDF that opens, answers the sender. Config: " + cfgAbs,
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: true, // after the network is up
		ServiceStartName: serviceAccount(name),
		SidType:          windows.SERVICE_SID_TYPE_UNRESTRICTED,
	}, serviceCommandLine(name, cfgAbs)...)
	if err != nil {
		return fmt.Errorf("create the service: %w", err)
	}
	defer s.Close()
	var actions []mgr.RecoveryAction
	for _, d := range serviceRestartDelays {
		actions = append(actions, mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: d})
	}
	if err := s.SetRecoveryActions(actions, uint32((24 * time.Hour).Seconds())); err != nil {
		return fmt.Errorf("set the service's restarts: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("set the service's restarts: %w", err)
	}
	if err := eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil {
		fmt.Fprintf(errOut, "note: event log source %s: %v\n", name, err) // there from an earlier install
	}
	fmt.Fprintf(out, "installed the service %s: %s %v\n", name, exe, serviceCommandLine(name, cfgAbs))
	fmt.Fprintf(out, "  runs as %s, starts with Windows, restarts after a failure\n", serviceAccount(name))
	for _, f := range plan.folders {
		fmt.Fprintf(out, "  %s: only SYSTEM, Administrators, %s and the service may open it\n", f, user.User.Sid.String())
	}
	fmt.Fprintf(out, "  log: %s (and the Windows event log, Application, source %s)\n", plan.logPath, name)
	for _, w := range plan.warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	fmt.Fprintf(out, "start it with: briefd service start -name %s\n", name)
	return nil
}

// Uninstall stops the service name if it runs and removes it and its event log source; the config,
// database, archive and log stay.
func Uninstall(name string, out io.Writer) error {
	s, done, err := openService(name, "")
	if err != nil {
		return err
	}
	defer done()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		if err := stopAndWait(s); err != nil {
			return err
		}
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("remove the service: %w", err)
	}
	eventlog.Remove(name)
	fmt.Fprintf(out, "removed the service %s; its config, database, archive and log are where they were\n", name)
	return nil
}

// Start starts the service name and waits until it runs, or says that it stopped at once.
func Start(name string, out io.Writer) error {
	s, done, err := openService(name, " (briefd service install first)")
	if err != nil {
		return err
	}
	defer done()
	if err := s.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	st, err := waitState(s, 30*time.Second, svc.Running, svc.Stopped)
	if err != nil {
		return err
	}
	if st.State == svc.Stopped {
		return fmt.Errorf("%s stopped at once (exit status %d): see briefd.log beside the database, and the event log (Application, source %s)",
			name, st.ServiceSpecificExitCode, name)
	}
	fmt.Fprintf(out, "%s is running (pid %d)\n", name, st.ProcessId)
	return nil
}

// Stop asks the service name to stop and waits while it finishes the work in hand.
func Stop(name string, out io.Writer) error {
	s, done, err := openService(name, "")
	if err != nil {
		return err
	}
	defer done()
	if err := stopAndWait(s); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s stopped\n", name)
	return nil
}

// stopAndWait asks the service to stop and waits while it finishes the work in hand.
func stopAndWait(s *mgr.Service) error {
	if _, err := s.Control(svc.Stop); err != nil {
		return fmt.Errorf("stop %s: %w", s.Name, err)
	}
	_, err := waitState(s, 2*time.Minute, svc.Stopped)
	return err
}

// waitState polls the service until it is in one of the states.
func waitState(s *mgr.Service, limit time.Duration, states ...svc.State) (svc.Status, error) {
	deadline := time.Now().Add(limit)
	for {
		st, err := s.Query()
		if err != nil {
			return st, fmt.Errorf("query %s: %w", s.Name, err)
		}
		for _, want := range states {
			if st.State == want {
				return st, nil
			}
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%s is still in state %d after %v", s.Name, st.State, limit)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Run is the service itself, as the service manager starts it: it reads the config at cfgPath (absolute)
// from its folder, opens the log file and runs daemon with it until the service manager stops the service
// (daemon's context is cancelled then). A start that fails, and a daemon that ends with a status other
// than 0, are written to the event log too. Run returns ErrNotService in a console.
func Run(name, cfgPath string, load Loader, daemon func(ctx context.Context, log io.Writer) int) error {
	if ok, err := svc.IsWindowsService(); err != nil || !ok {
		return ErrNotService
	}
	elog, err := eventlog.Open(name)
	if err != nil {
		elog = nil // not registered: the log file is all there is
	}
	fail := func(err error) error {
		if elog != nil {
			elog.Error(1, fmt.Sprintf("briefd could not start: %v", err))
		}
		return err
	}
	plan, err := loadPlan(name, cfgPath, load)
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(filepath.Dir(plan.logPath), 0o700); err != nil {
		return fail(err)
	}
	logf, err := openRotating(plan.logPath, serviceLogMax)
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	if elog != nil {
		elog.Info(1, "briefd starting; its log is "+plan.logPath)
	}
	h := &windowsService{run: func(ctx context.Context) int { return daemon(ctx, logf) }}
	if err := svc.Run(name, h); err != nil {
		return fail(err)
	}
	if h.code != 0 && elog != nil {
		elog.Error(2, fmt.Sprintf("briefd stopped with exit status %d: see %s", h.code, plan.logPath))
	}
	return nil
}

// windowsService adapts runService to the svc package.
type windowsService struct {
	run  func(context.Context) int
	code int
}

func (w *windowsService) Execute(_ []string, r <-chan svc.ChangeRequest, s chan<- svc.Status) (bool, uint32) {
	reqs := make(chan serviceRequest)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			var c svc.ChangeRequest
			var ok bool
			select {
			case c, ok = <-r:
				if !ok {
					return
				}
			case <-stop:
				return
			}
			var req serviceRequest
			switch c.Cmd {
			case svc.Stop:
				req = askStop
			case svc.Shutdown:
				req = askShutdown
			case svc.Interrogate:
				req = askInterrogate
			default:
				continue
			}
			select {
			case reqs <- req:
			case <-stop:
				return
			}
		}
	}()
	var checkpoint uint32
	report := func(st serviceState) {
		switch st {
		case serviceStarting:
			s <- svc.Status{State: svc.StartPending, WaitHint: 10000}
		case serviceRunning:
			s <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
		case serviceStopping:
			checkpoint++
			s <- svc.Status{State: svc.StopPending, CheckPoint: checkpoint, WaitHint: uint32(2 * serviceStopTick / time.Millisecond)}
		}
	}
	w.code = runService(reqs, report, serviceStopTick, w.run)
	return w.code != 0, uint32(w.code)
}

// setDACL replaces the folder's access list with the SDDL one, passed down to what it holds.
func setDACL(dir, sddl string) error {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

// knownFolders are the system's and the user's folders whose access lists briefd must not replace.
func knownFolders() []string {
	var out []string
	for _, id := range []*windows.KNOWNFOLDERID{windows.FOLDERID_ProgramData, windows.FOLDERID_ProgramFiles,
		windows.FOLDERID_ProgramFilesX86, windows.FOLDERID_Windows, windows.FOLDERID_UserProfiles, windows.FOLDERID_Profile,
		windows.FOLDERID_Desktop, windows.FOLDERID_Documents, windows.FOLDERID_Downloads} {
		if p, err := windows.KnownFolderPath(id, 0); err == nil {
			out = append(out, p)
		}
	}
	return out
}
