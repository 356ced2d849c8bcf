package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/playkey/playkey/token"
)

// prepare turns keys into token.PublicKeys for VerifyKeys.
func prepare(t testing.TB, keys []*ecdsa.PublicKey) []*token.PublicKey {
	t.Helper()
	out := make([]*token.PublicKey, len(keys))
	for i, k := range keys {
		p, err := token.NewPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if p.ECDSA() != k {
			t.Fatal("ECDSA() is not the key given")
		}
		out[i] = p
	}
	return out
}

// verifyBoth runs Verify and VerifyKeys (with pre, the same keys prepared) and fails
// unless they return the same claims, index and error.
func verifyBoth(t *testing.T, v *token.Verifier, tok string, keys []*ecdsa.PublicKey, pre []*token.PublicKey, channel string, now time.Time) (*token.Claims, int, error) {
	t.Helper()
	c1, i1, err1 := v.Verify(tok, keys, channel, now)
	c2, i2, err2 := v.VerifyKeys(tok, pre, channel, now)
	if i1 != i2 || !reflect.DeepEqual(c1, c2) || (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
		t.Fatalf("Verify = %d, %v; VerifyKeys = %d, %v", i1, err1, i2, err2)
	}
	return c1, i1, err1
}

func TestVectorsPrecomputed(t *testing.T) {
	vs := testVectors(t)
	now := time.Unix(vs.Now, 0)
	valid := 0
	for _, c := range vs.Cases {
		v := &token.Verifier{Leeway: time.Duration(c.LeewaySeconds) * time.Second}
		keys := vs.publicKeys(t, c.Keys)
		_, idx, err := verifyBoth(t, v, c.Token, keys, prepare(t, keys), c.ChannelARN, now)
		if (err == nil) != (c.Want == "valid") || (err == nil && idx != c.KeyIndex) {
			t.Errorf("%s: VerifyKeys = %d, %v; want %s", c.Name, idx, err, c.Want)
		}
		if err == nil {
			valid++
		}
	}
	if valid == 0 {
		t.Fatal("no valid vector")
	}
}

func TestVerifyKeysMisuse(t *testing.T) {
	key := newKey(t)
	tok, err := token.Sign(token.Claims{ChannelARN: testChannel, Exp: testNow.Add(time.Minute).Unix()}, key)
	if err != nil {
		t.Fatal(err)
	}
	pub := prepare(t, []*ecdsa.PublicKey{&key.PublicKey})[0]
	v := &token.Verifier{}
	for name, c := range map[string]struct {
		keys    []*token.PublicKey
		channel string
	}{
		"no channel": {[]*token.PublicKey{pub}, ""},
		"four keys":  {[]*token.PublicKey{pub, pub, pub, pub}, testChannel},
		"nil key":    {[]*token.PublicKey{nil, pub}, testChannel},
		"zero key":   {[]*token.PublicKey{{}, pub}, testChannel},
	} {
		_, idx, err := v.VerifyKeys(tok, c.keys, c.channel, testNow)
		var rej *token.Rejection
		if err == nil || errors.As(err, &rej) || idx != -1 {
			t.Errorf("%s: VerifyKeys = %d, %v; want a plain error", name, idx, err)
		}
	}
	if _, idx, err := v.VerifyKeys(tok, []*token.PublicKey{pub}, testChannel, testNow); err != nil || idx != 0 {
		t.Fatalf("VerifyKeys = %d, %v", idx, err)
	}
	if _, _, err := v.VerifyKeys(tok, nil, testChannel, testNow); rejection(t, err).Code != token.UnknownKey {
		t.Fatalf("no keys: %v", err)
	}

	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	off := key.PublicKey
	//lint:ignore SA1019 the test needs the raw coordinates, to make an invalid key no other API can make
	off.Y = new(big.Int).Add(off.Y, big.NewInt(1))
	for name, k := range map[string]*ecdsa.PublicKey{
		"nil": nil, "P-256": &p256.PublicKey, "off the curve": &off,
	} {
		if _, err := token.NewPublicKey(k); err == nil {
			t.Errorf("NewPublicKey accepted a %s key", name)
		}
	}
	// crypto/ecdsa, the reference, refuses the point off the curve too.
	if _, _, err := v.Verify(tok, []*ecdsa.PublicKey{&off}, testChannel, testNow); rejection(t, err).Code != token.UnknownKey {
		t.Fatalf("Verify with a key off the curve: %v", err)
	}
}
