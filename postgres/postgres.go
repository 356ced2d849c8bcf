// Package postgres is playkey's scale-out store: a playkey.Store in a PostgreSQL database,
// through pgx, that several playkey nodes share.
//
// # Connection URL
//
// Open takes a postgres:// or postgresql:// URL in libpq's form; every parameter pgx knows
// works (sslmode, connect_timeout, application_name, pool_max_conns...). Parameters pgx does
// not know are sent to the server as settings for each connection, so the schema playkey
// uses is chosen with search_path:
//
//	postgres://playkey@db.example.com/playkey?sslmode=verify-full&search_path=playkey
//	postgres://playkey@db.example.com/playkey?options=-csearch_path%3Dplaykey
//
// The tables live in the first schema of the search path, which must exist (playkey does not
// create schemas); without search_path that is the server's default, usually public. Two
// deployments can share a database in two schemas.
//
// One parameter is playkey's own and is not sent to the server: playkey_timeout, a Go
// duration (default 5s) that bounds every call, connection included. A call that runs out of
// it, or finds the database unreachable, fails with a *playkey.Error of code
// playkey.ErrServiceUnavailable; the pool reconnects by itself once the database is back.
//
// # Consistency
//
// Writes that check before they write (the key-pair quota and the duplicate-key check, tag
// limits) run in one transaction, and the ones that must hold across nodes take a
// transaction-scoped advisory lock on what they check, so that nodes queue rather than
// overshoot. Unique constraints remain the last word. A commit is acknowledged once
// PostgreSQL has made it durable (synchronous_commit as the server has it). When the
// connection is lost during a commit, the outcome is unknown and the call reports
// ServiceUnavailable; a client that retries an import then gets ConflictException if the
// first attempt did commit.
//
// # Change announcements
//
// Triggers announce, with NOTIFY on a channel named for the schema, every committed change to
// key pairs, channels, playback restriction policies and viewer revocations, from whichever
// node or code path makes it. Watch delivers them, so that nodes that cache state (the
// playback gates) drop what changed within milliseconds instead of waiting for it to expire.
//
// # Migrations
//
// The schema is versioned by embedded migrations that Open applies in one transaction under
// an advisory lock, so nodes starting together on a new database migrate it once. Open
// refuses a database whose schema is newer than this playkey knows.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playkey/playkey"
)

// DefaultTimeout bounds every call when the URL sets no playkey_timeout: long enough for a
// busy database, short enough that an API request fails with 503 before its client gives up.
const DefaultTimeout = 5 * time.Second

// migrateTimeout bounds Open's migrations, which may wait for another node's.
const migrateTimeout = time.Minute

// Store is a playkey.Store backed by PostgreSQL.
type Store struct {
	pool    *pgxpool.Pool
	schema  string        // where the tables are; part of every advisory lock key
	timeout time.Duration // bound on every call
}

var _ playkey.Store = (*Store)(nil)

// Open connects to the database rawURL names (see the package documentation for its
// parameters), brings its schema up to date and returns the store. It fails if the database
// cannot be reached within the timeout, if the search path names no existing schema, or if
// the schema is newer than this playkey knows. Errors never contain the URL's password.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return nil, errors.New("postgres: the store URL must start with postgres:// or postgresql://")
	}
	connURL, timeout, err := takeTimeout(rawURL)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(connURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // pgx redacts the password
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 || cfg.ConnConfig.ConnectTimeout > timeout {
		cfg.ConnConfig.ConnectTimeout = timeout
	}
	if cfg.PingTimeout <= 0 || cfg.PingTimeout > timeout {
		cfg.PingTimeout = timeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "playkey"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg) // connects lazily
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, timeout: timeout}
	if err := s.open(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var schema *string
	if err := s.pool.QueryRow(qctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	if schema == nil {
		var path string
		if err := s.pool.QueryRow(qctx, `SHOW search_path`).Scan(&path); err != nil {
			return fmt.Errorf("postgres: read search_path: %w", err)
		}
		return fmt.Errorf("postgres: no schema to use: search_path is %q and none of its schemas exists; create it first", path)
	}
	s.schema = *schema
	mctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	if err := migrate(mctx, s.pool, s.schema); err != nil {
		return fmt.Errorf("postgres: schema %q: %w", s.schema, err)
	}
	return nil
}

// takeTimeout removes playkey_timeout from the URL's query, which pgx would otherwise send
// to the server, and returns its value or DefaultTimeout. It edits only the query text so
// that forms net/url rejects (several hosts) pass through untouched.
func takeTimeout(rawURL string) (string, time.Duration, error) {
	base, query, ok := strings.Cut(rawURL, "?")
	if !ok {
		return rawURL, DefaultTimeout, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", 0, fmt.Errorf("postgres: the store URL's query is malformed: %w", err)
	}
	if !q.Has("playkey_timeout") {
		return rawURL, DefaultTimeout, nil
	}
	v := q.Get("playkey_timeout")
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return "", 0, fmt.Errorf("postgres: playkey_timeout=%q: want a positive duration such as 5s", v)
	}
	q.Del("playkey_timeout")
	if len(q) == 0 {
		return base, d, nil
	}
	return base + "?" + q.Encode(), d, nil
}

// Schema returns the schema that holds the store's tables.
func (s *Store) Schema() string { return s.schema }

// Ping reports whether the database answers, within the store's timeout.
func (s *Store) Ping(ctx context.Context) error {
	return s.do(ctx, "ping", func(ctx context.Context) error {
		return s.pool.Ping(ctx)
	})
}

// Close closes every connection. Calls in progress may fail; calls after it fail.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// do runs f under the store's timeout and turns its error into the store's: a
// *playkey.Error as is; ServiceUnavailable when the database could not be reached in time;
// the context's error when ctx ended; otherwise an internal error that says what failed.
func (s *Store) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	return s.doWithin(ctx, op, s.timeout, f)
}

// doWithin is do with another timeout, for calls that read or write everything.
func (s *Store) doWithin(ctx context.Context, op string, timeout time.Duration, f func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := f(qctx)
	if err == nil {
		return nil
	}
	var ai asIs
	if errors.As(err, &ai) {
		return ai.err
	}
	var pe *playkey.Error
	if errors.As(err, &pe) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		// The caller's context ended: report that, whatever the driver made of it.
		if errors.Is(err, cerr) {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
		return fmt.Errorf("postgres: %s: %w: %w", op, cerr, err)
	}
	if unreachable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, errUnavailable(), err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// inTx runs f in a transaction under do: committed if f returns nil, else rolled back.
func (s *Store) inTx(ctx context.Context, op string, f func(ctx context.Context, tx pgx.Tx) error) error {
	return s.do(ctx, op, func(ctx context.Context) error {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		// After a failed commit, or with ctx ended, this fails too and pgx closes the
		// connection, which the pool then replaces.
		defer tx.Rollback(ctx)
		if err := f(ctx, tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// asIs carries an error that do returns unchanged: a caller's own error, from the change
// function of an update.
type asIs struct{ err error }

func (e asIs) Error() string { return e.err.Error() }
func (e asIs) Unwrap() error { return e.err }

// errUnavailable is the error clients see when the database is out of reach.
func errUnavailable() *playkey.Error {
	return playkey.Errorf(playkey.ErrServiceUnavailable, "the database is unavailable; try again")
}

// unreachable reports whether err means the database could not be reached or went away, as
// opposed to a query it refused. The caller has already ruled out its own context ending,
// so a deadline here is the store's timeout.
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", // admin_shutdown: the server is stopping or terminated this backend
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or shutting down
			"53300": // too_many_connections
			return true
		}
		// Class 08 is connection exceptions; anything else the server said is about the
		// query, or about our credentials, which waiting will not fix.
		return strings.HasPrefix(pgErr.Code, "08")
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// uniqueViolation returns the name of the unique constraint err reports a violation of, or "".
func uniqueViolation(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName
	}
	return ""
}

// lockKey returns the advisory-lock key that serialises the checks of one kind (for example
// the key-pair quota) in one scope of this store's schema. Every node computes the same key;
// a collision between two scopes only makes them wait for each other.
func (s *Store) lockKey(kind string, scope playkey.Scope) int64 {
	return lockKey(s.schema, kind, scope.Account, scope.Region)
}

func lockKey(parts ...string) int64 {
	h := fnv.New64a()
	io.WriteString(h, "playkey")
	for _, p := range parts {
		h.Write([]byte{0})
		io.WriteString(h, p)
	}
	return int64(h.Sum64())
}

// lock takes a transaction-scoped advisory lock. It must be a statement of its own, before
// the statements it protects: under READ COMMITTED each of those then sees every
// transaction that held the lock before.
func lock(ctx context.Context, tx pgx.Tx, key int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return err
}
