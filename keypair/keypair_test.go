package keypair_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
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

// prefix is AWS's wording; every rejection starts with it.
const prefix = "Request member: publicKeyMaterial failed to satisfy the constraints: "

const needP384 = "IVS playback keys must be ECDSA P-384 (secp384r1)"

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixtureFingerprints reads testdata/fingerprints.txt: file name and the fingerprint
// openssl printed for it.
func fixtureFingerprints(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/fingerprints.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, fp, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line in fingerprints.txt: %q", line)
		}
		m[name] = fp
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatal("no fingerprints in testdata/fingerprints.txt")
	}
	return m
}

// longBase64 matches what key material in a message would look like.
var longBase64 = regexp.MustCompile(`[A-Za-z0-9+/=_-]{24,}`)

// checkRejected checks that material is refused with exactly prefix+reason and that the
// message repeats nothing of the key.
func checkRejected(t *testing.T, material, reason string) {
	t.Helper()
	pub, der, err := keypair.ParsePublicKeyPEM(material)
	if err == nil {
		t.Fatalf("accepted (fingerprint %s); want %q", keypair.Fingerprint(der), reason)
	}
	if pub != nil || der != nil {
		t.Errorf("returned a key along with error %v", err)
	}
	var e *playkey.Error
	if !errors.As(err, &e) || e.Code != playkey.ErrValidation {
		t.Fatalf("error %#v is not a ValidationException", err)
	}
	if want := prefix + reason; e.Message != want {
		t.Errorf("message\n got %q\nwant %q", e.Message, want)
	}
	checkNoKeyMaterial(t, e.Message)
}

func checkNoKeyMaterial(t testing.TB, msg string) {
	t.Helper()
	if m := longBase64.FindString(msg); m != "" {
		t.Errorf("message %q contains %q, which looks like key material", msg, m)
	}
	if len(msg) > 400 {
		t.Errorf("message is %d bytes long", len(msg))
	}
}

func mustParse(t testing.TB, material string) (*ecdsa.PublicKey, []byte) {
	t.Helper()
	pub, der, err := keypair.ParsePublicKeyPEM(material)
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	return pub, der
}

func TestFixtureFingerprints(t *testing.T) {
	t.Parallel()
	for name, want := range fixtureFingerprints(t) {
		t.Run(name, func(t *testing.T) {
			pem := readFile(t, name)
			pub, der := mustParse(t, pem)
			if got := keypair.Fingerprint(der); got != want {
				t.Errorf("fingerprint %s, openssl says %s", got, want)
			}
			if pub.Curve != elliptic.P384() {
				t.Errorf("curve %s", pub.Curve.Params().Name)
			}
			// openssl wrote the fixture; our encoder must write the same bytes.
			out, err := keypair.MarshalPublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != pem {
				t.Errorf("MarshalPublicKeyPEM\n%s\ndiffers from openssl's\n%s", out, pem)
			}
			back, err := keypair.ParsePublicKeyDER(der)
			if err != nil || !back.Equal(pub) {
				t.Errorf("ParsePublicKeyDER: %v, equal %v", err, back.Equal(pub))
			}
		})
	}
}

func TestFingerprintFormat(t *testing.T) {
	t.Parallel()
	// RFC 1321's test vector for the empty string, in openssl md5 -c's format.
	if got, want := keypair.Fingerprint(nil), "d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e"; got != want {
		t.Errorf("Fingerprint(nil) = %s, want %s", got, want)
	}
}

// reformat applies a formatting change that must not change the key.
var reformats = map[string]func(string) string{
	"as is":            func(s string) string { return s },
	"CRLF":             func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") },
	"no final newline": func(s string) string { return strings.TrimRight(s, "\n") },
	"surrounding whitespace": func(s string) string {
		return "\n\n  \t" + s + "\r\n \n\t "
	},
	"byte-order mark":   func(s string) string { return "\ufeff" + s },
	"one base64 line":   func(s string) string { return rewrap(s, 1<<20) },
	"76 columns":        func(s string) string { return rewrap(s, 76) },
	"17 columns + CRLF": func(s string) string { return strings.ReplaceAll(rewrap(s, 17), "\n", "\r\n") },
	"indented":          func(s string) string { return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ") },
	"trailing spaces":   func(s string) string { return strings.ReplaceAll(s, "\n", " \t\n") },
	"blank lines":       func(s string) string { return strings.ReplaceAll(s, "\n", "\n\n") },
}

// rewrap re-wraps the base64 body of a one-block PEM at width columns.
func rewrap(s string, width int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	body := strings.Join(lines[1:len(lines)-1], "")
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for len(body) > 0 {
		n := min(width, len(body))
		b.WriteString(body[:n] + "\n")
		body = body[n:]
	}
	b.WriteString(lines[len(lines)-1] + "\n")
	return b.String()
}

func TestFormattingDoesNotChangeTheKey(t *testing.T) {
	t.Parallel()
	want := fixtureFingerprints(t)["p384.pem"]
	orig := readFile(t, "p384.pem")
	_, origDER := mustParse(t, orig)
	for name, f := range reformats {
		t.Run(name, func(t *testing.T) {
			_, der := mustParse(t, f(orig))
			if !bytes.Equal(der, origDER) {
				t.Error("DER differs")
			}
			if got := keypair.Fingerprint(der); got != want {
				t.Errorf("fingerprint %s, want %s", got, want)
			}
		})
	}
}

func TestRejectFixtures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, reason string }{
		{"p256.pem", "the key is on curve P-256; " + needP384},
		{"p521.pem", "the key is on curve P-521; " + needP384},
		{"secp256k1.pem", "the key is on curve secp256k1; " + needP384},
		{"rsa.pem", "this is an RSA public key; " + needP384},
		{"rsa-pkcs1.pem", "this is an RSA public key (PKCS#1 RSA PUBLIC KEY); " + needP384},
		{"ed25519.pem", "this is an Ed25519 public key; " + needP384},
		{"p384-cert.pem", "this is a certificate; IVS needs the bare public key: extract it with openssl x509 -in cert.pem -pubkey -noout"},
		{"p384-csr.pem", "this is a certificate signing request; IVS needs the bare public key: extract it with openssl req -in csr.pem -pubkey -noout"},
		{"ec-params.pem", "this holds only curve parameters (EC PARAMETERS), no key; expected -----BEGIN PUBLIC KEY-----"},
		{"p384-compressed.pem", "the public key point is compressed; IVS needs the uncompressed form that openssl writes by default: openssl ec -pubin -in public.pem -conv_form uncompressed -pubout"},
		{"p384-explicit.pem", "the key spells out the P-384 curve parameters instead of naming the curve; re-encode it with openssl ec -pubin -in public.pem -param_enc named_curve -pubout"},
		{"p256-explicit.pem", "the key is on curve P-256 (with explicit parameters); " + needP384},
		{"p384-openssh.pub", "this is an OpenSSH public key (ecdsa-sha2-nistp384), not PEM; convert it with ssh-keygen -e -m PKCS8 -f key.pub"},
		{"p384.jwk.json", "this is a JWK (JSON Web Key), not PEM; convert it to a -----BEGIN PUBLIC KEY----- block with a JOSE tool"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			checkRejected(t, readFile(t, tc.file), tc.reason)
		})
	}
}

// p384DER is the DER of testdata/p384.pem.
func p384DER(t testing.TB) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(readFile(t, "p384.pem")))
	return b.Bytes
}

func armor(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// spki builds a SubjectPublicKeyInfo with the given algorithm, parameters and key bits.
func spki(t testing.TB, alg asn1.ObjectIdentifier, params []byte, bits asn1.BitString) []byte {
	t.Helper()
	var v struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	v.Algorithm.Algorithm = alg
	if params != nil {
		v.Algorithm.Parameters = asn1.RawValue{FullBytes: params}
	}
	v.PublicKey = bits
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestRejectConstructed(t *testing.T) {
	t.Parallel()
	good := readFile(t, "p384.pem")
	der := p384DER(t)
	body := strings.Join(strings.Split(strings.TrimSpace(good), "\n")[1:3], "\n") // two body lines
	point := der[len(der)-97:]
	oidEC := asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	p384Params, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 132, 0, 34})
	bits := func(b []byte) asn1.BitString { return asn1.BitString{Bytes: b, BitLength: 8 * len(b)} }
	withPoint := func(p []byte) string { return armor("PUBLIC KEY", spki(t, oidEC, p384Params, bits(p))) }
	offCurve := bytes.Clone(point)
	offCurve[96] ^= 1
	hybrid := bytes.Clone(point)
	hybrid[0] = 6
	nullParams, _ := asn1.Marshal(asn1.NullRawValue)
	brainpool, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11})
	oddCurve, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 3, 4})
	// BER: the outer SEQUENCE's length in long form.
	ber := append([]byte{0x30, 0x81}, der[1:]...)
	// BER: the curve OID's first arc padded with 0x80.
	paddedOID := append([]byte{0x30, byte(len(der) - 1), 0x30, 0x11}, der[4:4+9]...)
	paddedOID = append(paddedOID, 0x06, 0x06, 0x80, 0x2b, 0x81, 0x04, 0x00, 0x22)
	paddedOID = append(paddedOID, der[4+9+7:]...)
	big := "-----BEGIN PUBLIC KEY-----\n" + strings.Repeat(strings.Repeat("A", 64)+"\n", 300) + "-----END PUBLIC KEY-----\n"

	for _, tc := range []struct{ name, material, reason string }{
		{"empty", "", "empty; expected -----BEGIN PUBLIC KEY-----"},
		{"whitespace", " \r\n\t\n", "empty; expected -----BEGIN PUBLIC KEY-----"},
		{"too large", big, "the key material is 19552 bytes; at most 16384 are accepted (a P-384 public key PEM is 215)"},
		{"not PEM", "hello world", "not PEM: expected -----BEGIN PUBLIC KEY-----"},
		{"bare base64", base64.StdEncoding.EncodeToString(der), "this is base64 without the PEM lines; put -----BEGIN PUBLIC KEY----- before it and -----END PUBLIC KEY----- after it, each on its own line"},
		{"binary DER", string(der), "this is binary DER, not PEM; convert it with openssl pkey -pubin -inform DER -in public.der -out public.pem"},
		{"JSON", `{"publicKeyMaterial": "x"}`, "this is JSON, not PEM: expected -----BEGIN PUBLIC KEY-----"},
		{"JWK set", `{"keys": []}`, "this is a JWK (JSON Web Key), not PEM; convert it to a -----BEGIN PUBLIC KEY----- block with a JOSE tool"},
		{"ssh-ed25519", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFake user@host", "this is an OpenSSH public key (ssh-ed25519); " + needP384},
		{"ssh2", "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----", "this is an SSH2 (RFC 4716) public key, not PEM; convert it with ssh-keygen -i -f key.pub > openssh.pub, then ssh-keygen -e -m PKCS8 -f openssh.pub"},
		{"literal backslash n", strings.ReplaceAll(strings.TrimSpace(good), "\n", `\n`), `the key material contains literal \n sequences instead of line breaks; send the PEM text itself`},
		{"line breaks lost", strings.ReplaceAll(good, "\n", " "), "malformed BEGIN line: expected -----BEGIN PUBLIC KEY----- on a line of its own (were line breaks lost?)"},
		{"END glued", strings.Replace(good, "\n-----END", "-----END", 1), "the -----END PUBLIC KEY----- line shares a line with the base64 text (were line breaks lost?)"},
		{"two blocks", good + readFile(t, "p384-b.pem"), "found 2 PEM blocks (PUBLIC KEY, PUBLIC KEY); give exactly one PUBLIC KEY block"},
		{"cert and key", readFile(t, "p384-cert.pem") + good, "found 2 PEM blocks (CERTIFICATE, PUBLIC KEY); give exactly one PUBLIC KEY block"},
		{"params and private key", readFile(t, "ec-params.pem") + armor("EC PRIVATE KEY", []byte{1}), "this is a private key (EC PRIVATE KEY); import only the public key: openssl ec -in priv.pem -pubout"},
		{"PKCS#8 private key", armor("PRIVATE KEY", []byte{1}), "this is a private key (PRIVATE KEY); import only the public key: openssl pkey -in priv.pem -pubout"},
		{"encrypted private key", armor("ENCRYPTED PRIVATE KEY", []byte{1}), "this is a private key (ENCRYPTED PRIVATE KEY); import only the public key: openssl pkey -in priv.pem -pubout"},
		{"OpenSSH private key", armor("OPENSSH PRIVATE KEY", []byte{1}), "this is a private key (OPENSSH PRIVATE KEY); import only the public key: ssh-keygen -e -m PKCS8 -f id_ecdsa"},
		{"EC PUBLIC KEY", armor("EC PUBLIC KEY", der), "the block is labelled EC PUBLIC KEY; IVS needs a SubjectPublicKeyInfo labelled PUBLIC KEY, as openssl ec -in priv.pem -pubout writes it"},
		{"PGP", armor("PGP PUBLIC KEY BLOCK", der), "the PEM block is of type PGP PUBLIC KEY BLOCK; expected -----BEGIN PUBLIC KEY-----"},
		{"type not echoed", armor("MHYWEAYHKOZIZJ0CAQYFK4EEACIDYGAE", der), "the PEM block has an unrecognised type; expected -----BEGIN PUBLIC KEY-----"},
		{"private type not echoed", armor("MHYWEAYHKOZIZJ0CAQYFK4EEACIDYGAE PRIVATE KEY", der), "this is a private key; import only the public key: openssl pkey -in priv.pem -pubout"},
		{"empty type", armor("", der), "the PEM block has an unrecognised type; expected -----BEGIN PUBLIC KEY-----"},
		{"text before", "my key:\n" + good, "text before the -----BEGIN PUBLIC KEY----- line; give only the PEM block"},
		{"text after", good + "thanks\n", "trailing data after the PEM block"},
		{"text after END", strings.TrimSpace(good) + " x", "trailing data after the PEM block"},
		{"no END", strings.TrimSpace(good[:strings.Index(good, "-----END")]), "no -----END PUBLIC KEY----- line"},
		{"END mismatch", strings.Replace(good, "-----END PUBLIC KEY", "-----END PRIVATE KEY", 1), "the -----END line does not match -----BEGIN PUBLIC KEY-----"},
		{"headers", strings.Replace(good, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n", 1), "PEM headers (such as Proc-Type) are not allowed in a PUBLIC KEY block"},
		{"empty block", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----", "the PUBLIC KEY block is empty"},
		{"bad base64", "-----BEGIN PUBLIC KEY-----\n" + body + "!\n-----END PUBLIC KEY-----", "the PUBLIC KEY block is not valid base64"},
		{"URL-safe base64", strings.NewReplacer("+", "-", "/", "_").Replace(good), "the PUBLIC KEY block is not valid base64"},
		{"missing padding", "-----BEGIN PUBLIC KEY-----\nMHY\n-----END PUBLIC KEY-----", "the PUBLIC KEY block is not valid base64"},
		{"truncated DER", "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----", "the key is not a valid DER SubjectPublicKeyInfo"},
		{"not DER", armor("PUBLIC KEY", []byte("hello")), "the key is not a valid DER SubjectPublicKeyInfo"},
		{"trailing DER", armor("PUBLIC KEY", append(bytes.Clone(der), 0, 0)), "trailing data after the DER SubjectPublicKeyInfo (2 bytes)"},
		{"BER length", armor("PUBLIC KEY", ber), "the DER SubjectPublicKeyInfo is not in canonical form; re-encode it with openssl pkey -pubin -in public.pem -out fixed.pem"},
		{"BER OID", armor("PUBLIC KEY", paddedOID), "the DER SubjectPublicKeyInfo is not in canonical form; re-encode it with openssl pkey -pubin -in public.pem -out fixed.pem"},
		{"off curve", withPoint(offCurve), "the public key point is not on the P-384 curve"},
		{"infinity", withPoint([]byte{0}), "the public key is the point at infinity, which is not a valid key"},
		{"hybrid", withPoint(hybrid), "the public key point uses the hybrid encoding; IVS needs the uncompressed form that openssl writes by default: openssl ec -pubin -in public.pem -conv_form uncompressed -pubout"},
		{"short point", withPoint(point[:95]), "the public key point has the wrong length for P-384"},
		{"bad point prefix", withPoint(append([]byte{5}, point[1:]...)), "the public key point is not a valid EC point encoding"},
		{"empty point", withPoint(nil), "the public key point is empty"},
		{"unused bits", armor("PUBLIC KEY", spki(t, oidEC, p384Params, asn1.BitString{Bytes: point, BitLength: 8*97 - 1})), "the key is not a valid DER SubjectPublicKeyInfo"},
		{"no curve", armor("PUBLIC KEY", spki(t, oidEC, nil, bits(point))), "the EC key does not name its curve; " + needP384},
		{"implicitlyCA", armor("PUBLIC KEY", spki(t, oidEC, nullParams, bits(point))), "the EC key does not name its curve (implicitlyCA); " + needP384},
		{"brainpool", armor("PUBLIC KEY", spki(t, oidEC, brainpool, bits(point))), "the key is on curve brainpoolP384r1; " + needP384},
		{"unknown curve", armor("PUBLIC KEY", spki(t, oidEC, oddCurve, bits(point))), "the key is on an unsupported curve (OID 1.2.3.4); " + needP384},
		{"unknown algorithm", armor("PUBLIC KEY", spki(t, asn1.ObjectIdentifier{1, 2, 3, 4}, nil, bits(point))), "the key's algorithm (OID 1.2.3.4) is not ECDSA; " + needP384},
		{"X25519", armor("PUBLIC KEY", spki(t, asn1.ObjectIdentifier{1, 3, 101, 110}, nil, bits(make([]byte, 32)))), "this is an X25519 public key; " + needP384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkRejected(t, tc.material, tc.reason)
		})
	}
}

func TestParsePublicKeyDER(t *testing.T) {
	t.Parallel()
	der := p384DER(t)
	pub, err := keypair.ParsePublicKeyDER(der)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := mustParse(t, readFile(t, "p384.pem"))
	if !pub.Equal(want) {
		t.Error("keys differ")
	}
	_, err = keypair.ParsePublicKeyDER(der[:len(der)-1])
	if err == nil || playkey.ErrorCode(err) != playkey.ErrInternal {
		t.Errorf("truncated DER: err = %v; want a plain (internal) error", err)
	}
}

func TestMarshalRefusesOtherCurves(t *testing.T) {
	t.Parallel()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keypair.MarshalPublicKeyPEM(&k.PublicKey); err == nil {
		t.Error("MarshalPublicKeyPEM took a P-256 key")
	}
	if _, err := keypair.MarshalPrivateKeyPEM(k); err == nil {
		t.Error("MarshalPrivateKeyPEM took a P-256 key")
	}
	if err := keypair.WriteKeyFiles(filepath.Join(t.TempDir(), "k"), "", k); err == nil {
		t.Error("WriteKeyFiles took a P-256 key")
	}
}

func TestGenerateRoundTrip(t *testing.T) {
	t.Parallel()
	k, err := keypair.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if k.Curve != elliptic.P384() {
		t.Fatalf("curve %s", k.Curve.Params().Name)
	}
	privPEM, err := keypair.MarshalPrivateKeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN EC PRIVATE KEY-----\n")) {
		t.Errorf("private key PEM starts %q", privPEM[:31])
	}
	back, err := keypair.ParsePrivateKeyPEM(privPEM)
	if err != nil || !back.Equal(k) {
		t.Fatalf("ParsePrivateKeyPEM: %v", err)
	}
	pubPEM, err := keypair.MarshalPublicKeyPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := mustParse(t, string(pubPEM))
	if !pub.Equal(&k.PublicKey) {
		t.Error("public keys differ")
	}
	// The private key must be refused as public key material.
	checkRejected(t, string(privPEM), "this is a private key (EC PRIVATE KEY); import only the public key: openssl ec -in priv.pem -pubout")
}

func TestParsePrivateKeyPEM(t *testing.T) {
	t.Parallel()
	k, _ := keypair.Generate()
	sec1, _ := x509.MarshalECPrivateKey(k)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	k256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1P256, _ := x509.MarshalECPrivateKey(k256)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	pkcs8RSA, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	params, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 132, 0, 34})

	for _, tc := range []struct {
		name, pem, err string
	}{
		{"SEC1", armor("EC PRIVATE KEY", sec1), ""},
		{"PKCS#8", armor("PRIVATE KEY", pkcs8), ""},
		{"EC PARAMETERS first", armor("EC PARAMETERS", params) + armor("EC PRIVATE KEY", sec1), ""},
		{"CRLF and text around", "key:\r\n" + strings.ReplaceAll(armor("EC PRIVATE KEY", sec1), "\n", "\r\n") + "bye", ""},
		{"P-256", armor("EC PRIVATE KEY", sec1P256), "keypair: the private key is on curve P-256; " + needP384},
		{"RSA PKCS#8", armor("PRIVATE KEY", pkcs8RSA), "keypair: this is an RSA private key; " + needP384},
		{"RSA PKCS#1", armor("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), "keypair: this is an RSA private key; " + needP384},
		{"public key", readFile(t, "p384.pem"), "keypair: this is a public key, not a private key"},
		{"encrypted", armor("ENCRYPTED PRIVATE KEY", []byte{1}), "keypair: the private key is encrypted (ENCRYPTED PRIVATE KEY); decrypt it with: openssl pkey -in priv.pem -out plain.pem"},
		{"legacy encrypted", "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n", "keypair: the private key is encrypted (Proc-Type header); decrypt it with: openssl ec -in priv.pem -out plain.pem"},
		{"OpenSSH", armor("OPENSSH PRIVATE KEY", []byte{1}), "keypair: this is an OpenSSH private key; convert a copy to PEM with: ssh-keygen -p -m PEM -f copy_of_key"},
		{"two keys", armor("EC PRIVATE KEY", sec1) + armor("EC PRIVATE KEY", sec1), "keypair: found 2 PEM blocks; expected one private key"},
		{"not PEM", "hello", "keypair: no PEM private key found: expected -----BEGIN EC PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := keypair.ParsePrivateKeyPEM([]byte(tc.pem))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(k) {
					t.Error("wrong key")
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Errorf("err = %v\nwant %s", err, tc.err)
			}
		})
	}
}
