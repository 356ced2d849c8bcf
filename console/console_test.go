package console_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/chromedp/cdproto/browser"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/console"
	"github.com/playkey/playkey/internal/chromiumtest"
	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/sqlite"
)

const (
	accessKey = "AKIACONSOLETEST00001"
	secretKey = "console/Secret+Key/0123456789abcdefghijkl"
	account   = "111111111111"
	region    = "us-west-2"
)

// exchange is one HTTP request the server received, with its answer.
type exchange struct {
	method, path, rawQuery string
	header                 http.Header
	body                   []byte
	status                 int
	response               []byte
}

// recorder keeps every request, so the test can show what the server received.
type recorder struct {
	mu  sync.Mutex
	all []*exchange
}

type captureWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *captureWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }
func (w *captureWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			r.Body = io.NopCloser(bytes.NewReader(body))
		} else {
			r.Body = http.NoBody
		}
		x := &exchange{method: r.Method, path: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery, header: r.Header.Clone(), body: body}
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(cw, r)
		x.status = cw.status
		if !strings.HasPrefix(x.path, console.Prefix) {
			x.response = cw.buf.Bytes()
		}
		rec.mu.Lock()
		rec.all = append(rec.all, x)
		rec.mu.Unlock()
	})
}

func (rec *recorder) requests() []*exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*exchange(nil), rec.all...)
}

// find returns the requests to an API path (without query).
func (rec *recorder) find(method, path string) []*exchange {
	var out []*exchange
	for _, x := range rec.requests() {
		if x.method == method && x.path == path {
			out = append(out, x)
		}
	}
	return out
}

// apiPath matches the API calls the console makes.
var apiPath = regexp.MustCompile(`^/((Import|Get|List|Delete)PlaybackKeyPairs?|playkey/VerifyPlaybackToken|tags/[^/]+|` +
	`(Create|Get|List|Update|Delete)Channels?|(Create|Get|List|Delete)StreamKeys?|` +
	`(Create|Get|List|Update|Delete)PlaybackRestrictionPolic(y|ies)|StartViewerSessionRevocation)$`)

// playbackURL is the playback gate's base URL the test API puts in channels' playbackUrl.
const playbackURL = "http://127.0.0.1:8081"

// env is the API and the console on one loopback server, and a browser driving it.
type env struct {
	t         *testing.T
	url       string
	rec       *recorder
	sdk       *ivs.Client
	dbPath    string // the server's SQLite database
	ctx       context.Context
	shots     string
	downloads string
	shotN     int

	mu       sync.Mutex
	external []string
	problems []string
	logged   []string
}

// newEnv runs the real `playkey serve` (built with -race when the tests are) on its own data
// directory and credentials, behind a proxy that records what the server receives, and starts
// a browser for pages under the proxy's address.
func newEnv(t *testing.T) *env {
	execPath := chromiumtest.Path(t)
	dir := t.TempDir()
	credFile := filepath.Join(dir, "credentials")
	creds := fmt.Sprintf("[console]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n", accessKey, secretKey, account)
	if err := os.WriteFile(credFile, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	_, endpoint := testenv.Start(t, "playkey API listening on ", testenv.Playkey(t),
		"serve", "--api-addr", "127.0.0.1:0", "--data", data, "--credentials", credFile, "--playback-url", playbackURL)
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The browser signs the Host it talks to, so the proxy passes it on unchanged.
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	e := &env{t: t, rec: &recorder{}, dbPath: filepath.Join(data, "playkey.db")}
	srv := httptest.NewServer(e.rec.wrap(proxy))
	t.Cleanup(srv.Close)
	e.url = srv.URL

	e.sdk = ivs.New(ivs.Options{
		Region:           region,
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		RetryMaxAttempts: 1,
	})
	e.startBrowser(execPath)
	return e
}

// step runs one step of a flow as a subtest, with the env's helpers reporting to it. A step
// that stops (t.Fatal) stops the flow, since the next steps build on it.
func (e *env) step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	finished, skipped := false, false
	t.Run(name, func(t *testing.T) {
		parent := e.t
		e.t = t
		defer func() { e.t = parent; skipped = t.Skipped() }()
		f(t)
		finished = true
	})
	if !finished && !skipped {
		t.FailNow()
	}
}

// store opens the server's database beside it, for what the API does not show.
func (e *env) store() *sqlite.Store {
	e.t.Helper()
	s, err := sqlite.Open(context.Background(), e.dbPath)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s
}

// screenshotDir is the folder, named for the test, where its screenshots are written for a
// person to look at: $PLAYKEY_SCREENSHOTS/{test}, by default under the system's temporary
// directory. It outlives the test run; each run empties it first.
func screenshotDir(t *testing.T) string {
	base := os.Getenv("PLAYKEY_SCREENSHOTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "playkey-console-screenshots")
	}
	dir := filepath.Join(base, t.Name())
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startBrowser starts headless Chromium, with downloads going to e.downloads, for pages
// under e.url.
func (e *env) startBrowser(execPath string) {
	t := e.t
	e.shots = screenshotDir(t)
	t.Logf("screenshots: %s", e.shots)
	e.downloads = t.TempDir()

	e.ctx = chromiumtest.Start(t, execPath, []chromedp.ExecAllocatorOption{chromedp.WindowSize(1280, 900)},
		chromedp.WithListener(e.listen))
	e.call(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior:      browser.SetDownloadBehaviorBehaviorAllowAndName,
			DownloadPath:  e.downloads,
			EventsEnabled: new(true),
		})
		return err
	})
	e.do(chromedp.EmulateViewport(1280, 900))
}

// listen sees every event of the tab, in order. It records requests to other origins,
// and console errors, warnings, exceptions and CSP violations.
func (e *env) listen(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if !strings.HasPrefix(u, e.url+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:"+e.url+"/") {
			e.external = append(e.external, u)
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			e.problems = append(e.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		e.problems = append(e.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, text))
	case *cdplog.EventEntryAdded:
		en := ev.Entry
		if en.Level != cdplog.EntryLevelError && en.Level != cdplog.EntryLevelWarning {
			return
		}
		// The browser logs every API answer of 400 and above as a failed resource load. The
		// flows provoke those on purpose (bad secret, quota...) and check them on the page;
		// a failed load of the console's own files is a fault.
		if u, err := url.Parse(en.URL); en.Source == cdplog.EntrySourceNetwork && err == nil && apiPath.MatchString(u.Path) {
			e.logged = append(e.logged, en.Text)
			return
		}
		e.problems = append(e.problems, fmt.Sprintf("log %s/%s: %s (%s)", en.Source, en.Level, en.Text, en.URL))
	}
}

func (e *env) call(f func(ctx context.Context) error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) do(actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		e.t.Fatalf("browser: %v", err)
	}
}

func run[T any](e *env, a chromedp.Action[T]) T {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		e.t.Fatalf("browser: %v", err)
	}
	return v
}

func eval[T any](e *env, expr string) T {
	e.t.Helper()
	return run(e, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

func (e *env) click(sel string) {
	e.t.Helper()
	e.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (e *env) typeInto(sel, text string) {
	e.t.Helper()
	e.do(chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// setValue sets a control's value as a paste would, firing input and change.
func (e *env) setValue(sel, value string) {
	e.t.Helper()
	e.do(chromedp.WaitReady(chromedp.CSS(sel)))
	s, _ := json.Marshal(sel)
	v, _ := json.Marshal(value)
	if !eval[bool](e, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		el.value = %s;
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
		return el.value === %s;
	})()`, s, v, v)) {
		e.t.Fatalf("could not set the value of %s", sel)
	}
}

func (e *env) visible(sel string) {
	e.t.Helper()
	e.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (e *env) gone(sel string) {
	e.t.Helper()
	e.do(chromedp.WaitNotPresent(chromedp.CSS(sel)))
}

func (e *env) text(sel string) string {
	e.t.Helper()
	return run(e, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// waitFor polls a JavaScript predicate until it is true.
func (e *env) waitFor(what, expr string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		e.t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

// waitText waits until the visible text of sel contains want.
func (e *env) waitText(sel, want string) {
	e.t.Helper()
	e.waitFor(fmt.Sprintf("%q in %s", want, sel), fmt.Sprintf(
		`(() => { const el = document.querySelector(%q); return !!el && el.innerText.includes(%q); })()`, sel, want))
}

// errorCode waits for an API error shown inside sel and returns its code and text.
func (e *env) errorCode(sel string) (code, text string) {
	e.t.Helper()
	q := sel + " [data-error-code]"
	e.visible(q)
	code = run(e, chromedp.AttributeValue(chromedp.CSS(q), "data-error-code")).Value
	return code, e.text(q)
}

func (e *env) shot(name string) {
	e.t.Helper()
	e.shotN++
	buf := run(e, chromedp.FullScreenshot(100))
	p := filepath.Join(e.shots, fmt.Sprintf("%02d-%s.png", e.shotN, name))
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// download clicks sel and returns the name the page suggested and the file's content.
func (e *env) download(sel string) (string, []byte) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	begin := chromedp.Events(ctx, browser.DownloadWillBegin)
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	e.click(sel)
	var name, guid string
	for ev, err := range begin {
		if err != nil {
			e.t.Fatalf("waiting for the download: %v", err)
		}
		name, guid = ev.SuggestedFilename, ev.GUID
		break
	}
	for ev, err := range progress {
		if err != nil {
			e.t.Fatalf("waiting for the download to finish: %v", err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			e.t.Fatal("the download was cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(e.downloads, guid))
	if err != nil {
		e.t.Fatal(err)
	}
	return name, data
}

// Keys made without the console, to import and to sign with.

func newP384(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicPEM(t *testing.T, pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func sec1PEM(t *testing.T, k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// fingerprint is the IVS fingerprint: MD5 of the DER SubjectPublicKeyInfo, hex pairs
// joined by ':'.
func fingerprint(t *testing.T, pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return md5Hex(der)
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	parts := make([]string, len(sum))
	for i, c := range sum {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

// opensslKey makes a P-384 key with openssl, as the README tells users to, and returns the
// SEC1 private PEM, the public PEM path, and the public key.
func opensslKey(t *testing.T) (privPEM string, pubPath string, pub *ecdsa.PublicKey) {
	dir := t.TempDir()
	privPath := filepath.Join(dir, "priv.pem")
	pubPath = filepath.Join(dir, "public.pem")
	if _, ok := testenv.Optional(t, "openssl"); !ok {
		t.Log("making the file-import key with Go instead")
		k := newP384(t)
		os.WriteFile(privPath, []byte(sec1PEM(t, k)), 0o600)
		os.WriteFile(pubPath, []byte(publicPEM(t, &k.PublicKey)), 0o644)
		return sec1PEM(t, k), pubPath, &k.PublicKey
	}
	for _, args := range [][]string{
		{"ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", privPath},
		{"ec", "-in", privPath, "-pubout", "-out", pubPath},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", args[0], err, out)
		}
	}
	privData, _ := os.ReadFile(privPath)
	pubData, _ := os.ReadFile(pubPath)
	b, _ := pem.Decode(pubData)
	if b == nil {
		t.Fatal("openssl wrote no public PEM")
	}
	p, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return string(privData), pubPath, p.(*ecdsa.PublicKey)
}

// verifyES384 checks a compact JWS with crypto/ecdsa, independently of the page, and
// returns its claims.
func verifyES384(t *testing.T, token string, pub *ecdsa.PublicKey) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if header["alg"] != "ES384" {
		t.Errorf("alg %v, want ES384", header["alg"])
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 96 {
		t.Fatalf("signature: %d bytes, %v; want 96 bytes of r||s", len(sig), err)
	}
	digest := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		t.Fatal("the token's signature does not verify with the expected public key")
	}
	return claims
}

// signES384 makes a token in Go, for the page to decode.
func signES384(t *testing.T, k *ecdsa.PrivateKey, claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES384","typ":"JWT"}`))
	c, _ := json.Marshal(claims)
	input := h + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha512.Sum384([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

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

// serverCheck waits for the token debugger's server check to reach state (valid or invalid),
// and returns its text. It fails the test on any other final state.
func (e *env) serverCheck(state string) string {
	e.t.Helper()
	e.waitFor("the server check", `(() => { const p = document.querySelector('#server-check'); return !!p && p.dataset.state !== 'pending'; })()`)
	got := run(e, chromedp.AttributeValue(chromedp.CSS("#server-check"), "data-state")).Value
	text := e.text("#server-check")
	if got != state {
		e.t.Fatalf("the server check is %q, want %q: %s", got, state, text)
	}
	if e.sdk != nil && len(e.rec.find("POST", "/playkey/VerifyPlaybackToken")) == 0 {
		e.t.Fatal("the server check made no VerifyPlaybackToken call")
	}
	return text
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

// checkRequests checks what the server received: the console only reads its own files,
// and every API call is signed with SigV4.
func (e *env) checkRequests() {
	t := e.t
	t.Helper()
	for _, x := range e.rec.requests() {
		if strings.HasPrefix(x.path, console.Prefix) || x.path == "/console" {
			if x.method != http.MethodGet {
				t.Errorf("%s %s: the console only reads its files", x.method, x.path)
			}
			continue
		}
		// The SDK and the Go test make signed calls too, all with the same key.
		if auth := x.header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+accessKey+"/") {
			t.Errorf("%s %s reached the API without a SigV4 signature", x.method, x.path)
		}
	}
}

// checkBrowser fails the test for requests to other origins and for console errors,
// warnings, exceptions and CSP violations seen so far. It returns the number of problems.
func (e *env) checkBrowser() int {
	t := e.t
	t.Helper()
	e.mu.Lock()
	external, problems, logged := e.external, e.problems, e.logged
	e.mu.Unlock()
	if len(external) > 0 {
		t.Errorf("requests to other origins: %q", external)
	}
	if len(problems) > 0 {
		t.Errorf("console errors, warnings or CSP violations:\n%s", strings.Join(problems, "\n"))
	}
	t.Logf("%d API errors the flows provoked were logged by the browser", len(logged))
	return len(problems)
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

func checkNoHorizontalScroll(t *testing.T, e *env, what string) {
	t.Helper()
	w := eval[int](e, `document.documentElement.scrollWidth`)
	if w > 360 {
		t.Errorf("%s is %d px wide on a 360 px window", what, w)
	}
}

// checkSigner signs the same requests with the page's sigv4.js and with the AWS SDK for
// Go's signer, an implementation no one here wrote, and compares the Authorization.
func checkSigner(t *testing.T, e *env) {
	t.Helper()
	when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	arn := "arn:aws:ivs:us-west-2:111111111111:playback-key/abcdEFGH1234"
	escaped := strings.NewReplacer(":", "%3A", "/", "%2F").Replace(arn)
	cases := []struct {
		method, path string
		query        [][2]string
		body         string
	}{
		{"POST", "/ListPlaybackKeyPairs", nil, `{"maxResults":1}`},
		{"GET", "/tags/" + escaped, nil, ""},
		{"POST", "/tags/" + escaped, nil, `{"tags":{"team":"video/live é"}}`},
		{"DELETE", "/tags/" + escaped, [][2]string{{"tagKeys", "team"}, {"tagKeys", "a b+c/d=é@"}, {"tagKeys", "Z~"}}, ""},
	}
	for _, c := range cases {
		var qs []string
		for _, p := range c.query {
			qs = append(qs, url.QueryEscape(p[0])+"="+strings.ReplaceAll(url.QueryEscape(p[1]), "+", "%20"))
		}
		u := "http://127.0.0.1:8080" + c.path
		if len(qs) > 0 {
			u += "?" + strings.Join(qs, "&")
		}
		req, err := http.NewRequest(c.method, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256([]byte(c.body))
		err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
			req, hex.EncodeToString(sum[:]), "ivs", region, when)
		if err != nil {
			t.Fatal(err)
		}
		want := req.Header.Get("Authorization")

		query, _ := json.Marshal(c.query)
		if c.query == nil {
			query = []byte("[]")
		}
		js := fmt.Sprintf(`import('/console/js/sigv4.js').then((m) => m.sign({
			method: %q, host: '127.0.0.1:8080', path: %q, query: %s, contentType: 'application/json',
			body: %q, region: %q, accessKeyId: %q, secretAccessKey: %q, date: new Date(%d),
		})).then((h) => h.authorization)`, c.method, c.path, query, c.body, region, accessKey, secretKey, when.UnixMilli())
		got := eval[string](e, js)
		if got != want {
			t.Errorf("%s %s: the page signs\n%s\nthe AWS SDK signs\n%s", c.method, c.path, got, want)
		}
	}
}

// signIn signs in through the page and waits for the default page.
func (e *env) signIn() {
	e.t.Helper()
	e.do(chromedp.Navigate(e.url + "/console/"))
	e.visible("#access-key-id")
	e.typeInto("#access-key-id", accessKey)
	e.typeInto("#secret-access-key", secretKey)
	e.click("#sign-in")
	e.visible("#identity")
	e.waitText("#identity", accessKey)
}

// clipboard returns the text on the clipboard, as the page can read it.
func (e *env) clipboard() string {
	e.t.Helper()
	return eval[string](e, `navigator.clipboard.readText()`)
}

// rowsARNs returns the data-arn of the rows of the channels table.
func (e *env) rowsARNs() []string {
	e.t.Helper()
	var arns []string
	s := eval[string](e, `JSON.stringify([...document.querySelectorAll('#channels tbody tr')].map((r) => r.dataset.arn))`)
	if err := json.Unmarshal([]byte(s), &arns); err != nil {
		e.t.Fatal(err)
	}
	return arns
}

func TestConsoleChannels(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.call(func(ctx context.Context) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			_, err := chromedp.Call(ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    browser.PermissionSettingGranted,
				Origin:     e.url,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})

	// Another client made ten channels and two policies before the user arrives.
	var others []string
	for i, name := range []string{"lobby", "keynote", "stage-a", "stage-b", "backstage", "q-and-a", "sports-live", "music-hall", "town-hall", "webinar"} {
		in := &ivs.CreateChannelInput{Name: aws.String(name), Authorized: i%3 == 0}
		if i%2 == 1 {
			in.LatencyMode = ivstypes.ChannelLatencyModeNormalLatency
		}
		if i%4 == 2 {
			in.Type = ivstypes.ChannelTypeBasicChannelType
		}
		out, err := e.sdk.CreateChannel(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, aws.ToString(out.Channel.Arn))
	}
	geo, err := e.sdk.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{
		Name: aws.String("us-only"), AllowedCountries: []string{"US"},
	})
	if err != nil {
		t.Fatal(err)
	}
	doomed, err := e.sdk.CreatePlaybackRestrictionPolicy(ctx, &ivs.CreatePlaybackRestrictionPolicyInput{Name: aws.String("doomed")})
	if err != nil {
		t.Fatal(err)
	}
	geoARN, doomedARN := aws.ToString(geo.PlaybackRestrictionPolicy.Arn), aws.ToString(doomed.PlaybackRestrictionPolicy.Arn)

	e.step(t, "the list", func(t *testing.T) {
		e.signIn()
		e.click(`#nav a[data-page="channels"]`)
		e.waitFor("ten rows", `document.querySelectorAll('#channels tbody tr').length === 10`)
		if cur := run(e, chromedp.AttributeValue(chromedp.CSS(`#nav a[data-page="channels"]`), "aria-current")).Value; cur != "page" {
			t.Errorf("the Channels nav link has aria-current %q", cur)
		}
		row := `#channels tr[data-name="lobby"]`
		if got := e.text(row + " .channel-auth"); got != "Private" {
			t.Errorf("lobby (authorized) shown as %q", got)
		}
		if got := e.text(`#channels tr[data-name="keynote"] .channel-auth`); got != "Public" {
			t.Errorf("keynote (public) shown as %q", got)
		}
		if got := run(e, chromedp.AttributeValue(chromedp.CSS(`#channels tr[data-name="keynote"] .channel-latency`), "data-value")).Value; got != "NORMAL" {
			t.Errorf("keynote latency %q, want NORMAL", got)
		}
		if got := run(e, chromedp.AttributeValue(chromedp.CSS(`#channels tr[data-name="stage-a"] .channel-type`), "data-value")).Value; got != "BASIC" {
			t.Errorf("stage-a type %q, want BASIC", got)
		}
		if got := e.text(row + " .channel-arn"); got != others[0] {
			t.Errorf("lobby ARN shown %q, want %q", got, others[0])
		}
		e.shot("channels-list")

	})
	e.step(t, "keyboard: Create opens with Enter, Escape closes, focus returns", func(t *testing.T) {
		e.do(chromedp.Focus(chromedp.CSS("#create-channel")), chromedp.KeyEvent(kb.Enter))
		e.visible("#create-channel-dialog[open]")
		if id := eval[string](e, `document.activeElement.id`); id != "channel-name" {
			t.Errorf("focus in the Create channel dialog is on %q, want channel-name", id)
		}
		e.do(chromedp.KeyEvent(kb.Escape))
		e.gone("#create-channel-dialog")
		if id := eval[string](e, `document.activeElement.id`); id != "create-channel" {
			t.Errorf("after Escape focus is on %q, want create-channel", id)
		}

	})
	// What the steps pass on to the ones after them.
	var (
		arn, id, streamKey, wantURL string
		ch                          *ivstypes.Channel
		chARN                       playkey.ARN
	)
	e.step(t, "create a private channel", func(t *testing.T) {
		e.click("#create-channel")
		e.visible("#create-channel-dialog[open] #channel-name")
		e.typeInto("#channel-name", "private-show")
		e.click("#channel-authorized")
		// No playback key in the region yet: a private channel could not play.
		e.waitText("#channel-keys-note", "This region has no playback keys")
		e.click("#channel-latency-NORMAL")
		e.click("#channel-type-ADVANCED_HD")
		e.visible("#channel-preset")
		e.setValue("#channel-preset", "CONSTRAINED_BANDWIDTH_DELIVERY")
		e.waitFor("the policies", `!document.querySelector('#channel-policy').disabled && document.querySelector('#channel-policy').options.length === 3`)
		e.setValue("#channel-policy", doomedARN)
		e.click("#create-channel-dialog .add-tag")
		e.typeInto("#create-channel-dialog .tag-row:nth-child(1) .tag-key", "env")
		e.typeInto("#create-channel-dialog .tag-row:nth-child(1) .tag-value", "test")
		e.shot("channel-create-dialog")
		// Another client deletes the chosen policy: the server's refusal is shown in words.
		if _, err := e.sdk.DeletePlaybackRestrictionPolicy(ctx, &ivs.DeletePlaybackRestrictionPolicyInput{Arn: aws.String(doomedARN)}); err != nil {
			t.Fatal(err)
		}
		e.click("#create-channel-submit")
		code, text := e.errorCode("#create-channel-status")
		if code != "ResourceNotFoundException" || !strings.Contains(text, "does not exist") {
			t.Errorf("creating with a deleted policy: shown %s %q, want ResourceNotFoundException in words", code, text)
		}
		e.shot("channel-create-error")
		e.setValue("#channel-policy", geoARN)
		e.click("#create-channel-submit")
		e.visible("#created-stream-key")
		arn = e.text("#created-channel-arn")
		if !regexp.MustCompile(`^arn:aws:ivs:us-west-2:111111111111:channel/[a-zA-Z0-9]{12}$`).MatchString(arn) {
			t.Fatalf("created channel ARN %q", arn)
		}
		id = arn[strings.LastIndex(arn, "/")+1:]
		got, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		ch = got.Channel
		if !ch.Authorized || aws.ToString(ch.Name) != "private-show" || ch.LatencyMode != ivstypes.ChannelLatencyModeNormalLatency ||
			ch.Type != ivstypes.ChannelTypeAdvancedHDChannelType || ch.Preset != ivstypes.TranscodePresetConstrainedBandwidthTranscodePreset ||
			aws.ToString(ch.PlaybackRestrictionPolicyArn) != geoARN || ch.Tags["env"] != "test" || len(ch.Tags) != 1 {
			t.Errorf("the server has the channel as authorized=%v name=%q latency=%s type=%s preset=%s policy=%q tags=%v",
				ch.Authorized, aws.ToString(ch.Name), ch.LatencyMode, ch.Type, ch.Preset, aws.ToString(ch.PlaybackRestrictionPolicyArn), ch.Tags)
		}
		keys, err := e.sdk.ListStreamKeys(ctx, &ivs.ListStreamKeysInput{ChannelArn: aws.String(arn)})
		if err != nil || len(keys.StreamKeys) != 1 {
			t.Fatalf("ListStreamKeys: %v, %d keys", err, len(keys.StreamKeys))
		}
		sk, err := e.sdk.GetStreamKey(ctx, &ivs.GetStreamKeyInput{Arn: keys.StreamKeys[0].Arn})
		if err != nil {
			t.Fatal(err)
		}
		streamKey = aws.ToString(sk.StreamKey.Value)
		if got := e.text("#created-stream-key"); got != streamKey || !strings.HasPrefix(got, "sk_us-west-2_") {
			t.Errorf("the stream key shown is %q, the server's %q", got, streamKey)
		}
		if got, want := e.text("#created-ingest-server"), "rtmps://"+aws.ToString(ch.IngestEndpoint)+":443/app/"; got != want {
			t.Errorf("ingest server shown %q, want %q", got, want)
		}
		e.waitText("#create-channel-dialog", "playkey does not ingest video")
		e.click("#copy-created-stream-key")
		e.waitText("#copy-created-stream-key", "Copied")
		if got := e.clipboard(); got != streamKey {
			t.Errorf("the clipboard holds %q after copying the stream key", got)
		}
		e.shot("channel-stream-key")
		// The list behind the dialog shows the new channel; the form sent authorized itself.
		creates := e.rec.find("POST", "/CreateChannel")
		var sent map[string]any
		if err := json.Unmarshal(creates[len(creates)-1].body, &sent); err != nil || sent["authorized"] != true {
			t.Errorf("CreateChannel was sent %s", creates[len(creates)-1].body)
		}

	})
	e.step(t, "details", func(t *testing.T) {
		e.click("#create-channel-view")
		e.gone("#create-channel-dialog")
		e.waitText("#channel-heading", "private-show")
		if loc := eval[string](e, `location.hash`); loc != "#/channels/"+id {
			t.Errorf("View channel led to %s", loc)
		}
		wantURL = aws.ToString(ch.PlaybackUrl)
		if !strings.HasPrefix(wantURL, playbackURL+"/api/video/v1/us-west-2.111111111111.channel."+id) {
			t.Errorf("the API's playback URL is %q", wantURL)
		}
		if got := e.text("#channel-playback-url"); got != wantURL {
			t.Errorf("playback URL shown %q, the API's is %q", got, wantURL)
		}
		if v := run(e, chromedp.AttributeValue(chromedp.CSS("#channel-authorization .badge"), "data-authorized")).Value; v != "true" {
			t.Errorf("the details show authorized=%s", v)
		}
		for sel, want := range map[string]string{
			"#channel-type-value":    "ADVANCED_HD",
			"#channel-latency-value": "NORMAL",
			"#channel-preset-value":  "CONSTRAINED_BANDWIDTH_DELIVERY",
		} {
			if got := run(e, chromedp.AttributeValue(chromedp.CSS(sel), "data-value")).Value; got != want {
				t.Errorf("%s is %q, want %q", sel, got, want)
			}
		}
		e.waitText("#channel-policy-value", "us-only")
		e.waitText("#channel-tag-list", "env = test")
		e.waitText("#channel-playback", "This region has no playback keys")
		// The stream key is masked until shown.
		if got := e.text("#channel-stream-key"); strings.Contains(got, streamKey) {
			t.Error("the stream key is shown before Show is pressed")
		}
		e.click("#show-stream-key")
		e.waitText("#channel-stream-key", streamKey)
		e.click("#show-stream-key")
		e.click("#copy-playback-url")
		e.waitText("#copy-playback-url", "Copied")
		if got := e.clipboard(); got != wantURL {
			t.Errorf("the clipboard holds %q after copying the playback URL", got)
		}
		e.shot("channel-details")

	})
	e.step(t, "make it public, then private again", func(t *testing.T) {
		e.click("#toggle-authorization")
		e.visible("#authorization-dialog[open]")
		e.waitText("#authorization-dialog", "Anyone with the playback URL")
		e.shot("channel-make-public")
		e.click("#authorization-submit")
		e.gone("#authorization-dialog")
		e.visible(`#channel-authorization .badge[data-authorized="false"]`)
		e.waitText("#channel-status", "is now public")
		if id := eval[string](e, `document.activeElement.id`); id != "toggle-authorization" {
			t.Errorf("after the change focus is on %q, want toggle-authorization", id)
		}
		if got, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)}); err != nil || got.Channel.Authorized {
			t.Errorf("after Make public the server has authorized=%v (%v)", got != nil && got.Channel.Authorized, err)
		}
		updates := e.rec.find("POST", "/UpdateChannel")
		if len(updates) != 1 || !bytes.Contains(updates[0].body, []byte(`"authorized":false`)) {
			t.Errorf("UpdateChannel was sent %q; it must carry authorized:false", updates[0].body)
		}
		e.click("#toggle-authorization")
		e.visible("#authorization-dialog[open]")
		e.click("#authorization-submit")
		e.gone("#authorization-dialog")
		e.visible(`#channel-authorization .badge[data-authorized="true"]`)
		if got, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)}); err != nil || !got.Channel.Authorized {
			t.Errorf("after Make private the server has authorized=false (%v)", err)
		}

	})
	e.step(t, "revoke a viewer's sessions", func(t *testing.T) {
		var err error
		chARN, err = playkey.ParseARN("arn", arn)
		if err != nil {
			t.Fatal(err)
		}
		before := len(e.rec.find("POST", "/StartViewerSessionRevocation"))
		e.click("#revoke-submit")
		e.waitText("#revoke-status", "Enter the viewer ID")
		e.setValue("#revoke-viewer-id", strings.Repeat("v", 41))
		e.click("#revoke-submit")
		e.waitText("#revoke-status", "at most 40 characters")
		e.setValue("#revoke-viewer-id", "viewer-7")
		e.setValue("#revoke-version", "-1")
		e.click("#revoke-submit")
		e.waitText("#revoke-status", "whole number from 0 to 2147483647")
		if n := len(e.rec.find("POST", "/StartViewerSessionRevocation")); n != before {
			t.Errorf("%d revocations sent for invalid input", n-before)
		}
		e.setValue("#revoke-version", "3")
		e.click("#revoke-submit")
		e.visible("#revoke-done")
		e.waitText("#revoke-done", "Sessions of viewer viewer-7 revoked")
		if v, ok, err := e.store().ViewerRevocation(ctx, chARN, "viewer-7"); err != nil || !ok || v != 3 {
			t.Errorf("the store has the revocation of viewer-7 as %d, %v, %v; want 3", v, ok, err)
		}
		e.do(chromedp.ScrollIntoView(chromedp.CSS("#channel-revoke")))
		e.shot("channel-revoked")

	})
	e.step(t, "tags", func(t *testing.T) {
		e.click("#manage-channel-tags")
		e.visible("#tags-dialog .tag-row .tag-key")
		e.click("#tags-dialog .add-tag")
		e.typeInto("#tags-dialog .tag-row:nth-child(2) .tag-key", "team")
		e.typeInto("#tags-dialog .tag-row:nth-child(2) .tag-value", "live")
		e.click("#tags-submit")
		e.gone("#tags-dialog")
		e.waitText("#channel-tag-list", "team = live")
		if tags, err := e.sdk.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}); err != nil ||
			len(tags.Tags) != 2 || tags.Tags["team"] != "live" {
			t.Errorf("the server has tags %v (%v)", tags.Tags, err)
		}

	})
	e.step(t, "test a token for this channel", func(t *testing.T) {
		e.click("#test-token-link")
		e.visible("#gen-channel")
		for _, sel := range []string{"#gen-channel", "#token-channel"} {
			if got := eval[string](e, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != arn {
				t.Errorf("%s holds %q, want the channel ARN", sel, got)
			}
		}
		e.do(chromedp.NavigateBack())
		e.waitText("#channel-heading", "private-show")

	})
	e.step(t, "paging", func(t *testing.T) {
		e.click(`.breadcrumbs a[href="#/channels"]`)
		e.waitText("#channels-count", "(10+)")
		page1 := e.rowsARNs()
		e.click("#channels-next")
		e.waitText("#channels-page", "Page 2")
		e.waitText("#channels-count", "(11)")
		page2 := e.rowsARNs()
		if len(page1) != 10 || len(page2) != 1 || !eval[bool](e, `document.querySelector('#channels-next').disabled`) {
			t.Errorf("pages of %d and %d channels", len(page1), len(page2))
		}
		all, err := e.sdk.ListChannels(ctx, &ivs.ListChannelsInput{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, c := range all.Channels {
			want[aws.ToString(c.Arn)] = true
		}
		for _, a := range append(page1, page2...) {
			if !want[a] {
				t.Errorf("the pages show %s, which the server does not list, or twice", a)
			}
			delete(want, a)
		}
		if len(want) != 0 {
			t.Errorf("the pages miss %v", want)
		}
		e.click("#channels-prev")
		e.waitText("#channels-page", "Page 1")
		e.waitFor("page 1 again", `document.querySelectorAll('#channels tbody tr').length === 10`)

	})
	e.step(t, "a link to a channel works in a fresh page", func(t *testing.T) {
		e.do(chromedp.Navigate(e.url + "/console/#/channels/" + id))
		e.waitText("#channel-heading", "private-show")
		e.waitText("#channel-playback-url", wantURL)

	})
	e.step(t, "narrow window", func(t *testing.T) {
		e.do(chromedp.EmulateViewport(360, 760))
		e.waitText("#channel-heading", "private-show")
		checkNoHorizontalScroll(t, e, "channel details")
		e.shot("channel-details-narrow")
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/channels'`))
		e.waitFor("the rows", `document.querySelectorAll('#channels tbody tr').length === 10`)
		checkNoHorizontalScroll(t, e, "channels list")
		e.shot("channels-narrow")
		e.click("#create-channel")
		e.visible("#create-channel-dialog[open]")
		if right := eval[float64](e, `document.querySelector('#create-channel-dialog').getBoundingClientRect().right`); right > 360 {
			t.Errorf("the Create channel dialog reaches x=%v on a 360 px window", right)
		}
		e.click("#create-channel-cancel")
		e.gone("#create-channel-dialog")
		e.do(chromedp.EmulateViewport(1280, 900))

	})
	e.step(t, "delete with confirmation", func(t *testing.T) {
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/channels/` + id + `'`))
		e.waitText("#channel-heading", "private-show")
		e.click("#delete-channel")
		e.visible("#delete-channel-dialog[open] #delete-channel-confirm")
		e.typeInto("#delete-channel-confirm", "private-sho")
		if !eval[bool](e, `document.querySelector('#delete-channel-submit').disabled`) {
			t.Error("Delete is enabled with part of the name typed")
		}
		e.typeInto("#delete-channel-confirm", "w")
		e.waitFor("Delete enabled", `!document.querySelector('#delete-channel-submit').disabled`)
		e.shot("channel-delete")
		e.click("#delete-channel-submit")
		e.gone("#delete-channel-dialog")
		e.waitText("#channels-status", "Channel private-show deleted")
		if loc := eval[string](e, `location.hash`); loc != "#/channels" {
			t.Errorf("after Delete the page is %s", loc)
		}
		var nf *ivstypes.ResourceNotFoundException
		if _, err := e.sdk.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String(arn)}); !errors.As(err, &nf) {
			t.Errorf("GetChannel after Delete: %v, want ResourceNotFoundException", err)
		}
		if _, ok, err := e.store().ViewerRevocation(ctx, chARN, "viewer-7"); err != nil || ok {
			t.Errorf("the revocation outlived its channel (%v)", err)
		}
		e.do(chromedp.Evaluate[chromedp.Void](`location.hash = '#/channels/` + id + `'`))
		e.waitText("#channel-heading", "Channel not found")
		e.waitText("#channel-details", "There is no channel "+id)

	})
	e.step(t, "what the server received", func(t *testing.T) {
		e.checkRequests()
		// The only API error the page met is the one provoked on purpose.
		for _, x := range e.rec.requests() {
			if strings.Contains(x.header.Get("User-Agent"), "aws-sdk-go") {
				continue
			}
			if x.status >= 400 && !(x.path == "/CreateChannel" && x.status == http.StatusNotFound) {
				t.Errorf("%s %s answered %d: %s", x.method, x.path, x.status, x.response)
			}
		}
		e.checkBrowser()
	})
}
