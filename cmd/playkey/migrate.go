package main

// How migrate reads the embedded store, and what should replace it.
//
// The copy is a postgres.Snapshot: every resource with its ARN, creation time and tags,
// the revocations with their sequence numbers and the counter, single-use records and
// secrets. postgres.(*Store).Import writes one into PostgreSQL in one transaction, and
// postgres.(*Store).Export reads one back for the check.
//
// playkey.Store cannot enumerate a store (there is no "list every scope" method), so
// exportEmbedded below reads the resources through the interface, scope by scope, and
// asks the SQLite file itself, with plain SQL, only what the interface cannot tell: which
// scopes hold resources, the names of the secrets, the single-use records and the
// revocation counter. It therefore needs the source quiet: stop every playkey serving the
// data directory first.
//
// Proposal, for the embedded store to export itself, consistently and without plain SQL
// outside its package:
//
//	// package playkey, snapshot.go: postgres.Snapshot and postgres.SingleUseRecord moved
//	// as they are (with Diff and Count), so that both stores share them.
//	type Snapshot struct { KeyPairs []*KeyPair; Policies []*PlaybackRestrictionPolicy; ... }
//
//	// package sqlite, export.go:
//	// Export returns everything the store holds, read in one read transaction.
//	func (s *Store) Export(ctx context.Context) (*playkey.Snapshot, error)
//
// postgres.(*Store).Export and Import then take *playkey.Snapshot, exportEmbedded becomes
// src.Export(ctx), and nothing else here changes; a new resource type is then one field
// of Snapshot and a few lines in each store, and none here.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for the file's own tables

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/postgres"
	"github.com/playkey/playkey/sqlite"
)

var migrateCommand = &command{
	name:    "migrate",
	summary: "copy a data directory's embedded store into PostgreSQL",
	run:     runMigrate,
}

// runMigrate copies everything in DIR/playkey.db into the PostgreSQL store at URL and reads
// it back to check that nothing was lost. The target must be empty; running migrate again
// after it succeeded changes nothing and says so; a target holding anything else is
// refused and left as it was (see postgres.(*Store).Import).
func runMigrate(ctx context.Context, io *stdio, args []string) error {
	fs := newFlagSet(io, "migrate", "")
	from := fs.String("from", "", "data `DIR` whose embedded database (DIR/playkey.db) is copied; stop every playkey using it first")
	to := fs.String("to", "", "PostgreSQL store `URL`, postgres://... as for serve --store; its schema must be empty")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *from == "" || *to == "" {
		fs.Usage()
		return usageErrorf("migrate needs --from DIR and --to URL, and no arguments")
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return usageErrorf("--to must be a postgres:// or postgresql:// URL")
	}
	path := filepath.Join(*from, "playkey.db")
	// sqlite.Open would create a missing database: an empty copy must not look like success.
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--from %s: no embedded database there (%s)", *from, path)
		}
		return fmt.Errorf("--from: %w", err)
	}

	// Opening brings the source's schema up to date, as serve would.
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer src.Close()
	snap, err := exportEmbedded(ctx, src, path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}

	dst, err := postgres.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	copied, err := dst.Import(ctx, snap)
	if err != nil {
		return err
	}
	got, err := dst.Export(ctx)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if d := snap.Diff(got, 10); len(d) > 0 {
		return fmt.Errorf("read back: the copy differs from %s (first: the source, second: PostgreSQL):\n%s", path, strings.Join(d, "\n"))
	}

	if copied {
		fmt.Fprintf(io.out, "Copied %s into PostgreSQL schema %q:\n", path, dst.Schema())
	} else {
		fmt.Fprintf(io.out, "PostgreSQL schema %q already holds exactly what %s holds; nothing copied:\n", dst.Schema(), path)
	}
	for _, c := range snap.Count() {
		fmt.Fprintf(io.out, "  %6d %s\n", c.N, c.Kind)
	}
	fmt.Fprintln(io.out, "Read back and compared: everything is there, unchanged.")
	return nil
}

// embeddedResources are the resource types read scope by scope: the table whose rows say
// which scopes hold some, and how to read all of one scope through the Store interface.
// A new resource type is a row here (until sqlite.(*Store).Export replaces this; see the
// top of the file).
var embeddedResources = []struct {
	table string
	read  func(ctx context.Context, s playkey.Store, scope playkey.Scope, snap *postgres.Snapshot) error
}{
	{"playback_key_pairs", func(ctx context.Context, s playkey.Store, scope playkey.Scope, snap *postgres.Snapshot) error {
		kps, err := s.KeyPairs(ctx, scope, playkey.Page{})
		snap.KeyPairs = append(snap.KeyPairs, kps...)
		return err
	}},
	{"playback_restriction_policies", func(ctx context.Context, s playkey.Store, scope playkey.Scope, snap *postgres.Snapshot) error {
		ps, err := s.PlaybackRestrictionPolicies(ctx, scope, playkey.Page{})
		snap.Policies = append(snap.Policies, ps...)
		return err
	}},
	{"channels", func(ctx context.Context, s playkey.Store, scope playkey.Scope, snap *postgres.Snapshot) error {
		chs, err := s.Channels(ctx, scope, playkey.ChannelFilter{}, playkey.Page{})
		if err != nil {
			return err
		}
		snap.Channels = append(snap.Channels, chs...)
		for _, ch := range chs { // stream keys belong to their channel
			keys, err := s.StreamKeys(ctx, ch.ARN, playkey.Page{})
			if err != nil {
				return err
			}
			snap.StreamKeys = append(snap.StreamKeys, keys...)
		}
		return nil
	}},
}

// exportEmbedded reads everything src holds; path is its file, for what the Store
// interface cannot enumerate.
func exportEmbedded(ctx context.Context, src *sqlite.Store, path string) (*postgres.Snapshot, error) {
	raw, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer raw.Close()

	snap := &postgres.Snapshot{Secrets: map[string][]byte{}}
	for _, r := range embeddedResources {
		scopes, err := queryRows(ctx, raw, func(rows *sql.Rows) (playkey.Scope, error) {
			var s playkey.Scope
			return s, rows.Scan(&s.Account, &s.Region)
		}, `SELECT DISTINCT account, region FROM `+r.table+` ORDER BY account, region`)
		if err != nil {
			return nil, err
		}
		for _, scope := range scopes {
			if err := r.read(ctx, src, scope, snap); err != nil {
				return nil, fmt.Errorf("%s of %s/%s: %w", r.table, scope.Account, scope.Region, err)
			}
		}
	}

	if snap.Revocations, err = src.RevocationsSince(ctx, 0, 0); err != nil {
		return nil, err
	}
	if err := raw.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'viewer_revocations'`).Scan(&snap.LastRevocationSeq); err != nil {
		return nil, fmt.Errorf("revocation counter: %w", err)
	}
	if snap.SingleUses, err = queryRows(ctx, raw, func(rows *sql.Rows) (postgres.SingleUseRecord, error) {
		var (
			u       postgres.SingleUseRecord
			expires int64
		)
		err := rows.Scan(&u.Scope.Account, &u.Scope.Region, &u.UUID, &expires)
		u.Expires = time.UnixMilli(expires).UTC()
		return u, err
	}, `SELECT account, region, uuid, expires_at FROM single_use_tokens ORDER BY account, region, uuid`); err != nil {
		return nil, err
	}
	names, err := queryRows(ctx, raw, func(rows *sql.Rows) (string, error) {
		var name string
		return name, rows.Scan(&name)
	}, `SELECT name FROM secrets ORDER BY name`)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if snap.Secrets[name], err = src.Secret(ctx, name); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

func queryRows[T any](ctx context.Context, db *sql.DB, scan func(*sql.Rows) (T, error), query string) ([]T, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
