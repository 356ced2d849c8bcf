package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/token"
)

// TestTokenRecipes runs the token-vending recipes of docs/tokens.md, exactly as the page
// ships them, and plays each token they print through serve's gate: a recipe that stops
// working fails here before a customer copies it.
func TestTokenRecipes(t *testing.T) {
	t.Parallel()
	goTool := testenv.Need(t, "go")
	node := testenv.Need(t, "node")
	python := testenv.NeedPython(t, "joserfc")
	nodeModules, err := filepath.Abs("../../token/testdata/node/node_modules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(nodeModules, "jose", "package.json")); err != nil {
		testenv.Missing(t, "the npm package jose", "npm ci --prefix token/testdata/node (bash .ci/setup does)", err)
	}
	docs, err := filepath.Abs("../../docs/tokens")
	if err != nil {
		t.Fatal(err)
	}
	// vend.mjs imports "jose", which Node looks up beside the script: run a byte-for-byte
	// copy next to the test's Node packages.
	nodeDir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(docs, "vend.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nodeDir, "vend.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(nodeModules, filepath.Join(nodeDir, "node_modules")); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	origin := testOrigin(t)
	s := startServer(t, t.TempDir(), "--origin", origin.URL+"/{channel}/index.m3u8")
	c := sdkClient(s)
	keyFile := filepath.Join(t.TempDir(), "private.pem")
	k, err := keypair.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := keypair.WriteKeyFiles(keyFile, "", k); err != nil {
		t.Fatal(err)
	}
	pub, err := keypair.MarshalPublicKeyPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(string(pub))}); err != nil {
		t.Fatal(err)
	}
	var channels [2]struct{ arn, url string }
	for i := range channels {
		ch, err := c.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
		if err != nil {
			t.Fatal(err)
		}
		channels[i].arn, channels[i].url = *ch.Channel.Arn, *ch.Channel.PlaybackUrl
	}

	for _, r := range []struct {
		lang string
		cmd  func(args ...string) *exec.Cmd
	}{
		{"go", func(args ...string) *exec.Cmd {
			cmd := exec.Command(goTool, append([]string{"run", "."}, args...)...)
			cmd.Dir = docs
			return cmd
		}},
		{"node", func(args ...string) *exec.Cmd {
			return exec.Command(node, append([]string{filepath.Join(nodeDir, "vend.mjs")}, args...)...)
		}},
		{"python", func(args ...string) *exec.Cmd {
			return exec.Command(python, append([]string{filepath.Join(docs, "vend.py")}, args...)...)
		}},
	} {
		viewer := "viewer-" + r.lang
		out, err := r.cmd(keyFile, channels[0].arn, viewer).Output()
		if err != nil {
			t.Errorf("%s recipe: %v\n%s", r.lang, err, stderrOf(err))
			continue
		}
		tok := strings.TrimSpace(string(out))
		parsed, err := token.Parse(tok)
		if err != nil {
			t.Errorf("%s recipe printed %q: %v", r.lang, tok, err)
			continue
		}
		if parsed.Claims.ViewerID != viewer || parsed.Claims.ChannelARN != channels[0].arn {
			t.Errorf("%s recipe: claims %+v", r.lang, parsed.Claims)
		}
		if code, body, _ := httpGet(t, channels[0].url+"?token="+tok); code != 200 || !strings.HasPrefix(body, "#EXTM3U") {
			t.Errorf("%s recipe's token on its channel: %d %s", r.lang, code, body)
		}
		// The gate checks what the recipe signed: the token does not open another channel.
		if code, _, h := httpGet(t, channels[1].url+"?token="+tok); code != 403 {
			t.Errorf("%s recipe's token on another channel: %d %q, want 403", r.lang, code, h.Get("X-Playkey-Code"))
		}
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
