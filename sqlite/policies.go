package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/playkey/playkey"
)

const policyColumns = `account, region, id, name, allowed_countries, allowed_origins, strict_origin_enforcement, tags, created_at`

// CreatePlaybackRestrictionPolicy stores p; a taken ARN is Conflict.
func (s *Store) CreatePlaybackRestrictionPolicy(ctx context.Context, p *playkey.PlaybackRestrictionPolicy) error {
	a := p.ARN
	if a.Type != playkey.TypePlaybackRestrictionPolicy {
		return fmt.Errorf("sqlite: create playback restriction policy: %s is not a policy ARN", a)
	}
	tags, err := encodeTags(p.Tags)
	if err != nil {
		return err
	}
	countries, origins, err := encodePolicyLists(p)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx,
		`INSERT INTO playback_restriction_policies (`+policyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Account, a.Region, a.ID, p.Name, countries, origins, boolInt(p.EnableStrictOriginEnforcement), tags, p.CreatedAt.UnixMilli())
	if constraintViolation(err) == violatesPrimaryKey {
		return playkey.AlreadyExists(a)
	}
	if err != nil {
		return internal(ctx, "create playback restriction policy", err)
	}
	return nil
}

// PlaybackRestrictionPolicy returns the policy with the given ARN, or ResourceNotFound.
func (s *Store) PlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) (*playkey.PlaybackRestrictionPolicy, error) {
	if arn.Type != playkey.TypePlaybackRestrictionPolicy {
		return nil, playkey.NotFound(arn)
	}
	return queryOne(ctx, s.read, "get playback restriction policy", arn, scanPolicy,
		`SELECT `+policyColumns+` FROM playback_restriction_policies WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID)
}

// PlaybackRestrictionPolicies lists the policies of a scope in bytewise id order.
func (s *Store) PlaybackRestrictionPolicies(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.PlaybackRestrictionPolicy, error) {
	return queryAll(ctx, s.read, "list playback restriction policies", scanPolicy,
		`SELECT `+policyColumns+` FROM playback_restriction_policies
		 WHERE account = ? AND region = ? AND id > ? ORDER BY id LIMIT ?`,
		scope.Account, scope.Region, page.After, sqlLimit(page))
}

// UpdatePlaybackRestrictionPolicy reads the policy, applies change to a copy and writes
// its settings back, in one write transaction.
func (s *Store) UpdatePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN, change func(*playkey.PlaybackRestrictionPolicy) error) (*playkey.PlaybackRestrictionPolicy, error) {
	if arn.Type != playkey.TypePlaybackRestrictionPolicy {
		return nil, playkey.NotFound(arn)
	}
	var out *playkey.PlaybackRestrictionPolicy
	err := s.inTx(ctx, "update playback restriction policy", func(tx *sql.Tx) error {
		cur, err := queryOne(ctx, tx, "update playback restriction policy: read", arn, scanPolicy,
			`SELECT `+policyColumns+` FROM playback_restriction_policies WHERE account = ? AND region = ? AND id = ?`,
			arn.Account, arn.Region, arn.ID)
		if err != nil {
			return err
		}
		next := cur.Clone()
		if err := change(next); err != nil {
			return err
		}
		next.ARN, next.CreatedAt, next.Tags = cur.ARN, cur.CreatedAt, cur.Tags
		countries, origins, err := encodePolicyLists(next)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE playback_restriction_policies SET name = ?, allowed_countries = ?, allowed_origins = ?, strict_origin_enforcement = ?
			 WHERE account = ? AND region = ? AND id = ?`,
			next.Name, countries, origins, boolInt(next.EnableStrictOriginEnforcement), arn.Account, arn.Region, arn.ID); err != nil {
			return internal(ctx, "update playback restriction policy: write", err)
		}
		out = next.Clone()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePlaybackRestrictionPolicy deletes the policy, or returns Conflict while a channel
// refers to it. The check and the delete share a write transaction, which a channel
// create or update referring to the policy cannot interleave with.
func (s *Store) DeletePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) error {
	if arn.Type != playkey.TypePlaybackRestrictionPolicy {
		return playkey.NotFound(arn)
	}
	return s.inTx(ctx, "delete playback restriction policy", func(tx *sql.Tx) error {
		var user string
		err := tx.QueryRowContext(ctx,
			`SELECT id FROM channels WHERE account = ? AND region = ? AND playback_restriction_policy_id = ? ORDER BY id LIMIT 1`,
			arn.Account, arn.Region, arn.ID).Scan(&user)
		switch {
		case err == nil:
			ch := playkey.ARN{Region: arn.Region, Account: arn.Account, Type: playkey.TypeChannel, ID: user}
			return playkey.PolicyInUse(arn, ch)
		case !errors.Is(err, sql.ErrNoRows):
			return internal(ctx, "delete playback restriction policy: check use", err)
		}
		err = deleteResource(ctx, tx, "delete playback restriction policy", arn, playkey.TypePlaybackRestrictionPolicy)
		if constraintViolation(err) == violatesForeignKey {
			return playkey.PolicyInUse(arn, playkey.ARN{})
		}
		return err
	})
}

func encodePolicyLists(p *playkey.PlaybackRestrictionPolicy) (string, string, error) {
	countries, err := encodeList(p.AllowedCountries)
	if err != nil {
		return "", "", err
	}
	origins, err := encodeList(p.AllowedOrigins)
	if err != nil {
		return "", "", err
	}
	return countries, origins, nil
}

func scanPolicy(row scanner) (*playkey.PlaybackRestrictionPolicy, error) {
	var (
		p                        playkey.PlaybackRestrictionPolicy
		countries, origins, tags string
		createdAt                int64
	)
	p.ARN.Type = playkey.TypePlaybackRestrictionPolicy
	if err := row.Scan(&p.ARN.Account, &p.ARN.Region, &p.ARN.ID, &p.Name, &countries, &origins,
		&p.EnableStrictOriginEnforcement, &tags, &createdAt); err != nil {
		return nil, err
	}
	var err error
	if p.AllowedCountries, err = decodeList(countries); err != nil {
		return nil, err
	}
	if p.AllowedOrigins, err = decodeList(origins); err != nil {
		return nil, err
	}
	if p.Tags, err = decodeTags(tags); err != nil {
		return nil, err
	}
	p.CreatedAt = time.UnixMilli(createdAt).UTC()
	return &p, nil
}
