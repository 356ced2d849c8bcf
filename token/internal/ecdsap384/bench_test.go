package ecdsap384

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"encoding/asn1"
	"math/big"
	"testing"
)

// The benchmarks run beside crypto/ecdsa's own verification of the same signature.

func benchInput(b *testing.B) (*ecdsa.PublicKey, []byte, []byte, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	hash := sha512.Sum384([]byte("a signing input of a typical token length, give or take"))
	der, err := ecdsa.SignASN1(rand.Reader, key, hash[:])
	if err != nil {
		b.Fatal(err)
	}
	r, s, err := parseDER(der)
	if err != nil {
		b.Fatal(err)
	}
	sig := make([]byte, SignatureSize)
	r.FillBytes(sig[:scalarSize])
	s.FillBytes(sig[scalarSize:])
	return &key.PublicKey, hash[:], sig, der
}

func BenchmarkVerify(b *testing.B) {
	pub, hash, sig, der := benchInput(b)
	point, err := pub.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	generatorComb()
	b.Run("precomputed", func(b *testing.B) {
		k, err := NewPrecomputedPublicKey(point)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if !Verify(k, hash, sig) {
				b.Fatal("does not verify")
			}
		}
	})
	b.Run("not precomputed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k, err := NewPublicKey(point)
			if err != nil {
				b.Fatal(err)
			}
			if !Verify(k, hash, sig) {
				b.Fatal("does not verify")
			}
		}
	})
	b.Run("precomputed, last of 3 keys", func(b *testing.B) {
		k, err := NewPrecomputedPublicKey(point)
		if err != nil {
			b.Fatal(err)
		}
		keys := []*PublicKey{generateKey(b).precomp, generateKey(b).precomp, k}
		b.ReportAllocs()
		for b.Loop() {
			if VerifyAny(keys, hash, sig) != 2 {
				b.Fatal("does not verify")
			}
		}
	})
	b.Run("crypto/ecdsa.VerifyASN1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.VerifyASN1(pub, hash, der) {
				b.Fatal("does not verify")
			}
		}
	})
	b.Run("crypto/ecdsa.Verify", func(b *testing.B) {
		r, s, err := parseDER(der)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.Verify(pub, hash, r, s) {
				b.Fatal("does not verify")
			}
		}
	})
}

func BenchmarkPrecompute(b *testing.B) {
	pub, _, _, _ := benchInput(b)
	point, err := pub.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPrecomputedPublicKey(point); err != nil {
			b.Fatal(err)
		}
	}
}

func parseDER(der []byte) (r, s *big.Int, err error) {
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return nil, nil, err
	}
	return sig.R, sig.S, nil
}
