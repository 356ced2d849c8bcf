package keypair_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/keypair"
)

var fingerprintPattern = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){15}$`)

// FuzzParsePublicKeyPEM checks that the parser never panics, that every rejection is a
// ValidationException that repeats no key material, and that whatever it accepts is a
// P-384 key in the one canonical DER: the DER re-parses to the same key, and
// MarshalPublicKeyPEM then ParsePublicKeyPEM gives the same DER back.
func FuzzParsePublicKeyPEM(f *testing.F) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		if fi, err := os.Stat(name); err != nil || fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	good := readFile(f, "p384.pem")
	for _, r := range reformats {
		f.Add(r(good))
	}
	f.Add(good + good)
	f.Add(strings.Replace(good, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1))
	f.Add(strings.ReplaceAll(good, "\n", `\n`))
	f.Add("")

	f.Fuzz(func(t *testing.T, material string) {
		pub, der, err := keypair.ParsePublicKeyPEM(material)
		if err != nil {
			var e *playkey.Error
			if !errors.As(err, &e) || e.Code != playkey.ErrValidation {
				t.Fatalf("error %#v is not a ValidationException", err)
			}
			if !strings.HasPrefix(e.Message, prefix) {
				t.Fatalf("message %q lacks the prefix", e.Message)
			}
			if pub != nil || der != nil {
				t.Fatal("key returned with an error")
			}
			checkNoKeyMaterial(t, e.Message)
			return
		}
		back, err := keypair.ParsePublicKeyDER(der)
		if err != nil {
			t.Fatalf("accepted DER does not re-parse: %v", err)
		}
		if !back.Equal(pub) {
			t.Fatal("DER re-parses to another key")
		}
		if canon, err := x509.MarshalPKIXPublicKey(pub); err != nil || !bytes.Equal(canon, der) {
			t.Fatal("accepted DER is not canonical")
		}
		fp := keypair.Fingerprint(der)
		if !fingerprintPattern.MatchString(fp) || keypair.Fingerprint(bytes.Clone(der)) != fp {
			t.Fatalf("fingerprint %q", fp)
		}
		out, err := keypair.MarshalPublicKeyPEM(pub)
		if err != nil {
			t.Fatal(err)
		}
		_, der2, err := keypair.ParsePublicKeyPEM(string(out))
		if err != nil {
			t.Fatalf("re-encoded key rejected: %v", err)
		}
		if !bytes.Equal(der, der2) {
			t.Fatal("re-encoding changed the DER")
		}
	})
}

func BenchmarkParsePublicKeyPEM(b *testing.B) {
	for _, bc := range []struct{ name, material string }{
		{"valid", readFile(b, "p384.pem")},
		{"certificate", readFile(b, "p384-cert.pem")},
		{"16KiB garbage", strings.Repeat("A", keypair.MaxMaterialSize)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.material)))
			for b.Loop() {
				keypair.ParsePublicKeyPEM(bc.material)
			}
		})
	}
}

// FuzzParsePublicKeyDER reaches the DER checks directly, which random PEM text rarely does:
// the parser never panics, and what it accepts is canonical and re-encodes to itself.
func FuzzParsePublicKeyDER(f *testing.F) {
	files, err := filepath.Glob("testdata/*.pem")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for rest := b; ; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			f.Add(blk.Bytes)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		pub, err := keypair.ParsePublicKeyDER(der)
		if err != nil {
			if playkey.ErrorCode(err) != playkey.ErrInternal {
				t.Fatalf("error %v carries a client error code", err)
			}
			checkNoKeyMaterial(t, err.Error())
			return
		}
		if canon, err := x509.MarshalPKIXPublicKey(pub); err != nil || !bytes.Equal(canon, der) {
			t.Fatal("accepted DER is not canonical")
		}
		out, err := keypair.MarshalPublicKeyPEM(pub)
		if err != nil {
			t.Fatal(err)
		}
		if _, der2, err := keypair.ParsePublicKeyPEM(string(out)); err != nil || !bytes.Equal(der, der2) {
			t.Fatalf("re-encoded key: %v", err)
		}
	})
}
