package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/playkey/playkey/internal/testenv"
)

// moto (github.com/getmoto/moto) implements CreateChannel, GetChannel, BatchGetChannel,
// ListChannels, UpdateChannel and DeleteChannel, and nothing else of IVS. TestMotoSideBySide
// runs the same calls against moto and playkey through the AWS SDK for Go v2 and compares
// the results field by field. Every difference must be listed in motoDifferences with what
// IVS does and where that is written: playkey must do what IVS does. A difference the table
// does not explain fails the test; a listed one that moto no longer shows is only logged.

// ivsBehaviour is one known difference: the field (as flattened by flatten, list indexes
// as []) or outcome, what moto gives, what IVS gives (and playkey must), and the source.
type ivsBehaviour struct {
	moto, ivs, source string
}

// Sources: [model] the IVS service model in botocore; [cli] the AWS CLI's ivs examples, which
// show real responses; [seen] a published response from real IVS; [choice] IVS's behaviour
// is undocumented and playkey chooses.
var motoDifferences = map[string]ivsBehaviour{
	// CreateChannel / GetChannel / UpdateChannel / BatchGetChannel: the Channel shape.
	"Channel.Name": {"null", `""`,
		"[choice] ChannelName may be empty (min 0) and every IVS response shows name; moto returns null when none is given"},
	"Channel.IngestEndpoint": {`"ingest.example.com"`, `"{hex}.global-contribute.live-video.net"`,
		"[cli] create-channel: \"a1b2c3d4e5f6.global-contribute.live-video.net\", one 12-hex-digit prefix per account"},
	"Channel.PlaybackUrl": {`"{moto playback}/{region}.{account}.{id}.m3u8"`, `"{playback base}/api/video/v1/{region}.{account}.channel.{id}.m3u8"`,
		"[cli] create-channel: https://{prefix}.{region}.playback.live-video.net/api/video/v1/{region}.{account}.channel.{id}.m3u8; playkey keeps the path on its own gate's base URL"},
	"Channel.Srt.Endpoint": {"absent", `"{hex}.srt.live-video.net"`,
		"[cli] create-channel: srt.endpoint \"a1b2c3d4e5f6.srt.live-video.net\", the ingest prefix"},
	"Channel.Srt.Passphrase": {"absent", `"{79 letters and digits}"`,
		"[seen] a real create-channel response has a 79-character passphrase; [model] Srt.passphrase"},
	"Channel.ContainerFormat": {`""`, `"TS"`, "[model] containerFormat \"Default: TS\"; [cli] create-channel shows \"TS\""},
	"Channel.MultitrackInputConfiguration.Enabled": {"absent", "false",
		"[cli] create-channel: multitrackInputConfiguration {enabled false, maximumResolution FULL_HD, policy ALLOW}"},
	"Channel.MultitrackInputConfiguration.MaximumResolution": {"absent", `"FULL_HD"`, "[cli] create-channel, as above"},
	"Channel.MultitrackInputConfiguration.Policy":            {"absent", `"ALLOW"`, "[cli] create-channel, as above"},
	"Channel.PlaybackRestrictionPolicyArn": {"null", `""`,
		"[model] playbackRestrictionPolicyArn \"Default: \"\" (empty string)\"; [cli] create-channel shows \"\""},
	"Channel.AdConfigurationArn": {"null", `""`, "[choice] undocumented default; empty like the other optional ARNs"},
	"Channel.Preset:ADVANCED_HD": {`""`, `"HIGHER_BANDWIDTH_DELIVERY"`,
		"[model] preset: \"For those channel types [ADVANCED_HD, ADVANCED_SD], the default preset is HIGHER_BANDWIDTH_DELIVERY\""},

	// The stream key CreateChannel returns.
	"StreamKey.Value": {`"sk_{region}_{43 url-safe characters}"`, `"sk_{region}_{stream key id}_{30 letters and digits}"`,
		"[seen] real values: sk_us-west-2_9iKIdR9k01kK_WVUJrovqZaiLOafeVsf3dZfYhe5Mma, the middle part the stream key's id"},
	"StreamKey.Tags.team": {`"video"`, "absent",
		"[choice] undocumented: moto copies CreateChannel's tags to the stream key; playkey tags only the channel"},

	"BatchGetChannel.AccessControlAllowOrigin": {`"*"`, "null",
		"[choice] the model maps the Access-Control-Allow-Origin header into BatchGetChannelResponse, its value undocumented; moto sends * on every response, playkey's API sends no CORS headers"},

	// ListChannels: the ChannelSummary shape.
	"Channels[].Name":                         {"null", `""`, "[choice] as Channel.Name"},
	"Channels[].PlaybackRestrictionPolicyArn": {"null", `""`, "[cli] list-channels shows \"\""},
	"Channels[].AdConfigurationArn":           {"null", `""`, "[choice] as Channel.AdConfigurationArn"},

	// Outcomes.
	"DeleteChannel.status": {"200", "204", "[model] DeleteChannel responseCode 204"},
	"BatchGetChannel.Errors[].Arn": {"absent", `"arn:aws:ivs:{region}:{account}:channel/{id}"`,
		"[model] BatchGetChannelResponse.errors: \"Each error object is related to a specific ARN in the request\"; moto drops missing ARNs silently"},
	"BatchGetChannel.Errors[].Code":    {"absent", `"404"`, "[choice] the code format of BatchError is undocumented; batch-start-viewer-session-revocation's CLI example uses HTTP statuses (\"403\")"},
	"BatchGetChannel.Errors[].Message": {"absent", `"channel arn:aws:ivs:{region}:{account}:channel/{id} not found"`, "[model] BatchError.message"},
	"CreateChannel(latencyMode FAST)": {"200", "400 ValidationException",
		"[model] ChannelLatencyMode is the enum [NORMAL, LOW]; moto validates nothing"},
	"CreateChannel(type STANDARD, preset)": {"200", "400 ValidationException",
		"[model] preset \"is selectable only for ADVANCED_HD and ADVANCED_SD channel types\""},
	"CreateChannel(name with a space)": {"200", "400 ValidationException", "[model] ChannelName pattern [a-zA-Z0-9-_]*"},
	"CreateChannel(unknown recording configuration)": {"200", "404 ResourceNotFoundException",
		"[model] CreateChannel lists ResourceNotFoundException; a recording configuration that does not exist is not found (playkey has none)"},
	"ListChannels(two filters)": {"200", "409 ConflictException",
		"[model] ListChannels: \"Filters are mutually exclusive ... If you try to use both filters, you will get an error (409 ConflictException)\""},
	"UpdateChannel(preset on STANDARD)": {"200", "400 ValidationException", "[model] as CreateChannel"},
}

// startMoto runs moto_server on a free loopback port and returns its URL. It skips the test
// when moto_server is missing, unless CI is set.
func startMoto(t *testing.T) string {
	t.Helper()
	bin := testenv.Need(t, "moto_server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server not ready after 30s: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// normalizers turn the values that differ by nature (ids, accounts, secrets, the playback
// host) into placeholders, so that what remains is the shape to compare.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^"sk_([a-z0-9-]+)_([a-zA-Z0-9]{12})_[a-zA-Z0-9]{30}"$`), `"sk_{region}_{stream key id}_{30 letters and digits}"`},
	{regexp.MustCompile(`^"sk_([a-z0-9-]+)_[a-zA-Z0-9_-]{43}"$`), `"sk_{region}_{43 url-safe characters}"`},
	{regexp.MustCompile(`^"[a-zA-Z0-9]{79}"$`), `"{79 letters and digits}"`},
	{regexp.MustCompile(`"https://playback\.example\.com`), `"{moto playback}`},
	{regexp.MustCompile(`"` + regexp.QuoteMeta(testPlaybackURL)), `"{playback base}`},
	{regexp.MustCompile(`(arn:aws:ivs:)[a-z0-9-]+:[0-9]{12}:([a-z-]+)/[a-zA-Z0-9]{12}`), `${1}{region}:{account}:${2}/{id}`},
	{regexp.MustCompile(`/[a-z]{2}-[a-z]+-[0-9]\.[0-9]{12}\.(channel\.)?[a-zA-Z0-9]{12}\.m3u8`), `/{region}.{account}.${1}{id}.m3u8`},
	{regexp.MustCompile(`"[0-9a-f]{12}\.`), `"{hex}.`},
}

func normalize(v string) string {
	for _, n := range normalizers {
		v = n.re.ReplaceAllString(v, n.with)
	}
	return v
}

// flatten turns an SDK output into field path -> normalized JSON value, lists item by item.
func flatten(t *testing.T, prefix string, v any) map[string]string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "ResultMetadata" {
					continue
				}
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		default:
			b, _ := json.Marshal(x)
			out[path] = normalize(string(b))
		}
	}
	walk(prefix, doc)
	return out
}

// differ compares moto's and playkey's flattened results and reports what compare finds.
func differ(t *testing.T, step string, moto, pk map[string]string) {
	t.Helper()
	problems, notes := compare(moto, pk)
	for _, p := range problems {
		t.Errorf("%s: %s", step, p)
	}
	for _, n := range notes {
		t.Logf("%s: %s", step, n)
	}
}

// compare checks moto's and playkey's flattened results against motoDifferences. Every
// difference must be known, and known ones must show IVS's behaviour on playkey's side.
// Where both agree on a value the table says is moto's and not IVS's, playkey has
// regressed to moto's behaviour: that is a problem too, not a match. Where IVS's value
// depends on the channel's type, the entry's key carries it ("Channel.Preset:ADVANCED_HD").
// notes are listed differences moto no longer shows.
func compare(moto, pk map[string]string) (problems, notes []string) {
	keys := map[string]bool{}
	for k := range moto {
		keys[k] = true
	}
	for k := range pk {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		m, mok := moto[k]
		p, pok := pk[k]
		if !mok {
			m = "absent"
		}
		if !pok {
			p = "absent"
		}
		variant := ""
		if i := strings.LastIndex(k, "."); i >= 0 {
			if typ := pk[k[:i]+".Type"]; strings.HasPrefix(typ, `"ADVANCED_`) {
				variant = ":" + strings.Trim(typ, `"`)
			}
		}
		known, ok := lookupDifference(k, variant)
		if sameValue(m, p) {
			if ok && sameValue(p, known.moto) && !sameValue(p, known.ivs) {
				problems = append(problems, fmt.Sprintf("%s: playkey gives moto's %s, but IVS gives %s (%s)", k, p, known.ivs, known.source))
			}
			continue
		}
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: moto %s, playkey %s: a difference no one has explained; find what IVS does and add it to motoDifferences", k, m, p))
		case p != known.ivs:
			problems = append(problems, fmt.Sprintf("%s: playkey %s, but IVS gives %s (%s)", k, p, known.ivs, known.source))
		case m != known.moto:
			notes = append(notes, fmt.Sprintf("%s: moto now gives %s, not %s", k, m, known.moto))
		}
	}
	return problems, notes
}

// sameValue compares two flattened values. The SDK's zero values for absent members: an
// absent struct and a struct of nulls flatten alike.
func sameValue(a, b string) bool {
	return a == b || (a == "absent" && b == "null") || (a == "null" && b == "absent")
}

var listIndex = regexp.MustCompile(`\[[0-9]+\]`)

// lookupDifference finds the entry for a flattened field: list indexes become [], a
// channel inside BatchGetChannel's list is a Channel, and a summary in ListChannels' list
// falls back to the Channel entry. The variant, if any, is tried first.
func lookupDifference(field, variant string) (ivsBehaviour, bool) {
	k := listIndex.ReplaceAllString(field, "[]")
	var tries []string
	if rest, ok := strings.CutPrefix(k, "BatchGetChannel.Channels[]."); ok {
		tries = append(tries, "Channel."+rest)
	} else if rest, ok := strings.CutPrefix(k, "Channels[]."); ok {
		tries = append(tries, k, "Channel."+rest)
	} else {
		tries = append(tries, k)
	}
	for _, v := range []string{variant, ""} {
		for _, t := range tries {
			if b, ok := motoDifferences[t+v]; ok {
				return b, true
			}
		}
	}
	return ivsBehaviour{}, false
}

// outcome is how a call ended: "200", or "{status} {error code}".
func outcome(err error, meta middleware.Metadata) string {
	if err != nil {
		code, status := "", 0
		var ae interface{ ErrorCode() string }
		if errors.As(err, &ae) {
			code = ae.ErrorCode()
		}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			status = re.HTTPStatusCode()
		}
		return fmt.Sprintf("%d %s", status, code)
	}
	if r, ok := awsmiddleware.GetRawResponse(meta).(*smithyhttp.Response); ok {
		return fmt.Sprint(r.StatusCode)
	}
	return "?"
}

func sameOutcome(t *testing.T, what, moto, pk string) {
	t.Helper()
	problem, note := compareOutcome(what, moto, pk)
	if problem != "" {
		t.Error(problem)
	}
	if note != "" {
		t.Log(note)
	}
}

// compareOutcome checks how one call ended on moto and on playkey against motoDifferences,
// as compare does for fields: playkey ending as moto does where the table says IVS ends
// otherwise is a problem.
func compareOutcome(what, moto, pk string) (problem, note string) {
	known, ok := motoDifferences[what]
	switch {
	case moto == pk && ok && pk == known.moto && pk != known.ivs:
		return fmt.Sprintf("%s: playkey ends as moto does, %s, but IVS gives %s (%s)", what, pk, known.ivs, known.source), ""
	case moto == pk:
		return "", ""
	case !ok:
		return fmt.Sprintf("%s: moto %s, playkey %s: a difference no one has explained", what, moto, pk), ""
	case pk != known.ivs:
		return fmt.Sprintf("%s: playkey %s, but IVS gives %s (%s)", what, pk, known.ivs, known.source), ""
	case moto != known.moto:
		return "", fmt.Sprintf("%s: moto now gives %s, not %s", what, moto, known.moto)
	}
	return "", ""
}

// TestMotoComparison checks the comparison itself, without moto: a difference no one has
// explained fails, a known one passes only with IVS's value on playkey's side, and playkey
// falling back to moto's known-wrong behaviour fails even though the two then agree.
func TestMotoComparison(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		moto, pk map[string]string
		problem  string // "" for none
	}{
		{"same", map[string]string{"Channel.Type": `"STANDARD"`}, map[string]string{"Channel.Type": `"STANDARD"`}, ""},
		{"known, IVS's value", map[string]string{"Channel.ContainerFormat": `""`}, map[string]string{"Channel.ContainerFormat": `"TS"`}, ""},
		{"known, wrong value", map[string]string{"Channel.ContainerFormat": `""`}, map[string]string{"Channel.ContainerFormat": `"FRAGMENTED_MP4"`}, "IVS gives"},
		{"regressed to moto", map[string]string{"Channel.ContainerFormat": `""`}, map[string]string{"Channel.ContainerFormat": `""`}, "moto's"},
		{"regressed to absent", map[string]string{}, map[string]string{"Channel.Srt.Endpoint": "null"}, "moto's"},
		{"summary falls back to Channel", map[string]string{"Channels[0].AdConfigurationArn": "null"}, map[string]string{"Channels[0].AdConfigurationArn": "null"}, "moto's"},
		{"named channels are not moto's null", map[string]string{"Channels[0].Name": `"a"`}, map[string]string{"Channels[0].Name": `"a"`}, ""},
		{"unexplained", map[string]string{"Channel.Type": `"BASIC"`}, map[string]string{"Channel.Type": `"STANDARD"`}, "no one has explained"},
	} {
		problems, _ := compare(tc.moto, tc.pk)
		got := strings.Join(problems, "; ")
		if (tc.problem == "") != (got == "") || !strings.Contains(got, tc.problem) {
			t.Errorf("%s: problems %q, want one mentioning %q", tc.name, got, tc.problem)
		}
	}
	for _, tc := range []struct{ what, moto, pk, problem string }{
		{"DeleteChannel.status", "200", "204", ""},
		{"DeleteChannel.status", "200", "200", "IVS gives 204"},
		{"GetChannel(deleted)", "404 ResourceNotFoundException", "404 ResourceNotFoundException", ""},
		{"CreateChannel(latencyMode FAST)", "200", "200", "IVS gives 400"},
		{"GetChannel(deleted)", "404 ResourceNotFoundException", "400 ValidationException", "no one has explained"},
	} {
		if problem, _ := compareOutcome(tc.what, tc.moto, tc.pk); (tc.problem == "") != (problem == "") || !strings.Contains(problem, tc.problem) {
			t.Errorf("%s %s/%s: problem %q, want one mentioning %q", tc.what, tc.moto, tc.pk, problem, tc.problem)
		}
	}
}

func TestMotoSideBySide(t *testing.T) {
	t.Parallel()
	motoURL := startMoto(t)
	ctx := context.Background()
	ts := newTestServer(t)
	pk := ts.client("AKIAAAAAAAAAAAAAAAAA", region)
	moto := ivs.New(ivs.Options{Region: region, BaseEndpoint: aws.String(motoURL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "moto-accepts-any-secret", "")})
	both := []*ivs.Client{moto, pk}

	type pair [2]*ivs.CreateChannelOutput
	create := func(in *ivs.CreateChannelInput) pair {
		t.Helper()
		var p pair
		for i, c := range both {
			out, err := c.CreateChannel(ctx, in)
			if err != nil {
				t.Fatalf("CreateChannel on %s: %v", []string{"moto", "playkey"}[i], err)
			}
			p[i] = out
		}
		return p
	}

	// CreateChannel, then GetChannel, with defaults and with settings.
	inputs := []*ivs.CreateChannelInput{
		{},
		{Name: aws.String("test-channel"), Authorized: true, InsecureIngest: true, LatencyMode: types.ChannelLatencyModeNormalLatency,
			Type: types.ChannelTypeBasicChannelType, Tags: map[string]string{"team": "video"}},
		{Name: aws.String("advanced"), Type: types.ChannelTypeAdvancedHDChannelType},
		{Name: aws.String("advanced-sd"), Type: types.ChannelTypeAdvancedSDChannelType, Preset: types.TranscodePresetConstrainedBandwidthTranscodePreset},
	}
	var made []pair
	for i, in := range inputs {
		p := create(in)
		made = append(made, p)
		differ(t, fmt.Sprint("CreateChannel #", i), flatten(t, "", p[0]), flatten(t, "", p[1]))
		var got [2]*ivs.GetChannelOutput
		for j, c := range both {
			out, err := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: p[j].Channel.Arn})
			if err != nil {
				t.Fatal(err)
			}
			got[j] = out
		}
		differ(t, fmt.Sprint("GetChannel #", i), flatten(t, "", got[0]), flatten(t, "", got[1]))
	}

	// ListChannels, whole and filtered by name. Both list in their own order; compare sorted by name.
	for label, in := range map[string]*ivs.ListChannelsInput{"": {}, "filterByName": {FilterByName: aws.String("advanced")}} {
		var lists [2]map[string]string
		for j, c := range both {
			out, err := c.ListChannels(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(out.Channels, func(a, b types.ChannelSummary) int {
				return strings.Compare(aws.ToString(a.Name), aws.ToString(b.Name))
			})
			lists[j] = flatten(t, "", out)
		}
		differ(t, "ListChannels("+label+")", lists[0], lists[1])
	}

	// BatchGetChannel with a missing ARN.
	var batches [2]map[string]string
	for j, c := range both {
		arn := aws.ToString(made[1][j].Channel.Arn)
		missing := arn[:strings.LastIndex(arn, "/")+1] + "abcdABCDefgh"
		out, err := c.BatchGetChannel(ctx, &ivs.BatchGetChannelInput{Arns: []string{arn, missing}})
		if err != nil {
			t.Fatal(err)
		}
		batches[j] = flatten(t, "BatchGetChannel", out)
	}
	differ(t, "BatchGetChannel", batches[0], batches[1])

	// UpdateChannel: settings change alike.
	var updated [2]map[string]string
	for j, c := range both {
		out, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: made[1][j].Channel.Arn, Name: aws.String("renamed"),
			LatencyMode: types.ChannelLatencyModeLowLatency, Type: types.ChannelTypeStandardChannelType})
		if err != nil {
			t.Fatal(err)
		}
		updated[j] = flatten(t, "", out)
	}
	differ(t, "UpdateChannel", updated[0], updated[1])

	// Outcomes: statuses and errors.
	type call func(c *ivs.Client, j int) (middleware.Metadata, error)
	for _, tc := range []struct {
		what string
		call call
	}{
		{"DeleteChannel.status", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			out, err := c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: made[0][j].Channel.Arn})
			if err != nil {
				return middleware.Metadata{}, err
			}
			return out.ResultMetadata, nil
		}},
		{"GetChannel(deleted)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			_, err := c.GetChannel(ctx, &ivs.GetChannelInput{Arn: made[0][j].Channel.Arn})
			return middleware.Metadata{}, err
		}},
		{"DeleteChannel(deleted)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			_, err := c.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: made[0][j].Channel.Arn})
			return middleware.Metadata{}, err
		}},
		{"UpdateChannel(deleted)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			_, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: made[0][j].Channel.Arn, Name: aws.String("x")})
			return middleware.Metadata{}, err
		}},
		{"CreateChannel(latencyMode FAST)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{LatencyMode: "FAST"})
			return metaOf(out, err)
		}},
		{"CreateChannel(type STANDARD, preset)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Preset: types.TranscodePresetHigherBandwidthTranscodePreset})
			return metaOf(out, err)
		}},
		{"CreateChannel(name with a space)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("a b")})
			return metaOf(out, err)
		}},
		{"CreateChannel(unknown recording configuration)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			arn := aws.ToString(made[1][j].Channel.Arn)
			rc := strings.Replace(arn[:strings.LastIndex(arn, "/")], ":channel", ":recording-configuration", 1) + "/ABCD12cdEFgh"
			out, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{RecordingConfigurationArn: aws.String(rc)})
			return metaOf(out, err)
		}},
		{"ListChannels(two filters)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			arn := aws.ToString(made[1][j].Channel.Arn)
			rc := strings.Replace(arn[:strings.LastIndex(arn, "/")], ":channel", ":recording-configuration", 1) + "/ABCD12cdEFgh"
			out, err := c.ListChannels(ctx, &ivs.ListChannelsInput{FilterByName: aws.String("advanced"), FilterByRecordingConfigurationArn: aws.String(rc)})
			if err != nil {
				return middleware.Metadata{}, err
			}
			return out.ResultMetadata, nil
		}},
		{"UpdateChannel(preset on STANDARD)", func(c *ivs.Client, j int) (middleware.Metadata, error) {
			out, err := c.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: made[1][j].Channel.Arn, Preset: types.TranscodePresetHigherBandwidthTranscodePreset})
			if err != nil {
				return middleware.Metadata{}, err
			}
			return out.ResultMetadata, nil
		}},
	} {
		var got [2]string
		for j, c := range both {
			meta, err := tc.call(c, j)
			got[j] = strings.TrimSpace(outcome(err, meta))
		}
		sameOutcome(t, tc.what, got[0], got[1])
	}
}

func metaOf(out *ivs.CreateChannelOutput, err error) (middleware.Metadata, error) {
	if err != nil {
		return middleware.Metadata{}, err
	}
	return out.ResultMetadata, nil
}
