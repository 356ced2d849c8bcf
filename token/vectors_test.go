package token_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/playkey/playkey/token"
)

// vectors is testdata/vectors.json, made by testdata/gen_vectors.py with joserfc and
// pyca/cryptography; its verdicts were written from the IVS rules, not by this package.
type vectors struct {
	Now  int64 `json:"now"`
	Keys map[string]struct {
		PrivatePEM string `json:"private_pem"`
		PublicPEM  string `json:"public_pem"`
	} `json:"keys"`
	Cases []vectorCase `json:"cases"`
}

type vectorCase struct {
	Name          string   `json:"name"`
	Token         string   `json:"token"`
	Keys          []string `json:"keys"`
	ChannelARN    string   `json:"channel_arn"`
	LeewaySeconds int      `json:"leeway_seconds"`
	Want          string   `json:"want"`
	KeyIndex      int      `json:"key_index"`
}

var loadVectors = sync.OnceValues(func() (*vectors, error) {
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		return nil, err
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return &v, nil
})

func testVectors(t testing.TB) *vectors {
	t.Helper()
	v, err := loadVectors()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// publicKey parses a SubjectPublicKeyInfo PEM with the standard library.
func publicKey(t testing.TB, pemText string) *ecdsa.PublicKey {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PublicKey)
}

func privateKey(t testing.TB, pemText string) *ecdsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		t.Fatal("no PEM block")
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}

func (v *vectors) publicKeys(t testing.TB, names []string) []*ecdsa.PublicKey {
	keys := make([]*ecdsa.PublicKey, 0, len(names))
	for _, n := range names {
		keys = append(keys, publicKey(t, v.Keys[n].PublicPEM))
	}
	return keys
}

func TestVectors(t *testing.T) {
	t.Parallel()
	vs := testVectors(t)
	now := time.Unix(vs.Now, 0)
	for _, c := range vs.Cases {
		t.Run(c.Name, func(t *testing.T) {
			v := &token.Verifier{Leeway: time.Duration(c.LeewaySeconds) * time.Second}
			keys := vs.publicKeys(t, c.Keys)
			claims, idx, err := v.Verify(c.Token, keys, c.ChannelARN, now)
			if c.Want == "valid" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if idx != c.KeyIndex {
					t.Errorf("key index %d, want %d", idx, c.KeyIndex)
				}
				if claims.ChannelARN != c.ChannelARN {
					t.Errorf("ChannelARN %q", claims.ChannelARN)
				}
				// A second opinion on the signature: go-jose must agree.
				jws, err := jose.ParseSignedCompact(c.Token, []jose.SignatureAlgorithm{jose.ES384})
				if err != nil {
					t.Fatalf("go-jose ParseSigned: %v", err)
				}
				if _, err := jws.Verify(keys[idx]); err != nil {
					t.Fatalf("go-jose Verify: %v", err)
				}
				return
			}
			var rej *token.Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("Verify = %v, want a rejection %s", err, c.Want)
			}
			if string(rej.Code) != c.Want {
				t.Fatalf("code %s (%s), want %s", rej.Code, rej.Reason, c.Want)
			}
			t.Logf("%s: %s", rej.Code, rej.Reason)
		})
	}
}
