package postgres

import (
	"context"
	"time"

	"github.com/playkey/playkey"
)

// purgeBatch bounds the expired single-use records one consuming call deletes, so that the
// table stays small without a background job and no call does unbounded work.
const purgeBatch = 64

// SingleUse reports whether uuid is unused in scope and, with consume, records its use.
// The claim is one INSERT ... ON CONFLICT DO NOTHING on the primary key: of concurrent
// claims from any node, the one whose row lands reports true, once committed. The same
// statement deletes a few records whose token has expired, skipping rows another node is
// deleting, and never the uuid being claimed.
func (s *Store) SingleUse(ctx context.Context, scope playkey.Scope, uuid string, expires time.Time, consume bool) (bool, error) {
	var unused bool
	if !consume {
		err := s.do(ctx, "read single use", func(ctx context.Context) error {
			return s.pool.QueryRow(ctx,
				`SELECT NOT EXISTS (SELECT 1 FROM single_use_tokens WHERE account = $1 AND region = $2 AND uuid = $3)`,
				scope.Account, scope.Region, uuid).Scan(&unused)
		})
		return err == nil && unused, err
	}
	err := s.do(ctx, "record single use", func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx,
			`WITH purge AS (
				DELETE FROM single_use_tokens WHERE (account, region, uuid) IN (
					SELECT account, region, uuid FROM single_use_tokens
					WHERE expires_at < $5 AND NOT (account = $1 AND region = $2 AND uuid = $3)
					LIMIT $6 FOR UPDATE SKIP LOCKED)
			)
			INSERT INTO single_use_tokens (account, region, uuid, expires_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`,
			scope.Account, scope.Region, uuid, millis(expires), millis(time.Now()), purgeBatch)
		unused = tag.RowsAffected() == 1
		return err
	})
	return err == nil && unused, err
}
