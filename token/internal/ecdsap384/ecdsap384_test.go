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

func TestQuick(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	h := sha512.Sum384([]byte("hello"))
	r, s, _ := ecdsa.Sign(rand.Reader, key, h[:])
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	b, _ := key.PublicKey.Bytes()
	pk, err := NewPrecomputedPublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := NewPublicKey(b)
	if !Verify(pk, h[:], sig) || !Verify(k2, h[:], sig) {
		t.Fatal("no")
	}
	sig[5] ^= 1
	if Verify(pk, h[:], sig) || Verify(k2, h[:], sig) {
		t.Fatal("yes")
	}
	_ = big.NewInt
}

func parseDER(der []byte) (r, s *big.Int, err error) {
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return nil, nil, err
	}
	return sig.R, sig.S, nil
}
