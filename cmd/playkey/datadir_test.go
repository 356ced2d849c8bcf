package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDataDirectoryIsPrivate opens the embedded store in a directory made the usual way
// (mkdir under umask 022) and in one whose files were left readable by others, and wants
// every secret-holding file 0600 and the directory 0700 either way.
func TestDataDirectoryIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	check := func(dir string) {
		t.Helper()
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("data directory %s: mode %v, %v; want 0700", dir, fi.Mode().Perm(), err)
		}
		n := 0
		for _, name := range privateFiles {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			n++
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
			}
		}
		if n < 3 {
			t.Errorf("only %d of the database's files exist; want the database, -wal and -shm", n)
		}
	}
	open := func(dir string) string {
		t.Helper()
		var logs bytes.Buffer
		sf := storeFlags{dataDir: dir}
		s, err := sf.open(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Secret(context.Background(), "gate-session"); err != nil {
			t.Fatal(err)
		}
		check(dir)
		s.Close()
		return logs.String()
	}

	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	open(dir)

	// Files left readable by an older playkey, a copy or a restore are made private, and
	// the log says so.
	if err := os.Chmod(filepath.Join(dir, "playkey.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	logs := open(dir)
	if !strings.Contains(logs, "made private") || !strings.Contains(logs, "playkey.db") {
		t.Errorf("the log does not say what was made private:\n%s", logs)
	}
}
