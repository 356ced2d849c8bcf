package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// horizon is the oldest report a live stream may have now: a session not ended and
// reported since then is its channel's live stream.
func horizon() time.Time { return time.Now().Add(-playkey.StreamTimeout) }

const streamColumns = `account, region, channel_id, id, start_time, health, origin, stopping, seen_at`

// StartStream inserts the stream's session in one transaction that reads the channel and
// holds it against deletion and updates (FOR SHARE, which DeleteChannel's FOR UPDATE and
// UpdateChannel's FOR NO KEY UPDATE wait for, and which concurrent starts share), and first
// ends a live stream of the channel that timed out. The partial unique index
// stream_sessions_live refuses a second live stream from any node (Conflict).
func (s *Store) StartStream(ctx context.Context, st *playkey.Stream, events ...playkey.StreamEvent) error {
	if err := st.Check(); err != nil {
		return err
	}
	a := st.Channel
	return s.inTx(ctx, "start stream", func(ctx context.Context, tx pgx.Tx) error {
		ch, err := queryOne(ctx, tx, a, scanChannel,
			`SELECT `+channelColumns+` FROM channels WHERE account = $1 AND region = $2 AND id = $3 FOR SHARE`,
			a.Account, a.Region, a.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`UPDATE stream_sessions SET end_time = seen_at
			 WHERE account = $1 AND region = $2 AND channel_id = $3 AND end_time IS NULL AND seen_at < $4`,
			a.Account, a.Region, a.ID, horizon()); err != nil {
			return err
		}
		var ss playkey.StreamSession
		ss.AddStreamEvents(events...)
		_, err = tx.Exec(ctx,
			`INSERT INTO stream_sessions (account, region, channel_id, id, start_time, channel, events, has_error_event,
				health, origin, stopping, seen_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			a.Account, a.Region, a.ID, st.ID, millis(st.StartTime), ch, ss.Events, ss.HasErrorEvent,
			st.Health, st.Origin, st.Stopping, millis(st.SeenAt))
		switch uniqueViolation(err) {
		case "":
			return err
		case "stream_sessions_live":
			return playkey.Errorf(playkey.ErrConflict, "channel %s already has a live stream; IVS allows one stream per channel", a)
		default:
			return playkey.Errorf(playkey.ErrConflict, "stream %s of channel %s already exists", st.ID, a)
		}
	})
}

// UpdateStream locks the live stream's row, applies u and writes it back, in one
// transaction.
func (s *Store) UpdateStream(ctx context.Context, channel playkey.ARN, id string, u playkey.StreamUpdate) (*playkey.Stream, error) {
	if u.Health != "" {
		if err := playkey.CheckEnum("health", u.Health, playkey.StreamHealths); err != nil {
			return nil, err
		}
	}
	var out *playkey.Stream
	err := s.inTx(ctx, "update stream", func(ctx context.Context, tx pgx.Tx) error {
		var ss playkey.StreamSession
		st, err := scanStream(tx.QueryRow(ctx,
			`SELECT `+streamColumns+`, events, has_error_event FROM stream_sessions
			 WHERE account = $1 AND region = $2 AND channel_id = $3 AND id = $4 AND end_time IS NULL AND seen_at >= $5
			 FOR UPDATE`,
			channel.Account, channel.Region, channel.ID, id, horizon()), &ss.Events, &ss.HasErrorEvent)
		if errors.Is(err, pgx.ErrNoRows) {
			return playkey.NotBroadcasting(channel)
		}
		if err != nil {
			return err
		}
		ss.AddStreamEvents(u.Events...)
		if u.Health != "" {
			st.Health = u.Health
		}
		if u.Origin != "" {
			st.Origin = u.Origin
		}
		st.SeenAt = millis(time.Now())
		_, err = tx.Exec(ctx,
			`UPDATE stream_sessions SET health = $5, origin = $6, events = $7, has_error_event = $8, seen_at = $9,
				ingest = coalesce($10, ingest)
			 WHERE account = $1 AND region = $2 AND channel_id = $3 AND id = $4`,
			channel.Account, channel.Region, channel.ID, id,
			st.Health, st.Origin, ss.Events, ss.HasErrorEvent, st.SeenAt, u.Ingest)
		out = st
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EndStream locks the session's row, sets its end time and adds events, in one
// transaction. A stream that timed out but was not replaced yet is ended as asked.
func (s *Store) EndStream(ctx context.Context, channel playkey.ARN, id string, end time.Time, events ...playkey.StreamEvent) error {
	return s.inTx(ctx, "end stream", func(ctx context.Context, tx pgx.Tx) error {
		var ss playkey.StreamSession
		err := tx.QueryRow(ctx,
			`SELECT events, has_error_event FROM stream_sessions
			 WHERE account = $1 AND region = $2 AND channel_id = $3 AND id = $4 AND end_time IS NULL
			 FOR UPDATE`,
			channel.Account, channel.Region, channel.ID, id).Scan(&ss.Events, &ss.HasErrorEvent)
		if errors.Is(err, pgx.ErrNoRows) {
			return playkey.NotBroadcasting(channel)
		}
		if err != nil {
			return err
		}
		ss.AddStreamEvents(events...)
		_, err = tx.Exec(ctx,
			`UPDATE stream_sessions SET end_time = $5, events = $6, has_error_event = $7
			 WHERE account = $1 AND region = $2 AND channel_id = $3 AND id = $4`,
			channel.Account, channel.Region, channel.ID, id, millis(end), ss.Events, ss.HasErrorEvent)
		return err
	})
}

// StopStream marks the live stream stopping with one UPDATE ... RETURNING.
func (s *Store) StopStream(ctx context.Context, channel playkey.ARN) (*playkey.Stream, error) {
	return s.liveStream(ctx, "stop stream", channel,
		`UPDATE stream_sessions SET stopping = true
		 WHERE account = $1 AND region = $2 AND channel_id = $3 AND end_time IS NULL AND seen_at >= $4
		 RETURNING `+streamColumns)
}

// LiveStream reads the channel's live stream.
func (s *Store) LiveStream(ctx context.Context, channel playkey.ARN) (*playkey.Stream, error) {
	return s.liveStream(ctx, "get live stream", channel,
		`SELECT `+streamColumns+` FROM stream_sessions
		 WHERE account = $1 AND region = $2 AND channel_id = $3 AND end_time IS NULL AND seen_at >= $4`)
}

// liveStream runs query, which takes the channel and the horizon and returns
// streamColumns, and turns "no row" into ChannelNotBroadcasting, or ResourceNotFound when
// the channel itself is missing.
func (s *Store) liveStream(ctx context.Context, op string, channel playkey.ARN, query string) (*playkey.Stream, error) {
	var st *playkey.Stream
	err := s.do(ctx, op, func(ctx context.Context) error {
		var err error
		st, err = scanStream(s.pool.QueryRow(ctx, query, channel.Account, channel.Region, channel.ID, horizon()))
		if errors.Is(err, pgx.ErrNoRows) {
			if err := exists(ctx, s.pool, channel.Scope(), channel, playkey.TypeChannel, ""); err != nil {
				return err
			}
			return playkey.NotBroadcasting(channel)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// LiveStreams lists the live streams of a scope through the partial index of live
// sessions.
// TimedOutStreams reads the streams whose reports stopped.
func (s *Store) TimedOutStreams(ctx context.Context, limit int) ([]*playkey.Stream, error) {
	var out []*playkey.Stream
	err := s.do(ctx, "list timed-out streams", func(ctx context.Context) error {
		var err error
		out, err = queryAll(ctx, s.pool, func(row pgx.Row) (*playkey.Stream, error) { return scanStream(row) },
			`SELECT `+streamColumns+` FROM stream_sessions WHERE end_time IS NULL AND seen_at < $1 ORDER BY seen_at LIMIT $2`,
			horizon(), sqlLimit(playkey.Page{Limit: limit}))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) LiveStreams(ctx context.Context, scope playkey.Scope, filter playkey.StreamFilter, page playkey.Page) ([]*playkey.Stream, error) {
	q := `SELECT ` + streamColumns + ` FROM stream_sessions
		WHERE account = $1 AND region = $2 AND channel_id > $3 AND end_time IS NULL AND seen_at >= $4`
	args := []any{scope.Account, scope.Region, page.After, horizon()}
	if filter.Health != "" {
		args = append(args, filter.Health)
		q += fmt.Sprintf(` AND health = $%d`, len(args))
	}
	args = append(args, sqlLimit(page))
	q += fmt.Sprintf(` ORDER BY channel_id LIMIT $%d`, len(args))
	var out []*playkey.Stream
	err := s.do(ctx, "list live streams", func(ctx context.Context) error {
		var err error
		out, err = queryAll(ctx, s.pool, func(row pgx.Row) (*playkey.Stream, error) { return scanStream(row) }, q, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sessionColumns end a timed-out live stream at its last report, as StartStream will; $1
// is the horizon.
const sessionColumns = `id, start_time, coalesce(end_time, CASE WHEN seen_at < $1 THEN seen_at END),
	channel, ingest, events, has_error_event`

// StreamSession reads one session, or the channel's latest.
func (s *Store) StreamSession(ctx context.Context, channel playkey.ARN, id string) (*playkey.StreamSession, error) {
	q := `SELECT ` + sessionColumns + ` FROM stream_sessions WHERE account = $2 AND region = $3 AND channel_id = $4`
	args := []any{horizon(), channel.Account, channel.Region, channel.ID}
	if id != "" {
		q += ` AND id = $5`
		args = append(args, id)
	}
	q += ` ORDER BY start_time DESC, id DESC LIMIT 1`
	var ss *playkey.StreamSession
	err := s.do(ctx, "get stream session", func(ctx context.Context) error {
		var err error
		ss, err = scanSession(s.pool.QueryRow(ctx, q, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			if err := exists(ctx, s.pool, channel.Scope(), channel, playkey.TypeChannel, ""); err != nil {
				return err
			}
			return playkey.NoStreamSession(channel, id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return ss, nil
}

// StreamSessions lists a channel's sessions newest first, resuming after the session
// page.After names (none, when it names no session of the channel).
func (s *Store) StreamSessions(ctx context.Context, channel playkey.ARN, page playkey.Page) ([]*playkey.StreamSession, error) {
	q := `SELECT ` + sessionColumns + ` FROM stream_sessions WHERE account = $2 AND region = $3 AND channel_id = $4`
	args := []any{horizon(), channel.Account, channel.Region, channel.ID}
	if page.After != "" {
		args = append(args, page.After)
		q += fmt.Sprintf(` AND (start_time, id) < (SELECT start_time, id FROM stream_sessions
			WHERE account = $2 AND region = $3 AND channel_id = $4 AND id = $%d)`, len(args))
	}
	args = append(args, sqlLimit(page))
	q += fmt.Sprintf(` ORDER BY start_time DESC, id DESC LIMIT $%d`, len(args))
	var out []*playkey.StreamSession
	err := s.do(ctx, "list stream sessions", func(ctx context.Context) error {
		var err error
		if out, err = queryAll(ctx, s.pool, scanSession, q, args...); err != nil || len(out) > 0 {
			return err // a session implies its channel (foreign key)
		}
		return exists(ctx, s.pool, channel.Scope(), channel, playkey.TypeChannel, "")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordViewers upserts the sightings in one statement, keeping each session's latest, and
// sweeps the old ones.
func (s *Store) RecordViewers(ctx context.Context, seen []playkey.ViewerSighting) error {
	accounts := make([]string, len(seen))
	regions := make([]string, len(seen))
	channels := make([]string, len(seen))
	sessions := make([]string, len(seen))
	times := make([]time.Time, len(seen))
	for i, v := range seen {
		accounts[i], regions[i], channels[i], sessions[i], times[i] = v.Channel.Account, v.Channel.Region, v.Channel.ID, v.Session, millis(v.At)
	}
	return s.do(ctx, "record viewers", func(ctx context.Context) error {
		if len(seen) > 0 {
			// DISTINCT ON: one statement may not update a row twice.
			if _, err := s.pool.Exec(ctx,
				`INSERT INTO viewer_sightings (account, region, channel_id, session, seen_at)
				 SELECT DISTINCT ON (a, r, c, se) a, r, c, se, t
				 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS v(a, r, c, se, t)
				 ORDER BY a, r, c, se, t DESC
				 ON CONFLICT (account, region, channel_id, session)
				 DO UPDATE SET seen_at = greatest(viewer_sightings.seen_at, excluded.seen_at)`,
				accounts, regions, channels, sessions, times); err != nil {
				return err
			}
		}
		_, err := s.pool.Exec(ctx, `DELETE FROM viewer_sightings WHERE seen_at < $1`, time.Now().Add(-2*playkey.ViewerWindow))
		return err
	})
}

// ViewerCounts counts a scope's recent sightings per channel.
func (s *Store) ViewerCounts(ctx context.Context, scope playkey.Scope, since time.Time) (map[playkey.ARN]int64, error) {
	out := map[playkey.ARN]int64{}
	err := s.do(ctx, "count viewers", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx,
			`SELECT channel_id, count(*) FROM viewer_sightings WHERE account = $1 AND region = $2 AND seen_at >= $3 GROUP BY channel_id`,
			scope.Account, scope.Region, millis(since))
		if err != nil {
			return err
		}
		var (
			id string
			n  int64
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
			out[playkey.ARN{Region: scope.Region, Account: scope.Account, Type: playkey.TypeChannel, ID: id}] = n
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// refuseLive returns Conflict when channel has a live stream: IVS refuses to delete a live
// channel.
func refuseLive(ctx context.Context, q querier, channel playkey.ARN, what string) error {
	var one int
	err := q.QueryRow(ctx,
		`SELECT 1 FROM stream_sessions
		 WHERE account = $1 AND region = $2 AND channel_id = $3 AND end_time IS NULL AND seen_at >= $4`,
		channel.Account, channel.Region, channel.ID, horizon()).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return playkey.LiveChannelConflict(channel, what)
}

// scanStream scans streamColumns, then extra columns into extra.
func scanStream(row pgx.Row, extra ...any) (*playkey.Stream, error) {
	var st playkey.Stream
	st.Channel.Type = playkey.TypeChannel
	dest := append([]any{&st.Channel.Account, &st.Channel.Region, &st.Channel.ID, &st.ID, &st.StartTime,
		&st.Health, &st.Origin, &st.Stopping, &st.SeenAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	st.StartTime, st.SeenAt = st.StartTime.UTC(), st.SeenAt.UTC()
	return &st, nil
}

func scanSession(row pgx.Row) (*playkey.StreamSession, error) {
	var (
		ss  playkey.StreamSession
		end *time.Time
	)
	if err := row.Scan(&ss.ID, &ss.StartTime, &end, &ss.Channel, &ss.Ingest, &ss.Events, &ss.HasErrorEvent); err != nil {
		return nil, err
	}
	ss.StartTime = ss.StartTime.UTC()
	if end != nil {
		ss.EndTime = end.UTC()
	}
	ss.NonNil()
	return &ss, nil
}
