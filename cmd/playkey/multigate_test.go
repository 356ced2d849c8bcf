package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/postgres/pgtest"
	"github.com/playkey/playkey/token"
)

// gateNode is a running `playkey gate` process.
type gateNode struct {
	*testenv.Process
	url string
}

// startGate starts `playkey gate` on a free port and waits until it listens.
func startGate(t *testing.T, extra ...string) *gateNode {
	t.Helper()
	args := append([]string{"gate", "--playback-addr", "127.0.0.1:0", "--data", t.TempDir()}, extra...)
	p, url := testenv.Start(t, "playkey gate listening on ", playkeyBin, args...)
	return &gateNode{Process: p, url: url}
}

// hlsOrigin is a test HLS origin: every channel has a multivariant playlist with one
// variant.
func hlsOrigin(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		switch {
		case strings.HasSuffix(r.URL.Path, "/index.m3u8"):
			io.WriteString(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/index.m3u8\n")
		case strings.HasSuffix(r.URL.Path, "/low/index.m3u8"):
			io.WriteString(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg0.ts\n")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/{channel}/index.m3u8"
}

// playKey is a key pair the test signs tokens with.
type playKey struct {
	priv *ecdsa.PrivateKey
	pem  string
}

func newPlayKey(t *testing.T) playKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return playKey{priv: k, pem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

func (k playKey) sign(t *testing.T, c token.Claims) string {
	t.Helper()
	if c.Exp == 0 {
		c.Exp = time.Now().Add(5 * time.Minute).Unix()
	}
	tok, err := token.Sign(c, k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// multiGate is one API node and several gate nodes on one PostgreSQL schema.
type multiGate struct {
	api    *ivs.Client
	apiURL string // the API node's endpoint
	gates  []*gateNode
	http   *http.Client
}

func startMultiGate(t *testing.T, storeURL string, gates int, gateArgs ...string) *multiGate {
	t.Helper()
	return startMultiGateURLs(t, storeURL, storeURL, gates, gateArgs...)
}

// startMultiGateURLs is startMultiGate with the API node and the gates given their own
// URLs of the same store (for example with different application names).
func startMultiGateURLs(t *testing.T, apiURL, gateURL string, gates int, gateArgs ...string) *multiGate {
	t.Helper()
	dir := t.TempDir()
	credFile, creds := writeCredentials(t, dir, "123456789012")
	api := startServer(t, filepath.Join(dir, "api"), "--credentials", credFile, "--store", apiURL)
	m := &multiGate{
		api:    ivsClient(api.endpoint, creds[0], "us-west-2", nil),
		apiURL: api.endpoint,
		http:   &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	origin := hlsOrigin(t)
	for range gates {
		m.gates = append(m.gates, startGate(t, append([]string{"--store", gateURL, "--origin", origin}, gateArgs...)...))
	}
	return m
}

// play asks a gate to start playback of the channel whose playback URL is given; it
// returns the status and the gate's refusal code (X-Playkey-Code).
func (m *multiGate) play(t *testing.T, g *gateNode, playbackURL, tok string) (int, string) {
	t.Helper()
	u, err := url.Parse(playbackURL)
	if err != nil {
		t.Fatal(err)
	}
	target := g.url + u.Path
	if tok != "" {
		target += "?token=" + url.QueryEscape(tok)
	}
	resp, err := m.http.Get(target)
	if err != nil {
		t.Errorf("GET %s: %v", g.url, err)
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Playkey-Code")
}

// allPlay waits until every gate starts playback, which a gate may refuse for a moment
// after the key or channel was created (it may have cached their absence), and returns
// how long that took.
func (m *multiGate) allPlay(t *testing.T, playbackURL, tok string) time.Duration {
	t.Helper()
	start := time.Now()
	for i, g := range m.gates {
		for {
			status, code := m.play(t, g, playbackURL, tok)
			if status == http.StatusOK {
				break
			}
			if time.Since(start) > 20*time.Second {
				t.Fatalf("gate %d: %d %s 20s after the change, want 200\n%s", i, status, code, g.Stderr)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return time.Since(start)
}

// propagation returns how long after since every gate refused playback with code: each
// gate is asked again and again until it does.
func (m *multiGate) propagation(t *testing.T, since time.Time, playbackURL, tok, code string) time.Duration {
	t.Helper()
	const limit = 20 * time.Second
	took := make([]time.Duration, len(m.gates))
	var wg sync.WaitGroup
	for i, g := range m.gates {
		wg.Go(func() {
			for {
				status, got := m.play(t, g, playbackURL, tok)
				if status == http.StatusForbidden && got == code {
					took[i] = time.Since(since)
					return
				}
				if status != http.StatusOK {
					t.Errorf("gate %d: %d %s while waiting for %s", i, status, got, code)
					return
				}
				if time.Since(since) > limit {
					t.Errorf("gate %d still plays %v after the change", i, limit)
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	return slices.Max(took)
}

// announcementLine starts the line a gate logs at debug level when it hears the store
// announce a change (watchChanges).
const announcementLine = `msg="gate: change announced"`

// marks returns where each gate's log ends now.
func (m *multiGate) marks() []int {
	marks := make([]int, len(m.gates))
	for i, g := range m.gates {
		marks[i] = len(g.Stderr.String())
	}
	return marks
}

// heard waits until every gate has logged, after its mark, that it heard the announcement
// of a change with attrs (such as "kind=keys"), and returns the marks just after those
// lines. Only a gate that never hears it makes this wait long.
func (m *multiGate) heard(t *testing.T, marks []int, attrs string) []int {
	t.Helper()
	const limit = 20 * time.Second
	next := make([]int, len(m.gates))
	deadline := time.Now().Add(limit)
	for i, g := range m.gates {
		for next[i] == 0 {
			log := g.Stderr.String()
			at := marks[i]
			for line := range strings.Lines(log[at:]) {
				at += len(line)
				// A partial last line is read again when it is whole.
				if strings.HasSuffix(line, "\n") && strings.Contains(line, announcementLine) && strings.Contains(line, " "+attrs) {
					next[i] = at
					break
				}
			}
			if next[i] != 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("gate %d did not hear the announcement of a change with %s in %v; it logged:\n%s", i, attrs, limit, log[marks[i]:])
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return next
}

// TestGatesSingleUse: a single-use token starts playback once across all gate nodes,
// whatever number of viewers present it to whichever gates at the same moment.
func TestGatesSingleUse(t *testing.T) {
	t.Parallel()
	const gates, perGate, tokens = 3, 4, 40
	_, storeURL := pgtest.Schema(t)
	m := startMultiGate(t, storeURL, gates)
	ctx := context.Background()
	k := newPlayKey(t)
	if _, err := m.api.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(k.pem)}); err != nil {
		t.Fatal(err)
	}
	ch, err := m.api.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
	if err != nil {
		t.Fatal(err)
	}
	arn, playback := aws.ToString(ch.Channel.Arn), aws.ToString(ch.Channel.PlaybackUrl)

	var played, alreadyUsed, other atomic.Int64
	for i := range tokens {
		tok := k.sign(t, token.Claims{ChannelARN: arn, SingleUseUUID: fmt.Sprintf("uuid-%d-%s", i, rand.Text())})
		start := make(chan struct{})
		var ok atomic.Int64
		var wg sync.WaitGroup
		for _, g := range m.gates {
			for range perGate {
				wg.Go(func() {
					<-start
					switch status, code := m.play(t, g, playback, tok); {
					case status == http.StatusOK:
						ok.Add(1)
						played.Add(1)
					case status == http.StatusForbidden && code == gate.CodeAlreadyUsed:
						alreadyUsed.Add(1)
					default:
						other.Add(1)
						t.Errorf("token %d: %d %s", i, status, code)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		if n := ok.Load(); n != 1 {
			t.Errorf("single-use token %d started playback %d times on %d gates", i, n, gates)
		}
	}
	t.Logf("%d single-use tokens, each presented %d times at once to %d gates: %d playbacks, %d refused as already used, %d other answers",
		tokens, gates*perGate, gates, played.Load(), alreadyUsed.Load(), other.Load())
}

// TestGatesPropagation makes a change through the API node and checks that every gate node
// hears the database's announcement of it and enforces it: a viewer revocation, a key pair
// deletion, a channel made private. Each is repeated, and how long the last of the gates
// took to refuse is logged. The gates' own expiry and polling would enforce the changes
// too, within about a second; what tells the two apart is each gate's own account of the
// announcement (its debug log line), not the time, which a loaded machine stretches.
func TestGatesPropagation(t *testing.T) {
	t.Parallel()
	_, storeURL := pgtest.Schema(t)
	m := startMultiGate(t, storeURL, 3, "--log-level", "debug")
	p := newPropagationRun(t, m)
	all := p.measure(t, 8, "", true)
	if worst := all[len(all)-1]; worst > fallbackBound {
		t.Errorf("a change took %v to reach every gate, more than the %v even the polling fallback allows", worst, fallbackBound)
	}
}

// fallbackBound is the most a change may take to reach every gate, even one that hears no
// announcements (TestGatesPropagationWithoutAnnouncements): the gates expire cached keys
// and channels after a second and poll revocations every second, so about a second; the
// bound is ten times that, since it fails the test only when a change never reaches a
// gate by the fallback, not when a loaded machine is slow.
const fallbackBound = 10 * time.Second

// propagationRun is a key pair and a private channel, through the API node of m, on which
// changes are made and their propagation to the gates measured.
type propagationRun struct {
	m             *multiGate
	k             playKey
	arn, playback string
	rep           int
}

func newPropagationRun(t *testing.T, m *multiGate) *propagationRun {
	t.Helper()
	ctx := context.Background()
	p := &propagationRun{m: m, k: newPlayKey(t)}
	// A gate says kind=all once it listens (the store announces that everything may have
	// changed when its watch starts): after that, no gate can miss the changes below.
	m.heard(t, make([]int, len(m.gates)), "kind=all")
	if _, err := m.api.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(p.k.pem)}); err != nil {
		t.Fatal(err)
	}
	priv, err := m.api.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
	if err != nil {
		t.Fatal(err)
	}
	p.arn, p.playback = aws.ToString(priv.Channel.Arn), aws.ToString(priv.Channel.PlaybackUrl)
	return p
}

// measure makes reps changes of each kind (a viewer revocation, a key pair deletion, a
// public channel made private), logs how long each took to reach every gate, and returns
// all the durations, sorted.
//
// With announced, every gate must also log that it heard the announcement of each change
// (which needs the gates' --log-level debug). Announcements arrive in commit order, so
// each is awaited after the one before: the line heard after a change is that change's.
func (p *propagationRun) measure(t *testing.T, reps int, label string, announced bool) []time.Duration {
	t.Helper()
	ctx := context.Background()
	m := p.m
	marks := m.marks()
	heard := func(attrs string) {
		t.Helper()
		if announced {
			marks = m.heard(t, marks, attrs)
		}
	}
	results := map[string][]time.Duration{}
	for range reps {
		p.rep++
		// A viewer's sessions revoked.
		viewer := fmt.Sprint("viewer-", p.rep)
		tok := p.k.sign(t, token.Claims{ChannelARN: p.arn, ViewerID: viewer, ViewerSessionVersion: 1})
		m.allPlay(t, p.playback, tok)
		since := time.Now()
		if _, err := m.api.StartViewerSessionRevocation(ctx, &ivs.StartViewerSessionRevocationInput{
			ChannelArn: aws.String(p.arn), ViewerId: aws.String(viewer), ViewerSessionVersionsLessThanOrEqualTo: 1}); err != nil {
			t.Fatal(err)
		}
		heard("kind=revocations")
		results["viewer revocation"] = append(results["viewer revocation"], m.propagation(t, since, p.playback, tok, gate.CodeRevoked))

		// A key pair deleted.
		k2 := newPlayKey(t)
		imp, err := m.api.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(k2.pem)})
		if err != nil {
			t.Fatal(err)
		}
		heard("kind=keys")
		tok = k2.sign(t, token.Claims{ChannelARN: p.arn})
		m.allPlay(t, p.playback, tok)
		since = time.Now()
		if _, err := m.api.DeletePlaybackKeyPair(ctx, &ivs.DeletePlaybackKeyPairInput{Arn: imp.KeyPair.Arn}); err != nil {
			t.Fatal(err)
		}
		heard("kind=keys")
		results["key pair deletion"] = append(results["key pair deletion"], m.propagation(t, since, p.playback, tok, string(token.UnknownKey)))

		// A public channel made private.
		pub, err := m.api.CreateChannel(ctx, &ivs.CreateChannelInput{})
		if err != nil {
			t.Fatal(err)
		}
		arn := "arn=" + aws.ToString(pub.Channel.Arn)
		heard(arn)
		m.allPlay(t, aws.ToString(pub.Channel.PlaybackUrl), "")
		since = time.Now()
		if _, err := m.api.UpdateChannel(ctx, &ivs.UpdateChannelInput{Arn: pub.Channel.Arn, Authorized: true}); err != nil {
			t.Fatal(err)
		}
		heard(arn)
		results["channel made private"] = append(results["channel made private"], m.propagation(t, since, aws.ToString(pub.Channel.PlaybackUrl), "", gate.CodeMissingToken))
	}
	var all []time.Duration
	for _, what := range []string{"viewer revocation", "key pair deletion", "channel made private"} {
		d := results[what]
		all = append(all, d...)
		slices.Sort(d)
		t.Logf("%s%-21s enforced by all %d gates: p50 %v, max %v (%d repetitions)", label, what+":", len(m.gates),
			d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond), len(d))
	}
	slices.Sort(all)
	t.Logf("%sall changes: p50 %v, max %v", label, all[len(all)/2].Round(time.Millisecond), all[len(all)-1].Round(time.Millisecond))
	return all
}

// TestGatesPropagationWithoutAnnouncements shows the gates' fallback when the database's
// announcements are lost. The triggers that send them are disabled (and a listener of the
// test's own checks that nothing is announced), so the gates learn of changes only by
// expiring their caches and polling revocations: every change still reaches every gate,
// within about a second. Then the announcements come back and every connection of the gates
// is ended (as when the database restarts or the network drops them): the gates listen
// again by themselves, and changes are fast again.
func TestGatesPropagationWithoutAnnouncements(t *testing.T) {
	t.Parallel()
	schema, storeURL := pgtest.Schema(t)
	app := "playkey-gates-" + strings.ToLower(rand.Text()[:10])
	m := startMultiGateURLs(t, storeURL, pgtest.WithParams(storeURL, "application_name", app), 3, "--log-level", "debug")

	ctx := context.Background()
	db, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	listener, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	// The channel the triggers announce on (migration 0004): the gates listen on it too.
	sum := md5.Sum([]byte(schema))
	channel := "playkey_" + hex.EncodeToString(sum[:])[:16]
	if _, err := listener.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	p := newPropagationRun(t, m)
	// announced counts the announcements the test's listener hears: it waits up to first
	// for one (a generous bound when one is due), then takes what else is already there.
	announced := func(first time.Duration) int {
		n := 0
		for wait := first; ; wait = 200 * time.Millisecond {
			wctx, cancel := context.WithTimeout(ctx, wait)
			_, err := listener.WaitForNotification(wctx)
			cancel()
			if err != nil {
				return n
			}
			n++
		}
	}
	if n := announced(20 * time.Second); n == 0 {
		t.Fatalf("no announcement heard on %s of the key pair and channel the test made: the test listens in the wrong place", channel)
	}

	triggers := map[string]string{
		"playback_key_pairs":            "playback_key_pairs_announce",
		"channels":                      "channels_announce",
		"playback_restriction_policies": "playback_restriction_policies_announce",
		"viewer_revocations":            "viewer_revocations_announce",
	}
	setTriggers := func(how string) {
		t.Helper()
		for table, trigger := range triggers {
			if _, err := db.Exec(ctx, "ALTER TABLE "+pgx.Identifier{table}.Sanitize()+" "+how+" TRIGGER "+pgx.Identifier{trigger}.Sanitize()); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Every gate has heard the last announcement before the triggers go (the private
	// channel's creation), so none heard later is one of those.
	mark := m.heard(t, make([]int, len(m.gates)), "arn="+p.arn)
	setTriggers("DISABLE")
	lost := p.measure(t, 4, "announcements lost: ", false)
	if n := announced(200 * time.Millisecond); n != 0 {
		t.Fatalf("%d announcements heard with the triggers disabled: the gates may have heard them too, and the fallback was not what was measured", n)
	}
	for i, g := range m.gates {
		if log := g.Stderr.String()[mark[i]:]; strings.Contains(log, announcementLine) {
			t.Fatalf("gate %d heard announcements with the triggers disabled, and the fallback was not what was measured:\n%s", i, log)
		}
	}
	if worst := lost[len(lost)-1]; worst > fallbackBound {
		t.Errorf("without announcements, a change took %v to reach every gate, more than %v", worst, fallbackBound)
	}

	// Announcements again, and the gates' connections ended: they must listen again.
	setTriggers("ENABLE")
	var ended int
	if err := db.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended < len(m.gates) {
		t.Fatalf("ended %d connections of the gates, want at least one listener per gate (%d)", ended, len(m.gates))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var listening int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query = $2`,
			app, "LISTEN "+pgx.Identifier{channel}.Sanitize()).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if listening >= len(m.gates) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d gates listen again 20s after their connections were ended", listening, len(m.gates))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The gates' pools hold connections the server ended too; pgxpool checks a connection
	// idle for over a second before handing it out, so after this pause none is handed out
	// dead (which would be a 503 and a retry, not what is measured here).
	time.Sleep(1500 * time.Millisecond)
	// Every gate must hear the announcement of each change: they listen again.
	p.measure(t, 4, "listening again:     ", true)
	for i, g := range m.gates {
		if g.Exited() {
			t.Errorf("gate %d exited:\n%s", i, g.Stderr)
		}
	}
}

// TestGatesStoreOutage stops the PostgreSQL that an API node and two gate nodes share.
// While it is away, no gate admits a single-use token (that needs a record only the
// database can keep): each answers 503, at once. Tokens of keys the gates already know are
// admitted for as long as the gates trust what they have cached, which the test measures;
// after that the gates answer 503 too, never a 500 and never after hanging. When the
// database is back, the same gate processes admit tokens again by themselves.
func TestGatesStoreOutage(t *testing.T) {
	t.Parallel()
	const storeTimeout, staleAfter = time.Second, 3 * time.Second
	pg := startPrivatePostgres(t)
	m := startMultiGate(t, pg.URL("playkey_timeout", storeTimeout.String()), 2, "--stale-after", staleAfter.String())
	ctx := context.Background()
	k := newPlayKey(t)
	if _, err := m.api.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: aws.String(k.pem)}); err != nil {
		t.Fatal(err)
	}
	ch, err := m.api.CreateChannel(ctx, &ivs.CreateChannelInput{Authorized: true})
	if err != nil {
		t.Fatal(err)
	}
	arn, playback := aws.ToString(ch.Channel.Arn), aws.ToString(ch.Channel.PlaybackUrl)
	plain := k.sign(t, token.Claims{ChannelARN: arn})
	m.allPlay(t, playback, plain)

	// The gates' stale window counts from before the stop: stopping takes a while on a
	// loaded machine, and the database may refuse connections from its start.
	down := time.Now()
	pg.stop()
	var (
		mu          sync.Mutex
		admitted    = make([]time.Duration, len(m.gates)) // how long each gate admitted the plain token
		slowest     time.Duration
		singleTried int
	)
	var wg sync.WaitGroup
	for i, g := range m.gates {
		wg.Go(func() {
			for time.Since(down) < staleAfter+5*time.Second {
				single := k.sign(t, token.Claims{ChannelARN: arn, SingleUseUUID: rand.Text()})
				for _, tok := range []string{plain, single} {
					start := time.Now()
					status, code := m.play(t, g, playback, tok)
					took := time.Since(start)
					mu.Lock()
					slowest = max(slowest, took)
					if tok == single {
						singleTried++
					}
					mu.Unlock()
					switch {
					case status == http.StatusOK && tok == plain:
						admitted[i] = time.Since(down)
					case status == http.StatusServiceUnavailable && code == gate.CodeUnavailable:
					default:
						t.Errorf("gate %d, database down for %v, %s token: %d %s, want 503 %s",
							i, time.Since(down).Round(time.Millisecond), map[bool]string{true: "single-use", false: "plain"}[tok == single],
							status, code, gate.CodeUnavailable)
						return
					}
					// A bound for a hang, not for a loaded machine: that the store timed out
					// shows in the 503 itself.
					if took > storeTimeout+10*time.Second {
						t.Errorf("gate %d took %v to answer with the database down", i, took)
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	// Every node lives and says why it is not ready.
	nodes := []string{m.apiURL}
	for _, g := range m.gates {
		nodes = append(nodes, g.url)
	}
	for _, u := range nodes {
		if code, body, _ := httpGet(t, u+"/readyz"); code != 503 || body != "store unavailable\n" {
			t.Errorf("%s/readyz with the database down: %d %q, want 503 \"store unavailable\"", u, code, body)
		}
		if code, _, _ := httpGet(t, u+"/livez"); code != 200 {
			t.Errorf("%s/livez with the database down: %d", u, code)
		}
	}
	t.Logf("database down: %d single-use tokens tried, none admitted; the gates admitted known tokens for %v after the database stopped (--stale-after %v); the slowest answer took %v",
		singleTried, admitted, staleAfter, slowest.Round(time.Millisecond))
	for i, d := range admitted {
		// The window runs from the gate's last read of the keys, up to a second (the cache's
		// refresh) before the database stopped. How late in it the last admission is seen
		// depends on how fast the requests go round (each single-use token waits for the
		// store's timeout), so only its existence is checked, and the upper bound catches a
		// gate that never stops admitting; a loaded machine may answer the last admitted
		// request late.
		if d <= 0 || d > staleAfter+10*time.Second {
			t.Errorf("gate %d admitted known tokens for %v after the database stopped, want some time, about %v", i, d, staleAfter)
		}
	}

	pg.start()
	took := m.allPlay(t, playback, plain)
	t.Logf("database back: every gate admitted tokens again after %v, without a restart", took.Round(time.Millisecond))
	for _, u := range nodes {
		// The pool reconnects on its own; the bound only turns a hang into a failure.
		deadline := time.Now().Add(30 * time.Second)
		for code, body, _ := httpGet(t, u+"/readyz"); code != 200; code, body, _ = httpGet(t, u+"/readyz") {
			if time.Now().After(deadline) {
				t.Fatalf("%s/readyz with the database back: %d %q", u, code, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	single := k.sign(t, token.Claims{ChannelARN: arn, SingleUseUUID: rand.Text()})
	if status, code := m.play(t, m.gates[0], playback, single); status != http.StatusOK {
		t.Errorf("a single-use token after the outage: %d %s", status, code)
	}
	if status, code := m.play(t, m.gates[1], playback, single); status != http.StatusForbidden || code != gate.CodeAlreadyUsed {
		t.Errorf("the same single-use token on another gate: %d %s, want 403 %s", status, code, gate.CodeAlreadyUsed)
	}
}
