package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// privateFiles are the files of the data directory that hold secrets: the database (with
// the session secret and stream keys) and the generated credentials.
var privateFiles = []string{"playkey.db", "playkey.db-wal", "playkey.db-shm", "playkey.db-journal", "credentials"}

// securePrivateDir makes the data directory readable by its owner only (0700) and its
// private files 0600, whoever made them and however: a directory made by mkdir, a package
// or a volume mount is usually 0755, and SQLite creates its files 0644. It logs each
// change it makes, and fails when it cannot make one, so that playkey never runs with a
// secret other local users can read.
func securePrivateDir(logger *slog.Logger, dir string) error {
	tighten := func(path string, want fs.FileMode) error {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; playkey keeps its secrets only in regular files of a private directory", path)
		}
		if fi.Mode().Perm()&0o077 == 0 {
			return nil
		}
		if err := os.Chmod(path, want); err != nil {
			return fmt.Errorf("%s is readable by other users (mode %v) and cannot be made private: %w", path, fi.Mode().Perm(), err)
		}
		logger.Warn("data directory: made private what other users could read", "path", path, "was", fi.Mode().Perm().String(), "now", want.String())
		return nil
	}
	if err := tighten(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	for _, name := range privateFiles {
		if err := tighten(filepath.Join(dir, name), 0o600); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	}
	return nil
}
