package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/chromedp/chromedp"

	"github.com/playkey/playkey/internal/testenv"
)

// publisher is ffmpeg streaming a synthetic 360p30 picture and a tone over RTMP, as a
// broadcaster does.
type publisher struct {
	cmd    *exec.Cmd
	stderr *testenv.SyncBuffer
	done   chan struct{} // closed when ffmpeg has exited
}

// publish starts ffmpeg sending to url for up to seconds, with one-second GOPs.
func publish(t *testing.T, url string, seconds int) *publisher {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-b:v", "600k", "-c:a", "aac", "-b:a", "64k",
		"-f", "flv", url}
	p := &publisher{cmd: exec.Command("ffmpeg", args...), stderr: &testenv.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// TestConsoleLiveChannels follows a broadcast on the console: ffmpeg publishes to a channel
// made in the test, and the open Channels page turns it live by itself (state, health,
// viewers, start time as the API has them); the channel's page shows the current stream
// with its measured ingest configuration, sends timed metadata (and shows the API's refusal
// of a payload over 1 KB), and Stop stream, after IVS's caution, ends ffmpeg's publish; the
// page then shows the channel offline and the ended session with its events.
func TestConsoleLiveChannels(t *testing.T) {
	testenv.Need(t, "ffmpeg")
	e := newEnv(t)
	ctx := context.Background()

	out, err := e.sdk.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("live-show")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sdk.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("idle")}); err != nil {
		t.Fatal(err)
	}
	arn, key := aws.ToString(out.Channel.Arn), aws.ToString(out.StreamKey.Value)
	row := `#channels tr[data-name="live-show"]`
	idle := `#channels tr[data-name="idle"]`

	var p *publisher
	top := t // ffmpeg runs for the whole flow, not one step
	var stream *ivstypes.Stream
	e.step(t, "the open list turns live by itself", func(t *testing.T) {
		e.signIn()
		e.click(`#nav a[data-page="channels"]`)
		e.visible(row + `[data-state="OFFLINE"]`)
		e.waitText("#live-count", "0 live")
		if got := e.text(row + " .channel-stream"); got != "Offline" {
			t.Errorf("the idle channel's stream cell says %q", got)
		}
		e.shot("live-list-offline")

		p = publish(top, e.rtmp+"/app/"+key, 120)
		top.Cleanup(func() {
			if top.Failed() {
				// ffmpeg names the URL, stream key included: the key stays out of the log.
				t.Logf("ffmpeg: %s", strings.ReplaceAll(p.stderr.String(), key, "{stream key}"))
			}
		})
		// Nothing is clicked: the page asks for the live streams again by itself.
		e.visible(row + `[data-state="LIVE"]`)
		st, err := e.sdk.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn})
		if err != nil {
			t.Fatalf("GetStream of the channel the page shows live: %v", err)
		}
		stream = st.Stream
		health := string(stream.Health)
		e.waitFor("the API's health", fmt.Sprintf(`document.querySelector(%q).dataset.health === %q`, row+" .stream-state", health))
		if got := e.text(row + " .channel-stream"); got != "Live "+map[string]string{"HEALTHY": "Healthy", "STARVING": "Starving", "UNKNOWN": "Unknown"}[health] {
			t.Errorf("the live channel's stream cell says %q; the API's health is %s", got, health)
		}
		start := aws.ToTime(stream.StartTime).UTC().Format(time.RFC3339)
		if got := eval[string](e, fmt.Sprintf(`document.querySelector(%q).getAttribute('datetime')`, row+" .channel-started time")); got != start {
			t.Errorf("the list shows the start time %q, the API's is %s", got, start)
		}
		if got := e.text(row + " .channel-started"); got == "" || got == "-" {
			t.Errorf("the start time reads %q", got)
		}
		if got, want := e.text(row+" .channel-viewers"), fmt.Sprint(stream.ViewerCount); got != want {
			t.Errorf("viewers shown %q, the API counts %s", got, want)
		}
		e.waitText("#live-count", "1 live")
		if got := e.attr(idle, "data-state"); got != "OFFLINE" {
			t.Errorf("the idle channel is shown %q", got)
		}
		e.shot("live-list-live")
	})

	e.step(t, "the channel's page shows the current stream", func(t *testing.T) {
		e.click(row + " .channel-name a")
		e.waitText("#channel-heading", "live-show")
		e.visible(`#channel-live[data-state="LIVE"]`)
		if got := e.text("#live-stream-id"); got != aws.ToString(stream.StreamId) {
			t.Errorf("stream ID shown %q, the API's %q", got, aws.ToString(stream.StreamId))
		}
		if got := e.attr("#live-start time", "datetime"); got != aws.ToTime(stream.StartTime).UTC().Format(time.RFC3339) {
			t.Errorf("the start time shown is %q", got)
		}
		if got := e.attr("#live-health", "data-health"); got == "" {
			t.Error("no health shown")
		}
		// The ingest reports what it measured a few seconds into the stream.
		e.visible("#live-ingest .ingest-video")
		if w, h := e.attr("#live-ingest .ingest-video", "data-width"), e.attr("#live-ingest .ingest-video", "data-height"); w != "640" || h != "360" {
			t.Errorf("the video ingest configuration shown is %sx%s, ffmpeg sends 640x360", w, h)
		}
		if got := e.text("#live-ingest .ingest-audio"); !strings.Contains(got, "mp4a.40.2") || !strings.Contains(got, "44100 Hz") {
			t.Errorf("the audio ingest configuration reads %q", got)
		}
		sid := aws.ToString(stream.StreamId)
		e.visible(fmt.Sprintf(`#sessions tr[data-stream-id=%q][data-ended="false"]`, sid))
		e.shot("live-details")
	})

	e.step(t, "it asks again only while visible", func(t *testing.T) {
		e.waitFor("polling", `document.querySelector('#live-refreshed').dataset.polling === 'running'`)
		// The tab is hidden, as when the user switches to another one.
		setHidden(e, true)
		e.waitFor("polling paused", `document.querySelector('#live-refreshed').dataset.polling === 'paused'`)
		setHidden(e, false)
		e.waitFor("polling again", `document.querySelector('#live-refreshed').dataset.polling === 'running'`)
		// Shown again, it asks at once (a run in progress as it hid may count too).
		before := len(e.rec.find("POST", "/ListStreamSessions"))
		setHidden(e, true)
		setHidden(e, false)
		deadline := time.Now().Add(20 * time.Second) // a hang guard only
		for len(e.rec.find("POST", "/ListStreamSessions")) == before {
			if time.Now().After(deadline) {
				t.Fatal("no ListStreamSessions after the page showed again")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	e.step(t, "send metadata", func(t *testing.T) {
		payload := `{"question": "50%?"}`
		e.setValue("#metadata-input", payload)
		e.waitText("#metadata-size", "20 of 1024 bytes")
		e.click("#metadata-submit")
		e.visible("#metadata-done")
		e.waitText("#metadata-done", "Metadata sent")
		puts := e.rec.find("POST", "/PutMetadata")
		var sent struct{ ChannelArn, Metadata string }
		if len(puts) != 1 || json.Unmarshal(puts[0].body, &sent) != nil || sent.ChannelArn != arn || sent.Metadata != payload || puts[0].status != http.StatusNoContent {
			t.Fatalf("PutMetadata requests: %d; the first sent %s and was answered %d", len(puts), puts[0].body, puts[0].status)
		}
		e.shot("live-metadata-sent")

		// Over 1 KB: the page says so, sends it anyway, and shows the API's refusal.
		e.setValue("#metadata-input", strings.Repeat("é", 520))
		e.waitText("#metadata-size", "1040 of 1024 bytes")
		e.click("#metadata-submit")
		code, text := e.errorCode("#metadata-status")
		if code != "ValidationException" || !strings.Contains(text, "1040 bytes") || !strings.Contains(text, "1 KB") {
			t.Errorf("a 1040-byte payload shows %s %q; want the API's ValidationException", code, text)
		}
		if n := len(e.rec.find("POST", "/PutMetadata")); n != 2 {
			t.Errorf("%d PutMetadata requests, want 2", n)
		}
		e.shot("live-metadata-too-large")
	})

	e.step(t, "stop stream", func(t *testing.T) {
		e.click("#stop-stream")
		e.visible("#stop-stream-dialog[open]")
		// IVS's caution: the broadcaster may come back unless the key is deleted.
		e.waitText("#stop-stream-dialog", "may reconnect")
		e.waitText("#stop-stream-dialog", "delete its stream key first")
		if id := eval[string](e, `document.activeElement.id`); id != "stop-stream-cancel" {
			t.Errorf("the Stop stream dialog opens with focus on %q, want Cancel", id)
		}
		e.shot("live-stop-dialog")
		select {
		case <-p.done:
			t.Fatalf("ffmpeg ended before Stop stream:\n%s", p.stderr)
		default:
		}
		e.click("#stop-stream-submit")
		e.gone("#stop-stream-dialog")
		e.waitText("#channel-status", "was stopped")
		if id := eval[string](e, `document.activeElement.id`); id != "live-heading" {
			t.Errorf("after Stop stream focus is on %q, want the Live stream heading", id)
		}
		select {
		case <-p.done:
		case <-time.After(20 * time.Second): // a hang guard only
			t.Fatal("ffmpeg still publishes 20 s after Stop stream")
		}
		e.visible(`#channel-live[data-state="OFFLINE"]`)
		e.visible("#live-offline")
		if !eval[bool](e, `document.querySelector('#stop-stream').hidden && document.querySelector('#metadata-form').hidden`) {
			t.Error("Stop stream or Send metadata still offered on an offline channel")
		}
		if stops := e.rec.find("POST", "/StopStream"); len(stops) != 1 || stops[0].status != http.StatusOK {
			t.Errorf("StopStream requests: %d", len(stops))
		}
	})

	e.step(t, "the past session with its events", func(t *testing.T) {
		sid := aws.ToString(stream.StreamId)
		e.visible(fmt.Sprintf(`#sessions tr[data-stream-id=%q][data-ended="true"]`, sid))
		e.click("#session-" + sid)
		e.visible(`#session-details .session-panel[data-ended="true"]`)
		ss, err := e.sdk.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: &arn, StreamId: &sid})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, ev := range ss.StreamSession.TruncatedEvents {
			want = append(want, aws.ToString(ev.Name))
		}
		var shown []string
		if err := json.Unmarshal([]byte(eval[string](e, `JSON.stringify([...document.querySelectorAll('#session-events tr[data-event]')].map((r) => r.dataset.event))`)), &shown); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shown, want) || !slices.Contains(shown, "Stream End") || !slices.Contains(shown, "Session Ended") {
			t.Errorf("the session's events shown %q, the API's %q", shown, want)
		}
		if got := e.attr("#session-end time", "datetime"); got != aws.ToTime(ss.StreamSession.EndTime).UTC().Format(time.RFC3339) {
			t.Errorf("the end time shown is %q", got)
		}
		if got := e.text("#session-ingest .ingest-video"); !strings.Contains(got, "640×360") || !strings.Contains(got, "30 fps") {
			t.Errorf("the session's video ingest configuration reads %q", got)
		}
		e.do(chromedp.ScrollIntoView(chromedp.CSS("#channel-sessions")))
		e.shot("live-session")
	})

	e.step(t, "narrow window", func(t *testing.T) {
		e.do(chromedp.EmulateViewport(360, 760))
		e.visible("#session-events")
		checkNoHorizontalScroll(t, e, "the channel page with its sessions")
		e.shot("live-session-narrow")
		e.do(chromedp.EmulateViewport(1280, 900))
	})

	e.step(t, "the list shows it offline; leaving a page stops its refresh", func(t *testing.T) {
		eval[bool](e, `(window.detailsRefresh = document.querySelector('#live-refreshed')) !== null`)
		e.click(`.breadcrumbs a[href="#/channels"]`)
		e.visible(row + `[data-state="OFFLINE"]`)
		e.waitText("#live-count", "0 live")
		if got := eval[string](e, `window.detailsRefresh.dataset.polling`); got != "stopped" {
			t.Errorf("the channel page's refresh is %q after leaving it", got)
		}
		e.waitFor("the list's refresh", `document.querySelector('#streams-refreshed').dataset.polling === 'running'`)
		eval[bool](e, `(window.listRefresh = document.querySelector('#streams-refreshed')) !== null`)
		e.click(`#nav a[data-page="keys"]`)
		e.gone("#channels")
		if got := eval[string](e, `window.listRefresh.dataset.polling`); got != "stopped" {
			t.Errorf("the list's refresh is %q after leaving it", got)
		}
	})

	e.step(t, "what the server received", func(t *testing.T) {
		e.checkRequests()
		// The page's API errors are the payload refused on purpose and, at most once, GetStream's
		// ChannelNotBroadcasting: the page learns that a channel is offline from its sessions,
		// and asks GetStream only while the newest has not ended, so only a stream that ends
		// between the two calls meets it.
		notBroadcasting := 0
		for _, x := range e.rec.requests() {
			if strings.Contains(x.header.Get("User-Agent"), "aws-sdk-go") || x.status < 400 {
				continue
			}
			if x.path == "/GetStream" && x.status == http.StatusNotFound &&
				strings.Contains(string(x.response), "is not broadcasting") {
				if notBroadcasting++; notBroadcasting == 1 {
					continue
				}
			}
			if x.path != "/PutMetadata" || x.status != http.StatusBadRequest {
				t.Errorf("%s %s answered %d: %s", x.method, x.path, x.status, x.response)
			}
		}
		if n := len(e.rec.find("POST", "/ListStreams")); n < 2 {
			t.Errorf("the list asked for the live streams %d times", n)
		}
		e.checkBrowser()
	})
}

// attr returns an attribute of the first element matching sel.
func (e *env) attr(sel, name string) string {
	e.t.Helper()
	return run(e, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

// setHidden makes the page see itself hidden or visible, as when the user switches tabs.
func setHidden(e *env, hidden bool) {
	e.t.Helper()
	eval[bool](e, fmt.Sprintf(`(() => {
		if (%t) {
			Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
			Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
		} else {
			delete document.hidden;
			delete document.visibilityState;
		}
		document.dispatchEvent(new Event('visibilitychange'));
		return document.hidden === %t;
	})()`, hidden, hidden))
}
