package gate

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/token"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if r := h.get("/healthz"); r.StatusCode != 200 || r.body != "ok\n" {
		t.Fatalf("healthz: %s %q", r.Status, r.body)
	}
}

func TestPrivatePlays(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.sign(token.Claims{})
	mv := h.play(tok)
	if ct := mv.Header.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := mv.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store: the playlist holds session credentials", cc)
	}
	// Every URI goes back through the gate, bound to the session.
	all := uris(mv.body)
	if len(all) != 6 { // audio rendition, 3 variants, 2 I-frame streams
		t.Fatalf("got %d URIs, want 6:\n%s", len(all), mv.body)
	}
	for _, u := range all {
		if !strings.HasPrefix(u, "/api/video/v1/s/") {
			t.Errorf("URI %q does not go through the gate", u)
		}
	}
	variant := h.get(find(t, mv.body, "720p/index.m3u8"))
	if variant.StatusCode != 200 {
		t.Fatalf("variant: %s %s", variant.Status, variant.body)
	}
	if cc := variant.Header.Get("Cache-Control"); cc != "max-age=1" {
		t.Errorf("variant Cache-Control %q, want the origin's", cc)
	}
	segs := uris(variant.body)
	if len(segs) != 4 { // map + 3 segments
		t.Fatalf("variant has %d URIs, want 4:\n%s", len(segs), variant.body)
	}
	seg := h.get(find(t, variant.body, "seg1.m4s"))
	if seg.StatusCode != 200 || seg.body != string(segmentBody("720p/seg1.m4s")) {
		t.Fatalf("segment: %s, %d bytes", seg.Status, len(seg.body))
	}
	for k, want := range map[string]string{
		"Content-Type":   "video/mp4",
		"Content-Length": "20000",
		"Cache-Control":  "max-age=3600, public",
		"ETag":           `"720p/seg1.m4s"`,
		"Last-Modified":  fixtureTime.Format(http.TimeFormat),
		"Accept-Ranges":  "bytes",
	} {
		if got := seg.Header.Get(k); got != want {
			t.Errorf("segment %s = %q, want %q", k, got, want)
		}
	}
	if m := h.gate.Metrics(); m.Verifications != 1 || m.Sessions != 1 {
		t.Errorf("metrics %+v: want 1 verification, 1 session", m)
	}
	// Logs name the token by a hash, never in full, and hide session credentials.
	logs := h.logs.String()
	if strings.Contains(logs, tok) || strings.Contains(logs, tok[len(tok)-20:]) {
		t.Error("the log holds the token")
	}
	cred := strings.Split(strings.TrimPrefix(find(t, mv.body, "720p/index.m3u8"), "/api/video/v1/s/"), "/")[0]
	if strings.Contains(logs, cred[:20]) {
		t.Error("the log holds a session credential")
	}
}

func TestPrivateRefusals(t *testing.T) {
	h := newHarness(t)
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	otherTok, _ := token.Sign(token.Claims{ChannelARN: h.private.String(), Exp: time.Now().Add(time.Minute).Unix()}, other)
	for _, c := range []struct {
		name, query, code string
	}{
		{"no token", "", CodeMissingToken},
		{"garbage", "?token=not-a-token", string(token.Malformed)},
		{"other key", "?token=" + otherTok, string(token.UnknownKey)},
		{"expired", "?token=" + h.sign(token.Claims{Exp: time.Now().Add(-time.Minute).Unix()}), string(token.Expired)},
		{"other channel", "?token=" + h.sign(token.Claims{ChannelARN: h.public.String()}), string(token.ChannelMismatch)},
		{"exp too far", "?token=" + h.sign(token.Claims{ViewerID: "v", Exp: time.Now().Add(time.Hour).Unix()}), string(token.ExpTooFar)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.get(playbackPath(h.private)+c.query, "Origin", "https://app.example")
			wantRefused(t, r, 403, ivsInvalidToken, c.code)
			if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
				t.Error("a refusal must carry CORS headers, or a browser player cannot see why")
			}
		})
	}
	wantRefused(t, h.get("/api/video/v1/us-west-2.123456789012.channel.nothere.m3u8"), 404, "", CodeChannelNotFound)
	wantRefused(t, h.get("/api/video/v1/nonsense.m3u8"), 404, "", "not_found")
}

func TestMaximumResolution(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct {
		res  string
		want []string // variant directories left
	}{
		{"SD", []string{"360p"}},
		{"HD", []string{"720p", "360p"}},
		{"FULL_HD", []string{"1080p", "720p", "360p"}},
		{"", []string{"1080p", "720p", "360p"}},
	} {
		t.Run(c.res, func(t *testing.T) {
			mv := h.play(h.sign(token.Claims{MaximumResolution: c.res}))
			var got []string
			lines := strings.Split(mv.body, "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, "#EXT-X-STREAM-INF") {
					got = append(got, strings.Split(lines[i+1], "/")[len(strings.Split(lines[i+1], "/"))-2])
				}
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("variants %v, want %v:\n%s", got, c.want, mv.body)
			}
			if c.res == "SD" && strings.Contains(mv.body, "1080p/iframes") {
				t.Error("the 1080p I-frame stream is left in")
			}
		})
	}

	// Asked for directly, a removed rendition is refused: its URI was never signed, and a
	// credential signed for another URI does not fit it.
	mv := h.play(h.sign(token.Claims{MaximumResolution: "SD"}))
	sd := find(t, mv.body, "360p/index.m3u8")
	for _, p := range []string{"1080p/index.m3u8", "1080p/seg0.m4s", "720p/seg0.m4s"} {
		r := h.get(strings.Replace(sd, "360p/index.m3u8", p, 1))
		wantRefused(t, r, 403, ivsAuthError, CodeBadSession)
	}
	variant := h.get(sd)
	if strings.Contains(variant.body, "1080p") || variant.StatusCode != 200 {
		t.Errorf("SD variant: %s\n%s", variant.Status, variant.body)
	}
	for _, p := range h.originPaths() {
		if strings.Contains(p, "1080p/seg") || strings.Contains(p, "720p/seg") {
			t.Errorf("the origin was asked for %s", p)
		}
	}
}

func TestMaximumResolutionDropsRenditionReports(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "360p/index.m3u8") {
			w.Write([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg0.m4s\n#EXT-X-RENDITION-REPORT:URI=\"../1080p/index.m3u8\",LAST-MSN=1\n"))
			return true
		}
		return false
	})
	mv := h.play(h.sign(token.Claims{MaximumResolution: "SD"}))
	v := h.get(find(t, mv.body, "360p/index.m3u8"))
	if strings.Contains(v.body, "RENDITION-REPORT") {
		t.Errorf("a rendition report could sign a removed rendition's URI:\n%s", v.body)
	}
}

func TestNoRenditionWithinLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/index.m3u8") && strings.Count(r.URL.Path, "/") == 2 {
			w.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1920x1080\n1080p/index.m3u8\n"))
			return true
		}
		return false
	})
	r := h.get(playbackPath(h.private) + "?token=" + h.sign(token.Claims{MaximumResolution: "SD"}))
	wantRefused(t, r, 403, ivsAuthError, CodeNoRendition)
}

func TestSingleUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.sign(token.Claims{SingleUseUUID: "5b4a8d2e-2c43-4c65-9b57-2f7f0c9a0c11"})
	// HEAD only looks.
	if r := h.do(http.MethodHead, playbackPath(h.private)+"?token="+tok); r.StatusCode != 200 {
		t.Fatalf("HEAD: %s", r.Status)
	}
	mv := h.play(tok)
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+tok), 403, ivsAuthError, CodeAlreadyUsed)
	// The session it started goes on.
	if r := h.get(find(t, mv.body, "360p/index.m3u8")); r.StatusCode != 200 {
		t.Fatalf("session of a single-use token: %s", r.Status)
	}
	// A new gate on the same state (a restart) refuses it too.
	g2, err := New(t.Context(), Config{State: h.state, Origin: h.origin.URL + "/{channel}/index.m3u8"})
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close()
	rec := httptestGet(g2, playbackPath(h.private)+"?token="+tok)
	if rec.Code != 403 || rec.Header().Get("X-Playkey-Code") != CodeAlreadyUsed {
		t.Fatalf("after a restart: %d %s", rec.Code, rec.Body)
	}
	// The high-S twin of the signature is the same token to single use.
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+highS(t, tok)), 403, ivsAuthError, CodeAlreadyUsed)
}

func TestSingleUseRefusedWhenOriginFails(t *testing.T) {
	t.Parallel()
	// The token is spent only when the viewer gets a playlist.
	h := newHarness(t)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return true
	})
	tok := h.sign(token.Claims{SingleUseUUID: "u-1"})
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+tok), 502, "", CodeOriginError)
	h.setOriginHook(nil)
	h.play(tok)
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.sign(token.Claims{ViewerID: "alice", ViewerSessionVersion: 1})
	mv := h.play(tok)
	seg := find(t, h.get(find(t, mv.body, "360p/index.m3u8")).body, "seg0.m4s")
	if r := h.get(seg); r.StatusCode != 200 {
		t.Fatalf("segment before revocation: %s", r.Status)
	}
	other := h.play(h.sign(token.Claims{ViewerID: "bob", ViewerSessionVersion: 1}))

	h.state.revoke(h.private.String(), "alice", 1)
	took := eventually(t, "the revoked session refused", func() bool { return h.get(seg).StatusCode == 403 })
	t.Logf("revocation took effect after %v", took)
	wantRefused(t, h.get(seg), 403, ivsAuthError, CodeRevoked)
	wantRefused(t, h.get(find(t, mv.body, "720p/index.m3u8")), 403, ivsAuthError, CodeRevoked)
	// Its token, cached as verified, no longer starts playback; a higher version does.
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+tok), 403, ivsAuthError, CodeRevoked)
	h.play(h.sign(token.Claims{ViewerID: "alice", ViewerSessionVersion: 2}))
	// Other viewers play on.
	if r := h.get(find(t, other.body, "360p/index.m3u8")); r.StatusCode != 200 {
		t.Errorf("another viewer's session: %s", r.Status)
	}
}

func TestRevocationsUnreadable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.RevocationStaleAfter = 300 * time.Millisecond })
	mv := h.play(h.sign(token.Claims{ViewerID: "alice"}))
	anon := h.play(h.sign(token.Claims{}))
	h.state.setBroken(true)
	v := find(t, mv.body, "360p/index.m3u8")
	eventually(t, "viewer sessions refused while revocations cannot be read", func() bool { return h.get(v).StatusCode == 503 })
	wantRefused(t, h.get(v), 503, "", CodeUnavailable)
	if r := h.get("/healthz"); r.StatusCode != 503 {
		t.Errorf("healthz while revocations are unreadable: %s", r.Status)
	}
	// Sessions without a viewer ID need no revocation state.
	if r := h.get(find(t, anon.body, "360p/index.m3u8")); r.StatusCode != 200 {
		t.Errorf("anonymous session: %s", r.Status)
	}
	h.state.setBroken(false)
	eventually(t, "served again", func() bool { return h.get(v).StatusCode == 200 })
}

func TestStrictOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.sign(token.Claims{AllowedOrigins: []string{"https://app.example", "https://*.example.org"}, StrictOriginEnforcement: true})
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+tok), 403, ivsAuthError, CodeOriginNotAllowed)
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+tok, "Origin", "https://evil.example"), 403, ivsAuthError, CodeOriginNotAllowed)
	mv := h.play(tok, "Origin", "https://app.example")
	if got := mv.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
	v := find(t, mv.body, "360p/index.m3u8")
	wantRefused(t, h.get(v), 403, ivsAuthError, CodeOriginNotAllowed)
	wantRefused(t, h.get(v, "Origin", "https://evil.example"), 403, ivsAuthError, CodeOriginNotAllowed)
	variant := h.get(v, "Origin", "https://tv.example.org")
	if variant.StatusCode != 200 || variant.Header.Get("Access-Control-Allow-Origin") != "https://tv.example.org" {
		t.Fatalf("variant from an allowed origin: %s, ACAO %q", variant.Status, variant.Header.Get("Access-Control-Allow-Origin"))
	}
	seg := find(t, variant.body, "seg0.m4s")
	wantRefused(t, h.get(seg), 403, ivsAuthError, CodeOriginNotAllowed)
	if r := h.get(seg, "Origin", "https://app.example"); r.StatusCode != 200 {
		t.Errorf("segment from an allowed origin: %s", r.Status)
	}
}

func TestOriginsWithoutStrict(t *testing.T) {
	t.Parallel()
	// Allowed origins alone only shape CORS: browsers on other pages cannot read the
	// responses; other clients play.
	h := newHarness(t)
	tok := h.sign(token.Claims{AllowedOrigins: []string{"https://app.example"}})
	mv := h.play(tok, "Origin", "https://evil.example")
	if got := mv.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("a disallowed origin got Access-Control-Allow-Origin %q", got)
	}
	mv = h.play(tok, "Origin", "https://app.example")
	if got := mv.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
	if r := h.get(find(t, mv.body, "360p/index.m3u8")); r.StatusCode != 200 {
		t.Errorf("no Origin without strict enforcement: %s", r.Status)
	}
	// Without the claim every origin may read.
	open := h.play(h.sign(token.Claims{}), "Origin", "https://any.example")
	if got := open.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("no origin claim: Access-Control-Allow-Origin %q, want *", got)
	}
	pre := h.do(http.MethodOptions, playbackPath(h.private), "Origin", "https://app.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "range")
	if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || pre.Header.Get("Access-Control-Allow-Headers") != "range" {
		t.Errorf("preflight: %s %v", pre.Status, pre.Header)
	}
}

func TestKeyDeletion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.sign(token.Claims{})
	h.play(tok) // now cached as verified
	h.state.deleteKey(h.scope, h.keyARN)
	took := eventually(t, "tokens of a deleted key refused", func() bool {
		return h.get(playbackPath(h.private)+"?token="+tok).StatusCode == 403
	})
	t.Logf("key deletion took effect after %v", took)
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+h.sign(token.Claims{})), 403, ivsInvalidToken, string(token.UnknownKey))
	// Re-importing the key (a new ARN) lets its tokens play at once, though their
	// rejections were remembered: those were against the old set of keys.
	h.state.addKey(h.scope, "arn:aws:ivs:us-west-2:123456789012:playback-key/key2", &h.key.PublicKey)
	eventually(t, "tokens of a re-imported key accepted", func() bool {
		return h.get(playbackPath(h.private)+"?token="+tok).StatusCode == 200
	})
}

func TestAuthorizedSwitch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pub := h.get(playbackPath(h.public))
	if pub.StatusCode != 200 {
		t.Fatalf("public channel without a token: %s %s", pub.Status, pub.body)
	}
	v := find(t, pub.body, "360p/index.m3u8")
	h.state.setChannel(h.public, Channel{Authorized: true})
	eventually(t, "new sessions need a token", func() bool { return h.get(playbackPath(h.public)).StatusCode == 403 })
	if r := h.get(v); r.StatusCode != 403 {
		t.Errorf("a session started without a token while public: %s, want 403", r.Status)
	}
	h.state.setChannel(h.private, Channel{})
	eventually(t, "the private channel turned public plays without a token", func() bool { return h.get(playbackPath(h.private)).StatusCode == 200 })
}

func TestPublicPolicy(t *testing.T) {
	h := newHarness(t)
	h.state.setChannel(h.public, Channel{Policy: &Policy{AllowedCountries: []string{"FR", "de"}, AllowedOrigins: []string{"https://app.example"}}})
	p := playbackPath(h.public)
	wantRefused(t, h.get(p), 403, ivsRestricted, CodeCountryNotAllowed)
	wantRefused(t, h.get(p, "CloudFront-Viewer-Country", "US"), 403, ivsRestricted, CodeCountryNotAllowed)
	for _, c := range []string{"FR", "DE", "fr"} {
		if r := h.get(p, "CloudFront-Viewer-Country", c); r.StatusCode != 200 {
			t.Errorf("country %s: %s", c, r.Status)
		}
	}
	r := h.get(p, "CloudFront-Viewer-Country", "FR", "Origin", "https://evil.example")
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("non-strict policy, other origin: %s ACAO %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
	}

	h.state.setChannel(h.public, Channel{Policy: &Policy{AllowedOrigins: []string{"https://app.example"}, StrictOriginEnforcement: true}})
	eventually(t, "new policy", func() bool { return h.get(p, "Origin", "https://app.example").StatusCode == 200 })
	wantRefused(t, h.get(p), 403, ivsRestricted, CodeOriginNotAllowed)
	mv := h.get(p, "Origin", "https://app.example")
	if mv.StatusCode != 200 {
		t.Fatalf("allowed origin: %s", mv.Status)
	}
	v := find(t, mv.body, "360p/index.m3u8")
	// Refused by the policy, and said so: this session has no token.
	r = h.get(v)
	wantRefused(t, r, 403, ivsRestricted, CodeOriginNotAllowed)
	if reason := r.Header.Get("X-Playkey-Reason"); !strings.Contains(reason, "playback restriction policy") || strings.Contains(reason, "token") {
		t.Errorf("strict policy, request without Origin: reason %q, want the policy named", reason)
	}
	wantRefused(t, h.get(v, "Origin", "https://evil.example"), 403, ivsRestricted, CodeOriginNotAllowed)
	if r := h.get(v, "Origin", "https://app.example"); r.StatusCode != 200 {
		t.Errorf("strict policy, allowed origin: %s", r.Status)
	}

	// A private channel ignores its policy.
	h.state.setChannel(h.private, Channel{Authorized: true, Policy: &Policy{AllowedCountries: []string{"FR"}, StrictOriginEnforcement: true, AllowedOrigins: []string{"https://x.example"}}})
	time.Sleep(150 * time.Millisecond)
	h.play(h.sign(token.Claims{}))
}

func TestCountryWithoutHeaderConfigured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.CountryHeader = "" })
	h.state.setChannel(h.public, Channel{Policy: &Policy{AllowedCountries: []string{"FR"}}})
	wantRefused(t, h.get(playbackPath(h.public), "CloudFront-Viewer-Country", "FR"), 403, ivsRestricted, CodeCountryNotAllowed)
}

func TestSessionURLTampering(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mv := h.play(h.sign(token.Claims{}))
	v := find(t, mv.body, "360p/index.m3u8")
	cred := strings.Split(strings.TrimPrefix(v, sessionPrefix), "/")[0]
	enc, mac, _ := strings.Cut(cred, ".")
	for _, p := range []string{
		sessionPrefix + cred + "/360p/../1080p/index.m3u8",
		sessionPrefix + cred + "/360p/%2e%2e/1080p/index.m3u8",
		sessionPrefix + cred + "/360p%2Findex.m3u8",
		sessionPrefix + cred + "/../../../etc/passwd",
		sessionPrefix + enc + "X." + mac + "/360p/index.m3u8",
		sessionPrefix + enc + "/360p/index.m3u8",
		sessionPrefix + "." + mac + "/360p/index.m3u8",
		v + "?extra=1",
	} {
		r := h.get(p)
		if r.StatusCode != 403 && r.StatusCode != 404 {
			t.Errorf("%s: %s", p, r.Status)
		}
	}
	// LL-HLS delivery directives may be added.
	if r := h.get(v + "?_HLS_msn=3&_HLS_part=1"); r.StatusCode != 200 {
		t.Errorf("with _HLS_ directives: %s %s", r.Status, r.body)
	}
}

func TestUncleanPathsRefused(t *testing.T) {
	t.Parallel()
	// ServeMux would redirect these to their cleaned form with an HTML body; the gate
	// answers its JSON refusal instead, and never a redirect.
	h := newHarness(t)
	mv := h.play(h.sign(token.Claims{}))
	v := find(t, mv.body, "360p/index.m3u8")
	for _, p := range []string{
		"//healthz",
		"/api/video/v1/./" + strings.TrimPrefix(playbackPath(h.public), "/api/video/v1/"),
		"/api/video/v1//" + strings.TrimPrefix(playbackPath(h.public), "/api/video/v1/"),
		strings.Replace(v, "/360p/", "/360p/../360p/", 1),
		strings.Replace(v, "/360p/", "/360p//", 1),
	} {
		rec := httptestGet(h.gate, p)
		var body []errorItem
		if rec.Code != 404 || rec.Header().Get("Location") != "" || rec.Header().Get("X-Playkey-Code") != "not_found" || json.Unmarshal(rec.Body.Bytes(), &body) != nil || len(body) != 1 || body[0].Type != "error" {
			t.Errorf("%s: %d, Location %q, body %s", p, rec.Code, rec.Header().Get("Location"), rec.Body)
		}
	}
}

func TestOriginPlaylistOutsideChannel(t *testing.T) {
	t.Parallel()
	// Each origin playlist below replaces the last at once: the origin says not to reuse them.
	h := newHarness(t)
	for _, bad := range []string{"../other/index.m3u8", "http://elsewhere.example/x.m3u8", "/x/index.m3u8", "%2e%2e/x.ts"} {
		h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Cache-Control", "no-cache")
			w.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n" + bad + "\n"))
			return true
		})
		r := h.get(playbackPath(h.public))
		wantRefused(t, r, 502, "", CodeOriginError)
	}
	// Non-HTTP URIs (FairPlay key URIs, data:) stay as they are.
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Cache-Control", "no-cache")
		w.Write([]byte("#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"skd://key\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"))
		return true
	})
	if r := h.get(playbackPath(h.public)); r.StatusCode != 200 || !strings.Contains(r.body, `URI="skd://key"`) {
		t.Errorf("skd URI: %s\n%s", r.Status, r.body)
	}
	// An absolute URI on the origin's own directory is fine.
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "index.m3u8") {
			w.Header().Set("Cache-Control", "no-cache")
			w.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n" + h.origin.URL + "/publCHAN0001/v/a.m3u8?x=1\n"))
			return true
		}
		return false
	})
	r := h.get(playbackPath(h.public))
	if r.StatusCode != 200 || !strings.HasSuffix(strings.TrimSpace(r.body), "/v/a.m3u8?x=1") {
		t.Errorf("absolute URI inside the directory: %s\n%s", r.Status, r.body)
	}
}

func TestRangeAndConditional(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mv := h.play(h.sign(token.Claims{}))
	seg := find(t, h.get(find(t, mv.body, "360p/index.m3u8")).body, "seg2.m4s")
	r := h.get(seg, "Range", "bytes=100-199")
	want := string(segmentBody("360p/seg2.m4s")[100:200])
	if r.StatusCode != 206 || r.body != want || r.Header.Get("Content-Range") != "bytes 100-199/20000" || r.Header.Get("Content-Length") != "100" {
		t.Errorf("range: %s %q, Content-Range %q", r.Status, r.Header.Get("Content-Range"), r.Header.Get("Content-Length"))
	}
	if r := h.get(seg, "If-None-Match", `"360p/seg2.m4s"`); r.StatusCode != 304 {
		t.Errorf("If-None-Match: %s", r.Status)
	}
	if r := h.get(seg, "If-Modified-Since", fixtureTime.Add(time.Hour).Format(http.TimeFormat)); r.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %s", r.Status)
	}
	if r := h.get(seg, "Range", "bytes=30000-"); r.StatusCode != 416 {
		t.Errorf("unsatisfiable range: %s", r.Status)
	}
	if r := h.do(http.MethodHead, seg); r.StatusCode != 200 || r.Header.Get("Content-Length") != "20000" || r.body != "" {
		t.Errorf("HEAD: %s %q", r.Status, r.Header.Get("Content-Length"))
	}
}

func TestOriginErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	release := make(chan struct{})
	defer close(release)
	for _, c := range []struct {
		name   string
		hook   func(w http.ResponseWriter, r *http.Request)
		status int
		code   string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, 502, CodeOriginError},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, 404, "not_found"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://elsewhere.example/", http.StatusFound)
		}, 502, CodeOriginError},
		{"slow header", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, 504, CodeOriginTimeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := h
			if c.status == 504 {
				// Only the origin that never answers gets short timeouts: one that answers
				// must not be timed out however busy the machine is.
				h = newHarness(t, func(c *Config) { c.HeaderTimeout = 200 * time.Millisecond; c.IdleTimeout = 200 * time.Millisecond })
			}
			h.setOriginHook(nil)
			mv := h.play(h.sign(token.Claims{}))
			seg := find(t, h.get(find(t, mv.body, "360p/index.m3u8")).body, "seg0.m4s")
			h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool { c.hook(w, r); return true })
			wantRefused(t, h.get(seg), c.status, "", c.code)
			wantRefused(t, h.get(playbackPath(h.public)), c.status, "", c.code)
		})
	}
	h.setOriginHook(nil)
	// An origin that cannot be reached.
	g2, err := New(t.Context(), Config{State: h.state, Origin: "http://127.0.0.1:1/{channel}/index.m3u8"})
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close()
	if rec := httptestGet(g2, playbackPath(h.public)); rec.Code != 502 {
		t.Errorf("unreachable origin: %d", rec.Code)
	}
	// A playlist over the size cap.
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte("#EXTM3U\n" + strings.Repeat("#", 5<<20)))
		return true
	})
	wantRefused(t, h.get(playbackPath(h.public)), 502, "", CodeOriginError)
}

func TestSegmentsStream(t *testing.T) {
	t.Parallel()
	// The first bytes of a segment reach the client while the origin is still sending.
	h := newHarness(t)
	mv := h.play(h.sign(token.Claims{}))
	seg := find(t, h.get(find(t, mv.body, "360p/index.m3u8")).body, "seg0.m4s")
	release := make(chan struct{})
	defer close(release)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "video/mp4")
		w.Write([]byte("first-chunk\n"))
		w.(http.Flusher).Flush()
		<-release
		w.Write([]byte("rest\n"))
		return true
	})
	resp, err := h.srv.Client().Get(h.srv.URL + seg)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "first-chunk\n" {
			t.Errorf("first line %q", l)
		}
	case <-time.After(failAfter):
		t.Fatal("the gate holds the segment back until the origin finishes")
	}
}

func TestTokenCaches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.sign(token.Claims{})
	for range 5 {
		h.play(tok)
	}
	bad := h.sign(token.Claims{}) + "x"
	badSig := tok[:len(tok)-4] + "AAAA"
	for range 5 {
		h.get(playbackPath(h.private) + "?token=" + bad)
		h.get(playbackPath(h.private) + "?token=" + badSig)
	}
	m := h.gate.Metrics()
	if m.Verifications != 2 || m.CachedTokens != 4 {
		t.Errorf("metrics %+v: want 2 verifications (one good token, one bad signature) and 4 cache hits", m)
	}
}

func TestFailureLimiter(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.FailureBurst = 3; c.FailureRate = 0.5 })
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for i := range 3 {
		tok, _ := token.Sign(token.Claims{ChannelARN: h.private.String(), Exp: time.Now().Add(time.Minute).Unix() + int64(i)}, other)
		wantRefused(t, h.get(playbackPath(h.private)+"?token="+tok), 403, ivsInvalidToken, string(token.UnknownKey))
	}
	tok, _ := token.Sign(token.Claims{ChannelARN: h.private.String(), Exp: time.Now().Add(time.Minute).Unix() + 9}, other)
	r := h.get(playbackPath(h.private) + "?token=" + tok)
	wantRefused(t, r, 403, CodeRateLimited, CodeRateLimited)
	if r.Header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q, want 2", r.Header.Get("Retry-After"))
	}
	if m := h.gate.Metrics(); m.Verifications != 3 {
		t.Errorf("%d verifications, want 3: the limited request must cost none", m.Verifications)
	}
	// Another address has its own bucket (httptest requests come from 192.0.2.1).
	if rec := httptestGet(h.gate, playbackPath(h.private)+"?token="+h.sign(token.Claims{})); rec.Code != 200 {
		t.Errorf("another client: %d %s", rec.Code, rec.Body)
	}
}

func TestAuthEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mv := h.play(h.sign(token.Claims{ViewerID: "carol", AllowedOrigins: []string{"https://app.example"}}))
	seg := find(t, h.get(find(t, mv.body, "360p/index.m3u8")).body, "seg1.m4s")
	auth := func(uri string, headers ...string) *response {
		return h.get("/_playkey/auth", append([]string{"X-Original-URI", uri}, headers...)...)
	}
	r := auth(seg, "Origin", "https://app.example")
	if r.StatusCode != 200 || r.Header.Get("X-Playkey-Path") != "/privCHAN0001/360p/seg1.m4s" || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("auth: %s path %q ACAO %q %s", r.Status, r.Header.Get("X-Playkey-Path"), r.Header.Get("Access-Control-Allow-Origin"), r.body)
	}
	if r := auth(strings.Replace(seg, "seg1", "seg2", 1)); r.StatusCode != 401 {
		t.Errorf("tampered: %s", r.Status)
	}
	if r := h.get("/_playkey/auth"); r.StatusCode != 401 {
		t.Errorf("no header: %s", r.Status)
	}
	if r := auth(playbackPath(h.private)); r.StatusCode != 401 {
		t.Errorf("a playback URL: %s", r.Status)
	}
	h.state.revoke(h.private.String(), "carol", 0)
	eventually(t, "revoked via auth", func() bool { return auth(seg).StatusCode == 403 })
}

func TestPortraitAndAudioOnly(t *testing.T) {
	t.Parallel()
	// Resolution limits compare the shorter side; streams without RESOLUTION stay.
	h := newHarness(t)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Count(r.URL.Path, "/") == 2 {
			w.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=720x1280\np720.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1080x1920\np1080.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\naudio.m3u8\n"))
			return true
		}
		return false
	})
	mv := h.play(h.sign(token.Claims{MaximumResolution: "HD"}))
	if !strings.Contains(mv.body, "p720.m3u8") || strings.Contains(mv.body, "p1080") || !strings.Contains(mv.body, "audio.m3u8") {
		t.Errorf("HD limit on portrait streams:\n%s", mv.body)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		remote, header, value, want string
	}{
		{"192.0.2.1:5000", "", "", "192.0.2.1/32"},
		{"[2001:db8::1]:5000", "", "", "2001:db8::/64"},
		{"127.0.0.1:5000", "X-Real-IP", "198.51.100.7", "198.51.100.7/32"},
		{"127.0.0.1:5000", "X-Forwarded-For", "203.0.113.9, 198.51.100.7", "198.51.100.7/32"},
		{"127.0.0.1:5000", "X-Real-IP", "", "127.0.0.1/32"},
		{"[::ffff:192.0.2.3]:1", "", "", "192.0.2.3/32"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.value != "" {
			r.Header.Set(c.header, c.value)
		}
		if got := clientAddr(r, c.header).String(); got != c.want {
			t.Errorf("%s %s=%q: %s, want %s", c.remote, c.header, c.value, got, c.want)
		}
	}
}

func TestOriginBodyStalls(t *testing.T) {
	// An origin that stops sending in the middle of a segment is cut off after IdleTimeout,
	// and the client's response is cut short rather than left hanging.
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	mv := h.play(h.sign(token.Claims{}))
	seg := find(t, h.get(find(t, mv.body, "360p/index.m3u8")).body, "seg0.m4s")
	release := make(chan struct{})
	defer close(release)
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("0123456789"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	start := time.Now()
	resp, err := h.srv.Client().Get(h.srv.URL + seg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || string(b) != "0123456789" {
		t.Errorf("read %q, %v; want the first bytes and an error", b, err)
	}
	if d := time.Since(start); d > failAfter {
		t.Errorf("the stalled response took %v", d)
	}
	eventually(t, "the cut-off logged", func() bool { return strings.Contains(h.logs.String(), "code=aborted") })

	// A playlist is read whole before anything is sent, so its stall is a 504.
	h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte("#EXTM3U\n"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	wantRefused(t, h.get(playbackPath(h.public)), 504, "", CodeOriginTimeout)
}

func TestAnnouncedChanges(t *testing.T) {
	t.Parallel()
	// With long cache lifetimes, announced changes still apply at once.
	h := newHarness(t, func(c *Config) { c.StateRefresh = time.Hour; c.RevocationPoll = time.Hour })
	tok := h.sign(token.Claims{ViewerID: "frank"})
	mv := h.play(tok)
	v := find(t, mv.body, "360p/index.m3u8")

	h.state.revoke(h.private.String(), "frank", 0)
	h.gate.RevocationsChanged()
	eventually(t, "revocation announced", func() bool { return h.get(v).StatusCode == 403 })

	h.state.deleteKey(h.scope, h.keyARN)
	fresh := h.sign(token.Claims{})
	h.gate.KeysChanged(h.scope)
	wantRefused(t, h.get(playbackPath(h.private)+"?token="+fresh), 403, ivsInvalidToken, string(token.UnknownKey))

	h.state.setChannel(h.public, Channel{Authorized: true})
	h.gate.ChannelChanged(h.public)
	wantRefused(t, h.get(playbackPath(h.public)), 403, ivsInvalidToken, CodeMissingToken)

	h.state.setChannel(h.public, Channel{Policy: &Policy{AllowedCountries: []string{"FR"}}})
	h.gate.PoliciesChanged()
	wantRefused(t, h.get(playbackPath(h.public)), 403, ivsRestricted, CodeCountryNotAllowed)

	h.state.addKey(h.scope, "arn:aws:ivs:us-west-2:123456789012:playback-key/key3", &h.key.PublicKey)
	h.state.setChannel(h.public, Channel{})
	h.gate.AllChanged()
	h.play(fresh)
	if r := h.get(playbackPath(h.public)); r.StatusCode != 200 {
		t.Errorf("after AllChanged: %s", r.Status)
	}
}

func TestAnnouncementThenOutage(t *testing.T) {
	t.Parallel()
	// An announcement makes the gate read the store again, but what it read last stays
	// its fallback: a store that fails just after an announcement (a store's watcher
	// announces everything when it starts listening) gets the stale window, as a store
	// that fails without one does, rather than refusals at once.
	h := newHarness(t, func(c *Config) { c.StateRefresh = time.Hour; c.RevocationStaleAfter = time.Hour })
	tok := h.sign(token.Claims{})
	h.play(tok)
	if r := h.get(playbackPath(h.public)); r.StatusCode != 200 {
		t.Fatalf("public channel: %s", r.Status)
	}
	h.gate.AllChanged()
	h.state.setBroken(true)
	h.play(tok)
	if r := h.get(playbackPath(h.public)); r.StatusCode != 200 {
		t.Errorf("public channel after an announcement, store down: %s %s", r.Status, r.body)
	}
	// A channel the gate never read is still an outage.
	other := playkey.ARN{Region: h.public.Region, Account: h.public.Account, Type: playkey.TypeChannel, ID: "neverREAD001"}
	wantRefused(t, h.get(playbackPath(other)), 503, "", CodeUnavailable)
	// When the store is back, the announced change applies.
	h.state.setBroken(false)
	h.state.setChannel(h.public, Channel{Authorized: true})
	h.gate.ChannelChanged(h.public)
	wantRefused(t, h.get(playbackPath(h.public)), 403, ivsInvalidToken, CodeMissingToken)
}
