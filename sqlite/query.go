package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/playkey/playkey"
)

// dbtx is what a *sql.DB and a *sql.Tx share: statements run either on their own or
// inside a transaction.
type dbtx interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryAll runs a query and scans every row with scan. The result is never nil.
func queryAll[T any](ctx context.Context, q dbtx, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, internal(ctx, op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, internal(ctx, op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(ctx, op, err)
	}
	return out, nil
}

// queryOne runs a query for the resource arn names and scans its row: ResourceNotFound
// when there is none.
func queryOne[T any](ctx context.Context, q dbtx, op string, arn playkey.ARN, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, playkey.NotFound(arn)
	}
	if err != nil {
		var zero T
		return zero, internal(ctx, op, err)
	}
	return v, nil
}

// sqlLimit is the LIMIT for a page: SQLite reads -1 as no limit.
func sqlLimit(page playkey.Page) int {
	if page.Limit <= 0 {
		return -1
	}
	return page.Limit
}

// exists returns ResourceNotFound unless the resource arn names exists in scope (a
// reference to a resource of another scope or type never resolves).
func exists(ctx context.Context, q querier, op string, scope playkey.Scope, arn playkey.ARN, typ string) error {
	table, ok := resourceTables[arn.Type]
	if !ok || arn.Type != typ || arn.Scope() != scope {
		return playkey.NotFound(arn)
	}
	var one int
	err := q.QueryRowContext(ctx,
		`SELECT 1 FROM `+table+` WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return playkey.NotFound(arn)
	}
	if err != nil {
		return internal(ctx, op, err)
	}
	return nil
}

// deleteResource deletes the resource arn names, of type typ, or returns ResourceNotFound.
func deleteResource(ctx context.Context, q dbtx, op string, arn playkey.ARN, typ string) error {
	table, ok := resourceTables[arn.Type]
	if !ok || arn.Type != typ {
		return playkey.NotFound(arn)
	}
	res, err := q.ExecContext(ctx,
		`DELETE FROM `+table+` WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID)
	if err != nil {
		return internal(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return internal(ctx, op, err)
	}
	if n == 0 {
		return playkey.NotFound(arn)
	}
	return nil
}

// inTx runs f in a write transaction and commits it if f returns nil.
func (s *Store) inTx(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(ctx, op+": begin", err)
	}
	defer rollback(tx)
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal(ctx, op+": commit", err)
	}
	return nil
}

// nullID is the column value of an optional reference: NULL for the zero ARN.
func nullID(a playkey.ARN) any {
	if a.IsZero() {
		return nil
	}
	return a.ID
}

func encodeList(list []string) (string, error) { return encodeJSON("list", list, len(list), "[]") }

// encodeJSON encodes a column value of n items as JSON, empty (n == 0, nil included) as empty.
func encodeJSON(what string, v any, n int, empty string) (string, error) {
	if n == 0 {
		return empty, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode %s: %w", what, err)
	}
	return string(b), nil
}

func decodeList(s string) ([]string, error) {
	list := []string{}
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	return list, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
