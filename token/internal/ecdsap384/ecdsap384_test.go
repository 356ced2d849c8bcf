package ecdsap384

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"math/big"
	"slices"
	"testing"

	"filippo.io/nistec"
)

// Every verdict here is compared with crypto/ecdsa's on the same key, hash and (r, s):
// accept and reject must be the same on every input, and the tests check that they
// accept often enough to mean something.

var (
	curve = elliptic.P384().Params()
	n     = curve.N
)

// testKey is a key both ways: as crypto/ecdsa takes it, and prepared with and without tables.
type testKey struct {
	pub            *ecdsa.PublicKey
	priv           *ecdsa.PrivateKey // nil for forged keys
	precomp, plain *PublicKey
}

func newTestKey(t testing.TB, pub *ecdsa.PublicKey) testKey {
	t.Helper()
	b, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pre, err := NewPrecomputedPublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewPublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if !pre.Precomputed() || plain.Precomputed() {
		t.Fatal("Precomputed is wrong")
	}
	return testKey{pub: pub, precomp: pre, plain: plain}
}

func generateKey(t testing.TB) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := newTestKey(t, &priv.PublicKey)
	k.priv = priv
	return k
}

func sig96(r, s *big.Int) []byte {
	sig := make([]byte, SignatureSize)
	r.FillBytes(sig[:scalarSize])
	s.FillBytes(sig[scalarSize:])
	return sig
}

// same checks both ways of this package against ecdsa.Verify and returns the verdict.
func same(t *testing.T, k testKey, hash, sig []byte) bool {
	t.Helper()
	want := false
	if len(sig) == SignatureSize {
		r := new(big.Int).SetBytes(sig[:scalarSize])
		s := new(big.Int).SetBytes(sig[scalarSize:])
		want = ecdsa.Verify(k.pub, hash, r, s)
	}
	if got := Verify(k.precomp, hash, sig); got != want {
		t.Fatalf("precomputed Verify = %v, crypto/ecdsa %v: hash %x sig %x", got, want, hash, sig)
	}
	if got := Verify(k.plain, hash, sig); got != want {
		t.Fatalf("Verify without tables = %v, crypto/ecdsa %v: hash %x sig %x", got, want, hash, sig)
	}
	return want
}

// low384 keeps what fits the 48 bytes of r or s.
func low384(x *big.Int) *big.Int {
	return x.And(x, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 384), big.NewInt(1)))
}

// sameAny checks VerifyAny on keys (with tables, without, and mixed) against ecdsa.Verify
// with each key in turn, and returns the index.
func sameAny(t *testing.T, keys []testKey, hash, sig []byte) int {
	t.Helper()
	want := -1
	for i, k := range keys {
		if len(sig) == SignatureSize && ecdsa.Verify(k.pub, hash, new(big.Int).SetBytes(sig[:scalarSize]), new(big.Int).SetBytes(sig[scalarSize:])) {
			want = i
			break
		}
	}
	pre, plain, mixed := make([]*PublicKey, len(keys)), make([]*PublicKey, len(keys)), make([]*PublicKey, len(keys))
	for i, k := range keys {
		pre[i], plain[i], mixed[i] = k.precomp, k.plain, k.precomp
		if i%2 == 1 {
			mixed[i] = k.plain
		}
	}
	for name, ks := range map[string][]*PublicKey{"with tables": pre, "without": plain, "mixed": mixed} {
		if got := VerifyAny(ks, hash, sig); got != want {
			t.Fatalf("VerifyAny %s = %d, crypto/ecdsa %d: hash %x sig %x", name, got, want, hash, sig)
		}
	}
	return want
}

func bigs(vals ...int64) []*big.Int {
	var out []*big.Int
	for _, v := range vals {
		out = append(out, big.NewInt(v))
	}
	return out
}

func TestAgainstCryptoECDSA(t *testing.T) {
	keys, rounds := 3, 6
	if testing.Short() {
		keys = 1
	}
	one := big.NewInt(1)
	max384 := new(big.Int).Sub(new(big.Int).Lsh(one, 384), one)
	edges := append(bigs(0, 1, 2), new(big.Int).Sub(n, one), n, new(big.Int).Add(n, one), max384)
	ff := bytes.Repeat([]byte{0xff}, 64)
	hashes := [][]byte{nil, {0}, {1}, ff[:32], ff[:47], ff[:48], ff[:49], ff, n.Bytes(), new(big.Int).Add(n, one).Bytes(), make([]byte, 48)}
	accepted := 0
	for range keys {
		k := generateKey(t)
		other := generateKey(t)
		for round := range rounds {
			hash := make([]byte, []int{48, 48, 32, 64, 0, 20}[round%6])
			rand.Read(hash)
			if round%5 == 4 {
				hash = hashes[round%len(hashes)]
			}
			r, s, err := ecdsa.Sign(rand.Reader, k.priv, hash)
			if err != nil {
				t.Fatal(err)
			}
			if !same(t, k, hash, sig96(r, s)) {
				t.Fatal("a fresh signature does not verify")
			}
			accepted++
			// The high-S twin is a valid ECDSA signature too.
			if !same(t, k, hash, sig96(r, new(big.Int).Sub(n, s))) {
				t.Fatal("the high-S twin does not verify")
			}
			accepted++
			same(t, other, hash, sig96(r, s))
			for _, e := range edges {
				same(t, k, hash, sig96(e, s))
				same(t, k, hash, sig96(r, e))
			}
			same(t, k, hash, sig96(low384(new(big.Int).Add(r, n)), s))
			same(t, k, hash, sig96(s, r))
			sig := sig96(r, s)
			for range 4 {
				b := make([]byte, 2)
				rand.Read(b)
				sig[int(b[0])%len(sig)] ^= 1 << (b[1] % 8)
				same(t, k, hash, sig)
			}
			for _, h := range hashes {
				same(t, k, h, sig96(r, s))
				// e ≡ 0 (mod n) for the hashes 0 and n: R = u2·Q.
				if r2, s2, err := ecdsa.Sign(rand.Reader, k.priv, h); err == nil && same(t, k, h, sig96(r2, s2)) {
					accepted++
				}
			}
			same(t, k, hash, sig96(r, s)[:95])
			same(t, k, hash, append(sig96(r, s), 0))
		}
	}
	if want := keys * rounds * (2 + len(hashes)); accepted != want {
		t.Fatalf("%d signatures accepted, want %d", accepted, want)
	}
}

func TestVerifyAny(t *testing.T) {
	a, b, c := generateKey(t), generateKey(t), generateKey(t)
	hash := sha512.Sum384([]byte("any"))
	if got := VerifyAny(nil, hash[:], make([]byte, SignatureSize)); got != -1 {
		t.Fatalf("VerifyAny with no keys = %d", got)
	}
	for _, signer := range []testKey{a, b, c} {
		r, s, err := ecdsa.Sign(rand.Reader, signer.priv, hash[:])
		if err != nil {
			t.Fatal(err)
		}
		for _, keys := range [][]testKey{{a, b, c}, {c, b, a}, {b, b}, {signer}, {signer, signer}} {
			want := sameAny(t, keys, hash[:], sig96(r, s))
			if signed := slices.ContainsFunc(keys, func(k testKey) bool { return k.pub == signer.pub }); (want >= 0) != signed {
				t.Fatalf("crypto/ecdsa says key %d", want)
			}
			sameAny(t, keys, hash[:], sig96(r, new(big.Int).Sub(n, s)))
			sameAny(t, keys, hash[:], sig96(s, r))
			sameAny(t, keys, hash[:], sig96(r, n))
		}
	}
}

// forge returns a key for which (r, s) with r = x mod n is a valid signature of hash, where
// x is the x-coordinate of a point R: Q = (R - u1·G)/u2.
func forge(t *testing.T, x *big.Int, hash []byte, s *big.Int) (testKey, *big.Int) {
	t.Helper()
	// y² = x³ - 3x + b
	y2 := new(big.Int).Exp(x, big.NewInt(3), curve.P)
	y2.Sub(y2, new(big.Int).Mul(x, big.NewInt(3)))
	y2.Add(y2, curve.B).Mod(y2, curve.P)
	y := new(big.Int).ModSqrt(y2, curve.P)
	if y == nil {
		return testKey{}, nil
	}
	R, err := nistec.NewP384Point().SetBytes(append(append([]byte{4}, x.FillBytes(make([]byte, 48))...), y.FillBytes(make([]byte, 48))...))
	if err != nil {
		t.Fatal(err)
	}
	r := new(big.Int).Mod(x, n)
	e := new(big.Int).SetBytes(hash)
	w := new(big.Int).ModInverse(s, n)
	u1 := new(big.Int).Mul(e, w)
	u1.Mod(u1, n)
	u2 := new(big.Int).Mul(r, w)
	u2.Mod(u2, n)
	u1G, err := nistec.NewP384Point().ScalarBaseMult(u1.FillBytes(make([]byte, 48)))
	if err != nil {
		t.Fatal(err)
	}
	T := nistec.NewP384Point().Add(R, nistec.NewP384Point().Negate(u1G))
	Q, err := nistec.NewP384Point().ScalarMult(T, new(big.Int).ModInverse(u2, n).FillBytes(make([]byte, 48)))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), Q.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return newTestKey(t, pub), r
}

// TestTwinX: x(R) is compared mod n. When x(R) is in [n, p), r = x(R) - n verifies and
// x(R) itself is out of range; when x(R) + n < p, r = x(R) verifies and r + n does not.
func TestTwinX(t *testing.T) {
	hash := sha512.Sum384([]byte("twin"))
	s, err := rand.Int(rand.Reader, n)
	if err != nil {
		t.Fatal(err)
	}
	s.Add(s, big.NewInt(1)).Mod(s, n)
	for _, start := range []*big.Int{new(big.Int).Add(n, big.NewInt(1)), big.NewInt(5)} {
		x := new(big.Int).Set(start)
		var k testKey
		var r *big.Int
		for k, r = forge(t, x, hash[:], s); r == nil; k, r = forge(t, x, hash[:], s) {
			x.Add(x, big.NewInt(1))
		}
		if !same(t, k, hash[:], sig96(r, s)) {
			t.Fatalf("r = x(R) mod n = %x does not verify", r)
		}
		twin := new(big.Int).Add(r, n)
		if twin.Cmp(curve.P) >= 0 {
			t.Fatalf("r + n = %x is not a field element", twin)
		}
		if same(t, k, hash[:], sig96(twin, s)) {
			t.Fatalf("r + n verifies")
		}
		if same(t, k, hash[:], sig96(x, s)) != (x.Cmp(n) < 0) {
			t.Fatalf("r = x(R) = %x", x)
		}
	}
}

// TestInfinity: with the key d = -e/r, u1·G + u2·Q is the point at infinity for every s.
func TestInfinity(t *testing.T) {
	hash := sha512.Sum384([]byte("infinity"))
	e := new(big.Int).SetBytes(hash[:])
	for range 3 {
		r, _ := rand.Int(rand.Reader, new(big.Int).Sub(n, big.NewInt(1)))
		r.Add(r, big.NewInt(1))
		d := new(big.Int).ModInverse(r, n)
		d.Mul(d, e).Neg(d).Mod(d, n)
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), d.FillBytes(make([]byte, 48)))
		if err != nil {
			t.Fatal(err)
		}
		k := newTestKey(t, &priv.PublicKey)
		for _, s := range bigs(1, 2, 12345) {
			if same(t, k, hash[:], sig96(r, s)) {
				t.Fatal("a signature whose R is the point at infinity verifies")
			}
		}
	}
}

func TestBadKeys(t *testing.T) {
	good := generateKey(t)
	b, err := good.pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	offCurve := bytes.Clone(b)
	offCurve[len(offCurve)-1] ^= 1
	//lint:ignore SA1019 the test needs the raw coordinates, to make an invalid key no other API can make
	compressed := elliptic.MarshalCompressed(elliptic.P384(), good.pub.X, good.pub.Y)
	for name, in := range map[string][]byte{
		"off the curve": offCurve, "compressed": compressed, "infinity": {0}, "empty": nil,
		"truncated": b[:96], "long": append(bytes.Clone(b), 0), "x ≥ p": append([]byte{4}, bytes.Repeat([]byte{0xff}, 96)...),
	} {
		if _, err := NewPublicKey(in); err == nil {
			t.Errorf("NewPublicKey accepted a point %s", name)
		}
		if _, err := NewPrecomputedPublicKey(in); err == nil {
			t.Errorf("NewPrecomputedPublicKey accepted a point %s", name)
		}
		if _, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), in); err == nil {
			t.Errorf("crypto/ecdsa accepts the point %s", name)
		}
	}
}

// FuzzVerify compares every verdict with crypto/ecdsa's. Seeds are valid signatures and
// their respellings with r and s out of range.
func FuzzVerify(f *testing.F) {
	keys := []testKey{generateKey(f), generateKey(f)}
	for i, k := range keys {
		for _, msg := range []string{"", "a", "eyJhbGciOiJFUzM4NCJ9.eyJhIjoxfQ"} {
			hash := sha512.Sum384([]byte(msg))
			r, s, err := ecdsa.Sign(rand.Reader, k.priv, hash[:])
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), hash[:], sig96(r, s))
			f.Add(uint8(i), hash[:], sig96(r, new(big.Int).Sub(n, s)))
			f.Add(uint8(1-i), hash[:], sig96(r, s))
			f.Add(uint8(i), hash[:32], sig96(n, s))
			f.Add(uint8(i), hash[:], sig96(low384(new(big.Int).Add(r, n)), s))
		}
	}
	f.Fuzz(func(t *testing.T, key uint8, hash, sig []byte) {
		same(t, keys[int(key)%len(keys)], hash, sig)
		sameAny(t, []testKey{keys[1-int(key)%2], keys[int(key)%2], keys[1-int(key)%2]}, hash, sig)
	})
}

// TestConcurrent: a key and the generator's table are shared read-only by every
// verification (run with -race).
func TestConcurrent(t *testing.T) {
	k := generateKey(t)
	hash := sha512.Sum384([]byte("concurrent"))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, hash[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := sig96(r, s)
	errs := make(chan string, 8)
	for i := range cap(errs) {
		go func() {
			key := k.precomp
			if i%2 == 1 {
				key = k.plain
			}
			if !Verify(key, hash[:], sig) {
				errs <- "a valid signature did not verify"
				return
			}
			errs <- ""
		}()
	}
	for range cap(errs) {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
}
