package live

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"

	"github.com/playkey/playkey/ingest"
)

// Authority is what the callbacks of an operator's media server (nginx-rtmp, MediaMTX)
// need of the registry: the ingest Authority, and Start for an engine that can still
// refuse a publish after the registry has recorded it (Registry implements it).
type Authority interface {
	ingest.Authority
	// Start records the stream live, or says why not (playkey.ErrConflict: it is live
	// elsewhere).
	Start(ctx context.Context, s *ingest.Stream, origin string) error
}

var _ Authority = (*Registry)(nil)

// TrustedCallback reports whether r may speak for a media server: it carries secret as
// its secret= query parameter, or, with no secret configured, comes from this machine.
func TrustedCallback(r *http.Request, secret string) bool {
	if secret != "" {
		got := r.URL.Query().Get("secret")
		return subtle.ConstantTimeCompare([]byte(got), []byte(secret)) == 1
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}
