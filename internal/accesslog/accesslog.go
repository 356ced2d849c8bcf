// Package accesslog holds what playkey's servers need to write one log line per request:
// a ResponseWriter that remembers the status and size of what it answered.
package accesslog

import "net/http"

// Recorder wraps a ResponseWriter and remembers the status and body size written through
// it. Status is 200 until a handler says otherwise, as net/http assumes.
type Recorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
	Wrote  bool // whether the header has been sent
}

// NewRecorder wraps w.
func NewRecorder(w http.ResponseWriter) *Recorder {
	return &Recorder{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader records the first status and passes it on.
func (r *Recorder) WriteHeader(status int) {
	if !r.Wrote {
		r.Status, r.Wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

// Write passes b on and counts it.
func (r *Recorder) Write(b []byte) (int, error) {
	r.Wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.Bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
