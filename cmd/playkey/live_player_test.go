package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/chromedp/chromedp"

	"github.com/playkey/playkey/internal/chromiumtest"
	"github.com/playkey/playkey/token"
)

// hls.js as the gate's player test installs it (npm ci in gate/testdata/player).
const liveHLSJS = "../../gate/testdata/player/node_modules/hls.js/dist/hls.min.js"

const livePlayerPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>playkey live player test</title></head>
<body><video id="v" muted playsinline width="320"></video>
<script src="/hls.min.js"></script>
<script>
window.state = {parts: 0, frags: 0, errors: [], live: false};
window.start = function (src) {
  const hls = new Hls({lowLatencyMode: true, manifestLoadingMaxRetry: 0});
  hls.on(Hls.Events.LEVEL_LOADED, (e, d) => {
    state.live = d.details.live;
    state.parts = Math.max(state.parts, d.details.partList ? d.details.partList.length : 0);
  });
  hls.on(Hls.Events.FRAG_LOADED, () => state.frags++);
  hls.on(Hls.Events.ERROR, (e, d) => state.errors.push(d.details + (d.fatal ? ' (fatal)' : '') + (d.error ? ': ' + d.error.message : '')));
  hls.loadSource(src);
  hls.attachMedia(document.getElementById('v'));
  document.getElementById('v').play().catch(() => {});
};
// PutMetadata's payloads, as hls.js exposes them: cues of the video's metadata text track,
// one per EXT-X-DATERANGE attribute ({key, data}).
window.metadata = function () {
  const out = [];
  for (const track of document.getElementById('v').textTracks) {
    if (track.kind !== 'metadata' || !track.cues) continue;
    for (const cue of track.cues) {
      if (cue.value && cue.value.key === 'X-PAYLOAD') out.push(decodeURIComponent(cue.value.data));
    }
  }
  return out;
};
window.report = () => JSON.stringify(Object.assign({time: document.getElementById('v').currentTime, metadata: metadata()}, state));
</script></body></html>`

type liveReport struct {
	Time     float64  `json:"time"`
	Parts    int      `json:"parts"`
	Frags    int      `json:"frags"`
	Live     bool     `json:"live"`
	Errors   []string `json:"errors"`
	Metadata []string `json:"metadata"`
}

// TestGoLivePlayer plays live channels in hls.js (headless Chromium) through the gate: a
// public LOW-latency channel without a token, with its LL-HLS parts, and a private one
// with a token; PutMetadata's payload reaches hls.js as a cue of its metadata text track.
func TestGoLivePlayer(t *testing.T) {
	chromium := chromiumtest.Path(t)
	srv := livePlayerServer(t)
	ctx := context.Background()
	l := startLiveServer(t)
	priv := l.importKey(t)
	public, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("public")})
	if err != nil {
		t.Fatal(err)
	}
	private, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("private"), Authorized: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := token.Sign(token.Claims{ChannelARN: *private.Channel.Arn, Exp: time.Now().Add(10 * time.Minute).Unix()}, priv)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, l.rtmp+"/app/"+*public.StreamKey.Value, 90)
	publish(t, l.rtmp+"/app/"+*private.StreamKey.Value, 90)
	waitStatus(t, *public.Channel.PlaybackUrl, 200)
	waitStatus(t, *private.Channel.PlaybackUrl+"?token="+tok, 200)

	browser := chromiumtest.Start(t, chromium, []chromedp.ExecAllocatorOption{chromedp.Flag("autoplay-policy", "no-user-gesture-required")})

	for _, c := range []struct {
		name, src, arn string
		parts          bool
	}{
		{"public", *public.Channel.PlaybackUrl, *public.Channel.Arn, true},
		{"private with a token", *private.Channel.PlaybackUrl + "?token=" + tok, *private.Channel.Arn, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tab, cancel := chromedp.NewContext(browser)
			defer cancel()
			// The first call opens the tab, whose life is that call's context: no timeout there.
			if err := chromedp.Do(tab); err != nil {
				t.Fatal(err)
			}
			r := playLive(t, tab, srv.URL+"/", c.src)

			// Timed metadata: a payload with what a playlist's quoted-string cannot hold.
			payload := fmt.Sprintf("{\"question\": \"%s?\",\n\"at\": \"100%%\"}", c.name)
			if _, err := l.ivs.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: aws.String(c.arn), Metadata: aws.String(payload)}); err != nil {
				t.Fatalf("PutMetadata: %v", err)
			}
			asked := time.Now()
			deadline := time.Now().Add(30 * time.Second)
			for !slices.Contains(r.Metadata, payload) {
				if time.Now().After(deadline) {
					t.Fatalf("hls.js did not expose the metadata within 30s: %q", r.Metadata)
				}
				time.Sleep(200 * time.Millisecond)
				raw, err := chromedp.Run(tab, chromedp.Evaluate[string](`report()`))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(raw), &r); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("hls.js exposed the metadata cue %v after PutMetadata", time.Since(asked).Round(time.Millisecond))
		})
	}
}

// livePlayerServer serves livePlayerPage and hls.js, or skips the test (fails under CI)
// when hls.js is not installed.
func livePlayerServer(t *testing.T) *httptest.Server {
	t.Helper()
	if _, err := os.Stat(liveHLSJS); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("hls.js missing (%v): run npm ci in gate/testdata/player (.ci/setup does)", err)
		}
		t.Skip("hls.js missing: npm ci --prefix gate/testdata/player")
	}
	page := http.NewServeMux()
	page.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(livePlayerPage))
	})
	page.HandleFunc("GET /hls.min.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, liveHLSJS) })
	srv := httptest.NewServer(page)
	t.Cleanup(srv.Close)
	return srv
}

// playLive opens the player page in tab, plays src with hls.js, and returns its report
// once the playhead has moved on by a second in a live LL-HLS playlist.
func playLive(t *testing.T, tab context.Context, page, src string) liveReport {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("start(%q)", src))); err != nil {
		t.Fatal(err)
	}
	var r liveReport
	first := -1.0 // the playhead when playback started: live playback starts near the edge
	deadline := time.Now().Add(30 * time.Second)
	for {
		raw, err := chromedp.Run(tab, chromedp.Evaluate[string](`report()`))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatal(err)
		}
		if first < 0 && r.Time > 0 {
			first = r.Time
		}
		// The playhead moved on by a second: frames are decoded as they arrive.
		if first >= 0 && r.Time > first+1 && r.Live && r.Parts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hls.js did not play the live channel within 30s: %+v", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("hls.js played from %.1fs to %.1fs, %d fragments, %d parts in the playlist, errors %v", first, r.Time, r.Frags, r.Parts, r.Errors)
	return r
}
