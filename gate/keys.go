package gate

import (
	"sync"
	"time"

	"github.com/playkey/playkey/token"
)

// maxPreparedKeys bounds the playback keys held with verification tables, about 128 KiB
// each (64 MiB in all). Keys beyond it are still verified, without tables.
const maxPreparedKeys = 512

// preparedKeys keeps each playback key's verification tables (token.NewPublicKey, about ten
// signature checks' worth of work) across refreshes of the key cache, so that a key is
// prepared once, not every StateRefresh. Keys are found by ARN, which names one key for
// good: a re-imported key gets a new ARN. The zero value is ready to use.
type preparedKeys struct {
	limit int // 0: maxPreparedKeys
	mu    sync.Mutex
	keys  map[string]*preparedKey
	swept time.Time
}

type preparedKey struct {
	k    *token.PublicKey
	used time.Time
}

// prepare returns keys with their tables, in order, or nil when one of them cannot have
// tables (the limit is reached, or the key is invalid): the caller then verifies without.
// Keys unused for idle are forgotten.
func (p *preparedKeys) prepare(keys []Key, now time.Time, idle time.Duration) []*token.PublicKey {
	out := make([]*token.PublicKey, len(keys))
	var missing []int
	p.mu.Lock()
	if now.Sub(p.swept) >= idle {
		for arn, e := range p.keys {
			if now.Sub(e.used) >= idle {
				delete(p.keys, arn)
			}
		}
		p.swept = now
	}
	for i, k := range keys {
		if e := p.keys[k.ARN]; e != nil && e.k.ECDSA().Equal(k.PublicKey) {
			e.used = now
			out[i] = e.k
		} else {
			missing = append(missing, i)
		}
	}
	p.mu.Unlock()
	// The tables take milliseconds: build them outside the lock.
	for _, i := range missing {
		k, err := token.NewPublicKey(keys[i].PublicKey)
		if err != nil {
			return nil
		}
		out[i] = k
	}
	if len(missing) == 0 {
		return out
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = make(map[string]*preparedKey)
	}
	limit := p.limit
	if limit == 0 {
		limit = maxPreparedKeys
	}
	for _, i := range missing {
		if _, ok := p.keys[keys[i].ARN]; !ok && len(p.keys) >= limit {
			return nil
		}
		p.keys[keys[i].ARN] = &preparedKey{k: out[i], used: now}
	}
	return out
}
