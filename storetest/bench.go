package storetest

import (
	"context"
	"testing"

	"github.com/playkey/playkey"
)

// Benchmark measures the store operations on the API's and the gate's paths, each on a
// fresh store from open, so that every store is measured the same way:
//
//	func BenchmarkStore(b *testing.B) { storetest.Benchmark(b, func(b *testing.B) playkey.Store { ... }) }
func Benchmark(b *testing.B, open func(b *testing.B) playkey.Store) {
	ctx := context.Background()
	scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}

	b.Run("CreateDelete", func(b *testing.B) {
		s := open(b)
		for b.Loop() {
			kp := NewKeyPair(scope)
			if err := s.CreateKeyPair(ctx, kp); err != nil {
				b.Fatal(err)
			}
			if err := s.DeleteKeyPair(ctx, kp.ARN); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("KeyPair", func(b *testing.B) {
		s := open(b)
		kp := NewKeyPair(scope)
		kp.Tags = map[string]string{"env": "prod", "team": "video"}
		if err := s.CreateKeyPair(ctx, kp); err != nil {
			b.Fatal(err)
		}
		b.Run("serial", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.KeyPair(ctx, kp.ARN); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.KeyPair(ctx, kp.ARN); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	})

	b.Run("KeyPairs", func(b *testing.B) {
		s := open(b)
		for range playkey.MaxKeyPairs {
			if err := s.CreateKeyPair(ctx, NewKeyPair(scope)); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			if _, err := s.KeyPairs(ctx, scope, playkey.Page{Limit: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
