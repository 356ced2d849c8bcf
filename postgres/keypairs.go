package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// CreateKeyPair stores kp, or returns Conflict when its scope already holds a key pair with
// the same fingerprint or ARN, and ServiceQuotaExceeded when the scope holds
// playkey.MaxKeyPairs key pairs. The checks and the insert run in one transaction that holds
// the scope's advisory lock, so creates on every node sharing the database queue per scope
// and never overshoot the quota. Deletes need not take the lock: they only make room.
func (s *Store) CreateKeyPair(ctx context.Context, kp *playkey.KeyPair) error {
	if kp.ARN.Type != playkey.TypePlaybackKey {
		return fmt.Errorf("postgres: create key pair: %s is not a playback key ARN", kp.ARN)
	}
	a := kp.ARN
	return s.inTx(ctx, "create key pair", func(ctx context.Context, tx pgx.Tx) error {
		if err := lock(ctx, tx, s.lockKey(playkey.TypePlaybackKey, a.Scope())); err != nil {
			return err
		}
		var (
			dup *string
			n   int
		)
		if err := tx.QueryRow(ctx,
			`SELECT (SELECT id FROM playback_key_pairs WHERE account = $1 AND region = $2 AND fingerprint = $3),
			        (SELECT count(*) FROM playback_key_pairs WHERE account = $1 AND region = $2)`,
			a.Account, a.Region, kp.Fingerprint).Scan(&dup, &n); err != nil {
			return err
		}
		// The duplicate is checked first: "you already have this key" helps more than "full".
		if dup != nil {
			return playkey.FingerprintConflict(kp.Fingerprint, playkey.ARN{Region: a.Region, Account: a.Account, Type: playkey.TypePlaybackKey, ID: *dup})
		}
		if n >= playkey.MaxKeyPairs {
			return playkey.KeyPairQuotaExceeded(n, a.Region)
		}
		return insertKeyPair(ctx, tx, kp)
	})
}

// insertKeyPair inserts kp, turning unique violations into Conflict. While every writer
// checks first under the scope lock, only a duplicate ARN reaches them.
func insertKeyPair(ctx context.Context, tx querier, kp *playkey.KeyPair) error {
	a := kp.ARN
	der := kp.PublicKeyDER
	if der == nil {
		der = []byte{} // pgx sends a nil slice as NULL
	}
	_, err := tx.Exec(ctx,
		`INSERT INTO playback_key_pairs (account, region, id, name, fingerprint, public_key_der, tags, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.Account, a.Region, a.ID, kp.Name, kp.Fingerprint, der, tagsParam(kp.Tags), millis(kp.CreatedAt))
	switch uniqueViolation(err) {
	case "":
		return err
	case ukFingerprint:
		return playkey.FingerprintConflict(kp.Fingerprint, playkey.ARN{})
	default:
		return playkey.AlreadyExists(a)
	}
}

// millis truncates t to the millisecond, as the embedded store keeps it (the column would
// round instead).
func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

const keyPairColumns = `account, region, id, name, fingerprint, public_key_der, tags, created_at`

// KeyPair returns the key pair with the given ARN, or ResourceNotFound.
func (s *Store) KeyPair(ctx context.Context, arn playkey.ARN) (*playkey.KeyPair, error) {
	var kp *playkey.KeyPair
	err := s.do(ctx, "get key pair", func(ctx context.Context) error {
		if arn.Type != playkey.TypePlaybackKey {
			return playkey.NotFound(arn)
		}
		var err error
		kp, err = queryOne(ctx, s.pool, arn, scanKeyPair,
			`SELECT `+keyPairColumns+` FROM playback_key_pairs WHERE account = $1 AND region = $2 AND id = $3`,
			arn.Account, arn.Region, arn.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return kp, nil
}

// KeyPairs lists a scope's key pairs in bytewise id order. A Limit of zero or less means no
// limit.
func (s *Store) KeyPairs(ctx context.Context, scope playkey.Scope, page playkey.Page) ([]*playkey.KeyPair, error) {
	var kps []*playkey.KeyPair
	err := s.do(ctx, "list key pairs", func(ctx context.Context) error {
		var err error
		kps, err = queryAll(ctx, s.pool, scanKeyPair,
			`SELECT `+keyPairColumns+` FROM playback_key_pairs
			 WHERE account = $1 AND region = $2 AND id > $3
			 ORDER BY id LIMIT $4`,
			scope.Account, scope.Region, page.After, sqlLimit(page))
		return err
	})
	if err != nil {
		return nil, err
	}
	return kps, nil
}

// DeleteKeyPair deletes the key pair with the given ARN, or returns ResourceNotFound.
func (s *Store) DeleteKeyPair(ctx context.Context, arn playkey.ARN) error {
	return s.do(ctx, "delete key pair", func(ctx context.Context) error {
		return deleteResource(ctx, s.pool, arn, playkey.TypePlaybackKey)
	})
}

func scanKeyPair(row pgx.Row) (*playkey.KeyPair, error) {
	var kp playkey.KeyPair
	kp.ARN.Type = playkey.TypePlaybackKey
	if err := row.Scan(&kp.ARN.Account, &kp.ARN.Region, &kp.ARN.ID, &kp.Name, &kp.Fingerprint,
		&kp.PublicKeyDER, &kp.Tags, &kp.CreatedAt); err != nil {
		return nil, err
	}
	kp.Tags = playkey.CloneTags(kp.Tags)
	if kp.PublicKeyDER == nil {
		kp.PublicKeyDER = []byte{}
	}
	kp.CreatedAt = kp.CreatedAt.UTC()
	return &kp, nil
}
