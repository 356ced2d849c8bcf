package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/playkey/playkey"
)

// querier is what a pool and a transaction share: statements run either on their own or
// inside a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryAll runs a query and scans every row with scan. The result is never nil.
func queryAll[T any](ctx context.Context, q querier, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}

// queryOne runs a query for the resource arn names and scans its row: ResourceNotFound
// when there is none.
func queryOne[T any](ctx context.Context, q querier, arn playkey.ARN, scan func(pgx.Row) (T, error), sql string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, playkey.NotFound(arn)
	}
	return v, err
}

// sqlLimit is the LIMIT for a page: NULL, no limit, when the page sets none.
func sqlLimit(page playkey.Page) any {
	if page.Limit <= 0 {
		return nil
	}
	return page.Limit
}

// exists returns ResourceNotFound unless the resource arn names exists in scope (a
// reference to a resource of another scope or type never resolves). lock is "" or a row
// lock clause, such as FOR KEY SHARE to keep the resource from being deleted until the
// transaction ends.
func exists(ctx context.Context, q querier, scope playkey.Scope, arn playkey.ARN, typ, lock string) error {
	if arn.Type != typ || arn.Scope() != scope {
		return playkey.NotFound(arn)
	}
	return lockRow(ctx, q, arn, lock)
}

// lockRow reads the row of the resource arn names with the given lock clause ("" for
// none), or returns ResourceNotFound.
func lockRow(ctx context.Context, q querier, arn playkey.ARN, lock string) error {
	table, ok := resourceTables[arn.Type]
	if !ok {
		return playkey.NotFound(arn)
	}
	var one int
	err := q.QueryRow(ctx,
		`SELECT 1 FROM `+table+` WHERE account = $1 AND region = $2 AND id = $3 `+lock,
		arn.Account, arn.Region, arn.ID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return playkey.NotFound(arn)
	}
	return err
}

// deleteResource deletes the resource arn names, of type typ, or returns ResourceNotFound.
func deleteResource(ctx context.Context, q querier, arn playkey.ARN, typ string) error {
	table, ok := resourceTables[arn.Type]
	if !ok || arn.Type != typ {
		return playkey.NotFound(arn)
	}
	tag, err := q.Exec(ctx,
		`DELETE FROM `+table+` WHERE account = $1 AND region = $2 AND id = $3`,
		arn.Account, arn.Region, arn.ID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return playkey.NotFound(arn)
	}
	return nil
}

// nullID is the column value of an optional reference: NULL for the zero ARN.
func nullID(a playkey.ARN) *string {
	if a.IsZero() {
		return nil
	}
	return &a.ID
}

// list is a text[] parameter: never NULL.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// tagsParam is tags as the jsonb parameter: never NULL.
func tagsParam(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return tags
}

// Constraint names from the migrations, which violations are told apart by.
const (
	fkChannelPolicy    = "channels_policy_fkey"
	fkStreamKeyChannel = "stream_keys_channel_fkey"
	ukFingerprint      = "playback_key_pairs_fingerprint_key"
	ukStreamKeyValue   = "stream_keys_value_key"
)

// foreignKeyViolation returns the name of the foreign key err reports a violation of, or "".
func foreignKeyViolation(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return pgErr.ConstraintName
	}
	return ""
}
