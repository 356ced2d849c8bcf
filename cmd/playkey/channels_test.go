package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/playkey/playkey/internal/testenv"
)

// awsIVS runs `aws ivs ... --output json` against a server and decodes the output (nil for
// none).
func awsIVS(t *testing.T, cli *testenv.AWSCLI, endpoint string, args ...string) map[string]any {
	t.Helper()
	out := cli.MustRun(t, append([]string{"ivs", "--endpoint-url", endpoint, "--output", "json"}, args...)...)
	if strings.TrimSpace(out) == "" {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("aws ivs %v: %v\n%s", args, err, out)
	}
	return v
}

// awsIVSFails runs `aws ivs ...`, which must fail naming code, and returns its stderr.
func awsIVSFails(t *testing.T, cli *testenv.AWSCLI, endpoint, code string, args ...string) string {
	t.Helper()
	_, stderr, exit := cli.Run(t, append([]string{"ivs", "--endpoint-url", endpoint}, args...)...)
	if exit == 0 || !strings.Contains(stderr, code) {
		t.Fatalf("aws ivs %v: exit %d, want a failure with %s:\n%s", args, exit, code, stderr)
	}
	return stderr
}

func TestChannelsWithAWSCLI(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "aws")
	dir := t.TempDir()
	s := startServer(t, filepath.Join(dir, "data"), "--playback-url", "https://play.example.com/")
	cli := testenv.StartAWSCLI(t, awsEnv(t, s.env))
	ivs := func(args ...string) map[string]any { t.Helper(); return awsIVS(t, cli, s.endpoint, args...) }
	fails := func(code string, args ...string) string {
		t.Helper()
		return awsIVSFails(t, cli, s.endpoint, code, args...)
	}

	// The policy first, as in the CLI examples.
	pol := ivs("create-playback-restriction-policy", "--name", "test-playback-restriction-policy", "--enable-strict-origin-enforcement",
		"--tags", "key1=value1,key2=value2", "--allowed-countries", "US", "MX",
		"--allowed-origins", "https://www.website1.com", "https://www.website2.com")["playbackRestrictionPolicy"].(map[string]any)
	polARN := pol["arn"].(string)
	if !regexp.MustCompile(`^arn:aws:ivs:us-west-2:000000000000:playback-restriction-policy/[a-zA-Z0-9]{12}$`).MatchString(polARN) ||
		fmt.Sprint(pol["allowedCountries"]) != "[US MX]" || pol["enableStrictOriginEnforcement"] != true {
		t.Fatalf("create-playback-restriction-policy: %v", pol)
	}
	fails("ValidationException", "create-playback-restriction-policy", "--allowed-countries", "usa")

	// create-channel as in the CLI's first example; every default as IVS shows it.
	got := ivs("create-channel", "--name", "test-channel", "--no-insecure-ingest")
	ch, key := got["channel"].(map[string]any), got["streamKey"].(map[string]any)
	arn := ch["arn"].(string)
	m := regexp.MustCompile(`^arn:aws:ivs:us-west-2:000000000000:channel/([a-zA-Z0-9]{12})$`).FindStringSubmatch(arn)
	if m == nil {
		t.Fatalf("channel arn %q", arn)
	}
	want := map[string]any{
		"name": "test-channel", "authorized": false, "containerFormat": "TS", "latencyMode": "LOW", "insecureIngest": false,
		"playbackRestrictionPolicyArn": "", "recordingConfigurationArn": "", "preset": "", "type": "STANDARD",
		"playbackUrl": "https://play.example.com/api/video/v1/us-west-2.000000000000.channel." + m[1] + ".m3u8",
	}
	for k, v := range want {
		if ch[k] != v {
			t.Errorf("create-channel %s = %v, want %v", k, ch[k], v)
		}
	}
	if fmt.Sprint(ch["multitrackInputConfiguration"]) != "map[enabled:false maximumResolution:FULL_HD policy:ALLOW]" ||
		!regexp.MustCompile(`^[0-9a-f]{12}\.global-contribute\.live-video\.net$`).MatchString(ch["ingestEndpoint"].(string)) ||
		!regexp.MustCompile(`^[0-9a-f]{12}\.srt\.live-video\.net$`).MatchString(ch["srt"].(map[string]any)["endpoint"].(string)) {
		t.Errorf("create-channel: %v", ch)
	}
	keyARN := key["arn"].(string)
	keyID := keyARN[strings.LastIndex(keyARN, "/")+1:]
	if key["channelArn"] != arn || !regexp.MustCompile(`^sk_us-west-2_`+keyID+`_[a-zA-Z0-9]{30}$`).MatchString(key["value"].(string)) {
		t.Errorf("stream key %v", key)
	}

	// get, update (the CLI sends authorized=false, which the Go SDK cannot), list, batch-get.
	if ivs("get-channel", "--arn", arn)["channel"].(map[string]any)["srt"].(map[string]any)["passphrase"] != ch["srt"].(map[string]any)["passphrase"] {
		t.Error("get-channel returned another SRT passphrase")
	}
	up := ivs("update-channel", "--arn", arn, "--authorized", "--latency-mode", "NORMAL", "--playback-restriction-policy-arn", polARN)["channel"].(map[string]any)
	if up["authorized"] != true || up["latencyMode"] != "NORMAL" || up["playbackRestrictionPolicyArn"] != polARN || up["name"] != "test-channel" {
		t.Errorf("update-channel: %v", up)
	}
	up = ivs("update-channel", "--arn", arn, "--no-authorized")["channel"].(map[string]any)
	if up["authorized"] != false || up["playbackRestrictionPolicyArn"] != polARN {
		t.Errorf("update-channel --no-authorized: %v", up)
	}
	fails("ConflictException", "delete-playback-restriction-policy", "--arn", polARN)
	fails("ValidationException", "update-channel", "--arn", arn, "--preset", "HIGHER_BANDWIDTH_DELIVERY")
	fails("ValidationException", "create-channel", "--latency-mode", "FAST")

	second := ivs("create-channel", "--name", "second", "--type", "ADVANCED_SD", "--authorized")["channel"].(map[string]any)
	if second["preset"] != "HIGHER_BANDWIDTH_DELIVERY" || second["authorized"] != true {
		t.Errorf("ADVANCED_SD channel: %v", second)
	}
	list := ivs("list-channels")["channels"].([]any)
	if len(list) != 2 {
		t.Fatalf("list-channels: %v", list)
	}
	if got := ivs("list-channels", "--filter-by-playback-restriction-policy-arn", polARN)["channels"].([]any); len(got) != 1 || got[0].(map[string]any)["arn"] != arn {
		t.Errorf("list-channels by policy: %v", got)
	}
	// The CLI pages through list-channels on its own; one per page still lists both.
	if got := ivs("list-channels", "--page-size", "1")["channels"].([]any); len(got) != 2 {
		t.Errorf("list-channels --page-size 1: %d channels", len(got))
	}
	fails("ConflictException", "list-channels", "--filter-by-name", "x", "--filter-by-playback-restriction-policy-arn", polARN)
	missing := "arn:aws:ivs:us-west-2:000000000000:channel/abcdABCDefgh"
	batch := ivs("batch-get-channel", "--arns", arn, missing)
	if len(batch["channels"].([]any)) != 1 || fmt.Sprint(batch["errors"]) != "[map[arn:"+missing+" code:404 message:channel "+missing+" not found]]" {
		t.Errorf("batch-get-channel: %v", batch)
	}

	// Stream keys: one per channel.
	fails("ServiceQuotaExceededException", "create-stream-key", "--channel-arn", arn)
	keys := ivs("list-stream-keys", "--channel-arn", arn)["streamKeys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["arn"] != keyARN || keys[0].(map[string]any)["value"] != nil {
		t.Errorf("list-stream-keys: %v", keys)
	}
	if ivs("get-stream-key", "--arn", keyARN)["streamKey"].(map[string]any)["value"] != key["value"] {
		t.Error("get-stream-key returned another value")
	}
	ivs("delete-stream-key", "--arn", keyARN)
	newKey := ivs("create-stream-key", "--channel-arn", arn, "--tags", "a=b")["streamKey"].(map[string]any)
	bk := ivs("batch-get-stream-key", "--arns", newKey["arn"].(string), keyARN)
	if len(bk["streamKeys"].([]any)) != 1 || len(bk["errors"].([]any)) != 1 {
		t.Errorf("batch-get-stream-key: %v", bk)
	}

	// Revocation, single and batch (the CLI example's shape).
	ivs("start-viewer-session-revocation", "--channel-arn", arn, "--viewer-id", "abcdefg", "--viewer-session-versions-less-than-or-equal-to", "1234567890")
	fails("ResourceNotFoundException", "start-viewer-session-revocation", "--channel-arn", missing, "--viewer-id", "abcdefg")
	fails("ValidationException", "start-viewer-session-revocation", "--channel-arn", arn, "--viewer-id", strings.Repeat("v", 41))
	res := ivs("batch-start-viewer-session-revocation", "--viewer-sessions",
		`[{"channelArn":"`+arn+`","viewerId":"abcdefg1","viewerSessionVersionsLessThanOrEqualTo":1234567890},{"channelArn":"`+missing+`","viewerId":"abcdefg2"}]`)
	if errs := res["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["viewerId"] != "abcdefg2" || errs[0].(map[string]any)["code"] != "404" {
		t.Errorf("batch-start-viewer-session-revocation: %v", res)
	}

	// Tags on every resource type.
	for _, r := range []string{arn, newKey["arn"].(string), polARN} {
		ivs("tag-resource", "--resource-arn", r, "--tags", "env=test")
		if tags := ivs("list-tags-for-resource", "--resource-arn", r)["tags"].(map[string]any); tags["env"] != "test" {
			t.Errorf("tags of %s: %v", r, tags)
		}
	}

	// Policies: get, list (the model's default page size is 1; the CLI does not page this
	// list), update.
	ivs("create-playback-restriction-policy")
	if got := ivs("list-playback-restriction-policies")["playbackRestrictionPolicies"].([]any); len(got) != 1 {
		t.Errorf("list-playback-restriction-policies: %d, want 1 (the default maxResults)", len(got))
	}
	if got := ivs("list-playback-restriction-policies", "--max-results", "100")["playbackRestrictionPolicies"].([]any); len(got) != 2 {
		t.Errorf("list-playback-restriction-policies --max-results 100: %d", len(got))
	}
	upd := ivs("update-playback-restriction-policy", "--arn", polARN, "--no-enable-strict-origin-enforcement")["playbackRestrictionPolicy"].(map[string]any)
	if upd["enableStrictOriginEnforcement"] != false || fmt.Sprint(upd["allowedCountries"]) != "[US MX]" {
		t.Errorf("update-playback-restriction-policy: %v", upd)
	}

	// Deleting the channel takes its stream key; then the policy is free.
	if out := cli.MustRun(t, "ivs", "--endpoint-url", s.endpoint, "delete-channel", "--arn", arn); strings.TrimSpace(out) != "" {
		t.Errorf("delete-channel printed %q", out)
	}
	fails("ResourceNotFoundException", "get-stream-key", "--arn", newKey["arn"].(string))
	fails("ResourceNotFoundException", "get-channel", "--arn", arn)
	ivs("delete-playback-restriction-policy", "--arn", polARN)
	fails("ResourceNotFoundException", "get-playback-restriction-policy", "--arn", polARN)
}

func TestChannelsCommands(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "aws")
	dir := t.TempDir()
	// With ingest off and no --origin the gate does not listen, so the fixed port is only
	// what playbackUrl is made of.
	s := startServer(t, filepath.Join(dir, "data"), "--playback-addr", "0.0.0.0:9999", "--ingest-addr", "")
	env := append(awsEnv(t, s.env), "PLAYKEY_ENDPOINT_URL="+s.endpoint)
	cli := testenv.StartAWSCLI(t, env)
	pol := awsIVS(t, cli, s.endpoint, "create-playback-restriction-policy")["playbackRestrictionPolicy"].(map[string]any)["arn"].(string)

	out := mustRun(t, env, playkeyBin, "channels", "create", "--name", "show", "--private", "--latency-mode", "NORMAL", "--tag", "team=video", "--policy", pol)
	arn := regexp.MustCompile(`arn:aws:ivs:us-west-2:000000000000:channel/[a-zA-Z0-9]{12}`).FindString(out)
	if arn == "" || !strings.Contains(out, "private:       yes") || !strings.Contains(out, "NORMAL") ||
		!strings.Contains(out, "type:          STANDARD\n") || // no preset on STANDARD, no trailing space
		!strings.Contains(out, "http://127.0.0.1:9999/api/video/v1/us-west-2.000000000000.channel.") ||
		!regexp.MustCompile(`stream value:  sk_us-west-2_[a-zA-Z0-9]{12}_[a-zA-Z0-9]{30}`).MatchString(out) {
		t.Fatalf("channels create printed:\n%s", out)
	}
	out = mustRun(t, env, playkeyBin, "channels", "list")
	if !strings.Contains(out, arn) || !strings.Contains(out, "team=video") || !strings.Contains(out, pol) {
		t.Fatalf("channels list printed:\n%s", out)
	}
	out = mustRun(t, env, playkeyBin, "channels", "update", arn, "--public", "--no-policy", "--name", "renamed")
	if !strings.Contains(out, "private:       no") || !strings.Contains(out, "renamed") || !strings.Contains(out, "policy:        -") {
		t.Fatalf("channels update --public printed:\n%s", out)
	}
	got := awsIVS(t, cli, s.endpoint, "get-channel", "--arn", arn)["channel"].(map[string]any)
	if got["authorized"] != false || got["playbackRestrictionPolicyArn"] != "" {
		t.Fatalf("after channels update --public: %v", got)
	}
	mustRun(t, env, playkeyBin, "channels", "update", arn, "--private")
	out = mustRun(t, env, playkeyBin, "channels", "get", arn, "--output", "json")
	var ch struct{ Channel struct{ Authorized bool } }
	if err := json.Unmarshal([]byte(out), &ch); err != nil || !ch.Channel.Authorized {
		t.Fatalf("channels get --output json: %v\n%s", err, out)
	}
	out = mustRun(t, env, playkeyBin, "channels", "revoke", arn, "--viewer-id", "alice", "--up-to", "3")
	if !strings.Contains(out, "alice") {
		t.Fatalf("channels revoke printed:\n%s", out)
	}
	if _, errOut, code := runCmd(t, env, playkeyBin, "channels", "revoke", arn); code != 2 || !strings.Contains(errOut, "--viewer-id") {
		t.Fatalf("channels revoke without --viewer-id: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCmd(t, env, playkeyBin, "channels", "update", arn, "--private", "--public"); code != 2 {
		t.Fatalf("--private --public: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCmd(t, env, playkeyBin, "channels", "create", "--type", "HUGE"); code != 1 || !strings.Contains(errOut, "ValidationException") {
		t.Fatalf("channels create --type HUGE: exit %d %s", code, errOut)
	}
	mustRun(t, env, playkeyBin, "channels", "delete", arn)
	if _, errOut, code := runCmd(t, env, playkeyBin, "channels", "get", arn); code != 1 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("channels get after delete: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCmd(t, env, playkeyBin, "serve", "--playback-url", "ftp://x"); code != 2 || !strings.Contains(errOut, "--playback-url") {
		t.Fatalf("serve --playback-url ftp://x: exit %d %s", code, errOut)
	}
}

// TestChannelsIngestServerURL: the ingest server the CLI prints is the URL --ingest-url
// gives broadcasters, read back from the channel's ingestEndpoint, whatever the scheme and
// port; plain RTMP on a port clients would read as RTMPS is refused at startup.
func TestChannelsIngestServerURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ flag, endpoint, want string }{
		{"", "", "rtmps://"}, // IVS's form; the host is per account
		{"rtmps://live.example.com", "live.example.com", "rtmps://live.example.com:443/app/"},
		{"rtmps://live.example.com:4443", "live.example.com:4443", "rtmps://live.example.com:4443/app/"},
		{"rtmp://10.0.0.5", "10.0.0.5:1935", "rtmp://10.0.0.5:1935/app/"},
		{"rtmp://10.0.0.5:1935/app/", "10.0.0.5:1935", "rtmp://10.0.0.5:1935/app/"},
	} {
		t.Run(c.flag, func(t *testing.T) {
			t.Parallel()
			args := []string{"--ingest-addr", "", "--playback-url", "https://play.example.com"}
			if c.flag != "" {
				args = append(args, "--ingest-url", c.flag)
			}
			s := startServer(t, t.TempDir(), args...)
			env := append(awsEnv(t, s.env), "PLAYKEY_ENDPOINT_URL="+s.endpoint)
			out := mustRun(t, env, playkeyBin, "channels", "create")
			line := regexp.MustCompile(`(?m)^ingest: +(\S+)$`).FindStringSubmatch(out)
			if line == nil || !strings.HasPrefix(line[1], c.want) || !strings.HasSuffix(line[1], "/app/") {
				t.Fatalf("channels create with --ingest-url %q printed:\n%s\nwant ingest: %s...", c.flag, out, c.want)
			}
			got := regexp.MustCompile(`"ingestEndpoint": "([^"]+)"`).FindStringSubmatch(mustRun(t, env, playkeyBin, "channels", "get",
				regexp.MustCompile(`arn:aws:ivs:\S+:channel/\w+`).FindString(out), "--output", "json"))
			if got == nil || c.endpoint != "" && got[1] != c.endpoint {
				t.Errorf("ingestEndpoint %v, want %q", got, c.endpoint)
			}
		})
	}
	for _, flag := range []string{"rtmp://10.0.0.5:1936", "rtmps://live.example.com:1935"} {
		if _, errOut, code := runCmd(t, nil, playkeyBin, "serve", "--data", t.TempDir(), "--ingest-addr", "", "--playback-url", "https://play.example.com", "--ingest-url", flag); code != 2 || !strings.Contains(errOut, "--ingest-url") {
			t.Errorf("serve --ingest-url %s: exit %d %s, want a usage error", flag, code, errOut)
		}
	}
}
