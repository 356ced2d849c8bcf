package gate

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Every viewer of a channel reloads the same playlists, so the gate fetches each from the
// origin once and shares it: concurrent requests for one origin URL wait for one fetch
// (a Low-Latency HLS blocking reload's _HLS_msn and _HLS_part are in that URL, so equal
// reloads share a fetch and different ones do not), and a fetched playlist is reused for
// a short time (see reuseFor). Each entry keeps the origin's bytes and the templates
// parsed from them; a session's playlist is rendered from a template.

// maxPlaylistCacheBytes bounds what the playlist cache holds, counting each entry's
// origin bytes and its templates' bytes.
const maxPlaylistCacheBytes = 64 << 20

// maxTemplates bounds the templates one entry keeps: one per resolution limit (four)
// per origin directory, which one origin URL has only one of in practice.
const maxTemplates = 8

type playlistCache struct {
	flights singleflight.Group

	mu      sync.Mutex
	entries map[string]*cachedPlaylist
	bytes   int
}

// cachedPlaylist is one origin playlist and when it stops being reused.
type cachedPlaylist struct {
	body         []byte
	cacheControl string
	from         *url.URL // where body came from, after any same-origin redirect
	until        time.Time

	charged int // bytes counted against maxPlaylistCacheBytes

	mu        sync.Mutex
	templates map[templateKey]compiled
}

type templateKey struct {
	basePath  string
	maxHeight int
}

type compiled struct {
	t   *playlistTemplate
	err error
}

// fetched is the outcome of one origin read, shared by the requests that waited for it.
type fetched struct {
	e *cachedPlaylist
	f *failure
}

func newPlaylistCache() *playlistCache {
	return &playlistCache{entries: make(map[string]*cachedPlaylist)}
}

// playlist returns the origin playlist at u: from the cache while it may be reused, else
// from one fetch shared by every request that asks for it meanwhile. The fetch is the
// gate's, not the request's: a viewer who leaves does not fail the others waiting on it.
func (g *Gate) playlist(r *http.Request, u *url.URL) (*cachedPlaylist, *failure) {
	key := u.String()
	pc := g.playlists
	now := g.now()
	if e, ok := pc.fresh(key, now); ok {
		g.m.playlistHits.Add(1)
		return e, nil
	}
	ch := pc.flights.DoChan(key, func() (any, error) {
		// A fetch that ended between the look above and this flight has put its entry:
		// use it rather than read the origin again.
		if e, ok := pc.fresh(key, g.now()); ok {
			g.m.playlistHits.Add(1)
			return fetched{e: e}, nil
		}
		ctx := context.WithoutCancel(r.Context())
		// Reading a playlist holds up to MaxPlaylistBytes: it takes a rewrite slot.
		release, f := g.rewriteSlot(ctx)
		if f != nil {
			return fetched{f: f}, nil
		}
		defer release()
		g.m.playlistFetches.Add(1)
		body, cc, age, from, f := g.readPlaylist(ctx, u)
		if f != nil {
			return fetched{f: f}, nil
		}
		now := g.now()
		e := &cachedPlaylist{body: body, cacheControl: cc, from: from, templates: make(map[templateKey]compiled)}
		if d := g.reuseFor(body, cc, age); d > 0 {
			e.until = now.Add(d)
			pc.put(key, e, now)
		}
		return fetched{e: e}, nil
	})
	select {
	case res := <-ch:
		v := res.Val.(fetched)
		if v.f != nil {
			f := *v.f // each waiter's own: a handler may adjust it
			return nil, &f
		}
		return v.e, nil
	case <-r.Context().Done():
		return nil, &failure{status: 499, code: "client_gone", reason: "the client went away"}
	}
}

// fresh returns the entry for key while it may be reused at now.
func (pc *playlistCache) fresh(key string, now time.Time) (*cachedPlaylist, bool) {
	pc.mu.Lock()
	e, ok := pc.entries[key]
	pc.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e, true
}

func (pc *playlistCache) put(key string, e *cachedPlaylist, now time.Time) {
	// An entry is charged for its bytes and one template of about their size: most
	// entries only ever have one (see maxTemplates).
	e.charged = 2*len(e.body) + len(key) + 256
	if e.charged > maxPlaylistCacheBytes/4 {
		return // it would crowd out the rest
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if old, ok := pc.entries[key]; ok {
		pc.bytes -= old.charged
		delete(pc.entries, key)
	}
	full := func() bool { return pc.bytes+e.charged > maxPlaylistCacheBytes || len(pc.entries) >= maxCacheEntries }
	// Expired entries go first; then any, since every entry lives a few seconds at most.
	for _, expiredOnly := range []bool{true, false} {
		for k, old := range pc.entries {
			if !full() {
				break
			}
			if expiredOnly && now.Before(old.until) {
				continue
			}
			pc.bytes -= old.charged
			delete(pc.entries, k)
		}
	}
	pc.entries[key] = e
	pc.bytes += e.charged
}

// template returns the entry's template for an origin directory and resolution limit,
// parsing it the first time; build does the parsing.
func (e *cachedPlaylist) template(k templateKey, build func([]byte) (*playlistTemplate, error)) (*playlistTemplate, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.templates[k]; ok {
		return c.t, c.err
	}
	t, err := build(e.body)
	if len(e.templates) < maxTemplates {
		e.templates[k] = compiled{t: t, err: err}
	}
	return t, err
}

// reuseFor returns how long a fetched playlist may be served again: for a live media
// playlist half its part target (LL-HLS) or half its target duration, so that a player
// reloading every target duration never misses a segment; for other playlists
// PlaylistReuse; never longer than the origin's Cache-Control (or Expires) allows.
func (g *Gate) reuseFor(body []byte, cacheControl string, age time.Duration) time.Duration {
	if g.cfg.PlaylistReuse < 0 {
		return 0
	}
	d := g.cfg.PlaylistReuse
	if !isFinalPlaylist(body) {
		if t, ok := playlistSeconds(body, "#EXT-X-PART-INF:PART-TARGET="); ok {
			d = t / 2
		} else if t, ok := playlistSeconds(body, "#EXT-X-TARGETDURATION:"); ok {
			d = t / 2
		}
	}
	if maxAge, ok := allowedAge(cacheControl); ok {
		d = min(d, maxAge-age)
	}
	return d
}

// playlistSeconds reads the decimal seconds after prefix at the start of a line.
func playlistSeconds(body []byte, prefix string) (time.Duration, bool) {
	i := bytes.Index(body, []byte("\n"+prefix))
	if i < 0 {
		return 0, false
	}
	v := body[i+1+len(prefix):]
	if j := bytes.IndexAny(v, ",\r\n"); j >= 0 {
		v = v[:j]
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f <= 0 || f > 3600 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// allowedAge reads how long a shared cache may keep a response from its Cache-Control:
// 0 for no-store, no-cache or private; s-maxage, else max-age; ok false when it says
// nothing of it. Only these directives bound a shared cache's reuse, so a full parser of
// RFC 9111 would add nothing here.
func allowedAge(cc string) (time.Duration, bool) {
	var age, sage time.Duration
	var hasAge, hasSage bool
	for d := range strings.SplitSeq(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		val = strings.Trim(val, `"`)
		switch strings.ToLower(name) {
		case "no-store", "no-cache", "private":
			return 0, true
		case "max-age", "s-maxage":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return 0, true // unreadable: do not reuse
			}
			v := time.Duration(min(n, 3600)) * time.Second
			if strings.EqualFold(name, "s-maxage") {
				sage, hasSage = v, true
			} else {
				age, hasAge = v, true
			}
		}
	}
	switch {
	case hasSage:
		return sage, true
	case hasAge:
		return age, true
	}
	return 0, false
}
