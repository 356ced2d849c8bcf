package sigv4

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentialsFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[a]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_secret_access_key = secretA\naws_account_id = 111111111111\n")
	f, err := OpenCredentialsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := f.Lookup("AKIAAAAAAAAAAAAAAAAA"); !ok || c.Account != "111111111111" || f.Len() != 1 {
		t.Fatalf("Lookup: %v %v", c, ok)
	}

	// A broken file keeps the keys in use; its error does not quote the secret.
	write("[a]\naws_access_key_id = AKIABBBBBBBBBBBBBBBB\naws_secret_access_key = secretB\n")
	if _, err := f.Reload(); err == nil || strings.Contains(err.Error(), "secretB") {
		t.Fatalf("Reload of a file without an account: %v", err)
	}
	if _, ok := f.Lookup("AKIAAAAAAAAAAAAAAAAA"); !ok {
		t.Error("the old key is gone after a failed reload")
	}

	write("[b]\naws_access_key_id = AKIABBBBBBBBBBBBBBBB\naws_secret_access_key = secretB\naws_account_id = 222222222222\n")
	if n, err := f.Reload(); err != nil || n != 1 {
		t.Fatalf("Reload: %d %v", n, err)
	}
	if _, ok := f.Lookup("AKIAAAAAAAAAAAAAAAAA"); ok {
		t.Error("a removed key still works")
	}
	if c, ok := f.Lookup("AKIABBBBBBBBBBBBBBBB"); !ok || c.SecretAccessKey != "secretB" {
		t.Error("the added key does not work")
	}
}
