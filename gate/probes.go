package gate

import (
	"context"
	"net/http"
	"time"
)

// The gate's probes, for Kubernetes and load balancers. /healthz (serveHealth) is older and
// stays as it is: 503 once revocations are stale.

// serveLive answers /livez: the process runs and serves requests. It checks nothing else,
// so that a store outage (during which admitted sessions play on) never restarts the gate.
func (g *Gate) serveLive(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// serveReady answers /readyz: 200 when the store answers (Config.Ping) and the revocations
// were read within RevocationStaleAfter, else 503 with the reason, so that new viewers are
// sent to a gate that can admit them.
func (g *Gate) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if reason := g.notReady(r.Context()); reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(reason + "\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// notReady returns why the gate cannot admit new viewers now, or "".
func (g *Gate) notReady(ctx context.Context) string {
	if g.cfg.Ping != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := g.cfg.Ping(ctx); err != nil {
			// Not the error, which may name the database's host.
			return "store unavailable"
		}
	}
	if !g.revs.fresh(g.now(), g.cfg.RevocationStaleAfter) {
		return "revocations not read recently"
	}
	return ""
}
