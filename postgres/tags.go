package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// A resourceType is where the resources of one ARN type live. Every resource table has the
// columns account, region, id (its primary key) and tags (a jsonb object).
type resourceType struct {
	table string // a constant: it is spliced into SQL
	noun  string // for messages: "playback key pair arn:... not found"
}

// resourceTypes maps each ARN type to its table. Adding a taggable resource is one line here.
var resourceTypes = map[string]resourceType{
	playkey.TypePlaybackKey:               {table: "playback_key_pairs", noun: "playback key pair"},
	playkey.TypeChannel:                   {table: "channels", noun: "channel"},
	playkey.TypeStreamKey:                 {table: "stream_keys", noun: "stream key"},
	playkey.TypePlaybackRestrictionPolicy: {table: "playback_restriction_policies", noun: "playback restriction policy"},
}

// notFound is the ResourceNotFound error for arn.
func notFound(arn playkey.ARN) error {
	noun := "resource"
	if rt, ok := resourceTypes[arn.Type]; ok {
		noun = rt.noun
	}
	return playkey.Errorf(playkey.ErrResourceNotFound, "%s %s not found", noun, arn)
}

// Tags returns the tags of the resource arn names (never nil), or ResourceNotFound.
func (s *Store) Tags(ctx context.Context, arn playkey.ARN) (map[string]string, error) {
	var tags map[string]string
	err := s.do(ctx, "read tags", func(ctx context.Context) error {
		rt, ok := resourceTypes[arn.Type]
		if !ok {
			return notFound(arn)
		}
		var err error
		tags, err = readTags(ctx, s.pool, rt, arn, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	return tags, nil
}

// TagResource merges tags into the resource's tags, replacing the values of keys it already
// has. It returns Validation, and changes nothing, when the result would hold more than
// playkey.MaxTags tags.
func (s *Store) TagResource(ctx context.Context, arn playkey.ARN, tags map[string]string) error {
	return s.updateTags(ctx, "tag resource", arn, func(cur map[string]string) error {
		added := 0
		for k := range tags {
			if _, ok := cur[k]; !ok {
				added++
			}
		}
		if n := len(cur) + added; n > playkey.MaxTags {
			return playkey.Errorf(playkey.ErrValidation,
				"the resource has %d tags and would have %d; a resource has at most %d", len(cur), n, playkey.MaxTags)
		}
		for k, v := range tags {
			cur[k] = v
		}
		return nil
	})
}

// UntagResource removes the named tags from the resource; keys it does not have are ignored.
func (s *Store) UntagResource(ctx context.Context, arn playkey.ARN, keys []string) error {
	return s.updateTags(ctx, "untag resource", arn, func(cur map[string]string) error {
		for _, k := range keys {
			delete(cur, k)
		}
		return nil
	})
}

// updateTags reads the resource's tags with a row lock, changes them and writes them back
// in one transaction, so that concurrent changes from any node never lose one another.
func (s *Store) updateTags(ctx context.Context, op string, arn playkey.ARN, change func(map[string]string) error) error {
	return s.inTx(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		rt, ok := resourceTypes[arn.Type]
		if !ok {
			return notFound(arn)
		}
		tags, err := readTags(ctx, tx, rt, arn, " FOR NO KEY UPDATE")
		if err != nil {
			return err
		}
		if err := change(tags); err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`UPDATE `+rt.table+` SET tags = $4 WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID, tags)
		return err
	})
}

func readTags(ctx context.Context, q queryRower, rt resourceType, arn playkey.ARN, suffix string) (map[string]string, error) {
	var tags map[string]string
	err := q.QueryRow(ctx,
		`SELECT tags FROM `+rt.table+` WHERE account = $1 AND region = $2 AND id = $3`+suffix,
		arn.Account, arn.Region, arn.ID).Scan(&tags)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(arn)
	}
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, nil
}
