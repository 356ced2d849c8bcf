package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/smithy-go"
)

// verifyingServer is an HTTP server that verifies every request and answers like an
// AWS JSON service: {} on success, the error code and message otherwise.
type verifyingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, uri string
	id          Identity
	err         error
	body        string
}

func newVerifyingServer(t *testing.T, v *Verifier) *verifyingServer {
	s := &verifyingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r)
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{r.Method, r.RequestURI, id, err, string(body)})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("Verify error %T", err)
				w.WriteHeader(500)
				return
			}
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
			return
		}
		io.WriteString(w, "{}")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *verifyingServer) take() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen
	s.seen = nil
	return seen
}

// The real IVS client of the AWS SDK for Go, with its own middleware stack (SDK
// headers, retry headers, path and query serialisation) and the real clock.
func TestVerifyIVSClient(t *testing.T) {
	t.Parallel()
	v := &Verifier{Lookup: Credentials{testCred.AccessKeyID: testCred}.Lookup}
	srv := newVerifyingServer(t, v)
	client := func(cred Credential) *ivs.Client {
		return ivs.New(ivs.Options{
			Region:           "us-west-2",
			BaseEndpoint:     aws.String(srv.URL),
			Credentials:      credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
			RetryMaxAttempts: 1,
			HTTPClient:       srv.Client(),
		})
	}
	c := client(testCred)
	ctx := context.Background()
	arn := "arn:aws:ivs:us-west-2:123456789012:playback-key/AbCd"

	calls := []struct {
		name string
		call func() error
		uri  string
	}{
		{"ImportPlaybackKeyPair", func() error {
			_, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{
				Name:              aws.String("my-key"),
				PublicKeyMaterial: aws.String("-----BEGIN PUBLIC KEY-----\nMHYw\n-----END PUBLIC KEY-----\n"),
				Tags:              map[string]string{"a b": "c/d", "é": "ü"},
			})
			return err
		}, "/ImportPlaybackKeyPair"},
		{"ListPlaybackKeyPairs", func() error {
			_, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{MaxResults: aws.Int32(3)})
			return err
		}, "/ListPlaybackKeyPairs"},
		{"TagResource", func() error {
			_, err := c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "prod"}})
			return err
		}, tagsPath},
		{"UntagResource", func() error {
			_, err := c.UntagResource(ctx, &ivs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a b", "c/d", "é", "x+y=z&"}})
			return err
		}, // the signer rewrites the query in canonical (sorted) order
			tagsPath + "?tagKeys=%C3%A9&tagKeys=a%20b&tagKeys=c%2Fd&tagKeys=x%2By%3Dz%26"},
		{"ListTagsForResource", func() error {
			_, err := c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			return err
		}, tagsPath},
	}
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			if err := call.call(); err != nil {
				t.Fatal(err)
			}
			seen := srv.take()
			if len(seen) != 1 {
				t.Fatalf("server saw %d requests", len(seen))
			}
			s := seen[0]
			if s.err != nil {
				t.Fatalf("Verify: %v", s.err)
			}
			if s.uri != call.uri {
				t.Errorf("request URI = %q, want %q", s.uri, call.uri)
			}
			want := Identity{AccessKeyID: testCred.AccessKeyID, Account: testCred.Account, Region: "us-west-2", Service: "ivs"}
			if s.id != want {
				t.Errorf("identity = %+v, want %+v", s.id, want)
			}
		})
	}

	// The SDK surfaces the refusals as typed API errors with the code and message.
	for _, tt := range []struct {
		cred Credential
		code string
	}{
		{Credential{AccessKeyID: testCred.AccessKeyID, SecretAccessKey: "wrong"}, ErrInvalidSignature},
		{otherCred, ErrUnrecognizedClient},
	} {
		_, err := client(tt.cred).ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
			t.Fatalf("error = %v, want API error %s", err, tt.code)
		}
		if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), otherCred.SecretAccessKey) {
			t.Fatalf("error leaks the secret: %v", err)
		}
		srv.take()
	}
}
