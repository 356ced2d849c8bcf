package gate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"math/big"
	"testing"
	"time"
)

func TestPreparedKeys(t *testing.T) {
	var keys []Key
	for _, arn := range []string{"arn:a", "arn:b", "arn:c"} {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, Key{ARN: arn, PublicKey: &k.PublicKey})
	}
	p := preparedKeys{limit: 2}
	now := time.Unix(1767225600, 0)
	const idle = 10 * time.Second

	first := p.prepare(keys[:2], now, idle)
	if len(first) != 2 || first[0].ECDSA() != keys[0].PublicKey || first[1].ECDSA() != keys[1].PublicKey {
		t.Fatalf("prepare = %v", first)
	}
	// A refresh of the key cache reuses the tables.
	again := p.prepare([]Key{keys[1], keys[0]}, now.Add(idle/2), idle)
	if again[0] != first[1] || again[1] != first[0] {
		t.Fatal("tables built again for the same keys")
	}
	// Another key under a known ARN is prepared anew.
	moved := []Key{{ARN: keys[0].ARN, PublicKey: keys[2].PublicKey}}
	if got := p.prepare(moved, now.Add(idle/2), idle); got[0] == first[0] || got[0].ECDSA() != keys[2].PublicKey {
		t.Fatal("a changed key kept its old tables")
	}
	// Past the limit the keys are verified without tables.
	if got := p.prepare(keys, now.Add(idle/2), idle); got != nil {
		t.Fatalf("prepared %d keys past the limit", len(p.keys))
	}
	// Keys unused for idle are forgotten, which makes room.
	if got := p.prepare(keys[1:], now.Add(idle/2+idle), idle); got == nil || got[0] == first[1] {
		t.Fatal("an idle key was kept")
	}
	if len(p.keys) != 2 {
		t.Fatalf("%d keys kept, want the 2 in use", len(p.keys))
	}
	// An invalid key is verified without tables (and crypto/ecdsa refuses it).
	bad := *keys[0].PublicKey
	//lint:ignore SA1019 the test needs the raw coordinates, to make an invalid key no other API can make
	bad.Y = new(big.Int).Add(bad.Y, big.NewInt(1))
	if got := p.prepare([]Key{{ARN: "arn:bad", PublicKey: &bad}}, now, idle); got != nil {
		t.Fatal("prepared a key off the curve")
	}
}
