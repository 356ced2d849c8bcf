package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/playkey/playkey/postgres"
	"github.com/playkey/playkey/sqlite"
)

var migrateCommand = &command{
	name:    "migrate",
	summary: "copy a data directory's embedded store into PostgreSQL",
	run:     runMigrate,
}

// runMigrate copies everything in DIR/playkey.db into the PostgreSQL store at URL and reads
// it back to check that nothing was lost. The target must be empty; running migrate again
// after it succeeded changes nothing and says so; a target holding anything else is
// refused and left as it was (see postgres.(*Store).Import).
func runMigrate(ctx context.Context, std *stdio, args []string) error {
	fs := newFlagSet(std, "migrate", "")
	from := fs.String("from", "", "data `DIR` whose embedded database (DIR/playkey.db) is copied; stop every playkey using it first")
	to := fs.String("to", "", "PostgreSQL store `URL`, postgres://... as for serve --store; its schema must be empty")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *from == "" || *to == "" {
		fs.Usage()
		return usageErrorf("migrate needs --from DIR and --to URL, and no arguments")
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return usageErrorf("--to must be a postgres:// or postgresql:// URL")
	}
	path := filepath.Join(*from, "playkey.db")
	// sqlite.Open would create a missing database: an empty copy must not look like success.
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--from %s: no embedded database there (%s)", *from, path)
		}
		return fmt.Errorf("--from: %w", err)
	}

	// Opening brings the source's schema up to date, as serve would.
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer src.Close()
	snap, err := src.Export(ctx)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}

	dst, err := postgres.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	copied, err := dst.Import(ctx, snap)
	if err != nil {
		return err
	}
	got, err := dst.Export(ctx)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if d := snap.Diff(got, 10); len(d) > 0 {
		return fmt.Errorf("read back: the copy differs from %s (first: the source, second: PostgreSQL):\n%s", path, strings.Join(d, "\n"))
	}

	if copied {
		fmt.Fprintf(std.out, "Copied %s into PostgreSQL schema %q:\n", path, dst.Schema())
	} else {
		fmt.Fprintf(std.out, "PostgreSQL schema %q already holds exactly what %s holds; nothing copied:\n", dst.Schema(), path)
	}
	for _, c := range snap.Count() {
		fmt.Fprintf(std.out, "  %6d %s\n", c.N, c.Kind)
	}
	fmt.Fprintln(std.out, "Read back and compared: everything is there, unchanged.")
	return nil
}
