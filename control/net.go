package control

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// The control socket's transport. Where the system has Unix sockets (Linux, macOS,
// Windows 10 1803 and later) it is one, at <store.path>.sock, mode 0600 (on Windows the folder's ACL
// decides who may connect: connecting needs write access to the file). Where it has none (Windows Server
// 2016, older Windows 10), the daemon listens on a TCP port of 127.0.0.1 instead and writes the port and
// a random secret into a file at the same path; a client reads the file and sends the secret before
// anything else, so only who can read the file (the database's folder) can command the daemon, as with
// the socket. The file is replaced at each start.

// tcpMagic starts the file that stands in for the socket.
const tcpMagic = "briefd-control-tcp"

// listen binds the control socket at path, or its loopback stand-in where Unix sockets are missing.
func listen(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err != nil && noUnixSockets(err) {
		return listenTCP(path)
	}
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" { // there a file's mode is only its read-only flag
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}

// dial connects to the daemon's control socket at path, whichever transport it uses.
func dial(path string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err == nil {
		return c, nil
	}
	addr, secret, ok := readTCP(path)
	if !ok {
		return nil, err
	}
	c, err = net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, secret+"\n"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// listenTCP listens on a loopback port and writes the stand-in file at path (mode 0600), atomically.
func listenTCP(path string) (net.Listener, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(key)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err == nil {
		_, err = fmt.Fprintf(tmp, "%s %s %s\n", tcpMagic, ln.Addr(), secret)
		err = errors.Join(err, tmp.Chmod(0o600), tmp.Close())
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket (loopback): %w", err)
	}
	return &secretListener{Listener: ln, path: path, secret: secret}, nil
}

// readTCP reads the stand-in file at path.
func readTCP(path string) (addr, secret string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 512 {
		return "", "", false
	}
	f := strings.Fields(string(b))
	if len(f) != 3 || f[0] != tcpMagic {
		return "", "", false
	}
	host, _, err := net.SplitHostPort(f[1])
	if err != nil || !net.ParseIP(host).IsLoopback() {
		return "", "", false
	}
	return f[1], f[2], true
}

// secretListener accepts connections that start with the secret; its address is the stand-in file, which
// Serve removes at the end as it removes a socket.
type secretListener struct {
	net.Listener
	path, secret string
}

func (l *secretListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &secretConn{Conn: c, secret: l.secret, r: bufio.NewReaderSize(c, 256)}, nil
}

func (l *secretListener) Addr() net.Addr { return standInAddr(l.path) }

type standInAddr string

func (a standInAddr) Network() string { return "tcp+secret" }
func (a standInAddr) String() string  { return string(a) }

// secretConn checks the secret on the first Read: nothing is read from, or written to, a connection that
// has not sent it (the daemon writes only after reading the request).
type secretConn struct {
	net.Conn
	secret string
	r      *bufio.Reader
	once   sync.Once
	err    error
}

var errSecret = errors.New("control connection without the secret")

func (c *secretConn) Read(p []byte) (int, error) {
	c.once.Do(func() {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			c.err = errSecret
			return
		}
		got := strings.TrimSuffix(string(line), "\n")
		if subtle.ConstantTimeCompare([]byte(got), []byte(c.secret)) != 1 {
			c.err = errSecret
		}
	})
	if c.err != nil {
		return 0, c.err
	}
	return c.r.Read(p)
}
