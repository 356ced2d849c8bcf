package main

import (
	"context"
	"net/http"
	"time"

	"github.com/playkey/playkey/internal/certfile"
)

// Kubernetes-style probes of the API listener (the gate serves its own, gate.Gate):
// /livez says the process serves requests; /readyz also that the store answers. /healthz
// (healthz) stays as it was, for what already uses it.

func livez(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 while ping succeeds within 2 seconds, else 503 with the reason.
func readyz(ping func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := ping(ctx); err != nil {
			// The reason, not the error: it may name a database host.
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("store unavailable\n"))
			return
		}
		w.Write([]byte("ok\n"))
	}
}

// scheme is the URL scheme of the API and gate listeners: https with a certificate.
func scheme(cert *certfile.Source) string {
	if cert != nil {
		return "https"
	}
	return "http"
}
