package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/playkey/playkey"
)

// purgeBatch bounds the expired single-use records one consuming call deletes, so that the
// table stays small without a background job and no call does unbounded work.
const purgeBatch = 64

// SingleUse reports whether uuid is unused in scope and, with consume, records its use.
// The record and the check are one INSERT OR IGNORE on the primary key: of concurrent
// claims, the one whose insert lands reports true. A consuming call also deletes a few
// records whose token has expired.
func (s *Store) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error) {
	if !consume {
		var used bool
		err := s.read.QueryRowContext(ctx,
			`SELECT count(*) > 0 FROM single_use_tokens WHERE account = ? AND region = ? AND uuid = ?`,
			scope.Account, scope.Region, uuid).Scan(&used)
		if err != nil {
			return false, internal(ctx, "read single use", err)
		}
		return !used, nil
	}
	const op = "record single use"
	var n int64
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT OR IGNORE INTO single_use_tokens (account, region, uuid, expires_at) VALUES (?, ?, ?, ?)`,
			scope.Account, scope.Region, uuid, expires.UnixMilli())
		if err != nil {
			return internal(ctx, op, err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return internal(ctx, op, err)
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM single_use_tokens WHERE (account, region, uuid) IN
			 (SELECT account, region, uuid FROM single_use_tokens WHERE expires_at < ? LIMIT ?)`,
			time.Now().UnixMilli(), purgeBatch); err != nil {
			return internal(ctx, op+": purge", err)
		}
		return nil
	})
	return err == nil && n == 1, err
}
