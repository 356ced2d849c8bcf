package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/token"
)

// TestKeysRotate replaces a playback key through serve's gate: the old key verifies until
// it is deleted, the new one from its import on, a viewer who started with an old token
// keeps playing, and a rotation with no free key pair slot is refused before anything changes.
// With --metrics-url, the old key is deleted only once the gate has seen no token of it for
// --delete-old-after.
func TestKeysRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	origin := testOrigin(t)
	s := startServer(t, filepath.Join(dir, "data"), "--origin", origin.URL+"/{channel}/index.m3u8", "--metrics-addr", "127.0.0.1:0")
	env := append(awsEnv(t, s.env), "PLAYKEY_ENDPOINT_URL="+s.endpoint)
	c := sdkClient(s)
	ch, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
	if err != nil {
		t.Fatal(err)
	}
	arn, playbackURL := *ch.Channel.Arn, *ch.Channel.PlaybackUrl
	arnOf := regexp.MustCompile(`arn:aws:ivs:\S+:playback-key/[a-zA-Z0-9]+`)
	sign := func(keyFile string) string {
		t.Helper()
		data, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		k, err := keypair.ParsePrivateKeyPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := token.Sign(token.Claims{ChannelARN: arn, Exp: time.Now().Add(10 * time.Minute).Unix()}, k)
		if err != nil {
			t.Fatal(err)
		}
		return playbackURL + "?token=" + tok
	}

	oldKey := filepath.Join(dir, "old.pem")
	oldARN := arnOf.FindString(mustRun(t, env, playkeyBin, "keys", "create", "-o", oldKey, "--name", "signer", "--tag", "team=video"))
	oldURL := sign(oldKey)
	mv := waitStatus(t, oldURL, 200)
	gate, err := url.Parse(playbackURL)
	if err != nil {
		t.Fatal(err)
	}
	session := gate.Scheme + "://" + gate.Host + firstURI(t, mv, "360p/index.m3u8")

	// No free slot: refused, nothing imported, no key file written.
	var extra []string
	for _, pem := range newPublicKeyPEMs(t, 2) {
		kp, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(pem)})
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, *kp.KeyPair.Arn)
	}
	newKey := filepath.Join(dir, "new.pem")
	_, errOut, code := runCmd(t, env, playkeyBin, "keys", "rotate", oldARN, "-o", newKey)
	if code != 1 || !strings.Contains(errOut, "no free key pair slot") || !strings.Contains(errOut, extra[0]) {
		t.Fatalf("rotate with 3 key pairs: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(newKey); err == nil {
		t.Fatal("a refused rotation wrote a key file")
	}
	if l, err := c.ListPlaybackKeyPairs(ctx, &ivs.ListPlaybackKeyPairsInput{}); err != nil || len(l.KeyPairs) != 3 {
		t.Fatalf("after the refusal: %v %v", l, err)
	}
	for _, a := range extra {
		mustRun(t, env, playkeyBin, "keys", "delete", a)
	}

	// Rotate, keeping the old key: both verify.
	out, errOut, code := runCmd(t, env, playkeyBin, "keys", "rotate", oldARN, "-o", newKey)
	newARN := arnOf.FindString(out)
	if code != 0 || newARN == "" || newARN == oldARN || !strings.Contains(errOut, newKey) || !strings.Contains(errOut, "playkey keys delete "+oldARN) {
		t.Fatalf("keys rotate: exit %d\n%s%s", code, out, errOut)
	}
	got, err := c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String(newARN)})
	if err != nil || aws.ToString(got.KeyPair.Name) != "signer" || got.KeyPair.Tags["team"] != "video" {
		t.Fatalf("the new key pair does not carry the old one's name and tags: %+v %v", got, err)
	}
	waitStatus(t, sign(newKey), 200)
	if code, body, _ := httpGet(t, sign(oldKey)); code != 200 {
		t.Fatalf("the old key stopped verifying before it was deleted: %d %s", code, body)
	}

	// Rotate again, deleting the replaced key: its tokens no longer start playback, a
	// session it started keeps playing, the newest key plays.
	newerKey := filepath.Join(dir, "newer.pem")
	out, errOut, code = runCmd(t, env, playkeyBin, "keys", "rotate", newARN, "-o", newerKey, "--delete-old-after", "0s", "--output", "json")
	newerARN := arnOf.FindString(out)
	if code != 0 || !strings.Contains(out, `"keyPair"`) || !strings.Contains(errOut, "deleted "+newARN) || newerARN == "" {
		t.Fatalf("keys rotate --delete-old-after: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := c.GetPlaybackKeyPair(ctx, &ivs.GetPlaybackKeyPairInput{Arn: aws.String(newARN)}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the replaced key pair was not deleted: %v", err)
	}
	waitStatus(t, sign(newKey), 403)
	waitStatus(t, sign(newerKey), 200)
	if code, _, _ := httpGet(t, session); code != 200 {
		t.Errorf("a session started before the rotation: %d", code)
	}
	if code, _, _ := httpGet(t, oldURL); code != 200 {
		t.Errorf("the first key, never deleted, stopped verifying: %d", code)
	}

	// Once more, waiting on the gate's metrics: while tokens signed with the replaced key
	// keep arriving, it stays; it goes --delete-old-after after the last of them.
	newestKey := filepath.Join(dir, "newest.pem")
	if _, errOut, code := runCmd(t, env, playkeyBin, "keys", "rotate", newerARN, "-o", newestKey, "--metrics-url", "http://127.0.0.1:1/metrics"); code != 2 || !strings.Contains(errOut, "--delete-old-after") {
		t.Fatalf("--metrics-url without --delete-old-after: exit %d\n%s", code, errOut)
	}
	metricsURL := metricsLine.FindStringSubmatch(s.Stdout.String())[1]
	const idle = 2 * time.Second
	rotate := exec.Command(playkeyBin, "keys", "rotate", newerARN, "-o", newestKey, "--delete-old-after", idle.String(), "--metrics-url", metricsURL)
	rotate.Env = env
	var rotateErr testenv.SyncBuffer
	rotate.Stderr = &rotateErr
	if err := rotate.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- rotate.Wait() }()
	var last time.Time
	for end := time.Now().Add(idle + 2*time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if code, body, _ := httpGet(t, sign(newerKey)); code != 200 {
			t.Fatalf("the replaced key was deleted while its tokens were in use: %d %s\n%s", code, body, rotateErr.String())
		}
		last = time.Now()
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("keys rotate --metrics-url: %v\n%s", err, rotateErr.String())
		}
	case <-time.After(time.Minute):
		rotate.Process.Kill()
		t.Fatalf("keys rotate --metrics-url still waits a minute after the key's last use:\n%s", rotateErr.String())
	}
	if gap := time.Since(last); gap < idle-500*time.Millisecond || !strings.Contains(rotateErr.String(), "deleted "+newerARN) {
		t.Fatalf("keys rotate --metrics-url returned %v after the replaced key's last use, want %v or more:\n%s", gap, idle, rotateErr.String())
	}
	waitStatus(t, sign(newerKey), 403)
	waitStatus(t, sign(newestKey), 200)
}
