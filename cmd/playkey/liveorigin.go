package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/ingest"
)

// The gate knows one origin template. To serve live channels from wherever an ingest node
// packages them, the gate is given a template on a host that is never dialled, and its
// transport (liveOrigins) resolves each request on that host to the channel's origin:
// the ingest node that records the channel live, else the operator's --origin, else a
// 404, which players read as "not live". The gate's rules are untouched: it sees one
// origin directory per channel, as before.
const (
	liveOriginHost = "live.playkey.invalid"
	// liveMultivariant is the multivariant playlist's name in the virtual directory, chosen
	// not to collide with a file of the operator's origin or of gohlslib's.
	liveMultivariant   = "playkey-multivariant.m3u8"
	liveOriginTemplate = "http://" + liveOriginHost + "/{region}/{account}/{channel}/" + liveMultivariant
)

// liveOrigins is the gate's transport when channels can be live on playkey's ingest.
type liveOrigins struct {
	next     http.RoundTripper
	local    *ingest.Server // this process's ingest, or nil
	store    liveStreams    // the live streams every ingest node records, or nil
	fallback string         // the operator's --origin template, or ""
	cache    sync.Map       // playkey.ARN -> liveCacheEntry
	// announced is set while the store announces stream changes (PostgreSQL's Watch),
	// which drop a channel's record at once: records are then kept for announcedTTL.
	announced atomic.Bool
	// forgets counts the records dropped; a lookup that overlapped one keeps what it read
	// only briefly, since it may predate the change.
	forgets atomic.Int64
}

// liveStreams is the part of playkey.Store the gate reads live streams with.
type liveStreams interface {
	LiveStream(ctx context.Context, channel playkey.ARN) (*playkey.Stream, error)
}

type liveCacheEntry struct {
	url     string // "" when not live
	expires time.Time
}

// Store records are cached briefly: a viewer asks for a part several times a second.
// While the store announces stream changes, they are kept for announcedTTL: the
// announcement drops them, and the bound is for what is not announced (a stream whose
// ingest vanished times out in the store).
const (
	liveCacheTTL    = time.Second
	offlineCacheTTL = 250 * time.Millisecond
	storeErrorRetry = time.Second
	announcedTTL    = 10 * time.Second
)

// forget drops what is cached of channel: it went live, ended, moved or was stopped.
func (t *liveOrigins) forget(channel playkey.ARN) {
	t.forgets.Add(1)
	t.cache.Delete(channel)
}

// forgetAll drops every record, and says whether announcements are heard from now on.
func (t *liveOrigins) forgetAll(announced bool) {
	t.announced.Store(announced)
	t.forgets.Add(1)
	t.cache.Clear()
}

func (t *liveOrigins) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != liveOriginHost {
		return t.next.RoundTrip(req)
	}
	parts := strings.SplitN(strings.TrimPrefix(req.URL.EscapedPath(), "/"), "/", 4)
	if len(parts) != 4 {
		return notFound(req), nil
	}
	arn := playkey.ARN{Region: parts[0], Account: parts[1], Type: playkey.TypeChannel, ID: parts[2]}
	rest := parts[3]
	origin := t.lookup(req.Context(), arn)
	live := origin != ""
	if !live {
		if t.fallback == "" {
			return notFound(req), nil
		}
		origin = strings.NewReplacer("{region}", arn.Region, "{account}", arn.Account, "{channel}", arn.ID).Replace(t.fallback)
	}
	target := origin
	if rest != liveMultivariant {
		target = origin[:strings.LastIndexByte(origin, '/')+1] + rest
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("live origin of %s: %w", arn, err)
	}
	u.RawQuery = req.URL.RawQuery
	out := req.Clone(req.Context())
	out.URL, out.Host = u, u.Host
	resp, err := t.next.RoundTrip(out)
	if live && errors.Is(err, syscall.ECONNREFUSED) {
		// The ingest node that recorded the stream is gone (its record outlives a crash):
		// nothing serves the channel, which players must read as "not live".
		return notFound(req), nil
	}
	if err != nil {
		return nil, err
	}
	// The gate resolves the playlist's URIs against the request it made, the virtual one.
	resp.Request = req
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Header.Set("Location", virtualLocation(req.URL, u, loc))
	}
	return resp, nil
}

func querySuffix(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// virtualLocation maps a redirect of the real origin (served at real, asked as virtual)
// back into the virtual directory, when it stays in the origin's directory, so that the
// gate can follow it as it follows any redirect on its origin; any other target is made
// absolute and left as it is, which the gate does not follow.
func virtualLocation(virtual, real *url.URL, loc string) string {
	target, err := real.Parse(loc)
	if err != nil {
		return "http://" + liveOriginHost + "/invalid-redirect"
	}
	realDir := real.EscapedPath()[:strings.LastIndexByte(real.EscapedPath(), '/')+1]
	virtualDir := virtual.EscapedPath()[:strings.LastIndexByte(virtual.EscapedPath(), '/')+1]
	rel, ok := strings.CutPrefix(target.EscapedPath(), realDir)
	if target.Scheme != real.Scheme || !strings.EqualFold(target.Host, real.Host) || !ok {
		return target.String()
	}
	vpath := virtualDir + rel
	if target.EscapedPath() == real.EscapedPath() {
		vpath = virtual.EscapedPath() // the file asked for, under its virtual name
	}
	return "http://" + liveOriginHost + vpath + querySuffix(target.RawQuery)
}

// lookup returns the URL of the channel's multivariant playlist on the ingest node that
// has it live, or "" when none has (or none is known while the store cannot be read).
func (t *liveOrigins) lookup(ctx context.Context, arn playkey.ARN) string {
	if t.local != nil {
		if _, ok := t.local.Live(arn); ok {
			return t.local.OriginURL(arn)
		}
	}
	if t.store == nil {
		return ""
	}
	now := time.Now()
	prev, cached := t.cache.Load(arn)
	if cached && now.Before(prev.(liveCacheEntry).expires) {
		return prev.(liveCacheEntry).url
	}
	forgets := t.forgets.Load()
	st, err := t.store.LiveStream(ctx, arn)
	liveTTL, offlineTTL := liveCacheTTL, offlineCacheTTL
	if t.announced.Load() && t.forgets.Load() == forgets {
		liveTTL, offlineTTL = announcedTTL, announcedTTL
	}
	switch {
	case playkey.IsCode(err, playkey.ErrChannelNotBroadcasting), playkey.IsCode(err, playkey.ErrResourceNotFound),
		err == nil && st.Origin == "":
		t.keep(arn, liveCacheEntry{expires: now.Add(offlineTTL)}, forgets)
		return ""
	case err != nil:
		// The store cannot be read: keep serving what was last known (else the channel is
		// not live here, and --origin or a 404 answers), as the gate keeps deciding on
		// what it read last, and ask again only after a while, so that viewers do not
		// each wait for the store.
		var stale string
		if cached {
			stale = prev.(liveCacheEntry).url
		}
		t.cache.Store(arn, liveCacheEntry{url: stale, expires: now.Add(storeErrorRetry)})
		return stale
	}
	t.keep(arn, liveCacheEntry{url: st.Origin, expires: now.Add(liveTTL)}, forgets)
	return st.Origin
}

// keep caches what a lookup read, unless a record was dropped since the lookup began
// (forgets is the count it began with): what it read may predate that change.
func (t *liveOrigins) keep(arn playkey.ARN, e liveCacheEntry, forgets int64) {
	t.cache.Store(arn, e)
	if t.forgets.Load() != forgets {
		t.cache.Delete(arn)
	}
}

func notFound(req *http.Request) *http.Response {
	const body = "channel is not live\n"
	return &http.Response{
		Status:        "404 Not Found",
		StatusCode:    http.StatusNotFound,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// originSettings returns the gate's origin template and transport: the operator's
// --origin alone, or, when channels can be live on playkey's ingest, the virtual origin
// that finds them (with --origin as the fallback for channels ingest does not carry).
func (f *gateFlags) originSettings() (string, http.RoundTripper) {
	if f.live == nil {
		return f.origin, nil
	}
	f.live.fallback = f.origin
	f.live.next = gate.DefaultTransport(gate.Config{})
	return liveOriginTemplate, f.live
}
