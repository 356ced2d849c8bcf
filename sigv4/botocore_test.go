package sigv4

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey/internal/testenv"
)

// runBotocore runs testdata/botocore_sign.py in the given mode with spec on stdin and
// decodes its JSON output into out. Without python3 and botocore the test is skipped,
// unless CI is set.
func runBotocore(t *testing.T, mode string, spec, out any) {
	t.Helper()
	python := testenv.NeedPython(t, "botocore")
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/botocore_sign.py", mode)
	cmd.Stdin = bytes.NewReader(in)
	// Keep the user's AWS configuration out of botocore's way.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore_sign.py %s: %v\n%s", mode, err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("botocore_sign.py output: %v\n%s", err, stdout)
	}
}

type botoRequest struct {
	Name    string      `json:"name"`
	Method  string      `json:"method"`
	URL     string      `json:"url"`
	Headers [][2]string `json:"headers"`
	Body    string      `json:"body"`
}

// wire writes the request as botocore's HTTP client would send it, and reads it back
// as a Go server does.
func (b botoRequest) wire(t *testing.T) *http.Request {
	t.Helper()
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(b.URL, u.Scheme+"://"+u.Host)
	if target == "" || target[0] != '/' {
		target = "/" + target
	}
	var raw strings.Builder
	fmt.Fprintf(&raw, "%s %s HTTP/1.1\r\nHost: %s\r\n", b.Method, target, u.Host)
	hasLength := false
	for _, h := range b.Headers {
		fmt.Fprintf(&raw, "%s: %s\r\n", h[0], h[1])
		hasLength = hasLength || strings.EqualFold(h[0], "Content-Length")
	}
	if !hasLength && b.Body != "" {
		fmt.Fprintf(&raw, "Content-Length: %d\r\n", len(b.Body))
	}
	raw.WriteString("\r\n")
	raw.WriteString(b.Body)
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw.String())))
	if err != nil {
		t.Fatalf("%s: %v", b.Name, err)
	}
	return r
}

// Requests signed by botocore's SigV4Auth, including the cases where botocore's
// canonical form differs from the Go SDK's (dot segments and empty segments removed
// from the path, tabs collapsed in header values, the Date header instead of
// X-Amz-Date, '+' for spaces in the query it writes).
func TestVerifyBotocoreSigned(t *testing.T) {
	t.Parallel()
	const ts = "20261128T123000Z"
	base := "http://127.0.0.1:4566"
	type spec struct {
		Name    string            `json:"name"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers,omitempty"`
		Body    string            `json:"body,omitempty"`
		Params  [][2]string       `json:"params,omitempty"`
		Token   string            `json:"token,omitempty"`
	}
	specs := []spec{
		{Name: "POST JSON", Method: "POST", URL: base + "/ImportPlaybackKeyPair",
			Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"name":"k","publicKeyMaterial":"pem"}`},
		{Name: "empty POST", Method: "POST", URL: base + "/ListPlaybackKeyPairs"},
		{Name: "GET tags", Method: "GET", URL: base + tagsPath},
		{Name: "DELETE tags, query in URL", Method: "DELETE", URL: base + tagsPath + "?tagKeys=a%20b&tagKeys=c%2Fd"},
		{Name: "DELETE tags, params", Method: "DELETE", URL: base + tagsPath,
			Params: [][2]string{{"tagKeys", "a b"}, {"tagKeys", "c/d"}, {"tagKeys", "é~"}, {"tagKeys", "x+y=z&"}}},
		{Name: "default port", Method: "GET", URL: "http://playkey.test" + tagsPath},
		{Name: "unusual headers", Method: "POST", URL: base + "/GetPlaybackKeyPair", Body: `{"arn":"x"}`,
			Headers: map[string]string{"X-MiXeD-CaSe": "Value", "X-Spaces": "  a   b  ", "X-Tabs": "a\tb \t c", "X-Amz-Target": "x"}},
		{Name: "dot segments", Method: "GET", URL: base + "/a/./b/../c//d/"},
		{Name: "Date header", Method: "GET", URL: base + tagsPath, Headers: map[string]string{"Date": "placeholder"}},
		{Name: "session token", Method: "POST", URL: base + "/ListPlaybackKeyPairs", Body: "{}", Token: "FwoGZXIvYXdzEXAMPLE//token=="},
	}
	var signed []botoRequest
	runBotocore(t, "sign", map[string]any{
		"timestamp": ts, "access_key": testCred.AccessKeyID, "secret_key": testCred.SecretAccessKey,
		"region": "us-west-2", "requests": specs,
	}, &signed)
	if len(signed) != len(specs) {
		t.Fatalf("botocore signed %d requests, want %d", len(signed), len(specs))
	}
	for _, b := range signed {
		t.Run(b.Name, func(t *testing.T) {
			id := mustVerify(t, testVerifier(), b.wire(t), []byte(b.Body))
			want := Identity{AccessKeyID: testCred.AccessKeyID, Account: testCred.Account, Region: "us-west-2", Service: "ivs"}
			if id != want {
				t.Fatalf("identity = %+v, want %+v", id, want)
			}
			// Tampering with the body is caught.
			if b.Body != "" {
				tampered := b
				tampered.Body = strings.Replace(b.Body, "{", "[", 1)
				mustFail(t, testVerifier(), tampered.wire(t), ErrInvalidSignature, 403)
			}
		})
	}

	t.Run("skew", func(t *testing.T) {
		for offset, ok := range map[time.Duration]bool{
			14 * time.Minute: true, -14 * time.Minute: true, 16 * time.Minute: false, -16 * time.Minute: false,
		} {
			v := testVerifier()
			v.Now = func() time.Time { return testNow.Add(offset) }
			r := signed[0].wire(t)
			if ok {
				mustVerify(t, v, r, []byte(signed[0].Body))
			} else {
				mustFail(t, v, r, ErrInvalidSignature, 403)
			}
		}
	})
}

// The IVS client of botocore, as the AWS CLI uses it, over HTTP against a verifying
// server.
func TestVerifyBotocoreClient(t *testing.T) {
	t.Parallel()
	v := testVerifier()
	srv := newVerifyingServer(t, v)
	var results []struct {
		Name    string `json:"name"`
		OK      bool   `json:"ok"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	runBotocore(t, "client", map[string]any{
		"timestamp": testNow.Format(timeFormat), "endpoint": srv.URL, "region": "us-west-2",
		"access_key": testCred.AccessKeyID, "secret_key": testCred.SecretAccessKey,
	}, &results)
	seen := srv.take()
	if len(results) != 7 || len(seen) != 7 {
		t.Fatalf("got %d results and %d requests, want 7", len(results), len(seen))
	}
	for i, res := range results {
		s := seen[i]
		if res.Name == "WrongSecret" {
			if res.OK || res.Code != ErrInvalidSignature || res.Message != msgBadSignature {
				t.Errorf("%s: %+v", res.Name, res)
			}
			continue
		}
		if !res.OK || s.err != nil {
			t.Errorf("%s: %+v; Verify: %v", res.Name, res, s.err)
			continue
		}
		if s.id.Account != testCred.Account || s.id.Region != "us-west-2" {
			t.Errorf("%s: identity %+v", res.Name, s.id)
		}
		switch res.Name {
		case "TagResource", "ListTagsForResource":
			if s.uri != tagsPath {
				t.Errorf("%s: request URI %q, want %q", res.Name, s.uri, tagsPath)
			}
		case "UntagResource":
			if want := tagsPath + "?tagKeys=a%20b&tagKeys=c%2Fd&tagKeys=%C3%A9&tagKeys=x%2By%3Dz%26"; s.uri != want {
				t.Errorf("%s: request URI %q, want %q", res.Name, s.uri, want)
			}
		}
	}
}

// botocore, and so the AWS CLI, reads the file CreateCredentialsFile writes as the
// same credential.
func TestBotocoreReadsCreatedCredentials(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials")
	c, err := CreateCredentialsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		AccessKey string `json:"access_key"`
		SecretKey string `json:"secret_key"`
		AccountID string `json:"account_id"`
	}
	runBotocore(t, "creds", map[string]string{"file": path}, &got)
	if got.AccessKey != c.AccessKeyID || got.SecretKey != c.SecretAccessKey || got.AccountID != c.Account {
		t.Fatalf("botocore read %s / account %s, want %s / account %s", got.AccessKey, got.AccountID, c.AccessKeyID, c.Account)
	}
}
