package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playkey/playkey/internal/migration"
)

// migrationFiles are the schema's history, NNNN_name.sql, applied in order and never edited
// once released: a change to the schema is a new file. They mirror the embedded store's
// schema in meaning, not in SQL.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in order.
func migrations() ([]migration.Migration, error) {
	return migration.Load(migrationFiles, "migrations")
}

// migrate brings the tables in schema up to date. A database that is up to date is only
// read. Otherwise every missing migration is applied in one transaction that holds an
// advisory lock for the schema, so that nodes starting together apply each migration once:
// the ones that wait find the work done when they get the lock. PostgreSQL's DDL is
// transactional, so a failed migration leaves the schema as it was.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	current, err := schemaVersion(ctx, pool, schema)
	if err != nil {
		return err
	}
	if err := checkVersion(current, len(ms)); err != nil || current == len(ms) {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockKey(schema, "migrate")); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		// Another node may have migrated while we waited for the lock.
		current, err := schemaVersion(ctx, tx, schema)
		if err != nil {
			return err
		}
		if err := checkVersion(current, len(ms)); err != nil {
			return err
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

func checkVersion(current, known int) error {
	if current > known {
		return fmt.Errorf("the database has schema version %d, newer than this playkey knows (%d); run a newer playkey", current, known)
	}
	return nil
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion returns the highest migration applied to schema, 0 for none. It looks in
// schema itself, not along the search path, which could find another deployment's tables.
func schemaVersion(ctx context.Context, q queryRower, schema string) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx,
		`SELECT to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL`, schema).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := q.QueryRow(ctx,
		`SELECT coalesce(max(version), 0) FROM `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
