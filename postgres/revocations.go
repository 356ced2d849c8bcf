package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// RevokeViewerSessions raises the revoked version bound of viewerID on channel to upTo, in
// one transaction that checks that the channel exists (ResourceNotFound) and holds it
// against deletion. A bound that would not rise changes nothing and takes no sequence
// number.
//
// A raise takes the next value of the revocation counter as its Seq while it holds the
// counter's row lock, which it keeps until it commits. Raises from every node therefore
// commit one at a time in Seq order, and a poller of RevocationsSince never misses one
// that commits later with a smaller Seq. Revocations are rare (IVS allows 10 a second per
// account), so one lock for all of them costs little.
func (s *Store) RevokeViewerSessions(ctx context.Context, channel playkey.ARN, viewerID string, upTo int64) error {
	return s.inTx(ctx, "revoke viewer sessions", func(ctx context.Context, tx pgx.Tx) error {
		if err := exists(ctx, tx, channel.Scope(), channel, playkey.TypeChannel, "FOR KEY SHARE"); err != nil {
			return err
		}
		raises := func() (bool, error) {
			var cur int64
			err := tx.QueryRow(ctx,
				`SELECT max_version FROM viewer_revocations WHERE account = $1 AND region = $2 AND channel_id = $3 AND viewer_id = $4`,
				channel.Account, channel.Region, channel.ID, viewerID).Scan(&cur)
			if errors.Is(err, pgx.ErrNoRows) {
				return true, nil
			}
			return err == nil && cur < upTo, err
		}
		// Look before taking the lock, so that a revocation already in force waits for
		// no one; and again after, since a raise may have committed in between.
		if up, err := raises(); err != nil || !up {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT value FROM counters WHERE name = 'viewer_revocations' FOR UPDATE`); err != nil {
			return err
		}
		if up, err := raises(); err != nil || !up {
			return err
		}
		_, err := tx.Exec(ctx,
			`WITH next AS (
				UPDATE counters SET value = value + 1 WHERE name = 'viewer_revocations' RETURNING value
			)
			INSERT INTO viewer_revocations (account, region, channel_id, viewer_id, max_version, updated_at, seq)
			SELECT $1, $2, $3, $4, $5, $6, value FROM next
			ON CONFLICT (account, region, channel_id, viewer_id)
			DO UPDATE SET max_version = excluded.max_version, updated_at = excluded.updated_at, seq = excluded.seq`,
			channel.Account, channel.Region, channel.ID, viewerID, upTo, millis(time.Now()))
		return err
	})
}

// ViewerRevocation returns the revoked version bound of viewerID on channel, if any: one
// primary-key lookup.
func (s *Store) ViewerRevocation(ctx context.Context, channel playkey.ARN, viewerID string) (int64, bool, error) {
	var (
		v  int64
		ok bool
	)
	err := s.do(ctx, "read viewer revocation", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx,
			`SELECT max_version FROM viewer_revocations WHERE account = $1 AND region = $2 AND channel_id = $3 AND viewer_id = $4`,
			channel.Account, channel.Region, channel.ID, viewerID).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return v, ok, nil
}

// RevocationsSince pages through revocations of every scope by Seq, an index range scan:
// polling it when nothing changed reads one index entry.
func (s *Store) RevocationsSince(ctx context.Context, after int64, limit int) ([]*playkey.Revocation, error) {
	var rs []*playkey.Revocation
	err := s.do(ctx, "list revocations", func(ctx context.Context) error {
		var err error
		rs, err = queryAll(ctx, s.pool, scanRevocation,
			`SELECT account, region, channel_id, viewer_id, max_version, updated_at, seq FROM viewer_revocations
			 WHERE seq > $1 ORDER BY seq LIMIT $2`,
			after, sqlLimit(playkey.Page{Limit: limit}))
		return err
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func scanRevocation(row pgx.Row) (*playkey.Revocation, error) {
	var r playkey.Revocation
	r.Channel.Type = playkey.TypeChannel
	if err := row.Scan(&r.Channel.Account, &r.Channel.Region, &r.Channel.ID, &r.ViewerID, &r.MaxVersion, &r.UpdatedAt, &r.Seq); err != nil {
		return nil, err
	}
	r.UpdatedAt = r.UpdatedAt.UTC()
	return &r, nil
}
