package console_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
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
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/keypair"
)

func TestConsole(t *testing.T) {
	e := newEnv(t)
	goKey := newP384(t)
	extraKey := newP384(t)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fileKeyPriv, fileKeyPubPath, fileKeyPub := opensslKey(t)

	// What the steps pass on to the ones after them.
	var (
		code, text string
		createdARN string
		privData   []byte
		downloaded *ecdsa.PrivateKey
	)
	e.step(t, "sign in", func(t *testing.T) {
		e.do(chromedp.Navigate(e.url + "/console"))
		e.visible("#access-key-id")
		if loc := run(e, chromedp.Location()); loc != e.url+"/console/" {
			t.Errorf("/console led to %s, want %s/console/", loc, e.url)
		}
		e.shot("sign-in")
		e.typeInto("#access-key-id", accessKey)
		e.typeInto("#secret-access-key", "not-the-secret")
		e.click("#sign-in")
		code, text = e.errorCode("#sign-in-status")
		if code != "InvalidSignatureException" || !strings.Contains(text, "secret access key does not match") {
			t.Errorf("wrong secret: shown %s %q, want InvalidSignatureException in words", code, text)
		}
		e.shot("sign-in-error")
		if n := eval[int](e, `sessionStorage.length`); n != 0 {
			t.Errorf("a failed sign-in stored %d items", n)
		}
		e.setValue("#secret-access-key", "")
		e.typeInto("#secret-access-key", secretKey)
		e.click("#sign-in")
		e.waitText("#quota", "Quota: 0 of 3")
		e.waitText("#keys-table", "No playback keys")
		if got := e.text("#identity"); got != accessKey {
			t.Errorf("header shows %q, want the access key id", got)
		}
		if got := eval[string](e, `document.querySelector('#region').selectedOptions[0].textContent`); got != "US West (Oregon) us-west-2" {
			t.Errorf("region shown as %q", got)
		}
		e.shot("keys-empty")
		stored := eval[string](e, `sessionStorage.getItem('playkey.console.credentials') || ''`)
		if !strings.Contains(stored, secretKey) {
			t.Errorf("sessionStorage does not hold the credentials: %q", stored)
		}
		if n := eval[int](e, `localStorage.length + document.cookie.length`); n != 0 {
			t.Errorf("the console wrote to localStorage or cookies")
		}

	})
	e.step(t, "the page's SigV4 matches the AWS SDK for Go's signer", func(t *testing.T) {
		checkSigner(t, e)

	})
	e.step(t, "create a key pair in the browser", func(t *testing.T) {
		e.click("#create-key")
		e.visible("#create-dialog[open] #create-name")
		e.typeInto("#create-name", "created-key")
		e.click("#create-dialog .add-tag")
		e.typeInto("#create-dialog .tag-row:nth-child(1) .tag-key", "env")
		e.typeInto("#create-dialog .tag-row:nth-child(1) .tag-value", "test")
		e.shot("create-dialog")
		e.click("#create-submit")
		e.visible("#download-private-key")
		createdARN = e.text("#created-arn")
		createdFP := e.text("#created-fingerprint")
		if !regexp.MustCompile(`^arn:aws:ivs:us-west-2:111111111111:playback-key/[a-zA-Z0-9]+$`).MatchString(createdARN) {
			t.Errorf("created ARN %q", createdARN)
		}
		e.waitText("#create-dialog", "You cannot retrieve it later")
		e.shot("create-download")
		var name string
		name, privData = e.download("#download-private-key")
		if want := "created-key-" + createdARN[strings.LastIndex(createdARN, "/")+1:] + ".pem"; name != want {
			t.Errorf("download named %q, want %q", name, want)
		}
		e.waitText("#download-status", "Downloaded")
		e.click("#create-done")
		e.gone("#create-dialog")
		e.visible(`tr[data-name="created-key"]`)
		e.waitText("#quota", "Quota: 1 of 3")

		downloaded = checkDownloadedKey(t, e, privData, createdARN, createdFP)

	})
	e.step(t, "import: errors in words, paste, file", func(t *testing.T) {
		e.click("#import-key")
		e.visible("#import-dialog[open] #import-name")
		e.setValue("#import-material", sec1PEM(t, goKey))
		e.click("#import-submit")
		e.waitText("#import-status", "This is a private key; it was not sent.")
		e.setValue("#import-material", publicPEM(t, &p256.PublicKey))
		e.click("#import-submit")
		code, text = e.errorCode("#import-status")
		if code != "ValidationException" {
			t.Errorf("P-256 import: shown %s %q, want ValidationException", code, text)
		}
		t.Logf("P-256 import shows: %s", text)
		e.shot("import-error")
		e.setValue("#import-name", "pasted-key")
		e.setValue("#import-material", publicPEM(t, &goKey.PublicKey))
		e.shot("import-dialog")
		e.click("#import-submit")
		e.gone("#import-dialog")
		e.visible(`tr[data-name="pasted-key"]`)
		if got, want := e.text(`tr[data-name="pasted-key"] .key-fingerprint`), fingerprint(t, &goKey.PublicKey); !strings.Contains(got, want) {
			t.Errorf("pasted key fingerprint shown %q, want %q", got, want)
		}

		e.click("#import-key")
		e.visible("#import-dialog[open] #import-name")
		e.setValue("#import-name", "file-key")
		e.do(chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{fileKeyPubPath}))
		e.waitFor("the file read into the text area", `document.querySelector('#import-material').value.includes('BEGIN PUBLIC KEY')`)
		e.click("#import-submit")
		e.gone("#import-dialog")
		e.visible(`tr[data-name="file-key"]`)
		if got, want := e.text(`tr[data-name="file-key"] .key-fingerprint`), fingerprint(t, fileKeyPub); !strings.Contains(got, want) {
			t.Errorf("file key fingerprint shown %q, want %q", got, want)
		}
		e.waitText("#quota", "Quota: 3 of 3")
		e.shot("keys-three")

	})
	e.step(t, "the 4th key is refused, in words", func(t *testing.T) {
		e.click("#import-key")
		e.visible("#import-dialog[open] #import-name")
		e.waitText("#import-dialog", "already has 3 of 3 playback keys")
		e.setValue("#import-material", publicPEM(t, &extraKey.PublicKey))
		e.click("#import-submit")
		code, text = e.errorCode("#import-status")
		if code != "ServiceQuotaExceededException" || !strings.Contains(text, "at most 3 playback keys") {
			t.Errorf("4th key: shown %s %q, want ServiceQuotaExceededException in words", code, text)
		}
		e.shot("quota-error")
		if imports := e.rec.find("POST", "/ImportPlaybackKeyPair"); imports[len(imports)-1].status != http.StatusPaymentRequired {
			t.Errorf("the 4th import was answered %d, want 402", imports[len(imports)-1].status)
		}
		e.click("#import-cancel")
		e.gone("#import-dialog")

	})
	e.step(t, "tags", func(t *testing.T) {
		e.click(`tr[data-name="created-key"] .tags-button`)
		e.visible("#tags-dialog .tag-row .tag-key")
		if got := eval[string](e, `document.querySelector('#tags-dialog .tag-key').value`); got != "env" {
			t.Errorf("tags dialog shows key %q, want env", got)
		}
		e.click("#tags-dialog .add-tag")
		e.typeInto("#tags-dialog .tag-row:nth-child(2) .tag-key", "team")
		e.typeInto("#tags-dialog .tag-row:nth-child(2) .tag-value", "video/live")
		e.click("#tags-dialog .tag-row:nth-child(1) .remove-tag")
		e.shot("tags-dialog")
		e.click("#tags-submit")
		e.gone("#tags-dialog")
		e.waitText(`tr[data-name="created-key"] .key-tags`, "team = video/live")
		if got := e.text(`tr[data-name="created-key"] .key-tags`); strings.Contains(got, "env") {
			t.Errorf("removed tag still shown: %q", got)
		}
		tags, err := e.sdk.ListTagsForResource(context.Background(), &ivs.ListTagsForResourceInput{ResourceArn: aws.String(createdARN)})
		if err != nil {
			t.Fatal(err)
		}
		if len(tags.Tags) != 1 || tags.Tags["team"] != "video/live" {
			t.Errorf("the server has tags %v, want team=video/live only", tags.Tags)
		}
		tagPath := "/tags/" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(createdARN)
		if xs := e.rec.find("DELETE", tagPath); len(xs) != 1 || xs[0].rawQuery != "tagKeys=env" || xs[0].status != 200 {
			t.Errorf("UntagResource requests to %s: %+v", tagPath, xs)
		}

	})
	e.step(t, "delete with confirmation", func(t *testing.T) {
		e.click(`tr[data-name="pasted-key"] .delete-button`)
		e.visible("#delete-dialog[open] #delete-confirm")
		if !eval[bool](e, `document.querySelector('#delete-submit').disabled`) {
			t.Error("Delete is enabled before the name is typed")
		}
		e.typeInto("#delete-confirm", "pasted-k")
		if !eval[bool](e, `document.querySelector('#delete-submit').disabled`) {
			t.Error("Delete is enabled with part of the name typed")
		}
		e.typeInto("#delete-confirm", "ey")
		e.waitFor("Delete enabled", `!document.querySelector('#delete-submit').disabled`)
		e.shot("delete-dialog")
		e.click("#delete-submit")
		e.gone("#delete-dialog")
		e.gone(`tr[data-name="pasted-key"]`)
		e.waitText("#quota", "Quota: 2 of 3")
		e.shot("keys-after-delete")
		list, err := e.sdk.ListPlaybackKeyPairs(context.Background(), &ivs.ListPlaybackKeyPairsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.KeyPairs) != 2 {
			t.Errorf("the server has %d key pairs, want 2", len(list.KeyPairs))
		}

	})
	e.step(t, "closing Create before the download warns first", func(t *testing.T) {
		e.click("#create-key")
		e.visible("#create-dialog[open] #create-name")
		e.typeInto("#create-name", "unsaved-key")
		e.click("#create-submit")
		e.visible("#download-private-key")
		e.click("#create-done")
		e.waitText("#download-status", "You have not downloaded the private key")
		e.waitText("#create-done", "Close without downloading")
		e.shot("create-not-downloaded")
		e.click("#create-done")
		e.gone("#create-dialog")
		e.visible(`tr[data-name="unsaved-key"]`)
		unsaved := run(e, chromedp.AttributeValue(chromedp.CSS(`tr[data-name="unsaved-key"]`), "data-arn")).Value
		// Another client removes it; the page shows the server's state on Refresh.
		if _, err := e.sdk.DeletePlaybackKeyPair(context.Background(), &ivs.DeletePlaybackKeyPairInput{Arn: aws.String(unsaved)}); err != nil {
			t.Fatal(err)
		}
		e.click("#refresh-keys")
		e.gone(`tr[data-name="unsaved-key"]`)
		e.waitText("#quota", "Quota: 2 of 3")

	})
	e.step(t, "keyboard: open a dialog with Enter, close it with Escape, focus returns", func(t *testing.T) {
		e.do(chromedp.Focus(chromedp.CSS("#create-key")), chromedp.KeyEvent(kb.Enter))
		e.visible("#create-dialog[open]")
		if id := eval[string](e, `document.activeElement.id`); id != "create-name" {
			t.Errorf("focus in the Create dialog is on %q, want create-name", id)
		}
		e.do(chromedp.KeyEvent(kb.Escape))
		e.gone("#create-dialog")
		if id := eval[string](e, `document.activeElement.id`); id != "create-key" {
			t.Errorf("after Escape focus is on %q, want create-key", id)
		}

	})
	e.step(t, "region picker", func(t *testing.T) {
		e.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#region'); s.value = 'eu-west-1'; s.dispatchEvent(new Event('change')); })()`))
		e.waitText("#main", "Europe (Ireland) (eu-west-1)")
		e.waitText("#quota", "Quota: 0 of 3")
		e.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#region'); s.value = 'us-west-2'; s.dispatchEvent(new Event('change')); })()`))
		e.waitText("#quota", "Quota: 2 of 3")

	})
	e.step(t, "token debugger", func(t *testing.T) {
		// A private channel for the server to check tokens against: its region holds the
		// created key (downloaded) and the file key (openssl); the pasted key was deleted.
		made, err := e.sdk.CreateChannel(context.Background(), &ivs.CreateChannelInput{Name: aws.String("debugged"), Authorized: true})
		if err != nil {
			t.Fatal(err)
		}
		debugARN := aws.ToString(made.Channel.Arn)
		fileKeyARN := run(e, chromedp.AttributeValue(chromedp.CSS(`tr[data-name="file-key"]`), "data-arn")).Value
		e.click(`a[data-page="token"]`)
		e.visible("#gen-key")
		// A SEC1 key from openssl, converted to PKCS#8 in the page.
		e.setValue("#gen-key", fileKeyPriv)
		e.setValue("#gen-channel", debugARN)
		e.setValue("#gen-ttl", "300")
		e.click("details.optional-claims summary")
		e.typeInto("#gen-viewer-id", "viewer-42")
		start := time.Now()
		e.click("#gen-submit")
		e.waitFor("a generated token", `document.querySelector('#gen-output').value.split('.').length === 3`)
		tok := eval[string](e, `document.querySelector('#gen-output').value`)
		claims := verifyES384(t, tok, fileKeyPub)
		if claims["aws:channel-arn"] != debugARN || claims["aws:viewer-id"] != "viewer-42" {
			t.Errorf("claims %v", claims)
		}
		if exp, _ := claims["exp"].(float64); exp < float64(start.Unix()+298) || exp > float64(time.Now().Unix()+302) {
			t.Errorf("exp %v is not 300 s from now", claims["exp"])
		}
		e.visible("#token-verdict")
		if v := run(e, chromedp.AttributeValue(chromedp.CSS("#token-verdict"), "data-verdict")).Value; v != "ok" {
			t.Errorf("verdict %q for a good token: %s", v, e.text("#token-verdict"))
		}
		e.visible(`[data-claim="aws:viewer-id"] .badge-ok`)
		if got := e.text(`[data-claim="aws:viewer-id"]`); !strings.Contains(got, "revoked") {
			t.Errorf("viewer-id explained as %q", got)
		}
		if got := e.text("#token-expiry"); !regexp.MustCompile(`\(in [45]m\d+s\)`).MatchString(got) {
			t.Errorf("expiry shown as %q", got)
		}
		// The server's own verdict, from POST /playkey/VerifyPlaybackToken: accepted, with the key
		// that signed it.
		got := e.serverCheck("valid")
		if !strings.Contains(got, "Accepted by this server for "+debugARN) || !strings.Contains(got, "signed with "+fileKeyARN) {
			t.Errorf("the server check for a good token shows %q", got)
		}
		// Chromium paints a textarea outside the viewport empty in a full-page screenshot.
		e.do(chromedp.ScrollIntoView(chromedp.CSS("#gen-output")))
		e.shot("token-generated")

		// The server knows what the page cannot: a revocation refuses the same token.
		if _, err := e.sdk.StartViewerSessionRevocation(context.Background(), &ivs.StartViewerSessionRevocationInput{
			ChannelArn: aws.String(debugARN), ViewerId: aws.String("viewer-42"),
		}); err != nil {
			t.Fatal(err)
		}
		e.click("#decode-submit")
		if got := e.serverCheck("invalid"); !strings.Contains(got, "Rejected by this server: revoked") || !strings.Contains(got, `"viewer-42"`) {
			t.Errorf("the server check for a revoked viewer shows %q", got)
		}
		if v := run(e, chromedp.AttributeValue(chromedp.CSS("#token-verdict"), "data-verdict")).Value; v != "ok" {
			t.Errorf("the page's own checks give %q for a token only the server can refuse", v)
		}

		// The PKCS#8 key the console downloaded signs too.
		e.setValue("#gen-key", string(privData))
		e.setValue("#gen-viewer-id", "")
		e.click("#gen-submit")
		e.waitFor("a new token", fmt.Sprintf(`document.querySelector('#gen-output').value !== %q`, tok))
		tok2 := eval[string](e, `document.querySelector('#gen-output').value`)
		verifyES384(t, tok2, &downloaded.PublicKey)
		if got := e.serverCheck("valid"); !strings.Contains(got, "signed with "+createdARN) {
			t.Errorf("the server check for the downloaded key's token shows %q", got)
		}

		// playkey token sign reads the downloaded file, and the server accepts what it signs.
		cliTok := cliTokenSign(t, testenv.Playkey(t), privData, debugARN)
		verifyES384(t, cliTok, &downloaded.PublicKey)
		e.setValue("#token-input", cliTok)
		e.setValue("#token-channel", debugARN)
		e.click("#decode-submit")
		if got := e.serverCheck("valid"); !strings.Contains(got, "signed with "+createdARN) {
			t.Errorf("the server check for playkey token sign's token shows %q", got)
		}

		// Keys that cannot sign are refused in words.
		for _, c := range []struct{ pem, want string }{
			{publicPEM(t, &goKey.PublicKey), "This is a public key"},
			{sec1PEM(t, p256), "This is a P-256 key"},
			{"hello", "No PEM block found"},
		} {
			e.setValue("#gen-key", c.pem)
			e.click("#gen-submit")
			e.waitText("#gen-status", c.want)
		}

		// A well-formed token signed with a key this region no longer holds: every check the
		// page can make passes, and the server refuses it.
		unknown := signES384(t, goKey, map[string]any{"aws:channel-arn": debugARN, "exp": time.Now().Add(5 * time.Minute).Unix()})
		e.setValue("#token-input", unknown)
		e.setValue("#token-channel", debugARN)
		e.click("#decode-submit")
		if got := e.serverCheck("invalid"); !strings.Contains(got, "Rejected by this server: unknown_key") {
			t.Errorf("the server check for a token of a deleted key shows %q", got)
		}
		if v := run(e, chromedp.AttributeValue(chromedp.CSS("#token-verdict"), "data-verdict")).Value; v != "ok" {
			t.Errorf("the page's own checks give %q for a well-formed token", v)
		}
		e.shot("token-server-rejected")

		// A token made in Go, broken on purpose: the page explains why IVS would refuse it.
		bad := signES384(t, goKey, map[string]any{
			"aws:channel-arn": "arn:aws:ivs:us-west-2:111111111111:channel/otherCHANNEL",
			"exp":             time.Now().Add(time.Hour).Unix(),
			"aws:viewer-id":   "viewer-1",
			"iat":             time.Now().Unix(),
		})
		e.setValue("#token-input", bad)
		e.setValue("#token-channel", debugARN)
		e.click("#decode-submit")
		e.visible(`#token-verdict[data-verdict="rejected"]`)
		for _, code := range []string{"channel_mismatch", "exp_too_far"} {
			e.visible(fmt.Sprintf(`#token-verdict li[data-code=%q]`, code))
		}
		if got := e.text(`[data-claim="iat"]`); !strings.Contains(got, "ignored") {
			t.Errorf("iat explained as %q", got)
		}
		if got := e.serverCheck("invalid"); !strings.Contains(got, "Rejected by this server") {
			t.Errorf("the server check for a broken token shows %q", got)
		}
		e.shot("token-rejected")

		// The server is asked about the channel's own region, whatever region the page shows.
		e.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#region'); s.value = 'eu-west-1'; s.dispatchEvent(new Event('change')); })()`))
		e.waitText("#main", "Token debugger")
		e.visible("#token-input")
		e.setValue("#token-input", cliTok)
		e.setValue("#token-channel", debugARN)
		e.click("#decode-submit")
		if got := e.serverCheck("valid"); !strings.Contains(got, "signed with "+createdARN) {
			t.Errorf("with eu-west-1 chosen, the server check for a us-west-2 channel shows %q", got)
		}
		e.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#region'); s.value = 'us-west-2'; s.dispatchEvent(new Event('change')); })()`))

	})
	e.step(t, "narrow window", func(t *testing.T) {
		e.do(chromedp.EmulateViewport(360, 760))
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/keys'`))
		e.waitText("#quota", "Quota: 2 of 3")
		checkNoHorizontalScroll(t, e, "keys page")
		e.shot("keys-narrow")
		e.click("#nav-toggle")
		e.visible(`#nav a[data-page="token"]`)
		e.shot("nav-narrow")
		e.click(`#nav a[data-page="token"]`)
		e.visible("#gen-key")
		checkNoHorizontalScroll(t, e, "token page")
		e.shot("token-narrow")
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/keys'`))
		e.waitText("#quota", "Quota: 2 of 3")
		e.click("#create-key")
		e.visible("#create-dialog[open]")
		if right := eval[float64](e, `document.querySelector('#create-dialog').getBoundingClientRect().right`); right > 360 {
			t.Errorf("the dialog reaches x=%v on a 360 px window", right)
		}
		e.shot("create-narrow")
		e.click("#create-cancel")
		e.gone("#create-dialog")
		e.do(chromedp.EmulateViewport(1280, 900))

	})
	e.step(t, "sign out", func(t *testing.T) {
		e.click("#sign-out")
		e.visible("#access-key-id")
		if n := eval[int](e, `sessionStorage.length`); n != 0 {
			t.Errorf("sessionStorage holds %d items after sign-out", n)
		}
		e.shot("signed-out")
		e.click("details.paste summary")
		e.setValue("#paste-credentials", "export AWS_ACCESS_KEY_ID="+accessKey+"\nexport AWS_SECRET_ACCESS_KEY="+secretKey+"\nexport AWS_REGION=eu-west-1\n")
		if id, sec, reg := eval[string](e, `document.querySelector('#access-key-id').value`),
			eval[string](e, `document.querySelector('#secret-access-key').value`),
			eval[string](e, `document.querySelector('#sign-in-region').value`); id != accessKey || sec != secretKey || reg != "eu-west-1" {
			t.Errorf("pasting the export lines filled %q, %d secret characters, region %q", id, len(sec), reg)
		}

	})
	e.step(t, "what the server received", func(t *testing.T) {
		checkNoPrivateKeySent(t, e, downloaded)
		e.checkRequests()
		problems := e.checkBrowser()

		// The check above must be able to fail: an inline style is a CSP violation.
		e.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.createElement('style'); s.textContent = 'body { color: red }'; document.head.append(s); })()`))
		deadline := time.Now().Add(5 * time.Second)
		for {
			e.mu.Lock()
			n := len(e.problems)
			e.mu.Unlock()
			if n > problems {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("an inline style was not reported: the CSP or the console listener does not work")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// cliTokenSign writes a private key PEM to a file and signs a token for channel with
// `playkey token sign --key FILE`.
func cliTokenSign(t *testing.T, bin string, privPEM []byte, channel string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "downloaded.pem")
	if err := os.WriteFile(path, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "token", "sign", "--key", path, "--channel-arn", channel, "--ttl", "5m")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("playkey token sign --key downloaded.pem: %v\n%s", err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// checkDownloadedKey parses the downloaded private key as Go, playkey and openssl do, and
// checks that it is the private half of the public key the server holds.
func checkDownloadedKey(t *testing.T, e *env, data []byte, arn, shownFP string) *ecdsa.PrivateKey {
	t.Helper()
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("the download is not one PRIVATE KEY PEM block:\n%s", data)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if len(line) > 64 {
			t.Errorf("PEM line longer than 64 columns: %q", line)
		}
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("x509.ParsePKCS8PrivateKey: %v", err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P384() {
		t.Fatalf("the download is a %T, want an ECDSA P-384 key", k)
	}
	if _, err := keypair.ParsePrivateKeyPEM(data); err != nil {
		t.Errorf("playkey's private key parser refuses the download: %v", err)
	}
	fp := fingerprint(t, &priv.PublicKey)
	if fp != shownFP {
		t.Errorf("the downloaded key's fingerprint is %s; the page showed %s", fp, shownFP)
	}
	got, err := e.sdk.GetPlaybackKeyPair(context.Background(), &ivs.GetPlaybackKeyPairInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.KeyPair.Fingerprint) != fp {
		t.Errorf("the server's fingerprint is %s; the downloaded key's is %s", aws.ToString(got.KeyPair.Fingerprint), fp)
	}
	imports := e.rec.find("POST", "/ImportPlaybackKeyPair")
	if len(imports) != 1 {
		t.Fatalf("%d imports after Create, want 1", len(imports))
	}
	var in struct{ PublicKeyMaterial, Name string }
	if err := json.Unmarshal(imports[0].body, &in); err != nil {
		t.Fatal(err)
	}
	pb, _ := pem.Decode([]byte(in.PublicKeyMaterial))
	if pb == nil || pb.Type != "PUBLIC KEY" {
		t.Fatalf("Create imported %q", in.PublicKeyMaterial)
	}
	sent, err := x509.ParsePKIXPublicKey(pb.Bytes)
	if err != nil || !priv.PublicKey.Equal(sent) {
		t.Errorf("the imported public key is not the downloaded key's public key (%v)", err)
	}
	var out struct{ KeyPair struct{ Fingerprint string } }
	json.Unmarshal(imports[0].response, &out)
	if out.KeyPair.Fingerprint != fp {
		t.Errorf("ImportPlaybackKeyPair answered fingerprint %q, want %s", out.KeyPair.Fingerprint, fp)
	}

	path := filepath.Join(t.TempDir(), "downloaded.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := testenv.Optional(t, "openssl"); !ok {
		return priv
	}
	if out, err := exec.Command("openssl", "pkey", "-in", path, "-noout").CombinedOutput(); err != nil {
		t.Errorf("openssl pkey refuses the download: %v\n%s", err, out)
	}
	der, err := exec.Command("openssl", "pkey", "-in", path, "-pubout", "-outform", "DER").Output()
	if err != nil {
		t.Errorf("openssl pkey -pubout: %v", err)
	} else if got := md5Hex(der); got != fp {
		t.Errorf("openssl computes fingerprint %s, want %s", got, fp)
	}
	return priv
}

// checkNoPrivateKeySent looks for the private key in everything the server received:
// bodies, paths, queries and headers, as PEM, base64 of the DER, or the private scalar in
// hex, base64 and base64url (the JWK "d").
func checkNoPrivateKeySent(t *testing.T, e *env, priv *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	d, err := priv.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	needles := []string{
		"PRIVATE KEY",
		base64.StdEncoding.EncodeToString(der)[:40],
		base64.StdEncoding.EncodeToString(der)[len(base64.StdEncoding.EncodeToString(der))-40:],
		hex.EncodeToString(d),
		strings.ToUpper(hex.EncodeToString(d)),
		base64.StdEncoding.EncodeToString(d)[:32],
		base64.RawURLEncoding.EncodeToString(d)[:32],
	}
	reqs := e.rec.requests()
	if len(reqs) < 20 {
		t.Errorf("only %d requests recorded", len(reqs))
	}
	for _, x := range reqs {
		var hdr strings.Builder
		for k, vs := range x.header {
			hdr.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		hay := strings.Join([]string{string(x.body), x.path, x.rawQuery, hdr.String()}, "\n")
		unescaped, _ := url.QueryUnescape(x.rawQuery)
		hay += "\n" + unescaped
		for _, n := range needles {
			if strings.Contains(hay, n) {
				t.Errorf("%s %s carried private key material (%.12s...)", x.method, x.path, n)
			}
		}
	}
}
