package gate

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// LimitConnections returns a listener that holds at most perAddr open connections from
// each client address (IPv6 per /64) and answers a connection over the limit with 503 and
// Retry-After, then closes it. Connections from exempt prefixes (the trusted proxies, which
// carry many clients each) are not counted. perAddr <= 0 returns ln unchanged.
func LimitConnections(ln net.Listener, perAddr int, exempt []netip.Prefix) net.Listener {
	if perAddr <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, max: perAddr, exempt: exempt, open: make(map[netip.Prefix]int)}
}

type connLimiter struct {
	net.Listener
	max    int
	exempt []netip.Prefix

	mu   sync.Mutex
	open map[netip.Prefix]int
}

const overLimitResponse = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 46\r\nConnection: close\r\n\r\ntoo many connections from this client address\n"

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, counted := l.key(c.RemoteAddr())
		if !counted {
			return c, nil
		}
		l.mu.Lock()
		ok := l.open[key] < l.max
		if ok {
			l.open[key]++
		}
		l.mu.Unlock()
		if ok {
			return &limitedConn{Conn: c, release: func() { l.release(key) }}, nil
		}
		// Answer without reading the request, and never wait on the client for it.
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write([]byte(overLimitResponse))
		c.Close()
	}
}

func (l *connLimiter) key(a net.Addr) (netip.Prefix, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}, false
	}
	ip := ap.Addr().Unmap()
	for _, p := range l.exempt {
		if p.Contains(ip) {
			return netip.Prefix{}, false
		}
	}
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p, true
}

func (l *connLimiter) release(key netip.Prefix) {
	l.mu.Lock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
	l.mu.Unlock()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
