package gate

import (
	"net/http"
	"strings"
	"testing"
)

// TestOriginDetailsStayInTheLog: what the origin says or names (hosts, paths, secrets in
// its URIs, its reason phrases) never reaches a viewer; the gate's log has it.
func TestOriginDetailsStayInTheLog(t *testing.T) {
	h := newHarness(t)
	const secret = "db7.corp.internal"
	for _, c := range []struct {
		name   string
		origin func(w http.ResponseWriter, r *http.Request)
		status int
	}{
		{"URI outside the channel", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://" + secret + ":8443/x.m3u8?apikey=s3cr3t\n"))
		}, 502},
		{"origin error with a reason phrase", func(w http.ResponseWriter, r *http.Request) {
			hj, _, _ := w.(http.Hijacker).Hijack()
			hj.Write([]byte("HTTP/1.1 500 " + secret + " is down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			hj.Close()
		}, 502},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+secret+"/moved.m3u8", http.StatusFound)
		}, 502},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.setOriginHook(func(w http.ResponseWriter, r *http.Request) bool { c.origin(w, r); return true })
			r := h.get(playbackPath(h.public))
			wantRefused(t, r, c.status, "", CodeOriginError)
			for _, where := range []string{r.body, r.Header.Get("X-Playkey-Reason")} {
				if strings.Contains(where, secret) || strings.Contains(where, "s3cr3t") {
					t.Errorf("a viewer sees the origin's details: %s", where)
				}
			}
			if !strings.Contains(h.logs.String(), secret) {
				t.Errorf("the log lacks the detail:\n%s", h.logs)
			}
		})
	}
}
