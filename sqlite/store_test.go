package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/sqlite"
	"github.com/playkey/playkey/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "playkey.db")
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) playkey.Store {
		t.Parallel() // every test has its own file
		return open(t, tempPath(t))
	})
}

// TestStoreTwoHandles runs the suite against two Stores on one file, taking turns call by
// call, as two playkey processes sharing a data directory would.
func TestStoreTwoHandles(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite again, on two handles")
	}
	storetest.Run(t, func(t *testing.T) playkey.Store {
		t.Parallel()
		path := tempPath(t)
		return storetest.RoundRobin(open(t, path), open(t, path))
	})
}

var scope = playkey.Scope{Account: "123456789012", Region: "us-west-2"}

// rawDB opens the database file without the store, to look at or tamper with it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaVersions(t *testing.T, path string) []int {
	t.Helper()
	rows, err := rawDB(t, path).Query(`SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	kp := storetest.NewKeyPair(scope)
	if err := s.CreateKeyPair(ctx, kp); err != nil {
		t.Fatal(err)
	}
	s.Close()
	first := schemaVersions(t, path)
	if len(first) == 0 || first[0] != 1 {
		t.Fatalf("schema_migrations = %v after the first open", first)
	}
	for range 3 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if _, err := s.KeyPair(ctx, kp.ARN); err != nil {
			t.Fatalf("after reopen: %v", err)
		}
		s.Close()
	}
	if again := schemaVersions(t, path); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("schema_migrations = %v after reopening, was %v", again, first)
	}
}

func TestConcurrentOpen(t *testing.T) {
	// Processes starting together on a new data directory migrate it once.
	path := tempPath(t)
	const n = 6
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Errorf("open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	if vs := schemaVersions(t, path); len(vs) == 0 || vs[0] != 1 {
		t.Fatalf("schema_migrations = %v", vs)
	}
}

func TestPersists(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	kp := storetest.NewKeyPair(scope)
	kp.Tags = map[string]string{"a": "1"}
	if err := s.CreateKeyPair(ctx, kp); err != nil {
		t.Fatal(err)
	}
	if err := s.TagResource(ctx, kp.ARN, map[string]string{"b": "2"}); err != nil {
		t.Fatal(err)
	}
	secret, err := s.Secret(ctx, "pagination")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	got, err := s.KeyPair(ctx, kp.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint != kp.Fingerprint || string(got.PublicKeyDER) != string(kp.PublicKeyDER) ||
		got.Name != kp.Name || !got.CreatedAt.Equal(kp.CreatedAt.Truncate(time.Millisecond)) ||
		fmt.Sprint(got.Tags) != "map[a:1 b:2]" {
		t.Errorf("after reopening: %+v, want %+v with tags a:1 b:2", got, kp)
	}
	again, err := s.Secret(ctx, "pagination")
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(secret) {
		t.Error("the secret changed across reopening")
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := tempPath(t)
	s := open(t, path)
	s.Close()
	if _, err := rawDB(t, path).Exec(`INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	}
	if !strings.Contains(err.Error(), "newer") || errors.As(err, new(*playkey.Error)) {
		t.Errorf("error %q", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, path := range []string{
		"",
		filepath.Join(t.TempDir(), "missing-dir", "playkey.db"),
		filepath.Join(t.TempDir(), "what?.db"),
	} {
		if s, err := sqlite.Open(ctx, path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		} else if !strings.HasPrefix(err.Error(), "sqlite: ") {
			t.Errorf("Open(%q): %v", path, err)
		}
	}
}

func TestPingAfterClose(t *testing.T) {
	s := open(t, tempPath(t))
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func TestTwoHandlesQuota(t *testing.T) {
	// Two stores on one file, as two processes sharing a data directory: the quota holds
	// across them, under concurrency.
	path := tempPath(t)
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	ctx := context.Background()
	for round := range 3 {
		sc := playkey.Scope{Account: fmt.Sprintf("%012d", round), Region: "us-east-1"}
		const n = 40
		var ok, quota atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				err := stores[i%2].CreateKeyPair(ctx, storetest.NewKeyPair(sc))
				switch {
				case err == nil:
					ok.Add(1)
				case playkey.IsCode(err, playkey.ErrServiceQuotaExceeded):
					quota.Add(1)
				default:
					t.Errorf("create: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok.Load() != playkey.MaxKeyPairs || quota.Load() != n-playkey.MaxKeyPairs {
			t.Errorf("round %d: %d created, %d over quota; want %d and %d", round, ok.Load(), quota.Load(), playkey.MaxKeyPairs, n-playkey.MaxKeyPairs)
		}
		for i, s := range stores {
			kps, err := s.KeyPairs(ctx, sc, playkey.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(kps) != playkey.MaxKeyPairs {
				t.Errorf("store %d lists %d key pairs", i, len(kps))
			}
		}
	}
}

// crashChildEnv, when set, makes TestCrashDurability the child: it creates key pairs in the
// database it names until it is killed, printing each ARN once CreateKeyPair has returned.
const crashChildEnv = "PLAYKEY_SQLITE_CRASH_CHILD_DB"

func TestCrashDurability(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := tempPath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 40
	var acked []playkey.ARN
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		s, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		arn, err := playkey.ParseARN("ack", s)
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, arn)
		if len(acked) == killAfter {
			cmd.Process.Kill() // SIGKILL: no deferred calls, no Close
		}
	}
	cmd.Wait()
	if len(acked) < killAfter {
		t.Fatalf("the child acknowledged only %d creates before it ended", len(acked))
	}

	s := open(t, path)
	for _, arn := range acked {
		if _, err := s.KeyPair(context.Background(), arn); err != nil {
			t.Errorf("acknowledged %s lost: %v", arn, err)
		}
	}
	t.Logf("%d acknowledged creates survived SIGKILL", len(acked))
}

func crashChild(path string) {
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Minute) // in case the parent is gone
	for w := range 4 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				i := n.Add(1)
				kp := storetest.NewKeyPair(playkey.Scope{Account: fmt.Sprintf("%012d", i), Region: "us-west-2"})
				if err := s.CreateKeyPair(context.Background(), kp); err != nil {
					fmt.Fprintf(os.Stderr, "worker %d: %v\n", w, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s\n", kp.ARN)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) playkey.Store { return open(b, tempPath(b)) })
}
