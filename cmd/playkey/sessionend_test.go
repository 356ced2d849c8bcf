package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey/postgres/pgtest"
	"github.com/playkey/playkey/token"
)

// TestSessionsEnd measures, on both stores with real processes, how long a session that
// is already playing goes on after its viewer is revoked and after its channel is deleted:
// on a gate that was running, and on a gate started after the change (which must refuse
// at its first request: nothing it needs may have been forgotten).
func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		credFile, creds := writeCredentials(t, dir, "123456789012")
		data := filepath.Join(dir, "data")
		api := startServer(t, data, "--credentials", credFile)
		sessionsEnd(t, ivsClient(api.endpoint, creds[0], "us-west-2", nil), "--data", data)
	})
	t.Run("postgres", func(t *testing.T) {
		_, storeURL := pgtest.Schema(t)
		dir := t.TempDir()
		credFile, creds := writeCredentials(t, dir, "123456789012")
		api := startServer(t, filepath.Join(dir, "api"), "--credentials", credFile, "--store", storeURL)
		sessionsEnd(t, ivsClient(api.endpoint, creds[0], "us-west-2", nil), "--store", storeURL)
	})
}

func sessionsEnd(t *testing.T, api *ivs.Client, storeArgs ...string) {
	ctx := context.Background()
	origin := hlsOrigin(t)
	gateArgs := append([]string{"--origin", origin}, storeArgs...)
	running := startGate(t, gateArgs...)
	k := newPlayKey(t)
	if _, err := api.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(k.pem)}); err != nil {
		t.Fatal(err)
	}
	ch, err := api.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
	if err != nil {
		t.Fatal(err)
	}
	arn, playback := aws.ToString(ch.Channel.Arn), aws.ToString(ch.Channel.PlaybackUrl)
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	// session starts playback on the running gate and returns its variant playlist's path.
	session := func(viewer string) string {
		t.Helper()
		u, _ := url.Parse(playback)
		tok := k.sign(t, token.Claims{ChannelARN: arn, ViewerID: viewer})
		start := time.Now()
		for {
			status, body := get(running.url + u.Path + "?token=" + url.QueryEscape(tok))
			if status == 200 {
				for line := range strings.SplitSeq(body, "\n") {
					if strings.HasPrefix(line, "/api/video/v1/s/") {
						if s, _ := get(running.url + line); s != 200 {
							t.Fatalf("the new session's variant playlist: %d", s)
						}
						return line
					}
				}
				t.Fatalf("no session URI in %s", body)
			}
			if time.Since(start) > 20*time.Second { // the gate may have cached the channel's absence
				t.Fatalf("playback: %d %s", status, body)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// stops returns how long after since the gate at base refuses the session path.
	stops := func(base, path string, since time.Time) time.Duration {
		t.Helper()
		for {
			if s, _ := get(base + path); s == http.StatusForbidden {
				return time.Since(since)
			} else if s != 200 {
				t.Fatalf("session: %d while waiting for 403", s)
			}
			if time.Since(since) > 10*time.Second {
				t.Fatalf("the session still plays 10 s after the change")
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	// onNewGate starts a gate after the change and wants the session refused at once.
	onNewGate := func(path string) time.Duration {
		t.Helper()
		g := startGate(t, gateArgs...)
		start := time.Now()
		if s, body := get(g.url + path); s != http.StatusForbidden {
			t.Fatalf("a gate started after the change plays the session: %d %s", s, body)
		}
		return time.Since(start)
	}

	revoked := session("viewer-1")
	change := time.Now()
	if _, err := api.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{
		ChannelArn: aws.String(arn), ViewerId: aws.String("viewer-1")}); err != nil {
		t.Fatal(err)
	}
	dRevRunning := stops(running.url, revoked, change)
	dRevNew := onNewGate(revoked)

	deleted := session("viewer-2")
	change = time.Now()
	if _, err := api.DeleteChannel(ctx, &ivs.DeleteChannelInput{Arn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	dDelRunning := stops(running.url, deleted, change)
	dDelNew := onNewGate(deleted)
	// The revoked viewer's session stays refused on a gate started after the deletion too.
	dRevAfterDelete := onNewGate(revoked)

	t.Logf("revoked viewer: running gate %v, new gate %v (first request); deleted channel: running gate %v, new gate %v; revoked viewer on a gate started after the deletion %v",
		dRevRunning.Round(time.Millisecond), dRevNew.Round(time.Millisecond), dDelRunning.Round(time.Millisecond), dDelNew.Round(time.Millisecond), dRevAfterDelete.Round(time.Millisecond))
	for what, d := range map[string]time.Duration{"revocation": dRevRunning, "deletion": dDelRunning} {
		if d > fallbackBound {
			t.Errorf("the %s took %v to end a running session, more than %v", what, d, fallbackBound)
		}
	}
}
