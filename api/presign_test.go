package api_test

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey/internal/testenv"
)

// botocorePresign returns URLs that botocore's generate_presigned_url makes for the
// calls, each a [operation, params] pair, with access key AKIAAAAAAAAAAAAAAAAA.
func botocorePresign(t *testing.T, endpoint string, expires int, calls [][2]any) []string {
	t.Helper()
	python := testenv.NeedPython(t, "botocore")
	const script = `
import json, sys, botocore.session
spec = json.load(sys.stdin)
c = botocore.session.get_session().create_client("ivs", region_name="us-west-2", endpoint_url=spec["endpoint"],
    aws_access_key_id=spec["key"], aws_secret_access_key=spec["secret"])
json.dump([c.generate_presigned_url(op, Params=p, ExpiresIn=spec["expires"]) for op, p in spec["calls"]], sys.stdout)
`
	cred := keys["AKIAAAAAAAAAAAAAAAAA"]
	in, _ := json.Marshal(map[string]any{"endpoint": endpoint, "key": cred.AccessKeyID, "secret": cred.SecretAccessKey, "expires": expires, "calls": calls})
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore presign: %v", err)
	}
	var urls []string
	if err := json.Unmarshal(out, &urls); err != nil {
		t.Fatal(err)
	}
	return urls
}

// TestPresignedURLs: the API accepts the presigned query form of SigV4 as botocore and the
// Go SDK write it, for the escaped tags path and an operation whose members botocore
// moves into the query, and refuses a tampered or expired one.
func TestPresignedURLs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	pub, _ := newPublicKeyPEM(t, elliptic.P384())
	out, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub), Tags: map[string]string{"team": "video/live"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.KeyPair.Arn)

	get := func(method, u string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest(method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if method == "POST" {
			req.Header.Set("Content-Type", "application/json") // botocore signs it
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), string(body)
	}

	urls := botocorePresign(t, ts.url, 300, [][2]any{
		{"list_tags_for_resource", map[string]string{"resourceArn": arn}},
		{"list_playback_key_pairs", map[string]any{}},
	})
	if !strings.Contains(urls[0], "X-Amz-Signature=") || !strings.Contains(urls[0], "/tags/arn%3Aaws%3Aivs%3A") {
		t.Fatalf("botocore wrote %s", urls[0])
	}
	if status, code, body := get("GET", urls[0]); status != 200 || !strings.Contains(body, `"team":"video/live"`) {
		t.Fatalf("botocore presigned ListTagsForResource: %d %s %s", status, code, body)
	}
	if status, code, body := get("POST", urls[1]); status != 200 || !strings.Contains(body, arn) {
		t.Fatalf("botocore presigned ListPlaybackKeyPairs: %d %s %s", status, code, body)
	}
	tampered := strings.Replace(urls[0], "%3Aplayback-key%2F", "%3Aplayback-key%2FX", 1)
	if tampered == urls[0] {
		t.Fatalf("no ARN to tamper with in %s", urls[0])
	}
	if status, code, _ := get("GET", tampered); status != 403 || code != "InvalidSignatureException" {
		t.Fatalf("tampered presigned URL: %d %s", status, code)
	}

	// The Go SDK's presigner, at a time outside the URL's lifetime and then inside it.
	cred := keys["AKIAAAAAAAAAAAAAAAAA"]
	presign := func(at time.Time, expires string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.url+"/tags/"+url.PathEscape(arn)+"?X-Amz-Expires="+expires, nil)
		u, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey},
			req, emptySHA256, "ivs", region, at)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if status, code, body := get("GET", presign(time.Now().Add(-time.Minute), "300")); status != 200 || !strings.Contains(body, "video/live") {
		t.Fatalf("SDK presigned ListTagsForResource: %d %s %s", status, code, body)
	}
	if status, code, body := get("GET", presign(time.Now().Add(-10*time.Minute), "300")); status != 403 || code != "InvalidSignatureException" || !strings.Contains(body, "expired") {
		t.Fatalf("expired presigned URL: %d %s %s", status, code, body)
	}
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
