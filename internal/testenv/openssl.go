package testenv

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Output runs name with args in dir (the test's directory if empty), with stdin, and returns
// its standard output; the test fails if it fails.
func Output(t testing.TB, dir string, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// OpenSSL runs the openssl command line in dir and returns its standard output. Without
// openssl the test skips (fails under CI).
func OpenSSL(t testing.TB, dir string, stdin []byte, args ...string) []byte {
	t.Helper()
	return Output(t, dir, stdin, Need(t, "openssl"), args...)
}

// OpenSSLKeyPair makes a P-384 key pair in dir with the openssl commands of the IVS
// documentation and returns the paths of the private (SEC1) and public PEM files.
func OpenSSLKeyPair(t testing.TB, dir, name string) (privPath, pubPath string) {
	t.Helper()
	privPath = filepath.Join(dir, name+".priv.pem")
	pubPath = filepath.Join(dir, name+".pub.pem")
	OpenSSL(t, dir, nil, "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", privPath)
	OpenSSL(t, dir, nil, "ec", "-in", privPath, "-pubout", "-out", pubPath)
	return privPath, pubPath
}

// OpenSSLFingerprint is the fingerprint check of the IVS notes, computed by openssl in dir
// for the public key file pubPath (relative to dir, or absolute):
// openssl pkey -pubin -in public.pem -outform DER | openssl md5 -c
func OpenSSLFingerprint(t testing.TB, dir, pubPath string) string {
	t.Helper()
	der := OpenSSL(t, dir, nil, "pkey", "-pubin", "-in", pubPath, "-outform", "DER")
	out := strings.TrimSpace(string(OpenSSL(t, dir, der, "md5", "-c")))
	// OpenSSL 3 prints "MD5(stdin)= 98:0d:...", older versions "(stdin)= 98:0d:...".
	_, fp, ok := strings.Cut(out, "= ")
	if !ok || len(fp) != 47 {
		t.Fatalf("cannot read openssl md5 output %q", out)
	}
	return fp
}
