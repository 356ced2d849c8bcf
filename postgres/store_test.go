package postgres_test

import (
	"context"
	"errors"
	neturl "net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/postgres"
	"github.com/playkey/playkey/postgres/pgtest"
	"github.com/playkey/playkey/storetest"
)

// schemas caps how many test schemas, each with its own pool, exist at once, so that a
// machine with many CPUs running the suite in parallel stays well below the server's
// max_connections (100 by default), which other test binaries share.
var schemas = make(chan struct{}, 8)

// poolParams keep each store's pool small for the same reason.
var poolParams = []string{"pool_max_conns", "4"}

// newSchema returns the URL of a fresh schema; see pgtest.Schema.
func newSchema(t testing.TB, params ...string) (name, url string) {
	t.Helper()
	pgtest.Require(t)
	schemas <- struct{}{}
	t.Cleanup(func() { <-schemas })
	name, url = pgtest.Schema(t)
	return name, pgtest.WithParams(url, append(slices.Clone(poolParams), params...)...)
}

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// conn returns a plain connection to a store's url, for looking at the tables behind the
// store.
func conn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	base, query, _ := strings.Cut(url, "?")
	q, err := neturl.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	for k := range q {
		if strings.HasPrefix(k, "pool_") || strings.HasPrefix(k, "playkey_") {
			q.Del(k) // the pool's and the store's, not the server's
		}
	}
	c, err := pgx.Connect(context.Background(), base+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) playkey.Store {
		t.Parallel() // every test has its own schema
		_, url := newSchema(t)
		return open(t, url)
	})
}

// TestStoreNodes runs the suite against three Stores on one schema, each with its own
// pool, taking turns call by call, as three playkey nodes sharing a database would.
func TestStoreNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite again, on three nodes")
	}
	storetest.Run(t, func(t *testing.T) playkey.Store {
		t.Parallel()
		_, url := newSchema(t, "pool_max_conns", "2")
		return storetest.RoundRobin(open(t, url), open(t, url), open(t, url))
	})
}

func schemaVersions(t *testing.T, url string) []int {
	t.Helper()
	rows, err := conn(t, url).Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func wantVersions(t *testing.T, got []int) {
	t.Helper()
	if len(got) == 0 {
		t.Fatal("no migration recorded")
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("schema_migrations = %v, want 1..n once each", got)
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	_, url := newSchema(t)
	s := open(t, url)
	kp := storetest.NewKeyPair(playkey.Scope{Account: "123456789012", Region: "us-west-2"})
	if err := s.CreateKeyPair(ctx, kp); err != nil {
		t.Fatal(err)
	}
	s.Close()
	first := schemaVersions(t, url)
	wantVersions(t, first)
	for range 3 {
		s := open(t, url)
		if _, err := s.KeyPair(ctx, kp.ARN); err != nil {
			t.Fatalf("after reopening: %v", err)
		}
		s.Close()
	}
	if again := schemaVersions(t, url); !slices.Equal(again, first) {
		t.Fatalf("schema_migrations = %v after reopening, was %v", again, first)
	}
}

func TestConcurrentOpen(t *testing.T) {
	// Nodes starting together on a new schema migrate it once: the others wait for the
	// advisory lock, then find the work done. Without the lock, concurrent CREATE TABLEs
	// fail with duplicate-object errors.
	_, url := newSchema(t, "pool_max_conns", "1")
	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Errorf("open: %v", err)
				return
			}
			s.Close()
		})
	}
	close(start)
	wg.Wait()
	wantVersions(t, schemaVersions(t, url))
}

func TestRefusesNewerSchema(t *testing.T) {
	_, url := newSchema(t)
	open(t, url).Close()
	if _, err := conn(t, url).Exec(context.Background(), `INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(context.Background(), url)
	if err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	}
	if !strings.Contains(err.Error(), "newer") || errors.As(err, new(*playkey.Error)) {
		t.Errorf("error %q", err)
	}
}

func TestSearchPath(t *testing.T) {
	ctx := context.Background()
	name, url := newSchema(t)
	// libpq's options form selects the schema too.
	base := pgtest.WithParams(pgtest.BaseURL(), append(slices.Clone(poolParams), "options", "-csearch_path="+name)...)
	s := open(t, base)
	if s.Schema() != name {
		t.Errorf("Schema() = %q, want %q", s.Schema(), name)
	}
	kp := storetest.NewKeyPair(playkey.Scope{Account: "123456789012", Region: "us-west-2"})
	if err := s.CreateKeyPair(ctx, kp); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, url).KeyPair(ctx, kp.ARN); err != nil {
		t.Errorf("the key pair is not in schema %s: %v", name, err)
	}

	// A schema that does not exist is an error that says so; playkey creates none.
	missing := pgtest.WithParams(pgtest.BaseURL(), "search_path", name+"_missing")
	if s, err := postgres.Open(ctx, missing); err == nil {
		s.Close()
		t.Error("opened a search_path naming no schema")
	} else if !strings.Contains(err.Error(), "none of its schemas exists") {
		t.Errorf("error %q", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{
		"",
		"mysql://localhost/x",
		"host=localhost dbname=x",
		"postgres://u:hunter2@127.0.0.1:1/x?playkey_timeout=banana",
		"postgres://u:hunter2@127.0.0.1:1/x?playkey_timeout=-1s",
		"postgres://u:hunter2@127.0.0.1:1/x?sslmode=nonsense",
		"postgres://u:hunter2@127.0.0.1:1/x?playkey_timeout=300ms", // nothing listens on port 1
	} {
		s, err := postgres.Open(ctx, url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if !strings.HasPrefix(err.Error(), "postgres: ") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q): %v", url, err)
		}
	}
}

func TestPingAfterClose(t *testing.T) {
	_, url := newSchema(t)
	s := open(t, url)
	s.Close()
	err := s.Ping(context.Background())
	if err == nil {
		t.Fatal("Ping after Close succeeded")
	}
	if playkey.IsCode(err, playkey.ErrServiceUnavailable) {
		t.Errorf("Ping after Close: %v; a closed store is not the database being away", err)
	}
}

// TestUpgradeFromKeyPairsOnly opens a schema written by a playkey that knew only the first
// migration: it gains the later tables and keeps its key pairs.
func TestUpgradeFromKeyPairsOnly(t *testing.T) {
	ctx := context.Background()
	_, url := newSchema(t)
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	c := conn(t, url)
	for _, q := range []string{
		string(v1),
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version, name) VALUES (1, '0001_init.sql')`,
		`INSERT INTO playback_key_pairs (account, region, id, name, fingerprint, public_key_der, tags, created_at)
		 VALUES ('123456789012', 'us-west-2', 'abcdABCDefgh', 'old', 'fp', '\x3076', '{"a":"b"}', '2023-11-14 22:13:20.123+00')`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	s := open(t, url)
	if vs := schemaVersions(t, url); len(vs) < 2 {
		t.Fatalf("schema_migrations = %v", vs)
	}
	wantVersions(t, schemaVersions(t, url))
	scope := playkey.Scope{Account: "123456789012", Region: "us-west-2"}
	kp, err := s.KeyPair(ctx, storetest.KeyPairARN(scope, "abcdABCDefgh"))
	if err != nil || kp.Name != "old" || kp.Tags["a"] != "b" || kp.CreatedAt.UnixMilli() != 1700000000123 || string(kp.PublicKeyDER) != "\x30\x76" {
		t.Fatalf("the old key pair: %+v %v", kp, err)
	}
	ch := storetest.NewChannel(scope)
	if err := s.CreateChannel(ctx, ch, playkey.NewStreamKey(ch.ARN, time.Now())); err != nil {
		t.Fatal(err)
	}
}
