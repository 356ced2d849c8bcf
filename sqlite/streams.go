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

// liveSQL selects a channel's live stream session: not ended, and reported by its ingest
// within playkey.StreamTimeout of the horizon parameter it takes.
const liveSQL = `end_time IS NULL AND seen_at >= ?`

// horizon is the oldest report a live stream may have now.
func horizon() int64 { return time.Now().Add(-playkey.StreamTimeout).UnixMilli() }

const streamColumns = `account, region, channel_id, id, start_time, health, origin, stopping, seen_at`

// StartStream inserts the stream's session in one write transaction that reads the channel
// (ResourceNotFound) and first ends a live stream of the channel that timed out. The
// partial unique index stream_sessions_live refuses a second live stream (Conflict).
func (s *Store) StartStream(ctx context.Context, st *playkey.Stream, events ...playkey.StreamEvent) error {
	if err := st.Check(); err != nil {
		return err
	}
	a := st.Channel
	return s.inTx(ctx, "start stream", func(tx *sql.Tx) error {
		ch, err := queryOne(ctx, tx, "start stream: read channel", a, scanChannel,
			`SELECT `+channelColumns+` FROM channels WHERE account = ? AND region = ? AND id = ?`,
			a.Account, a.Region, a.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE stream_sessions SET end_time = seen_at
			 WHERE account = ? AND region = ? AND channel_id = ? AND end_time IS NULL AND seen_at < ?`,
			a.Account, a.Region, a.ID, horizon()); err != nil {
			return internal(ctx, "start stream: end timed-out stream", err)
		}
		var ss playkey.StreamSession
		ss.AddStreamEvents(events...)
		chJSON, err := json.Marshal(ch)
		if err != nil {
			return fmt.Errorf("sqlite: start stream: encode channel: %w", err)
		}
		evJSON, err := json.Marshal(ss.Events)
		if err != nil {
			return fmt.Errorf("sqlite: start stream: encode events: %w", err)
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO stream_sessions (account, region, channel_id, id, start_time, channel, events, has_error_event,
				health, origin, stopping, seen_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Account, a.Region, a.ID, st.ID, st.StartTime.UnixMilli(), string(chJSON), string(evJSON), boolInt(ss.HasErrorEvent),
			st.Health, st.Origin, boolInt(st.Stopping), st.SeenAt.UnixMilli())
		switch constraintViolation(err) {
		case violatesUnique:
			return playkey.Errorf(playkey.ErrConflict, "channel %s already has a live stream; IVS allows one stream per channel", a)
		case violatesPrimaryKey:
			return playkey.Errorf(playkey.ErrConflict, "stream %s of channel %s already exists", st.ID, a)
		}
		if err != nil {
			return internal(ctx, "start stream: insert", err)
		}
		return nil
	})
}

// UpdateStream reads the live stream and its session, applies u and writes both back, in
// one write transaction.
func (s *Store) UpdateStream(ctx context.Context, channel playkey.ARN, id string, u playkey.StreamUpdate) (*playkey.Stream, error) {
	const op = "update stream"
	if u.Health != "" {
		if err := playkey.CheckEnum("health", u.Health, playkey.StreamHealths); err != nil {
			return nil, err
		}
	}
	var out *playkey.Stream
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		var (
			events, ingest string
			hasError       bool
		)
		st, err := scanStream(tx.QueryRowContext(ctx,
			`SELECT `+streamColumns+`, events, ingest, has_error_event FROM stream_sessions
			 WHERE account = ? AND region = ? AND channel_id = ? AND id = ? AND `+liveSQL,
			channel.Account, channel.Region, channel.ID, id, horizon()), &events, &ingest, &hasError)
		if errors.Is(err, sql.ErrNoRows) {
			return playkey.NotBroadcasting(channel)
		}
		if err != nil {
			return internal(ctx, op+": read", err)
		}
		evJSON, hasError, err := addEvents(op, events, hasError, u.Events)
		if err != nil {
			return err
		}
		if u.Health != "" {
			st.Health = u.Health
		}
		if u.Origin != "" {
			st.Origin = u.Origin
		}
		if u.Ingest != nil {
			b, err := json.Marshal(u.Ingest)
			if err != nil {
				return fmt.Errorf("sqlite: %s: encode ingest: %w", op, err)
			}
			ingest = string(b)
		}
		st.SeenAt = time.UnixMilli(time.Now().UnixMilli()).UTC()
		if _, err := tx.ExecContext(ctx,
			`UPDATE stream_sessions SET health = ?, origin = ?, ingest = ?, events = ?, has_error_event = ?, seen_at = ?
			 WHERE account = ? AND region = ? AND channel_id = ? AND id = ?`,
			st.Health, st.Origin, ingest, evJSON, boolInt(hasError), st.SeenAt.UnixMilli(),
			channel.Account, channel.Region, channel.ID, id); err != nil {
			return internal(ctx, op+": write", err)
		}
		out = st
		return nil
	})
	return out, err
}

// EndStream sets the session's end time and adds events to it, in one write transaction.
// A stream that timed out but was not replaced yet is ended as asked.
func (s *Store) EndStream(ctx context.Context, channel playkey.ARN, id string, end time.Time, events ...playkey.StreamEvent) error {
	const op = "end stream"
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		var (
			evs      string
			hasError bool
		)
		err := tx.QueryRowContext(ctx,
			`SELECT events, has_error_event FROM stream_sessions
			 WHERE account = ? AND region = ? AND channel_id = ? AND id = ? AND end_time IS NULL`,
			channel.Account, channel.Region, channel.ID, id).Scan(&evs, &hasError)
		if errors.Is(err, sql.ErrNoRows) {
			return playkey.NotBroadcasting(channel)
		}
		if err != nil {
			return internal(ctx, op+": read", err)
		}
		evJSON, hasError, err := addEvents(op, evs, hasError, events)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE stream_sessions SET end_time = ?, events = ?, has_error_event = ?
			 WHERE account = ? AND region = ? AND channel_id = ? AND id = ?`,
			end.UnixMilli(), evJSON, boolInt(hasError),
			channel.Account, channel.Region, channel.ID, id); err != nil {
			return internal(ctx, op+": write", err)
		}
		return nil
	})
}

// StopStream marks the live stream stopping with one UPDATE ... RETURNING.
func (s *Store) StopStream(ctx context.Context, channel playkey.ARN) (*playkey.Stream, error) {
	st, err := scanStream(s.write.QueryRowContext(ctx,
		`UPDATE stream_sessions SET stopping = 1
		 WHERE account = ? AND region = ? AND channel_id = ? AND `+liveSQL+`
		 RETURNING `+streamColumns,
		channel.Account, channel.Region, channel.ID, horizon()))
	return s.orNotBroadcasting(ctx, "stop stream", channel, st, err)
}

// LiveStream reads the channel's live stream from the read pool.
func (s *Store) LiveStream(ctx context.Context, channel playkey.ARN) (*playkey.Stream, error) {
	st, err := scanStream(s.read.QueryRowContext(ctx,
		`SELECT `+streamColumns+` FROM stream_sessions
		 WHERE account = ? AND region = ? AND channel_id = ? AND `+liveSQL,
		channel.Account, channel.Region, channel.ID, horizon()))
	return s.orNotBroadcasting(ctx, "get live stream", channel, st, err)
}

// orNotBroadcasting turns "no live stream row" into ChannelNotBroadcasting, or
// ResourceNotFound when the channel itself is missing.
func (s *Store) orNotBroadcasting(ctx context.Context, op string, channel playkey.ARN, st *playkey.Stream, err error) (*playkey.Stream, error) {
	if errors.Is(err, sql.ErrNoRows) {
		if err := exists(ctx, s.read, op+": check channel", channel.Scope(), channel, playkey.TypeChannel); err != nil {
			return nil, err
		}
		return nil, playkey.NotBroadcasting(channel)
	}
	if err != nil {
		return nil, internal(ctx, op, err)
	}
	return st, nil
}

// LiveStreams lists the live streams of a scope through the partial index of live
// sessions.
func (s *Store) LiveStreams(ctx context.Context, scope playkey.Scope, filter playkey.StreamFilter, page playkey.Page) ([]*playkey.Stream, error) {
	q := `SELECT ` + streamColumns + ` FROM stream_sessions
		WHERE account = ? AND region = ? AND channel_id > ? AND ` + liveSQL
	args := []any{scope.Account, scope.Region, page.After, horizon()}
	if filter.Health != "" {
		q += ` AND health = ?`
		args = append(args, filter.Health)
	}
	q += ` ORDER BY channel_id LIMIT ?`
	args = append(args, sqlLimit(page))
	return queryAll(ctx, s.read, "list live streams", func(row scanner) (*playkey.Stream, error) { return scanStream(row) }, q, args...)
}

// TimedOutStreams reads the streams whose reports stopped from the read pool; the partial
// index of live streams keeps it to those.
func (s *Store) TimedOutStreams(ctx context.Context, limit int) ([]*playkey.Stream, error) {
	return queryAll(ctx, s.read, "list timed-out streams", func(row scanner) (*playkey.Stream, error) { return scanStream(row) },
		`SELECT `+streamColumns+` FROM stream_sessions WHERE end_time IS NULL AND seen_at < ? ORDER BY seen_at LIMIT ?`,
		horizon(), sqlLimit(playkey.Page{Limit: limit}))
}

// sessionColumns end a timed-out live stream at its last report, as StartStream will.
const sessionColumns = `account, region, channel_id, id, start_time,
	coalesce(end_time, CASE WHEN seen_at < ? THEN seen_at END), channel, ingest, events, has_error_event`

// StreamSession reads one session, or the channel's latest.
func (s *Store) StreamSession(ctx context.Context, channel playkey.ARN, id string) (*playkey.StreamSession, error) {
	q := `SELECT ` + sessionColumns + ` FROM stream_sessions WHERE account = ? AND region = ? AND channel_id = ?`
	args := []any{horizon(), channel.Account, channel.Region, channel.ID}
	if id != "" {
		q += ` AND id = ?`
		args = append(args, id)
	}
	q += ` ORDER BY start_time DESC, id DESC LIMIT 1`
	ss, err := scanSession(s.read.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		if err := exists(ctx, s.read, "get stream session: check channel", channel.Scope(), channel, playkey.TypeChannel); err != nil {
			return nil, err
		}
		return nil, playkey.NoStreamSession(channel, id)
	}
	if err != nil {
		return nil, internal(ctx, "get stream session", err)
	}
	return ss, nil
}

// StreamSessions lists a channel's sessions newest first, resuming after the session
// page.After names (none, when it names no session of the channel).
func (s *Store) StreamSessions(ctx context.Context, channel playkey.ARN, page playkey.Page) ([]*playkey.StreamSession, error) {
	q := `SELECT ` + sessionColumns + ` FROM stream_sessions WHERE account = ? AND region = ? AND channel_id = ?`
	args := []any{horizon(), channel.Account, channel.Region, channel.ID}
	if page.After != "" {
		q += ` AND (start_time, id) < (SELECT start_time, id FROM stream_sessions
			WHERE account = ? AND region = ? AND channel_id = ? AND id = ?)`
		args = append(args, channel.Account, channel.Region, channel.ID, page.After)
	}
	q += ` ORDER BY start_time DESC, id DESC LIMIT ?`
	args = append(args, sqlLimit(page))
	list, err := queryAll(ctx, s.read, "list stream sessions", scanSession, q, args...)
	if err != nil || len(list) > 0 {
		return list, err // a session implies its channel (foreign key)
	}
	if err := exists(ctx, s.read, "list stream sessions: check channel", channel.Scope(), channel, playkey.TypeChannel); err != nil {
		return nil, err
	}
	return list, nil
}

// RecordViewers upserts the sightings, keeping each session's latest, and sweeps the old
// ones, in one write transaction.
func (s *Store) RecordViewers(ctx context.Context, seen []playkey.ViewerSighting) error {
	const op = "record viewers"
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		for _, v := range seen {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO viewer_sightings (account, region, channel_id, session, seen_at) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (account, region, channel_id, session) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)`,
				v.Channel.Account, v.Channel.Region, v.Channel.ID, v.Session, v.At.UnixMilli()); err != nil {
				return internal(ctx, op, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM viewer_sightings WHERE seen_at < ?`,
			time.Now().Add(-2*playkey.ViewerWindow).UnixMilli()); err != nil {
			return internal(ctx, op+": sweep", err)
		}
		return nil
	})
}

// ViewerCounts counts a scope's recent sightings per channel.
func (s *Store) ViewerCounts(ctx context.Context, scope playkey.Scope, since time.Time) (map[playkey.ARN]int64, error) {
	type count struct {
		channel string
		n       int64
	}
	rows, err := queryAll(ctx, s.read, "count viewers", func(row scanner) (count, error) {
		var c count
		return c, row.Scan(&c.channel, &c.n)
	}, `SELECT channel_id, count(*) FROM viewer_sightings WHERE account = ? AND region = ? AND seen_at >= ? GROUP BY channel_id`,
		scope.Account, scope.Region, since.UnixMilli())
	if err != nil {
		return nil, err
	}
	out := make(map[playkey.ARN]int64, len(rows))
	for _, c := range rows {
		out[playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypeChannel, ID: c.channel}] = c.n
	}
	return out, nil
}

// scanStream scans streamColumns, then extra columns into extra.
func scanStream(row scanner, extra ...any) (*playkey.Stream, error) {
	var (
		st                playkey.Stream
		startTime, seenAt int64
	)
	st.Channel.Type = playkey.TypeChannel
	dest := append([]any{&st.Channel.Account, &st.Channel.Region, &st.Channel.ID, &st.ID, &startTime,
		&st.Health, &st.Origin, &st.Stopping, &seenAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	st.StartTime = time.UnixMilli(startTime).UTC()
	st.SeenAt = time.UnixMilli(seenAt).UTC()
	return &st, nil
}

func scanSession(row scanner) (*playkey.StreamSession, error) {
	var (
		ss                         playkey.StreamSession
		account, region, channelID string
		startTime                  int64
		endTime                    sql.NullInt64
		channel, ingest, events    string
	)
	if err := row.Scan(&account, &region, &channelID, &ss.ID, &startTime, &endTime, &channel, &ingest, &events, &ss.HasErrorEvent); err != nil {
		return nil, err
	}
	ss.StartTime = time.UnixMilli(startTime).UTC()
	if endTime.Valid {
		ss.EndTime = time.UnixMilli(endTime.Int64).UTC()
	}
	for _, f := range []struct {
		s string
		v any
	}{{channel, &ss.Channel}, {ingest, &ss.Ingest}, {events, &ss.Events}} {
		if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
			return nil, fmt.Errorf("decode stream session %s: %w", ss.ID, err)
		}
	}
	ss.NonNil()
	return &ss, nil
}

// refuseLive returns Conflict when channel has a live stream: IVS refuses to delete a live
// channel.
func refuseLive(ctx context.Context, tx *sql.Tx, channel playkey.ARN, what string) error {
	var one int
	err := tx.QueryRowContext(ctx,
		`SELECT 1 FROM stream_sessions WHERE account = ? AND region = ? AND channel_id = ? AND `+liveSQL,
		channel.Account, channel.Region, channel.ID, horizon()).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return internal(ctx, what+" channel: check live stream", err)
	}
	return playkey.LiveChannelConflict(channel, what)
}

// addEvents adds more to a session's events column, as StreamSession.AddStreamEvents does,
// and returns the new column and has_error_event.
func addEvents(op, events string, hasError bool, more []playkey.StreamEvent) (string, bool, error) {
	ss := playkey.StreamSession{HasErrorEvent: hasError}
	if err := json.Unmarshal([]byte(events), &ss.Events); err != nil {
		return "", false, fmt.Errorf("sqlite: %s: decode events: %w", op, err)
	}
	ss.AddStreamEvents(more...)
	b, err := json.Marshal(ss.Events)
	if err != nil {
		return "", false, fmt.Errorf("sqlite: %s: encode events: %w", op, err)
	}
	return string(b), ss.HasErrorEvent, nil
}
