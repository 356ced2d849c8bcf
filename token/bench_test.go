package token_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

// The benchmarks put the cost of a token check next to the one operation it cannot avoid,
// a P-384 signature check over SHA-384: parsing and the claim checks should add little.
// crypto/ecdsa's own figures for the same check are BenchmarkECDSAVerifyP384 here and,
// beside this package's verifier, BenchmarkVerify in internal/ecdsap384.

func benchSetup(b *testing.B) (*ecdsa.PrivateKey, token.Claims, string) {
	key := newKey(b)
	c := token.Claims{
		ChannelARN:              testChannel,
		Exp:                     testNow.Add(5 * time.Minute).Unix(),
		AllowedOrigins:          []string{"https://*.example.com"},
		StrictOriginEnforcement: true,
		ViewerID:                "viewer-1234",
		ViewerSessionVersion:    2,
	}
	tok, err := token.Sign(c, key)
	if err != nil {
		b.Fatal(err)
	}
	return key, c, tok
}

func BenchmarkSign(b *testing.B) {
	key, c, _ := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Sign(c, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	key, _, tok := benchSetup(b)
	v := &token.Verifier{}
	b.Run("first of 1 key", func(b *testing.B) {
		keys := []*ecdsa.PublicKey{&key.PublicKey}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := v.Verify(tok, keys, testChannel, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("last of 3 keys", func(b *testing.B) {
		keys := []*ecdsa.PublicKey{&newKey(b).PublicKey, &newKey(b).PublicKey, &key.PublicKey}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := v.Verify(tok, keys, testChannel, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("precomputed, first of 1 key", func(b *testing.B) {
		keys := prepare(b, []*ecdsa.PublicKey{&key.PublicKey})
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := v.VerifyKeys(tok, keys, testChannel, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("precomputed, last of 3 keys", func(b *testing.B) {
		keys := prepare(b, []*ecdsa.PublicKey{&newKey(b).PublicKey, &newKey(b).PublicKey, &key.PublicKey})
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := v.VerifyKeys(tok, keys, testChannel, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rejected before the signature", func(b *testing.B) {
		keys := []*ecdsa.PublicKey{&key.PublicKey}
		bad := strings.Replace(tok, "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9", "eyJhbGciOiJIUzM4NCJ9", 1)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := v.Verify(bad, keys, testChannel, testNow); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// BenchmarkNewPublicKey is the one-time cost VerifyKeys saves on every token.
func BenchmarkNewPublicKey(b *testing.B) {
	key := newKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.NewPublicKey(&key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is everything Verify does except the signature.
func BenchmarkParse(b *testing.B) {
	_, _, tok := benchSetup(b)
	v := &token.Verifier{}
	b.ReportAllocs()
	for b.Loop() {
		p, err := token.Parse(tok)
		if err != nil {
			b.Fatal(err)
		}
		if rejs := v.CheckClaims(&p.Claims, testChannel, testNow); rejs != nil {
			b.Fatal(rejs)
		}
	}
}

// BenchmarkECDSAVerifyP384 is the floor: one bare P-384 signature check on this machine.
func BenchmarkECDSAVerifyP384(b *testing.B) {
	key := newKey(b)
	hash := sha512.Sum384([]byte("a signing input of a typical token length, give or take"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, hash[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(&key.PublicKey, hash[:], sig) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkECDSASignP384 is the floor for Sign.
func BenchmarkECDSASignP384(b *testing.B) {
	key := newKey(b)
	hash := sha512.Sum384([]byte("a signing input of a typical token length, give or take"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, key, hash[:]); err != nil {
			b.Fatal(err)
		}
	}
}
