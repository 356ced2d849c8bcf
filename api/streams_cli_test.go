package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/testenv"
)

// awsCLI runs the installed AWS CLI against the API with access key AKIAAAAAAAAAAAAAAAAA
// and no configuration of the user's. It skips the test when the CLI is missing, unless CI
// is set.
type awsCLI struct {
	t        *testing.T
	endpoint string
	cli      *testenv.AWSCLI
}

func newAWSCLI(t *testing.T, endpoint string) *awsCLI {
	t.Helper()
	testenv.Need(t, "aws")
	dir := t.TempDir()
	cred := keys["AKIAAAAAAAAAAAAAAAAA"]
	return &awsCLI{t: t, endpoint: endpoint, cli: testenv.StartAWSCLI(t, []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_DEFAULT_REGION=" + region, "AWS_PAGER=",
		"AWS_ACCESS_KEY_ID=" + cred.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + cred.SecretAccessKey,
	})}
}

// run runs `aws ivs ARGS --output json` and returns its exit code, decoded output (nil for
// none) and stderr.
func (a *awsCLI) run(args ...string) (int, map[string]any, string) {
	a.t.Helper()
	out, stderr, code := a.cli.Run(a.t, append([]string{"ivs", "--endpoint-url", a.endpoint, "--output", "json"}, args...)...)
	var v map[string]any
	if s := strings.TrimSpace(out); s != "" {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			a.t.Fatalf("aws %v: %v\n%s", args, err, s)
		}
	}
	return code, v, stderr
}

func (a *awsCLI) ok(args ...string) map[string]any {
	a.t.Helper()
	code, v, stderr := a.run(args...)
	if code != 0 {
		a.t.Fatalf("aws ivs %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return v
}

func (a *awsCLI) fails(code string, args ...string) {
	a.t.Helper()
	exit, _, stderr := a.run(args...)
	if exit == 0 || !strings.Contains(stderr, code) {
		a.t.Fatalf("aws ivs %s: exit %d, want a failure with %s:\n%s", strings.Join(args, " "), exit, code, stderr)
	}
}

// TestStreamsWithAWSCLI drives the stream operations with the AWS CLI, as its examples do.
func TestStreamsWithAWSCLI(t *testing.T) {
	ts, ingest := newStreamServer(t, nil)
	cli := newAWSCLI(t, ts.url)
	ch := cli.ok("create-channel", "--name", "cli-live")["channel"].(map[string]any)
	arn := ch["arn"].(string)

	cli.fails("ChannelNotBroadcasting", "get-stream", "--channel-arn", arn)
	cli.fails("ChannelNotBroadcasting", "stop-stream", "--channel-arn", arn)
	cli.fails("ChannelNotBroadcasting", "put-metadata", "--channel-arn", arn, "--metadata", `{"my": "metadata"}`)
	if got := cli.ok("list-streams")["streams"].([]any); len(got) != 0 {
		t.Fatalf("list-streams with nothing live: %v", got)
	}

	st := ingest.publish(t, arn)
	s := cli.ok("get-stream", "--channel-arn", arn)["stream"].(map[string]any)
	if s["streamId"] != st.ID || s["channelArn"] != arn || s["state"] != "LIVE" || s["health"] != "HEALTHY" ||
		s["playbackUrl"] != ch["playbackUrl"] || s["viewerCount"] != 0.0 || s["startTime"] == nil {
		t.Errorf("get-stream = %v", s)
	}
	streams := cli.ok("list-streams")["streams"].([]any)
	if len(streams) != 1 || streams[0].(map[string]any)["streamId"] != st.ID {
		t.Errorf("list-streams = %v", streams)
	}
	if streams := cli.ok("list-streams", "--filter-by", "health=STARVING")["streams"].([]any); len(streams) != 0 {
		t.Errorf("list-streams --filter-by health=STARVING = %v", streams)
	}
	cli.fails("ValidationException", "list-streams", "--max-results", "101")

	// The CLI's example payload; it prints nothing.
	if out := cli.ok("put-metadata", "--channel-arn", arn, "--metadata", `{"my": "metadata"}`); out != nil {
		t.Errorf("put-metadata printed %v", out)
	}
	channel, _ := playkey.ParseARN("arn", arn)
	if got := ingest.received(t, channel); len(got) != 1 || got[0] != `{"my": "metadata"}` {
		t.Errorf("the ingest received %q", got)
	}
	cli.fails("ValidationException", "put-metadata", "--channel-arn", arn, "--metadata", strings.Repeat("m", 1025))

	sess := cli.ok("get-stream-session", "--channel-arn", arn)["streamSession"].(map[string]any)
	if sess["streamId"] != st.ID || sess["channel"].(map[string]any)["name"] != "cli-live" || sess["endTime"] != nil {
		t.Errorf("get-stream-session = %v", sess)
	}

	if out := cli.ok("stop-stream", "--channel-arn", arn); out != nil {
		t.Errorf("stop-stream printed %v", out)
	}
	cli.fails("ChannelNotBroadcasting", "get-stream", "--channel-arn", arn)
	list := cli.ok("list-stream-sessions", "--channel-arn", arn, "--max-results", "25")["streamSessions"].([]any)
	if len(list) != 1 {
		t.Fatalf("list-stream-sessions = %v", list)
	}
	if sum := list[0].(map[string]any); sum["streamId"] != st.ID || sum["endTime"] == nil || sum["hasErrorEvent"] != false {
		t.Errorf("list-stream-sessions summary = %v", sum)
	}
	sess = cli.ok("get-stream-session", "--channel-arn", arn, "--stream-id", st.ID)["streamSession"].(map[string]any)
	if sess["endTime"] == nil {
		t.Errorf("the ended session has no endTime: %v", sess)
	}
}
