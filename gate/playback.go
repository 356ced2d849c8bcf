package gate

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/token"
)

// playbackName is the last segment of a channel's playback URL, each part bounded by what
// IVS has: a region (us-west-2, us-gov-east-1...), a 12-digit account, an id of 12
// characters (36 for the UUIDs of older IVS resources).
var playbackName = regexp.MustCompile(`^([a-z]{2}(?:-[a-z0-9]{1,12}){1,3})\.([0-9]{12})\.channel\.([a-zA-Z0-9-]{1,36})\.m3u8$`)

const sessionPrefix = "/api/video/v1/s/"

// serveMultivariant starts a session: it decides whether the viewer may play, then serves
// the channel's multivariant playlist with every URI bound to the new session.
func (g *Gate) serveMultivariant(w http.ResponseWriter, r *http.Request) {
	m := playbackName.FindStringSubmatch(r.PathValue("playback"))
	if m == nil {
		g.fail(w, r, &failure{status: http.StatusNotFound, code: "not_found", reason: "not a playback URL: expected /api/video/v1/{region}.{account}.channel.{id}.m3u8"})
		return
	}
	arn := playkey.ARN{Region: m[1], Account: m[2], Type: playkey.TypeChannel, ID: m[3]}
	res, err := g.channels.get(r.Context(), arn)
	if err != nil {
		g.stateError(w, r, "the channel", err)
		return
	}
	if !res.found {
		g.fail(w, r, refused(playback.ChannelNotFound(arn)))
		return
	}
	now := g.now()
	sess := &session{
		ID:        newSessionID(),
		End:       now.Add(g.cfg.SessionLifetime).Unix(),
		Bind:      g.bindPrefix(r),
		Region:    arn.Region,
		Account:   arn.Account,
		ChannelID: arn.ID,
		Anonymous: !res.ch.Authorized,
	}
	var claims *token.Claims
	if res.ch.Authorized {
		var f *failure
		if claims, f = g.checkToken(r, arn); f != nil {
			g.fail(w, r, f)
			return
		}
		sess.ViewerID, sess.Version = claims.ViewerID, claims.ViewerSessionVersion
		sess.MaxHeight = maxHeights[claims.MaximumResolution]
		sess.Origins, sess.Strict = claims.AllowedOrigins, claims.StrictOriginEnforcement
	} else if p := res.ch.Policy; p != nil {
		if ref := playback.Country(p, g.cfg.CountryHeader, r.Header.Get(g.cfg.CountryHeader)); ref != nil {
			g.fail(w, r, refused(ref))
			return
		}
		if len(p.AllowedOrigins) > 0 {
			sess.Origins = slices.Clone(p.AllowedOrigins)
		}
		sess.Strict, sess.Policy = p.StrictOriginEnforcement, true
	}
	origin := r.Header.Get("Origin")
	if ref := playback.Origin(sess.Origins, sess.Strict, res.ch.Authorized, origin); ref != nil {
		g.fail(w, r, refused(ref))
		return
	}
	infoOf(r).session = sess.idString()

	co, err := g.channelOrigin(arn.Region, arn.Account, arn.ID)
	if err != nil {
		g.fail(w, r, &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: "the origin URL of this channel is not valid"})
		return
	}
	out, _, f := g.fetchAndRewrite(r, sess, co, co.playlist)
	if f != nil {
		g.fail(w, r, f)
		return
	}
	// Single use is spent last, once the viewer is sure to get a playlist. A HEAD request
	// gets no session URLs, so it only looks.
	if claims != nil && claims.SingleUseUUID != "" {
		if f := g.spendSingleUse(r, arn, claims); f != nil {
			g.fail(w, r, f)
			return
		}
	}
	g.m.sessions.Add(1)
	g.seen(sess)
	h := w.Header()
	setCORS(h, origin, sess.Origins)
	h.Set("Content-Type", playlistContentType)
	// The playlist holds this viewer's session credentials: no cache may keep or share it.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(out)
	}
}

// checkToken verifies the token of a private channel's playback request, through the
// caches, and checks it against the revocations.
func (g *Gate) checkToken(r *http.Request, arn playkey.ARN) (*token.Claims, *failure) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		return nil, refused(playback.MissingToken())
	}
	h := hashToken(tok)
	infoOf(r).token = shortHash(h)
	ctx := r.Context()
	now := g.now()
	ks, err := g.keys.get(ctx, arn.Scope())
	if err != nil {
		return nil, g.stateFailure("the account's playback keys", err)
	}
	channel := arn.String()
	if b, ok := g.tokens.getBad(h, now); ok && b.channel == channel && (b.code != string(token.UnknownKey) || b.keyGen == ks.gen) {
		return nil, &failure{status: b.status, ivsCode: ivsCodeOf(b.code), code: b.code, reason: b.reason}
	}
	var claims *token.Claims
	if good, ok := g.tokens.getGood(h); ok && slices.ContainsFunc(ks.keys, func(k Key) bool { return k.ARN == good.keyARN }) {
		if ref := playback.Claims(&g.verifier, good.claims, channel, now); ref != nil {
			return nil, g.rejected(h, ref, ks.gen, channel, now)
		}
		g.m.cachedTokens.Add(1)
		g.m.keyVerified(good.keyARN, now)
		claims = good.claims
	} else {
		if ok {
			g.tokens.dropGood(h) // its key is gone
		}
		g.m.tokenMisses.Add(1)
		addr := clientAddr(r, g.cfg.ClientIPHeader, g.cfg.TrustedProxies...)
		if ok, wait := g.limit.reserve(addr, now); !ok {
			return nil, limited(wait)
		}
		c, key, ref, err := playback.Token(&g.verifier, tok, ks.keys, ks.prepared, channel, now)
		if ref != nil {
			if reachedSignature(token.Code(ref.Code)) {
				g.m.verifications.Add(1)
			}
			return nil, g.rejected(h, ref, ks.gen, channel, now)
		}
		if err != nil {
			g.limit.refund(addr)
			g.log.Error("gate: cannot verify tokens", "scope", arn.Scope(), "err", err)
			return nil, &failure{status: http.StatusInternalServerError, code: "internal", reason: "internal error; the gate's log has details"}
		}
		g.m.verifications.Add(1)
		g.m.keyVerified(key.ARN, now)
		g.limit.refund(addr)
		g.tokens.putGood(h, goodToken{claims: c, keyARN: key.ARN, size: len(tok)}, now)
		claims = c
	}
	if claims.ViewerID != "" {
		if !g.revs.fresh(now, g.cfg.RevocationStaleAfter) {
			return nil, unavailable("viewer-session revocations")
		}
		m, ok := g.revs.lookup(channel, claims.ViewerID)
		if ref := playback.Revoked(claims, m, ok); ref != nil {
			return nil, refused(ref)
		}
	}
	return claims, nil
}

// reachedSignature reports whether Verify got as far as the ECDSA check before it
// rejected with code: the checks after the signature are the claim rules.
func reachedSignature(code token.Code) bool {
	switch code {
	case token.Malformed, token.BadHeader, token.UnsupportedAlg, token.BadSignatureEncoding, token.BadPayload, token.BadClaim:
		return false
	}
	return true
}

func ivsCodeOf(code string) string {
	if code == CodeAlreadyUsed {
		return ivsAuthError
	}
	return ivsInvalidToken
}

// rejected remembers a rejected token for BadTokenTTL and returns its failure.
func (g *Gate) rejected(h tokenHash, ref *playback.Refusal, gen uint64, channel string, now time.Time) *failure {
	f := refused(ref)
	g.tokens.dropGood(h)
	g.tokens.putBad(h, badToken{code: f.code, reason: f.reason, status: f.status, until: now.Add(g.cfg.BadTokenTTL), keyGen: gen, channel: channel}, now)
	return f
}

// spendSingleUse records the use of a single-use token, or refuses a second one.
func (g *Gate) spendSingleUse(r *http.Request, arn playkey.ARN, c *token.Claims) *failure {
	consume := r.Method != http.MethodHead
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), stateTimeout)
	defer cancel()
	ref, err := playback.SingleUse(ctx, g.state, arn.Scope(), c, g.cfg.Leeway, consume)
	if err != nil {
		g.log.Error("gate: cannot record single use", "err", err)
		return unavailable("single-use token records")
	}
	if ref == nil {
		return nil
	}
	f := refused(ref)
	h := hashToken(r.URL.Query().Get("token"))
	g.tokens.dropGood(h)
	g.tokens.putBad(h, badToken{code: f.code, reason: f.reason, status: f.status, until: playback.SingleUseExpires(c, g.cfg.Leeway), channel: arn.String()}, g.now())
	return f
}

func (g *Gate) stateFailure(what string, err error) *failure {
	g.log.Error("gate: cannot read state", "what", what, "err", err)
	return unavailable(what)
}

func (g *Gate) stateError(w http.ResponseWriter, r *http.Request, what string, err error) {
	g.fail(w, r, g.stateFailure(what, err))
}

// rewrite renders e, a playlist fetched from from (an origin URL), for sess.
func (g *Gate) rewrite(e *cachedPlaylist, sess *session, co *channelOrigin, from *url.URL) ([]byte, *failure) {
	t, err := e.template(templateKey{basePath: co.basePath, maxHeight: sess.MaxHeight}, func(body []byte) (*playlistTemplate, error) {
		t, _, err := compilePlaylist(body, sess.MaxHeight, func(ref string) (slot, error) {
			rel, err := co.relative(from, ref)
			if errors.Is(err, errForeignURI) {
				return slot{lit: ref}, nil
			}
			if err != nil {
				return slot{}, err
			}
			p, _, _ := strings.Cut(rel, "?")
			return slot{rel: rel, playlist: isPlaylistPath(p)}, nil
		})
		return t, err
	})
	switch {
	case errors.Is(err, errNoRenditions):
		return nil, &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeNoRendition,
			reason: "the channel has no rendition within the token's " + token.ClaimMaximumResolution}
	case err != nil:
		g.log.Error("gate: cannot rewrite an origin playlist", "channel", sess.channelARN(), "err", err)
		return nil, &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: "the origin's playlist cannot be served; the gate's log has details"}
	}
	out, ok := g.render(t, sess)
	if !ok {
		g.m.originErrors[originTooLarge].Add(1)
		return nil, rewriteTooLarge(g.cfg.MaxRewrittenBytes)
	}
	return out, nil
}

// render writes a template's playlist for sess: each slot's session URL, with a
// credential for the slot's URI. It fails when the result would pass MaxRewrittenBytes,
// which it knows before it allocates.
func (g *Gate) render(t *playlistTemplate, sess *session) ([]byte, bool) {
	playlists, resources := g.credentials(sess, t.final)
	per := func(enc string) int { return len(sessionPrefix) + credentialLen(enc) + 1 }
	size := len(t.lit) + t.relBytes + t.playlists*per(playlists) + t.resources*per(resources)
	if int64(size) > g.cfg.MaxRewrittenBytes {
		return nil, false
	}
	out := make([]byte, 0, size)
	mp, mr := g.sign.macSet(playlists), g.sign.macSet(resources)
	at := 0
	for _, s := range t.slots {
		out = append(out, t.lit[at:s.at]...)
		at = s.at
		out = append(out, sessionPrefix...)
		if s.playlist {
			out = mp.appendCredential(out, playlists, s.rel)
		} else {
			out = mr.appendCredential(out, resources, s.rel)
		}
		out = append(out, '/')
		out = append(out, s.rel...)
	}
	return append(out, t.lit[at:]...), true
}

// sessionRequest is a request for a session URL, parsed.
type sessionRequest struct {
	cred    string
	relPath string // escaped, relative to the channel's origin directory
	query   string // the request's whole raw query
}

// signedRel is what the credential's MAC covers: the path and the query the gate wrote.
func (s sessionRequest) signedRel() string {
	if q := splitHLSQuery(s.query); q != "" {
		return s.relPath + "?" + q
	}
	return s.relPath
}

// parseSessionPath splits an escaped path /api/video/v1/s/{cred}/{rel}.
func parseSessionPath(escapedPath, rawQuery string) (sessionRequest, bool) {
	rest, ok := strings.CutPrefix(escapedPath, sessionPrefix)
	if !ok {
		return sessionRequest{}, false
	}
	cred, rel, ok := strings.Cut(rest, "/")
	if !ok || cred == "" || rel == "" {
		return sessionRequest{}, false
	}
	return sessionRequest{cred: cred, relPath: rel, query: rawQuery}, true
}

// grant is a session request that may be served: its session, and where on the origin.
type grant struct {
	sess *session
	co   *channelOrigin
	url  *url.URL // the origin URL, with the request's query
}

// checkSession authenticates a session URL, applies the per-request rules (expiry,
// revocation, strict origin) and resolves the origin URL.
func (g *Gate) checkSession(r *http.Request, sr sessionRequest) (*grant, *failure) {
	sess, err := g.sign.check(sr.cred, sr.signedRel())
	if err != nil {
		return nil, &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeBadSession,
			reason: "this URL does not belong to a playback session: start again from the channel's playback URL"}
	}
	infoOf(r).session = sess.idString()
	now := g.now()
	if g.expired(sess, now) {
		return nil, &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeSessionExpired,
			reason: "the playback session has expired: start again from the channel's playback URL"}
	}
	if f := g.checkBind(r, sess); f != nil {
		return nil, f
	}
	if f := g.checkChannel(r, sess); f != nil {
		return nil, f
	}
	if sess.ViewerID != "" {
		if !g.revs.fresh(now, g.cfg.RevocationStaleAfter) {
			return nil, unavailable("viewer-session revocations")
		}
		if g.revs.revoked(sess.channelARN(), sess.ViewerID, sess.Version) {
			return nil, &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeRevoked,
				reason: "this viewer's session was revoked"}
		}
	}
	if ref := playback.Origin(sess.Origins, sess.Strict, !sess.Policy, r.Header.Get("Origin")); ref != nil {
		return nil, refused(ref)
	}
	co, err := g.channelOrigin(sess.Region, sess.Account, sess.ChannelID)
	if err != nil {
		return nil, &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: "the origin URL of this channel is not valid"}
	}
	u, err := co.url(sr.relPath, sr.query)
	if err != nil {
		return nil, &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeBadSession, reason: "this path is outside the channel"}
	}
	g.keepOpen(sess, co, now)
	return &grant{sess: sess, co: co, url: u}, nil
}

// serveSession serves a variant playlist, rendition, key or segment of a session.
func (g *Gate) serveSession(w http.ResponseWriter, r *http.Request) {
	sr, ok := parseSessionPath(r.URL.EscapedPath(), r.URL.RawQuery)
	if !ok {
		g.fail(w, r, &failure{status: http.StatusNotFound, code: "not_found", reason: "nothing is served at this path"})
		return
	}
	gr, f := g.checkSession(r, sr)
	if f != nil {
		g.fail(w, r, f)
		return
	}
	sess, u := gr.sess, gr.url
	g.seen(sess)
	origin := r.Header.Get("Origin")
	if !isPlaylistPath(sr.relPath) {
		g.streamFrom(w, r, u, func(h http.Header) { setCORS(h, origin, sess.Origins) })
		return
	}
	out, cacheControl, f := g.fetchAndRewrite(r, sess, gr.co, u)
	if f != nil {
		g.fail(w, r, f)
		return
	}
	h := w.Header()
	setCORS(h, origin, sess.Origins)
	h.Set("Content-Type", playlistContentType)
	if cacheControl != "" {
		h.Set("Cache-Control", cacheControl)
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(out)
	}
}

// serveAuth is nginx's auth_request endpoint: it checks the session URL in X-Original-URI
// as serveSession would and answers 200 with X-Playkey-Path, the file's path on the
// origin (unescaped), for nginx to serve; 401 for a URL that is not a valid session URL;
// 403 for a session refused now (revoked, origin); 503 when state cannot be read.
func (g *Gate) serveAuth(w http.ResponseWriter, r *http.Request) {
	orig := r.Header.Get("X-Original-URI")
	u, err := url.ParseRequestURI(orig)
	if orig == "" || err != nil {
		g.fail(w, r, &failure{status: http.StatusUnauthorized, code: CodeBadSession, reason: "no X-Original-URI header: configure nginx with proxy_set_header X-Original-URI $request_uri"})
		return
	}
	sr, ok := parseSessionPath(u.EscapedPath(), u.RawQuery)
	if !ok {
		g.fail(w, r, &failure{status: http.StatusUnauthorized, code: CodeBadSession, reason: "not a session URL: nginx must send playback URLs and playlists to the gate, and only session segments to auth_request"})
		return
	}
	gr, f := g.checkSession(r, sr)
	if f != nil {
		if f.code == CodeBadSession || f.code == CodeSessionExpired {
			f.status = http.StatusUnauthorized
		}
		g.fail(w, r, f)
		return
	}
	g.seen(gr.sess)
	h := w.Header()
	setCORS(h, r.Header.Get("Origin"), gr.sess.Origins)
	h.Set("X-Playkey-Path", gr.url.Path)
	h.Set("X-Playkey-Session", gr.sess.idString())
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
