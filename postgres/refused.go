package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// RecordRefusedStream inserts an ended session marked refused, and prunes the channel's
// refused sessions beyond playkey.MaxRefusedSessions, in one transaction that reads the
// channel FOR SHARE, as StartStream does (which also queues concurrent prunes of one
// channel behind each other's inserts only as far as the unique key needs).
func (s *Store) RecordRefusedStream(ctx context.Context, a playkey.ARN, in *playkey.StreamSession) error {
	if err := playkey.ValidateStreamID("streamId", in.ID); err != nil {
		return err
	}
	if a.Type != playkey.TypeChannel {
		return playkey.Errorf(playkey.ErrValidation, "%s is not a channel ARN", a)
	}
	return s.inTx(ctx, "record refused stream", func(ctx context.Context, tx pgx.Tx) error {
		ch, err := queryOne(ctx, tx, a, scanChannel,
			`SELECT `+channelColumns+` FROM channels WHERE account = $1 AND region = $2 AND id = $3 FOR SHARE`,
			a.Account, a.Region, a.ID)
		if err != nil {
			return err
		}
		var ss playkey.StreamSession
		ss.AddStreamEvents(in.Events...)
		end := millis(in.EndTime)
		_, err = tx.Exec(ctx,
			`INSERT INTO stream_sessions (account, region, channel_id, id, start_time, end_time, channel, events, has_error_event,
				health, origin, seen_at, refused)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', $6, true)`,
			a.Account, a.Region, a.ID, in.ID, millis(in.StartTime), end, ch, ss.Events, ss.HasErrorEvent, playkey.HealthUnknown)
		if uniqueViolation(err) != "" {
			return playkey.Errorf(playkey.ErrConflict, "stream %s of channel %s already exists", in.ID, a)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`DELETE FROM stream_sessions WHERE account = $1 AND region = $2 AND channel_id = $3 AND refused AND id NOT IN (
				SELECT id FROM stream_sessions WHERE account = $1 AND region = $2 AND channel_id = $3 AND refused
				ORDER BY start_time DESC, id DESC LIMIT $4)`,
			a.Account, a.Region, a.ID, playkey.MaxRefusedSessions)
		return err
	})
}

// QueueMetadata locks the live stream's row (FOR UPDATE), counts the channel's payloads of
// the last second and inserts the payload, in one transaction: calls from every node queue
// on the row, so the count holds across nodes and seq order is commit order per channel.
func (s *Store) QueueMetadata(ctx context.Context, a playkey.ARN, payload string, at time.Time) error {
	return s.inTx(ctx, "queue metadata", func(ctx context.Context, tx pgx.Tx) error {
		var id string
		err := tx.QueryRow(ctx,
			`SELECT id FROM stream_sessions
			 WHERE account = $1 AND region = $2 AND channel_id = $3 AND end_time IS NULL AND seen_at >= $4
			 FOR UPDATE`,
			a.Account, a.Region, a.ID, horizon()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := exists(ctx, tx, a.Scope(), a, playkey.TypeChannel, ""); err != nil {
				return err
			}
			return playkey.NotBroadcasting(a)
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx,
			`SELECT count(*) FROM metadata_outbox WHERE account = $1 AND region = $2 AND channel_id = $3 AND at > $4`,
			a.Account, a.Region, a.ID, millis(at.Add(-time.Second))).Scan(&n); err != nil {
			return err
		}
		if n >= playkey.MetadataPerSecond {
			return playkey.MetadataThrottled()
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO metadata_outbox (account, region, channel_id, stream_id, at, payload) VALUES ($1, $2, $3, $4, $5, $6)`,
			a.Account, a.Region, a.ID, id, millis(at), payload); err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`DELETE FROM metadata_outbox WHERE account = $1 AND region = $2 AND channel_id = $3 AND (at < $4 OR seq NOT IN (
				SELECT seq FROM metadata_outbox WHERE account = $1 AND region = $2 AND channel_id = $3 ORDER BY seq DESC LIMIT $5))`,
			a.Account, a.Region, a.ID, millis(at.Add(-playkey.MetadataKeep)), playkey.MetadataMaxQueued)
		return err
	})
}

// PendingMetadata reads the stream's payloads after seq after.
func (s *Store) PendingMetadata(ctx context.Context, a playkey.ARN, id string, after int64) ([]playkey.QueuedMetadata, error) {
	var out []playkey.QueuedMetadata
	err := s.do(ctx, "pending metadata", func(ctx context.Context) error {
		var err error
		out, err = queryAll(ctx, s.pool, func(row pgx.Row) (playkey.QueuedMetadata, error) {
			var m playkey.QueuedMetadata
			err := row.Scan(&m.Seq, &m.At, &m.Payload)
			m.At = m.At.UTC()
			return m, err
		}, `SELECT seq, at, payload FROM metadata_outbox
			WHERE account = $1 AND region = $2 AND channel_id = $3 AND stream_id = $4 AND seq > $5 ORDER BY seq`,
			a.Account, a.Region, a.ID, id, after)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
