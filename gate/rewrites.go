package gate

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// A rewrite holds the origin's playlist (up to MaxPlaylistBytes) and the rewritten one (up
// to MaxRewrittenBytes) at once, so the gate runs at most MaxConcurrentRewrites of them:
// their memory is bounded whatever clients ask for. A request that finds them all busy
// waits RewriteWait for one, then gets 503 with Retry-After.

// rewriteSlot waits for a free rewrite slot. It returns the function that frees it, or
// the failure to answer when none came free in time.
func (g *Gate) rewriteSlot(ctx context.Context) (func(), *failure) {
	release := func() { <-g.rewrites }
	select {
	case g.rewrites <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(g.cfg.RewriteWait)
	defer t.Stop()
	select {
	case g.rewrites <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, &failure{status: http.StatusServiceUnavailable, code: CodeBusy,
			reason: "the gate is rewriting as many playlists as it may at once; try again shortly", retryAfter: time.Second}
	case <-ctx.Done():
		return nil, &failure{status: 499, code: "client_gone", reason: "the client went away"}
	}
}

func rewriteTooLarge(limit int64) *failure {
	return &failure{status: http.StatusBadGateway, code: CodeOriginError,
		reason: "the origin's playlist is too large once rewritten (over " + strconv.FormatInt(limit, 10) + " bytes)"}
}

// fetchAndRewrite returns the playlist at u rewritten for sess, and the origin's
// Cache-Control. The origin's playlist comes from the playlist cache; rendering it takes a
// rewrite slot, freed before the response is written, so a client that reads slowly
// holds only its own response (its writes are bounded by WriteTimeout), never a slot
// other viewers need.
func (g *Gate) fetchAndRewrite(r *http.Request, sess *session, co *channelOrigin, u *url.URL) ([]byte, string, *failure) {
	e, f := g.playlist(r, u)
	if f != nil {
		return nil, "", f
	}
	release, f := g.rewriteSlot(r.Context())
	if f != nil {
		return nil, "", f
	}
	defer release()
	out, f := g.rewrite(e, sess, co, e.from)
	return out, e.cacheControl, f
}
