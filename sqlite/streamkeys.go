package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/playkey/playkey"
)

const streamKeyColumns = `account, region, id, channel_id, value, tags, created_at`

// CreateStreamKey stores key, in one write transaction that checks that its channel exists
// (ResourceNotFound) and has fewer than playkey.MaxStreamKeysPerChannel stream keys
// (ServiceQuotaExceeded).
func (s *Store) CreateStreamKey(ctx context.Context, key *playkey.StreamKey) error {
	return s.inTx(ctx, "create stream key", func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "create stream key: check channel", key.ARN.Scope(), key.Channel, playkey.TypeChannel); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM stream_keys WHERE account = ? AND region = ? AND channel_id = ?`,
			key.ARN.Account, key.ARN.Region, key.Channel.ID).Scan(&n); err != nil {
			return internal(ctx, "create stream key: count", err)
		}
		if n >= playkey.MaxStreamKeysPerChannel {
			return playkey.StreamKeyQuotaExceeded(key.Channel)
		}
		return insertStreamKey(ctx, tx, key)
	})
}

// insertStreamKey inserts key inside a write transaction whose caller has checked the channel.
func insertStreamKey(ctx context.Context, tx *sql.Tx, key *playkey.StreamKey) error {
	a := key.ARN
	if a.Type != playkey.TypeStreamKey || key.Channel.Type != playkey.TypeChannel || key.Channel.Scope() != a.Scope() {
		return fmt.Errorf("sqlite: create stream key: %s for %s: wrong types or scopes", a, key.Channel)
	}
	tags, err := encodeTags(key.Tags)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO stream_keys (`+streamKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.Account, a.Region, a.ID, key.Channel.ID, key.Value, tags, key.CreatedAt.UnixMilli())
	switch constraintViolation(err) {
	case violatesPrimaryKey:
		return playkey.AlreadyExists(a)
	case violatesUnique:
		// Values are 30 random characters: only a caller reusing one gets here.
		return playkey.StreamKeyValueInUse(a)
	case violatesForeignKey:
		return playkey.NotFound(key.Channel)
	}
	if err != nil {
		return internal(ctx, "create stream key: insert", err)
	}
	return nil
}

// StreamKey returns the stream key with the given ARN, or ResourceNotFound.
func (s *Store) StreamKey(ctx context.Context, arn playkey.ARN) (*playkey.StreamKey, error) {
	if arn.Type != playkey.TypeStreamKey {
		return nil, playkey.NotFound(arn)
	}
	return queryOne(ctx, s.read, "get stream key", arn, scanStreamKey,
		`SELECT `+streamKeyColumns+` FROM stream_keys WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID)
}

// StreamKeys lists a channel's stream keys in bytewise id order, or returns
// ResourceNotFound when the channel does not exist.
func (s *Store) StreamKeys(ctx context.Context, channel playkey.ARN, page playkey.Page) ([]*playkey.StreamKey, error) {
	if channel.Type != playkey.TypeChannel {
		return nil, playkey.NotFound(channel)
	}
	keys, err := queryAll(ctx, s.read, "list stream keys", scanStreamKey,
		`SELECT `+streamKeyColumns+` FROM stream_keys
		 WHERE account = ? AND region = ? AND channel_id = ? AND id > ?
		 ORDER BY id LIMIT ?`,
		channel.Account, channel.Region, channel.ID, page.After, sqlLimit(page))
	if err != nil || len(keys) > 0 {
		return keys, err // a stream key implies its channel (foreign key)
	}
	if err := exists(ctx, s.read, "list stream keys: check channel", channel.Scope(), channel, playkey.TypeChannel); err != nil {
		return nil, err
	}
	return keys, nil
}

// DeleteStreamKey deletes the stream key with the given ARN, or returns ResourceNotFound.
func (s *Store) DeleteStreamKey(ctx context.Context, arn playkey.ARN) error {
	return deleteResource(ctx, s.write, "delete stream key", arn, playkey.TypeStreamKey)
}

func scanStreamKey(row scanner) (*playkey.StreamKey, error) {
	var (
		k         playkey.StreamKey
		tags      string
		createdAt int64
	)
	k.ARN.Type = playkey.TypeStreamKey
	k.Channel.Type = playkey.TypeChannel
	if err := row.Scan(&k.ARN.Account, &k.ARN.Region, &k.ARN.ID, &k.Channel.ID, &k.Value, &tags, &createdAt); err != nil {
		return nil, err
	}
	k.Channel.Account, k.Channel.Region = k.ARN.Account, k.ARN.Region
	var err error
	if k.Tags, err = decodeTags(tags); err != nil {
		return nil, err
	}
	k.CreatedAt = time.UnixMilli(createdAt).UTC()
	return &k, nil
}
