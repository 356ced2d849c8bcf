package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/playkey/playkey"
)

const channelColumns = `account, region, id, name, latency_mode, type, preset, authorized, insecure_ingest,
	container_format, multitrack_enabled, multitrack_policy, multitrack_maximum_resolution,
	playback_restriction_policy_id, srt_passphrase, tags, created_at`

// CreateChannel stores ch and, if key is not nil, its stream key, in one write transaction
// that first checks that ch's playback restriction policy exists (ResourceNotFound if not).
// A taken ARN is Conflict.
func (s *Store) CreateChannel(ctx context.Context, ch *playkey.Channel, key *playkey.StreamKey) error {
	if ch.ARN.Type != playkey.TypeChannel {
		return fmt.Errorf("sqlite: create channel: %s is not a channel ARN", ch.ARN)
	}
	if key != nil && key.Channel != ch.ARN {
		return fmt.Errorf("sqlite: create channel: stream key %s is for %s, not %s", key.ARN, key.Channel, ch.ARN)
	}
	tags, err := encodeTags(ch.Tags)
	if err != nil {
		return err
	}
	a := ch.ARN
	return s.inTx(ctx, "create channel", func(tx *sql.Tx) error {
		if !ch.PlaybackRestrictionPolicy.IsZero() {
			if err := exists(ctx, tx, "create channel: check policy", a.Scope(), ch.PlaybackRestrictionPolicy, playkey.TypePlaybackRestrictionPolicy); err != nil {
				return err
			}
		}
		m := &ch.Multitrack
		_, err := tx.ExecContext(ctx,
			`INSERT INTO channels (`+channelColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Account, a.Region, a.ID, ch.Name, ch.LatencyMode, ch.Type, ch.Preset, boolInt(ch.Authorized), boolInt(ch.InsecureIngest),
			ch.ContainerFormat, boolInt(m.Enabled), m.Policy, m.MaximumResolution,
			nullID(ch.PlaybackRestrictionPolicy), ch.SRTPassphrase, tags, ch.CreatedAt.UnixMilli())
		switch constraintViolation(err) {
		case violatesPrimaryKey:
			return playkey.AlreadyExists(a)
		case violatesForeignKey:
			return playkey.NotFound(ch.PlaybackRestrictionPolicy)
		}
		if err != nil {
			return internal(ctx, "create channel: insert", err)
		}
		if key == nil {
			return nil
		}
		return insertStreamKey(ctx, tx, key)
	})
}

// Channel returns the channel with the given ARN, or ResourceNotFound.
func (s *Store) Channel(ctx context.Context, arn playkey.ARN) (*playkey.Channel, error) {
	if arn.Type != playkey.TypeChannel {
		return nil, playkey.NotFound(arn)
	}
	return queryOne(ctx, s.read, "get channel", arn, scanChannel,
		`SELECT `+channelColumns+` FROM channels WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID)
}

// Channels lists the channels of a scope that match every filter given, in bytewise id
// order. A policy filter naming another scope matches nothing.
func (s *Store) Channels(ctx context.Context, scope playkey.Scope, filter playkey.ChannelFilter, page playkey.Page) ([]*playkey.Channel, error) {
	q := `SELECT ` + channelColumns + ` FROM channels WHERE account = ? AND region = ? AND id > ?`
	args := []any{scope.Account, scope.Region, page.After}
	if filter.Name != "" {
		q += ` AND name = ?`
		args = append(args, filter.Name)
	}
	if p := filter.PlaybackRestrictionPolicy; !p.IsZero() {
		if p.Scope() != scope || p.Type != playkey.TypePlaybackRestrictionPolicy {
			return []*playkey.Channel{}, nil
		}
		q += ` AND playback_restriction_policy_id = ?`
		args = append(args, p.ID)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, sqlLimit(page))
	return queryAll(ctx, s.read, "list channels", scanChannel, q, args...)
}

// UpdateChannel reads the channel, applies change to a copy and writes the settings back,
// in one write transaction that also checks the policy the result refers to.
func (s *Store) UpdateChannel(ctx context.Context, arn playkey.ARN, change func(*playkey.Channel) error) (*playkey.Channel, error) {
	if arn.Type != playkey.TypeChannel {
		return nil, playkey.NotFound(arn)
	}
	var out *playkey.Channel
	err := s.inTx(ctx, "update channel", func(tx *sql.Tx) error {
		cur, err := queryOne(ctx, tx, "update channel: read", arn, scanChannel,
			`SELECT `+channelColumns+` FROM channels WHERE account = ? AND region = ? AND id = ?`,
			arn.Account, arn.Region, arn.ID)
		if err != nil {
			return err
		}
		next := cur.Clone()
		if err := change(next); err != nil {
			return err
		}
		// What is not a setting stays the store's.
		next.ARN, next.CreatedAt, next.SRTPassphrase, next.Tags = cur.ARN, cur.CreatedAt, cur.SRTPassphrase, cur.Tags
		if p := next.PlaybackRestrictionPolicy; !p.IsZero() {
			if err := exists(ctx, tx, "update channel: check policy", arn.Scope(), p, playkey.TypePlaybackRestrictionPolicy); err != nil {
				return err
			}
		}
		m := &next.Multitrack
		_, err = tx.ExecContext(ctx,
			`UPDATE channels SET name = ?, latency_mode = ?, type = ?, preset = ?, authorized = ?, insecure_ingest = ?,
				container_format = ?, multitrack_enabled = ?, multitrack_policy = ?, multitrack_maximum_resolution = ?,
				playback_restriction_policy_id = ?
			 WHERE account = ? AND region = ? AND id = ?`,
			next.Name, next.LatencyMode, next.Type, next.Preset, boolInt(next.Authorized), boolInt(next.InsecureIngest),
			next.ContainerFormat, boolInt(m.Enabled), m.Policy, m.MaximumResolution, nullID(next.PlaybackRestrictionPolicy),
			arn.Account, arn.Region, arn.ID)
		if constraintViolation(err) == violatesForeignKey {
			return playkey.NotFound(next.PlaybackRestrictionPolicy)
		}
		if err != nil {
			return internal(ctx, "update channel: write", err)
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
	return deleteResource(ctx, s.write, "delete channel", arn, playkey.TypeChannel)
}

func scanChannel(row scanner) (*playkey.Channel, error) {
	var (
		c         playkey.Channel
		policyID  sql.NullString
		tags      string
		createdAt int64
	)
	c.ARN.Type = playkey.TypeChannel
	m := &c.Multitrack
	if err := row.Scan(&c.ARN.Account, &c.ARN.Region, &c.ARN.ID, &c.Name, &c.LatencyMode, &c.Type, &c.Preset,
		&c.Authorized, &c.InsecureIngest, &c.ContainerFormat, &m.Enabled, &m.Policy, &m.MaximumResolution,
		&policyID, &c.SRTPassphrase, &tags, &createdAt); err != nil {
		return nil, err
	}
	if policyID.Valid {
		c.PlaybackRestrictionPolicy = playkey.ARN{Region: c.ARN.Region, Account: c.ARN.Account,
			Type: playkey.TypePlaybackRestrictionPolicy, ID: policyID.String}
	}
	var err error
	if c.Tags, err = decodeTags(tags); err != nil {
		return nil, err
	}
	c.CreatedAt = time.UnixMilli(createdAt).UTC()
	return &c, nil
}
