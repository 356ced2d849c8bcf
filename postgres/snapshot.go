package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// importTimeout bounds Export and Import, which read or write every row.
const importTimeout = 10 * time.Minute

// Export returns everything the store holds, read in one transaction so that it is
// consistent even while nodes write.
func (s *Store) Export(ctx context.Context) (*playkey.Snapshot, error) {
	var snap *playkey.Snapshot
	err := s.doWithin(ctx, "export", importTimeout, func(ctx context.Context) error {
		tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		snap, err = export(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func export(ctx context.Context, q querier) (*playkey.Snapshot, error) {
	var (
		snap = &playkey.Snapshot{Secrets: map[string][]byte{}}
		err  error
	)
	const order = ` ORDER BY account, region, id`
	if snap.KeyPairs, err = queryAll(ctx, q, scanKeyPair, `SELECT `+keyPairColumns+` FROM playback_key_pairs`+order); err != nil {
		return nil, err
	}
	if snap.Policies, err = queryAll(ctx, q, scanPolicy, `SELECT `+policyColumns+` FROM playback_restriction_policies`+order); err != nil {
		return nil, err
	}
	if snap.Channels, err = queryAll(ctx, q, scanChannel, `SELECT `+channelColumns+` FROM channels`+order); err != nil {
		return nil, err
	}
	if snap.StreamKeys, err = queryAll(ctx, q, scanStreamKey, `SELECT `+streamKeyColumns+` FROM stream_keys`+order); err != nil {
		return nil, err
	}
	if snap.Revocations, err = queryAll(ctx, q, scanRevocation,
		`SELECT account, region, channel_id, viewer_id, max_version, updated_at, seq FROM viewer_revocations ORDER BY seq`); err != nil {
		return nil, err
	}
	if err := q.QueryRow(ctx, `SELECT value FROM counters WHERE name = 'viewer_revocations'`).Scan(&snap.LastRevocationSeq); err != nil {
		return nil, err
	}
	if snap.SingleUses, err = queryAll(ctx, q, func(row pgx.Row) (playkey.SingleUseRecord, error) {
		var u playkey.SingleUseRecord
		err := row.Scan(&u.Scope.Account, &u.Scope.Region, &u.UUID, &u.Expires)
		u.Expires = u.Expires.UTC()
		return u, err
	}, `SELECT account, region, uuid, expires_at FROM single_use_tokens ORDER BY account, region, uuid`); err != nil {
		return nil, err
	}
	type secret struct {
		name  string
		value []byte
	}
	secrets, err := queryAll(ctx, q, func(row pgx.Row) (secret, error) {
		var s secret
		return s, row.Scan(&s.name, &s.value)
	}, `SELECT name, value FROM secrets`)
	if err != nil {
		return nil, err
	}
	for _, s := range secrets {
		snap.Secrets[s.name] = s.value
	}
	if snap.Streams, err = queryAll(ctx, q, func(row pgx.Row) (*playkey.StreamRecord, error) {
		var r playkey.StreamRecord
		r.Channel.Type = playkey.TypeChannel
		ss, err := scanSession(scanFunc(func(dest ...any) error {
			return row.Scan(append([]any{&r.Channel.Account, &r.Channel.Region, &r.Channel.ID}, append(dest,
				&r.Refused, &r.Health, &r.Origin, &r.Stopping, &r.SeenAt)...)...)
		}))
		if err != nil {
			return nil, err
		}
		r.Session, r.SeenAt = *ss, r.SeenAt.UTC()
		return &r, nil
	}, `SELECT account, region, channel_id, id, start_time, end_time, channel, ingest, events, has_error_event,
			refused, health, origin, stopping, seen_at
		FROM stream_sessions ORDER BY account, region, channel_id, start_time, id`); err != nil {
		return nil, err
	}
	return snap, nil
}

// scanFunc is a pgx.Row made of a scan function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// importTables are the tables Import fills, in an order that satisfies foreign keys.
var importTables = []string{"playback_restriction_policies", "channels", "stream_keys", "playback_key_pairs",
	"viewer_revocations", "single_use_tokens", "secrets", "stream_sessions"}

// Import copies snap into the store, in one transaction, preserving every ARN, creation
// time, tag and revocation sequence number; the revocation counter continues from
// snap.LastRevocationSeq. It is meant for moving a deployment, and is safe to run again:
//
//   - into an empty store, it copies everything and reports copied;
//   - into a store that holds exactly snap (an earlier Import of it), it changes nothing
//     and reports !copied;
//   - into a store that holds anything else, it changes nothing and returns an error
//     naming the first differences.
//
// It locks the tables against writes (reads go on) while it runs, so nodes already
// serving from the store wait rather than interleave. A snap that breaks the store's rules
// (more key pairs in a scope than the quota, a duplicate key, a reference to a missing
// resource) is refused.
func (s *Store) Import(ctx context.Context, snap *playkey.Snapshot) (copied bool, err error) {
	err = s.doWithin(ctx, "import", importTimeout, func(ctx context.Context) error {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(importTables, ", ")+`, counters IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		empty := true
		for _, t := range importTables {
			var some bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&some); err != nil {
				return err
			}
			empty = empty && !some
		}
		if !empty {
			held, err := export(ctx, tx)
			if err != nil {
				return err
			}
			if d := snap.Diff(held, 8); len(d) > 0 {
				return fmt.Errorf("the target already holds data, and not exactly what is being copied; nothing was copied: "+
					"copy into an empty schema. Differences (first: the copy, second: the target):\n\t%s",
					strings.Join(d, "\n\t"))
			}
			return nil
		}
		if err := importAll(ctx, tx, snap); err != nil {
			return err
		}
		copied = true
		return tx.Commit(ctx)
	})
	return copied, err
}

func importAll(ctx context.Context, tx pgx.Tx, snap *playkey.Snapshot) error {
	fail := func(what fmt.Stringer, err error) error { return fmt.Errorf("%s: %w", what, err) }
	for _, p := range snap.Policies {
		if err := insertPolicy(ctx, tx, p); err != nil {
			return fail(p.ARN, err)
		}
	}
	for _, c := range snap.Channels {
		if err := insertChannel(ctx, tx, c); err != nil {
			return fail(c.ARN, err)
		}
	}
	for _, k := range snap.StreamKeys {
		if err := insertStreamKey(ctx, tx, k); err != nil {
			return fail(k.ARN, err)
		}
	}
	// Creation order, so that a snapshot over the quota fails on the key pair beyond it.
	kps := slices.SortedFunc(slices.Values(snap.KeyPairs), func(a, b *playkey.KeyPair) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ARN.String(), b.ARN.String()))
	})
	count := map[playkey.Scope]int{}
	for _, k := range kps {
		if count[k.ARN.Scope()]++; count[k.ARN.Scope()] > playkey.MaxKeyPairs {
			return fail(k.ARN, playkey.KeyPairQuotaExceeded(playkey.MaxKeyPairs, k.ARN.Region))
		}
		if k.ARN.Type != playkey.TypePlaybackKey {
			return fail(k.ARN, fmt.Errorf("not a playback key ARN"))
		}
		if err := insertKeyPair(ctx, tx, k); err != nil {
			return fail(k.ARN, err)
		}
	}
	last := snap.LastRevocationSeq
	for _, r := range snap.Revocations {
		if r.Channel.Type != playkey.TypeChannel {
			return fail(r.Channel, fmt.Errorf("revocation for viewer %q: not a channel ARN", r.ViewerID))
		}
		_, err := tx.Exec(ctx,
			`INSERT INTO viewer_revocations (account, region, channel_id, viewer_id, max_version, updated_at, seq)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			r.Channel.Account, r.Channel.Region, r.Channel.ID, r.ViewerID, r.MaxVersion, millis(r.UpdatedAt), r.Seq)
		if err != nil {
			return fail(r.Channel, fmt.Errorf("revocation for viewer %q: %w", r.ViewerID, err))
		}
		last = max(last, r.Seq)
	}
	if _, err := tx.Exec(ctx, `UPDATE counters SET value = $1 WHERE name = 'viewer_revocations'`, last); err != nil {
		return err
	}
	for _, u := range snap.SingleUses {
		if _, err := tx.Exec(ctx, `INSERT INTO single_use_tokens (account, region, uuid, expires_at) VALUES ($1, $2, $3, $4)`,
			u.Scope.Account, u.Scope.Region, u.UUID, millis(u.Expires)); err != nil {
			return fmt.Errorf("single-use token %s in %s/%s: %w", u.UUID, u.Scope.Account, u.Scope.Region, err)
		}
	}
	for name, v := range snap.Secrets {
		if _, err := tx.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2)`, name, v); err != nil {
			return fmt.Errorf("secret %q: %w", name, err)
		}
	}
	for _, r := range snap.Streams {
		ss := r.Session
		if r.Channel.Type != playkey.TypeChannel || ss.Channel == nil {
			return fail(r.Channel, fmt.Errorf("stream session %s: not a channel's", ss.ID))
		}
		ss.NonNil()
		var end *time.Time
		if !ss.EndTime.IsZero() {
			e := millis(ss.EndTime)
			end = &e
		}
		_, err := tx.Exec(ctx,
			`INSERT INTO stream_sessions (account, region, channel_id, id, start_time, end_time, channel, ingest, events,
				has_error_event, refused, health, origin, stopping, seen_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			r.Channel.Account, r.Channel.Region, r.Channel.ID, ss.ID, millis(ss.StartTime), end, ss.Channel, ss.Ingest, ss.Events,
			ss.HasErrorEvent, r.Refused, r.Health, r.Origin, r.Stopping, millis(r.SeenAt))
		if err != nil {
			return fail(r.Channel, fmt.Errorf("stream session %s: %w", ss.ID, err))
		}
	}
	return nil
}
