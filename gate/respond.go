package gate

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/token"
)

// IVS error_code values of a refusal body.
const (
	// ivsInvalidToken: the token is missing or rejected.
	ivsInvalidToken = "invalid_playback_auth_token"
	// ivsAuthError: a valid token or session refused by state: single use, revocation,
	// origin. IVS was seen answering a single-use replay with it.
	ivsAuthError = "playback_auth_error"
	// ivsRestricted: a public channel's playback restriction policy refused [choice].
	ivsRestricted = "playback_restricted"
)

// The codes sent in X-Playkey-Code beside the token package's codes: the playback
// decision's, and the gate's own.
const (
	CodeMissingToken      = playback.CodeMissingToken
	CodeAlreadyUsed       = playback.CodeAlreadyUsed
	CodeRevoked           = playback.CodeRevoked
	CodeOriginNotAllowed  = playback.CodeOriginNotAllowed
	CodeCountryNotAllowed = playback.CodeCountryNotAllowed
	CodeChannelNotFound   = playback.CodeChannelNotFound
	CodeBadSession        = "bad_session"
	CodeSessionExpired    = "session_expired"
	CodeSessionElsewhere  = "session_elsewhere"
	CodeNoRendition       = "no_rendition"
	CodeRateLimited       = "rate_limited"
	CodeUnavailable       = "unavailable"
	CodeOriginError       = "origin_error"
	CodeOriginTimeout     = "origin_timeout"
	CodeBusy              = "busy"
)

// failure is a refused or failed request: everything writeFailure needs.
type failure struct {
	status  int
	ivsCode string // error_code in the body; "" for the gate's non-IVS answers
	code    string // X-Playkey-Code
	reason  string // for a person; never a token or a credential
	// detail is for the gate's log only: what a viewer must not see (origin hosts, paths
	// and answers).
	detail     string
	retryAfter time.Duration
}

// refused maps a refusal of the playback decision to its answer.
func refused(r *playback.Refusal) *failure {
	f := &failure{status: http.StatusForbidden, code: r.Code, reason: r.Reason}
	switch {
	case r.Code == CodeChannelNotFound:
		f.status = http.StatusNotFound
	case r.Policy:
		f.ivsCode = ivsRestricted
	case r.Code == CodeRevoked || r.Code == CodeAlreadyUsed || r.Code == CodeOriginNotAllowed:
		f.ivsCode = ivsAuthError
	default: // a missing or rejected token
		f.ivsCode = ivsInvalidToken
	}
	return f
}

func unavailable(what string) *failure {
	return &failure{status: http.StatusServiceUnavailable, code: CodeUnavailable, reason: what + " cannot be read right now; try again shortly"}
}

// errorItem is one element of IVS's refusal body.
type errorItem struct {
	URL       string `json:"url"`
	Error     string `json:"error"`
	ErrorCode string `json:"error_code"`
	Type      string `json:"type"`
}

// fail is the one place that writes a refusal or an error: IVS's JSON array body, the
// X-Playkey-Code and X-Playkey-Reason headers, and CORS headers so that a browser player
// can see the status. ServeHTTP counts the answer by its code and status.
func (g *Gate) fail(w http.ResponseWriter, r *http.Request, f *failure) {
	infoOf(r).code = f.code
	if f.detail != "" {
		g.log.Warn("gate: origin problem", "code", f.code, "status", f.status, "detail", f.detail)
	}
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Accept-Ranges", "Cache-Control"} {
		h.Del(k)
	}
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Access-Control-Expose-Headers", exposedHeaders)
	h.Set("X-Playkey-Code", f.code)
	h.Set("X-Playkey-Reason", headerSafe(f.reason))
	h.Set("Cache-Control", "no-store")
	if f.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((f.retryAfter+time.Second-1)/time.Second)))
	}
	ivs := f.ivsCode
	if ivs == "" {
		ivs = f.code
	}
	body, _ := json.Marshal([]errorItem{{URL: quotePath(r.URL.Path), Error: f.reason, ErrorCode: ivs, Type: "error"}})
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(f.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// exposedHeaders are the response headers a browser lets a cross-origin player read.
const exposedHeaders = "Content-Length, Content-Range, X-Playkey-Code, X-Playkey-Reason"

// headerSafe makes a reason fit in a header value: printable ASCII, bounded.
func headerSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 0x20 && c < 0x7f {
			b.WriteRune(c)
		} else {
			b.WriteByte('?')
		}
		if b.Len() >= 300 {
			break
		}
	}
	return b.String()
}

// setCORS sets the CORS headers of a served response. origins nil allows every origin;
// a request from an origin not allowed gets no Access-Control-Allow-Origin, so a browser
// will not hand the response to the page (without strict enforcement, other clients may
// still play, as with IVS).
func setCORS(h http.Header, origin string, origins []string) {
	h.Set("Access-Control-Expose-Headers", exposedHeaders)
	if origins == nil {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Add("Vary", "Origin")
	c := token.Claims{AllowedOrigins: origins}
	if origin != "" && c.OriginAllowed(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
	}
}

// servePreflight answers CORS preflight requests. It grants nothing: the request that
// follows is checked in full.
func (g *Gate) servePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", headerSafe(rh))
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
