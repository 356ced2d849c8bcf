package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
)

// Secret returns the 32-byte secret called name, creating a random one on first use. Every
// Store on this database file gets the same value: concurrent first calls race on an
// INSERT OR IGNORE, and all of them read back the one that won.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	v, err := readSecret(ctx, s.read, name)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, internal(ctx, "read secret", err)
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	if _, err := s.write.ExecContext(ctx,
		`INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)`, name, fresh); err != nil {
		return nil, internal(ctx, "create secret", err)
	}
	// Read through the writer: it has just committed, so it sees its own write or the one
	// that beat it.
	v, err = readSecret(ctx, s.write, name)
	if err != nil {
		return nil, internal(ctx, "read secret", err)
	}
	return v, nil
}

func readSecret(ctx context.Context, db *sql.DB, name string) ([]byte, error) {
	var v []byte
	if err := db.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v); err != nil {
		return nil, err
	}
	if len(v) != 32 {
		return nil, fmt.Errorf("secret %q is %d bytes long, not 32", name, len(v))
	}
	return v, nil
}
