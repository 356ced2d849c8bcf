// Package sqlite is playkey's embedded store: a playkey.Store in one SQLite database file,
// through the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so a write is on disk before the
// call that made it returns. Writes go through one connection and take the write lock when
// their transaction begins (BEGIN IMMEDIATE); reads use a pool of read-only connections and
// never wait for writers. Several processes may open the same file: SQLite's file locks
// serialise their writes, and busy_timeout makes a writer wait up to ten seconds for the lock.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/playkey/playkey"
)

// Store is a playkey.Store backed by a SQLite database file.
type Store struct {
	write *sql.DB // one connection; every write goes through it
	read  *sql.DB // read-only connections
	// corruptionsAtOpen is the process's count of damaged-database errors when the store
	// opened: more since then fail Ping.
	corruptionsAtOpen int64
}

var _ playkey.Store = (*Store)(nil)

// Open opens or creates the database at path and brings its schema up to date. The directory
// must exist. It fails if the database was written by a newer playkey whose schema this one
// does not know.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: no database path")
	}
	if strings.ContainsRune(path, '?') {
		// The driver splits its DSN at the first '?'.
		return nil, fmt.Errorf("sqlite: database path %q contains '?'", path)
	}
	// SQLite would create the file 0644, and its -wal and -shm files with the file's mode:
	// the database holds secrets, so it is created 0600 first.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	write, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer: SQLite runs one write transaction at a time anyway. This process's writers
	// queue in database/sql's pool, which honours their contexts, instead of polling in
	// SQLite's busy handler; busy_timeout is left for other processes on the same file.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	corruptionsAtOpen := corruptions.Load()
	if err := useWAL(ctx, write); err != nil {
		write.Close()
		if serr := storageError("open the database", err); serr != nil {
			err = serr
		}
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := quickCheck(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s := &Store{write: write, read: read, corruptionsAtOpen: corruptionsAtOpen}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dsn returns the driver's data source name for a writing or a read-only connection pool.
// Every connection gets the same durability settings, since any connection may be the one
// that checkpoints the WAL.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(FULL)")
	if write {
		// Take the write lock at BEGIN, so that a transaction that reads and then writes
		// (quota checks, tag merges) never fails to upgrade its lock half-way.
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return path + "?" + q.Encode()
}

// useWAL switches the database to WAL mode, which then persists in the file. On a new file,
// openers racing to switch it can get SQLITE_BUSY at once (SQLite does not wait where waiting
// could deadlock), so it retries for as long as busy_timeout would have waited.
func useWAL(ctx context.Context, db *sql.DB) error {
	const patience = 10 * time.Second
	start, delay := time.Now(), time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			if mode != "wal" {
				return fmt.Errorf("journal mode is %q, not wal", mode)
			}
			return nil
		}
		if !busy(err) || time.Since(start) > patience {
			return fmt.Errorf("set WAL mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set WAL mode: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// Ping checks that both connection pools can reach the database, and fails for good once
// a damaged-database error was met.
func (s *Store) Ping(ctx context.Context) error {
	if corruptions.Load() > s.corruptionsAtOpen {
		return errors.New("sqlite: the database file is damaged; restore it from a backup")
	}
	for _, db := range []*sql.DB{s.write, s.read} {
		var one int
		if err := db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
			return internal(ctx, "ping", err)
		}
	}
	return nil
}

// Close closes the database. Calls in progress may fail.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// internal wraps an unexpected error with what was being done. If the context ended, the
// result also wraps the context's error, whatever the driver made of the interruption.
func internal(ctx context.Context, op string, err error) error {
	if serr := storageError(op, err); serr != nil {
		return serr
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// busy reports whether err is SQLITE_BUSY (of any extended kind).
func busy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Kinds of constraint failure, from constraintViolation.
const (
	violatesPrimaryKey = "primary key"
	violatesUnique     = "unique"
	violatesForeignKey = "foreign key"
)

// constraintViolation returns which kind of uniqueness constraint err reports a failure of,
// or "" if it is some other error.
func constraintViolation(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return violatesPrimaryKey
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return violatesUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return violatesForeignKey
	}
	return ""
}

// rollback ends a transaction that was not committed. Its error is ignored: the transaction
// is gone either way, and the caller already has the error that matters.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }
