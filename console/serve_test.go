package console_test

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/playkey/playkey/console"
	"github.com/playkey/playkey/internal/chromiumtest"
	"github.com/playkey/playkey/internal/testenv"
)

// servedBinary is a running `playkey serve`, started as the README's quick start does,
// with what it printed.
type servedBinary struct {
	endpoint   string // the API address, http://127.0.0.1:PORT
	consoleURL string // the console's address, as printed
	exports    string // the export lines it printed for the generated credentials
	keyID      string
}

// startServe runs `playkey serve` on a free port with an empty data directory, so that it
// generates the local credentials, and reads what it prints until it listens.
func startServe(t *testing.T, bin string) *servedBinary {
	t.Helper()
	p, endpoint := testenv.Start(t, "playkey API listening on ", bin, "serve", "--api-addr", "127.0.0.1:0", "--data", t.TempDir(), "--ingest-addr", "")
	s := &servedBinary{endpoint: endpoint}
	printed := p.Stdout.String()
	for line := range strings.Lines(printed) {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "export AWS_") {
			s.exports += l + "\n"
		}
		if v, ok := strings.CutPrefix(l, "export AWS_ACCESS_KEY_ID="); ok {
			s.keyID = v
		}
		if v, ok := strings.CutPrefix(l, "playkey console: "); ok {
			s.consoleURL = v
		}
	}
	if s.keyID == "" || !strings.Contains(s.exports, "AWS_SECRET_ACCESS_KEY=") {
		t.Fatalf("playkey serve printed no generated credentials:\n%s", printed)
	}
	if s.consoleURL != s.endpoint+console.Prefix {
		t.Errorf("playkey serve printed the console at %q; want %q, on the API address", s.consoleURL, s.endpoint+console.Prefix)
	}
	return s
}

// TestConsoleServedByBinary runs the console as a user meets it: the real binary, built
// from the repository with no front-end step, serves it on the API address; the user pastes
// the credentials serve generated and printed, creates a key pair and a private channel in
// the page, signs a token with `playkey token sign --key` and the downloaded file, and the
// token debugger reports that this server accepts it.
func TestConsoleServedByBinary(t *testing.T) {
	execPath := chromiumtest.Path(t)
	bin := testenv.Playkey(t)
	srv := startServe(t, bin)

	res, err := http.Get(srv.consoleURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") != console.ContentSecurityPolicy {
		t.Fatalf("GET %s: %d with CSP %q", srv.consoleURL, res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}

	e := &env{t: t, url: srv.endpoint, rec: &recorder{}}
	e.startBrowser(execPath)

	t.Log("== sign in with the printed credentials")
	e.do(chromedp.Navigate(srv.consoleURL))
	e.visible("#access-key-id")
	e.shot("sign-in")
	e.click("details.paste summary")
	e.setValue("#paste-credentials", srv.exports)
	e.click("#sign-in")
	e.waitText("#quota", "Quota: 0 of 3")
	if got := e.text("#identity"); got != srv.keyID {
		t.Errorf("signed in as %q, want the generated key %q", got, srv.keyID)
	}
	e.shot("keys-empty")

	t.Log("== create a key pair and download the private key")
	e.click("#create-key")
	e.visible("#create-dialog[open] #create-name")
	e.typeInto("#create-name", "laptop")
	e.click("#create-submit")
	e.visible("#download-private-key")
	keyARN := e.text("#created-arn")
	fp := e.text("#created-fingerprint")
	_, privPEM := e.download("#download-private-key")
	e.waitText("#download-status", "Downloaded")
	e.shot("key-created")
	e.click("#create-done")
	e.gone("#create-dialog")
	e.waitText("#quota", "Quota: 1 of 3")
	block, _ := pem.Decode(privPEM)
	if block == nil {
		t.Fatalf("the download is not PEM:\n%s", privPEM)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.(crypto.Signer).Public())
	if err != nil {
		t.Fatal(err)
	}
	if got := md5Hex(pubDER); got != fp {
		t.Errorf("the downloaded key's fingerprint is %s; the server answered %s", got, fp)
	}

	t.Log("== create a private channel")
	e.click(`#nav a[data-page="channels"]`)
	e.visible("#create-channel")
	e.click("#create-channel")
	e.visible("#create-channel-dialog[open] #channel-name")
	e.typeInto("#channel-name", "show")
	e.click("#channel-authorized")
	e.click("#create-channel-submit")
	e.visible("#created-channel-arn")
	channelARN := e.text("#created-channel-arn")
	if !regexp.MustCompile(`^arn:aws:ivs:us-west-2:000000000000:channel/[a-zA-Z0-9]{12}$`).MatchString(channelARN) {
		t.Fatalf("created channel %q", channelARN)
	}
	e.click("#create-channel-view")
	e.gone("#create-channel-dialog")
	e.waitText("#channel-heading", "show")
	e.visible(`#channel-authorization .badge[data-authorized="true"]`)
	id := channelARN[strings.LastIndex(channelARN, "/")+1:]
	if got, want := e.text("#channel-playback-url"), "http://127.0.0.1:8081/api/video/v1/us-west-2.000000000000.channel."+id+".m3u8"; got != want {
		t.Errorf("playback URL shown %q, want %q (the default playback gate address)", got, want)
	}
	e.shot("channel-details")

	t.Log("== playkey token sign --key downloaded.pem; the debugger asks the server")
	tok := cliTokenSign(t, bin, privPEM, channelARN)
	e.click("#test-token-link")
	e.visible("#token-input")
	if got := eval[string](e, `document.querySelector('#token-channel').value`); got != channelARN {
		t.Errorf("the debugger was opened for %q, want %q", got, channelARN)
	}
	e.setValue("#token-input", tok)
	e.click("#decode-submit")
	if got := e.serverCheck("valid"); !strings.Contains(got, "Accepted by this server for "+channelARN) || !strings.Contains(got, "signed with "+keyARN) {
		t.Errorf("the server check shows %q", got)
	}
	e.do(chromedp.ScrollIntoView(chromedp.CSS("#server-check")))
	e.shot("token-accepted")

	t.Log("== sign out")
	e.click("#sign-out")
	e.visible("#access-key-id")
	if n := eval[int](e, `sessionStorage.length + localStorage.length`); n != 0 {
		t.Errorf("%d items stored after sign-out", n)
	}
	e.checkBrowser()
	if _, err := os.Stat(filepath.Join(e.shots, "01-sign-in.png")); err != nil {
		t.Errorf("no screenshot: %v", err)
	}
}
