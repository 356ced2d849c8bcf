package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/playkey/playkey/internal/testenv"
)

// TestOutputJSONAsAWSCLI: `playkey keys|channels ... --output json` prints what
// `aws ivs ... --output json` prints for the same calls, member for member.
func TestOutputJSONAsAWSCLI(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "aws")
	testenv.Need(t, "openssl")
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"))
	env := append(awsEnv(t, s.env), "PLAYKEY_ENDPOINT_URL="+s.endpoint)
	cli := testenv.StartAWSCLI(t, env)
	playkey := func(args ...string) any {
		t.Helper()
		out := mustRun(t, env, playkeyBin, append(args, "--output", "json")...)
		if strings.TrimSpace(out) == "" {
			return nil
		}
		if !strings.HasPrefix(out, "{\n    \"") {
			t.Errorf("playkey %v: not indented as the AWS CLI does:\n%s", args, out)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("playkey %v: %v\n%s", args, err, out)
		}
		return v
	}
	awsCLI := func(args ...string) any {
		t.Helper()
		if v := awsIVS(t, cli, s.endpoint, args...); v != nil {
			return v
		}
		return nil
	}
	same := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nplaykey: %v\naws:     %v", what, got, want)
		}
	}
	member := func(v any, path ...string) any {
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		return v
	}

	pub, _ := opensslKey(t, dir, "k1")
	imported := playkey("keys", "import", pub, "--name", "k1", "--tag", "team=video")
	arn, _ := member(imported, "keyPair", "arn").(string)
	if arn == "" || member(imported, "keyPair", "fingerprint") == nil {
		t.Fatalf("keys import --output json: %v", imported)
	}
	same("keys import", imported, awsCLI("get-playback-key-pair", "--arn", arn))
	same("keys get", playkey("keys", "get", arn), awsCLI("get-playback-key-pair", "--arn", arn))
	created := playkey("keys", "create", "-o", filepath.Join(dir, "k2.pem"))
	same("keys create", created, awsCLI("get-playback-key-pair", "--arn", member(created, "keyPair", "arn").(string)))
	same("keys list", playkey("keys", "list"), awsCLI("list-playback-key-pairs"))

	ch := playkey("channels", "create", "--name", "one", "--private", "--tag", "a=b")
	chARN, _ := member(ch, "channel", "arn").(string)
	if chARN == "" || member(ch, "channel", "playbackUrl") == nil || member(ch, "streamKey", "value") == nil {
		t.Fatalf("channels create --output json: %v", ch)
	}
	byCLI := awsCLI("create-channel", "--name", "two")
	same("channels create's channel", member(ch, "channel"), member(awsCLI("get-channel", "--arn", chARN), "channel"))
	same("channels create's members", sortedKeys(ch), sortedKeys(byCLI))
	same("channels create's streamKey members", sortedKeys(member(ch, "streamKey")), sortedKeys(member(byCLI, "streamKey")))
	same("channels get", playkey("channels", "get", chARN), awsCLI("get-channel", "--arn", chARN))
	same("channels update", playkey("channels", "update", chARN, "--public", "--name", "renamed"), awsCLI("get-channel", "--arn", chARN))
	same("channels list", playkey("channels", "list"), awsCLI("list-channels"))
	same("channels revoke", playkey("channels", "revoke", chARN, "--viewer-id", "v"),
		awsCLI("start-viewer-session-revocation", "--channel-arn", chARN, "--viewer-id", "v"))
	// For people: a header row and one row per resource.
	for _, args := range [][]string{{"channels", "list"}, {"channels", "get", chARN}, {"keys", "list"}, {"keys", "get", arn}} {
		out := mustRun(t, env, playkeyBin, append(args, "--output", "table")...)
		rows := 2
		if args[1] == "list" {
			rows = 3
		}
		if !strings.HasPrefix(out, "ARN ") || strings.Count(out, "\n") != rows || !strings.Contains(out, "arn:aws:ivs:") {
			t.Errorf("%v --output table:\n%s", args, out)
		}
	}
	same("channels delete", playkey("channels", "delete", chARN), awsCLI("delete-channel", "--arn", member(byCLI, "channel", "arn").(string)))
	same("keys delete", playkey("keys", "delete", arn), awsCLI("delete-playback-key-pair", "--arn", member(created, "keyPair", "arn").(string)))
	if _, errOut, code := runCmd(t, env, playkeyBin, "keys", "list", "--output", "yaml"); code != 2 || !strings.Contains(errOut, "text, table or json") {
		t.Errorf("--output yaml: exit %d %s", code, errOut)
	}
}

func sortedKeys(v any) []string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
