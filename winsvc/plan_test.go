package winsvc

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestServiceSID: the SIDs Windows gives well-known services' virtual accounts.
func TestServiceSID(t *testing.T) {
	for name, want := range map[string]string{
		"TrustedInstaller": "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
		"trustedinstaller": "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", // names are upper-cased first
		"MSSQLSERVER":      "S-1-5-80-3880718306-3832830129-1677859214-2598158968-1052248003",
	} {
		if got := serviceSID(name); got != want {
			t.Errorf("serviceSID(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestPrivateDACL(t *testing.T) {
	got := privateDACL("S-1-5-21-1-2-3-1001", serviceSID("briefd"))
	want := "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-21-1-2-3-1001)(A;OICI;FA;;;" + serviceSID("briefd") + ")"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCheckPrivateFolder(t *testing.T) {
	keep := []string{`C:\ProgramData`, `C:\Program Files`, `C:\Windows`, `C:\Users`, `C:\Users\kejizhang`, `C:\Users\kejizhang\Desktop`}
	tests := []struct {
		dir string
		ok  bool
	}{
		{`C:\ProgramData\briefd`, true},
		{`c:/programdata/briefd/`, true},
		{`D:\briefd`, true},
		{`C:\Users\kejizhang\Desktop\briefd`, true}, // a folder of its own, even on the desktop
		{`C:\ProgramData`, false},
		{`c:\programdata\`, false},
		{`C:\`, false},
		{`D:`, false},
		{`C:\Users`, false},
		{`C:\Users\kejizhang`, false},
		{`C:\Users\KEJIZHANG\desktop`, false},
		{`C:\Program Files`, false},
	}
	for _, tt := range tests {
		err := checkPrivateFolder(tt.dir, keep)
		if (err == nil) != tt.ok {
			t.Errorf("checkPrivateFolder(%q) = %v, want ok %v", tt.dir, err, tt.ok)
		}
	}
	if !winPathWithin(`C:\ProgramData\briefd\data\archive`, `c:/programdata/BRIEFD`) || winPathWithin(`C:\ProgramData\briefd2`, `C:\ProgramData\briefd`) {
		t.Error("winPathWithin")
	}
}

// TestPlanService: the folders that get the private access list (each unless inside another), the log
// beside the database, the config's folder as the working directory, and a warning for each password the
// service would not see.
func TestPlanService(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	// As cmd/briefd reads config.yaml with imap.password_file set and smtp's password left to the default
	// variable (TestServiceSettings there).
	smtpEnv := []EnvSecret{{Key: "smtp", Env: "BRIEFD_SMTP_PASSWORD"}}
	tests := []struct {
		name    string
		store   Settings
		folders []string
		log     string
	}{
		{"all inside the config's folder", Settings{DBPath: "data/briefd.db", Archive: "data/archive", Spool: "data/spool"},
			[]string{dir}, filepath.Join(dir, "data", "briefd.log")},
		{"archive elsewhere", Settings{DBPath: "data/briefd.db", Archive: filepath.Join(other, "archive"), Spool: "data/spool"},
			[]string{dir, filepath.Join(other, "archive")}, filepath.Join(dir, "data", "briefd.log")},
		{"database elsewhere", Settings{DBPath: filepath.Join(other, "db", "briefd.db"), Archive: "archive", Spool: "spool"},
			[]string{dir, filepath.Join(other, "db")}, filepath.Join(other, "db", "briefd.log")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.store
			s.EnvSecrets = smtpEnv
			p := planService("briefd", cfgPath, s)
			if !slices.Equal(p.folders, tt.folders) || p.logPath != tt.log || p.workDir != dir {
				t.Errorf("folders %q, log %s, work dir %s; want %q, %s, %s", p.folders, p.logPath, p.workDir, tt.folders, tt.log, dir)
			}
			// SMTP's password would come from a variable the service does not see.
			if len(p.warnings) != 1 || !strings.HasPrefix(p.warnings[0], "smtp:") || !strings.Contains(p.warnings[0], "BRIEFD_SMTP_PASSWORD") ||
				!strings.Contains(p.warnings[0], dir) {
				t.Errorf("warnings %q", p.warnings)
			}
		})
	}
	if p := planService("briefd", cfgPath, tests[0].store); len(p.warnings) != 0 {
		t.Errorf("passwords from files: warnings %q", p.warnings)
	}
	if got := serviceCommandLine("briefd", `C:\ProgramData\briefd\config.yaml`); !slices.Equal(got,
		[]string{"service", "run", "-name", "briefd", "-config", `C:\ProgramData\briefd\config.yaml`}) {
		t.Errorf("command line %q", got)
	}
	if serviceAccount("briefd") != `NT SERVICE\briefd` {
		t.Error(serviceAccount("briefd"))
	}
}
