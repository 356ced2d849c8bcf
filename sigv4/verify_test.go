package sigv4

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Requests signed by the AWS SDK for Go's signer, sent through the HTTP/1.1 wire format,
// must verify.
func TestVerifySDKSigned(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		url    string
		body   []byte
		header func(h http.Header)
	}{
		{name: "POST JSON", method: "POST", url: "/ImportPlaybackKeyPair",
			body:   []byte(`{"name":"my-key","publicKeyMaterial":"-----BEGIN PUBLIC KEY-----\nMHYw\n-----END PUBLIC KEY-----\n"}`),
			header: func(h http.Header) { h.Set("Content-Type", "application/json") }},
		{name: "empty body POST", method: "POST", url: "/ListPlaybackKeyPairs", body: []byte{}},
		{name: "GET no body", method: "GET", url: tagsPath},
		{name: "tags POST", method: "POST", url: tagsPath, body: []byte(`{"tags":{"env":"prod"}}`)},
		{name: "tags DELETE repeated keys", method: "DELETE", url: tagsPath + "?tagKeys=a%20b&tagKeys=c%2Fd"},
		{name: "query spaces unicode reserved", method: "GET",
			url: "/ListPlaybackKeyPairs?z=1&a=%C3%A9t%C3%A9&b=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D&c=~-._&empty=&novalue&a=%20"},
		{name: "query same key same prefix", method: "GET", url: "/x?a-b=1&a=2&a%2Fb=3&a=1"},
		{name: "path with escapes and unicode", method: "GET", url: "/tags/caf%C3%A9%20%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40"},
		{name: "path with dot segments", method: "GET", url: "/a/./b/../c//d/"},
		{name: "root path", method: "GET", url: "http://playkey.test:4566"},
		{name: "unusual headers", method: "POST", url: "/GetPlaybackKeyPair", body: []byte(`{"arn":"x"}`),
			header: func(h http.Header) {
				h.Add("X-Multi", "one")
				h.Add("X-Multi", "  two   spaced    out  ")
				h.Add("X-Multi", "three,with,commas")
				h["x-MiXeD-CaSe"] = []string{"Value"}
				h.Set("X-Tabs", "a\tb \t c")
				h.Set("X-Empty", "")
				h.Set("X-Custom-Signed", "playkey")
				h.Set("Content-Type", "application/x-amz-json-1.1; charset=utf-8")
			}},
		{name: "session token", method: "POST", url: "/ListPlaybackKeyPairs", body: []byte(`{}`),
			header: func(h http.Header) { h.Set("X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLE//token==") }},
		{name: "content sha256 header", method: "POST", url: "/ListPlaybackKeyPairs", body: []byte(`{"maxResults":3}`),
			header: func(h http.Header) { h.Set("X-Amz-Content-Sha256", hashHex([]byte(`{"maxResults":3}`))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, tt.method, tt.url, tt.body)
			if tt.header != nil {
				tt.header(req.Header)
			}
			sdkSign(t, req, tt.body, testCred, "us-west-2", "ivs", testNow)
			r := toServer(t, req)
			id := mustVerify(t, testVerifier(), r, bodyOrEmpty(tt.body))
			want := Identity{AccessKeyID: testCred.AccessKeyID, Account: "123456789012", Region: "us-west-2", Service: "ivs"}
			if id != want {
				t.Fatalf("identity = %+v, want %+v", id, want)
			}
		})
	}
}

func bodyOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// The escaped tags path must reach the verifier as sent, and the signature must cover
// its doubly-escaped form: a request to the same ARN written with a different escaping
// is a different request.
func TestVerifyTagsPathEscaping(t *testing.T) {
	t.Parallel()
	req := newRequest(t, "GET", tagsPath, nil)
	if got := req.URL.EscapedPath(); got != tagsPath {
		t.Fatalf("EscapedPath = %q", got)
	}
	sdkSign(t, req, nil, testCred, "eu-central-1", "ivs", testNow)
	r := toServer(t, req)
	if r.RequestURI != tagsPath {
		t.Fatalf("RequestURI on the server = %q, want %q", r.RequestURI, tagsPath)
	}
	id := mustVerify(t, testVerifier(), r, []byte{})
	if id.Region != "eu-central-1" {
		t.Fatalf("region = %q", id.Region)
	}

	// Same ARN, "/" not escaped: the router would see the same decoded path, but the
	// signature was for the escaped form.
	r = toServer(t, req)
	r.RequestURI = strings.Replace(tagsPath, "%2F", "/", 1)
	mustFail(t, testVerifier(), r, ErrInvalidSignature, 403)

	// Lower-case escapes are a different byte sequence too.
	r = toServer(t, req)
	r.RequestURI = strings.ReplaceAll(tagsPath, "%3A", "%3a")
	mustFail(t, testVerifier(), r, ErrInvalidSignature, 403)

	// Without RequestURI (a client-side request handed over directly), the escaped path
	// comes from the URL.
	r = toServer(t, req)
	r.RequestURI = ""
	mustVerify(t, testVerifier(), r, []byte{})
}

// The canonical query is rebuilt from the decoded query, so equivalent encodings of
// the signed query verify: other order, '+' for a space, lower-case hex, unescaped
// reserved characters.
func TestVerifyQueryReencoded(t *testing.T) {
	t.Parallel()
	req := newRequest(t, "DELETE", tagsPath+"?tagKeys=a%20b&tagKeys=c%2Fd&x=%C3%A9", nil)
	sdkSign(t, req, nil, testCred, "us-west-2", "ivs", testNow)
	for _, raw := range []string{
		"tagKeys=a+b&tagKeys=c/d&x=%c3%a9",
		"x=%C3%A9&tagKeys=c%2fd&tagKeys=a%20b",
		"tagKeys=c/d&&tagKeys=a+b&x=%C3%A9&",
	} {
		r := toServer(t, req)
		r.URL.RawQuery = raw
		mustVerify(t, testVerifier(), r, []byte{})
	}
	for _, raw := range []string{
		"tagKeys=a+b&x=%C3%A9",                      // a value dropped
		"tagKeys=a+b&tagKeys=c/d&x=%C3%A9&y=",       // a parameter added
		"tagKeys=a%2Bb&tagKeys=c/d&x=%C3%A9",        // '+' escaped is a plus, not a space
		"tagKeys=a+b&tagKeys=c/d&x=%C3%A9&x=%C3%A9", // repeated
	} {
		r := toServer(t, req)
		r.URL.RawQuery = raw
		mustFail(t, testVerifier(), r, ErrInvalidSignature, 403)
	}
	r := toServer(t, req)
	r.URL.RawQuery = "tagKeys=%zz"
	mustFail(t, testVerifier(), r, ErrValidation, 400)
}

func TestVerifyRefused(t *testing.T) {
	t.Parallel()
	body := []byte(`{"name":"k1","publicKeyMaterial":"pem"}`)
	signed := func(t *testing.T, mutate func(*http.Request)) *http.Request {
		req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Playkey-Signed", "original")
		sdkSign(t, req, body, testCred, "us-west-2", "ivs", testNow)
		if mutate != nil {
			mutate(req)
		}
		return toServer(t, req)
	}
	tests := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		code    string
		message string // substring
	}{
		{"no Authorization", func(t *testing.T) *http.Request {
			return toServer(t, newRequest(t, "POST", "/ImportPlaybackKeyPair", body))
		}, ErrMissingAuthenticationToken, "Missing Authentication Token"},
		{"empty Authorization", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Set("Authorization", "") })
		}, ErrMissingAuthenticationToken, "Missing Authentication Token"},
		{"bearer token", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x") })
		}, ErrIncompleteSignature, "AWS4-HMAC-SHA256"},
		{"no Signature", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) {
				h := r.Header.Get("Authorization")
				r.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
			})
		}, ErrIncompleteSignature, "Authorization header requires 'Signature' parameter."},
		{"two Authorization headers", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) })
		}, ErrIncompleteSignature, "more than one Authorization"},
		{"host not signed", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host;", "content-type;", 1))
			})
		}, ErrIncompleteSignature, "'Host' must be a 'SignedHeader'"},
		{"x-amz-date not signed", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-date", "", 1))
			})
		}, ErrIncompleteSignature, "'X-Amz-Date' must be a 'SignedHeader'"},
		{"no date header", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Del("X-Amz-Date") })
		}, ErrIncompleteSignature, "either a 'X-Amz-Date' or a 'Date' header"},
		{"malformed X-Amz-Date", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-28T12:30:00Z") })
		}, ErrIncompleteSignature, "ISO 8601"},
		{"unknown key", func(t *testing.T) *http.Request {
			req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
			sdkSign(t, req, body, Credential{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: testCred.SecretAccessKey}, "us-west-2", "ivs", testNow)
			return toServer(t, req)
		}, ErrUnrecognizedClient, "The security token included in the request is invalid."},
		{"wrong secret", func(t *testing.T) *http.Request {
			req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
			sdkSign(t, req, body, Credential{AccessKeyID: testCred.AccessKeyID, SecretAccessKey: otherCred.SecretAccessKey}, "us-west-2", "ivs", testNow)
			return toServer(t, req)
		}, ErrInvalidSignature, "The request signature we calculated does not match"},
		{"other key's signature", func(t *testing.T) *http.Request {
			req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
			sdkSign(t, req, body, otherCred, "us-west-2", "ivs", testNow)
			req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), otherCred.AccessKeyID, testCred.AccessKeyID, 1))
			return toServer(t, req)
		}, ErrInvalidSignature, "does not match"},
		{"tampered body", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) {
				r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("k1"), []byte("k2"), 1)))
			})
		}, ErrInvalidSignature, "does not match"},
		{"tampered path", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.URL.Path = "/DeletePlaybackKeyPair" })
		}, ErrInvalidSignature, "does not match"},
		{"tampered method", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Method = "PUT" })
		}, ErrInvalidSignature, "does not match"},
		{"tampered query", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.URL.RawQuery = "maxResults=1" })
		}, ErrInvalidSignature, "does not match"},
		{"tampered signed header", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Set("X-Playkey-Signed", "changed") })
		}, ErrInvalidSignature, "does not match"},
		{"signed header repeated", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Add("X-Playkey-Signed", "original") })
		}, ErrInvalidSignature, "does not match"},
		{"signed header removed", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Del("Content-Type") })
		}, ErrInvalidSignature, "does not match"},
		{"tampered host", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Host = "evil.test:4566" })
		}, ErrInvalidSignature, "does not match"},
		{"tampered signature", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) {
				h := r.Header.Get("Authorization")
				last := h[len(h)-1]
				repl := byte('0')
				if last == '0' {
					repl = '1'
				}
				r.Header.Set("Authorization", h[:len(h)-1]+string(repl))
			})
		}, ErrInvalidSignature, "does not match"},
		{"content sha256 mismatch", func(t *testing.T) *http.Request {
			req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
			req.Header.Set("X-Amz-Content-Sha256", hashHex([]byte("other")))
			sdkSign(t, req, body, testCred, "us-west-2", "ivs", testNow)
			return toServer(t, req)
		}, ErrInvalidSignature, "x-amz-content-sha256"},
		{"unsigned payload", func(t *testing.T) *http.Request {
			req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
			req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			sdkSignHash(t, req, "UNSIGNED-PAYLOAD", testCred, "us-west-2", "ivs", testNow)
			return toServer(t, req)
		}, ErrInvalidSignature, "The payload must be signed"},
		{"wrong service", func(t *testing.T) *http.Request {
			req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
			sdkSign(t, req, body, testCred, "us-west-2", "ivs-realtime", testNow)
			return toServer(t, req)
		}, ErrInvalidSignature, "Credential should be scoped to correct service: 'ivs'."},
		{"wrong terminator", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/aws4_request", "/aws5_request", 1))
			})
		}, ErrInvalidSignature, "valid terminator: 'aws4_request', not 'aws5_request'"},
		{"tampered X-Amz-Date", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261128T122500Z") })
		}, ErrInvalidSignature, "does not match"},
		{"scope date mismatch", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261129T000500Z") })
		}, ErrInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261128' != '20261129', from '20261129T000500Z'."},
		{"both auth forms", func(t *testing.T) *http.Request {
			return signed(t, func(r *http.Request) { r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" })
		}, ErrIncompleteSignature, "Only one auth mechanism allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustFail(t, testVerifier(), tt.req(t), tt.code, 403)
			if !strings.Contains(e.Message, tt.message) {
				t.Fatalf("message %q does not contain %q", e.Message, tt.message)
			}
		})
	}
}

// A header the client adds after signing is not in SignedHeaders and is ignored, as
// User-Agent and Accept-Encoding added by HTTP clients are.
func TestVerifyUnsignedHeaderAddedLater(t *testing.T) {
	t.Parallel()
	req := newRequest(t, "POST", "/ListPlaybackKeyPairs", []byte(`{}`))
	sdkSign(t, req, []byte(`{}`), testCred, "us-west-2", "ivs", testNow)
	req.Header.Set("X-Added-Later", "proxy")
	req.Header.Set("User-Agent", "aws-cli/2.0")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-abc")
	mustVerify(t, testVerifier(), toServer(t, req), []byte(`{}`))
}

func TestVerifySkew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		offset  time.Duration // signing time minus verifier time
		message string        // empty: accepted
	}{
		{0, ""},
		{-14 * time.Minute, ""},
		{14 * time.Minute, ""},
		{-15 * time.Minute, ""},
		{15 * time.Minute, ""},
		{-16 * time.Minute, "Signature expired: 20261128T121400Z is now earlier than 20261128T121500Z (20261128T123000Z - 15 min.)"},
		{16 * time.Minute, "Signature not yet current: 20261128T124600Z is still later than 20261128T124500Z (20261128T123000Z + 15 min.)"},
		{-48 * time.Hour, "Signature expired: 20261126T123000Z is now earlier than"},
	}
	for _, tt := range tests {
		t.Run(tt.offset.String(), func(t *testing.T) {
			req := newRequest(t, "POST", "/ListPlaybackKeyPairs", []byte(`{}`))
			sdkSign(t, req, []byte(`{}`), testCred, "us-west-2", "ivs", testNow.Add(tt.offset))
			r := toServer(t, req)
			if tt.message == "" {
				mustVerify(t, testVerifier(), r, []byte(`{}`))
				return
			}
			e := mustFail(t, testVerifier(), r, ErrInvalidSignature, 403)
			if !strings.HasPrefix(e.Message, tt.message) {
				t.Fatalf("message = %q, want prefix %q", e.Message, tt.message)
			}
		})
	}

	// MaxSkew is configurable; the message follows it.
	v := testVerifier()
	v.MaxSkew = 5 * time.Minute
	req := newRequest(t, "GET", tagsPath, nil)
	sdkSign(t, req, nil, testCred, "us-west-2", "ivs", testNow.Add(-6*time.Minute))
	e := mustFail(t, v, toServer(t, req), ErrInvalidSignature, 403)
	if !strings.HasSuffix(e.Message, "(20261128T123000Z - 5 min.)") {
		t.Fatalf("message = %q", e.Message)
	}
}

// A Date header stands in for X-Amz-Date only if it is signed. (The positive case is
// in the botocore tests: the Go SDK always adds X-Amz-Date.)
func TestVerifyDateHeaderUnsigned(t *testing.T) {
	t.Parallel()
	at := testNow.Add(-time.Minute)
	req := newRequest(t, "GET", tagsPath, nil)
	sdkSign(t, req, nil, testCred, "us-west-2", "ivs", at)
	req.Header.Del("X-Amz-Date")
	req.Header.Set("Date", at.Format(http.TimeFormat))
	e := mustFail(t, testVerifier(), toServer(t, req), ErrIncompleteSignature, 403)
	if !strings.Contains(e.Message, "'Date' must be a 'SignedHeader'") {
		t.Fatalf("message = %q", e.Message)
	}
}

func TestVerifyPresigned(t *testing.T) {
	t.Parallel()
	presign := func(t *testing.T, rawURL string, at time.Time, expires string) *http.Request {
		req := newRequest(t, "GET", rawURL, nil)
		if expires != "" {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", expires)
			req.URL.RawQuery = q.Encode()
		}
		creds := aws.Credentials{AccessKeyID: testCred.AccessKeyID, SecretAccessKey: testCred.SecretAccessKey}
		signedURL, headers, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hashHex(nil), "ivs", "ap-northeast-1", at)
		if err != nil {
			t.Fatal(err)
		}
		out := newRequest(t, "GET", signedURL, nil)
		for k, vs := range headers {
			if !strings.EqualFold(k, "host") {
				out.Header[k] = vs
			}
		}
		return toServer(t, out)
	}

	t.Run("valid", func(t *testing.T) {
		r := presign(t, tagsPath+"?tagKeys=a%20b&tagKeys=c%2Fd", testNow.Add(-4*time.Minute), "300")
		id := mustVerify(t, testVerifier(), r, []byte{})
		if id.Region != "ap-northeast-1" || id.Account != "123456789012" {
			t.Fatalf("identity = %+v", id)
		}
	})
	t.Run("no expires uses skew window", func(t *testing.T) {
		mustVerify(t, testVerifier(), presign(t, tagsPath, testNow.Add(-14*time.Minute), ""), []byte{})
		mustFail(t, testVerifier(), presign(t, tagsPath, testNow.Add(-16*time.Minute), ""), ErrInvalidSignature, 403)
	})
	t.Run("long expiry outlives skew", func(t *testing.T) {
		mustVerify(t, testVerifier(), presign(t, tagsPath, testNow.Add(-2*time.Hour), "86400"), []byte{})
	})
	t.Run("expired", func(t *testing.T) {
		e := mustFail(t, testVerifier(), presign(t, tagsPath, testNow.Add(-6*time.Minute), "300"), ErrInvalidSignature, 403)
		if !strings.Contains(e.Message, "valid until 20261128T122900Z") {
			t.Fatalf("message = %q", e.Message)
		}
	})
	t.Run("not yet valid", func(t *testing.T) {
		mustFail(t, testVerifier(), presign(t, tagsPath, testNow.Add(16*time.Minute), "300"), ErrInvalidSignature, 403)
	})
	t.Run("expires out of range", func(t *testing.T) {
		mustFail(t, testVerifier(), presign(t, tagsPath, testNow, "604801"), ErrIncompleteSignature, 403)
		mustFail(t, testVerifier(), presign(t, tagsPath, testNow, "0"), ErrIncompleteSignature, 403)
	})
	t.Run("tampered", func(t *testing.T) {
		r := presign(t, tagsPath+"?tagKeys=a", testNow, "300")
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "tagKeys=a", "tagKeys=b", 1)
		mustFail(t, testVerifier(), r, ErrInvalidSignature, 403)

		r = presign(t, tagsPath, testNow, "300")
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1)
		mustFail(t, testVerifier(), r, ErrInvalidSignature, 403)
	})
	t.Run("missing parameter", func(t *testing.T) {
		r := presign(t, tagsPath, testNow, "300")
		q := r.URL.Query()
		q.Del("X-Amz-SignedHeaders")
		r.URL.RawQuery = q.Encode()
		e := mustFail(t, testVerifier(), r, ErrIncompleteSignature, 403)
		if !strings.Contains(e.Message, "must include") {
			t.Fatalf("message = %q", e.Message)
		}
	})
	t.Run("repeated parameter", func(t *testing.T) {
		r := presign(t, tagsPath, testNow, "300")
		r.URL.RawQuery += "&X-Amz-Date=20261128T123000Z"
		mustFail(t, testVerifier(), r, ErrIncompleteSignature, 403)
	})
	t.Run("unknown key", func(t *testing.T) {
		r := presign(t, tagsPath, testNow, "300")
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, testCred.AccessKeyID, "AKIAUNKNOWNKEY000000", 1)
		mustFail(t, testVerifier(), r, ErrUnrecognizedClient, 403)
	})
}

func TestVerifyBody(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("x"), 1000)
	sign := func(t *testing.T) *http.Request {
		req := newRequest(t, "POST", "/ImportPlaybackKeyPair", body)
		sdkSign(t, req, body, testCred, "us-west-2", "ivs", testNow)
		return toServer(t, req)
	}
	t.Run("at the limit", func(t *testing.T) {
		v := testVerifier()
		v.MaxBodyBytes = 1000
		mustVerify(t, v, sign(t), body)
	})
	t.Run("over the limit, Content-Length known", func(t *testing.T) {
		v := testVerifier()
		v.MaxBodyBytes = 999
		mustFail(t, v, sign(t), ErrValidation, 413)
	})
	t.Run("over the limit, chunked", func(t *testing.T) {
		v := testVerifier()
		v.MaxBodyBytes = 999
		r := sign(t)
		r.ContentLength = -1
		mustFail(t, v, r, ErrValidation, 413)
	})
	t.Run("MaxBytesReader", func(t *testing.T) {
		r := sign(t)
		r.Body = http.MaxBytesReader(nil, r.Body, 10)
		r.ContentLength = -1
		mustFail(t, testVerifier(), r, ErrValidation, 413)
	})
	t.Run("read error", func(t *testing.T) {
		r := sign(t)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:10]), errReader{}))
		mustFail(t, testVerifier(), r, ErrValidation, 400)
	})
	t.Run("unknown key does not read the body", func(t *testing.T) {
		v := testVerifier()
		v.Lookup = nil
		r := sign(t)
		r.Body = io.NopCloser(errReader{})
		mustFail(t, v, r, ErrUnrecognizedClient, 403)
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestVerifyAcceptAnyKey(t *testing.T) {
	t.Parallel()
	v := testVerifier()
	v.AcceptAnyKey = true
	for key, account := range map[string]string{
		"123456789012":         "123456789012",
		"test":                 DefaultAccount,
		"AKIAIOSFODNN7EXAMPLE": DefaultAccount,
		"1234567890123":        DefaultAccount,
	} {
		req := newRequest(t, "POST", "/ListPlaybackKeyPairs", []byte(`{}`))
		sdkSign(t, req, []byte(`{}`), Credential{AccessKeyID: key, SecretAccessKey: "anything"}, "us-east-1", "ivs", testNow)
		id := mustVerify(t, v, toServer(t, req), []byte(`{}`))
		want := Identity{AccessKeyID: key, Account: account, Region: "us-east-1", Service: "ivs"}
		if id != want {
			t.Fatalf("identity = %+v, want %+v", id, want)
		}
	}

	// A configured key is still verified.
	req := newRequest(t, "POST", "/ListPlaybackKeyPairs", []byte(`{}`))
	sdkSign(t, req, []byte(`{}`), Credential{AccessKeyID: testCred.AccessKeyID, SecretAccessKey: "wrong"}, "us-east-1", "ivs", testNow)
	mustFail(t, v, toServer(t, req), ErrInvalidSignature, 403)

	// Malformed, mis-scoped and stale requests are still refused.
	mustFail(t, v, toServer(t, newRequest(t, "GET", "/", nil)), ErrMissingAuthenticationToken, 403)
	req = newRequest(t, "GET", "/", nil)
	sdkSign(t, req, nil, Credential{AccessKeyID: "test", SecretAccessKey: "x"}, "us-east-1", "s3", testNow)
	mustFail(t, v, toServer(t, req), ErrInvalidSignature, 403)
	req = newRequest(t, "GET", "/", nil)
	sdkSign(t, req, nil, Credential{AccessKeyID: "test", SecretAccessKey: "x"}, "us-east-1", "ivs", testNow.Add(-time.Hour))
	mustFail(t, v, toServer(t, req), ErrInvalidSignature, 403)

	// Off by default.
	req = newRequest(t, "GET", "/", nil)
	sdkSign(t, req, nil, Credential{AccessKeyID: "test", SecretAccessKey: "x"}, "us-east-1", "ivs", testNow)
	mustFail(t, testVerifier(), toServer(t, req), ErrUnrecognizedClient, 403)
}

// Changing a key's secret (a reloaded credentials file) must not reuse the cached
// signing key of the old secret.
func TestVerifySecretChange(t *testing.T) {
	t.Parallel()
	cred := testCred
	v := &Verifier{
		Lookup: func(id string) (Credential, bool) { return cred, id == cred.AccessKeyID },
		Now:    func() time.Time { return testNow },
	}
	req := newRequest(t, "GET", tagsPath, nil)
	sdkSign(t, req, nil, testCred, "us-west-2", "ivs", testNow)
	mustVerify(t, v, toServer(t, req), []byte{})
	cred.SecretAccessKey = "rotated"
	mustFail(t, v, toServer(t, req), ErrInvalidSignature, 403)
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	v := testVerifier()
	var reqs []*http.Request
	for i := range 64 {
		region := []string{"us-west-2", "eu-west-1", "ap-south-1"}[i%3]
		body := []byte(fmt.Sprintf(`{"i":%d}`, i))
		req := newRequest(t, "POST", "/ListPlaybackKeyPairs", body)
		sdkSign(t, req, body, testCred, region, "ivs", testNow.Add(-time.Duration(i)*time.Second))
		reqs = append(reqs, toServer(t, req))
	}
	errs := make(chan error, len(reqs))
	for _, r := range reqs {
		go func() {
			_, err := v.Verify(r)
			errs <- err
		}()
	}
	for range reqs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestVerifyNilLookup(t *testing.T) {
	t.Parallel()
	v := &Verifier{Now: func() time.Time { return testNow }}
	req := newRequest(t, "GET", tagsPath, nil)
	sdkSign(t, req, nil, testCred, "us-west-2", "ivs", testNow)
	mustFail(t, v, toServer(t, req), ErrUnrecognizedClient, 403)
}

func TestRemoveDotSegments(t *testing.T) {
	t.Parallel()
	// Expected values are botocore.utils.remove_dot_segments' results.
	for in, want := range map[string]string{
		"":              "",
		"/":             "/",
		"/a/b":          "/a/b",
		"/a/./b/../c":   "/a/c",
		"//a//b//":      "/a/b/",
		"/../a":         "/a",
		"/a/..":         "/",
		"/a/b/":         "/a/b/",
		"/a%2F..%2Fb":   "/a%2F..%2Fb",
		"/./":           "/",
		"/a/b/../../..": "/",
	} {
		if got := removeDotSegments(in); got != want {
			t.Errorf("removeDotSegments(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"name":"my-key","publicKeyMaterial":"-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE\n-----END PUBLIC KEY-----\n","tags":{"env":"prod"}}`)
	req := newRequest(b, "POST", "/ImportPlaybackKeyPair", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Amz-Sdk-Invocation-Id", "8c5bd6a7-b4c5-4e0a-9a44-7d8a2c1c6e0e")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	sdkSign(b, req, body, testCred, "us-west-2", "ivs", testNow)
	r := toServer(b, req)
	v := testVerifier()
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}
