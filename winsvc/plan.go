// Package winsvc runs briefd as a Windows service: `briefd service install|uninstall|start|stop` and
// `briefd service run`, the process the service manager starts.
//
// What the service is (its command line, its virtual account and that account's SID, the folders it gets
// and their access list, its log file, the warnings printed at install), the loop that answers the service
// manager and the rotating log file are decided in OS-independent code, built and tested on every OS. The
// Windows file (service_windows.go) only talks to the service manager, the event log and the file system's
// security; elsewhere every call returns ErrNotWindows.
//
// The service runs `briefd service run -name NAME -config CONFIG` under its own virtual account
// (NT SERVICE\NAME), in the config's folder (relative paths in the config are relative to it, as for
// systemd's WorkingDirectory), and logs to briefd.log beside the database. The package does not read
// briefd's config: the caller's Loader reads it and gives back the Settings the service needs.
package winsvc

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

// ErrNotWindows is what every call returns on other systems, which have no Windows service manager.
var ErrNotWindows = errors.New("there is no Windows service manager on this system")

// ErrNotService is what Run returns when the process was not started by the service manager.
var ErrNotService = errors.New("service run is what the service manager starts: use `briefd service start`, or `briefd run` in a console")

// Settings is what the service needs of briefd's config.
type Settings struct {
	DBPath, Archive, Spool string      // the store's paths as the config gives them: relative to its folder
	EnvSecrets             []EnvSecret // the passwords the config reads from environment variables
}

// EnvSecret is a password the config reads from an environment variable, which the service does not see
// unless it is set for the whole machine.
type EnvSecret struct {
	Key string // the config's section: "imap", "smtp"
	Env string // the variable: BRIEFD_SMTP_PASSWORD
}

// Loader reads the config at configPath (absolute; the working directory is its folder, as it is for the
// service) and gives the Settings of it. Its error is returned as it is.
type Loader func(configPath string) (Settings, error)

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

// planService works out the service for the config at cfgPath (absolute) with the settings read from it.
func planService(name, cfgPath string, s Settings) servicePlan {
	dir := filepath.Dir(cfgPath)
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	p := servicePlan{name: name, config: cfgPath, workDir: dir, logPath: serviceLogPath(abs(s.DBPath))}
	p.folders = []string{dir}
	for _, f := range []string{filepath.Dir(abs(s.DBPath)), abs(s.Archive), abs(s.Spool)} {
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
	for _, e := range s.EnvSecrets {
		p.warnings = append(p.warnings, fmt.Sprintf("%s: the password comes from the environment variable %s, which the service "+
			"does not see unless it is set for the whole machine (where every user can read it): put it in a file in %s "+
			"and set %s.password_file", e.Key, e.Env, dir, e.Key))
	}
	return p
}

// serviceLogPath is the service's log file: briefd.log beside the database.
func serviceLogPath(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), "briefd.log") }
