package accesslog

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecorder(t *testing.T) {
	w := httptest.NewRecorder()
	r := NewRecorder(w)
	if r.Status != http.StatusOK || r.Wrote {
		t.Fatalf("new recorder: %+v", r)
	}
	r.WriteHeader(http.StatusTeapot)
	r.WriteHeader(http.StatusOK) // ignored by net/http too
	r.Write([]byte("hello"))
	r.Write([]byte(", world"))
	if r.Status != http.StatusTeapot || r.Bytes != 12 || !r.Wrote || w.Body.String() != "hello, world" {
		t.Fatalf("recorder: status %d, bytes %d, wrote %v; body %q", r.Status, r.Bytes, r.Wrote, w.Body)
	}
	if http.NewResponseController(r).Flush() != nil {
		t.Fatal("Flush did not reach the underlying writer")
	}
}
