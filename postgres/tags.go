package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// resourceTables maps each ARN type to the table its resources live in (a constant: it is
// spliced into SQL). Every resource table has the columns account, region, id (its primary
// key) and tags (a jsonb object). Adding a taggable resource is one line here.
var resourceTables = map[string]string{
	playkey.TypePlaybackKey:               "playback_key_pairs",
	playkey.TypeChannel:                   "channels",
	playkey.TypeStreamKey:                 "stream_keys",
	playkey.TypePlaybackRestrictionPolicy: "playback_restriction_policies",
}

// Tags returns the tags of the resource arn names (never nil), or ResourceNotFound.
func (s *Store) Tags(ctx context.Context, arn playkey.ARN) (map[string]string, error) {
	var tags map[string]string
	err := s.do(ctx, "read tags", func(ctx context.Context) error {
		table, ok := resourceTables[arn.Type]
		if !ok {
			return playkey.NotFound(arn)
		}
		var err error
		tags, err = readTags(ctx, s.pool, table, arn, "")
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
	return s.updateTags(ctx, "tag resource", arn, func(cur map[string]string) error { return playkey.MergeTags(cur, tags) })
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
		table, ok := resourceTables[arn.Type]
		if !ok {
			return playkey.NotFound(arn)
		}
		tags, err := readTags(ctx, tx, table, arn, " FOR NO KEY UPDATE")
		if err != nil {
			return err
		}
		if err := change(tags); err != nil {
			return err
		}
		_, err = tx.Exec(ctx,
			`UPDATE `+table+` SET tags = $4 WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID, tags)
		return err
	})
}

func readTags(ctx context.Context, q queryRower, table string, arn playkey.ARN, suffix string) (map[string]string, error) {
	var tags map[string]string
	err := q.QueryRow(ctx,
		`SELECT tags FROM `+table+` WHERE account = $1 AND region = $2 AND id = $3`+suffix,
		arn.Account, arn.Region, arn.ID).Scan(&tags)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, playkey.NotFound(arn)
	}
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tags, nil
}
