// Package pgtest gives tests a PostgreSQL schema of their own, so that test binaries running
// at the same time against one server never see each other's tables.
//
// The server is the one $PLAYKEY_TEST_POSTGRES names, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When it cannot be reached the test
// is skipped, unless $CI is set: under CI an unreachable server fails the test.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/testenv"
)

// DefaultURL is the server tests use when $PLAYKEY_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL returns the URL of the test server, without a schema.
func BaseURL() string {
	if u := os.Getenv("PLAYKEY_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	reachOnce sync.Once
	reachErr  error
)

// Require skips or fails t (see the package documentation) unless the server answers.
func Require(t testing.TB) {
	t.Helper()
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, BaseURL())
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		reachErr = err
	})
	if reachErr == nil {
		return
	}
	testenv.Missing(t, "PostgreSQL at "+BaseURL(), "apt-get install postgresql, or set PLAYKEY_TEST_POSTGRES to a server's URL", reachErr)
}

// Schema creates an empty schema with a random name, drops it with everything in it when t
// ends, and returns its name and a URL whose search_path selects it. Close what connects to
// it in a Cleanup registered after this call, so that it runs before the drop.
func Schema(t testing.TB) (name, schemaURL string) {
	t.Helper()
	Require(t)
	name = "playkey_test_" + strings.ToLower(playkey.RandomString(12))
	if err := exec(`CREATE SCHEMA ` + pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := exec(`DROP SCHEMA ` + pgx.Identifier{name}.Sanitize() + ` CASCADE`); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return name, WithParams(BaseURL(), "search_path", name)
}

// WithParams returns rawURL with the given query parameters (name, value, name, value...)
// set, replacing any it had.
func WithParams(rawURL string, nameValues ...string) string {
	base, query, _ := strings.Cut(rawURL, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		panic("pgtest: bad URL query: " + err.Error())
	}
	for i := 0; i+1 < len(nameValues); i += 2 {
		q.Set(nameValues[i], nameValues[i+1])
	}
	return base + "?" + q.Encode()
}

// Exec runs one statement on the test server, outside any schema, and fails t if it fails.
func Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if err := exec(sql, args...); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

func exec(sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, BaseURL())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
