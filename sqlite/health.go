package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/playkey/playkey"
)

// Storage failures are reported as what they are: a full disk is ServiceUnavailable (503,
// which SDKs retry) and passes when space returns; a damaged file is refused at Open and,
// met later, makes Ping fail for good, so that /healthz takes the node out of service.

// corruptions counts the damaged-database errors this process has met. Errors carry no
// handle to their Store, so each Store compares the count with what it was at Open: a
// process runs one store, and a store opened after the damage is checked by Open itself.
var corruptions atomic.Int64

// storageError classifies err: a full disk becomes ServiceUnavailable, and damage is
// counted and reported as such. Other errors are returned as they are.
func storageError(op string, err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return nil
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return playkey.Errorf(playkey.ErrServiceUnavailable, "the store cannot %s: the database's disk is full; try again once space is freed", op)
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		corruptions.Add(1)
		return fmt.Errorf("sqlite: %s: the database file is damaged; restore it from a backup: %w", op, err)
	}
	return nil
}

// quickCheck runs PRAGMA quick_check, which reads every page and index entry of the file
// without comparing indexes with their tables, and fails unless it answers ok.
func quickCheck(ctx context.Context, q dbtx) error {
	rows, err := q.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return fmt.Errorf("the database file is damaged or not a database (PRAGMA quick_check: %w); restore it from a backup", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" && len(problems) < 5 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("the database file is damaged (PRAGMA quick_check: %w); restore it from a backup", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the database file is damaged (PRAGMA quick_check: %s); restore it from a backup", strings.Join(problems, "; "))
	}
	return nil
}
