package keypair_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/playkey/playkey/keypair"
)

func TestWriteKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "priv.pem"), filepath.Join(dir, "public.pem")
	k, err := keypair.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := keypair.WriteKeyFiles(priv, pub, k); err != nil {
		t.Fatal(err)
	}
	got, err := keypair.ParsePrivateKeyPEM(readBytes(t, priv))
	if err != nil || !got.Equal(k) {
		t.Fatalf("private key file: %v", err)
	}
	gotPub, _ := mustParse(t, string(readBytes(t, pub)))
	if !gotPub.Equal(&k.PublicKey) {
		t.Error("public key file holds another key")
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, priv); m != 0o600 {
			t.Errorf("private key mode %v, want 0600", m)
		}
		if m := mode(t, pub); m&^0o644 != 0 || m&0o400 == 0 {
			t.Errorf("public key mode %v, want 0644 less umask", m)
		}
	}
}

func TestWriteKeyFilesPublicOptional(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, _ := keypair.Generate()
	if err := keypair.WriteKeyFiles(filepath.Join(dir, "priv.pem"), "", k); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files written, want 1", len(entries))
	}
}

func TestWriteKeyFilesRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	k, _ := keypair.Generate()
	old := []byte("precious\n")
	for _, tc := range []struct {
		name     string
		existing string // which of priv/pub exists
		symlink  bool
	}{
		{"private exists", "priv", false},
		{"public exists", "pub", false},
		{"private is a dangling symlink", "priv", true},
		{"public is a dangling symlink", "pub", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.symlink && runtime.GOOS == "windows" {
				t.Skip("symlinks")
			}
			dir := t.TempDir()
			paths := map[string]string{"priv": filepath.Join(dir, "priv.pem"), "pub": filepath.Join(dir, "public.pem")}
			other := map[string]string{"priv": "pub", "pub": "priv"}[tc.existing]
			target := filepath.Join(dir, "elsewhere")
			if tc.symlink {
				if err := os.Symlink(target, paths[tc.existing]); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(paths[tc.existing], old, 0o644); err != nil {
				t.Fatal(err)
			}
			err := keypair.WriteKeyFiles(paths["priv"], paths["pub"], k)
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("err = %v, want fs.ErrExist", err)
			}
			if _, err := os.Lstat(paths[other]); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s was written: %v", other, err)
			}
			if tc.symlink {
				if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
					t.Error("wrote through the symlink")
				}
			} else if got := readBytes(t, paths[tc.existing]); string(got) != string(old) {
				t.Error("existing file changed")
			}
		})
	}
}

func TestWriteKeyFilesLeavesNothingOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, _ := keypair.Generate()
	priv := filepath.Join(dir, "priv.pem")
	if err := keypair.WriteKeyFiles(priv, filepath.Join(dir, "missing", "public.pem"), k); err == nil {
		t.Fatal("no error for a public key path in a missing directory")
	}
	if _, err := os.Lstat(priv); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("private key left behind: %v", err)
	}
	if err := keypair.WriteKeyFiles(priv, priv, k); err == nil {
		t.Error("no error for the same path twice")
	}
	if _, err := os.Lstat(priv); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("private key written despite the error: %v", err)
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
