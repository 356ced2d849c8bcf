package sqlite_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/storetest"
)

// TestUpgradeFromKeyPairsOnly opens a database written by a playkey that knew only the first
// migration: it gains the channel tables and keeps its key pairs.
func TestUpgradeFromKeyPairsOnly(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	for _, q := range []string{
		string(v1),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY) STRICT`,
		`INSERT INTO schema_migrations (version) VALUES (1)`,
		`INSERT INTO playback_key_pairs (account, region, id, name, fingerprint, public_key_der, tags, created_at)
		 VALUES ('123456789012', 'us-west-2', 'abcdABCDefgh', 'old', 'fp', x'3076', '{"a":"b"}', 1700000000000)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, path)
	if vs := schemaVersions(t, path); len(vs) < 2 || vs[0] != 1 || vs[1] != 2 {
		t.Fatalf("schema_migrations = %v", vs)
	}
	kp, err := s.KeyPair(ctx, storetest.KeyPairARN(scope, "abcdABCDefgh"))
	if err != nil || kp.Name != "old" || kp.Tags["a"] != "b" {
		t.Fatalf("the old key pair: %+v %v", kp, err)
	}
	ch := storetest.NewChannel(scope)
	if err := s.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, time.Now())); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkViewerRevocation(b *testing.B) {
	// The gate's per-request lookup and its poll when nothing changed.
	ctx := context.Background()
	s := open(b, tempPath(b))
	ch := storetest.NewChannel(scope)
	if err := s.CreateChannel(ctx, ch, nil); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if err := s.RevokeViewerSessions(ctx, ch.ARN, "viewer-"+string(rune('a'+i%26))+string(rune('a'+i/26%26)), int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	rs, err := s.RevocationsSince(ctx, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	last := rs[len(rs)-1].Seq
	b.Run("lookup", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.ViewerRevocation(ctx, ch.ARN, "viewer-ab"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("poll", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.RevocationsSince(ctx, last, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}
