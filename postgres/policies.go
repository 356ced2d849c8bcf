package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

const policyColumns = `account, region, id, name, allowed_countries, allowed_origins, strict_origin_enforcement, tags, created_at`

// CreatePlaybackRestrictionPolicy stores p; a taken ARN is Conflict.
func (s *Store) CreatePlaybackRestrictionPolicy(ctx context.Context, p *playkey.PlaybackRestrictionPolicy) error {
	if p.ARN.Type != playkey.TypePlaybackRestrictionPolicy {
		return fmt.Errorf("postgres: create playback restriction policy: %s is not a policy ARN", p.ARN)
	}
	return s.do(ctx, "create playback restriction policy", func(ctx context.Context) error {
		return insertPolicy(ctx, s.pool, p)
	})
}

func insertPolicy(ctx context.Context, q querier, p *playkey.PlaybackRestrictionPolicy) error {
	a := p.ARN
	_, err := q.Exec(ctx,
		`INSERT INTO playback_restriction_policies (`+policyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.Account, a.Region, a.ID, p.Name, list(p.AllowedCountries), list(p.AllowedOrigins),
		p.EnableStrictOriginEnforcement, tagsParam(p.Tags), millis(p.CreatedAt))
	if uniqueViolation(err) != "" {
		return playkey.AlreadyExists(a)
	}
	return err
}

// PlaybackRestrictionPolicy returns the policy with the given ARN, or ResourceNotFound.
func (s *Store) PlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) (*playkey.PlaybackRestrictionPolicy, error) {
	var p *playkey.PlaybackRestrictionPolicy
	err := s.do(ctx, "get playback restriction policy", func(ctx context.Context) error {
		if arn.Type != playkey.TypePlaybackRestrictionPolicy {
			return playkey.NotFound(arn)
		}
		var err error
		p, err = queryOne(ctx, s.pool, arn, scanPolicy,
			`SELECT `+policyColumns+` FROM playback_restriction_policies WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PlaybackRestrictionPolicies lists the policies of a scope in bytewise id order.
func (s *Store) PlaybackRestrictionPolicies(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.PlaybackRestrictionPolicy, error) {
	var ps []*playkey.PlaybackRestrictionPolicy
	err := s.do(ctx, "list playback restriction policies", func(ctx context.Context) error {
		var err error
		ps, err = queryAll(ctx, s.pool, scanPolicy,
			`SELECT `+policyColumns+` FROM playback_restriction_policies
			 WHERE account = $1 AND region = $2 AND id > $3 ORDER BY id LIMIT $4`,
			scope.Account, scope.Region, page.After, sqlLimit(page))
		return err
	})
	if err != nil {
		return nil, err
	}
	return ps, nil
}

// UpdatePlaybackRestrictionPolicy reads the policy with a row lock, applies change to a copy
// and writes its settings back, in one transaction.
func (s *Store) UpdatePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN, change func(*playkey.PlaybackRestrictionPolicy) error) (*playkey.PlaybackRestrictionPolicy, error) {
	var out *playkey.PlaybackRestrictionPolicy
	err := s.inTx(ctx, "update playback restriction policy", func(ctx context.Context, tx pgx.Tx) error {
		if arn.Type != playkey.TypePlaybackRestrictionPolicy {
			return playkey.NotFound(arn)
		}
		// FOR NO KEY UPDATE: channels referring to the policy (KEY SHARE) need not wait.
		cur, err := queryOne(ctx, tx, arn, scanPolicy,
			`SELECT `+policyColumns+` FROM playback_restriction_policies
			 WHERE account = $1 AND region = $2 AND id = $3 FOR NO KEY UPDATE`,
			arn.Account, arn.Region, arn.ID)
		if err != nil {
			return err
		}
		next := cur.Clone()
		if err := change(next); err != nil {
			return asIs{err}
		}
		next.ARN, next.CreatedAt, next.Tags = cur.ARN, cur.CreatedAt, cur.Tags
		if _, err := tx.Exec(ctx,
			`UPDATE playback_restriction_policies
			 SET name = $4, allowed_countries = $5, allowed_origins = $6, strict_origin_enforcement = $7
			 WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID,
			next.Name, list(next.AllowedCountries), list(next.AllowedOrigins), next.EnableStrictOriginEnforcement); err != nil {
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

// DeletePlaybackRestrictionPolicy deletes the policy, or returns Conflict while a channel
// refers to it. A channel created or updated concurrently to refer to it either commits
// first, and then the foreign key refuses the delete (Conflict), or finds the policy gone
// (ResourceNotFound): its KEY SHARE lock and the delete's row lock order them.
func (s *Store) DeletePlaybackRestrictionPolicy(ctx context.Context, arn playkey.ARN) error {
	return s.inTx(ctx, "delete playback restriction policy", func(ctx context.Context, tx pgx.Tx) error {
		if arn.Type != playkey.TypePlaybackRestrictionPolicy {
			return playkey.NotFound(arn)
		}
		var user string
		err := tx.QueryRow(ctx,
			`SELECT id FROM channels WHERE account = $1 AND region = $2 AND playback_restriction_policy_id = $3 ORDER BY id LIMIT 1`,
			arn.Account, arn.Region, arn.ID).Scan(&user)
		switch {
		case err == nil:
			ch := playkey.ARN{Region: arn.Region, Account: arn.Account, Type: playkey.TypeChannel, ID: user}
			return playkey.PolicyInUse(arn, ch)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		err = deleteResource(ctx, tx, arn, playkey.TypePlaybackRestrictionPolicy)
		if foreignKeyViolation(err) == fkChannelPolicy {
			return playkey.PolicyInUse(arn, playkey.ARN{})
		}
		return err
	})
}

func scanPolicy(row pgx.Row) (*playkey.PlaybackRestrictionPolicy, error) {
	var p playkey.PlaybackRestrictionPolicy
	p.ARN.Type = playkey.TypePlaybackRestrictionPolicy
	if err := row.Scan(&p.ARN.Account, &p.ARN.Region, &p.ARN.ID, &p.Name, &p.AllowedCountries, &p.AllowedOrigins,
		&p.EnableStrictOriginEnforcement, &p.Tags, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.AllowedCountries = list(p.AllowedCountries)
	p.AllowedOrigins = list(p.AllowedOrigins)
	p.Tags = playkey.CloneTags(p.Tags)
	p.CreatedAt = p.CreatedAt.UTC()
	return &p, nil
}
