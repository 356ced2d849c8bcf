package gate

import (
	"math"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/playkey/playkey/token"
)

// tokenHash identifies a token in the caches and in logs; the token itself is never kept
// beyond the request, nor logged.
type tokenHash [32]byte

// goodToken is a verified token, remembered until it expires.
type goodToken struct {
	claims *token.Claims
	keyARN string
	size   int // what it costs the cache: the token's length, which bounds its claims
}

// badToken is a rejected token, remembered briefly.
type badToken struct {
	code    string
	reason  string
	status  int
	until   time.Time
	keyGen  uint64 // for unknown_key: the key set it failed against
	channel string // the channel it was presented for
}

func (g goodToken) cost() int { return tokenEntryCost + g.size }

func (b badToken) cost() int { return tokenEntryCost + len(b.reason) + len(b.channel) }

// tokenCache remembers verification results. Entries are dropped when they expire and,
// when the cache is full (in entries or in bytes), arbitrarily: a dropped entry only costs
// a verification.
type tokenCache struct {
	mu        sync.Mutex
	good      map[tokenHash]goodToken
	bad       map[tokenHash]badToken
	goodBytes int
	badBytes  int
}

func newTokenCache() *tokenCache {
	return &tokenCache{good: make(map[tokenHash]goodToken), bad: make(map[tokenHash]badToken)}
}

func (c *tokenCache) getGood(h tokenHash) (goodToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.good[h]
	return g, ok
}

func (c *tokenCache) putGood(h tokenHash, g goodToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.goodBytes -= remove(c.good, h)
	c.goodBytes -= makeRoom(c.good, c.goodBytes+g.cost(), func(v goodToken) bool { return v.claims.ExpiresAt().Before(now) })
	c.good[h] = g
	c.goodBytes += g.cost()
}

func (c *tokenCache) dropGood(h tokenHash) {
	c.mu.Lock()
	c.goodBytes -= remove(c.good, h)
	c.mu.Unlock()
}

func (c *tokenCache) getBad(h tokenHash, now time.Time) (badToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.bad[h]
	if ok && !now.Before(b.until) {
		c.badBytes -= remove(c.bad, h)
		return badToken{}, false
	}
	return b, ok
}

func (c *tokenCache) putBad(h tokenHash, b badToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b.reason = truncate(b.reason, maxCachedReason)
	c.badBytes -= remove(c.bad, h)
	c.badBytes -= makeRoom(c.bad, c.badBytes+b.cost(), func(v badToken) bool { return !now.Before(v.until) })
	c.bad[h] = b
	c.badBytes += b.cost()
}

type costed interface{ cost() int }

// remove deletes h from m and returns the bytes it freed.
func remove[V costed](m map[tokenHash]V, h tokenHash) int {
	v, ok := m[h]
	if !ok {
		return 0
	}
	delete(m, h)
	return v.cost()
}

// makeRoom makes room in a cache map for one more entry when it is full (maxCacheEntries,
// or bytes, counting the new entry, over maxTokenCacheBytes): it drops the expired
// entries, and arbitrary ones until the map is at most 7/8 full in entries and bytes. It
// returns the bytes it freed. The sweep reads every entry, so it leaves room for many:
// a cache that stays full (more viewers, or bad tokens, than it holds) sweeps once per
// maxCacheEntries/8 insertions, not on each under its lock.
func makeRoom[V costed](m map[tokenHash]V, bytes int, expired func(V) bool) (freed int) {
	if len(m) < maxCacheEntries && bytes <= maxTokenCacheBytes {
		return 0
	}
	over := func() bool { return len(m) > maxCacheEntries*7/8 || bytes-freed > maxTokenCacheBytes*7/8 }
	for k, v := range m {
		if expired(v) || over() {
			delete(m, k)
			freed += v.cost()
		}
	}
	return freed
}

// limiter is a token bucket of failed verifications per client address: each failure takes
// a token, tokens come back at rate per second up to burst, and an address with an empty
// bucket is refused before any verification work.
type limiter struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: make(map[netip.Prefix]*bucket)}
}

// reserve takes a token for addr before a verification. It returns false and how long
// until a token is back when the bucket is empty.
func (l *limiter) reserve(addr netip.Prefix, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[addr]
	burst, rate := l.burst, l.rate
	if b == nil && len(l.buckets) >= maxCacheEntries {
		l.sweepLocked(now)
	}
	if b == nil && len(l.buckets) >= maxCacheEntries {
		// Too many addresses failing at once: the addresses without a bucket share one,
		// rather than grow the table or refuse tokens that would verify. It is larger,
		// and only failures drain it.
		addr = overflowBucket
		burst, rate = l.burst*overflowShare, l.rate*overflowShare
		b = l.buckets[addr]
	}
	if b == nil {
		b = &bucket{tokens: burst, at: now}
		l.buckets[addr] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		wait := time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second)))
		return false, wait
	}
	b.tokens--
	return true, 0
}

// refund gives back the token of a verification that succeeded.
func (l *limiter) refund(addr netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[addr]; b != nil {
		b.tokens = min(l.burst, b.tokens+1)
	} else if b := l.buckets[overflowBucket]; b != nil {
		b.tokens = min(l.burst*overflowShare, b.tokens+1)
	}
}

// overflowBucket keys the bucket shared by the addresses that found the table full; it
// holds overflowShare addresses' worth of tokens.
var overflowBucket = netip.PrefixFrom(netip.IPv6Unspecified(), 1)

const overflowShare = 100

// sweepLocked forgets buckets that have refilled.
func (l *limiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if k != overflowBucket && b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// clientAddr returns the address the limiter counts a request against (see clientIP).
// IPv6 addresses count per /64, which one client usually holds whole.
func clientAddr(r *http.Request, header string, trusted ...netip.Prefix) netip.Prefix {
	a, ok := clientIP(r, header, trusted)
	if !ok {
		return netip.Prefix{} // one shared bucket for what cannot be parsed
	}
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// limited is the limiter's refusal. It is 403, not 429: IVS players read 429 as "too many
// concurrent viewers", which would mislead a viewer whose address sent bad tokens; the
// IVS player shows the body's error_code instead, so that says what happened, and
// Retry-After says when to try again.
func limited(wait time.Duration) *failure {
	return &failure{status: http.StatusForbidden, ivsCode: CodeRateLimited, code: CodeRateLimited,
		reason: "too many rejected tokens from this address; try again later", retryAfter: wait}
}
