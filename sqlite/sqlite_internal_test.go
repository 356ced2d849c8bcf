package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestPragmas checks the settings durability and concurrency depend on, on both pools.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"}, // FULL
		{"write", "busy_timeout", "10000"},
		{"write", "foreign_keys", "1"},
		{"write", "query_only", "0"},
		{"read", "journal_mode", "wal"},
		{"read", "synchronous", "2"},
		{"read", "busy_timeout", "10000"},
		{"read", "query_only", "1"},
	} {
		db := s.write
		if c.pool == "read" {
			db = s.read
		}
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s pool: PRAGMA %s = %s, want %s", c.pool, c.pragma, got, c.want)
		}
	}
}

func TestMigrationFiles(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
}
