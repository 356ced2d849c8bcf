package gate

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/playkey/playkey"
)

// memState is an in-memory State for tests: what the store would hold, plus switches to
// make it fail.
type memState struct {
	mu        sync.Mutex
	keys      map[playkey.Scope][]Key
	channels  map[playkey.ARN]Channel
	revs      []Revocation // the feed; cursor = index+1
	used      map[string]bool
	secret    []byte
	broken    bool // every call fails
	keyReads  int
	chanReads int
}

func newMemState() *memState {
	return &memState{
		keys:     make(map[playkey.Scope][]Key),
		channels: make(map[playkey.ARN]Channel),
		used:     make(map[string]bool),
		secret:   []byte("0123456789abcdef0123456789abcdef"),
	}
}

var errBroken = errors.New("state is broken (test)")

func (m *memState) PublicKeys(ctx context.Context, scope playkey.Scope) ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keyReads++
	if m.broken {
		return nil, errBroken
	}
	return slices.Clone(m.keys[scope]), nil
}

func (m *memState) Channel(ctx context.Context, arn playkey.ARN) (Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.chanReads++
	if m.broken {
		return Channel{}, errBroken
	}
	ch, ok := m.channels[arn]
	if !ok {
		return Channel{}, playkey.Errorf(playkey.ErrResourceNotFound, "no channel %s", arn)
	}
	return ch, nil
}

func (m *memState) RevocationsSince(ctx context.Context, cursor int64) ([]Revocation, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.broken {
		return nil, cursor, errBroken
	}
	if cursor >= int64(len(m.revs)) {
		return nil, cursor, nil
	}
	return slices.Clone(m.revs[cursor:]), int64(len(m.revs)), nil
}

func (m *memState) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.broken {
		return false, errBroken
	}
	k := scope.Account + "/" + scope.Region + "/" + uuid
	if m.used[k] {
		return false, nil
	}
	if consume {
		m.used[k] = true
	}
	return true, nil
}

func (m *memState) Secret(ctx context.Context, name string) ([]byte, error) {
	return m.secret, nil
}

func (m *memState) addKey(scope playkey.Scope, arn string, k *ecdsa.PublicKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[scope] = append(m.keys[scope], Key{ARN: arn, PublicKey: k})
}

func (m *memState) deleteKey(scope playkey.Scope, arn string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[scope] = slices.DeleteFunc(m.keys[scope], func(k Key) bool { return k.ARN == arn })
}

func (m *memState) setChannel(arn playkey.ARN, ch Channel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.channels[arn] = ch
}

func (m *memState) revoke(channel, viewer string, upTo int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revs = append(m.revs, Revocation{ChannelARN: channel, ViewerID: viewer, MaxVersion: upTo})
}

func (m *memState) setBroken(b bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.broken = b
}
