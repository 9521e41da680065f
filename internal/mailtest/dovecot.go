package mailtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"briefd/demo"
)

// Dovecot is a real Dovecot IMAP server (Debian dovecot-imapd) on a loopback port, with its own
// configuration, one user and its maildir in a temporary folder.
type Dovecot struct {
	Addr, User, Pass string
	Dir              string // configuration, log, runtime files and mail

	conf string
	cmd  *exec.Cmd
	exit chan error
}

// DovecotAvailable reports why Dovecot cannot run here, or nil.
func DovecotAvailable() error {
	if _, err := exec.LookPath("dovecot"); err != nil {
		if _, err := os.Stat("/usr/sbin/dovecot"); err != nil {
			return errors.New("dovecot is not installed (apt-get install dovecot-imapd)")
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("dovecot tests need root (dovecot drops to its own users)")
	}
	for _, u := range []string{"dovecot", "dovenull"} {
		if _, err := user.Lookup(u); err != nil {
			return fmt.Errorf("dovecot user %s is missing: %w", u, err)
		}
	}
	return nil
}

func dovecotBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	return name
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// NewDovecot starts Dovecot for a test and stops it when the test ends. When Dovecot cannot run here
// the test is skipped, unless the environment variable CI is set: then it fails.
func NewDovecot(t TB) *Dovecot {
	t.Helper()
	if err := DovecotAvailable(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mailtest: %v (CI is set, so this is a failure)", err)
		}
		t.Skipf("mailtest: skipping: %v", err)
	}
	d, err := StartDovecot()
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Logf("mailtest: stop dovecot: %v", err)
		}
	})
	return d
}

const dovecotConf = `base_dir = {{DIR}}/run
state_dir = {{DIR}}/state
log_path = {{DIR}}/dovecot.log
info_log_path = {{DIR}}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  mailbox 垃圾邮件 {
    special_use = \Junk
    auto = subscribe
  }
}
mail_plugins = $mail_plugins
protocol imap {
  mail_plugins = $mail_plugins
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {{DIR}}/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%n {{DIR}}/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = {{PORT}}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0660
  }
}
`

// StartDovecot starts Dovecot with user "office", password "secret". Stop it with Stop.
func StartDovecot() (*Dovecot, error) {
	if err := DovecotAvailable(); err != nil {
		return nil, fmt.Errorf("mailtest: %w", err)
	}
	dir, err := os.MkdirTemp("", "briefd-dovecot-")
	if err != nil {
		return nil, fmt.Errorf("mailtest: %w", err)
	}
	// MkdirTemp makes 0700: the dovecot user must get in to read the passwd file.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mailtest: %w", err)
	}
	uid, gid := 65534, 65534 // nobody:nogroup owns the mail
	if u, err := user.Lookup("nobody"); err == nil {
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	d := &Dovecot{User: "office", Pass: "secret", Dir: dir, conf: filepath.Join(dir, "dovecot.conf")}
	fail := func(err error) (*Dovecot, error) {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mailtest: start dovecot: %w", err)
	}
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return fail(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
		return fail(err)
	}
	passwd := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s\n", d.User, d.Pass, uid, gid, filepath.Join(dir, "mail", d.User))
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(passwd), 0o644); err != nil {
		return fail(err)
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken before dovecot binds it
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		conf := strings.NewReplacer("{{DIR}}", dir, "{{PORT}}", strconv.Itoa(port)).Replace(dovecotConf)
		if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
			return fail(err)
		}
		d.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		d.cmd = exec.Command(dovecotBin("dovecot"), "-F", "-c", d.conf)
		out, err := os.Create(filepath.Join(dir, "stderr.log"))
		if err != nil {
			return fail(err)
		}
		d.cmd.Stdout, d.cmd.Stderr = out, out
		if err := d.cmd.Start(); err != nil {
			out.Close()
			return fail(err)
		}
		out.Close()
		d.exit = make(chan error, 1)
		go func(cmd *exec.Cmd, exit chan error) { exit <- cmd.Wait() }(d.cmd, d.exit)
		if lastErr = d.waitReady(10 * time.Second); lastErr == nil {
			return d, nil
		}
		d.kill()
	}
	return fail(fmt.Errorf("%w\n%s", lastErr, d.Log()))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (d *Dovecot) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.exit:
			return fmt.Errorf("dovecot exited: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", d.Addr, time.Second)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 256)
			n, _ := c.Read(buf)
			c.Close()
			if strings.HasPrefix(string(buf[:n]), "* OK") {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("dovecot did not answer on %s within %v", d.Addr, limit)
}

func (d *Dovecot) kill() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Kill()
		<-d.exit
		d.cmd = nil
	}
}

// Stop stops Dovecot and removes its folder.
func (d *Dovecot) Stop() error {
	if d.cmd == nil {
		return nil
	}
	stop := exec.Command(dovecotBin("doveadm"), "-c", d.conf, "stop")
	err := stop.Run()
	select {
	case <-d.exit:
		d.cmd = nil
	case <-time.After(5 * time.Second):
		d.kill()
	}
	os.RemoveAll(d.Dir)
	return err
}

// Log returns Dovecot's log so far.
func (d *Dovecot) Log() string {
	var b strings.Builder
	for _, f := range []string{"dovecot.log", "stderr.log"} {
		if data, err := os.ReadFile(filepath.Join(d.Dir, f)); err == nil {
			b.Write(data)
		}
	}
	return b.String()
}

// Doveadm runs a doveadm command for the user ("mailbox", "status", ...).
func (d *Dovecot) Doveadm(args ...string) (string, error) {
	full := append([]string{"-c", d.conf}, args...)
	out, err := exec.Command(dovecotBin("doveadm"), full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("mailtest: doveadm %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Append stores a message in mailbox with the given INTERNALDATE (Dovecot clamps a future date to now)
// and returns its UID. Write raw with CRLF line ends: Dovecot hands out CRLF whatever was stored.
func (d *Dovecot) Append(mailbox string, raw []byte, date time.Time) (uint32, error) {
	return Append(d.Addr, d.User, d.Pass, mailbox, raw, date)
}

// Messages lists a mailbox.
func (d *Dovecot) Messages(mailbox string) ([]Message, error) {
	return Messages(d.Addr, d.User, d.Pass, mailbox)
}

// RecreateMailbox gives the mailbox a new UIDVALIDITY and keeps its messages (with new UIDs), as
// after a server migration. INBOX cannot be deleted over IMAP: its messages are copied out, expunged,
// the UIDVALIDITY and UIDNEXT reset with doveadm, and the messages appended again.
func (d *Dovecot) RecreateMailbox(name string) error {
	if !strings.EqualFold(name, "INBOX") {
		return demo.RecreateMailbox(d.Addr, d.User, d.Pass, name)
	}
	msgs, err := d.Messages(name)
	if err != nil {
		return err
	}
	old, err := UIDValidity(d.Addr, d.User, d.Pass, name)
	if err != nil {
		return err
	}
	if len(msgs) > 0 {
		if _, err := d.Doveadm("expunge", "-u", d.User, "mailbox", name, "all"); err != nil {
			return err
		}
	}
	newV := old + 1000
	if _, err := d.Doveadm("mailbox", "update", "-u", d.User, "--uid-validity", strconv.FormatUint(uint64(newV), 10),
		"--min-next-uid", "1", name); err != nil {
		return err
	}
	for _, m := range msgs {
		if _, err := d.Append(name, m.Raw, m.InternalDate); err != nil {
			return err
		}
	}
	got, err := UIDValidity(d.Addr, d.User, d.Pass, name)
	if err != nil {
		return err
	}
	if got == old {
		return fmt.Errorf("mailtest: UIDVALIDITY of %s did not change (%d)", name, old)
	}
	return nil
}
