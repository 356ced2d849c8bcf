package gate

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

func cacheHash(i int) tokenHash {
	var h tokenHash
	binary.BigEndian.PutUint64(h[:], uint64(i))
	return h
}

// TestTokenCacheFull: a full verified-token cache drops every expired entry and enough
// others to stay within its entries and bytes, and room for more, keeps the new entry, and
// keeps most of the entries still valid.
func TestTokenCacheFull(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	valid := &token.Claims{Exp: now.Add(time.Hour).Unix()}
	expired := &token.Claims{Exp: now.Add(-time.Minute).Unix()}
	c := newTokenCache()
	for i := range maxCacheEntries {
		cl := valid
		if i%10 == 0 {
			cl = expired
		}
		c.putGood(cacheHash(i), goodToken{claims: cl, size: 200}, now.Add(-time.Hour))
	}
	if len(c.good) != maxCacheEntries {
		t.Fatalf("%d entries before the cache was full, want %d", len(c.good), maxCacheEntries)
	}
	for i := maxCacheEntries; i < 3*maxCacheEntries; i++ {
		c.putGood(cacheHash(i), goodToken{claims: valid, size: 200}, now)
		if _, ok := c.good[cacheHash(i)]; !ok {
			t.Fatalf("entry %d was not kept", i)
		}
		if len(c.good) > maxCacheEntries || c.goodBytes > maxTokenCacheBytes {
			t.Fatalf("after entry %d: %d entries, %d bytes", i, len(c.good), c.goodBytes)
		}
		if i == maxCacheEntries {
			// One sweep leaves room for many more, rather than one sweep of every
			// entry per new token.
			if len(c.good) > maxCacheEntries*7/8+1 {
				t.Errorf("%d entries after the first sweep, want at most %d", len(c.good), maxCacheEntries*7/8+1)
			}
			for j := 0; j < maxCacheEntries; j += 10 {
				if _, ok := c.good[cacheHash(j)]; ok {
					t.Fatalf("expired entry %d kept after the cache was full", j)
				}
			}
		}
	}
	sum := 0
	for _, g := range c.good {
		sum += g.cost()
	}
	if sum != c.goodBytes {
		t.Errorf("the cache counts %d bytes, its entries cost %d", c.goodBytes, sum)
	}
	if len(c.good) < maxCacheEntries/2 {
		t.Errorf("%d entries kept of %d", len(c.good), maxCacheEntries)
	}
}

// BenchmarkTokenCacheFull is the cost of remembering one more verified token when the
// cache is full of valid ones: what every new viewer pays once the gate has seen
// maxCacheEntries of them.
func BenchmarkTokenCacheFull(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	valid := &token.Claims{Exp: now.Add(time.Hour).Unix()}
	c := newTokenCache()
	i := 0
	for ; i < maxCacheEntries; i++ {
		c.putGood(cacheHash(i), goodToken{claims: valid, size: 200}, now)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.putGood(cacheHash(i), goodToken{claims: valid, size: 200}, now)
		i++
	}
}
