package token_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/token"
)

// The interoperability tests sign and verify with JOSE implementations no one here wrote:
// Python's joserfc and Node's jose and jsonwebtoken. Without the tool they skip, unless
// CI is set, where a missing tool fails the test. CI installs the Node libraries with
//
//	npm ci --prefix token/testdata/node

func needNode(t *testing.T) {
	t.Helper()
	testenv.Need(t, "node")
	for _, m := range []string{"jose", "jsonwebtoken"} {
		if _, err := os.Stat(filepath.Join("testdata", "node", "node_modules", m, "package.json")); err != nil {
			testenv.Missing(t, "the npm package "+m, "npm ci --prefix token/testdata/node (bash .ci/setup does)", err)
		}
	}
}

func needJoserfc(t *testing.T) {
	t.Helper()
	testenv.Need(t, "python3")
	if out, err := exec.Command("python3", "-c", "import joserfc").CombinedOutput(); err != nil {
		testenv.Missing(t, "the Python package joserfc", "pip install joserfc", errors.New(string(bytes.TrimSpace(out))))
	}
}

type interopJob struct {
	Op         string         `json:"op"`
	Lib        string         `json:"lib,omitempty"`
	PrivatePEM string         `json:"private_pem,omitempty"`
	PublicPEM  string         `json:"public_pem,omitempty"`
	Claims     map[string]any `json:"claims,omitempty"`
	Token      string         `json:"token,omitempty"`
}

type interopResult struct {
	Token   string         `json:"token"`
	OK      bool           `json:"ok"`
	Error   string         `json:"error"`
	Header  map[string]any `json:"header"`
	Payload map[string]any `json:"payload"`
}

// runInterop runs a batch of jobs through a helper script and returns one result per job.
func runInterop(t *testing.T, cmd *exec.Cmd, jobs []interopJob) []interopResult {
	t.Helper()
	in, err := json.Marshal(map[string]any{"jobs": jobs})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.Bytes())
	}
	var res struct{ Results []interopResult }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	if len(res.Results) != len(jobs) {
		t.Fatalf("%s: %d results for %d jobs", cmd, len(res.Results), len(jobs))
	}
	return res.Results
}

// interopClaims are the claim sets exchanged with the other libraries, as JSON values.
func interopClaims(channel string, now time.Time) []map[string]any {
	exp := now.Add(5 * time.Minute).Unix()
	return []map[string]any{
		{"aws:channel-arn": channel, "exp": exp},
		{
			"aws:channel-arn":                 channel,
			"exp":                             exp,
			"aws:access-control-allow-origin": "https://*.example.com,http://localhost:3000",
			"aws:strict-origin-enforcement":   true,
			"aws:single-use-uuid":             "0f8fad5b-d9cb-469f-a165-70867728950e",
			"aws:viewer-id":                   "zoë \"quoted\" <viewer>/\u2028",
			"aws:viewer-session-version":      7,
			"aws:maximum-resolution":          "FULL_HD",
			"custom":                          map[string]any{"nested": []any{1, "two", nil}},
		},
	}
}

// toClaims builds the Claims a JSON claim set means, independently of the package's parser.
func toClaims(t *testing.T, m map[string]any) token.Claims {
	t.Helper()
	var c token.Claims
	for k, v := range m {
		switch k {
		case token.ClaimChannelARN:
			c.ChannelARN = v.(string)
		case token.ClaimExp:
			c.Exp = asInt(v)
		case token.ClaimAllowOrigin:
			c.AllowedOrigins = splitComma(v.(string))
		case token.ClaimStrictOriginEnforcement:
			c.StrictOriginEnforcement = v.(bool)
		case token.ClaimSingleUseUUID:
			c.SingleUseUUID = v.(string)
		case token.ClaimViewerID:
			c.ViewerID = v.(string)
		case token.ClaimViewerSessionVersion:
			c.ViewerSessionVersion = asInt(v)
		case token.ClaimMaximumResolution:
			c.MaximumResolution = v.(string)
		default:
			if c.Extra == nil {
				c.Extra = map[string]json.RawMessage{}
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			c.Extra[k] = b
		}
	}
	return c
}

func asInt(v any) int64 {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int64:
		return v
	case float64:
		return int64(v)
	}
	panic(v)
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// sameClaims compares claims, unknown claims as JSON values.
func sameClaims(t *testing.T, got, want token.Claims) {
	t.Helper()
	gx, wx := got.Extra, want.Extra
	got.Extra, want.Extra = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("claims\n got %+v\nwant %+v", got, want)
	}
	if len(gx) != len(wx) {
		t.Errorf("unknown claims: got %d, want %d", len(gx), len(wx))
	}
	for k, w := range wx {
		var a, b any
		json.Unmarshal(gx[k], &a)
		json.Unmarshal(w, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("unknown claim %s: got %s, want %s", k, gx[k], w)
		}
	}
}

// libraries lists the independent implementations and how to run their helper.
func libraries(t *testing.T) []struct {
	name string
	cmd  func() *exec.Cmd
	need func(*testing.T)
} {
	return []struct {
		name string
		cmd  func() *exec.Cmd
		need func(*testing.T)
	}{
		{"joserfc", func() *exec.Cmd { return exec.Command("python3", "testdata/joserfc_interop.py") }, needJoserfc},
		{"jose", func() *exec.Cmd { return exec.Command("node", "testdata/node/interop.mjs") }, needNode},
		{"jsonwebtoken", func() *exec.Cmd { return exec.Command("node", "testdata/node/interop.mjs") }, needNode},
	}
}

// TestInteropTheyVerifyOurs signs with this package and verifies with each library.
func TestInteropTheyVerifyOurs(t *testing.T) {
	t.Parallel()
	vs := testVectors(t)
	const channel = "arn:aws:ivs:eu-west-1:123456789012:channel/Interop12345"
	now := time.Now()
	for _, lib := range libraries(t) {
		t.Run(lib.name, func(t *testing.T) {
			lib.need(t)
			var jobs []interopJob
			var want []map[string]any
			for _, keyName := range []string{"a", "b"} {
				key := privateKey(t, vs.Keys[keyName].PrivatePEM)
				for _, m := range interopClaims(channel, now) {
					tok, err := token.Sign(toClaims(t, m), key)
					if err != nil {
						t.Fatal(err)
					}
					jobs = append(jobs, interopJob{Op: "verify", Lib: lib.name, PublicPEM: vs.Keys[keyName].PublicPEM, Token: tok})
					want = append(want, m)
				}
			}
			// And a negative control: the other key must not verify.
			jobs = append(jobs, interopJob{Op: "verify", Lib: lib.name, PublicPEM: vs.Keys["c"].PublicPEM, Token: jobs[0].Token})
			results := runInterop(t, lib.cmd(), jobs)
			for i, r := range results[:len(want)] {
				if !r.OK {
					t.Errorf("job %d: %s rejected a token playkey signed: %s", i, lib.name, r.Error)
					continue
				}
				if r.Header["alg"] != "ES384" || r.Header["typ"] != "JWT" {
					t.Errorf("job %d: header %v", i, r.Header)
				}
				wb, _ := json.Marshal(want[i])
				gb, _ := json.Marshal(r.Payload)
				var w, g any
				json.Unmarshal(wb, &w)
				json.Unmarshal(gb, &g)
				if !reflect.DeepEqual(w, g) {
					t.Errorf("job %d: %s read payload\n%s\nwant\n%s", i, lib.name, gb, wb)
				}
			}
			if last := results[len(results)-1]; last.OK {
				t.Errorf("%s verified a token with the wrong key", lib.name)
			}
		})
	}
}

// TestInteropWeVerifyTheirs signs with each library and verifies with this package.
func TestInteropWeVerifyTheirs(t *testing.T) {
	t.Parallel()
	vs := testVectors(t)
	const channel = "arn:aws:ivs:eu-west-1:123456789012:channel/Interop12345"
	now := time.Now()
	keys := vs.publicKeys(t, []string{"c", "a", "b"})
	for _, lib := range libraries(t) {
		t.Run(lib.name, func(t *testing.T) {
			lib.need(t)
			var jobs []interopJob
			var want []map[string]any
			var wantIdx []int
			for i, keyName := range []string{"a", "b"} {
				for _, m := range interopClaims(channel, now) {
					jobs = append(jobs, interopJob{Op: "sign", Lib: lib.name, PrivatePEM: vs.Keys[keyName].PrivatePEM, Claims: m})
					want = append(want, m)
					wantIdx = append(wantIdx, i+1)
				}
			}
			v := &token.Verifier{Leeway: time.Minute}
			for i, r := range runInterop(t, lib.cmd(), jobs) {
				claims, idx, err := v.Verify(r.Token, keys, channel, time.Now())
				if err != nil {
					t.Errorf("job %d: playkey rejected a token %s signed: %v", i, lib.name, err)
					continue
				}
				if idx != wantIdx[i] {
					t.Errorf("job %d: key index %d, want %d", i, idx, wantIdx[i])
				}
				w := toClaims(t, want[i])
				if lib.name == "jsonwebtoken" { // it adds iat
					if _, ok := claims.Extra["iat"]; !ok {
						t.Errorf("job %d: no iat from jsonwebtoken", i)
					}
					delete(claims.Extra, "iat")
					if len(claims.Extra) == 0 {
						claims.Extra = nil
					}
				}
				sameClaims(t, *claims, w)
				// The claims must mean the same to the other library.
				_, _, err = v.Verify(r.Token, keys, channel+"x", time.Now())
				if rej := (*token.Rejection)(nil); !errors.As(err, &rej) || rej.Code != token.ChannelMismatch {
					t.Errorf("job %d: other channel: %v", i, err)
				}
			}
		})
	}
}
