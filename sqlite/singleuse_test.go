package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/sqlite"
)

// TestSingleUseSurvivesReopen: a spent single-use token stays spent for a store opened
// later on the same file, as a restarted gate would open it.
func TestSingleUseSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "playkey.db")
	scope := playkey.Scope{Account: "111111111111", Region: "us-west-2"}
	expires := time.Now().Add(5 * time.Minute)

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if unused, err := s.SingleUse(ctx, scope, "once", expires, true); err != nil || !unused {
		t.Fatalf("first use: %v, %v", unused, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if unused, err := s.SingleUse(ctx, scope, "once", expires, true); err != nil || unused {
		t.Fatalf("use after reopening: unused = %v, %v; want false", unused, err)
	}
}
