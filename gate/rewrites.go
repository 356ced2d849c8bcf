package gate

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// A rewrite holds the origin's playlist (up to MaxPlaylistBytes) and the rewritten one (up
// to MaxRewrittenBytes) at once, so the gate runs at most MaxConcurrentRewrites of them:
// their memory is bounded whatever clients ask for. A request that finds them all busy
// waits RewriteWait for one, then gets 503 with Retry-After.

var errRewriteTooLarge = errors.New("the rewritten playlist would be too large")

// rewriteSlot waits for a free rewrite slot. It returns the function that frees it, or
// the failure to answer when none came free in time.
func (g *Gate) rewriteSlot(r *http.Request) (func(), *failure) {
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
	case <-r.Context().Done():
		return nil, &failure{status: 499, code: "client_gone", reason: "the client went away"}
	}
}

// rewriteBudget counts what rewriting adds to a playlist of size n and fails once the
// result would pass the limit.
type rewriteBudget struct{ left int }

func newRewriteBudget(n int, limit int64) *rewriteBudget {
	return &rewriteBudget{left: int(limit) - n}
}

func (b *rewriteBudget) add(from, to string) error {
	b.left -= len(to) - len(from)
	if b.left < 0 {
		return errRewriteTooLarge
	}
	return nil
}

func rewriteTooLarge(limit int64) *failure {
	return &failure{status: http.StatusBadGateway, code: CodeOriginError,
		reason: "the origin's playlist is too large once rewritten (over " + strconv.FormatInt(limit, 10) + " bytes)"}
}

// fetchAndRewrite reads the playlist at u from the origin and rewrites it for sess, in a
// rewrite slot. The slot is freed before the response is written, so a client that reads
// slowly holds only its own response (its writes are bounded by WriteTimeout), never a
// slot other viewers need.
func (g *Gate) fetchAndRewrite(r *http.Request, sess *session, co *channelOrigin, u *url.URL) ([]byte, string, *failure) {
	release, f := g.rewriteSlot(r)
	if f != nil {
		return nil, "", f
	}
	defer release()
	body, cacheControl, f := g.readPlaylist(r, u)
	if f != nil {
		return nil, "", f
	}
	out, f := g.rewrite(body, sess, co, u)
	return out, cacheControl, f
}
