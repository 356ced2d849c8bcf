package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/playkey/playkey/api"
	"github.com/playkey/playkey/sqlite"
)

// trustAll authenticates every request as one caller, so that fuzzed bodies reach the
// operations themselves (the SigV4 verifier has fuzzers of its own).
type trustAll struct{}

func (trustAll) Authenticate(*http.Request) (api.Caller, error) {
	return api.Caller{AccessKeyID: "AKIAFUZZ", Account: accountA, Region: region}, nil
}

// fuzzPaths are every route of the API, and a few that are none.
var fuzzPaths = []struct{ method, path string }{
	{"POST", "/ImportPlaybackKeyPair"}, {"POST", "/GetPlaybackKeyPair"}, {"POST", "/ListPlaybackKeyPairs"}, {"POST", "/DeletePlaybackKeyPair"},
	{"POST", "/CreateChannel"}, {"POST", "/GetChannel"}, {"POST", "/BatchGetChannel"}, {"POST", "/ListChannels"}, {"POST", "/UpdateChannel"}, {"POST", "/DeleteChannel"},
	{"POST", "/CreateStreamKey"}, {"POST", "/GetStreamKey"}, {"POST", "/BatchGetStreamKey"}, {"POST", "/ListStreamKeys"}, {"POST", "/DeleteStreamKey"},
	{"POST", "/CreatePlaybackRestrictionPolicy"}, {"POST", "/GetPlaybackRestrictionPolicy"}, {"POST", "/ListPlaybackRestrictionPolicies"},
	{"POST", "/UpdatePlaybackRestrictionPolicy"}, {"POST", "/DeletePlaybackRestrictionPolicy"},
	{"POST", "/GetStream"}, {"POST", "/ListStreams"}, {"POST", "/StopStream"}, {"POST", "/GetStreamSession"}, {"POST", "/ListStreamSessions"},
	{"POST", "/PutMetadata"},
	{"POST", "/StartViewerSessionRevocation"}, {"POST", "/BatchStartViewerSessionRevocation"}, {"POST", "/playkey/VerifyPlaybackToken"},
	{"POST", "/tags/"}, {"DELETE", "/tags/"}, {"GET", "/tags/"}, {"PUT", "/"}, {"POST", "/NoSuchOperation"},
}

// FuzzOperations sends arbitrary bodies (and, for the tag operations, arbitrary ARNs and
// query strings) to every operation: the answer is never a 5xx, and every error is in AWS
// shape with both message members.
func FuzzOperations(f *testing.F) {
	seeds := []string{``, `{}`, `null`, `[]`, `{"arn":"arn:aws:ivs:us-west-2:111111111111:channel/abcdefABCDEF"}`,
		`{"name":"n","authorized":true,"latencyMode":"LOW","type":"ADVANCED_HD","preset":"HIGHER_BANDWIDTH_DELIVERY","tags":{"a":"b"}}`,
		`{"arns":["arn:aws:ivs:us-west-2:111111111111:channel/x"]}`, `{"maxResults":0,"nextToken":"AAAA"}`,
		`{"allowedCountries":["US","zz"],"allowedOrigins":["https://a.example"],"enableStrictOriginEnforcement":true}`,
		`{"viewerSessions":[{"channelArn":"arn:aws:ivs:us-west-2:111111111111:channel/x","viewerId":"v","viewerSessionVersionsLessThanOrEqualTo":-1}]}`,
		`{"publicKeyMaterial":"-----BEGIN PUBLIC KEY-----\nMA==\n-----END PUBLIC KEY-----\n"}`, `{"token":"a.b.c","channelArn":"x"}`,
		`{"tags":{"k":"v"}}`, "\xff\xfe\x00", `{"multitrackInputConfiguration":{"enabled":true,"policy":"REQUIRE","maximumResolution":"SD"}}`,
		`{"channelArn":"arn:aws:ivs:us-west-2:111111111111:channel/abcdefABCDEF","streamId":"st-ABCDEfghij01234KLMN5678"}`,
		`{"filterBy":{"health":"STARVING"},"maxResults":1}`, `{"channelArn":"arn:aws:ivs:us-west-2:111111111111:channel/x","metadata":""}`}
	for i, s := range seeds {
		f.Add(uint8(i), s, "arn:aws:ivs:us-west-2:111111111111:channel/abcdefABCDEF", "tagKeys=a")
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "playkey.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	h := api.New(api.Config{Store: store, Auth: trustAll{}, PlaybackURL: testPlaybackURL, MaxBodyBytes: 64 << 10})

	f.Fuzz(func(t *testing.T, which uint8, body, arn, query string) {
		route := fuzzPaths[int(which)%len(fuzzPaths)]
		target := route.path
		if strings.HasPrefix(target, "/tags/") {
			target += strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23", " ", "%20").Replace(arn) + "?" + query
		}
		req, err := http.NewRequest(route.method, "http://playkey.test"+target, strings.NewReader(body))
		if err != nil {
			return // not a URL a client could send
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", route.method, target, body, rec.Code, rec.Body)
		}
		if rec.Header().Get("x-amzn-RequestId") == "" {
			t.Fatalf("%s %s: no x-amzn-RequestId", route.method, target)
		}
		if rec.Code >= 400 {
			var e struct{ Message, ExceptionMessage *string }
			data, _ := io.ReadAll(bytes.NewReader(rec.Body.Bytes()))
			if json.Unmarshal(data, &e) != nil || e.Message == nil || e.ExceptionMessage == nil || rec.Header().Get("x-amzn-ErrorType") == "" {
				t.Fatalf("%s %s %q: %d error not in AWS shape: %s", route.method, target, body, rec.Code, data)
			}
		}
	})
}
