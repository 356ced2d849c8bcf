package playkey_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/playkey/playkey"
)

var nilTime time.Time

func TestNewStreamKey(t *testing.T) {
	ch := playkey.ARN{Region: "eu-central-1", Account: "111111111111", Type: playkey.TypeChannel, ID: "abcdABCDefgh"}
	seen := map[string]bool{}
	for range 100 {
		k := playkey.NewStreamKey(ch, nilTime)
		// The shape of real values: sk_{region}_{stream key id}_{30 letters and digits}.
		if !regexp.MustCompile(`^sk_eu-central-1_` + k.ARN.ID + `_[a-zA-Z0-9]{30}$`).MatchString(k.Value) {
			t.Fatalf("value %q", k.Value)
		}
		if k.ARN.Type != playkey.TypeStreamKey || k.ARN.Scope() != ch.Scope() || k.Channel != ch || k.Tags == nil {
			t.Fatalf("stream key %+v", k)
		}
		if seen[k.Value] {
			t.Fatal("a stream key value repeated")
		}
		seen[k.Value] = true
	}
}

func TestNewChannelDefaults(t *testing.T) {
	arn := playkey.ARN{Region: "us-west-2", Account: "111111111111", Type: playkey.TypeChannel, ID: "abcdABCDefgh"}
	a, b := playkey.NewChannel(arn, nilTime), playkey.NewChannel(arn, nilTime)
	if a.LatencyMode != "LOW" || a.Type != "STANDARD" || a.Preset != "" || a.ContainerFormat != "TS" || a.Authorized || a.InsecureIngest ||
		a.Multitrack != (playkey.Multitrack{Policy: "ALLOW", MaximumResolution: "FULL_HD"}) || !a.PlaybackRestrictionPolicy.IsZero() || a.Tags == nil {
		t.Errorf("defaults %+v", a)
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9]{79}$`).MatchString(a.SRTPassphrase) || a.SRTPassphrase == b.SRTPassphrase {
		t.Errorf("SRT passphrases %q %q", a.SRTPassphrase, b.SRTPassphrase)
	}
}

func TestIngestServerURL(t *testing.T) {
	for endpoint, want := range map[string]string{
		"0123456789ab.global-contribute.live-video.net": "rtmps://0123456789ab.global-contribute.live-video.net:443/app/",
		"live.example.com:4443":                         "rtmps://live.example.com:4443/app/",
		"live.example.com:443":                          "rtmps://live.example.com:443/app/",
		"10.0.0.5:1935":                                 "rtmp://10.0.0.5:1935/app/",
		"[::1]:1935":                                    "rtmp://[::1]:1935/app/",
		"::1":                                           "rtmps://[::1]:443/app/",
	} {
		if got := playkey.IngestServerURL(endpoint); got != want {
			t.Errorf("IngestServerURL(%q) = %q, want %q", endpoint, got, want)
		}
	}
}
