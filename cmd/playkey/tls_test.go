package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/chromedp/chromedp"

	"github.com/playkey/playkey/internal/chromiumtest"
	"github.com/playkey/playkey/internal/testca"
	"github.com/playkey/playkey/internal/testenv"
)

// testCA is the certificate authority of this test binary: every server certificate the
// tests give playkey comes from it, and testHTTP trusts it (and only it).
var testCA = sync.OnceValue(func() *testca.CA {
	ca, err := testca.New()
	if err != nil {
		panic(err)
	}
	return ca
})

// testHTTP is the tests' HTTP client: HTTP, and HTTPS with certificates of testCA.
var testHTTP = &http.Client{Transport: newTestTransport()}

func newTestTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: testCA().Pool()}
	return tr
}

// testServerCert writes a certificate for 127.0.0.1 from testCA, and its key, into dir.
func testServerCert(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, "tls-cert.pem"), filepath.Join(dir, "tls-key.pem")
	testCA().Issue(t, "127.0.0.1").Write(t, certPath, keyPath)
	return certPath, keyPath
}

// waitLogCount waits for p's log to hold s n times.
func waitLogCount(t *testing.T, p *testenv.Process, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(p.Stderr.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the log did not say %q %d times:\n%s", s, n, p.Stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peer GETs u with c and returns the status, the serial number of the certificate the
// server presented, and whether the request went over a connection already open.
func peer(t *testing.T, c *http.Client, u string) (int, string, bool) {
	t.Helper()
	var reused bool
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.TLS == nil {
		t.Fatalf("GET %s: not over TLS", u)
	}
	return resp.StatusCode, resp.TLS.PeerCertificates[0].SerialNumber.String(), reused
}

// segmentHalf is half the test origin's segment, in bytes.
const segmentHalf = 64 << 10

const (
	credsA = "[a]\naws_access_key_id = AKIAPLAYKEYTLSAAAAAA\naws_secret_access_key = secret-of-key-a-0123456789\naws_account_id = 111111111111\n"
	credsB = "[b]\naws_access_key_id = AKIAPLAYKEYTLSBBBBBB\naws_secret_access_key = secret-of-key-b-0123456789\naws_account_id = 222222222222\n"
)

// TestServeTLS runs `playkey serve --tls-cert --tls-key`: the AWS CLI reaches the API
// over HTTPS only when it trusts the test CA (--ca-bundle), channels' playbackUrl is
// https at the gate, which serves it over TLS, and the probes answer on both listeners.
// SIGHUP then gives new connections a renewed certificate while an open keep-alive
// connection goes on with its own and a segment in flight arrives whole; a bad
// certificate file keeps the one served; and a
// new credentials file takes effect at once: an added key works, a removed one gets
// UnrecognizedClientException.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	testenv.Need(t, "aws")
	dir := t.TempDir()
	certPath, keyPath := testServerCert(t, dir)
	caPath := testCA().WriteCA(t, dir)
	credPath := filepath.Join(dir, "credentials")
	if err := os.WriteFile(credPath, []byte(credsA), 0o600); err != nil {
		t.Fatal(err)
	}
	// The origin holds the second half of its segment until the test releases it: a
	// request in flight across SIGHUP.
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasSuffix(p, "/360p/index.m3u8"):
			io.WriteString(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST\n")
		case strings.HasSuffix(p, "/index.m3u8"):
			io.WriteString(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n")
		case strings.HasSuffix(p, "/seg0.ts"):
			w.Header().Set("Content-Type", "video/mp2t")
			w.Write(make([]byte, segmentHalf))
			http.NewResponseController(w).Flush()
			select {
			case <-release:
			case <-time.After(time.Minute): // a hang guard
			}
			w.Write(make([]byte, segmentHalf))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(origin.Close)
	s := startServer(t, filepath.Join(dir, "data"), "--tls-cert", certPath, "--tls-key", keyPath,
		"--credentials", credPath, "--origin", origin.URL+"/{channel}/index.m3u8")
	if !strings.HasPrefix(s.endpoint, "https://127.0.0.1:") {
		t.Fatalf("API endpoint %q, want https", s.endpoint)
	}
	if !strings.Contains(s.Stdout.String(), "playkey console: "+s.endpoint+"/console/") {
		t.Errorf("the console line does not name the https endpoint:\n%s", s.Stdout)
	}
	m := gateLine.FindStringSubmatch(s.Stdout.String())
	if m == nil || !strings.HasPrefix(m[1], "https://") {
		t.Fatalf("serve did not say the gate listens on https:\n%s", s.Stdout)
	}
	gateURL := m[1]

	// The AWS CLI, with both keys in its credentials file; the server knows only a's.
	env := awsEnv(t, nil)
	for _, kv := range env {
		if path, ok := strings.CutPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE="); ok {
			if err := os.WriteFile(path, []byte(credsA+credsB), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	cli := testenv.StartAWSCLI(t, env)
	aws := func(profile string, args ...string) (string, string, int) {
		t.Helper()
		return cli.Run(t, append([]string{"ivs", "--endpoint-url", s.endpoint, "--ca-bundle", caPath, "--profile", profile, "--output", "json"}, args...)...)
	}
	if _, stderr, code := cli.Run(t, "ivs", "--endpoint-url", s.endpoint, "--profile", "a", "list-channels"); code == 0 || !strings.Contains(stderr, "CERTIFICATE_VERIFY_FAILED") {
		t.Fatalf("the AWS CLI without --ca-bundle: exit %d, want a certificate verification failure:\n%s", code, stderr)
	}
	out, stderr, code := aws("a", "create-channel", "--name", "tls")
	if code != 0 {
		t.Fatalf("create-channel: exit %d\n%s", code, stderr)
	}
	var created struct{ Channel struct{ PlaybackUrl string } }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	playbackURL := created.Channel.PlaybackUrl
	if !strings.HasPrefix(playbackURL, gateURL+"/api/video/v1/us-west-2.111111111111.channel.") {
		t.Fatalf("playbackUrl %q does not point at the https gate %s", playbackURL, gateURL)
	}
	if code, body, _ := httpGet(t, playbackURL); code != 200 || !strings.Contains(body, "#EXT-X-STREAM-INF") {
		t.Fatalf("GET playbackUrl over TLS: %d\n%s", code, body)
	}
	for _, base := range []string{s.endpoint, gateURL} {
		for _, probe := range []string{"/livez", "/readyz", "/healthz"} {
			if code, body, _ := httpGet(t, base+probe); code != 200 || body != "ok\n" {
				t.Errorf("GET %s%s: %d %q", base, probe, code, body)
			}
		}
	}

	// A segment on its way when SIGHUP comes.
	_, mv, _ := httpGet(t, playbackURL)
	_, media, _ := httpGet(t, gateURL+firstURI(t, mv, "/api/video/v1/s/"))
	stream, err := (&http.Client{Transport: newTestTransport()}).Get(gateURL + firstURI(t, media, "/api/video/v1/s/"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if n, err := io.ReadFull(stream.Body, make([]byte, segmentHalf)); stream.StatusCode != 200 || err != nil {
		t.Fatalf("segment: %s, read %d bytes: %v", stream.Status, n, err)
	}

	// A renewed certificate: new connections get it, an open one keeps working.
	keep := &http.Client{Transport: newTestTransport()}
	_, first, _ := peer(t, keep, s.endpoint+"/livez")
	_, gateFirst, _ := peer(t, keep, gateURL+"/livez")
	renewed := testCA().Issue(t, "127.0.0.1", "renewed.playkey.test")
	renewed.Write(t, certPath, keyPath)
	s.Signal(syscall.SIGHUP)
	waitLogCount(t, s.Process, "SIGHUP: tls certificate reloaded", 1)
	waitLogCount(t, s.Process, "SIGHUP: credentials reloaded", 1)
	close(release)
	if rest, err := io.ReadAll(stream.Body); err != nil || len(rest) != segmentHalf {
		t.Errorf("the segment in flight across SIGHUP: %d more bytes, %v; want %d", len(rest), err, segmentHalf)
	}
	for _, base := range []string{s.endpoint, gateURL} {
		code, serial, reused := peer(t, keep, base+"/livez")
		if code != 200 || !reused || (serial != first && serial != gateFirst) {
			t.Errorf("%s over the open connection after SIGHUP: status %d, reused %v, certificate %s (before: %s)", base, code, reused, serial, first)
		}
		code, serial, reused = peer(t, &http.Client{Transport: newTestTransport()}, base+"/livez")
		if code != 200 || reused || serial != renewed.Cert.SerialNumber.String() {
			t.Errorf("%s over a new connection after SIGHUP: status %d, reused %v, certificate %s, want the renewed %s", base, code, reused, serial, renewed.Cert.SerialNumber)
		}
	}

	// A bad certificate file: the renewed certificate stays, and the log says why
	// without the file's contents.
	if err := os.WriteFile(certPath, []byte("-----BEGIN CERTIFICATE-----\nnot base64 BADCERTMARKER\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	waitLogCount(t, s.Process, "SIGHUP: reload failed; keeping the previous tls certificate", 1)
	waitLogCount(t, s.Process, "SIGHUP: credentials reloaded", 2)
	if _, serial, _ := peer(t, &http.Client{Transport: newTestTransport()}, s.endpoint+"/livez"); serial != renewed.Cert.SerialNumber.String() {
		t.Errorf("after a bad certificate file: certificate %s, want the renewed %s", serial, renewed.Cert.SerialNumber)
	}
	renewed.Write(t, certPath, keyPath)

	// New credentials: b added, a removed.
	if _, stderr, code := aws("b", "list-channels"); code == 0 || !strings.Contains(stderr, "UnrecognizedClientException") {
		t.Fatalf("key b before it was added: exit %d\n%s", code, stderr)
	}
	if err := os.WriteFile(credPath, []byte(credsB), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Signal(syscall.SIGHUP)
	waitLogCount(t, s.Process, "SIGHUP: credentials reloaded", 3)
	if _, stderr, code := aws("a", "list-channels"); code == 0 || !strings.Contains(stderr, "UnrecognizedClientException") {
		t.Errorf("removed key a: exit %d, want UnrecognizedClientException\n%s", code, stderr)
	}
	if out, stderr, code := aws("b", "create-channel", "--name", "after-reload"); code != 0 || !strings.Contains(out, "arn:aws:ivs:us-west-2:222222222222:channel/") {
		t.Errorf("added key b: exit %d\n%s%s", code, out, stderr)
	}

	logs := s.Stderr.String()
	for _, secret := range []string{"BADCERTMARKER", "PRIVATE KEY", "secret-of-key-a", "secret-of-key-b"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// TestTLSPlayer plays a live channel in hls.js (headless Chromium) through the gate over
// HTTPS. Chromium checks the gate's certificate as for any site; it is told to accept the
// test CA's key (--ignore-certificate-errors-spki-list with the CA's SPKI hash, which the
// gate's chain carries), as it would trust an installed CA.
func TestTLSPlayer(t *testing.T) {
	chromium := chromiumtest.Path(t)
	page := livePlayerServer(t)
	cert, key := testServerCert(t, t.TempDir())
	l := startLiveServer(t, "--tls-cert", cert, "--tls-key", key)
	ch, err := l.ivs.CreateChannel(context.Background(), &ivs.CreateChannelInput{Name: aws.String("tls")})
	if err != nil {
		t.Fatal(err)
	}
	src := *ch.Channel.PlaybackUrl
	if !strings.HasPrefix(src, "https://") {
		t.Fatalf("playbackUrl %s, want https", src)
	}
	publish(t, l.rtmp+"/app/"+*ch.StreamKey.Value, 60)
	waitStatus(t, src, 200)

	browser := chromiumtest.Start(t, chromium, []chromedp.ExecAllocatorOption{
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("ignore-certificate-errors-spki-list", testca.SPKIHash(testCA().Cert)),
	})
	playLive(t, browser, page.URL+"/", src)
	if n := strings.Count(l.Stderr.String(), "TLS handshake error"); n > 0 {
		t.Logf("%d TLS handshake errors in the log", n)
	}
}

// TestTLSFlagsTogether: --tls-cert without --tls-key (or the reverse) is a usage error.
func TestTLSFlagsTogether(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, _ := testServerCert(t, dir)
	var out, errb strings.Builder
	code := run(context.Background(), []string{"gate", "--data", dir, "--tls-cert", cert}, &stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 2 || !strings.Contains(errb.String(), "--tls-cert and --tls-key go together") {
		t.Errorf("exit %d, %s", code, errb.String())
	}
}

// TestGateCommandTLS: `playkey gate --tls-cert --tls-key` serves HTTPS and its probes, and
// SIGHUP renews its certificate; a gate without TLS lives through SIGHUP, with nothing to
// reload.
func TestGateCommandTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath, keyPath := testServerCert(t, dir)
	g := startGate(t, "--origin", hlsOrigin(t), "--tls-cert", certPath, "--tls-key", keyPath)
	if !strings.HasPrefix(g.url, "https://127.0.0.1:") {
		t.Fatalf("gate URL %q, want https", g.url)
	}
	for _, probe := range []string{"/livez", "/readyz"} {
		if code, body, _ := httpGet(t, g.url+probe); code != 200 || body != "ok\n" {
			t.Errorf("GET %s: %d %q", probe, code, body)
		}
	}
	renewed := testCA().Issue(t, "127.0.0.1", "renewed.playkey.test")
	renewed.Write(t, certPath, keyPath)
	g.Signal(syscall.SIGHUP)
	waitLogCount(t, g.Process, "SIGHUP: tls certificate reloaded", 1)
	if _, serial, _ := peer(t, &http.Client{Transport: newTestTransport()}, g.url+"/readyz"); serial != renewed.Cert.SerialNumber.String() {
		t.Errorf("after SIGHUP: certificate %s, want the renewed %s", serial, renewed.Cert.SerialNumber)
	}

	plain := startGate(t, "--origin", hlsOrigin(t))
	plain.Signal(syscall.SIGHUP)
	waitLogCount(t, plain.Process, "SIGHUP: nothing to reload", 1)
	if code, _, _ := httpGet(t, plain.url+"/livez"); code != 200 || plain.Exited() {
		t.Errorf("gate without TLS after SIGHUP: %d, exited %v", code, plain.Exited())
	}
}

// TestIngestRTMPSCertificate: `playkey ingest` takes RTMPS with --tls-cert/--tls-key, and
// SIGHUP gives new RTMPS connections the renewed certificate.
func TestIngestRTMPSCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath, keyPath := testServerCert(t, dir)
	p, rest := testenv.Start(t, "playkey ingest: rtmps://", playkeyBin, "ingest", "--data", dir, "--ingest-addr", "",
		"--ingest-rtmps-addr", "127.0.0.1:0", "--tls-cert", certPath, "--tls-key", keyPath)
	addr := strings.TrimSuffix(rest, "/app/{stream key}")
	serial := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: testCA().Pool()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	first := serial()
	renewed := testCA().Issue(t, "127.0.0.1")
	renewed.Write(t, certPath, keyPath)
	p.Signal(syscall.SIGHUP)
	waitLogCount(t, p, "SIGHUP: tls certificate reloaded", 1)
	if got := serial(); got != renewed.Cert.SerialNumber.String() || got == first {
		t.Errorf("RTMPS after SIGHUP: certificate %s, want the renewed %s (before: %s)", got, renewed.Cert.SerialNumber, first)
	}
}
