package gate

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAdmitted measures the gate's own work on the requests of an admitted session,
// in process (the origin is a loopback server). Profile with
// go test -run - -bench Admitted -cpuprofile cpu.out -benchmem ./gate.
func BenchmarkAdmitted(b *testing.B) {
	h := newHarness(b)
	liveOrigin(h)
	variant := find(b, h.get(playbackPath(h.public)).body, "360p/index.m3u8")
	seg := find(b, h.get(variant).body, "seg1.m4s")
	serve := func(b *testing.B, req func() *http.Request) {
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.gate.ServeHTTP(rec, req())
			if rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	}
	b.Run("segment", func(b *testing.B) {
		serve(b, func() *http.Request { return httptest.NewRequest("GET", seg, nil) })
	})
	b.Run("media-playlist", func(b *testing.B) {
		serve(b, func() *http.Request { return httptest.NewRequest("GET", variant, nil) })
	})
	b.Run("auth", func(b *testing.B) {
		serve(b, func() *http.Request {
			r := httptest.NewRequest("GET", "/_playkey/auth", nil)
			r.Header.Set("X-Original-URI", seg)
			return r
		})
	})
}
