package gatebench

import (
	"strings"
	"testing"
	"time"
)

// TestRun: a small run plays every session to its request bound without an error, and
// verifies each token once; later requests cost no ECDSA verification.
func TestRun(t *testing.T) {
	const viewers, perViewer = 3, 12
	bc := Config{Viewers: viewers, Duration: time.Minute, RequestsPerViewer: perViewer, SegmentSize: 1024, Segments: 4}
	res, err := Run(t.Context(), bc)
	if err != nil {
		t.Fatal(err)
	}
	if res.errors != 0 || res.requests != viewers*perViewer || len(res.starts) != viewers {
		t.Errorf("requests %d, errors %d, starts %d; want %d, 0, %d", res.requests, res.errors, len(res.starts), viewers*perViewer, viewers)
	}
	if res.metrics.Verifications != viewers || res.metrics.Sessions != viewers {
		t.Errorf("metrics %+v: want %d verifications and sessions", res.metrics, viewers)
	}
	var out strings.Builder
	res.Print(&out, bc)
	if !strings.Contains(out.String(), "ECDSA         3 verifications for 3 sessions and 36 requests") {
		t.Errorf("report:\n%s", out.String())
	}
}
