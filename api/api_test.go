package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/aws/smithy-go"

	"github.com/playkey/playkey/api"
	"github.com/playkey/playkey/sigv4"
	"github.com/playkey/playkey/sqlite"
)

const (
	testPlaybackURL = "https://play.example.com:8443"

	accountA = "111111111111"
	accountB = "222222222222"
	region   = "us-west-2"
)

var keys = map[string]sigv4.Credential{
	"AKIAAAAAAAAAAAAAAAAA": {AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "secretA/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Account: accountA},
	"AKIABBBBBBBBBBBBBBBB": {AccessKeyID: "AKIABBBBBBBBBBBBBBBB", SecretAccessKey: "secretB/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Account: accountB},
}

// testServer is the API on a fresh embedded store, on a loopback port.
type testServer struct {
	url   string
	store *sqlite.Store
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, nil)
}

// newTestServerWith is newTestServer with its configuration adjusted by configure.
func newTestServerWith(t *testing.T, configure func(*api.Config)) *testServer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "playkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := api.Config{Store: store, Auth: api.SigV4(&sigv4.Verifier{Service: "ivs", Lookup: sigv4.Credentials(keys).Lookup}),
		MaxBodyBytes: 64 << 10, PlaybackURL: testPlaybackURL + "/"}
	if configure != nil {
		configure(&cfg)
	}
	h := api.New(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, store: store}
}

// client returns the real AWS SDK for Go v2 IVS client for an access key, pointed at ts.
func (ts *testServer) client(accessKey, region string) *ivs.Client {
	c := keys[accessKey]
	return ivs.New(ivs.Options{
		Region:           region,
		BaseEndpoint:     aws.String(ts.url),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
	})
}

// newPublicKeyPEM makes a fresh key with the standard library alone, in the form
// `openssl ec -pubout` writes, and returns it with its expected fingerprint.
func newPublicKeyPEM(t *testing.T, curve elliptic.Curve) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(der)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02x", b)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), strings.Join(hexes, ":")
}

// apiErr returns the AWS error code and HTTP status of an SDK error.
func apiErr(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got success")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	var re *awshttp.ResponseError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func wantErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	gotCode, gotStatus := apiErr(t, err)
	if gotCode != code || gotStatus != status {
		t.Fatalf("got %s (%d), want %s (%d): %v", gotCode, gotStatus, code, status, err)
	}
}

func TestKeyPairLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)

	pub, fp := newPublicKeyPEM(t, elliptic.P384())
	imp, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
		PublicKeyMaterial: aws.String(pub),
		Name:              aws.String("my-key_1"),
		Tags:              map[string]string{"team": "video"},
	})
	if err != nil {
		t.Fatal(err)
	}
	kp := imp.KeyPair
	if got := aws.ToString(kp.Fingerprint); got != fp {
		t.Errorf("fingerprint %s, want %s", got, fp)
	}
	arn := aws.ToString(kp.Arn)
	prefix := "arn:aws:ivs:us-west-2:" + accountA + ":playback-key/"
	id := strings.TrimPrefix(arn, prefix)
	if !strings.HasPrefix(arn, prefix) || len(id) != 12 {
		t.Errorf("arn %q: want %s{12 characters}", arn, prefix)
	}
	if aws.ToString(kp.Name) != "my-key_1" || kp.Tags["team"] != "video" {
		t.Errorf("import returned %+v", kp)
	}

	got, err := c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: kp.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.KeyPair.Fingerprint) != fp || aws.ToString(got.KeyPair.Arn) != arn {
		t.Errorf("get returned %+v", got.KeyPair)
	}

	list, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.KeyPairs) != 1 || aws.ToString(list.KeyPairs[0].Arn) != arn || list.NextToken != nil {
		t.Fatalf("list returned %+v", list)
	}

	if _, err := c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: kp.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: kp.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: kp.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
}

func TestQuotaAndConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)

	var arns []*string
	first, _ := newPublicKeyPEM(t, elliptic.P384())
	for i := range 3 {
		pub := first
		if i > 0 {
			pub, _ = newPublicKeyPEM(t, elliptic.P384())
		}
		out, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub)})
		if err != nil {
			t.Fatalf("import %d: %v", i+1, err)
		}
		arns = append(arns, out.KeyPair.Arn)
	}
	pub4, _ := newPublicKeyPEM(t, elliptic.P384())
	_, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub4)})
	wantErr(t, err, "ServiceQuotaExceededException", 402)

	// Another region and another account have their own quota.
	if _, err := ts.client("AKIAAAAAAAAAAAAAAAAA", "eu-west-1").ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub4)}); err != nil {
		t.Fatalf("other region: %v", err)
	}
	if _, err := ts.client("AKIABBBBBBBBBBBBBBBB", region).ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(first)}); err != nil {
		t.Fatalf("other account, same key: %v", err)
	}

	// Deleting frees a slot; the same key twice is a conflict, whatever its PEM layout.
	if _, err := c.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: arns[2]}); err != nil {
		t.Fatal(err)
	}
	crlf := "\n  " + strings.ReplaceAll(strings.TrimSpace(first), "\n", "\r\n") + "  \n"
	_, err = c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(crlf)})
	wantErr(t, err, "ConflictException", 409)
	if _, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub4)}); err != nil {
		t.Fatalf("import after delete: %v", err)
	}
}

func TestConcurrentImportsNeverExceedQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	const n = 24
	pubs := make([]string, n)
	for i := range pubs {
		pubs[i], _ = newPublicKeyPEM(t, elliptic.P384())
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, quota := 0, 0
	for i := range n {
		wg.Go(func() {
			_, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pubs[i])})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
				return
			}
			if code, _ := apiErr(t, err); code == "ServiceQuotaExceededException" {
				quota++
			} else {
				t.Errorf("import: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 3 || quota != n-3 {
		t.Fatalf("%d imports succeeded and %d hit the quota; want 3 and %d", ok, quota, n-3)
	}
}

func TestBadKeyMaterial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	p256, _ := newPublicKeyPEM(t, elliptic.P256())
	p384, _ := newPublicKeyPEM(t, elliptic.P384())
	cases := map[string]struct{ material, mention string }{
		"P-256":     {p256, "P-256"},
		"not PEM":   {"hello", "PEM"},
		"two keys":  {p384 + p384, "2"},
		"empty":     {"", ""},
		"truncated": {p384[:100], ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(tc.material)})
			wantErr(t, err, "ValidationException", 400)
			var ve *types.ValidationException
			if !errors.As(err, &ve) || ve.ExceptionMessage == nil {
				t.Fatalf("not a ValidationException with a message: %v", err)
			}
			if msg := *ve.ExceptionMessage; !strings.Contains(msg, tc.mention) {
				t.Errorf("message %q does not mention %q", msg, tc.mention)
			}
		})
	}
}

func TestARNsAndIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	a := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	b := ts.client("AKIABBBBBBBBBBBBBBBB", region)
	pub, _ := newPublicKeyPEM(t, elliptic.P384())
	out, err := a.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub)})
	if err != nil {
		t.Fatal(err)
	}
	arnA := aws.ToString(out.KeyPair.Arn)

	// Account B cannot see, delete or tag A's key pair, nor can A from another region.
	_, err = b.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: &arnA})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = b.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: &arnA})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = b.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: &arnA, Tags: map[string]string{"x": "y"}})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = ts.client("AKIAAAAAAAAAAAAAAAAA", "eu-west-1").GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: &arnA})
	wantErr(t, err, "ResourceNotFoundException", 404)
	list, err := b.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{})
	if err != nil || len(list.KeyPairs) != 0 {
		t.Fatalf("account B lists %v, %v", list, err)
	}

	for _, bad := range []string{
		"not-an-arn",
		"arn:aws:ivs:us-west-2:111111111111:channel/abcdefABCDEF",
		"arn:aws:ivs:us-west-2:1111:playback-key/abcdefABCDEF",
		"arn:aws:ivs:us-west-2:111111111111:playback-key/bad_id!",
		"arn:aws:ivs:us-west-2:111111111111:playback-key/" + strings.Repeat("a", 200),
	} {
		_, err := a.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String(bad)})
		wantErr(t, err, "ValidationException", 400)
	}
	_, err = a.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String("arn:aws:ivs:us-west-2:111111111111:playback-key/abcdefABCDEF")})
	wantErr(t, err, "ResourceNotFoundException", 404)
}

func TestPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	want := map[string]bool{}
	for range 3 {
		pub, _ := newPublicKeyPEM(t, elliptic.P384())
		out, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub)})
		if err != nil {
			t.Fatal(err)
		}
		want[aws.ToString(out.KeyPair.Arn)] = true
	}
	seen := map[string]bool{}
	pages := 0
	var lastToken *string
	p := ivs.NewListPlaybackKeyPairsPaginator(c, &ivs.ListPlaybackKeyPairsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.KeyPairs) != 1 {
			t.Fatalf("page %d holds %d key pairs, want 1", pages, len(page.KeyPairs))
		}
		seen[aws.ToString(page.KeyPairs[0].Arn)] = true
		if page.NextToken != nil {
			lastToken = page.NextToken
		}
	}
	if pages != 3 || len(seen) != 3 {
		t.Fatalf("%d pages, %d distinct key pairs; want 3 and 3", pages, len(seen))
	}
	for arn := range want {
		if !seen[arn] {
			t.Errorf("%s never listed", arn)
		}
	}

	tampered := []byte(*lastToken)
	tampered[2] ^= 1
	if tampered[2] == '+' || tampered[2] == '/' {
		tampered[2] = 'A'
	}
	for _, tok := range []string{string(tampered), "AAAA", "not a token!", strings.Repeat("a", 1025)} {
		_, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{NextToken: aws.String(tok)})
		wantErr(t, err, "ValidationException", 400)
	}
	// A token is bound to its account.
	_, err := ts.client("AKIABBBBBBBBBBBBBBBB", region).ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{NextToken: lastToken})
	wantErr(t, err, "ValidationException", 400)
	for _, n := range []int32{0, -1, 101} {
		_, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{MaxResults: aws.Int32(n)})
		wantErr(t, err, "ValidationException", 400)
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	pub, _ := newPublicKeyPEM(t, elliptic.P384())
	out, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub), Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.KeyPair.Arn
	if _, err := c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"b": "2", "a": "one", "path/key": "x:y=z@w"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &ivs.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"b", "absent"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != 2 || got.Tags["a"] != "one" || got.Tags["path/key"] != "x:y=z@w" {
		t.Fatalf("tags %v", got.Tags)
	}

	many := map[string]string{}
	for i := range 49 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	_, err = c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: arn, Tags: many})
	wantErr(t, err, "ValidationException", 400) // 2 + 49 > 50
	_, err = c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"bad<key>": "v"}})
	wantErr(t, err, "ValidationException", 400)
	_, err = c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: arn, Tags: map[string]string{strings.Repeat("k", 129): "v"}})
	wantErr(t, err, "ValidationException", 400)
	missing := aws.String("arn:aws:ivs:us-west-2:111111111111:playback-key/abcdefABCDEF")
	_, err = c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: missing})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
	wantErr(t, err, "ValidationException", 400)
}

// signedRequest builds a raw request signed by the SDK's own SigV4 signer, for inputs the
// SDK client would never send.
func signedRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	c := keys["AKIAAAAAAAAAAAAAAAAA"]
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "ivs", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// awsErrorResponse checks the AWS error shape and returns the code.
func awsErrorResponse(t *testing.T, resp *http.Response) (string, string) {
	t.Helper()
	defer resp.Body.Close()
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId")
	}
	var body struct {
		Message          *string `json:"message"`
		ExceptionMessage *string `json:"exceptionMessage"`
	}
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &body); err != nil || body.Message == nil || body.ExceptionMessage == nil || *body.Message != *body.ExceptionMessage {
		t.Errorf("error body %q is not {message, exceptionMessage}", data)
		return resp.Header.Get("x-amzn-ErrorType"), ""
	}
	return resp.Header.Get("x-amzn-ErrorType"), *body.Message
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	arnPath := "/tags/" + url.PathEscape("arn:aws:ivs:us-west-2:111111111111:playback-key/abcdefABCDEF")
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad json", "POST", "/ImportPlaybackKeyPair", `{"publicKeyMaterial": `, 400, "ValidationException"},
		{"wrong type", "POST", "/ImportPlaybackKeyPair", `{"publicKeyMaterial": 5}`, 400, "ValidationException"},
		{"array body", "POST", "/GetPlaybackKeyPair", `[]`, 400, "ValidationException"},
		{"missing arn", "POST", "/GetPlaybackKeyPair", `{}`, 400, "ValidationException"},
		{"null arn", "POST", "/GetPlaybackKeyPair", `{"arn": null}`, 400, "ValidationException"},
		{"fraction maxResults", "POST", "/ListPlaybackKeyPairs", `{"maxResults": 1.5}`, 400, "ValidationException"},
		{"huge maxResults", "POST", "/ListPlaybackKeyPairs", `{"maxResults": 1e40}`, 400, "ValidationException"},
		{"two values", "POST", "/ListPlaybackKeyPairs", `{} {}`, 400, "ValidationException"},
		{"bad name", "POST", "/ImportPlaybackKeyPair", `{"publicKeyMaterial": "x", "name": "no spaces"}`, 400, "ValidationException"},
		{"long name", "POST", "/ImportPlaybackKeyPair", `{"publicKeyMaterial": "x", "name": "` + strings.Repeat("n", 129) + `"}`, 400, "ValidationException"},
		{"tags not a map", "POST", arnPath, `{"tags": ["a"]}`, 400, "ValidationException"},
		{"tags missing", "POST", arnPath, `{}`, 400, "ValidationException"},
		{"untag without keys", "DELETE", arnPath, ``, 400, "ValidationException"},
		{"unknown operation", "POST", "/CreatePlaybackKeyPairs", `{}`, 404, "UnknownOperationException"},
		{"wrong method", "GET", "/ImportPlaybackKeyPair", ``, 404, "UnknownOperationException"},
		// ServeMux would redirect these to the cleaned path; an API answers them itself.
		{"empty segment", "POST", "//ListPlaybackKeyPairs", `{}`, 404, "UnknownOperationException"},
		{"dot segments", "POST", "/x/../ListPlaybackKeyPairs", `{}`, 404, "UnknownOperationException"},
		{"trailing slash", "POST", "/ListPlaybackKeyPairs/", `{}`, 404, "UnknownOperationException"},
		{"tags without slash", "GET", "/tags", ``, 404, "UnknownOperationException"},
		{"tags ARN with empty segment", "GET", "/tags/arn:aws:ivs:us-west-2:111111111111:playback-key//abcdefABCDEF", ``, 404, "UnknownOperationException"},
		{"oversized body", "POST", "/ImportPlaybackKeyPair", `{"publicKeyMaterial": "` + strings.Repeat("A", 70<<10) + `"}`, 413, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signedRequest(t, tc.method, ts.url+tc.path, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			code, msg := awsErrorResponse(t, resp)
			if resp.StatusCode != tc.status || code != tc.code {
				t.Fatalf("got %d %s (%q), want %d %s", resp.StatusCode, code, msg, tc.status, tc.code)
			}
		})
	}
}

func TestAuthenticationRequired(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp, err := http.Post(ts.url+"/ListPlaybackKeyPairs", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	code, _ := awsErrorResponse(t, resp)
	if resp.StatusCode != 403 || code != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned request: %d %s", resp.StatusCode, code)
	}

	req := signedRequest(t, "POST", ts.url+"/ListPlaybackKeyPairs", `{}`)
	req.Body = io.NopCloser(strings.NewReader(`{"maxResults":1}`))
	req.ContentLength = 16
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	code, _ = awsErrorResponse(t, resp)
	if resp.StatusCode != 403 || code != "InvalidSignatureException" {
		t.Fatalf("tampered body: %d %s", resp.StatusCode, code)
	}

	bad := ivs.New(ivs.Options{Region: region, BaseEndpoint: aws.String(ts.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAAAAAAAAAAAAAAAAA", "wrong-secret", "")})
	_, err = bad.ListPlaybackKeyPairs(context.Background(), &ivs.ListPlaybackKeyPairsInput{})
	wantErr(t, err, "InvalidSignatureException", 403)
	unknown := ivs.New(ivs.Options{Region: region, BaseEndpoint: aws.String(ts.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAUNKNOWNUNKNOWN00", "x", "")})
	_, err = unknown.ListPlaybackKeyPairs(context.Background(), &ivs.ListPlaybackKeyPairsInput{})
	wantErr(t, err, "UnrecognizedClientException", 403)
}

// TestNoInputCausesServerError sends many malformed bodies to every operation: none may
// produce a 5xx.
func TestNoInputCausesServerError(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	bodies := []string{``, `{}`, `null`, `[]`, `"s"`, `1`, `{"arn": 1}`, `{"arn": "arn:aws:ivs::::"}`, `{"arn": "arn:aws:ivs:us-west-2:111111111111:playback-key/"}`,
		`{"publicKeyMaterial": null}`, `{"publicKeyMaterial": "-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----"}`, `{"tags": {"": ""}}`, `{"tags": null}`,
		`{"maxResults": "1"}`, `{"nextToken": 5}`, `{"nextToken": "////"}`, "\xff\xfe", `{"name": "\u0000"}`, `{"tags": {"k": "\ud800"}}`}
	paths := []string{"/ImportPlaybackKeyPair", "/GetPlaybackKeyPair", "/ListPlaybackKeyPairs", "/DeletePlaybackKeyPair",
		"/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A111111111111%3Aplayback-key%2Fx", "/tags/", "/tags/%25ZZ", "/tags/%00", "/tags/arn:aws:ivs:us-west-2:111111111111:playback-key/x"}
	for _, p := range paths {
		for _, m := range []string{"POST", "GET", "DELETE", "PUT"} {
			for _, b := range bodies {
				req := signedRequest(t, m, ts.url+p, b)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Errorf("%s %s %q: %d %s", m, p, b, resp.StatusCode, data)
				}
				if resp.StatusCode >= 400 && !bytes.Contains(data, []byte(`"exceptionMessage"`)) {
					t.Errorf("%s %s %q: %d without AWS error body: %s", m, p, b, resp.StatusCode, data)
				}
			}
		}
	}
}
