package gate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/token"
)

// State is what the gate reads from (and, for single use, writes to) playkey's store;
// playback.FromStore adapts a playkey.Store to it.
type State = playback.State

// Key, Channel, Policy and Revocation are the playback decision's view of the store.
type (
	Key        = playback.Key
	Channel    = playback.Channel
	Policy     = playback.Policy
	Revocation = playback.Revocation
)

// ttlCache keeps the result of a lookup for ttl, and lets one caller at a time refresh an
// entry while the others wait for its result (so a burst of requests for one account costs
// one store read).
type ttlCache[K comparable, V any] struct {
	ttl   time.Duration
	stale time.Duration // how long a value may serve when fetching it again fails
	now   func() time.Time
	fetch func(ctx context.Context, k K) (V, error)

	mu      sync.Mutex
	entries map[K]*ttlEntry[V]
}

type ttlEntry[V any] struct {
	ready   chan struct{} // closed when val and err are set
	val     V
	err     error
	fetched time.Time
	used    time.Time
	retry   time.Time // for a value kept after a failed fetch: when to try again
	dropped bool      // announced as changed: fetch again, but keep as the fallback
}

func newTTLCache[K comparable, V any](ttl, stale time.Duration, now func() time.Time, fetch func(context.Context, K) (V, error)) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, stale: stale, now: now, fetch: fetch, entries: make(map[K]*ttlEntry[V])}
}

// get returns the cached value for k, fetching it when absent or older than ttl. Errors are
// not cached beyond the callers waiting for the same fetch.
func (c *ttlCache[K, V]) get(ctx context.Context, k K) (V, error) {
	now := c.now()
	c.mu.Lock()
	e := c.entries[k]
	var prev *ttlEntry[V] // a value to fall back on if the fetch fails
	if e != nil {
		select {
		case <-e.ready:
			if e.err == nil && !e.dropped && (now.Sub(e.fetched) < c.ttl || now.Before(e.retry)) {
				e.used = now
				c.mu.Unlock()
				return e.val, nil
			}
			if e.err == nil {
				prev = e
			}
			e = nil // stale or failed: fetch again
		default: // a fetch is under way: wait for it
		}
	}
	if e == nil {
		if len(c.entries) >= maxCacheEntries {
			c.sweepLocked(now)
		}
		e = &ttlEntry[V]{ready: make(chan struct{}), used: now}
		c.entries[k] = e
		c.mu.Unlock()
		// The fetch outlives a caller that gives up, so that the waiters still get a result.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateTimeout)
		v, err := c.fetch(fctx, k)
		cancel()
		c.mu.Lock()
		e.val, e.err, e.fetched = v, err, c.now()
		if err != nil && prev != nil && e.fetched.Sub(prev.fetched) < c.stale {
			// The store cannot be read: decide on what it said last, for a while, and
			// let the requests until the next try use it without waiting.
			e.val, e.err, e.fetched = prev.val, nil, prev.fetched
			e.retry = c.now().Add(c.ttl)
			if end := prev.fetched.Add(c.stale); end.Before(e.retry) {
				e.retry = end
			}
			v, err = e.val, nil
		}
		close(e.ready)
		if err != nil && c.entries[k] == e {
			delete(c.entries, k)
		}
		c.mu.Unlock()
		return v, err
	}
	c.mu.Unlock()
	select {
	case <-e.ready:
		return e.val, e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// drop makes the next get of k fetch it again. A fetch under way still answers the callers
// waiting for it, and its result is fetched again too. The value stays only as the
// fallback for a fetch that fails (within the stale window), as it would have without the
// drop: losing it would turn a store outage that begins just after an announcement (or
// just after a store's watcher starts and announces everything) into refusals at once.
func (c *ttlCache[K, V]) drop(k K) {
	c.mu.Lock()
	if e := c.entries[k]; e != nil {
		e.dropped = true
	}
	c.mu.Unlock()
}

// dropAll drops every entry.
func (c *ttlCache[K, V]) dropAll() {
	c.mu.Lock()
	for _, e := range c.entries {
		e.dropped = true
	}
	c.mu.Unlock()
}

// sweepLocked drops entries unused for ten ttls; if the cache is still full, it drops
// everything settled, which only costs refetches.
func (c *ttlCache[K, V]) sweepLocked(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.used) > 10*c.ttl {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < maxCacheEntries {
		return
	}
	for k, e := range c.entries {
		select {
		case <-e.ready:
			delete(c.entries, k)
		default:
		}
	}
}

const stateTimeout = 5 * time.Second

// keySet is the keys of one scope, with a generation that changes when they do.
type keySet struct {
	keys     []Key
	gen      uint64
	prepared []*token.PublicKey // keys with verification tables; nil: verify without
}

// revocations mirrors the store's viewer-session revocations in memory.
type revocations struct {
	mu     sync.RWMutex
	max    map[revocationKey]int64
	cursor int64
	synced time.Time // last successful poll
}

type revocationKey struct{ channel, viewer string }

// revoked reports whether a session of viewer on channel with the given version is revoked.
func (r *revocations) revoked(channel, viewer string, version int64) bool {
	m, ok := r.lookup(channel, viewer)
	return playback.SessionRevoked(version, m, ok)
}

// lookup returns the highest revoked session version of viewer on channel, if any.
func (r *revocations) lookup(channel, viewer string) (int64, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, ok := r.max[revocationKey{channel, viewer}]
	return m, ok
}

// fresh reports whether the mirror was synced within staleAfter of now.
func (r *revocations) fresh(now time.Time, staleAfter time.Duration) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return now.Sub(r.synced) <= staleAfter
}

// poll reads every revocation recorded since the last poll.
func (r *revocations) poll(ctx context.Context, s State, now time.Time) error {
	r.mu.RLock()
	cursor := r.cursor
	r.mu.RUnlock()
	for range 10_000 { // a bound, not an expectation: batches end when the feed is drained
		revs, next, err := s.RevocationsSince(ctx, cursor)
		if err != nil {
			return fmt.Errorf("read revocations: %w", err)
		}
		r.mu.Lock()
		for _, v := range revs {
			k := revocationKey{v.ChannelARN, v.ViewerID}
			if old, ok := r.max[k]; !ok || v.MaxVersion > old {
				r.max[k] = v.MaxVersion
			}
		}
		r.cursor = next
		r.mu.Unlock()
		if len(revs) == 0 || next == cursor {
			break
		}
		cursor = next
	}
	r.mu.Lock()
	r.synced = now
	r.mu.Unlock()
	return nil
}
