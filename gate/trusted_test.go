package gate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

func TestClientHeaderOnlyFromTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		remote, value, want string
		trusted             []netip.Prefix
	}{
		{"203.0.113.5:1", "198.51.100.7", "203.0.113.5", trusted},
		{"10.0.0.1:1", "198.51.100.7", "198.51.100.7", trusted},
		{"10.0.0.1:1", "198.51.100.7, 10.0.0.2", "198.51.100.7", trusted},
		{"10.0.0.1:1", "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7", trusted},
		{"10.0.0.1:1", "", "10.0.0.1", trusted},
		{"203.0.113.5:1", "198.51.100.7", "203.0.113.5", nil}, // default: loopback only
		{"127.0.0.1:1", "198.51.100.7", "198.51.100.7", nil},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.value != "" {
			r.Header.Set("X-Forwarded-For", c.value)
		}
		got, ok := clientIP(r, "X-Forwarded-For", c.trusted)
		if !ok || got.String() != c.want {
			t.Errorf("peer %s, header %q, trusted %v: %v, want %s", c.remote, c.value, c.trusted, got, c.want)
		}
	}
}

// TestInventedAddressesDoNotDodgeTheLimiter: a client that is not a trusted proxy sends a
// new X-Real-IP with each bad token; it is still counted as itself.
func TestInventedAddressesDoNotDodgeTheLimiter(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.FailureBurst = 3; c.FailureRate = 0.01; c.ClientIPHeader = "X-Real-IP" })
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	last := 0
	for i := range 5 {
		tok, _ := token.Sign(token.Claims{ChannelARN: h.private.String(), Exp: time.Now().Add(time.Minute).Unix() + int64(i)}, other)
		req := httptest.NewRequest(http.MethodGet, playbackPath(h.private)+"?token="+tok, nil)
		req.Header.Set("X-Real-IP", fmt.Sprintf("198.51.100.%d", i+1))
		rec := httptest.NewRecorder()
		h.gate.ServeHTTP(rec, req)
		last = rec.Code
		if rec.Header().Get("X-Playkey-Code") == CodeRateLimited {
			return
		}
	}
	t.Fatalf("5 bad tokens under invented addresses, none limited (last status %d)", last)
}

func TestFullLimiterDegrades(t *testing.T) {
	l := newLimiter(1, 3)
	now := time.Now()
	for i := range maxCacheEntries {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p, _ := a.Prefix(32)
		for range 3 {
			l.reserve(p, now) // each address fails its whole burst: nothing to sweep
		}
	}
	p := netip.MustParsePrefix("198.51.100.7/32")
	if ok, _ := l.reserve(p, now); !ok {
		t.Fatal("a new address is refused when the table is full; it must share a bucket instead")
	}
	l.refund(p)
	if len(l.buckets) > maxCacheEntries+1 {
		t.Errorf("%d buckets: the table grew past its bound", len(l.buckets))
	}
}
