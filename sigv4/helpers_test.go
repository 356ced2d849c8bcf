package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// testNow is the verifier's clock in most tests.
var testNow = time.Date(2026, 11, 28, 12, 30, 0, 0, time.UTC)

var (
	testCred = Credential{
		AccessKeyID:     "AKIAPLAYKEYTEST00001",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Account:         "123456789012",
		Profile:         "default",
	}
	otherCred = Credential{
		AccessKeyID:     "AKIAPLAYKEYTEST00002",
		SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
		Account:         "210987654321",
		Profile:         "other",
	}
)

const tagsPath = "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Aplayback-key%2FAbCd"

func testVerifier() *Verifier {
	creds := Credentials{testCred.AccessKeyID: testCred, otherCred.AccessKeyID: otherCred}
	return &Verifier{Lookup: creds.Lookup, Now: func() time.Time { return testNow }}
}

// newRequest builds a client request to a playkey endpoint. rawURL may be a path.
func newRequest(t testing.TB, method, rawURL string, body []byte) *http.Request {
	t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = "http://playkey.test:4566" + rawURL
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkSign signs req in place with the AWS SDK for Go's signer, the independent
// implementation the verifier is checked against.
func sdkSign(t testing.TB, req *http.Request, body []byte, cred Credential, region, service string, at time.Time) {
	t.Helper()
	sdkSignHash(t, req, hashHex(body), cred, region, service, at)
}

func sdkSignHash(t testing.TB, req *http.Request, payloadHash string, cred Credential, region, service string, at time.Time) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, service, region, at); err != nil {
		t.Fatal(err)
	}
}

// toServer sends req through the HTTP/1.1 wire format and returns the request as a Go
// server would hand it to a handler.
func toServer(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustVerify verifies r and checks that the handler can still read the body.
func mustVerify(t testing.TB, v *Verifier, r *http.Request, wantBody []byte) Identity {
	t.Helper()
	id, err := v.Verify(r)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantBody) {
		t.Fatalf("body after Verify = %q, want %q", got, wantBody)
	}
	return id
}

// mustFail verifies r, expects an *Error with the code and status, and checks that the
// message leaks nothing from the request's credentials.
func mustFail(t testing.TB, v *Verifier, r *http.Request, code string, status int) *Error {
	t.Helper()
	auth := r.Header.Get("Authorization")
	sig := r.URL.Query().Get("X-Amz-Signature")
	if _, s, ok := strings.Cut(auth, "Signature="); ok {
		sig = s
	}
	id, err := v.Verify(r)
	if err == nil {
		t.Fatalf("Verify succeeded (%+v), want %s", id, code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify error %T %v, want *Error", err, err)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("Verify error = %s (%d) %q, want %s (%d)", e.Code, e.Status, e.Message, code, status)
	}
	if id != (Identity{}) {
		t.Fatalf("Verify returned identity %+v with an error", id)
	}
	noLeak(t, e.Error(), auth, sig)
	return e
}

func noLeak(t testing.TB, msg, auth, sig string) {
	t.Helper()
	for _, secret := range []string{testCred.SecretAccessKey, otherCred.SecretAccessKey, auth, sig} {
		if len(secret) > 8 && strings.Contains(msg, secret) {
			t.Fatalf("error message %q leaks %q", msg, secret)
		}
	}
}
