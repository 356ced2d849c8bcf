package api_test

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"

	"github.com/playkey/playkey"
)

var (
	channelARNPattern  = regexp.MustCompile(`^arn:aws:ivs:us-west-2:` + accountA + `:channel/([a-zA-Z0-9]{12})$`)
	streamKeyPattern   = regexp.MustCompile(`^arn:aws:ivs:us-west-2:` + accountA + `:stream-key/([a-zA-Z0-9]{12})$`)
	ingestPattern      = regexp.MustCompile(`^([0-9a-f]{12})\.global-contribute\.live-video\.net$`)
	srtPattern         = regexp.MustCompile(`^([0-9a-f]{12})\.srt\.live-video\.net$`)
	passphrasePattern  = regexp.MustCompile(`^[a-zA-Z0-9]{79}$`)
	policyARNPatternRE = regexp.MustCompile(`^arn:aws:ivs:us-west-2:` + accountA + `:playback-restriction-policy/[a-zA-Z0-9]{12}$`)
)

func createChannel(t *testing.T, c *ivs.Client, in *ivs.CreateChannelInput) *ivs.CreateChannelOutput {
	t.Helper()
	if in == nil {
		in = &ivs.CreateChannelInput{}
	}
	out, err := c.CreateChannel(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateChannel: %v", err)
	}
	return out
}

// checkDefaultChannel checks a channel created with no members against what IVS returns
// for one (the AWS CLI's create-channel and get-channel examples).
func checkDefaultChannel(t *testing.T, ch *types.Channel) {
	t.Helper()
	m := channelARNPattern.FindStringSubmatch(aws.ToString(ch.Arn))
	if m == nil {
		t.Fatalf("arn %q", aws.ToString(ch.Arn))
	}
	id := m[1]
	ingest := ingestPattern.FindStringSubmatch(aws.ToString(ch.IngestEndpoint))
	srt := srtPattern.FindStringSubmatch(aws.ToString(ch.Srt.Endpoint))
	if ingest == nil || srt == nil || ingest[1] != srt[1] {
		t.Errorf("ingestEndpoint %q and srt.endpoint %q: want {hex}.global-contribute.live-video.net and the same {hex}.srt.live-video.net",
			aws.ToString(ch.IngestEndpoint), aws.ToString(ch.Srt.Endpoint))
	}
	if !passphrasePattern.MatchString(aws.ToString(ch.Srt.Passphrase)) {
		t.Errorf("srt.passphrase %q: want 79 letters and digits", aws.ToString(ch.Srt.Passphrase))
	}
	wantURL := testPlaybackURL + "/api/video/v1/us-west-2." + accountA + ".channel." + id + ".m3u8"
	for _, c := range []struct{ name, got, want string }{
		{"name", aws.ToString(ch.Name), ""},
		{"latencyMode", string(ch.LatencyMode), "LOW"},
		{"type", string(ch.Type), "STANDARD"},
		{"preset", string(ch.Preset), ""},
		{"containerFormat", string(ch.ContainerFormat), "TS"},
		{"recordingConfigurationArn", aws.ToString(ch.RecordingConfigurationArn), ""},
		{"playbackRestrictionPolicyArn", aws.ToString(ch.PlaybackRestrictionPolicyArn), ""},
		{"playbackUrl", aws.ToString(ch.PlaybackUrl), wantURL},
		{"multitrackInputConfiguration", fmt.Sprintf("%+v", *ch.MultitrackInputConfiguration),
			fmt.Sprintf("%+v", types.MultitrackInputConfiguration{Enabled: false, MaximumResolution: "FULL_HD", Policy: "ALLOW"})},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if ch.Authorized || ch.InsecureIngest || ch.Tags == nil || len(ch.Tags) != 0 || ch.Name == nil ||
		ch.RecordingConfigurationArn == nil || ch.PlaybackRestrictionPolicyArn == nil {
		t.Errorf("authorized %v, insecureIngest %v, tags %v, name/recording/policy present %v %v %v",
			ch.Authorized, ch.InsecureIngest, ch.Tags, ch.Name != nil, ch.RecordingConfigurationArn != nil, ch.PlaybackRestrictionPolicyArn != nil)
	}
}

func TestChannelLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)

	created := createChannel(t, c, nil)
	ch, key := created.Channel, created.StreamKey
	checkDefaultChannel(t, ch)
	arn := aws.ToString(ch.Arn)
	km := streamKeyPattern.FindStringSubmatch(aws.ToString(key.Arn))
	if km == nil || aws.ToString(key.ChannelArn) != arn || key.Tags == nil || len(key.Tags) != 0 {
		t.Fatalf("stream key %+v", key)
	}
	// sk_{region}_{stream key id}_{30 letters and digits}, as real IVS responses show.
	if !regexp.MustCompile(`^sk_us-west-2_` + km[1] + `_[a-zA-Z0-9]{30}$`).MatchString(aws.ToString(key.Value)) {
		t.Errorf("stream key value %q", aws.ToString(key.Value))
	}

	got, err := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: ch.Arn})
	if err != nil {
		t.Fatal(err)
	}
	checkDefaultChannel(t, got.Channel)
	if aws.ToString(got.Channel.Srt.Passphrase) != aws.ToString(ch.Srt.Passphrase) || aws.ToString(got.Channel.IngestEndpoint) != aws.ToString(ch.IngestEndpoint) {
		t.Error("GetChannel returned other ingest details than CreateChannel")
	}
	gotKey, err := c.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: key.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(gotKey.StreamKey.Value) != aws.ToString(key.Value) {
		t.Errorf("GetStreamKey value %q, want the one CreateChannel returned", aws.ToString(gotKey.StreamKey.Value))
	}

	// Another channel of the same account shares the ingest endpoint; another account's does not.
	other := createChannel(t, c, &ivs.CreateChannelInput{Name: aws.String("other")}).Channel
	if aws.ToString(other.IngestEndpoint) != aws.ToString(ch.IngestEndpoint) || aws.ToString(other.Srt.Passphrase) == aws.ToString(ch.Srt.Passphrase) {
		t.Error("channels of one account: want one ingest endpoint and distinct SRT passphrases")
	}
	b := createChannel(t, ts.client("AKIABBBBBBBBBBBBBBBB", region), nil).Channel
	if aws.ToString(b.IngestEndpoint) == aws.ToString(ch.IngestEndpoint) {
		t.Error("two accounts share an ingest endpoint")
	}

	upd, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: ch.Arn, Name: aws.String("renamed"),
		Authorized: true, LatencyMode: types.ChannelLatencyModeNormalLatency, InsecureIngest: true})
	if err != nil {
		t.Fatal(err)
	}
	u := upd.Channel
	if aws.ToString(u.Name) != "renamed" || !u.Authorized || u.LatencyMode != "NORMAL" || !u.InsecureIngest || u.Type != "STANDARD" ||
		aws.ToString(u.Srt.Passphrase) != aws.ToString(ch.Srt.Passphrase) {
		t.Errorf("update returned %+v", u)
	}

	list, err := c.ListChannels(ctx, &ivs.ListChannelsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Channels) != 2 || list.NextToken != nil {
		t.Fatalf("list: %+v", list)
	}
	for _, s := range list.Channels {
		if aws.ToString(s.Arn) == arn && (aws.ToString(s.Name) != "renamed" || !s.Authorized || s.LatencyMode != "NORMAL" ||
			s.Type != "STANDARD" || s.Preset != "" || aws.ToString(s.RecordingConfigurationArn) != "" || aws.ToString(s.PlaybackRestrictionPolicyArn) != "") {
			t.Errorf("summary %+v", s)
		}
	}

	// DeleteChannel answers 204 and takes the stream key with it.
	resp := doSigned(t, ts, "/DeleteChannel", `{"arn":"`+arn+`"}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteChannel: %d", resp.StatusCode)
	}
	_, err = c.GetChannel(ctx, &ivs.GetChannelInput{Arn: ch.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: key.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: ch.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
}

// doSigned sends a signed POST and returns the response with its body read and closed.
func doSigned(t *testing.T, ts *testServer, path, body string) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, "POST", ts.url+path, body))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp
}

func TestChannelSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)

	// ADVANCED types get HIGHER_BANDWIDTH_DELIVERY unless told otherwise; others have none.
	adv := createChannel(t, c, &ivs.CreateChannelInput{Type: types.ChannelTypeAdvancedHDChannelType}).Channel
	if adv.Preset != types.TranscodePresetHigherBandwidthTranscodePreset {
		t.Errorf("ADVANCED_HD preset %q", adv.Preset)
	}
	sd := createChannel(t, c, &ivs.CreateChannelInput{Type: types.ChannelTypeAdvancedSDChannelType,
		Preset: types.TranscodePresetConstrainedBandwidthTranscodePreset}).Channel
	if sd.Preset != types.TranscodePresetConstrainedBandwidthTranscodePreset {
		t.Errorf("ADVANCED_SD preset %q", sd.Preset)
	}
	up, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: sd.Arn, Type: types.ChannelTypeAdvancedHDChannelType})
	if err != nil || up.Channel.Preset != types.TranscodePresetConstrainedBandwidthTranscodePreset {
		t.Errorf("ADVANCED_SD to ADVANCED_HD keeps its preset: %v %v", up, err)
	}
	up, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: sd.Arn, Type: types.ChannelTypeBasicChannelType})
	if err != nil || up.Channel.Preset != "" {
		t.Errorf("to BASIC: the preset goes: %v %v", up, err)
	}
	_, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: sd.Arn, Preset: types.TranscodePresetHigherBandwidthTranscodePreset})
	wantErr(t, err, "ValidationException", 400)

	// Multitrack: STANDARD and FRAGMENTED_MP4 only, policy and resolution required.
	mt := &types.MultitrackInputConfiguration{Enabled: true, Policy: types.MultitrackPolicyRequire, MaximumResolution: types.MultitrackMaximumResolutionHd}
	multi := createChannel(t, c, &ivs.CreateChannelInput{ContainerFormat: types.ContainerFormatFragmentedMP4, MultitrackInputConfiguration: mt}).Channel
	if *multi.MultitrackInputConfiguration != *mt || multi.ContainerFormat != types.ContainerFormatFragmentedMP4 {
		t.Errorf("multitrack channel %+v %q", multi.MultitrackInputConfiguration, multi.ContainerFormat)
	}
	_, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: multi.Arn, ContainerFormat: types.ContainerFormatTs})
	wantErr(t, err, "ValidationException", 400)
	_, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: multi.Arn, Type: types.ChannelTypeBasicChannelType})
	wantErr(t, err, "ValidationException", 400)
	// Disabling it (the SDK leaves enabled=false out) resets the structure to IVS's defaults.
	up, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: multi.Arn, ContainerFormat: types.ContainerFormatTs,
		MultitrackInputConfiguration: &types.MultitrackInputConfiguration{}})
	if err != nil || *up.Channel.MultitrackInputConfiguration != (types.MultitrackInputConfiguration{MaximumResolution: "FULL_HD", Policy: "ALLOW"}) {
		t.Errorf("disabling multitrack: %v %v", up, err)
	}

	// An update changes only what it names.
	before, _ := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: adv.Arn})
	up, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: adv.Arn, Name: aws.String("only-the-name")})
	if err != nil {
		t.Fatal(err)
	}
	before.Channel.Name = aws.String("only-the-name")
	if b, a := mustJSON(t, before.Channel), mustJSON(t, up.Channel); b != a {
		t.Errorf("update of the name changed more:\n%s\n%s", b, a)
	}

	// Making a channel public again needs authorized=false on the wire, which the Go SDK
	// never sends; the CLI does (--no-authorized).
	private := createChannel(t, c, &ivs.CreateChannelInput{Authorized: true}).Channel
	if resp := doSigned(t, ts, "/UpdateChannel", `{"arn":"`+aws.ToString(private.Arn)+`","authorized":false,"insecureIngest":false}`); resp.StatusCode != 200 {
		t.Fatalf("UpdateChannel authorized=false: %d", resp.StatusCode)
	}
	if got, _ := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: private.Arn}); got.Channel.Authorized {
		t.Error("authorized=false did not make the channel public")
	}
}

func TestChannelValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	policyB, err := ts.client("AKIABBBBBBBBBBBBBBBB", region).CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		body    string
		status  int
		code    string
		mention string
	}{
		{"bad name", `{"name":"no spaces"}`, 400, "ValidationException", "name"},
		{"long name", `{"name":"` + strings.Repeat("a", 129) + `"}`, 400, "ValidationException", "128"},
		{"latency", `{"latencyMode":"FAST"}`, 400, "ValidationException", "latencyMode \"FAST\" is not valid; use one of NORMAL, LOW"},
		{"type", `{"type":"PREMIUM"}`, 400, "ValidationException", "BASIC, STANDARD, ADVANCED_SD, ADVANCED_HD"},
		{"lowercase enum", `{"type":"standard"}`, 400, "ValidationException", "type"},
		{"preset enum", `{"type":"ADVANCED_HD","preset":"FAST"}`, 400, "ValidationException", "HIGHER_BANDWIDTH_DELIVERY, CONSTRAINED_BANDWIDTH_DELIVERY"},
		{"preset on STANDARD", `{"preset":"HIGHER_BANDWIDTH_DELIVERY"}`, 400, "ValidationException", "ADVANCED"},
		{"container", `{"containerFormat":"MKV"}`, 400, "ValidationException", "containerFormat"},
		{"multitrack without fMP4", `{"multitrackInputConfiguration":{"enabled":true,"policy":"ALLOW","maximumResolution":"HD"}}`, 400, "ValidationException", "FRAGMENTED_MP4"},
		{"multitrack on BASIC", `{"type":"BASIC","containerFormat":"FRAGMENTED_MP4","multitrackInputConfiguration":{"enabled":true,"policy":"ALLOW","maximumResolution":"HD"}}`, 400, "ValidationException", "STANDARD"},
		{"multitrack incomplete", `{"containerFormat":"FRAGMENTED_MP4","multitrackInputConfiguration":{"enabled":true}}`, 400, "ValidationException", "required"},
		{"multitrack policy", `{"multitrackInputConfiguration":{"policy":"MAYBE"}}`, 400, "ValidationException", "ALLOW, REQUIRE"},
		{"multitrack resolution", `{"multitrackInputConfiguration":{"maximumResolution":"4K"}}`, 400, "ValidationException", "SD, HD, FULL_HD"},
		{"recording malformed", `{"recordingConfigurationArn":"arn:aws:s3:::bucket"}`, 400, "ValidationException", "recordingConfigurationArn"},
		{"recording of another type", `{"recordingConfigurationArn":"arn:aws:ivs:us-west-2:111111111111:channel/abc"}`, 400, "ValidationException", "recording-configuration"},
		{"recording unknown", `{"recordingConfigurationArn":"arn:aws:ivs:us-west-2:111111111111:recording-configuration/ABCD12cdEFgh"}`, 404, "ResourceNotFoundException", "recording"},
		{"ad configuration unknown", `{"adConfigurationArn":"arn:aws:ivs:us-west-2:111111111111:ad-configuration/ABCD12cdEFgh"}`, 404, "ResourceNotFoundException", "no ad configurations"},
		{"policy missing", `{"playbackRestrictionPolicyArn":"arn:aws:ivs:us-west-2:111111111111:playback-restriction-policy/ABCD12cdEFgh"}`, 404, "ResourceNotFoundException", "ABCD12cdEFgh"},
		{"policy of another account", `{"playbackRestrictionPolicyArn":"` + aws.ToString(policyB.PlaybackRestrictionPolicy.Arn) + `"}`, 404, "ResourceNotFoundException", "not found"},
		{"policy of another region", `{"playbackRestrictionPolicyArn":"arn:aws:ivs:eu-west-1:111111111111:playback-restriction-policy/ABCD12cdEFgh"}`, 404, "ResourceNotFoundException", "not found"},
		{"policy malformed", `{"playbackRestrictionPolicyArn":"nope"}`, 400, "ValidationException", "playbackRestrictionPolicyArn"},
		{"tags", `{"tags":{"bad<key>":"v"}}`, 400, "ValidationException", "tag"},
		{"authorized type", `{"authorized":"yes"}`, 400, "ValidationException", "authorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signedRequest(t, "POST", ts.url+"/CreateChannel", tc.body))
			if err != nil {
				t.Fatal(err)
			}
			code, msg := awsErrorResponse(t, resp)
			if resp.StatusCode != tc.status || code != tc.code || !strings.Contains(msg, tc.mention) {
				t.Fatalf("got %d %s %q, want %d %s mentioning %q", resp.StatusCode, code, msg, tc.status, tc.code, tc.mention)
			}
		})
	}
	list, err := c.ListChannels(ctx, &ivs.ListChannelsInput{})
	if err != nil || len(list.Channels) != 0 {
		t.Fatalf("refused creates left channels: %v %v", list, err)
	}

	// UpdateChannel validates before it looks the channel up, as AWS does.
	_, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: aws.String("arn:aws:ivs:us-west-2:111111111111:channel/missing"), LatencyMode: "FAST"})
	wantErr(t, err, "ValidationException", 400)
	_, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: aws.String("arn:aws:ivs:us-west-2:111111111111:channel/missing"), Name: aws.String("x")})
	wantErr(t, err, "ResourceNotFoundException", 404)
	if resp := doSigned(t, ts, "/UpdateChannel", `{"name":"x"}`); resp.StatusCode != 400 {
		t.Errorf("UpdateChannel without arn: %d", resp.StatusCode)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestListChannels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	pol, err := c.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{})
	if err != nil {
		t.Fatal(err)
	}
	polARN := pol.PlaybackRestrictionPolicy.Arn
	names := []string{"a", "b", "a", "c", "a"}
	for i, n := range names {
		in := &ivs.CreateChannelInput{Name: aws.String(n)}
		if i%2 == 0 {
			in.PlaybackRestrictionPolicyArn = polARN
		}
		createChannel(t, c, in)
	}
	createChannel(t, ts.client("AKIABBBBBBBBBBBBBBBB", region), &ivs.CreateChannelInput{Name: aws.String("a")})

	count := func(in *ivs.ListChannelsInput) int {
		t.Helper()
		n := 0
		p := ivs.NewListChannelsPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Channels)
		}
		return n
	}
	for _, tc := range []struct {
		in   ivs.ListChannelsInput
		want int
	}{
		{ivs.ListChannelsInput{}, 5},
		{ivs.ListChannelsInput{MaxResults: aws.Int32(2)}, 5},
		{ivs.ListChannelsInput{FilterByName: aws.String("a")}, 3},
		{ivs.ListChannelsInput{FilterByName: aws.String("a"), MaxResults: aws.Int32(1)}, 3},
		{ivs.ListChannelsInput{FilterByName: aws.String("zzz")}, 0},
		{ivs.ListChannelsInput{FilterByName: aws.String("")}, 5},
		{ivs.ListChannelsInput{FilterByPlaybackRestrictionPolicyArn: polARN}, 3},
		{ivs.ListChannelsInput{FilterByPlaybackRestrictionPolicyArn: aws.String("arn:aws:ivs:us-west-2:222222222222:playback-restriction-policy/x")}, 0},
		{ivs.ListChannelsInput{FilterByRecordingConfigurationArn: aws.String("arn:aws:ivs:us-west-2:111111111111:recording-configuration/x")}, 0},
		{ivs.ListChannelsInput{FilterByAdConfigurationArn: aws.String("arn:aws:ivs:us-west-2:111111111111:ad-configuration/x")}, 0},
	} {
		if got := count(&tc.in); got != tc.want {
			t.Errorf("ListChannels(%+v): %d channels, want %d", tc.in, got, tc.want)
		}
	}
	// The model: filters are mutually exclusive, and using two is a 409 ConflictException.
	_, err = c.ListChannels(ctx, &ivs.ListChannelsInput{FilterByName: aws.String("a"), FilterByPlaybackRestrictionPolicyArn: polARN})
	wantErr(t, err, "ConflictException", 409)
	_, err = c.ListChannels(ctx, &ivs.ListChannelsInput{FilterByRecordingConfigurationArn: aws.String("arn:aws:ivs:us-west-2:111111111111:recording-configuration/x"),
		FilterByPlaybackRestrictionPolicyArn: polARN})
	wantErr(t, err, "ConflictException", 409)
	for _, in := range []*ivs.ListChannelsInput{
		{FilterByName: aws.String("bad name")},
		{FilterByPlaybackRestrictionPolicyArn: aws.String("arn:aws:ivs:us-west-2:111111111111:channel/x")},
		{MaxResults: aws.Int32(101)},
		{MaxResults: aws.Int32(0)},
		{NextToken: aws.String("forged")},
	} {
		_, err := c.ListChannels(ctx, in)
		wantErr(t, err, "ValidationException", 400)
	}
	// A key-pair token does not page channels.
	for range 2 {
		pub, _ := newPublicKeyPEM(t, elliptic.P384())
		if _, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pub)}); err != nil {
			t.Fatal(err)
		}
	}
	kps, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{MaxResults: aws.Int32(1)})
	if err != nil || kps.NextToken == nil {
		t.Fatalf("key pairs: %v %v", kps, err)
	}
	_, err = c.ListChannels(ctx, &ivs.ListChannelsInput{NextToken: kps.NextToken})
	wantErr(t, err, "ValidationException", 400)
}

func TestBatchGetChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	a := createChannel(t, c, &ivs.CreateChannelInput{Name: aws.String("a")})
	b := createChannel(t, c, &ivs.CreateChannelInput{Name: aws.String("b")})
	foreign := createChannel(t, ts.client("AKIABBBBBBBBBBBBBBBB", region), nil)
	missing := "arn:aws:ivs:us-west-2:111111111111:channel/abcdABCDefgh"
	out, err := c.BatchGetChannel(ctx, &ivs.BatchGetChannelInput{Arns: []string{
		aws.ToString(b.Channel.Arn), missing, aws.ToString(a.Channel.Arn), aws.ToString(foreign.Channel.Arn), aws.ToString(b.Channel.Arn),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Channels) != 2 || aws.ToString(out.Channels[0].Name) != "b" || aws.ToString(out.Channels[1].Name) != "a" {
		t.Errorf("channels: %+v", out.Channels)
	}
	if out.Channels[0].Srt == nil || aws.ToString(out.Channels[0].PlaybackUrl) == "" {
		t.Error("BatchGetChannel returns whole channels")
	}
	if len(out.Errors) != 2 || aws.ToString(out.Errors[0].Arn) != missing || aws.ToString(out.Errors[0].Code) != "404" ||
		aws.ToString(out.Errors[1].Arn) != aws.ToString(foreign.Channel.Arn) || aws.ToString(out.Errors[1].Message) == "" {
		t.Errorf("errors: %+v", out.Errors)
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = missing
	}
	if resp := doSigned(t, ts, "/BatchGetChannel", `{"arns":[]}`); resp.StatusCode != 400 {
		t.Errorf("BatchGetChannel of no ARNs: %d", resp.StatusCode)
	}
	for _, arns := range [][]string{many, {"arn:aws:ivs:us-west-2:111111111111:stream-key/abc"}, {"garbage"}} {
		_, err := c.BatchGetChannel(ctx, &ivs.BatchGetChannelInput{Arns: arns})
		wantErr(t, err, "ValidationException", 400)
	}
	out, err = c.BatchGetChannel(ctx, &ivs.BatchGetChannelInput{Arns: many[:50]})
	if err != nil || len(out.Channels) != 0 || len(out.Errors) != 1 {
		t.Errorf("50 copies of one missing ARN: %+v %v", out, err)
	}
}

func TestStreamKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	created := createChannel(t, c, nil)
	chARN, first := created.Channel.Arn, created.StreamKey

	// One stream key per channel: a second is over the quota until the first is deleted.
	_, err := c.CreateStreamKey(ctx, &ivs.CreateStreamKeyInput{ChannelArn: chARN})
	wantErr(t, err, "ServiceQuotaExceededException", 402)
	list, err := c.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: chARN})
	if err != nil || len(list.StreamKeys) != 1 || aws.ToString(list.StreamKeys[0].Arn) != aws.ToString(first.Arn) ||
		aws.ToString(list.StreamKeys[0].ChannelArn) != aws.ToString(chARN) || list.NextToken != nil {
		t.Fatalf("list: %+v %v", list, err)
	}
	if resp := doSigned(t, ts, "/DeleteStreamKey", `{"arn":"`+aws.ToString(first.Arn)+`"}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteStreamKey: %d", resp.StatusCode)
	}
	list, err = c.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: chARN})
	if err != nil || len(list.StreamKeys) != 0 {
		t.Fatalf("list after delete: %+v %v", list, err)
	}
	second, err := c.CreateStreamKey(ctx, &ivs.CreateStreamKeyInput{ChannelArn: chARN, Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(second.StreamKey.Value) == aws.ToString(first.Value) || second.StreamKey.Tags["k"] != "v" {
		t.Errorf("new stream key %+v", second.StreamKey)
	}

	batch, err := c.BatchGetStreamKey(ctx, &ivs.BatchGetStreamKeyInput{Arns: []string{aws.ToString(second.StreamKey.Arn), aws.ToString(first.Arn)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.StreamKeys) != 1 || aws.ToString(batch.StreamKeys[0].Value) != aws.ToString(second.StreamKey.Value) ||
		len(batch.Errors) != 1 || aws.ToString(batch.Errors[0].Arn) != aws.ToString(first.Arn) || aws.ToString(batch.Errors[0].Code) != "404" {
		t.Errorf("batch: %+v", batch)
	}

	missing := aws.String("arn:aws:ivs:us-west-2:111111111111:channel/abcdABCDefgh")
	_, err = c.CreateStreamKey(ctx, &ivs.CreateStreamKeyInput{ChannelArn: missing})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: missing})
	wantErr(t, err, "ResourceNotFoundException", 404)
	b := ts.client("AKIABBBBBBBBBBBBBBBB", region)
	_, err = b.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: second.StreamKey.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = b.CreateStreamKey(ctx, &ivs.CreateStreamKeyInput{ChannelArn: chARN})
	wantErr(t, err, "ResourceNotFoundException", 404)
	for _, n := range []int32{0, 51} {
		_, err = c.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: chARN, MaxResults: aws.Int32(n)})
		wantErr(t, err, "ValidationException", 400)
	}
	if resp := doSigned(t, ts, "/ListStreamKeys", `{}`); resp.StatusCode != 400 {
		t.Errorf("ListStreamKeys without channelArn: %d", resp.StatusCode)
	}
	_, err = c.CreateStreamKey(ctx, &ivs.CreateStreamKeyInput{ChannelArn: second.StreamKey.Arn})
	wantErr(t, err, "ValidationException", 400)
}

func TestPlaybackRestrictionPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)

	empty, err := c.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{})
	if err != nil {
		t.Fatal(err)
	}
	p := empty.PlaybackRestrictionPolicy
	if !policyARNPatternRE.MatchString(aws.ToString(p.Arn)) || p.AllowedCountries == nil || len(p.AllowedCountries) != 0 ||
		p.AllowedOrigins == nil || len(p.AllowedOrigins) != 0 || aws.ToBool(p.EnableStrictOriginEnforcement) || p.EnableStrictOriginEnforcement == nil ||
		aws.ToString(p.Name) != "" || p.Name == nil || p.Tags == nil {
		t.Errorf("defaults: %+v", p)
	}
	full, err := c.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{
		Name: aws.String("test-playback-restriction-policy"), EnableStrictOriginEnforcement: aws.Bool(true),
		AllowedCountries: []string{"US", "MX"}, AllowedOrigins: []string{"https://www.website1.com", "https://www.website2.com"},
		Tags: map[string]string{"key1": "value1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	fp := full.PlaybackRestrictionPolicy
	got, err := c.GetPlaybackRestrictionPolicy(ctx, &ivs.GetPlaybackRestrictionPolicyInput{Arn: fp.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if g := got.PlaybackRestrictionPolicy; fmt.Sprintf("%v %v %v %v %v", g.AllowedCountries, g.AllowedOrigins, *g.EnableStrictOriginEnforcement, *g.Name, g.Tags) !=
		"[US MX] [https://www.website1.com https://www.website2.com] true test-playback-restriction-policy map[key1:value1]" {
		t.Errorf("get: %+v", g)
	}

	// The model's default page size for this list is 1.
	list, err := c.ListPlaybackRestrictionPolicies(ctx, &ivs.ListPlaybackRestrictionPoliciesInput{})
	if err != nil || len(list.PlaybackRestrictionPolicies) != 1 || list.NextToken == nil {
		t.Fatalf("list: %+v %v", list, err)
	}
	rest, err := c.ListPlaybackRestrictionPolicies(ctx, &ivs.ListPlaybackRestrictionPoliciesInput{NextToken: list.NextToken})
	if err != nil || len(rest.PlaybackRestrictionPolicies) != 1 || rest.NextToken != nil {
		t.Fatalf("second page: %+v %v", rest, err)
	}
	all, err := c.ListPlaybackRestrictionPolicies(ctx, &ivs.ListPlaybackRestrictionPoliciesInput{MaxResults: aws.Int32(100)})
	if err != nil || len(all.PlaybackRestrictionPolicies) != 2 {
		t.Fatalf("maxResults 100: %+v %v", all, err)
	}

	// Update changes what it names; an empty list clears.
	up, err := c.UpdatePlaybackRestrictionPolicy(ctx, &ivs.UpdatePlaybackRestrictionPolicyInput{Arn: fp.Arn,
		EnableStrictOriginEnforcement: aws.Bool(false), AllowedCountries: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if u := up.PlaybackRestrictionPolicy; len(u.AllowedCountries) != 0 || len(u.AllowedOrigins) != 2 || *u.EnableStrictOriginEnforcement ||
		aws.ToString(u.Name) != "test-playback-restriction-policy" || u.Tags["key1"] != "value1" {
		t.Errorf("update: %+v", u)
	}

	// In use by a channel: no delete (409) until the channel lets go.
	ch := createChannel(t, c, &ivs.CreateChannelInput{PlaybackRestrictionPolicyArn: fp.Arn}).Channel
	if aws.ToString(ch.PlaybackRestrictionPolicyArn) != aws.ToString(fp.Arn) {
		t.Errorf("channel policy %q", aws.ToString(ch.PlaybackRestrictionPolicyArn))
	}
	_, err = c.DeletePlaybackRestrictionPolicy(ctx, &ivs.DeletePlaybackRestrictionPolicyInput{Arn: fp.Arn})
	wantErr(t, err, "ConflictException", 409)
	upd, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: ch.Arn, PlaybackRestrictionPolicyArn: aws.String("")})
	if err != nil || aws.ToString(upd.Channel.PlaybackRestrictionPolicyArn) != "" {
		t.Fatalf("removing the policy: %v %v", upd, err)
	}
	if resp := doSigned(t, ts, "/DeletePlaybackRestrictionPolicy", `{"arn":"`+aws.ToString(fp.Arn)+`"}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeletePlaybackRestrictionPolicy: %d", resp.StatusCode)
	}
	_, err = c.GetPlaybackRestrictionPolicy(ctx, &ivs.GetPlaybackRestrictionPolicyInput{Arn: fp.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: ch.Arn, PlaybackRestrictionPolicyArn: fp.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)

	for name, in := range map[string]*ivs.CreatePlaybackRestrictionPolicyInput{
		"lower-case country":  {AllowedCountries: []string{"us"}},
		"unassigned country":  {AllowedCountries: []string{"XK"}},
		"alpha-3 country":     {AllowedCountries: []string{"USA"}},
		"origin with path":    {AllowedOrigins: []string{"https://example.com/"}},
		"origin without host": {AllowedOrigins: []string{"https://"}},
		"bare host":           {AllowedOrigins: []string{"example.com"}},
		"wildcard origin":     {AllowedOrigins: []string{"https://*.example.com"}},
		"empty origin":        {AllowedOrigins: []string{""}},
		"long origin":         {AllowedOrigins: []string{"https://" + strings.Repeat("a", 121)}},
		"bad port":            {AllowedOrigins: []string{"https://example.com:99999"}},
		"bad name":            {Name: aws.String("a b")},
		"bad tags":            {Tags: map[string]string{"": "v"}},
	} {
		_, err := c.CreatePlaybackRestrictionPolicy(ctx, in)
		if code, status := apiErr(t, err); code != "ValidationException" || status != 400 {
			t.Errorf("%s: %s %d", name, code, status)
		}
	}
	for _, ok := range []string{"http://localhost:8080", "https://sub.example.co.uk", "null", "http://[::1]:3000", "app://x"} {
		if _, err := c.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{AllowedOrigins: []string{ok}}); err != nil {
			t.Errorf("origin %q: %v", ok, err)
		}
	}
	_, err = c.UpdatePlaybackRestrictionPolicy(ctx, &ivs.UpdatePlaybackRestrictionPolicyInput{Arn: empty.PlaybackRestrictionPolicy.Arn, AllowedCountries: []string{"ZZ"}})
	wantErr(t, err, "ValidationException", 400)
	_, err = ts.client("AKIABBBBBBBBBBBBBBBB", region).GetPlaybackRestrictionPolicy(ctx, &ivs.GetPlaybackRestrictionPolicyInput{Arn: empty.PlaybackRestrictionPolicy.Arn})
	wantErr(t, err, "ResourceNotFoundException", 404)
}

func TestViewerSessionRevocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	ch := createChannel(t, c, &ivs.CreateChannelInput{Authorized: true}).Channel
	arn, err := playkey.ParseARN("arn", aws.ToString(ch.Arn))
	if err != nil {
		t.Fatal(err)
	}
	revoked := func(viewer string) (int64, bool) {
		t.Helper()
		v, ok, err := ts.store.ViewerRevocation(ctx, arn, viewer)
		if err != nil {
			t.Fatal(err)
		}
		return v, ok
	}

	if _, err := c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: ch.Arn, ViewerId: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if v, ok := revoked("alice"); !ok || v != 0 {
		t.Errorf("default version: %d %v, want 0", v, ok)
	}
	if _, err := c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: ch.Arn, ViewerId: aws.String("alice"),
		ViewerSessionVersionsLessThanOrEqualTo: 1234567890}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: ch.Arn, ViewerId: aws.String("alice"),
		ViewerSessionVersionsLessThanOrEqualTo: 5}); err != nil {
		t.Fatal(err)
	}
	if v, _ := revoked("alice"); v != 1234567890 {
		t.Errorf("a lower revocation lowered the bound to %d", v)
	}

	missing := aws.String("arn:aws:ivs:us-west-2:111111111111:channel/abcdABCDefgh")
	_, err = c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: missing, ViewerId: aws.String("bob")})
	wantErr(t, err, "ResourceNotFoundException", 404)
	_, err = ts.client("AKIABBBBBBBBBBBBBBBB", region).StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: ch.Arn, ViewerId: aws.String("bob")})
	wantErr(t, err, "ResourceNotFoundException", 404)
	for _, body := range []string{
		`{"channelArn":"` + aws.ToString(ch.Arn) + `"}`,
		`{"channelArn":"` + aws.ToString(ch.Arn) + `","viewerId":""}`,
		`{"channelArn":"` + aws.ToString(ch.Arn) + `","viewerId":"` + strings.Repeat("v", 41) + `"}`,
		`{"channelArn":"` + aws.ToString(ch.Arn) + `","viewerId":"v","viewerSessionVersionsLessThanOrEqualTo":-1}`,
		`{"channelArn":"` + aws.ToString(ch.Arn) + `","viewerId":"v","viewerSessionVersionsLessThanOrEqualTo":2147483648}`,
		`{"channelArn":"` + aws.ToString(ch.Arn) + `","viewerId":"v","viewerSessionVersionsLessThanOrEqualTo":1.5}`,
		`{"viewerId":"v"}`,
	} {
		resp, err := http.DefaultClient.Do(signedRequest(t, "POST", ts.url+"/StartViewerSessionRevocation", body))
		if err != nil {
			t.Fatal(err)
		}
		if code, msg := awsErrorResponse(t, resp); resp.StatusCode != 400 || code != "ValidationException" {
			t.Errorf("%s: %d %s %s", body, resp.StatusCode, code, msg)
		}
	}
	if _, err := c.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{ChannelArn: ch.Arn,
		ViewerId: aws.String(strings.Repeat("é", 40)), ViewerSessionVersionsLessThanOrEqualTo: 2147483647}); err != nil {
		t.Errorf("40 characters and the largest version: %v", err)
	}

	// The batch: items that fail are listed, the others take effect.
	out, err := c.BatchStartViewerSessionRevocation(ctx, &ivs.BatchStartViewerSessionRevocationInput{ViewerSessions: []types.BatchStartViewerSessionRevocationViewerSession{
		{ChannelArn: ch.Arn, ViewerId: aws.String("carol"), ViewerSessionVersionsLessThanOrEqualTo: 3},
		{ChannelArn: missing, ViewerId: aws.String("dave")},
		{ChannelArn: ch.Arn, ViewerId: aws.String("erin")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].ChannelArn) != aws.ToString(missing) || aws.ToString(out.Errors[0].ViewerId) != "dave" ||
		aws.ToString(out.Errors[0].Code) != "404" || aws.ToString(out.Errors[0].Message) == "" {
		t.Errorf("errors: %+v", out.Errors)
	}
	if v, ok := revoked("carol"); !ok || v != 3 {
		t.Errorf("carol: %d %v", v, ok)
	}
	if _, ok := revoked("erin"); !ok {
		t.Error("erin not revoked")
	}
	many := make([]types.BatchStartViewerSessionRevocationViewerSession, 21)
	for i := range many {
		many[i] = types.BatchStartViewerSessionRevocationViewerSession{ChannelArn: ch.Arn, ViewerId: aws.String(fmt.Sprint("v", i))}
	}
	if resp := doSigned(t, ts, "/BatchStartViewerSessionRevocation", `{"viewerSessions":[]}`); resp.StatusCode != 400 {
		t.Errorf("an empty batch: %d", resp.StatusCode)
	}
	for _, vs := range [][]types.BatchStartViewerSessionRevocationViewerSession{many,
		{{ChannelArn: ch.Arn, ViewerId: aws.String("ok")}, {ChannelArn: ch.Arn, ViewerId: aws.String(strings.Repeat("x", 41))}}} {
		_, err := c.BatchStartViewerSessionRevocation(ctx, &ivs.BatchStartViewerSessionRevocationInput{ViewerSessions: vs})
		wantErr(t, err, "ValidationException", 400)
	}
	if _, ok := revoked("ok"); ok {
		t.Error("a batch refused as a whole revoked one of its items")
	}
	if _, err := c.BatchStartViewerSessionRevocation(ctx, &ivs.BatchStartViewerSessionRevocationInput{ViewerSessions: many[:20]}); err != nil {
		t.Errorf("20 items: %v", err)
	}
}

func TestTagsOnEveryResource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	created := createChannel(t, c, &ivs.CreateChannelInput{Tags: map[string]string{"on": "channel"}})
	if created.Channel.Tags["on"] != "channel" || len(created.StreamKey.Tags) != 0 {
		t.Errorf("tags: channel %v, its stream key %v", created.Channel.Tags, created.StreamKey.Tags)
	}
	pol, err := c.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{})
	if err != nil {
		t.Fatal(err)
	}
	arns := []*string{created.Channel.Arn, created.StreamKey.Arn, pol.PlaybackRestrictionPolicy.Arn}
	for _, arn := range arns {
		if _, err := c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"team": "video", "x": "y"}}); err != nil {
			t.Fatalf("tag %s: %v", aws.ToString(arn), err)
		}
		if _, err := c.UntagResource(ctx, &ivs.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		got, err := c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: arn})
		if err != nil || got.Tags["team"] != "video" || got.Tags["x"] != "" {
			t.Errorf("tags of %s: %v %v", aws.ToString(arn), got, err)
		}
		many := map[string]string{}
		for i := range 50 { // 50 more than the one it has
			many[fmt.Sprint("k", i)] = "v"
		}
		_, err = c.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: arn, Tags: many})
		wantErr(t, err, "ValidationException", 400)
		_, err = ts.client("AKIABBBBBBBBBBBBBBBB", region).ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: arn})
		wantErr(t, err, "ResourceNotFoundException", 404)
	}
	got, _ := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: created.Channel.Arn})
	if got.Channel.Tags["team"] != "video" || got.Channel.Tags["on"] != "channel" {
		t.Errorf("GetChannel tags %v", got.Channel.Tags)
	}
	if _, err := c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: created.Channel.Arn}); err != nil {
		t.Fatal(err)
	}
	for _, arn := range arns[:2] {
		_, err := c.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: arn})
		wantErr(t, err, "ResourceNotFoundException", 404)
	}
}

// TestNewOperationsNeverFail sends malformed bodies to every channel, stream key, policy
// and revocation operation: none may produce a 5xx or a non-AWS error body.
func TestNewOperationsNeverFail(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	ch := createChannel(t, c, nil)
	real := aws.ToString(ch.Channel.Arn)
	bodies := []string{``, `{}`, `null`, `[]`, `"s"`, `{"arn": 1}`, `{"arn": "` + real + `"}`, `{"arns": "x"}`, `{"arns": [1]}`, `{"arns": [null]}`,
		`{"channelArn": {}}`, `{"viewerSessions": [{}]}`, `{"viewerSessions": [null]}`, `{"viewerSessions": {}}`,
		`{"multitrackInputConfiguration": []}`, `{"multitrackInputConfiguration": null}`, `{"allowedCountries": "US"}`, `{"allowedCountries": [null]}`,
		`{"allowedOrigins": [1]}`, `{"tags": {"k": 1}}`, `{"maxResults": 1e99}`, `{"filterByName": 5}`, `{"type": null, "preset": ""}`,
		`{"arn": "` + real + `", "name": "\u0000"}`, `{"arn": "` + real + `", "multitrackInputConfiguration": {"enabled": "yes"}}`,
		`{"viewerSessionVersionsLessThanOrEqualTo": 9223372036854775808}`}
	ops := []string{"CreateChannel", "GetChannel", "BatchGetChannel", "ListChannels", "UpdateChannel", "DeleteChannel",
		"CreateStreamKey", "GetStreamKey", "BatchGetStreamKey", "ListStreamKeys", "DeleteStreamKey",
		"CreatePlaybackRestrictionPolicy", "GetPlaybackRestrictionPolicy", "ListPlaybackRestrictionPolicies",
		"UpdatePlaybackRestrictionPolicy", "DeletePlaybackRestrictionPolicy",
		"StartViewerSessionRevocation", "BatchStartViewerSessionRevocation"}
	for _, op := range ops {
		for _, b := range bodies {
			resp, err := http.DefaultClient.Do(signedRequest(t, "POST", ts.url+"/"+op, b))
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("%s %q: %d %s", op, b, resp.StatusCode, data)
			}
			if resp.StatusCode >= 400 && !strings.Contains(string(data), `"exceptionMessage"`) {
				t.Errorf("%s %q: %d without an AWS error body: %s", op, b, resp.StatusCode, data)
			}
		}
	}
}
