package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/playkey/playkey"
)

// RevokeViewerSessions raises the revoked version bound of viewerID on channel to upTo, in
// one write transaction that checks that the channel exists (ResourceNotFound). A bound
// that would not rise changes nothing and takes no sequence number. A raise takes the next
// value of the revocation counter as its Seq: write transactions are serialised, so Seqs
// commit in order and a poller of RevocationsSince never misses one.
func (s *Store) RevokeViewerSessions(ctx context.Context, channel playkey.ARN, viewerID string, upTo int64) error {
	const op = "revoke viewer sessions"
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, op+": check channel", channel.Scope(), channel, playkey.TypeChannel); err != nil {
			return err
		}
		var cur int64
		err := tx.QueryRowContext(ctx,
			`SELECT max_version FROM viewer_revocations WHERE account = ? AND region = ? AND channel_id = ? AND viewer_id = ?`,
			channel.Account, channel.Region, channel.ID, viewerID).Scan(&cur)
		switch {
		case err == nil && cur >= upTo:
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return internal(ctx, op+": read", err)
		}
		var seq int64
		if err := tx.QueryRowContext(ctx,
			`UPDATE counters SET value = value + 1 WHERE name = 'viewer_revocations' RETURNING value`).Scan(&seq); err != nil {
			return internal(ctx, op+": next seq", err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO viewer_revocations (account, region, channel_id, viewer_id, max_version, updated_at, seq)
			 VALUES (?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (account, region, channel_id, viewer_id)
			 DO UPDATE SET max_version = excluded.max_version, updated_at = excluded.updated_at, seq = excluded.seq`,
			channel.Account, channel.Region, channel.ID, viewerID, upTo, time.Now().UnixMilli(), seq); err != nil {
			return internal(ctx, op+": write", err)
		}
		return nil
	})
}

// ViewerRevocation returns the revoked version bound of viewerID on channel, if any: one
// primary-key lookup on the read pool.
func (s *Store) ViewerRevocation(ctx context.Context, channel playkey.ARN, viewerID string) (int64, bool, error) {
	var v int64
	err := s.read.QueryRowContext(ctx,
		`SELECT max_version FROM viewer_revocations WHERE account = ? AND region = ? AND channel_id = ? AND viewer_id = ?`,
		channel.Account, channel.Region, channel.ID, viewerID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, internal(ctx, "read viewer revocation", err)
	}
	return v, true, nil
}

// RevocationsSince pages through revocations by Seq, an index range scan: polling it when
// nothing changed reads one index entry.
func (s *Store) RevocationsSince(ctx context.Context, after int64, limit int) ([]*playkey.Revocation, error) {
	return queryAll(ctx, s.read, "list revocations", scanRevocation,
		`SELECT account, region, channel_id, viewer_id, max_version, updated_at, seq FROM viewer_revocations
		 WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, sqlLimit(playkey.Page{Limit: limit}))
}

func scanRevocation(row scanner) (*playkey.Revocation, error) {
	var (
		r         playkey.Revocation
		updatedAt int64
	)
	r.Channel.Type = playkey.TypeChannel
	if err := row.Scan(&r.Channel.Account, &r.Channel.Region, &r.Channel.ID, &r.ViewerID, &r.MaxVersion, &updatedAt, &r.Seq); err != nil {
		return nil, err
	}
	r.UpdatedAt = time.UnixMilli(updatedAt).UTC()
	return &r, nil
}
