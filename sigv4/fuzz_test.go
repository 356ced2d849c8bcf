package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func authorizationSeeds(f *testing.F) []string {
	data, err := os.ReadFile("testdata/authorization-seeds.txt")
	if err != nil {
		f.Fatal(err)
	}
	var seeds []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\n")
		if line != "" && !strings.HasPrefix(line, "#") {
			seeds = append(seeds, line)
		}
	}
	return seeds
}

// formatAuthorization writes a in the form the SDKs use, with sep between components.
func formatAuthorization(a Authorization, sep string) string {
	return Algorithm + " Credential=" + strings.Join([]string{a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator}, "/") +
		sep + "SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + sep + "Signature=" + a.Signature
}

var paramValue = regexp.MustCompile(`=([^,]*)`)

// FuzzParseAuthorization: the parser never panics, refuses with IncompleteSignature
// and a message that does not quote a value from the header, and what it accepts re-encodes to a
// header that parses to the same value whatever the separators.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range authorizationSeeds(f) {
		f.Add(s)
	}
	src, err := os.ReadFile("authorization.go")
	if err != nil {
		f.Fatal(err)
	}
	parserSource := string(src)
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrIncompleteSignature || e.Status != 403 || e.Message == "" {
				t.Fatalf("error %#v", err)
			}
			for _, m := range paramValue.FindAllStringSubmatch(h, -1) {
				// Text that is in the parser's source is message text, not a leak.
				if len(m[1]) >= 8 && strings.Contains(e.Message, m[1]) && !strings.Contains(parserSource, m[1]) {
					t.Fatalf("message %q quotes %q from the header", e.Message, m[1])
				}
			}
			if !reflect.DeepEqual(a, Authorization{}) {
				t.Fatalf("non-zero Authorization %+v with an error", a)
			}
			return
		}
		if len(a.Signature) != 64 || !lowerHex(a.Signature) || len(a.SignedHeaders) == 0 ||
			!ValidAccessKeyID(a.AccessKeyID) || len(a.Date) != 8 || a.Region == "" || a.Service == "" || a.Terminator == "" {
			t.Fatalf("accepted %q as %+v", h, a)
		}
		for _, sep := range []string{", ", ",", " ,\t"} {
			again, err := ParseAuthorization(formatAuthorization(a, sep))
			if err != nil {
				t.Fatalf("re-encoded %+v does not parse: %v", a, err)
			}
			if !reflect.DeepEqual(again, a) {
				t.Fatalf("round trip: %+v != %+v", again, a)
			}
		}
	})
}

// FuzzVerify feeds Verify arbitrary requests read from the wire: it must not panic, and
// every refusal must be an *Error with a known code and status and a message that does
// not quote the Authorization header or a secret.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"name":"k"}`)
	req := newRequest(f, "POST", tagsPath+"?tagKeys=a%20b", body)
	req.Header.Set("X-Extra", "v")
	sdkSign(f, req, body, testCred, "us-west-2", "ivs", testNow)
	auth, date := req.Header.Get("Authorization"), req.Header.Get("X-Amz-Date")
	f.Add("POST", tagsPath+"?tagKeys=a%20b", auth, date, "X-Extra", "v", body)
	f.Add("POST", tagsPath+"?tagKeys=a%20b", auth, date, "X-Extra", "w", body)
	f.Add("GET", "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k%2F20261128%2Fus-west-2%2Fivs%2Faws4_request"+
		"&X-Amz-Date=20261128T123000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature="+strings.Repeat("0", 64),
		"", "", "X-A", "", []byte(nil))
	for _, s := range authorizationSeeds(f) {
		f.Add("POST", "/ListPlaybackKeyPairs", s, date, "Date", "Sat, 28 Nov 2026 12:30:00 GMT", []byte("{}"))
	}

	v := testVerifier()
	anyKey := testVerifier()
	anyKey.AcceptAnyKey = true
	f.Fuzz(func(t *testing.T, method, target, auth, date, name, value string, body []byte) {
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: playkey.test:4566\r\nAuthorization: %s\r\nX-Amz-Date: %s\r\n%s: %s\r\nContent-Length: %d\r\n\r\n%s",
			method, target, auth, date, name, value, len(body), body)
		for _, v := range []*Verifier{v, anyKey} {
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				return
			}
			_, err = v.Verify(r)
			if err == nil {
				continue
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v", err, err)
			}
			switch e.Code {
			case ErrMissingAuthenticationToken, ErrIncompleteSignature, ErrUnrecognizedClient, ErrInvalidSignature:
				if e.Status != 403 {
					t.Fatalf("%s with status %d", e.Code, e.Status)
				}
			case ErrValidation:
				if e.Status != 400 && e.Status != 413 {
					t.Fatalf("%s with status %d", e.Code, e.Status)
				}
			default:
				t.Fatalf("unknown code %q", e.Code)
			}
			noLeak(t, e.Message, r.Header.Get("Authorization"), "")
		}
	})
}

// FuzzSDKSigned is differential: whatever path, query, header and body the AWS SDK for
// Go's signer signs, once sent over HTTP/1.1, must verify.
func FuzzSDKSigned(f *testing.F) {
	f.Add(uint8(0), "ImportPlaybackKeyPair", "", "Custom", "value", []byte(`{"a":1}`))
	f.Add(uint8(1), "tags/arn:aws:ivs:us-west-2:123456789012:playback-key/AbCd", "tagKeys=a+b&tagKeys=c%2Fd", "Multi", "  a \t b  ", []byte{})
	f.Add(uint8(2), "a/./b/../c//é ~!$&'()*+,;=:@%", "x=%E2%82%AC&y&=z&a;b=c", "Empty", "", []byte("\x00\xff"))
	f.Add(uint8(3), "", "%zz=1&k=%", "Unicode", "caf\u00e9 \u00a0 x", []byte(nil))
	methods := []string{"GET", "POST", "DELETE", "PUT"}
	f.Fuzz(func(t *testing.T, m uint8, path, query, name, value string, body []byte) {
		if strings.ContainsAny(value, "\r\n") || !headerName(strings.ToLower(name)) {
			return // the HTTP client would not send what was signed
		}
		req, err := http.NewRequest(methods[int(m)%len(methods)], "http://playkey.test:4566/", bytes.NewReader(body))
		if err != nil {
			return
		}
		req.URL.Path = "/" + path
		req.URL.RawQuery = query
		req.Header.Set("X-Fuzz-"+name, value)
		sdkSign(t, req, body, testCred, "us-west-2", "ivs", testNow)
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			return
		}
		wire := buf.String()
		r, err := http.ReadRequest(bufio.NewReader(&buf))
		if err != nil {
			return // not a valid HTTP request (bad header name or value)
		}
		if _, err := testVerifier().Verify(r); err != nil {
			t.Fatalf("Verify: %v\nrequest:\n%q", err, wire)
		}
	})
}
