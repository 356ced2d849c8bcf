package gate

import "net/http"

// DefaultTransport returns the transport a gate with cfg reaches its origin with when
// cfg.Transport is nil (cfg's timeouts, or their defaults), for a caller that wraps it.
func DefaultTransport(cfg Config) http.RoundTripper {
	setDefaults(&cfg)
	return newTransport(cfg)
}
