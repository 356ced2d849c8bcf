package postgres_test

import (
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) playkey.Store {
		_, url := newSchema(b)
		return open(b, url)
	})
}
