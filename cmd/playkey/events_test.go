package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/events"
	"github.com/playkey/playkey/internal/testenv"
)

// eventsReceiver is testdata/events_receiver.py: a Python webhook receiver that checks each
// delivery's signature with Python's hmac, independently of playkey's code.
type eventsReceiver struct {
	*testenv.Process
}

func startEventsReceiver(t *testing.T, python, secretFile string, port int) *eventsReceiver {
	t.Helper()
	p, _ := testenv.Start(t, "receiver listening on ", python, filepath.Join("testdata", "events_receiver.py"), fmt.Sprint(port), secretFile)
	return &eventsReceiver{p}
}

// received returns the events the receiver accepted, in their order, and fails on any
// delivery it refused.
func (r *eventsReceiver) received(t *testing.T) (paths []string, evs []events.Event) {
	t.Helper()
	for line := range strings.Lines(r.Stdout.String()) {
		f := strings.SplitN(strings.TrimSpace(line), " ", 3)
		switch {
		case f[0] == "bad":
			t.Fatalf("the receiver refused a delivery: %s", line)
		case f[0] == "event" && len(f) == 3:
			var e events.Event
			if err := json.Unmarshal([]byte(f[2]), &e); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			paths, evs = append(paths, f[1]), append(evs, e)
		}
	}
	return paths, evs
}

// waitFor waits until the receiver has accepted an event named name.
func (r *eventsReceiver) waitFor(t *testing.T, name string) {
	t.Helper()
	r.waitWithin(t, name, 60*time.Second) // a hang guard: retries wait at most a few seconds here
}

// waitWithin is waitFor with a hang guard of d.
func (r *eventsReceiver) waitWithin(t *testing.T, name string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, evs := r.received(t)
		if slices.ContainsFunc(evs, func(e events.Event) bool { return e.Detail.EventName == name }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver never got %q; it printed:\n%s", name, r.Stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStreamEventsToWebhooks: `playkey serve --events-url` (twice) delivers a real ffmpeg
// publish's events to two Python receivers that check every signature: one up from the
// start, one down at first (its first deliveries fail and are retried) and up later. ffmpeg
// is frozen for a while, so that the stream starves and recovers. Both receivers get every
// event of the stream once, in order, with IVS's members; the same events, in the
// same order, are the stream session's; each delivery has one log line, and neither the
// secret nor the URL's query reaches the log.
func TestStreamEventsToWebhooks(t *testing.T) {
	t.Parallel()
	python := testenv.NeedPython(t)
	ctx := context.Background()
	dir := t.TempDir()
	secret := "whsec-" + rand.Text()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	up := startEventsReceiver(t, python, secretFile, 0)
	upPort := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(up.Stdout.String(), "\n", 2)[0], "receiver listening on "))
	// The second receiver's port, free until the receiver starts on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	const query = "key=query-credential"
	downURL := fmt.Sprintf("http://127.0.0.1:%d/hooks/down", downPort)
	upURL := "http://127.0.0.1:" + upPort + "/hooks/up"
	// ffmpeg is frozen below until Starvation Start reaches a receiver: at least 3 s, and
	// then a report (every 3 s) and a delivery, which on a loaded machine can together take
	// longer than the default 10 s after which ingest ends a silent stream. The read timeout
	// is raised far beyond, so that the stream ends only when the test stops ffmpeg.
	l := startLiveServer(t, "--events-url", upURL, "--events-url", downURL+"?"+query, "--events-secret", secret,
		"--ingest-read-timeout", "10m")

	out, err := l.ivs.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("events-e2e")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Channel.Arn)
	parsed, err := playkey.ParseARN("arn", arn)
	if err != nil {
		t.Fatal(err)
	}
	// ffmpeg would stop by itself after this much media, ending the stream; the test stops it
	// itself once it has seen the starvation end, so its length only has to exceed any run.
	p := publish(t, l.rtmp+"/app/"+aws.ToString(out.StreamKey.Value), 3600)
	up.waitFor(t, "Stream Start")
	// The receiver that is down refused the first delivery; it comes up now.
	l.waitLog(t, `msg="events: delivery failed" url=`+downURL+" ")
	down := startEventsReceiver(t, python, secretFile, downPort)
	down.waitFor(t, "Stream Start")

	// ffmpeg frozen, no media arrives: the stream starves (after 3 s without media; the
	// read timeout is out of reach), then recovers when ffmpeg goes on.
	frozen := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	up.waitFor(t, "Starvation Start")
	starved := time.Since(frozen)
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	up.waitFor(t, "Starvation End")

	// ffmpeg stops as a broadcaster does (q, or ^C): the stream ends.
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if !p.wait(30 * time.Second) {
		t.Fatal("ffmpeg did not stop")
	}
	up.waitFor(t, "Session Ended")
	down.waitFor(t, "Session Ended")

	ss, err := l.ivs.GetStreamSession(ctx, &ivs.GetStreamSessionInput{ChannelArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var session []string // oldest first
	for _, e := range slices.Backward(ss.StreamSession.TruncatedEvents) {
		session = append(session, aws.ToString(e.Name))
	}
	id := aws.ToString(ss.StreamSession.StreamId)
	upPaths, upEvents := up.received(t)
	downPaths, downEvents := down.received(t)
	for _, r := range []struct {
		name, url, path string
		paths           []string
		evs             []events.Event
	}{{"up", upURL, "/hooks/up", upPaths, upEvents}, {"down", downURL, "/hooks/down?" + query, downPaths, downEvents}} {
		var got, states, health []string
		for i, e := range r.evs {
			got = append(got, e.Detail.EventName)
			switch e.DetailType {
			case "IVS Stream State Change":
				states = append(states, e.Detail.EventName)
			case "IVS Stream Health Change":
				health = append(health, e.Detail.EventName)
			default:
				t.Errorf("%s receiver: detail-type %q", r.name, e.DetailType)
			}
			if r.paths[i] != r.path || e.Version != "0" || e.Source != "aws.ivs" || e.Account != parsed.Account || e.Region != parsed.Region ||
				!reflect.DeepEqual(e.Resources, []string{arn}) || e.Detail.ChannelName != "events-e2e" || e.Detail.StreamID != id {
				t.Errorf("%s receiver: event %d at %s: %+v", r.name, i, r.paths[i], e)
			}
			if _, err := time.Parse(time.RFC3339, e.Time); err != nil {
				t.Errorf("%s receiver: time %q: %v", r.name, e.Time, err)
			}
		}
		if want := []string{"Session Created", "Stream Start", "Stream End", "Session Ended"}; !reflect.DeepEqual(states, want) {
			t.Errorf("%s receiver: state changes %v, want %v", r.name, states, want)
		}
		if want := []string{"Starvation Start", "Starvation End"}; !reflect.DeepEqual(health, want) {
			t.Errorf("%s receiver: health changes %v, want %v", r.name, health, want)
		}
		if !reflect.DeepEqual(got, session) {
			t.Errorf("%s receiver got %v; the stream session lists %v", r.name, got, session)
		}
		// One log line per accepted delivery.
		if n := strings.Count(l.Stderr.String(), `msg="events: delivered" url=`+r.url+" "); n != len(r.evs) {
			t.Errorf("%s receiver: %d delivery log lines for %d events", r.name, n, len(r.evs))
		}
	}
	if len(upEvents) != len(downEvents) {
		t.Fatalf("the receivers got %d and %d events", len(upEvents), len(downEvents))
	}
	for i := range upEvents {
		if upEvents[i].ID != downEvents[i].ID {
			t.Errorf("event %d: ids %s and %s: the receivers got different events", i, upEvents[i].ID, downEvents[i].ID)
		}
	}
	for _, leak := range []string{secret, "query-credential"} {
		if strings.Contains(l.Stderr.String(), leak) || strings.Contains(l.Stdout.String(), leak) {
			t.Errorf("serve's output holds %q", leak)
		}
	}
	t.Logf("%d events to each receiver; the one down at first got them after %d failed attempts; Starvation Start arrived %v after ffmpeg froze",
		len(upEvents), strings.Count(l.Stderr.String(), `msg="events: delivery failed" url=`+downURL+" "), starved.Round(time.Millisecond))
}

// TestLostIngestEndsWithEvents: an ingest node killed while its stream is live reports no
// more; another process that records streams (serve, with --events-url) ends the stream
// once it times out, with Stream Failure (IngestLost), Stream End and Session Ended, which
// reach the webhook and the session.
func TestLostIngestEndsWithEvents(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "ffmpeg")
	python := testenv.NeedPython(t)
	ctx := context.Background()
	dir, data := t.TempDir(), t.TempDir()
	secret := "whsec-" + rand.Text()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	recv := startEventsReceiver(t, python, secretFile, 0)
	port := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(recv.Stdout.String(), "\n", 2)[0], "receiver listening on "))
	s := startServer(t, data, "--events-url", "http://127.0.0.1:"+port+"/hooks/lost", "--events-secret", secret)
	client := sdkClient(s)
	p, rest := testenv.Start(t, "playkey ingest: rtmp://", playkeyBin, "ingest", "--data", data, "--ingest-addr", "127.0.0.1:0")
	rtmp := "rtmp://" + strings.TrimSuffix(rest, "/app/{stream key}")

	out, err := client.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("lost-ingest")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Channel.Arn)
	publish(t, rtmp+"/app/"+aws.ToString(out.StreamKey.Value), 3600)
	deadline := time.Now().Add(60 * time.Second)
	var streamID string
	for streamID == "" {
		if st, err := client.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: &arn}); err == nil {
			streamID = aws.ToString(st.Stream.StreamId)
		} else if time.Now().After(deadline) {
			t.Fatalf("the stream never went live on the ingest node: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.Cmd.Process.Kill(); err != nil { // no chance to record the end
		t.Fatal(err)
	}
	killed := time.Now()
	// Expected after playkey.StreamTimeout (30 s) and one pass of serve's check of timed-out
	// streams (5 s); the guard only stops a hang, far beyond that on a loaded machine.
	recv.waitWithin(t, "Session Ended", 5*time.Minute)
	t.Logf("the kill to Session Ended at the webhook: %v", time.Since(killed).Round(time.Millisecond))
	_, evs := recv.received(t)
	var got []string
	for _, e := range evs {
		if len(e.Resources) != 1 || e.Resources[0] != arn || e.Detail.StreamID != streamID {
			t.Errorf("an event of another stream: %+v", e)
		}
		got = append(got, e.Detail.EventName+"/"+e.Detail.Code)
	}
	if want := []string{"Stream Failure/IngestLost", "Stream End/", "Session Ended/"}; !reflect.DeepEqual(got, want) {
		t.Errorf("webhook events %v, want %v", got, want)
	}
	ss := checkEndedSession(t, client, arn, streamID)
	if ss.EndTime == nil || ss.EndTime.After(killed) {
		t.Errorf("the session ends at %v, after the kill at %v", ss.EndTime, killed)
	}
}
