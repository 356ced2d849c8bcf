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
	"github.com/chromedp/cdproto/browser"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/playkey/playkey/console"
	"github.com/playkey/playkey/internal/chromiumtest"
	"github.com/playkey/playkey/internal/testenv"
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
	`(Create|Get|List|Update|Delete)PlaybackRestrictionPolic(y|ies)|StartViewerSessionRevocation|` +
	`(Get|List|Stop)Streams?|(Get|List)StreamSessions?|PutMetadata)$`)

// playbackURL is the playback gate's base URL the test API puts in channels' playbackUrl.
const playbackURL = "http://127.0.0.1:8081"

// env is the API and the console on one loopback server, and a browser driving it.
type env struct {
	t         *testing.T
	url       string
	rec       *recorder
	sdk       *ivs.Client
	dbPath    string // the server's SQLite database
	rtmp      string // the server's RTMP ingest, rtmp://HOST:PORT
	serve     *testenv.Process
	ctx       context.Context
	shots     string
	downloads string
	shotN     int

	mu       sync.Mutex
	external []string
	problems []string
	logged   []string
}

// ingestLine is where `playkey serve` says its RTMP ingest listens.
var ingestLine = regexp.MustCompile(`playkey ingest: (rtmp://\S+)/app/`)

// newEnv runs the real `playkey serve` (built with -race when the tests are) on its own data
// directory and credentials, with its RTMP ingest and gate on free ports, behind a proxy that
// records what the server receives, and starts a browser for pages under the proxy's address.
func newEnv(t *testing.T) *env {
	execPath := chromiumtest.Path(t)
	dir := t.TempDir()
	credFile := filepath.Join(dir, "credentials")
	creds := fmt.Sprintf("[console]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n", accessKey, secretKey, account)
	if err := os.WriteFile(credFile, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	serve, endpoint := testenv.Start(t, "playkey API listening on ", testenv.Playkey(t),
		"serve", "--api-addr", "127.0.0.1:0", "--data", data, "--credentials", credFile, "--playback-url", playbackURL,
		"--ingest-addr", "127.0.0.1:0", "--playback-addr", "127.0.0.1:0")
	rtmp := ingestLine.FindStringSubmatch(serve.Stdout.String())
	if rtmp == nil {
		t.Fatalf("serve did not say where its ingest listens:\n%s", serve.Stdout)
	}
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// The browser signs the Host it talks to, so the proxy passes it on unchanged.
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	e := &env{t: t, rec: &recorder{}, dbPath: filepath.Join(data, "playkey.db"), rtmp: rtmp[1], serve: serve}
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
		defer func() {
			if t.Failed() {
				e.failureReport(t, name)
			}
		}()
		f(t)
		finished = true
	})
	if !finished && !skipped {
		t.FailNow()
	}
}

// failureReport saves a screenshot of the page as a step failed, and logs the browser's
// problems so far, for the person reading the failure.
func (e *env) failureReport(t *testing.T, step string) {
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	if buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		name := "failed-" + regexp.MustCompile(`[^a-zA-Z0-9]+`).ReplaceAllString(step, "-") + ".png"
		if os.WriteFile(filepath.Join(e.shots, name), buf, 0o644) == nil {
			t.Logf("the page as the step failed: %s", filepath.Join(e.shots, name))
		}
	}
	log := e.serve.Stderr.String()
	if len(log) > 4000 {
		log = log[len(log)-4000:]
	}
	t.Logf("the end of the server's log:\n%s", log)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.problems {
		t.Logf("browser: %s", p)
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
