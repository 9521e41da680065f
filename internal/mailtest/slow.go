package mailtest

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// SlowOptions say how a SlowProxy hinders the bytes it forwards.
type SlowOptions struct {
	// Latency is waited before each chunk is forwarded, in both directions.
	Latency time.Duration
	// BytesPerSecond throttles each direction of each connection; 0: no throttle.
	BytesPerSecond int
	// Chunk is the most bytes forwarded at once. Default 512.
	Chunk int
}

// SlowProxy is a plain TCP proxy on a loopback port that makes a server slow: every chunk waits Latency,
// and each direction is throttled to BytesPerSecond. It speaks no protocol, so it works in front of IMAP
// and SMTP alike. Stall makes the open connections go silent without closing them; Down refuses new
// connections and cuts the open ones, as when a server is unreachable.
type SlowProxy struct {
	Addr string

	upstream string
	ln       net.Listener

	mu       sync.Mutex
	opts     SlowOptions
	conns    map[*slowConn]bool
	accepted int
	down     bool
	wg       sync.WaitGroup
}

// StartSlowProxy listens on a free loopback port and forwards every connection to upstream.
func StartSlowProxy(upstream string, o SlowOptions) (*SlowProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mailtest: slow proxy listen: %w", err)
	}
	p := &SlowProxy{Addr: ln.Addr().String(), upstream: upstream, ln: ln, opts: o, conns: map[*slowConn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// NewSlowProxy starts a slow proxy for a test and closes it when the test ends.
func NewSlowProxy(t TB, upstream string, o SlowOptions) *SlowProxy {
	t.Helper()
	p, err := StartSlowProxy(upstream, o)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// Set changes how slow the proxy is, for open connections too.
func (p *SlowProxy) Set(o SlowOptions) {
	p.mu.Lock()
	p.opts = o
	p.mu.Unlock()
}

func (p *SlowProxy) options() SlowOptions {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.opts
	if o.Chunk <= 0 {
		o.Chunk = 512
	}
	return o
}

// Connections is how many connections the proxy accepted and forwarded.
func (p *SlowProxy) Connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Stall makes every open connection go silent in both directions without closing it. Later connections
// work normally.
func (p *SlowProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.stallOnce.Do(func() { close(c.stalled) })
	}
}

// Down cuts every open connection and closes new ones at once (the client sees its connection end, as
// when a server is unreachable) until Up.
func (p *SlowProxy) Down() {
	p.mu.Lock()
	p.down = true
	var conns []*slowConn
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Up ends Down.
func (p *SlowProxy) Up() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// Close stops listening and closes every connection.
func (p *SlowProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	var conns []*slowConn
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}

func (p *SlowProxy) accept() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			conn.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
		if err != nil {
			conn.Close()
			continue
		}
		c := &slowConn{p: p, client: conn, server: up, stalled: make(chan struct{}), done: make(chan struct{})}
		p.mu.Lock()
		p.conns[c] = true
		p.accepted++
		p.mu.Unlock()
		p.wg.Add(2)
		go c.pipe(up, conn)
		go c.pipe(conn, up)
	}
}

type slowConn struct {
	p              *SlowProxy
	client, server net.Conn
	stalled        chan struct{}
	stallOnce      sync.Once
	done           chan struct{}
	closeOnce      sync.Once
}

func (c *slowConn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.client.Close()
		c.server.Close()
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
}

// wait sleeps d unless the connection ends; once stalled it waits for the end. It reports whether
// forwarding may go on.
func (c *slowConn) wait(d time.Duration) bool {
	select {
	case <-c.stalled:
		<-c.done
		return false
	case <-c.done:
		return false
	default:
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.stalled:
		<-c.done
		return false
	case <-c.done:
		return false
	case <-t.C:
		return true
	}
}

// pipe copies src to dst chunk by chunk, late and throttled.
func (c *slowConn) pipe(dst io.Writer, src io.Reader) {
	defer c.p.wg.Done()
	defer c.close()
	buf := make([]byte, 64<<10)
	for {
		o := c.p.options()
		n, err := src.Read(buf[:min(len(buf), o.Chunk)])
		if n > 0 {
			d := o.Latency
			if o.BytesPerSecond > 0 {
				d += time.Duration(n) * time.Second / time.Duration(o.BytesPerSecond)
			}
			if !c.wait(d) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
