package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

const streamKeyColumns = `account, region, id, channel_id, value, tags, created_at`

// CreateStreamKey stores key, in one transaction that checks that its channel exists
// (ResourceNotFound) and has fewer than playkey.MaxStreamKeysPerChannel stream keys
// (ServiceQuotaExceeded). The channel's row lock makes creates for one channel queue, on
// every node.
func (s *Store) CreateStreamKey(ctx context.Context, key *playkey.StreamKey) error {
	return s.inTx(ctx, "create stream key", func(ctx context.Context, tx pgx.Tx) error {
		c := key.Channel
		if c.Type != playkey.TypeChannel || c.Scope() != key.ARN.Scope() {
			return playkey.NotFound(c)
		}
		// Lock the channel, then count in a statement of its own: under READ COMMITTED it
		// sees every stream key committed by whoever held the lock before.
		if err := lockRow(ctx, tx, c, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx,
			`SELECT count(*) FROM stream_keys WHERE account = $1 AND region = $2 AND channel_id = $3`,
			c.Account, c.Region, c.ID).Scan(&n); err != nil {
			return err
		}
		if n >= playkey.MaxStreamKeysPerChannel {
			return playkey.StreamKeyQuotaExceeded(c)
		}
		return insertStreamKey(ctx, tx, key)
	})
}

// insertStreamKey inserts key inside a transaction whose caller has checked the channel.
func insertStreamKey(ctx context.Context, tx querier, key *playkey.StreamKey) error {
	a := key.ARN
	if a.Type != playkey.TypeStreamKey || key.Channel.Type != playkey.TypeChannel || key.Channel.Scope() != a.Scope() {
		return fmt.Errorf("create stream key: %s for %s: wrong types or scopes", a, key.Channel)
	}
	_, err := tx.Exec(ctx,
		`INSERT INTO stream_keys (`+streamKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.Account, a.Region, a.ID, key.Channel.ID, key.Value, tagsParam(key.Tags), millis(key.CreatedAt))
	switch uniqueViolation(err) {
	case ukStreamKeyValue:
		// Values are 30 random characters: only a caller reusing one gets here.
		return playkey.StreamKeyValueInUse(a)
	case "":
		if foreignKeyViolation(err) == fkStreamKeyChannel {
			return playkey.NotFound(key.Channel)
		}
		return err
	default:
		return playkey.AlreadyExists(a)
	}
}

// StreamKey returns the stream key with the given ARN, or ResourceNotFound.
func (s *Store) StreamKey(ctx context.Context, arn playkey.ARN) (*playkey.StreamKey, error) {
	var k *playkey.StreamKey
	err := s.do(ctx, "get stream key", func(ctx context.Context) error {
		if arn.Type != playkey.TypeStreamKey {
			return playkey.NotFound(arn)
		}
		var err error
		k, err = queryOne(ctx, s.pool, arn, scanStreamKey,
			`SELECT `+streamKeyColumns+` FROM stream_keys WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// StreamKeys lists a channel's stream keys in bytewise id order, or returns
// ResourceNotFound when the channel does not exist.
func (s *Store) StreamKeys(ctx context.Context, channel playkey.ARN, page playkey.Page) ([]*playkey.StreamKey, error) {
	var keys []*playkey.StreamKey
	err := s.do(ctx, "list stream keys", func(ctx context.Context) error {
		if channel.Type != playkey.TypeChannel {
			return playkey.NotFound(channel)
		}
		var err error
		keys, err = queryAll(ctx, s.pool, scanStreamKey,
			`SELECT `+streamKeyColumns+` FROM stream_keys
			 WHERE account = $1 AND region = $2 AND channel_id = $3 AND id > $4
			 ORDER BY id LIMIT $5`,
			channel.Account, channel.Region, channel.ID, page.After, sqlLimit(page))
		if err != nil || len(keys) > 0 {
			return err // a stream key implies its channel (foreign key)
		}
		return exists(ctx, s.pool, channel.Scope(), channel, playkey.TypeChannel, "")
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// DeleteStreamKey deletes the stream key with the given ARN, or returns ResourceNotFound.
func (s *Store) DeleteStreamKey(ctx context.Context, arn playkey.ARN) error {
	return s.do(ctx, "delete stream key", func(ctx context.Context) error {
		return deleteResource(ctx, s.pool, arn, playkey.TypeStreamKey)
	})
}

func scanStreamKey(row pgx.Row) (*playkey.StreamKey, error) {
	var k playkey.StreamKey
	k.ARN.Type = playkey.TypeStreamKey
	k.Channel.Type = playkey.TypeChannel
	if err := row.Scan(&k.ARN.Account, &k.ARN.Region, &k.ARN.ID, &k.Channel.ID, &k.Value, &k.Tags, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.Channel.Account, k.Channel.Region = k.ARN.Account, k.ARN.Region
	k.Tags = playkey.CloneTags(k.Tags)
	k.CreatedAt = k.CreatedAt.UTC()
	return &k, nil
}
