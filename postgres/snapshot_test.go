package postgres_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/storetest"
)

func TestExportImport(t *testing.T) {
	ctx := context.Background()
	_, url := newSchema(t)
	s := open(t, url)
	scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}
	for range playkey.MaxKeyPairs {
		kp := storetest.NewKeyPair(scope)
		kp.Tags = map[string]string{"a": "b"}
		if err := s.CreateKeyPair(ctx, kp); err != nil {
			t.Fatal(err)
		}
	}
	ch := playkey.NewChannel(playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypeChannel, ID: playkey.NewID()}, time.Now())
	if err := s.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeViewerSessions(ctx, ch.ARN, "v", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SingleUse(ctx, scope, "u", time.Now().Add(time.Hour), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secret(ctx, "pagination"); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}

	_, url2 := newSchema(t)
	s2 := open(t, url2)
	for i, want := range []bool{true, false} { // copied, then nothing to do
		copied, err := s2.Import(ctx, snap)
		if err != nil || copied != want {
			t.Fatalf("Import #%d = %v, %v; want %v", i+1, copied, err, want)
		}
	}
	back, err := s2.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := snap.Diff(back, 0); len(d) > 0 {
		t.Errorf("the copy differs:\n%s", strings.Join(d, "\n"))
	}

	// Snapshots that break the store's rules are refused whole.
	over := *snap
	over.KeyPairs = append(slices.Clone(snap.KeyPairs), storetest.NewKeyPair(scope))
	dup := *snap
	dup.KeyPairs = []*playkey.KeyPair{snap.KeyPairs[0], storetest.NewKeyPairWithDER(scope, snap.KeyPairs[0].PublicKeyDER)}
	dangling := *snap
	dangling.StreamKeys = append(slices.Clone(snap.StreamKeys), playkey.NewStreamKey(
		playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypeChannel, ID: "missing"}, time.Now()))
	for name, bad := range map[string]*playkey.Snapshot{"over quota": &over, "same key twice": &dup, "dangling stream key": &dangling} {
		_, url := newSchema(t)
		s := open(t, url)
		if _, err := s.Import(ctx, bad); err == nil {
			t.Errorf("%s: imported", name)
		}
		empty, err := s.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := (&playkey.Snapshot{}).Diff(empty, 0); len(d) > 0 {
			t.Errorf("%s: the refused import left %v", name, d)
		}
	}
}

// TestMigrationsMirrorSQLite keeps the two stores' schema histories in step: each version
// exists in both, under the same name.
func TestMigrationsMirrorSQLite(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	if pg, lite := names("migrations"), names("../sqlite/migrations"); !slices.Equal(pg, lite) {
		t.Errorf("postgres migrations %v, sqlite migrations %v", pg, lite)
	}
}
