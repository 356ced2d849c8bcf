package postgres_test

import (
	"context"
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/storetest"
)

var benchScope = playkey.Scope{Account: "123456789012", Region: "us-west-2"}

func BenchmarkCreateDelete(b *testing.B) {
	ctx := context.Background()
	_, url := newSchema(b)
	s := open(b, url)
	for b.Loop() {
		kp := storetest.NewKeyPair(benchScope)
		if err := s.CreateKeyPair(ctx, kp); err != nil {
			b.Fatal(err)
		}
		if err := s.DeleteKeyPair(ctx, kp.ARN); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyPair(b *testing.B) {
	ctx := context.Background()
	_, url := newSchema(b)
	s := open(b, url)
	kp := storetest.NewKeyPair(benchScope)
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
}

func BenchmarkKeyPairs(b *testing.B) {
	ctx := context.Background()
	_, url := newSchema(b)
	s := open(b, url)
	for range playkey.MaxKeyPairs {
		if err := s.CreateKeyPair(ctx, storetest.NewKeyPair(benchScope)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.KeyPairs(ctx, benchScope, playkey.Page{Limit: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
