package keypair_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/keypair"
)

// These tests check the package against the openssl command line, an independent
// implementation. Without openssl they skip, unless CI is set (see testenv.Need).

func openssl(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	return testenv.OpenSSL(t, dir, nil, args...)
}

func readIn(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenSSLFingerprints(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	for i := range 5 {
		priv, pub := "priv"+string(rune('0'+i))+".pem", "pub"+string(rune('0'+i))+".pem"
		openssl(t, dir, "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", priv)
		openssl(t, dir, "ec", "-in", priv, "-pubout", "-out", pub)
		want := testenv.OpenSSLFingerprint(t, dir, pub)
		material := readIn(t, dir, pub)
		for name, f := range reformats {
			_, der := mustParse(t, f(material))
			if got := keypair.Fingerprint(der); got != want {
				t.Errorf("%s, %s: fingerprint %s, openssl says %s", pub, name, got, want)
			}
		}
	}
}

// TestOpenSSLVerdicts feeds the package what openssl (and ssh-keygen) write for the usual
// mistakes, checks each verdict, and where the message gives a command, runs it and checks
// that its output is accepted as the original key.
func TestOpenSSLVerdicts(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	o := func(args ...string) { openssl(t, dir, args...) }

	o("ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "priv.pem")
	o("ec", "-in", "priv.pem", "-pubout", "-out", "public.pem")
	want := testenv.OpenSSLFingerprint(t, dir, "public.pem")

	o("pkey", "-in", "priv.pem", "-out", "pkcs8.pem")
	o("pkcs8", "-topk8", "-in", "priv.pem", "-passout", "pass:secret", "-out", "pkcs8-enc.pem")
	o("ec", "-in", "priv.pem", "-aes128", "-passout", "pass:secret", "-out", "priv-enc.pem")
	o("ec", "-in", "priv.pem", "-pubout", "-conv_form", "compressed", "-out", "compressed.pem")
	o("ec", "-in", "priv.pem", "-pubout", "-conv_form", "hybrid", "-out", "hybrid.pem")
	o("ec", "-in", "priv.pem", "-pubout", "-param_enc", "explicit", "-out", "explicit.pem")
	o("pkey", "-pubin", "-in", "public.pem", "-outform", "DER", "-out", "public.der")
	o("req", "-x509", "-new", "-key", "priv.pem", "-subj", "/CN=x", "-days", "1", "-out", "cert.pem")
	o("req", "-new", "-key", "priv.pem", "-subj", "/CN=x", "-out", "csr.pem")
	o("ecparam", "-name", "secp384r1", "-genkey", "-out", "with-params.pem")
	o("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "genpkey.pem")
	o("pkey", "-in", "genpkey.pem", "-pubout", "-out", "genpkey-public.pem")
	for _, c := range []struct{ curve, file string }{{"prime256v1", "p256"}, {"secp521r1", "p521"}, {"secp384r1", "other"}} {
		o("ecparam", "-name", c.curve, "-genkey", "-noout", "-out", c.file+"-priv.pem")
		o("ec", "-in", c.file+"-priv.pem", "-pubout", "-out", c.file+".pem")
	}
	o("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa-priv.pem")
	o("pkey", "-in", "rsa-priv.pem", "-pubout", "-out", "rsa.pem")
	o("rsa", "-in", "rsa-priv.pem", "-RSAPublicKey_out", "-out", "rsa-pkcs1.pem")
	for _, alg := range []string{"ed25519", "ed448", "x25519"} {
		o("genpkey", "-algorithm", alg, "-out", alg+"-priv.pem")
		o("pkey", "-in", alg+"-priv.pem", "-pubout", "-out", alg+".pem")
	}
	// A BER copy of public.pem (long-form outer length) for the canonical-form advice.
	der, err := os.ReadFile(filepath.Join(dir, "public.der"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ber.pem"), []byte(armor("PUBLIC KEY", append([]byte{0x30, 0x81}, der[1:]...))), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		file   string
		reason string   // "" means accepted
		fix    []string // openssl command the reason suggests, printing the fixed PEM
	}{
		{file: "public.pem"},
		{file: "genpkey-public.pem"},
		{"priv.pem", "this is a private key (EC PRIVATE KEY); import only the public key: openssl ec -in priv.pem -pubout", []string{"ec", "-in", "priv.pem", "-pubout"}},
		{"priv-enc.pem", "this is a private key (EC PRIVATE KEY); import only the public key: openssl ec -in priv.pem -pubout", []string{"ec", "-in", "priv-enc.pem", "-passin", "pass:secret", "-pubout"}},
		{"with-params.pem", "this is a private key (EC PRIVATE KEY); import only the public key: openssl ec -in priv.pem -pubout", nil},
		{"pkcs8.pem", "this is a private key (PRIVATE KEY); import only the public key: openssl pkey -in priv.pem -pubout", []string{"pkey", "-in", "pkcs8.pem", "-pubout"}},
		{"pkcs8-enc.pem", "this is a private key (ENCRYPTED PRIVATE KEY); import only the public key: openssl pkey -in priv.pem -pubout", []string{"pkey", "-in", "pkcs8-enc.pem", "-passin", "pass:secret", "-pubout"}},
		{"compressed.pem", "the public key point is compressed; IVS needs the uncompressed form that openssl writes by default: openssl ec -pubin -in public.pem -conv_form uncompressed -pubout", []string{"ec", "-pubin", "-in", "compressed.pem", "-conv_form", "uncompressed", "-pubout"}},
		{"hybrid.pem", "the public key point uses the hybrid encoding; IVS needs the uncompressed form that openssl writes by default: openssl ec -pubin -in public.pem -conv_form uncompressed -pubout", []string{"ec", "-pubin", "-in", "hybrid.pem", "-conv_form", "uncompressed", "-pubout"}},
		{"explicit.pem", "the key spells out the P-384 curve parameters instead of naming the curve; re-encode it with openssl ec -pubin -in public.pem -param_enc named_curve -pubout", []string{"ec", "-pubin", "-in", "explicit.pem", "-param_enc", "named_curve", "-pubout"}},
		{"public.der", "this is binary DER, not PEM; convert it with openssl pkey -pubin -inform DER -in public.der -out public.pem", []string{"pkey", "-pubin", "-inform", "DER", "-in", "public.der"}},
		{"ber.pem", "the DER SubjectPublicKeyInfo is not in canonical form; re-encode it with openssl pkey -pubin -in public.pem -out fixed.pem", []string{"pkey", "-pubin", "-in", "ber.pem"}},
		{"cert.pem", "this is a certificate; IVS needs the bare public key: extract it with openssl x509 -in cert.pem -pubkey -noout", []string{"x509", "-in", "cert.pem", "-pubkey", "-noout"}},
		{"csr.pem", "this is a certificate signing request; IVS needs the bare public key: extract it with openssl req -in csr.pem -pubkey -noout", []string{"req", "-in", "csr.pem", "-pubkey", "-noout"}},
		{"p256.pem", "the key is on curve P-256; " + needP384, nil},
		{"p521.pem", "the key is on curve P-521; " + needP384, nil},
		{"p256-priv.pem", "this is a private key (EC PRIVATE KEY); import only the public key: openssl ec -in priv.pem -pubout", nil},
		{"rsa.pem", "this is an RSA public key; " + needP384, nil},
		{"rsa-pkcs1.pem", "this is an RSA public key (PKCS#1 RSA PUBLIC KEY); " + needP384, nil},
		{"rsa-priv.pem", "this is a private key (PRIVATE KEY); import only the public key: openssl pkey -in priv.pem -pubout", nil},
		{"ed25519.pem", "this is an Ed25519 public key; " + needP384, nil},
		{"ed448.pem", "this is an Ed448 public key; " + needP384, nil},
		{"x25519.pem", "this is an X25519 public key; " + needP384, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			material := readIn(t, dir, tc.file)
			if tc.reason == "" {
				_, der := mustParse(t, material)
				if got := keypair.Fingerprint(der); got != testenv.OpenSSLFingerprint(t, dir, tc.file) {
					t.Errorf("fingerprint %s differs from openssl's", got)
				}
				return
			}
			checkRejected(t, material, tc.reason)
			if tc.fix != nil {
				_, der := mustParse(t, string(openssl(t, dir, tc.fix...)))
				if got := keypair.Fingerprint(der); got != want {
					t.Errorf("after the fix: fingerprint %s, want the original key's %s", got, want)
				}
			}
		})
	}

	// Two PEM files pasted together.
	checkRejected(t, readIn(t, dir, "public.pem")+readIn(t, dir, "other.pem"), "found 2 PEM blocks (PUBLIC KEY, PUBLIC KEY); give exactly one PUBLIC KEY block")
}

func TestSSHKeygenVerdicts(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "openssl")
	testenv.Need(t, "ssh-keygen")
	dir := t.TempDir()
	testenv.Output(t, dir, nil, "ssh-keygen", "-q", "-t", "ecdsa", "-b", "384", "-N", "", "-C", "me@host", "-f", "id_ecdsa")
	testenv.Output(t, dir, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "id_ed25519")

	checkRejected(t, readIn(t, dir, "id_ecdsa.pub"), "this is an OpenSSH public key (ecdsa-sha2-nistp384), not PEM; convert it with ssh-keygen -e -m PKCS8 -f key.pub")
	checkRejected(t, readIn(t, dir, "id_ecdsa"), "this is a private key (OPENSSH PRIVATE KEY); import only the public key: ssh-keygen -e -m PKCS8 -f id_ecdsa")
	checkRejected(t, readIn(t, dir, "id_ed25519.pub"), "this is an OpenSSH public key (ssh-ed25519); "+needP384)

	// Both suggested conversions give the same, accepted key, fingerprinted as openssl does.
	fromPub := testenv.Output(t, dir, nil, "ssh-keygen", "-e", "-m", "PKCS8", "-f", "id_ecdsa.pub")
	fromPriv := testenv.Output(t, dir, nil, "ssh-keygen", "-e", "-m", "PKCS8", "-f", "id_ecdsa")
	if err := os.WriteFile(filepath.Join(dir, "public.pem"), fromPub, 0o644); err != nil {
		t.Fatal(err)
	}
	_, der1 := mustParse(t, string(fromPub))
	_, der2 := mustParse(t, string(fromPriv))
	if !bytes.Equal(der1, der2) {
		t.Error("the two conversions differ")
	}
	if got, want := keypair.Fingerprint(der1), testenv.OpenSSLFingerprint(t, dir, "public.pem"); got != want {
		t.Errorf("fingerprint %s, openssl says %s", got, want)
	}
}

// TestOpenSSLAgreesWithOurPEM checks that what keygen writes is what openssl writes and
// reads: the public key openssl derives from our private key PEM is byte for byte
// MarshalPublicKeyPEM's, openssl's own rewrite of our private key is byte for byte ours,
// and openssl's key check passes.
func TestOpenSSLAgreesWithOurPEM(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "openssl")
	for i := range 3 {
		dir := t.TempDir()
		k, err := keypair.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if err := keypair.WriteKeyFiles(filepath.Join(dir, "priv.pem"), filepath.Join(dir, "public.pem"), k); err != nil {
			t.Fatal(err)
		}
		privPEM, _ := keypair.MarshalPrivateKeyPEM(k)
		pubPEM, _ := keypair.MarshalPublicKeyPEM(&k.PublicKey)
		if got := readIn(t, dir, "priv.pem"); got != string(privPEM) {
			t.Error("priv.pem differs from MarshalPrivateKeyPEM")
		}
		if got := readIn(t, dir, "public.pem"); got != string(pubPEM) {
			t.Error("public.pem differs from MarshalPublicKeyPEM")
		}

		openssl(t, dir, "ec", "-in", "priv.pem", "-check", "-noout")
		if got := openssl(t, dir, "ec", "-in", "priv.pem", "-pubout"); !bytes.Equal(got, pubPEM) {
			t.Errorf("key %d: openssl ec -pubout wrote\n%s\nMarshalPublicKeyPEM wrote\n%s", i, got, pubPEM)
		}
		if got := openssl(t, dir, "ec", "-in", "priv.pem"); !bytes.Equal(got, privPEM) {
			t.Errorf("key %d: openssl ec rewrote our private key as\n(%d bytes), ours is %d bytes", i, len(got), len(privPEM))
		}
		if got, want := keypair.Fingerprint(mustDER(t, pubPEM)), testenv.OpenSSLFingerprint(t, dir, "public.pem"); got != want {
			t.Errorf("fingerprint %s, openssl says %s", got, want)
		}
	}
}

func mustDER(t *testing.T, pubPEM []byte) []byte {
	t.Helper()
	_, der := mustParse(t, string(pubPEM))
	return der
}

// TestOpenSSLPrivateKeys reads private keys as openssl writes them.
func TestOpenSSLPrivateKeys(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	o := func(args ...string) { openssl(t, dir, args...) }
	o("ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "sec1.pem")
	o("ec", "-in", "sec1.pem", "-pubout", "-out", "public.pem")
	o("pkey", "-in", "sec1.pem", "-out", "pkcs8.pem")
	o("ecparam", "-name", "secp384r1", "-genkey", "-out", "with-params.pem")
	o("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "p256.pem")
	o("genpkey", "-algorithm", "ed25519", "-out", "ed25519.pem")

	pub, _ := mustParse(t, readIn(t, dir, "public.pem"))
	for _, f := range []string{"sec1.pem", "pkcs8.pem"} {
		k, err := keypair.ParsePrivateKeyPEM([]byte(readIn(t, dir, f)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !k.PublicKey.Equal(pub) {
			t.Errorf("%s: public key differs from openssl's", f)
		}
	}
	if _, err := keypair.ParsePrivateKeyPEM([]byte(readIn(t, dir, "with-params.pem"))); err != nil {
		t.Errorf("with EC PARAMETERS: %v", err)
	}
	for f, want := range map[string]string{
		"p256.pem":    "keypair: the private key is on curve P-256; " + needP384,
		"ed25519.pem": "keypair: this is an Ed25519 private key; " + needP384,
	} {
		if _, err := keypair.ParsePrivateKeyPEM([]byte(readIn(t, dir, f))); err == nil || err.Error() != want {
			t.Errorf("%s: err = %v, want %s", f, err, want)
		}
	}
}
