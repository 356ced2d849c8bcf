package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/playkey/playkey"
)

// resourceTables maps each ARN type to the table its resources live in (a constant: it is
// spliced into SQL). Every resource table has the columns account, region, id (its primary
// key) and tags (a JSON object). Adding a taggable resource is one line here.
var resourceTables = map[string]string{
	playkey.TypePlaybackKey:               "playback_key_pairs",
	playkey.TypeChannel:                   "channels",
	playkey.TypeStreamKey:                 "stream_keys",
	playkey.TypePlaybackRestrictionPolicy: "playback_restriction_policies",
}

// Tags returns the tags of the resource arn names (never nil), or ResourceNotFound.
func (s *Store) Tags(ctx context.Context, arn playkey.ARN) (map[string]string, error) {
	table, ok := resourceTables[arn.Type]
	if !ok {
		return nil, playkey.NotFound(arn)
	}
	tags, err := readTags(ctx, s.read, table, arn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, playkey.NotFound(arn)
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
	return s.updateTags(ctx, arn, func(cur map[string]string) error { return playkey.MergeTags(cur, tags) })
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
	table, ok := resourceTables[arn.Type]
	if !ok {
		return playkey.NotFound(arn)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(ctx, "update tags: begin", err)
	}
	defer rollback(tx)
	tags, err := readTags(ctx, tx, table, arn)
	if errors.Is(err, sql.ErrNoRows) {
		return playkey.NotFound(arn)
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
		`UPDATE `+table+` SET tags = ? WHERE account = ? AND region = ? AND id = ?`,
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

func readTags(ctx context.Context, q querier, table string, arn playkey.ARN) (map[string]string, error) {
	var enc string
	err := q.QueryRowContext(ctx,
		`SELECT tags FROM `+table+` WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID).Scan(&enc)
	if err != nil {
		return nil, err
	}
	return decodeTags(enc)
}
