package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/playkey/playkey/token"
)

func writePEM(t *testing.T, dir, name string, blocks ...*pem.Block) string {
	t.Helper()
	var b bytes.Buffer
	for _, bl := range blocks {
		pem.Encode(&b, bl)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTokenKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(p384)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(p384)
	sec1P256, _ := x509.MarshalECPrivateKey(p256)
	rsaPKCS8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	spki, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	spkiP256, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	spkiRSA, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	params := &pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}}

	for name, c := range map[string]struct {
		blocks []*pem.Block
		err    string // "" for success
	}{
		"sec1":                {[]*pem.Block{{Type: "EC PRIVATE KEY", Bytes: sec1}}, ""},
		"ecparam -genkey":     {[]*pem.Block{params, {Type: "EC PRIVATE KEY", Bytes: sec1}}, ""},
		"pkcs8":               {[]*pem.Block{{Type: "PRIVATE KEY", Bytes: pkcs8}}, ""},
		"p256":                {[]*pem.Block{{Type: "EC PRIVATE KEY", Bytes: sec1P256}}, "on P-256"},
		"rsa":                 {[]*pem.Block{{Type: "PRIVATE KEY", Bytes: rsaPKCS8}}, "not an ECDSA key"},
		"encrypted":           {[]*pem.Block{{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}}, "encrypted"},
		"public":              {[]*pem.Block{{Type: "PUBLIC KEY", Bytes: spki}}, "is a public key"},
		"corrupt":             {[]*pem.Block{{Type: "EC PRIVATE KEY", Bytes: sec1[:20]}}, "does not parse"},
		"parameters only":     {[]*pem.Block{params}, "no private key"},
		"certificate instead": {[]*pem.Block{{Type: "CERTIFICATE", Bytes: []byte{1}}}, "not a private key"},
	} {
		path := writePEM(t, dir, strings.ReplaceAll(name, " ", "_")+".pem", c.blocks...)
		k, err := loadPrivateKey(path)
		if c.err == "" {
			if err != nil || !k.Equal(p384) {
				t.Errorf("%s: %v", name, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want %q", name, err, c.err)
		}
	}

	for name, c := range map[string]struct {
		blocks []*pem.Block
		err    string
	}{
		"spki":        {[]*pem.Block{{Type: "PUBLIC KEY", Bytes: spki}}, ""},
		"p256":        {[]*pem.Block{{Type: "PUBLIC KEY", Bytes: spkiP256}}, "on P-256"},
		"rsa":         {[]*pem.Block{{Type: "PUBLIC KEY", Bytes: spkiRSA}}, "not an ECDSA key"},
		"private":     {[]*pem.Block{{Type: "EC PRIVATE KEY", Bytes: sec1}}, "holds a private key"},
		"certificate": {[]*pem.Block{{Type: "CERTIFICATE", Bytes: []byte{1}}}, "not a public key"},
		"corrupt":     {[]*pem.Block{{Type: "PUBLIC KEY", Bytes: spki[:30]}}, "does not parse"},
		"empty":       {nil, "no PEM block"},
	} {
		path := writePEM(t, dir, "pub_"+name+".pem", c.blocks...)
		k, err := loadPublicKey(path)
		if c.err == "" {
			if err != nil || !k.Equal(&p384.PublicKey) {
				t.Errorf("public %s: %v", name, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("public %s: error %v, want %q", name, err, c.err)
		}
	}
}

func TestReadTokenArg(t *testing.T) {
	t.Parallel()
	io := &stdio{in: strings.NewReader("  a.b.c \n")}
	for arg, want := range map[string]string{
		"-":     "a.b.c",
		"x.y.z": "x.y.z",
		"https://h.example/api/video/v1/us-west-2.123456789012.channel.X.m3u8?token=p.q.r&x=1": "p.q.r",
		"https://h.example/no-token": "https://h.example/no-token",
	} {
		if got, err := readTokenArg(io, arg); err != nil || got != want {
			t.Errorf("readTokenArg(%q) = %q, %v; want %q", arg, got, err, want)
		}
	}
}

// TestInspectPrintsNoControlCharacters: inspect shows tokens that come from anyone, so
// nothing a token holds may reach the terminal as a control sequence or break the layout.
func TestInspectPrintsNoControlCharacters(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding
	sig := enc.EncodeToString(make([]byte, 96))
	for name, parts := range map[string][2]string{
		"escaped key":       {`{"alg":"ES384"}`, `{"aws:channel-arn":"x","exp":1,"\u001b[2J\u0007":1,"k":{"a":` + "\n\t" + `1}}`},
		"raw bytes payload": {`{"alg":"ES384"}`, "\x1b[31mred\r\n\xff"},
		"raw bytes header":  {"\x1b]0;title\x07", `{}`},
	} {
		tok := enc.EncodeToString([]byte(parts[0])) + "." + enc.EncodeToString([]byte(parts[1])) + "." + sig
		var out bytes.Buffer
		printInspection(&out, tok, (&token.Verifier{}).Explain(tok, "", "--channel-arn", time.Now()), "")
		for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			for _, r := range line {
				if r < 0x20 || r == 0x7f || r == utf8.RuneError {
					t.Fatalf("%s: output line %q has %U\n%s", name, line, r, out.String())
				}
			}
		}
		if !strings.Contains(out.String(), `\x1b`) {
			t.Errorf("%s: the escape character is not shown as \\x1b:\n%s", name, out.String())
		}
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abc":     "abc",
		"abcdef":  "abcd…",
		"abéé":    "abé…", // never half a character
		"a\tb":    `a\tb`,
		"\xff":    `\xff`,
		"x\u2028": `x\u2028`,
		"sp ace":  "sp a…",
		"\x1b[2J": `\x1b[2J`,
	} {
		if got := shorten(in, 4); got != want {
			t.Errorf("shorten(%q, 4) = %q, want %q", in, got, want)
		}
	}
}
