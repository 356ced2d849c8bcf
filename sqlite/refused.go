package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/playkey/playkey"
)

// RecordRefusedStream inserts an ended session marked refused, and prunes the channel's
// refused sessions beyond playkey.MaxRefusedSessions, in one write transaction that reads
// the channel (ResourceNotFound).
func (s *Store) RecordRefusedStream(ctx context.Context, a playkey.ARN, in *playkey.StreamSession) error {
	const op = "record refused stream"
	if err := playkey.ValidateStreamID("streamId", in.ID); err != nil {
		return err
	}
	if a.Type != playkey.TypeChannel {
		return playkey.Errorf(playkey.ErrValidation, "%s is not a channel ARN", a)
	}
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		ch, err := queryOne(ctx, tx, op+": read channel", a, scanChannel,
			`SELECT `+channelColumns+` FROM channels WHERE account = ? AND region = ? AND id = ?`,
			a.Account, a.Region, a.ID)
		if err != nil {
			return err
		}
		var ss playkey.StreamSession
		ss.AddStreamEvents(in.Events...)
		chJSON, err := json.Marshal(ch)
		if err != nil {
			return fmt.Errorf("sqlite: %s: encode channel: %w", op, err)
		}
		evJSON, err := json.Marshal(ss.Events)
		if err != nil {
			return fmt.Errorf("sqlite: %s: encode events: %w", op, err)
		}
		end := in.EndTime.UnixMilli()
		_, err = tx.ExecContext(ctx,
			`INSERT INTO stream_sessions (account, region, channel_id, id, start_time, end_time, channel, events, has_error_event,
				health, origin, seen_at, refused)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, 1)`,
			a.Account, a.Region, a.ID, in.ID, in.StartTime.UnixMilli(), end, string(chJSON), string(evJSON), boolInt(ss.HasErrorEvent),
			playkey.HealthUnknown, end)
		if constraintViolation(err) == violatesPrimaryKey {
			return playkey.Errorf(playkey.ErrConflict, "stream %s of channel %s already exists", in.ID, a)
		}
		if err != nil {
			return internal(ctx, op+": insert", err)
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM stream_sessions WHERE account = ? AND region = ? AND channel_id = ? AND refused = 1 AND id NOT IN (
				SELECT id FROM stream_sessions WHERE account = ? AND region = ? AND channel_id = ? AND refused = 1
				ORDER BY start_time DESC, id DESC LIMIT ?)`,
			a.Account, a.Region, a.ID, a.Account, a.Region, a.ID, playkey.MaxRefusedSessions); err != nil {
			return internal(ctx, op+": prune", err)
		}
		return nil
	})
}

// QueueMetadata reads the live stream, counts the channel's payloads of the last second and
// inserts the payload, in one write transaction (SQLite has one writer at a time, so the
// count holds for every process on the file), and drops old payloads.
func (s *Store) QueueMetadata(ctx context.Context, a playkey.ARN, payload string, at time.Time) error {
	const op = "queue metadata"
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx,
			`SELECT id FROM stream_sessions WHERE account = ? AND region = ? AND channel_id = ? AND `+liveSQL,
			a.Account, a.Region, a.ID, horizon()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if err := exists(ctx, tx, op+": check channel", a.Scope(), a, playkey.TypeChannel); err != nil {
				return err
			}
			return playkey.NotBroadcasting(a)
		}
		if err != nil {
			return internal(ctx, op+": read stream", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM metadata_outbox WHERE account = ? AND region = ? AND channel_id = ? AND at > ?`,
			a.Account, a.Region, a.ID, at.Add(-time.Second).UnixMilli()).Scan(&n); err != nil {
			return internal(ctx, op+": count", err)
		}
		if n >= playkey.MetadataPerSecond {
			return playkey.MetadataThrottled()
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO metadata_outbox (account, region, channel_id, stream_id, at, payload) VALUES (?, ?, ?, ?, ?, ?)`,
			a.Account, a.Region, a.ID, id, at.UnixMilli(), payload); err != nil {
			return internal(ctx, op+": insert", err)
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM metadata_outbox WHERE account = ? AND region = ? AND channel_id = ? AND (at < ? OR seq NOT IN (
				SELECT seq FROM metadata_outbox WHERE account = ? AND region = ? AND channel_id = ? ORDER BY seq DESC LIMIT ?))`,
			a.Account, a.Region, a.ID, at.Add(-playkey.MetadataKeep).UnixMilli(),
			a.Account, a.Region, a.ID, playkey.MetadataMaxQueued); err != nil {
			return internal(ctx, op+": prune", err)
		}
		return nil
	})
}

// PendingMetadata reads the stream's payloads after seq after from the read pool.
func (s *Store) PendingMetadata(ctx context.Context, a playkey.ARN, id string, after int64) ([]playkey.QueuedMetadata, error) {
	return queryAll(ctx, s.read, "pending metadata", func(row scanner) (playkey.QueuedMetadata, error) {
		var (
			m  playkey.QueuedMetadata
			at int64
		)
		err := row.Scan(&m.Seq, &at, &m.Payload)
		m.At = time.UnixMilli(at).UTC()
		return m, err
	}, `SELECT seq, at, payload FROM metadata_outbox
		WHERE account = ? AND region = ? AND channel_id = ? AND stream_id = ? AND seq > ? ORDER BY seq`,
		a.Account, a.Region, a.ID, id, after)
}
