// Package migration loads a store's embedded schema migrations: SQL files named
// NNNN_description.sql, numbered 1, 2, 3... Each store applies them its own way (its own
// locking and bookkeeping); what a migration file is, and the rule that versions run
// without gaps, is shared.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// A Migration is one embedded SQL file.
type Migration struct {
	Version int    // from the name's numeric prefix
	Name    string // the file name, e.g. 0002_channels.sql
	SQL     string
}

// Load returns the migrations in dir of fsys in order. Versions must run 1, 2, 3... so that a
// missing or duplicated file fails every Open (and the tests) rather than one database.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries { // ReadDir sorts by name
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: expected a name starting %04d_", e.Name(), len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	return ms, nil
}
