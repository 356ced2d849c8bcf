package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/playkey/playkey"
)

var _ playkey.LiveOrigins = (*Store)(nil)

// PutLiveOrigin records o, replacing any record of its channel; ResourceNotFound when the
// channel does not exist.
func (s *Store) PutLiveOrigin(ctx context.Context, o *playkey.LiveOrigin) error {
	c := o.Channel
	if c.Type != playkey.TypeChannel {
		return playkey.NotFound(c)
	}
	return s.inTx(ctx, "put live origin", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO live_origins (account, region, channel_id, stream_id, url, started_at) VALUES (?, ?, ?, ?, ?, ?)
			 ON CONFLICT (account, region, channel_id) DO UPDATE SET stream_id = excluded.stream_id, url = excluded.url, started_at = excluded.started_at`,
			c.Account, c.Region, c.ID, o.StreamID, o.URL, o.StartTime.UnixMilli())
		if constraintViolation(err) == violatesForeignKey {
			return playkey.NotFound(c)
		}
		if err != nil {
			return internal(ctx, "put live origin", err)
		}
		return nil
	})
}

// LiveOrigin returns the record of channel, or ResourceNotFound when it is not live.
func (s *Store) LiveOrigin(ctx context.Context, channel playkey.ARN) (*playkey.LiveOrigin, error) {
	if channel.Type != playkey.TypeChannel {
		return nil, playkey.NotFound(channel)
	}
	return queryOne(ctx, s.read, "get live origin", channel, func(row scanner) (*playkey.LiveOrigin, error) {
		o := &playkey.LiveOrigin{Channel: channel}
		var started int64
		if err := row.Scan(&o.StreamID, &o.URL, &started); err != nil {
			return nil, err
		}
		o.StartTime = time.UnixMilli(started).UTC()
		return o, nil
	}, `SELECT stream_id, url, started_at FROM live_origins WHERE account = ? AND region = ? AND channel_id = ?`,
		channel.Account, channel.Region, channel.ID)
}

// DeleteLiveOrigin removes the record of channel if it is of streamID.
func (s *Store) DeleteLiveOrigin(ctx context.Context, channel playkey.ARN, streamID string) error {
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM live_origins WHERE account = ? AND region = ? AND channel_id = ? AND stream_id = ?`,
		channel.Account, channel.Region, channel.ID, streamID)
	if err != nil {
		return internal(ctx, "delete live origin", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal(ctx, "delete live origin", err)
	} else if n == 0 {
		return playkey.NotFound(channel)
	}
	return nil
}
