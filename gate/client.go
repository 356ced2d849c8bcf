package gate

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// loopback is whom the client-address header is trusted from when TrustedProxies is
// empty: a proxy on the same host.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// clientIP returns the client's address: the connection's peer or, when ClientIPHeader is
// set and the peer is a trusted proxy, the address the proxies recorded (for
// X-Forwarded-For, the last one that is not itself a trusted proxy). A header from anyone
// else is ignored, so a client cannot choose the address it is counted under.
func (g *Gate) clientIP(r *http.Request) (netip.Addr, bool) {
	return clientIP(r, g.cfg.ClientIPHeader, g.cfg.TrustedProxies)
}

func clientIP(r *http.Request, header string, trusted []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.Unmap()
	if header == "" {
		return peer, true
	}
	if len(trusted) == 0 {
		trusted = loopback
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer, true
	}
	// Right to left: each trusted proxy appended the address it saw.
	vals := r.Header.Values(header)
	client := peer
	for i := len(vals) - 1; i >= 0; i-- {
		parts := strings.Split(vals[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return client, true
			}
			client = a.Unmap()
			if !isTrusted(client) {
				return client, true
			}
		}
	}
	return client, true
}
