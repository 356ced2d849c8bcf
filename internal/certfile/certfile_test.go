package certfile_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/playkey/playkey/internal/certfile"
	"github.com/playkey/playkey/internal/testca"
)

func TestReload(t *testing.T) {
	ca, err := testca.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := ca.Issue(t, "127.0.0.1", "first.example")
	first.Write(t, certPath, keyPath)
	src, err := certfile.Load(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	served := func() string {
		t.Helper()
		c, err := src.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.SerialNumber.String()
	}
	if served() != first.Cert.SerialNumber.String() {
		t.Fatal("not the loaded certificate")
	}

	// Bad new files keep the old certificate, and the error quotes neither file.
	second := ca.Issue(t, "127.0.0.1", "second.example")
	for name, write := range map[string]func(){
		"garbage cert":     func() { os.WriteFile(certPath, []byte("SECRETGARBAGE"), 0o644) },
		"key of another":   func() { first.Write(t, certPath, keyPath); os.WriteFile(keyPath, second.KeyPEM, 0o600) },
		"missing key file": func() { os.Remove(keyPath) },
		"key as cert":      func() { os.WriteFile(certPath, second.KeyPEM, 0o644); os.WriteFile(keyPath, second.KeyPEM, 0o600) },
	} {
		write()
		_, err := src.Reload()
		if err == nil {
			t.Errorf("%s: reloaded", name)
			continue
		}
		if served() != first.Cert.SerialNumber.String() {
			t.Errorf("%s: the old certificate is no longer served", name)
		}
		if s := err.Error(); strings.Contains(s, "SECRETGARBAGE") || strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "MII") {
			t.Errorf("%s: the error quotes a file: %s", name, s)
		}
		t.Logf("%s: %v", name, err)
	}

	second.Write(t, certPath, keyPath)
	leaf, err := src.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if leaf.DNSNames[0] != "second.example" || served() != second.Cert.SerialNumber.String() {
		t.Errorf("after reload: %v served %s", leaf.DNSNames, served())
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := certfile.Load(filepath.Join(t.TempDir(), "none.pem"), filepath.Join(t.TempDir(), "none.key")); err == nil {
		t.Error("loaded missing files")
	}
}
