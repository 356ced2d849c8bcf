package gate

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the client's address: the connection's peer or, when ClientIPHeader is
// set, the address the proxy put in it (for X-Forwarded-For, the last one: the address
// the proxy itself saw).
func (g *Gate) clientIP(r *http.Request) (netip.Addr, bool) {
	return clientIP(r, g.cfg.ClientIPHeader)
}

func clientIP(r *http.Request, header string) (netip.Addr, bool) {
	s := ""
	if header != "" {
		if v := r.Header.Values(header); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			s = strings.TrimSpace(last)
		}
	}
	if s == "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
