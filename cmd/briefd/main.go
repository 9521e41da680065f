// Command briefd runs an office's report mailbox: it watches the mailbox over IMAP, checks that every
// briefing is a PDF a person can open, records a receipt, replies to the sender and tells the office who
// has and has not reported. See README.md and config.example.yaml.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	_ "time/tzdata" // the office time zone must load on machines without zoneinfo

	"briefd/config"
	"briefd/control"
	"briefd/office"
	"briefd/pdfcheck"
)

// command is one entry of the command table.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// env is what a command sees of the outside world; tests replace it.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	shared         *app                                      // set in the daemon for a forwarded command
	create         func(path string) (io.WriteCloser, error) // output files of a forwarded command
	command        string                                    // the command running, set by runMain
}

// usageError marks a failure that exits with status 2 (bad usage or bad config).
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// commands is the command table. Each command lives in the file named after its group.
func commands() []command {
	return []command{
		{"run", "the daemon: watch the mailbox, send replies, serve backups", cmdRun},
		{"poll", "one pass: fetch and process all new mail, send what the outbox holds, exit", cmdPoll},
		{"demo", "the whole flow on sample mail with built-in servers; nothing to configure", cmdDemo},
		{"check", "verdict on local files, as the mailbox check gives it (-json)", cmdCheck},
		{"config", "config check: load and validate the config, print it with secrets hidden", cmdConfig},
		{"receipts", "list receipts (-json, -campaign, -unit, -since)", cmdReceipts},
		{"status", "who has / has not reported, per campaign and period (-json)", cmdStatus},
		{"summary", "print this week's summary mail (-send queues it now)", cmdSummary},
		{"compile", "compile -campaign ID [-period P] -o FILE: a period's briefings as one booklet PDF (汇编) and one zip", cmdCompile},
		{"export", "export -o FILE: receipts and status as .xlsx or .csv (-format, -campaign)", cmdExport},
		{"assign", "assign RECEIPT UNIT: give an unmatched receipt to a unit (-learn registers the address)", cmdAssign},
		{"resend", "resend RECEIPT: queue the receipt reply again", cmdResend},
		{"recheck", "recheck [RECEIPT...]: run today's checks again over stored mail (-dry-run, -reply, -since, -campaign)", cmdRecheck},
		{"robot", "robot test [NAME...]: post a test message to the group robots; robot list: their recent posts", cmdRobot},
		{"doctor", "try the configured IMAP and SMTP servers (nothing is sent or changed) and say what to fix", cmdDoctor},
		{"backup", "backup FILE: a consistent copy of the database while the daemon runs", cmdBackup},
		{"service", "install|uninstall|start|stop: briefd as a Windows service (-name, -config)", cmdService},
		{"campaign", "campaign list|add|edit|close|notice: campaigns (报送任务) added while briefd runs", cmdCampaign},
		{"unit", "unit list|add|edit|import FILE [-apply]: units added or changed while briefd runs", cmdUnit},
		{"receipt", "receipt add -unit ID -campaign ID [-file F.pdf …] [-note 纸质报送]: register a briefing that came without mail", cmdReceipt},
		{"remind", "remind [-campaign ID] [-unit ID]: send the reminder (催报) now to the units that have not reported", cmdRemind},
		{"audit", "audit [-since DATE] [-json]: the log of changes made by command or dashboard (操作记录)", cmdAudit},
	}
}

func main() {
	pdfcheck.MaybeWorker() // when started as the isolated PDF checker, work and exit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// runMain dispatches to a command and maps its error to an exit status.
func runMain(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "-version" || args[0] == "--version" {
		fmt.Fprintln(e.stdout, "briefd", version())
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		e.command = c.name
		err := c.run(ctx, e, args[1:])
		var ue *usageError
		var ce *config.Error
		var dr *daemonRunning
		var ie *office.InputError
		switch {
		case errors.As(err, &dr) && !slices.Contains(notForwarded, c.name):
			if dr.args != nil {
				args = dr.args
			}
			return control.Forward(ctx, dr.socket, version(), args, e.stdout, e.stderr)
		case err == nil, errors.Is(err, errHelp):
			return 0
		case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &ie):
			fmt.Fprintf(e.stderr, "briefd %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(e.stderr, "briefd %s: %v\n", c.name, err)
			return 1
		}
	}
	msg := fmt.Sprintf("briefd: unknown command %q", args[0])
	if s := config.Suggest(args[0], commandNames()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	fmt.Fprintln(e.stderr, msg+"; run 'briefd help' for the list")
	return 2
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: briefd <command> [flags]   (-config PATH, default ./config.yaml or $BRIEFD_CONFIG)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'briefd <command> -h' for a command's flags.")
}

// version reports the module version and VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			if s.Value == "true" {
				v += "+dirty"
			}
		}
	}
	return v + " " + bi.GoVersion
}
