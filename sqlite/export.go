package sqlite

import (
	"context"
	"time"

	"github.com/playkey/playkey"
)

// Export returns everything the store holds, read in one read transaction, so that it is
// consistent even while others write: the source of a copy into another store.
func (s *Store) Export(ctx context.Context) (*playkey.Snapshot, error) {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal(ctx, "export: begin", err)
	}
	defer rollback(tx)
	snap := &playkey.Snapshot{Secrets: map[string][]byte{}}
	const order = ` ORDER BY account, region, id`
	if snap.KeyPairs, err = queryAll(ctx, tx, "export key pairs", scanKeyPair, `SELECT `+keyPairColumns+` FROM playback_key_pairs`+order); err != nil {
		return nil, err
	}
	if snap.Policies, err = queryAll(ctx, tx, "export policies", scanPolicy, `SELECT `+policyColumns+` FROM playback_restriction_policies`+order); err != nil {
		return nil, err
	}
	if snap.Channels, err = queryAll(ctx, tx, "export channels", scanChannel, `SELECT `+channelColumns+` FROM channels`+order); err != nil {
		return nil, err
	}
	if snap.StreamKeys, err = queryAll(ctx, tx, "export stream keys", scanStreamKey, `SELECT `+streamKeyColumns+` FROM stream_keys`+order); err != nil {
		return nil, err
	}
	if snap.Revocations, err = queryAll(ctx, tx, "export revocations", scanRevocation,
		`SELECT account, region, channel_id, viewer_id, max_version, updated_at, seq FROM viewer_revocations ORDER BY seq`); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'viewer_revocations'`).Scan(&snap.LastRevocationSeq); err != nil {
		return nil, internal(ctx, "export revocation counter", err)
	}
	if snap.SingleUses, err = queryAll(ctx, tx, "export single-use records", func(row scanner) (playkey.SingleUseRecord, error) {
		var (
			u       playkey.SingleUseRecord
			expires int64
		)
		err := row.Scan(&u.Scope.Account, &u.Scope.Region, &u.UUID, &expires)
		u.Expires = time.UnixMilli(expires).UTC()
		return u, err
	}, `SELECT account, region, uuid, expires_at FROM single_use_tokens ORDER BY account, region, uuid`); err != nil {
		return nil, err
	}
	type secret struct {
		name  string
		value []byte
	}
	secrets, err := queryAll(ctx, tx, "export secrets", func(row scanner) (secret, error) {
		var s secret
		return s, row.Scan(&s.name, &s.value)
	}, `SELECT name, value FROM secrets ORDER BY name`)
	if err != nil {
		return nil, err
	}
	for _, s := range secrets {
		snap.Secrets[s.name] = s.value
	}
	if snap.Streams, err = queryAll(ctx, tx, "export stream sessions", scanStreamRecord,
		`SELECT `+recordColumns+` FROM stream_sessions ORDER BY account, region, channel_id, start_time, id`); err != nil {
		return nil, err
	}
	return snap, nil
}

// recordColumns are a stream session's columns as scanStreamRecord reads them: the session
// as stored (end_time as it is, not as a timed-out stream reads), then its live state.
const recordColumns = `account, region, channel_id, id, start_time, end_time, channel, ingest, events, has_error_event,
	refused, health, origin, stopping, seen_at`

func scanStreamRecord(row scanner) (*playkey.StreamRecord, error) {
	var (
		r      playkey.StreamRecord
		seenAt int64
	)
	ss, err := scanSession(scannerFunc(func(dest ...any) error {
		if err := row.Scan(append(dest, &r.Refused, &r.Health, &r.Origin, &r.Stopping, &seenAt)...); err != nil {
			return err
		}
		// The first columns are the channel's account, region and id.
		r.Channel = playkey.ARN{Account: *dest[0].(*string), Region: *dest[1].(*string), Type: playkey.TypeChannel, ID: *dest[2].(*string)}
		return nil
	}))
	if err != nil {
		return nil, err
	}
	r.Session, r.SeenAt = *ss, time.UnixMilli(seenAt).UTC()
	return &r, nil
}

// scannerFunc is a scanner made of a function.
type scannerFunc func(dest ...any) error

func (f scannerFunc) Scan(dest ...any) error { return f(dest...) }
