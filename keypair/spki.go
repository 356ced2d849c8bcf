package keypair

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// ParsePublicKeyDER parses a DER SubjectPublicKeyInfo under the same rules as
// ParsePublicKeyPEM, for keys read back from the store. The store only holds keys that
// ParsePublicKeyPEM accepted, so a failure here means corrupt data: the error is a plain
// error (an internal failure), not a ValidationException.
func ParsePublicKeyDER(der []byte) (*ecdsa.PublicKey, error) {
	pub, reason := parseSPKI(der)
	if reason != "" {
		return nil, errors.New("keypair: invalid public key DER: " + reason)
	}
	return pub, nil
}

// DER tags used by SubjectPublicKeyInfo and ECParameters.
const (
	tagInteger     = 0x02
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagSequence    = 0x30
)

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP384        = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
)

// algorithms names the SubjectPublicKeyInfo algorithms people paste by mistake.
var algorithms = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, "an RSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}, "an RSA-PSS"},
	{asn1.ObjectIdentifier{1, 3, 101, 112}, "an Ed25519"},
	{asn1.ObjectIdentifier{1, 3, 101, 113}, "an Ed448"},
	{asn1.ObjectIdentifier{1, 3, 101, 110}, "an X25519"},
	{asn1.ObjectIdentifier{1, 3, 101, 111}, "an X448"},
	{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}, "a DSA"},
	{asn1.ObjectIdentifier{1, 2, 840, 10046, 2, 1}, "a Diffie-Hellman"},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1}, "a Diffie-Hellman"},
	{asn1.ObjectIdentifier{1, 3, 132, 1, 12}, "an ECDH-only EC"},
	{asn1.ObjectIdentifier{1, 3, 132, 1, 13}, "an ECMQV-only EC"},
}

// curves names the named curves an EC key might be on.
var curves = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, "P-256"},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, "P-521"},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 33}, "P-224"},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, "P-192"},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 10}, "secp256k1"},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, "brainpoolP256r1"},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, "brainpoolP384r1"},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, "brainpoolP512r1"},
	{asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}, "SM2"},
}

const notSPKI = "the key is not a valid DER SubjectPublicKeyInfo"

// parseSPKI checks a DER SubjectPublicKeyInfo:
//
//	SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID secp384r1 }, BIT STRING point }
//
// by hand rather than with x509.ParsePKIXPublicKey so that every way it can differ from
// that gets its own reason.
func parseSPKI(der []byte) (*ecdsa.PublicKey, string) {
	spki, rest, ok := readTLV(der, tagSequence)
	if !ok {
		return nil, notSPKI
	}
	if len(rest) > 0 {
		return nil, fmt.Sprintf("trailing data after the DER SubjectPublicKeyInfo (%d bytes)", len(rest))
	}
	algID, rest, ok := readTLV(spki, tagSequence)
	if !ok {
		return nil, notSPKI
	}
	bits, rest, ok := readTLV(rest, tagBitString)
	if !ok || len(rest) > 0 {
		return nil, notSPKI
	}
	algBytes, params, ok := readTLV(algID, tagOID)
	if !ok {
		return nil, notSPKI
	}
	alg, ok := parseOID(algBytes)
	if !ok {
		return nil, notSPKI
	}
	if !alg.Equal(oidECPublicKey) {
		for _, a := range algorithms {
			if alg.Equal(a.oid) {
				return nil, fmt.Sprintf("this is %s public key; %s", a.name, needP384)
			}
		}
		return nil, fmt.Sprintf("the key's algorithm%s is not ECDSA; %s", oidSuffix(alg), needP384)
	}

	if len(params) == 0 {
		return nil, "the EC key does not name its curve; " + needP384
	}
	ptag := params[0]
	p, rest, ok := readTLV(params, ptag)
	if !ok || len(rest) > 0 {
		return nil, notSPKI
	}
	switch ptag {
	case tagOID:
		curve, ok := parseOID(p)
		if !ok {
			return nil, notSPKI
		}
		if !curve.Equal(oidP384) {
			for _, c := range curves {
				if curve.Equal(c.oid) {
					return nil, fmt.Sprintf("the key is on curve %s; %s", c.name, needP384)
				}
			}
			return nil, fmt.Sprintf("the key is on an unsupported curve%s; %s", oidSuffix(curve), needP384)
		}
	case tagSequence:
		return nil, explicitCurveReason(p)
	case tagNull:
		return nil, "the EC key does not name its curve (implicitlyCA); " + needP384
	default:
		return nil, notSPKI
	}

	if len(bits) == 0 || bits[0] != 0 { // the count of unused bits must be 0
		return nil, notSPKI
	}
	point := bits[1:]
	if len(point) == 0 {
		return nil, "the public key point is empty"
	}
	switch point[0] {
	case 4:
		if len(point) != 1+2*48 {
			return nil, "the public key point has the wrong length for P-384"
		}
	case 2, 3:
		return nil, "the public key point is compressed; IVS needs the uncompressed form that openssl writes by default: openssl ec -pubin -in public.pem -conv_form uncompressed -pubout"
	case 6, 7:
		return nil, "the public key point uses the hybrid encoding; IVS needs the uncompressed form that openssl writes by default: openssl ec -pubin -in public.pem -conv_form uncompressed -pubout"
	case 0:
		return nil, "the public key is the point at infinity, which is not a valid key"
	default:
		return nil, "the public key point is not a valid EC point encoding"
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), point)
	if err != nil {
		return nil, "the public key point is not on the P-384 curve"
	}

	// One key must have one DER encoding, hence one fingerprint: BER lengths, padded OID
	// arcs and the like end here.
	canon, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil || !bytes.Equal(canon, der) {
		return nil, "the DER SubjectPublicKeyInfo is not in canonical form; re-encode it with openssl pkey -pubin -in public.pem -out fixed.pem"
	}
	if k, err := x509.ParsePKIXPublicKey(der); err != nil || !pub.Equal(k) {
		return nil, notSPKI
	}
	return pub, ""
}

// explicitCurveReason explains an EC key that spells out its curve (openssl's
// -param_enc explicit) instead of naming it, recognising the NIST curves by field prime,
// coefficient b and group order.
func explicitCurveReason(ecParams []byte) string {
	unknown := "the key spells out the parameters of an unrecognised curve instead of naming it; " + needP384
	// ECParameters ::= SEQUENCE { version, fieldID SEQUENCE { fieldType, prime }, curve SEQUENCE
	// { a, b, seed OPTIONAL }, base, order, cofactor OPTIONAL }
	_, rest, ok := readTLV(ecParams, tagInteger)
	fieldID, rest, ok2 := readTLV(rest, tagSequence)
	curve, rest, ok3 := readTLV(rest, tagSequence)
	_, rest, ok4 := readTLV(rest, tagOctetString)
	order, _, ok5 := readTLV(rest, tagInteger)
	if !ok || !ok2 || !ok3 || !ok4 || !ok5 {
		return unknown
	}
	_, fieldRest, ok := readTLV(fieldID, tagOID)
	prime, _, ok2 := readTLV(fieldRest, tagInteger)
	_, curveRest, ok3 := readTLV(curve, tagOctetString)
	b, _, ok4 := readTLV(curveRest, tagOctetString)
	if !ok || !ok2 || !ok3 || !ok4 {
		return unknown
	}
	p, bb, n := new(big.Int).SetBytes(prime), new(big.Int).SetBytes(b), new(big.Int).SetBytes(order)
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		cp := c.Params()
		if cp.P.Cmp(p) != 0 || cp.B.Cmp(bb) != 0 || cp.N.Cmp(n) != 0 {
			continue
		}
		if c == elliptic.P384() {
			return "the key spells out the P-384 curve parameters instead of naming the curve; re-encode it with openssl ec -pubin -in public.pem -param_enc named_curve -pubout"
		}
		return fmt.Sprintf("the key is on curve %s (with explicit parameters); %s", cp.Name, needP384)
	}
	return unknown
}

// readTLV reads one element with the given single-byte tag from the front of b and returns
// its contents and what follows. It takes BER's non-minimal lengths (but not indefinite
// ones) so that such input reaches parseSPKI's canonical-form check and is named for what
// it is.
func readTLV(b []byte, tag byte) (contents, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, hdr := int(b[1]), 2
	if n >= 0x80 {
		size := n & 0x7f
		// 0x80 is the indefinite length; more than 4 length bytes is far beyond the size cap.
		if size == 0 || size > 4 || len(b) < 2+size {
			return nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+size] {
			n = n<<8 | int(c)
		}
		hdr += size
	}
	if len(b)-hdr < n {
		return nil, nil, false
	}
	return b[hdr : hdr+n], b[hdr+n:], true
}

// parseOID decodes the contents of an OBJECT IDENTIFIER. Like readTLV it takes
// non-minimal (BER) arcs; it refuses arcs of 2^31 or more and encodings over 64 bytes.
func parseOID(b []byte) (asn1.ObjectIdentifier, bool) {
	if len(b) == 0 || len(b) > 64 {
		return nil, false
	}
	var arcs []int
	v := 0
	for _, c := range b {
		if v >= 1<<24 {
			return nil, false
		}
		v = v<<7 | int(c&0x7f)
		if c&0x80 == 0 {
			arcs = append(arcs, v)
			v = 0
		}
	}
	if b[len(b)-1]&0x80 != 0 {
		return nil, false
	}
	oid := make(asn1.ObjectIdentifier, 0, len(arcs)+1)
	switch first := arcs[0]; {
	case first < 40:
		oid = append(oid, 0, first)
	case first < 80:
		oid = append(oid, 1, first-40)
	default:
		oid = append(oid, 2, first-80)
	}
	return append(oid, arcs[1:]...), true
}

// oidSuffix formats an OID for a message: arcs are below 2^31 and the encoding at most 64
// bytes, so it is short and cannot carry anything that looks like key material.
func oidSuffix(oid asn1.ObjectIdentifier) string {
	return " (OID " + oid.String() + ")"
}
