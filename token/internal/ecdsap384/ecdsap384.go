// Package ecdsap384 verifies ECDSA signatures over NIST P-384 with precomputed tables, for
// keys that verify many signatures: a playback key signs every viewer's token for months.
//
// crypto/ecdsa computes u1·G + u2·Q as two separate, constant-time scalar multiplications,
// and only G's has a precomputed table. Verification works on public data, so here both
// points get a Lim-Lee comb table and the two multiplications share their doublings: a
// verification costs 15 doublings and about 80 additions instead of some 380 doublings and
// 190 additions. The group arithmetic is filippo.io/nistec's (the code crypto/ecdsa itself
// runs); this package only chooses which points to add.
//
// Accept and reject are exactly crypto/ecdsa's: r and s in [1, n-1], the hash truncated to
// 48 bytes and reduced mod n, R = u1·G + u2·Q not the point at infinity, and x(R) mod n == r.
package ecdsap384

import (
	"crypto/elliptic"
	"errors"
	"math/big"
	"sync"

	"filippo.io/nistec"
)

// SignatureSize is the size of r||s, each 48 bytes big-endian, as JWS ES384 carries them.
const SignatureSize = 2 * scalarSize

const scalarSize = 48

// A comb multiplication runs spacing iterations of one doubling; in each, every table of
// every comb adds one point. A comb with teeth t has 2^t-1 points per table and 384/t/spacing
// tables, so it adds 384/t points per multiplication. G's comb (t=12: 2 tables, 8190
// points, about 1.4 MiB, built once) adds 32 points; a key's (t=8: 3 tables, 765 points,
// about 128 KiB) adds 48. With the 15 doublings that is some 35 doublings' and additions'
// worth less than sharing one t=8 shape for both.
const (
	spacing  = 16
	keyTeeth = 8
	genTeeth = 12
	bits     = 8 * scalarSize
)

// comb holds, for a point P, tables[m][b-1] = Σ_j bit_j(b)·2^(j·span + m·spacing)·P for b
// in [1, 2^teeth), where span = spacing·len(tables). Points are held by value: nistec never
// mutates an operand.
type comb struct {
	teeth, span int
	tables      [][]nistec.P384Point
}

func newComb(p *nistec.P384Point, teeth int) *comb {
	span := bits / teeth
	c := &comb{teeth: teeth, span: span, tables: make([][]nistec.P384Point, span/spacing)}
	combs := len(c.tables)
	bases := make([]nistec.P384Point, teeth*combs)
	q := nistec.NewP384Point().Set(p)
	// bases[k] = 2^(k·spacing)·P with k = j·combs + m: one chain of doublings visits them
	// in order.
	for k := range bases {
		if k > 0 {
			for range spacing {
				q.Double(q)
			}
		}
		bases[k] = *nistec.NewP384Point().Set(q)
	}
	for m := range c.tables {
		t := make([]nistec.P384Point, 1<<teeth-1)
		for b := 1; b < 1<<teeth; b++ {
			top := 0
			for b>>(top+1) != 0 {
				top++
			}
			base := &bases[top*combs+m]
			if rest := b &^ (1 << top); rest != 0 {
				t[b-1] = *nistec.NewP384Point().Add(&t[rest-1], base)
			} else {
				t[b-1] = *base
			}
		}
		c.tables[m] = t
	}
	return c
}

// add adds to r the entries of c for iteration i of a comb multiplication by k.
func (c *comb) add(r *nistec.P384Point, k *[scalarSize]byte, i int) {
	for m, t := range c.tables {
		b := 0
		for j := range c.teeth {
			p := m*spacing + i + j*c.span
			b |= int(k[scalarSize-1-p/8]>>(p%8)&1) << j
		}
		if b != 0 {
			r.Add(r, &t[b-1])
		}
	}
}

var (
	order     = elliptic.P384().Params().N
	genOnce   sync.Once
	generator *comb
)

func generatorComb() *comb {
	genOnce.Do(func() { generator = newComb(nistec.NewP384Point().SetGenerator(), genTeeth) })
	return generator
}

// PublicKey is a P-384 public key ready for verification. It is safe for concurrent use.
type PublicKey struct {
	q    *nistec.P384Point
	comb *comb // nil: not precomputed
}

// NewPublicKey decodes an uncompressed point (0x04||x||y). The key is checked but not
// precomputed: Verify then multiplies Q with a small table built per call.
func NewPublicKey(uncompressed []byte) (*PublicKey, error) {
	if len(uncompressed) != 1+2*scalarSize || uncompressed[0] != 4 {
		return nil, errors.New("ecdsap384: not an uncompressed P-384 point")
	}
	q, err := nistec.NewP384Point().SetBytes(uncompressed)
	if err != nil {
		return nil, err
	}
	return &PublicKey{q: q}, nil
}

// NewPrecomputedPublicKey is NewPublicKey followed by the precomputation that makes each
// Verify about as cheap as a fixed-base multiplication. It costs about as much as six
// verifications without it and holds about 128 KiB.
func NewPrecomputedPublicKey(uncompressed []byte) (*PublicKey, error) {
	k, err := NewPublicKey(uncompressed)
	if err != nil {
		return nil, err
	}
	k.comb = newComb(k.q, keyTeeth)
	return k, nil
}

// Precomputed reports whether k holds a precomputed table.
func (k *PublicKey) Precomputed() bool { return k.comb != nil }

// Verify reports whether sig, r||s in SignatureSize bytes, is a valid signature by k of
// hash. A hash longer than 48 bytes is truncated to its first 48, as crypto/ecdsa does.
func Verify(k *PublicKey, hash, sig []byte) bool {
	return VerifyAny([]*PublicKey{k}, hash, sig) == 0
}

// VerifyAny returns the index of the first of keys by which sig is a valid signature of
// hash, or -1: what Verify with each key in turn would say, for less when there are
// several keys, since s⁻¹ and, for keys with tables, u1·G are computed once.
func VerifyAny(keys []*PublicKey, hash, sig []byte) int {
	if len(keys) == 0 || len(sig) != SignatureSize {
		return -1
	}
	var u1, u2 [scalarSize]byte
	r := new(big.Int).SetBytes(sig[:scalarSize])
	if !scalars(&u1, &u2, hash, r, new(big.Int).SetBytes(sig[scalarSize:])) {
		return -1
	}
	g := generatorComb()
	var u1G *nistec.P384Point // shared by the keys with tables
	for i, k := range keys {
		p := nistec.NewP384Point()
		switch {
		case k.comb == nil:
			mulWindowed(p, k.q, &u2, g, &u1)
		case len(keys) == 1:
			// One key: both combs in one loop share its doublings.
			mulCombs(p, g, &u1, k.comb, &u2)
		default:
			if u1G == nil {
				u1G = nistec.NewP384Point()
				mulCombs(u1G, g, &u1, nil, nil)
			}
			mulCombs(p, k.comb, &u2, nil, nil)
			p.Add(p, u1G)
		}
		if xModNIs(p, r) {
			return i
		}
	}
	return -1
}

// mulCombs sets p = a·A + b·B, where A and B are the points of the combs ca and cb; cb
// may be nil.
func mulCombs(p *nistec.P384Point, ca *comb, a *[scalarSize]byte, cb *comb, b *[scalarSize]byte) {
	for i := spacing - 1; i >= 0; i-- {
		if i != spacing-1 {
			p.Double(p)
		}
		ca.add(p, a, i)
		if cb != nil {
			cb.add(p, b, i)
		}
	}
}

// xModNIs reports whether p is not the point at infinity and x(p) mod n == r.
func xModNIs(p *nistec.P384Point, r *big.Int) bool {
	x, err := p.BytesX() // fails on the point at infinity
	if err != nil {
		return false
	}
	// x < p < 2n, so x mod n is x or x-n.
	v := new(big.Int).SetBytes(x)
	if v.Cmp(order) >= 0 {
		v.Sub(v, order)
	}
	return v.Cmp(r) == 0
}

// scalars sets u1 = e/s and u2 = r/s mod n, or reports false when r or s is not in
// [1, n-1]. e is the leftmost 384 bits of hash, reduced mod n.
func scalars(u1, u2 *[scalarSize]byte, hash []byte, r, s *big.Int) bool {
	if r.Sign() == 0 || s.Sign() == 0 || r.Cmp(order) >= 0 || s.Cmp(order) >= 0 {
		return false
	}
	if len(hash) > scalarSize {
		hash = hash[:scalarSize]
	}
	e := new(big.Int).SetBytes(hash)
	w := new(big.Int).ModInverse(s, order)
	e.Mul(e, w).Mod(e, order)
	w.Mul(w, r).Mod(w, order)
	e.FillBytes(u1[:])
	w.FillBytes(u2[:])
	return true
}

// mulWindowed sets p = u2·q + u1·G, with a 4-bit window table of q built here and G's comb
// added in during the last spacing doublings.
func mulWindowed(p, q *nistec.P384Point, u2 *[scalarSize]byte, g *comb, u1 *[scalarSize]byte) {
	var t [15]nistec.P384Point
	t[0] = *nistec.NewP384Point().Set(q)
	for i := 1; i < 15; i += 2 {
		t[i] = *nistec.NewP384Point().Double(&t[i/2])
		t[i+1] = *nistec.NewP384Point().Add(&t[i], q)
	}
	started := false
	for i := 8*scalarSize - 1; i >= 0; i-- {
		if started {
			p.Double(p)
		}
		if i%4 == 0 {
			if d := u2[scalarSize-1-i/8] >> (i % 8) & 0xf; d != 0 {
				p.Add(p, &t[d-1])
				started = true
			}
		}
		if i < spacing {
			g.add(p, u1, i)
			started = true
		}
	}
}
