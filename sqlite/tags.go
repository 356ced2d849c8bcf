package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/playkey/playkey"
)

// A resourceType is where the resources of one ARN type live. Every resource table has the
// columns account, region, id (its primary key) and tags (a JSON object).
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
	rt, ok := resourceTypes[arn.Type]
	if !ok {
		return nil, notFound(arn)
	}
	tags, err := readTags(ctx, s.read, rt, arn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(arn)
	}
	if err != nil {
		return nil, internal(ctx, "read tags", err)
	}
	return tags, nil
}

// TagResource merges tags into the resource's tags, replacing the values of keys it already
// has. It returns Validation, and changes nothing, when the result would hold more than
// playkey.MaxTags tags.
func (s *Store) TagResource(ctx context.Context, arn playkey.ARN, tags map[string]string) error {
	return s.updateTags(ctx, arn, func(cur map[string]string) error {
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
	return s.updateTags(ctx, arn, func(cur map[string]string) error {
		for _, k := range keys {
			delete(cur, k)
		}
		return nil
	})
}

// updateTags reads, changes and writes a resource's tags in one write transaction, so that
// concurrent changes never lose one another.
func (s *Store) updateTags(ctx context.Context, arn playkey.ARN, change func(map[string]string) error) error {
	rt, ok := resourceTypes[arn.Type]
	if !ok {
		return notFound(arn)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(ctx, "update tags: begin", err)
	}
	defer rollback(tx)
	tags, err := readTags(ctx, tx, rt, arn)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(arn)
	}
	if err != nil {
		return internal(ctx, "update tags: read", err)
	}
	if err := change(tags); err != nil {
		return err
	}
	enc, err := encodeTags(tags)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE `+rt.table+` SET tags = ? WHERE account = ? AND region = ? AND id = ?`,
		enc, arn.Account, arn.Region, arn.ID); err != nil {
		return internal(ctx, "update tags: write", err)
	}
	if err := tx.Commit(); err != nil {
		return internal(ctx, "update tags: commit", err)
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readTags(ctx context.Context, q querier, rt resourceType, arn playkey.ARN) (map[string]string, error) {
	var enc string
	err := q.QueryRowContext(ctx,
		`SELECT tags FROM `+rt.table+` WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID).Scan(&enc)
	if err != nil {
		return nil, err
	}
	return decodeTags(enc)
}
