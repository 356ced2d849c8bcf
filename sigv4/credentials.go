package sigv4

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"gopkg.in/ini.v1"
)

// Credential is an access key, its secret, and the account it acts for.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	Account         string // 12 digits
	Profile         string // the INI section it was read from
}

// String omits the secret, so that a Credential printed by mistake leaks nothing.
func (c Credential) String() string {
	return fmt.Sprintf("%s (profile %q, account %s)", c.AccessKeyID, c.Profile, c.Account)
}

// GoString omits the secret too, for %#v.
func (c Credential) GoString() string { return "sigv4.Credential{" + c.String() + "}" }

// Credentials maps access key ids to credentials.
type Credentials map[string]Credential

// Lookup returns the credential of an access key id; it fits Verifier.Lookup.
func (c Credentials) Lookup(accessKeyID string) (Credential, bool) {
	cred, ok := c[accessKeyID]
	return cred, ok
}

// LoadCredentials reads a file in the AWS shared-credentials INI format, one profile
// (section) per access key:
//
//	[default]
//	aws_access_key_id = AKIA...
//	aws_secret_access_key = ...
//	aws_account_id = 123456789012
//
// Key names are case-insensitive and other keys (region, output) are ignored, so the
// file can also serve the AWS CLI. Comments are whole lines starting with '#' or ';'; a
// value runs to the end of its line, as botocore reads it. The file must hold at least
// one profile, and every profile all three keys, once each: an access key id as
// ValidAccessKeyID describes, a non-empty secret and a 12-digit account. A profile name
// or an access key id used twice is an error. Errors name the file, profile and key,
// never a secret or the text of a line.
func LoadCredentials(path string) (Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{
		InsensitiveKeys:         true,
		IgnoreInlineComment:     true,
		IgnoreContinuation:      true,
		PreserveSurroundedQuote: true,
		AllowShadows:            true,
		AllowNonUniqueSections:  true,
	}, data)
	if err != nil {
		// ini's messages quote the offending line, which may hold a secret.
		return nil, fmt.Errorf("credentials file %s is not valid INI%s", path, lineOf(data, err))
	}
	creds := Credentials{}
	profiles := map[string]bool{}
	for _, s := range f.Sections() {
		name := s.Name()
		if name == ini.DefaultSection {
			if len(s.Keys()) > 0 {
				return nil, fmt.Errorf("credentials file %s: keys before the first [profile] line", path)
			}
			continue
		}
		if profiles[name] {
			return nil, fmt.Errorf("credentials file %s: profile %q appears more than once", path, name)
		}
		profiles[name] = true
		c := Credential{Profile: name}
		for _, field := range []struct {
			key string
			dst *string
		}{
			{"aws_access_key_id", &c.AccessKeyID},
			{"aws_secret_access_key", &c.SecretAccessKey},
			{"aws_account_id", &c.Account},
		} {
			k, err := s.GetKey(field.key)
			if err != nil {
				return nil, fmt.Errorf("credentials file %s: profile %q has no %s", path, name, field.key)
			}
			if len(k.ValueWithShadows()) > 1 {
				return nil, fmt.Errorf("credentials file %s: profile %q sets %s more than once", path, name, field.key)
			}
			*field.dst = strings.TrimSpace(k.String())
		}
		switch {
		case !ValidAccessKeyID(c.AccessKeyID):
			return nil, fmt.Errorf("credentials file %s: profile %q: aws_access_key_id must be 1 to 128 letters, digits, '_', '-' or '.'", path, name)
		case c.SecretAccessKey == "":
			return nil, fmt.Errorf("credentials file %s: profile %q: aws_secret_access_key is empty", path, name)
		case len(c.Account) != 12 || !allDigits(c.Account):
			return nil, fmt.Errorf("credentials file %s: profile %q: aws_account_id must be 12 digits", path, name)
		}
		if prev, dup := creds[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("credentials file %s: profiles %q and %q have the same access key id %s",
				path, prev.Profile, name, c.AccessKeyID)
		}
		creds[c.AccessKeyID] = c
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("credentials file %s has no profile", path)
	}
	return creds, nil
}

// lineOf finds the line an ini error is about and returns " (line N)", or "".
func lineOf(data []byte, err error) string {
	var line string
	var delim ini.ErrDelimiterNotFound
	var empty ini.ErrEmptyKeyName
	switch {
	case errors.As(err, &delim):
		line = delim.Line
	case errors.As(err, &empty):
		line = empty.Line
	default:
		return ""
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == strings.TrimSpace(line) {
			return fmt.Sprintf(" (line %d)", i+1)
		}
	}
	return ""
}

// CreateCredentialsFile writes a new credentials file at path, mode 0600, holding one
// profile, "default", with a random access key id (AKIA and 16 upper-case letters and
// digits), a random 40-character secret and account DefaultAccount, and returns that
// credential. It never overwrites: if path exists the error satisfies
// errors.Is(err, fs.ErrExist). The directory must exist.
func CreateCredentialsFile(path string) (Credential, error) {
	var secret [30]byte
	rand.Read(secret[:])
	c := Credential{
		AccessKeyID:     "AKIA" + rand.Text()[:16],
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret[:]),
		Account:         DefaultAccount,
		Profile:         "default",
	}
	content := "# Credentials for playkey, in the AWS shared-credentials format.\n" +
		"# The AWS CLI and SDKs read it with AWS_SHARED_CREDENTIALS_FILE=<this file>.\n" +
		"# Add one [profile] per key; aws_account_id (12 digits) is the account the key acts for.\n" +
		"[" + c.Profile + "]\n" +
		"aws_access_key_id = " + c.AccessKeyID + "\n" +
		"aws_secret_access_key = " + c.SecretAccessKey + "\n" +
		"aws_account_id = " + c.Account + "\n"

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Credential{}, fmt.Errorf("create credentials: %w", err)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return Credential{}, fmt.Errorf("create credentials: %w", err)
	}
	return c, nil
}

// CredentialsFile is a credentials file that can be read again while requests are
// verified: Lookup answers from the version read last, and Reload swaps in a new version
// at once, so that a request sees either the old keys or the new ones, never a mix.
type CredentialsFile struct {
	path string
	cur  atomic.Pointer[Credentials]
}

// OpenCredentialsFile reads path as LoadCredentials does.
func OpenCredentialsFile(path string) (*CredentialsFile, error) {
	f := &CredentialsFile{path: path}
	if _, err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Len is how many keys the version read last holds.
func (f *CredentialsFile) Len() int { return len(*f.cur.Load()) }

// Path is the file's path.
func (f *CredentialsFile) Path() string { return f.path }

// Reload reads the file again and returns how many keys it holds. On error (LoadCredentials')
// the keys read before stay in use.
func (f *CredentialsFile) Reload() (int, error) {
	creds, err := LoadCredentials(f.path)
	if err != nil {
		return 0, err
	}
	f.cur.Store(&creds)
	return len(creds), nil
}

// Lookup returns the credential of an access key id from the version read last; it fits
// Verifier.Lookup.
func (f *CredentialsFile) Lookup(accessKeyID string) (Credential, bool) {
	return f.cur.Load().Lookup(accessKeyID)
}
