package mailtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ProxyOptions configure a Proxy.
type ProxyOptions struct {
	// UnsafeLogin imitates NetEase (163/126): the proxy advertises ID, answers ID itself, and refuses
	// SELECT/EXAMINE with "NO Unsafe Login" unless the client sent ID after LOGIN.
	UnsafeLogin bool
	// NoNewMail imitates servers that accept IDLE and never announce new mail (163 has been reported):
	// the server's "* n EXISTS" and "* n RECENT" never reach the client.
	NoNewMail bool
}

// Proxy sits between an IMAP client and a server on loopback. It records the client's commands (LOGIN
// arguments masked), can make its connections go silent, and can imitate NetEase's Unsafe Login.
type Proxy struct {
	Addr string

	upstream string
	opts     ProxyOptions
	ln       net.Listener

	mu       sync.Mutex
	conns    map[*proxyConn]bool
	commands []string
	accepted int
	idSent   int
	wg       sync.WaitGroup
}

// StartProxy listens on a loopback port and forwards every connection to upstream.
func StartProxy(upstream string, opts ProxyOptions) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mailtest: proxy listen: %w", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), upstream: upstream, opts: opts, ln: ln, conns: map[*proxyConn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// NewProxy starts a proxy for a test and stops it when the test ends.
func NewProxy(t TB, upstream string, opts ProxyOptions) *Proxy {
	t.Helper()
	p, err := StartProxy(upstream, opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	var conns []*proxyConn
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}

// Commands returns the command lines clients sent so far, without tags ("UID FETCH 3 (UID BODY.PEEK[])").
func (p *Proxy) Commands() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.commands...)
}

// CountCommands counts the commands that contain substr (case-insensitive).
func (p *Proxy) CountCommands(substr string) int {
	n := 0
	for _, c := range p.Commands() {
		if strings.Contains(strings.ToUpper(c), strings.ToUpper(substr)) {
			n++
		}
	}
	return n
}

// Connections returns how many connections the proxy accepted.
func (p *Proxy) Connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Stall makes every open connection go silent: both directions stop forwarding, nothing is closed, as
// when a NAT drops a connection without telling anyone. Later connections work normally.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.stallOnce.Do(func() { close(c.stalled) })
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			conn.Close()
			continue
		}
		c := &proxyConn{p: p, client: conn, server: up, stalled: make(chan struct{}), done: make(chan struct{})}
		p.mu.Lock()
		p.conns[c] = true
		p.accepted++
		p.mu.Unlock()
		p.wg.Add(2)
		go c.fromClient()
		go c.fromServer()
	}
}

type proxyConn struct {
	p              *Proxy
	client, server net.Conn
	clientMu       sync.Mutex // one response at a time to the client

	stalled   chan struct{}
	stallOnce sync.Once
	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	loggedIn bool
	sentID   bool
}

func (c *proxyConn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.client.Close()
		c.server.Close()
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
}

// gate blocks forever (until the connection is closed) once the connection is stalled; it reports
// whether forwarding may go on.
func (c *proxyConn) gate() bool {
	select {
	case <-c.stalled:
		<-c.done
		return false
	case <-c.done:
		return false
	default:
		return true
	}
}

var literalRE = regexp.MustCompile(`\{(\d+)\+?\}\r?\n$`)

// literalSize returns the size of the literal announced at the end of line, or -1.
func literalSize(line string) int64 {
	m := literalRE.FindStringSubmatch(line)
	if m == nil {
		return -1
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// readUnit reads one line and the literals it announces, with the lines that continue it: one whole
// command or response. It returns the first line and every byte read.
func readUnit(r *bufio.Reader, sink func([]byte) error) (first string, err error) {
	for i := 0; ; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return first, err
		}
		if i == 0 {
			first = line
		}
		if err := sink([]byte(line)); err != nil {
			return first, err
		}
		n := literalSize(line)
		if n < 0 {
			return first, nil
		}
		buf := make([]byte, 32*1024)
		for n > 0 {
			k := int64(len(buf))
			if n < k {
				k = n
			}
			m, err := io.ReadFull(r, buf[:k])
			if m > 0 {
				if err := sink(buf[:m]); err != nil {
					return first, err
				}
			}
			if err != nil {
				return first, err
			}
			n -= int64(m)
		}
	}
}

func (c *proxyConn) fromClient() {
	defer c.p.wg.Done()
	defer c.close()
	r := bufio.NewReader(c.client)
	for {
		// A command is read whole before it is forwarded, except its literals, which are forwarded
		// as they come (the server must answer "+" before a synchronizing literal is sent).
		var pending [][]byte
		started := false
		first, err := readUnit(r, func(b []byte) error {
			if !started {
				pending = append(pending, append([]byte(nil), b...))
				if literalSize(string(b)) >= 0 {
					// forward now: the client waits for the continuation
					started = true
					return c.forward(pending)
				}
				return nil
			}
			return c.forward([][]byte{b})
		})
		if err != nil {
			return
		}
		tag, cmd, rest := splitCommand(first)
		c.p.mu.Lock()
		logged := strings.TrimRight(cmd+" "+rest, " \r\n")
		if cmd == "LOGIN" || cmd == "AUTHENTICATE" {
			logged = cmd + " ***"
		}
		if cmd != "" {
			c.p.commands = append(c.p.commands, logged)
		}
		c.p.mu.Unlock()
		if c.p.opts.UnsafeLogin && !started {
			if handled := c.unsafeLogin(tag, cmd); handled {
				continue
			}
		}
		if !started {
			if err := c.forward(pending); err != nil {
				return
			}
		}
	}
}

func (c *proxyConn) forward(chunks [][]byte) error {
	if !c.gate() {
		return io.ErrClosedPipe
	}
	for _, b := range chunks {
		if _, err := c.server.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// splitCommand splits "a1 UID FETCH 1 (UID)\r\n" into "a1", "UID FETCH", "1 (UID)".
func splitCommand(line string) (tag, cmd, rest string) {
	line = strings.TrimRight(line, "\r\n")
	tag, line, _ = strings.Cut(line, " ")
	cmd, rest, _ = strings.Cut(line, " ")
	cmd = strings.ToUpper(cmd)
	if cmd == "UID" {
		var sub string
		sub, rest, _ = strings.Cut(rest, " ")
		cmd += " " + strings.ToUpper(sub)
	}
	return tag, cmd, rest
}

func (c *proxyConn) toClient(s string) error {
	if !c.gate() {
		return io.ErrClosedPipe
	}
	c.clientMu.Lock()
	defer c.clientMu.Unlock()
	_, err := io.WriteString(c.client, s)
	return err
}

var existsRe = regexp.MustCompile(`^\* \d+ (EXISTS|RECENT)\r?\n$`)

func (c *proxyConn) fromServer() {
	defer c.p.wg.Done()
	defer c.close()
	r := bufio.NewReader(c.server)
	for {
		// One response at a time goes to the client (the fake's own answers must not land inside a
		// literal); big literals are passed on as they come.
		first, locked := true, false
		_, err := readUnit(r, func(b []byte) error {
			if !c.gate() {
				return io.ErrClosedPipe
			}
			if first && c.p.opts.UnsafeLogin {
				b = []byte(addIDCap(string(b)))
			}
			if first && c.p.opts.NoNewMail && existsRe.Match(b) {
				return nil
			}
			first = false
			if !locked {
				c.clientMu.Lock()
				locked = true
			}
			_, err := c.client.Write(b)
			return err
		})
		if locked {
			c.clientMu.Unlock()
		}
		if err != nil {
			return
		}
	}
}
