// Package keypair holds the key-material rules of IVS playback key pairs: which public keys
// ImportPlaybackKeyPair accepts, how their fingerprints are computed, and the PEM forms that
// "playkey keygen" writes.
//
// A playback key is an ECDSA P-384 key. Its public half is imported as one PEM "PUBLIC KEY"
// block holding a DER SubjectPublicKeyInfo that names the curve secp384r1 and carries an
// uncompressed point: exactly what
//
//	openssl ec -in priv.pem -pubout
//
// writes. Everything else is refused with a ValidationException that says what was wrong.
// The fingerprint is the MD5 of that DER, so PEM formatting (line endings, line width,
// surrounding whitespace) never changes it.
package keypair

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// PEM block types.
const (
	pemPublicKey   = "PUBLIC KEY"
	pemECPrivate   = "EC PRIVATE KEY"
	pemPKCS8       = "PRIVATE KEY"
	pemECParams    = "EC PARAMETERS"
	pemEncPKCS8    = "ENCRYPTED PRIVATE KEY"
	pemOpenSSHPriv = "OPENSSH PRIVATE KEY"
)

// Fingerprint returns the fingerprint IVS shows for a public key: the MD5 of der (a DER
// SubjectPublicKeyInfo, as returned by ParsePublicKeyPEM) as 16 lowercase hex bytes joined
// with ':', for example 98:0d:1a:a0:19:96:1e:ea:0a:0a:2c:9a:42:19:2b:e7. It is what
//
//	openssl pkey -pubin -in public.pem -outform DER | openssl md5 -c
//
// prints.
func Fingerprint(der []byte) string {
	const digits = "0123456789abcdef"
	sum := md5.Sum(der)
	b := make([]byte, 0, len(sum)*3-1)
	for i, c := range sum {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return string(b)
}

// Generate returns a new random ECDSA P-384 private key.
func Generate() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
}

// MarshalPrivateKeyPEM encodes a P-384 private key as a SEC1 "EC PRIVATE KEY" PEM block, the
// form "openssl ecparam -name secp384r1 -genkey -noout" writes. It fails for other curves.
func MarshalPrivateKeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	if k == nil || k.Curve != elliptic.P384() {
		return nil, errors.New("keypair: not a P-384 private key")
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("keypair: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemECPrivate, Bytes: der}), nil
}

// MarshalPublicKeyPEM encodes a P-384 public key as a SubjectPublicKeyInfo "PUBLIC KEY" PEM
// block with 64-column lines, byte for byte what "openssl ec -pubout" writes. The result is
// what ImportPlaybackKeyPair takes as publicKeyMaterial. It fails for other curves.
func MarshalPublicKeyPEM(pub *ecdsa.PublicKey) ([]byte, error) {
	if pub == nil || pub.Curve != elliptic.P384() {
		return nil, errors.New("keypair: not a P-384 public key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("keypair: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM parses a P-384 private key from PEM: a SEC1 "EC PRIVATE KEY" block (as
// openssl ecparam -genkey writes; a leading "EC PARAMETERS" block, written when -noout is
// left out, is skipped) or an unencrypted PKCS#8 "PRIVATE KEY" block (as openssl genpkey and
// openssl pkey write). Text around the block is ignored, as openssl does.
//
// Private keys never reach the API, so the errors are plain errors for the command line,
// saying what was found and how to convert it; they never contain key material.
func ParsePrivateKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	if len(data) > MaxMaterialSize {
		return nil, fmt.Errorf("keypair: the private key file is %d bytes; a P-384 private key PEM is a few hundred", len(data))
	}
	var found *pem.Block
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == pemECParams {
			continue
		}
		n++
		found = b
	}
	if n == 0 {
		return nil, errors.New("keypair: no PEM private key found: expected -----BEGIN EC PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----")
	}
	if n > 1 {
		return nil, fmt.Errorf("keypair: found %d PEM blocks; expected one private key", n)
	}
	b := found
	if _, ok := b.Headers["Proc-Type"]; ok {
		return nil, errors.New("keypair: the private key is encrypted (Proc-Type header); decrypt it with: openssl ec -in priv.pem -out plain.pem")
	}
	var key any
	var err error
	switch b.Type {
	case pemECPrivate:
		key, err = x509.ParseECPrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keypair: invalid EC PRIVATE KEY (P-384 only): %w", err)
		}
	case pemPKCS8:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keypair: invalid PKCS#8 PRIVATE KEY (P-384 only): %w", err)
		}
	case pemEncPKCS8:
		return nil, errors.New("keypair: the private key is encrypted (ENCRYPTED PRIVATE KEY); decrypt it with: openssl pkey -in priv.pem -out plain.pem")
	case pemOpenSSHPriv:
		return nil, errors.New("keypair: this is an OpenSSH private key; convert a copy to PEM with: ssh-keygen -p -m PEM -f copy_of_key")
	case "RSA PRIVATE KEY":
		return nil, errors.New("keypair: this is an RSA private key; IVS playback keys must be ECDSA P-384 (secp384r1)")
	case pemPublicKey, "CERTIFICATE":
		return nil, fmt.Errorf("keypair: this is a %s, not a private key", strings.ToLower(b.Type))
	default:
		if !quotable(b.Type) {
			return nil, errors.New("keypair: the PEM block has an unrecognised type; expected EC PRIVATE KEY or PRIVATE KEY")
		}
		return nil, fmt.Errorf("keypair: the PEM block is of type %s; expected EC PRIVATE KEY or PRIVATE KEY", b.Type)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P384() {
			return nil, fmt.Errorf("keypair: the private key is on curve %s; IVS playback keys must be ECDSA P-384 (secp384r1)", k.Curve.Params().Name)
		}
		return k, nil
	case *rsa.PrivateKey:
		return nil, errors.New("keypair: this is an RSA private key; IVS playback keys must be ECDSA P-384 (secp384r1)")
	case ed25519.PrivateKey:
		return nil, errors.New("keypair: this is an Ed25519 private key; IVS playback keys must be ECDSA P-384 (secp384r1)")
	case *ecdh.PrivateKey:
		return nil, fmt.Errorf("keypair: this is an %s private key; IVS playback keys must be ECDSA P-384 (secp384r1)", k.Curve())
	default:
		return nil, fmt.Errorf("keypair: this is a %T private key; IVS playback keys must be ECDSA P-384 (secp384r1)", key)
	}
}
