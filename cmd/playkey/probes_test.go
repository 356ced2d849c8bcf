package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
)

// TestReadyz: the API's /readyz is 503 with a short reason while the store does not
// answer, never the store's error (which may name its host), and /livez stays 200.
func TestReadyz(t *testing.T) {
	t.Parallel()
	var err error
	ready := readyz(func(context.Context) error { return err })
	get := func(h func(w *httptest.ResponseRecorder)) (int, string) {
		rec := httptest.NewRecorder()
		h(rec)
		return rec.Code, rec.Body.String()
	}
	if code, body := get(func(w *httptest.ResponseRecorder) { ready(w, httptest.NewRequest("GET", "/readyz", nil)) }); code != 200 || body != "ok\n" {
		t.Errorf("readyz with the store up: %d %q", code, body)
	}
	err = errors.New("dial tcp db.internal:5432: connection refused")
	if code, body := get(func(w *httptest.ResponseRecorder) { ready(w, httptest.NewRequest("GET", "/readyz", nil)) }); code != 503 || body != "store unavailable\n" {
		t.Errorf("readyz with the store down: %d %q", code, body)
	}
	if code, body := get(func(w *httptest.ResponseRecorder) { livez(w, httptest.NewRequest("GET", "/livez", nil)) }); code != 200 || body != "ok\n" {
		t.Errorf("livez with the store down: %d %q", code, body)
	}
}
