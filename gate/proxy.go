package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// passedResponseHeaders are the origin's response headers a client gets for a segment.
var passedResponseHeaders = []string{
	"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges",
	"Cache-Control", "Expires", "ETag", "Last-Modified",
}

// passedRequestHeaders are the client's request headers sent on for a segment.
var passedRequestHeaders = []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"}

// originRequest starts a request to the origin. The returned cancel must be called once
// the response body is done with; until then, a body that makes no progress for
// IdleTimeout is cut off.
func (g *Gate) originRequest(r *http.Request, method string, u *url.URL, conditional bool) (*http.Response, context.CancelFunc, *failure) {
	return g.originRequestCtx(r.Context(), r, method, u, conditional)
}

// originRequestCtx is originRequest in ctx; r, when not nil, gives the headers passed on.
func (g *Gate) originRequestCtx(rctx context.Context, r *http.Request, method string, u *url.URL, conditional bool) (*http.Response, context.CancelFunc, *failure) {
	ctx, cancel := context.WithCancel(rctx)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		cancel()
		return nil, nil, &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: "the origin URL is not valid"}
	}
	for k, v := range g.cfg.OriginHeader {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "playkey-gate")
	if conditional && r != nil {
		for _, k := range passedRequestHeaders {
			if v := r.Header.Values(k); len(v) > 0 {
				req.Header[k] = v
			}
		}
	}
	resp, err := g.client.Do(req)
	if err != nil {
		cancel()
		if rctx.Err() != nil {
			return nil, nil, &failure{status: 499, code: "client_gone", reason: "the client went away"}
		}
		g.log.Warn("gate: origin request failed", "url", u.Redacted(), "err", err)
		if isTimeout(err) {
			return nil, nil, &failure{status: http.StatusGatewayTimeout, code: CodeOriginTimeout, reason: "the origin did not answer in time"}
		}
		return nil, nil, &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: "the origin cannot be reached"}
	}
	idle := time.AfterFunc(g.cfg.IdleTimeout, cancel)
	resp.Body = &idleBody{ReadCloser: resp.Body, timer: idle, d: g.cfg.IdleTimeout}
	return resp, func() { idle.Stop(); cancel() }, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// idleBody pushes back its deadline whenever bytes arrive.
type idleBody struct {
	io.ReadCloser
	timer *time.Timer
	d     time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.d)
	}
	return n, err
}

// originStatus turns an origin status the gate does not pass through into a failure:
// redirects and server errors are 502; client errors other than those a player expects
// are passed as they are.
func originStatus(resp *http.Response) *failure {
	// The origin's own words (its reason phrase, a redirect's target) go to the log only.
	detail := fmt.Sprintf("the origin answered %q", resp.Status)
	if resp.Request != nil {
		detail = fmt.Sprintf("%s answered %q", resp.Request.URL.Redacted(), resp.Status)
	}
	switch {
	case resp.StatusCode >= 500:
		return &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: originFailed, detail: detail}
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified:
		return &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: originFailed, detail: detail + "; the gate follows redirects only to the origin's own scheme, host and port"}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return &failure{status: resp.StatusCode, code: "not_found", reason: "the origin has no such file"}
	case resp.StatusCode >= 400 && resp.StatusCode != http.StatusRequestedRangeNotSatisfiable:
		return &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: originFailed, detail: detail}
	}
	return nil
}

// originFailed is all a viewer learns of an origin's failure; the log has the rest.
const originFailed = "the origin cannot serve this file right now; the gate's log has details"

// streamFrom copies a segment (or any non-playlist file) from the origin without buffering
// it: status, the passed headers, and the body as it arrives.
func (g *Gate) streamFrom(w http.ResponseWriter, r *http.Request, u *url.URL, cors func(http.Header)) {
	resp, done, f := g.originRequest(r, r.Method, u, true)
	if f != nil {
		g.fail(w, r, f)
		return
	}
	defer done()
	defer resp.Body.Close()
	if f := originStatus(resp); f != nil {
		g.fail(w, r, f)
		return
	}
	h := w.Header()
	for _, k := range passedResponseHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	cors(h)
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead || resp.StatusCode == http.StatusNotModified {
		return
	}
	if err := copyFlushing(w, resp.Body, g.cfg.WriteTimeout); err != nil && r.Context().Err() == nil {
		// The status is sent; all that is left is to cut the response short.
		g.log.Warn("gate: origin body cut off", "url", u.Redacted(), "err", err)
		panic(http.ErrAbortHandler)
	}
}

// copyFlushing copies body to w and flushes after each read, so that bytes the origin
// trickles out (LL-HLS parts, preload hints) reach the player as they come, not when a
// buffer fills.
//
// Each write must finish within writeTimeout: a client that stops reading is cut off.
func copyFlushing(w http.ResponseWriter, body io.Reader, writeTimeout time.Duration) error {
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	rc := http.NewResponseController(w)
	for {
		n, err := body.Read(*buf)
		if n > 0 {
			rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // unsupported in tests' recorders: then unbounded
			if _, werr := w.Write((*buf)[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readPlaylist fetches a playlist whole, up to MaxPlaylistBytes. It returns the body,
// the origin's Cache-Control, the response's Age, and the URL it came from (u, or where
// the origin redirected to), against which its relative URIs resolve.
func (g *Gate) readPlaylist(ctx context.Context, u *url.URL) ([]byte, string, time.Duration, *url.URL, *failure) {
	resp, done, f := g.originRequestCtx(ctx, nil, http.MethodGet, u, false)
	if f != nil {
		return nil, "", 0, nil, f
	}
	defer done()
	defer resp.Body.Close()
	if f := originStatus(resp); f != nil {
		return nil, "", 0, nil, f
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", 0, nil, &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: originFailed,
			detail: fmt.Sprintf("%s answered %q for a playlist", u.Redacted(), resp.Status)}
	}
	if resp.ContentLength > g.cfg.MaxPlaylistBytes {
		return nil, "", 0, nil, tooLarge(g.cfg.MaxPlaylistBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, g.cfg.MaxPlaylistBytes+1))
	if err != nil {
		if isTimeout(err) || errors.Is(err, context.Canceled) {
			return nil, "", 0, nil, &failure{status: http.StatusGatewayTimeout, code: CodeOriginTimeout, reason: "the origin stopped sending the playlist"}
		}
		return nil, "", 0, nil, &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: "reading the playlist from the origin failed"}
	}
	if int64(len(body)) > g.cfg.MaxPlaylistBytes {
		return nil, "", 0, nil, tooLarge(g.cfg.MaxPlaylistBytes)
	}
	var age time.Duration
	if a, err := strconv.ParseInt(resp.Header.Get("Age"), 10, 64); err == nil && a > 0 {
		age = time.Duration(min(a, 3600)) * time.Second
	}
	from := u
	if resp.Request != nil && resp.Request.URL != nil {
		from = resp.Request.URL
	}
	return body, resp.Header.Get("Cache-Control"), age, from, nil
}

func tooLarge(limit int64) *failure {
	return &failure{status: http.StatusBadGateway, code: CodeOriginError, reason: "the origin's playlist is larger than " + strconv.FormatInt(limit, 10) + " bytes"}
}

// isPlaylistPath reports whether an origin-relative path names a playlist, which the gate
// must rewrite rather than pass through.
func isPlaylistPath(rel string) bool {
	ext := strings.ToLower(rel[strings.LastIndexByte(rel, '.')+1:])
	return ext == "m3u8" || ext == "m3u"
}

// playlistContentType is the type RFC 8216 gives playlists.
var playlistContentType = mime.FormatMediaType("application/vnd.apple.mpegurl", nil)
