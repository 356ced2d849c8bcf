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
const (
	liveCacheTTL    = time.Second
	offlineCacheTTL = 250 * time.Millisecond
	storeErrorRetry = time.Second
)

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
	if resp != nil {
		// The gate resolves a playlist's URIs against resp.Request.URL (the URL a redirect
		// led to): it must stay the channel's own URL, not the ingest node's it stands for.
		resp.Request = req
	}
	return resp, err
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
	st, err := t.store.LiveStream(ctx, arn)
	switch {
	case playkey.IsCode(err, playkey.ErrChannelNotBroadcasting), playkey.IsCode(err, playkey.ErrResourceNotFound),
		err == nil && st.Origin == "":
		t.cache.Store(arn, liveCacheEntry{expires: now.Add(offlineCacheTTL)})
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
	t.cache.Store(arn, liveCacheEntry{url: st.Origin, expires: now.Add(liveCacheTTL)})
	return st.Origin
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
