package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

const channelColumns = `account, region, id, name, latency_mode, type, preset, authorized, insecure_ingest,
	container_format, multitrack_enabled, multitrack_policy, multitrack_maximum_resolution,
	playback_restriction_policy_id, srt_passphrase, tags, created_at`

// CreateChannel stores ch and, if key is not nil, its stream key, in one transaction that
// first checks that ch's playback restriction policy exists (ResourceNotFound if not) and
// holds it against deletion until the channel is committed. A taken ARN is Conflict.
func (s *Store) CreateChannel(ctx context.Context, ch *playkey.Channel, key *playkey.StreamKey) error {
	if ch.ARN.Type != playkey.TypeChannel {
		return fmt.Errorf("postgres: create channel: %s is not a channel ARN", ch.ARN)
	}
	if key != nil && key.Channel != ch.ARN {
		return fmt.Errorf("postgres: create channel: stream key %s is for %s, not %s", key.ARN, key.Channel, ch.ARN)
	}
	return s.inTx(ctx, "create channel", func(ctx context.Context, tx pgx.Tx) error {
		if err := insertChannel(ctx, tx, ch); err != nil {
			return err
		}
		if key == nil {
			return nil
		}
		return insertStreamKey(ctx, tx, key)
	})
}

// insertChannel checks ch's policy and inserts ch, inside the caller's transaction.
func insertChannel(ctx context.Context, tx querier, ch *playkey.Channel) error {
	a := ch.ARN
	if !ch.PlaybackRestrictionPolicy.IsZero() {
		if err := exists(ctx, tx, a.Scope(), ch.PlaybackRestrictionPolicy, playkey.TypePlaybackRestrictionPolicy, "FOR KEY SHARE"); err != nil {
			return err
		}
	}
	m := &ch.Multitrack
	_, err := tx.Exec(ctx,
		`INSERT INTO channels (`+channelColumns+`)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		a.Account, a.Region, a.ID, ch.Name, ch.LatencyMode, ch.Type, ch.Preset, ch.Authorized, ch.InsecureIngest,
		ch.ContainerFormat, m.Enabled, m.Policy, m.MaximumResolution,
		nullID(ch.PlaybackRestrictionPolicy), ch.SRTPassphrase, tagsParam(ch.Tags), millis(ch.CreatedAt))
	if uniqueViolation(err) != "" {
		return playkey.AlreadyExists(a)
	}
	if foreignKeyViolation(err) == fkChannelPolicy {
		return playkey.NotFound(ch.PlaybackRestrictionPolicy)
	}
	return err
}

// Channel returns the channel with the given ARN, or ResourceNotFound.
func (s *Store) Channel(ctx context.Context, arn playkey.ARN) (*playkey.Channel, error) {
	var ch *playkey.Channel
	err := s.do(ctx, "get channel", func(ctx context.Context) error {
		if arn.Type != playkey.TypeChannel {
			return playkey.NotFound(arn)
		}
		var err error
		ch, err = queryOne(ctx, s.pool, arn, scanChannel,
			`SELECT `+channelColumns+` FROM channels WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// Channels lists the channels of a scope that match every filter given, in bytewise id
// order. A policy filter naming another scope matches nothing.
func (s *Store) Channels(ctx context.Context, scope playkey.Scope, filter playkey.ChannelFilter, page playkey.Page) ([]*playkey.Channel, error) {
	q := `SELECT ` + channelColumns + ` FROM channels WHERE account = $1 AND region = $2 AND id > $3`
	args := []any{scope.Account, scope.Region, page.After}
	if filter.Name != "" {
		args = append(args, filter.Name)
		q += fmt.Sprintf(` AND name = $%d`, len(args))
	}
	none := false
	if p := filter.PlaybackRestrictionPolicy; !p.IsZero() {
		none = p.Scope() != scope || p.Type != playkey.TypePlaybackRestrictionPolicy
		args = append(args, p.ID)
		q += fmt.Sprintf(` AND playback_restriction_policy_id = $%d`, len(args))
	}
	args = append(args, sqlLimit(page))
	q += fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args))
	var chs []*playkey.Channel
	err := s.do(ctx, "list channels", func(ctx context.Context) error {
		if none {
			chs = []*playkey.Channel{}
			return nil
		}
		var err error
		chs, err = queryAll(ctx, s.pool, scanChannel, q, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return chs, nil
}

// UpdateChannel reads the channel with a row lock (NO KEY UPDATE, which stream keys and
// revocations referring to it need not wait for), applies change to a copy and writes the
// settings back, in one transaction that also checks, and holds, the policy the result
// refers to.
func (s *Store) UpdateChannel(ctx context.Context, arn playkey.ARN, change func(*playkey.Channel) error) (*playkey.Channel, error) {
	var out *playkey.Channel
	err := s.inTx(ctx, "update channel", func(ctx context.Context, tx pgx.Tx) error {
		if arn.Type != playkey.TypeChannel {
			return playkey.NotFound(arn)
		}
		cur, err := queryOne(ctx, tx, arn, scanChannel,
			`SELECT `+channelColumns+` FROM channels WHERE account = $1 AND region = $2 AND id = $3 FOR NO KEY UPDATE`,
			arn.Account, arn.Region, arn.ID)
		if err != nil {
			return err
		}
		next := cur.Clone()
		if err := change(next); err != nil {
			return asIs{err}
		}
		// What is not a setting stays the store's.
		next.ARN, next.CreatedAt, next.SRTPassphrase, next.Tags = cur.ARN, cur.CreatedAt, cur.SRTPassphrase, cur.Tags
		if p := next.PlaybackRestrictionPolicy; !p.IsZero() {
			if err := exists(ctx, tx, arn.Scope(), p, playkey.TypePlaybackRestrictionPolicy, "FOR KEY SHARE"); err != nil {
				return err
			}
		}
		m := &next.Multitrack
		_, err = tx.Exec(ctx,
			`UPDATE channels SET name = $4, latency_mode = $5, type = $6, preset = $7, authorized = $8, insecure_ingest = $9,
				container_format = $10, multitrack_enabled = $11, multitrack_policy = $12, multitrack_maximum_resolution = $13,
				playback_restriction_policy_id = $14
			 WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID,
			next.Name, next.LatencyMode, next.Type, next.Preset, next.Authorized, next.InsecureIngest,
			next.ContainerFormat, m.Enabled, m.Policy, m.MaximumResolution, nullID(next.PlaybackRestrictionPolicy))
		if foreignKeyViolation(err) == fkChannelPolicy {
			return playkey.NotFound(next.PlaybackRestrictionPolicy)
		}
		if err != nil {
			return err
		}
		out = next.Clone()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteChannel deletes the channel; its stream keys and revocations go with it (ON DELETE
// CASCADE, in the same statement).
func (s *Store) DeleteChannel(ctx context.Context, arn playkey.ARN) error {
	return s.do(ctx, "delete channel", func(ctx context.Context) error {
		return deleteResource(ctx, s.pool, arn, playkey.TypeChannel)
	})
}

func scanChannel(row pgx.Row) (*playkey.Channel, error) {
	var (
		c        playkey.Channel
		policyID *string
	)
	c.ARN.Type = playkey.TypeChannel
	m := &c.Multitrack
	if err := row.Scan(&c.ARN.Account, &c.ARN.Region, &c.ARN.ID, &c.Name, &c.LatencyMode, &c.Type, &c.Preset,
		&c.Authorized, &c.InsecureIngest, &c.ContainerFormat, &m.Enabled, &m.Policy, &m.MaximumResolution,
		&policyID, &c.SRTPassphrase, &c.Tags, &c.CreatedAt); err != nil {
		return nil, err
	}
	if policyID != nil {
		c.PlaybackRestrictionPolicy = playkey.ARN{Region: c.ARN.Region, Account: c.ARN.Account,
			Type: playkey.TypePlaybackRestrictionPolicy, ID: *policyID}
	}
	c.Tags = playkey.CloneTags(c.Tags)
	c.CreatedAt = c.CreatedAt.UTC()
	return &c, nil
}
