package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

var _ playkey.LiveOrigins = (*Store)(nil)

const fkLiveOriginChannel = "live_origins_channel_fkey"

// PutLiveOrigin records o, replacing any record of its channel; ResourceNotFound when the
// channel does not exist.
func (s *Store) PutLiveOrigin(ctx context.Context, o *playkey.LiveOrigin) error {
	c := o.Channel
	return s.do(ctx, "put live origin", func(ctx context.Context) error {
		if c.Type != playkey.TypeChannel {
			return playkey.NotFound(c)
		}
		_, err := s.pool.Exec(ctx,
			`INSERT INTO live_origins (account, region, channel_id, stream_id, url, started_at) VALUES ($1, $2, $3, $4, $5, $6)
			 ON CONFLICT (account, region, channel_id) DO UPDATE SET stream_id = excluded.stream_id, url = excluded.url, started_at = excluded.started_at`,
			c.Account, c.Region, c.ID, o.StreamID, o.URL, millis(o.StartTime))
		if foreignKeyViolation(err) == fkLiveOriginChannel {
			return playkey.NotFound(c)
		}
		return err
	})
}

// LiveOrigin returns the record of channel, or ResourceNotFound when it is not live.
func (s *Store) LiveOrigin(ctx context.Context, channel playkey.ARN) (*playkey.LiveOrigin, error) {
	var o *playkey.LiveOrigin
	err := s.do(ctx, "get live origin", func(ctx context.Context) error {
		if channel.Type != playkey.TypeChannel {
			return playkey.NotFound(channel)
		}
		var err error
		o, err = queryOne(ctx, s.pool, channel, func(row pgx.Row) (*playkey.LiveOrigin, error) {
			o := &playkey.LiveOrigin{Channel: channel}
			if err := row.Scan(&o.StreamID, &o.URL, &o.StartTime); err != nil {
				return nil, err
			}
			o.StartTime = o.StartTime.UTC()
			return o, nil
		}, `SELECT stream_id, url, started_at FROM live_origins WHERE account = $1 AND region = $2 AND channel_id = $3`,
			channel.Account, channel.Region, channel.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// DeleteLiveOrigin removes the record of channel if it is of streamID.
func (s *Store) DeleteLiveOrigin(ctx context.Context, channel playkey.ARN, streamID string) error {
	return s.do(ctx, "delete live origin", func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx,
			`DELETE FROM live_origins WHERE account = $1 AND region = $2 AND channel_id = $3 AND stream_id = $4`,
			channel.Account, channel.Region, channel.ID, streamID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return playkey.NotFound(channel)
		}
		return nil
	})
}
