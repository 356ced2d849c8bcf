package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/playkey/playkey"
)

// CreateKeyPair stores kp, or returns ServiceQuotaExceeded when its scope already holds
// playkey.MaxKeyPairs key pairs and Conflict when the scope holds one with the same
// fingerprint or ARN. The count, the check and the insert run in one write transaction, so
// concurrent creates, from this process or another, cannot overshoot the quota. The call
// returns once the key pair is on disk.
func (s *Store) CreateKeyPair(ctx context.Context, kp *playkey.KeyPair) error {
	if kp.ARN.Type != playkey.TypePlaybackKey {
		return fmt.Errorf("sqlite: create key pair: %s is not a playback key ARN", kp.ARN)
	}
	tags, err := encodeTags(kp.Tags)
	if err != nil {
		return err
	}
	der := kp.PublicKeyDER
	if der == nil {
		der = []byte{} // the driver binds a nil slice as NULL
	}
	a := kp.ARN
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(ctx, "create key pair: begin", err)
	}
	defer rollback(tx)

	// The duplicate is checked first: "you already have this key" helps more than "full".
	var other string
	err = tx.QueryRowContext(ctx,
		`SELECT id FROM playback_key_pairs WHERE account = ? AND region = ? AND fingerprint = ?`,
		a.Account, a.Region, kp.Fingerprint).Scan(&other)
	switch {
	case err == nil:
		dup := playkey.ARN{Region: a.Region, Account: a.Account, Type: playkey.TypePlaybackKey, ID: other}
		return playkey.FingerprintConflict(kp.Fingerprint, dup)
	case !errors.Is(err, sql.ErrNoRows):
		return internal(ctx, "create key pair: check fingerprint", err)
	}

	var n int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM playback_key_pairs WHERE account = ? AND region = ?`,
		a.Account, a.Region).Scan(&n); err != nil {
		return internal(ctx, "create key pair: count", err)
	}
	if n >= playkey.MaxKeyPairs {
		return playkey.KeyPairQuotaExceeded(n, a.Region)
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO playback_key_pairs (account, region, id, name, fingerprint, public_key_der, tags, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Account, a.Region, a.ID, kp.Name, kp.Fingerprint, der, tags, kp.CreatedAt.UnixMilli())
	// The checks above make these unreachable while every writer runs this code; they
	// remain the last word if one does not.
	switch constraintViolation(err) {
	case violatesPrimaryKey:
		return playkey.AlreadyExists(a)
	case violatesUnique:
		return playkey.FingerprintConflict(kp.Fingerprint, playkey.ARN{})
	}
	if err != nil {
		return internal(ctx, "create key pair: insert", err)
	}
	if err := tx.Commit(); err != nil {
		return internal(ctx, "create key pair: commit", err)
	}
	return nil
}

const keyPairColumns = `account, region, id, name, fingerprint, public_key_der, tags, created_at`

// KeyPair returns the key pair with the given ARN, or ResourceNotFound.
func (s *Store) KeyPair(ctx context.Context, arn playkey.ARN) (*playkey.KeyPair, error) {
	if arn.Type != playkey.TypePlaybackKey {
		return nil, playkey.NotFound(arn)
	}
	return queryOne(ctx, s.read, "get key pair", arn, scanKeyPair,
		`SELECT `+keyPairColumns+` FROM playback_key_pairs WHERE account = ? AND region = ? AND id = ?`,
		arn.Account, arn.Region, arn.ID)
}

// KeyPairs lists a scope's key pairs in bytewise id order. A Limit of zero or less means no
// limit.
func (s *Store) KeyPairs(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.KeyPair, error) {
	return queryAll(ctx, s.read, "list key pairs", scanKeyPair,
		`SELECT `+keyPairColumns+` FROM playback_key_pairs
		 WHERE account = ? AND region = ? AND id > ?
		 ORDER BY id LIMIT ?`,
		scope.Account, scope.Region, page.After, sqlLimit(page))
}

// DeleteKeyPair deletes the key pair with the given ARN, or returns ResourceNotFound.
func (s *Store) DeleteKeyPair(ctx context.Context, arn playkey.ARN) error {
	return deleteResource(ctx, s.write, "delete key pair", arn, playkey.TypePlaybackKey)
}

func scanKeyPair(row scanner) (*playkey.KeyPair, error) {
	var (
		kp        playkey.KeyPair
		tags      string
		createdAt int64
	)
	kp.ARN.Type = playkey.TypePlaybackKey
	if err := row.Scan(&kp.ARN.Account, &kp.ARN.Region, &kp.ARN.ID, &kp.Name, &kp.Fingerprint,
		&kp.PublicKeyDER, &tags, &createdAt); err != nil {
		return nil, err
	}
	var err error
	if kp.Tags, err = decodeTags(tags); err != nil {
		return nil, err
	}
	kp.CreatedAt = time.UnixMilli(createdAt).UTC()
	return &kp, nil
}

func encodeTags(tags map[string]string) (string, error) {
	return encodeJSON("tags", tags, len(tags), "{}")
}

func decodeTags(s string) (map[string]string, error) {
	tags := map[string]string{}
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	return tags, nil
}
