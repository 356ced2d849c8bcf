package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Secret returns the 32-byte secret called name, creating a random one on first use. Every
// node on this database gets the same value: concurrent first calls race on one INSERT, and
// each of them gets back the row that won.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.do(ctx, "secret", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			fresh := make([]byte, 32)
			rand.Read(fresh)
			// DO UPDATE (a no-op) rather than DO NOTHING, so that RETURNING yields the
			// winner's value when another node inserted first.
			err = s.pool.QueryRow(ctx,
				`INSERT INTO secrets (name, value) VALUES ($1, $2)
				 ON CONFLICT (name) DO UPDATE SET value = secrets.value
				 RETURNING value`, name, fresh).Scan(&v)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(v) != 32 {
		return nil, fmt.Errorf("postgres: secret %q is %d bytes long, not 32", name, len(v))
	}
	return v, nil
}
