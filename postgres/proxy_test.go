package postgres_test

import (
	"net"
	"sync"
	"testing"
	"time"
)

// proxy forwards TCP connections to a PostgreSQL server and can fail in the two ways a
// database goes away: refuse (the server is down: connections are reset and new ones
// closed at once) and blackhole (the network is partitioned: bytes stop moving, both ways,
// on every connection, old and new, until restore). Tests use it instead of stopping the
// server that other tests share.
type proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	refuse  bool
	flowing chan struct{} // closed while bytes move
	conns   map[net.Conn]struct{}
	closed  chan struct{}
	wg      sync.WaitGroup
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, flowing: make(chan struct{}), conns: map[net.Conn]struct{}{}, closed: make(chan struct{})}
	close(p.flowing)
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close()
			continue
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// track registers c, or reports false when the proxy refuses connections.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil || !p.track(up) {
		if up != nil {
			up.Close()
		}
		return
	}
	defer up.Close()
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(up, client) })
	wg.Go(func() { p.pipe(client, up) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, up)
	p.mu.Unlock()
}

// pipe copies src to dst, holding what it reads while the proxy is blackholed.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			flowing := p.flowing
			p.mu.Unlock()
			select {
			case <-flowing:
			case <-p.closed:
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

// cut makes the server look down: open connections are reset, new ones closed at once.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = true
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, as from a host whose server process died
		}
		c.Close()
	}
}

// blackhole stops every byte, on open connections and new ones, until restore.
func (p *proxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
		p.flowing = make(chan struct{})
	default:
	}
}

// restore undoes cut and blackhole.
func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = false
	select {
	case <-p.flowing:
	default:
		close(p.flowing)
	}
}

func (p *proxy) close() {
	p.restore()
	close(p.closed)
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
