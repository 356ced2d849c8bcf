package sigv4

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadCredentials(t *testing.T) {
	t.Parallel()
	path := writeFile(t, `# playkey credentials
; another comment style

[default]
aws_access_key_id = AKIAPLAYKEYTEST00001
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
aws_account_id = 123456789012
region = us-west-2

[ci]
AWS_ACCESS_KEY_ID=test
AWS_Secret_Access_Key=sec#ret;with=chars "and quotes"
aws_account_id=000000000000
`)
	creds, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Credentials{
		"AKIAPLAYKEYTEST00001": {AccessKeyID: "AKIAPLAYKEYTEST00001", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", Account: "123456789012", Profile: "default"},
		"test":                 {AccessKeyID: "test", SecretAccessKey: `sec#ret;with=chars "and quotes"`, Account: "000000000000", Profile: "ci"},
	}
	if len(creds) != len(want) {
		t.Fatalf("got %d credentials, want %d", len(creds), len(want))
	}
	for k, w := range want {
		if got, ok := creds.Lookup(k); !ok || got != w {
			t.Errorf("Lookup(%q) = %#v, %v; want %#v", k, got, ok, w)
		}
	}
	if _, ok := creds.Lookup("AKIAUNKNOWN"); ok {
		t.Error("Lookup of an unknown key succeeded")
	}
}

// A file LoadCredentials accepts authenticates requests signed with its keys.
func TestLoadCredentialsVerify(t *testing.T) {
	t.Parallel()
	path := writeFile(t, fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = 111122223333\n",
		testCred.AccessKeyID, testCred.SecretAccessKey))
	creds, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Lookup: creds.Lookup, Now: func() time.Time { return testNow }}
	req := newRequest(t, "GET", tagsPath, nil)
	sdkSign(t, req, nil, testCred, "us-west-2", "ivs", testNow)
	if id := mustVerify(t, v, toServer(t, req), []byte{}); id.Account != "111122223333" {
		t.Fatalf("account = %q", id.Account)
	}
}

func TestLoadCredentialsErrors(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	good := "aws_access_key_id = AKIA1\naws_secret_access_key = " + secret + "\naws_account_id = 123456789012\n"
	tests := []struct {
		name, content, want string
	}{
		{"empty file", "", "has no profile"},
		{"only comments", "# nothing\n", "has no profile"},
		{"missing account", "[p]\naws_access_key_id = AKIA1\naws_secret_access_key = " + secret + "\n", `profile "p" has no aws_account_id`},
		{"missing secret", "[p]\naws_access_key_id = AKIA1\naws_account_id = 123456789012\n", `profile "p" has no aws_secret_access_key`},
		{"missing key id", "[p]\naws_secret_access_key = " + secret + "\naws_account_id = 123456789012\n", `profile "p" has no aws_access_key_id`},
		{"profile without keys", "[p]\n" + good + "[q]\nregion = us-west-2\n", `profile "q" has no aws_access_key_id`},
		{"short account", "[p]\naws_access_key_id = AKIA1\naws_secret_access_key = " + secret + "\naws_account_id = 12345678901\n", "12 digits"},
		{"letters in account", "[p]\naws_access_key_id = AKIA1\naws_secret_access_key = " + secret + "\naws_account_id = 12345678901a\n", "12 digits"},
		{"account with dashes", "[p]\naws_access_key_id = AKIA1\naws_secret_access_key = " + secret + "\naws_account_id = 1234-5678-9012\n", "12 digits"},
		{"empty secret", "[p]\naws_access_key_id = AKIA1\naws_secret_access_key =\naws_account_id = 123456789012\n", "aws_secret_access_key is empty"},
		{"bad key id", "[p]\naws_access_key_id = AKIA/1\naws_secret_access_key = " + secret + "\naws_account_id = 123456789012\n", "aws_access_key_id must be"},
		{"duplicate key", "[p]\n" + good + "[q]\n" + good, `profiles "p" and "q" have the same access key id AKIA1`},
		{"duplicate profile", "[p]\n" + good + "[p]\n" + strings.Replace(good, "AKIA1", "AKIA2", 1), `profile "p" appears more than once`},
		{"key set twice", "[p]\n" + good + "aws_secret_access_key = other\n", "sets aws_secret_access_key more than once"},
		{"keys outside a profile", good + "[p]\n" + good, "before the first [profile]"},
		{"not INI", "[p]\n" + good + secret + "\n", "not valid INI (line 5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCredentials(writeFile(t, tt.content))
			if err == nil {
				t.Fatal("LoadCredentials succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "other") {
				t.Fatalf("error leaks the secret: %q", err)
			}
		})
	}

	if _, err := LoadCredentials(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestCreateCredentialsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials")
	c, err := CreateCredentialsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(c.AccessKeyID) {
		t.Errorf("access key id %q", c.AccessKeyID)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`).MatchString(c.SecretAccessKey) {
		t.Errorf("secret has the wrong shape")
	}
	if c.Account != "000000000000" || c.Profile != "default" {
		t.Errorf("credential = %v", c)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}

	// It reads back.
	creds, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := creds.Lookup(c.AccessKeyID); !ok || got != c || len(creds) != 1 {
		t.Fatalf("read back %v", creds)
	}

	// It never overwrites.
	before, _ := os.ReadFile(path)
	if _, err := CreateCredentialsFile(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second create: %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("second create changed the file")
	}

	// Keys differ each time.
	c2, err := CreateCredentialsFile(filepath.Join(t.TempDir(), "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	if c2.AccessKeyID == c.AccessKeyID || c2.SecretAccessKey == c.SecretAccessKey {
		t.Fatal("two files got the same key")
	}

	// No directory, no file.
	if _, err := CreateCredentialsFile(filepath.Join(t.TempDir(), "no", "credentials")); err == nil {
		t.Fatal("create in a missing directory succeeded")
	}
}

// Printing a credential must not print its secret.
func TestCredentialFormatting(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, testCred); strings.Contains(s, testCred.SecretAccessKey) {
			t.Errorf("%s prints the secret: %s", format, s)
		}
	}
}
