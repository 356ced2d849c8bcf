package gate

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/playkey/playkey/internal/testenv"
	"github.com/playkey/playkey/token"
)

// TestNginx runs the configuration of docs/nginx/playkey.conf in a real nginx (Debian
// package nginx), with its example addresses and paths replaced by the test's: nginx
// serves the HLS files, sends playlists to the gate and asks the gate's auth endpoint
// about every segment.
func TestNginx(t *testing.T) {
	bin := testenv.Need(t, "nginx", "/usr/sbin/nginx")
	conf, err := os.ReadFile("../docs/nginx/playkey.conf")
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	root := filepath.Join(prefix, "hls")
	port := testenv.FreePort(t)

	// The files: the fixture's playlists and synthetic segments.
	chanDir := filepath.Join(root, "live", "privCHAN0001")
	fixtures, _ := filepath.Glob("testdata/hls/*.m3u8")
	more, _ := filepath.Glob("testdata/hls/*/*.m3u8")
	for _, f := range append(fixtures, more...) {
		rel, _ := filepath.Rel("testdata/hls", f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(chanDir, rel), b)
		if dir := filepath.Dir(rel); dir != "." {
			for _, seg := range []string{"init.mp4", "seg0.m4s", "seg1.m4s", "seg2.m4s"} {
				writeFile(t, filepath.Join(chanDir, dir, seg), segmentBody(dir+"/"+seg))
			}
		}
	}

	h := newHarness(t, func(c *Config) {
		c.Origin = fmt.Sprintf("http://127.0.0.1:%d/live/{channel}/index.m3u8", port)
		c.ClientIPHeader = "X-Real-IP"
	})
	gateAddr := strings.TrimPrefix(h.srv.URL, "http://")
	server := strings.NewReplacer(
		"server 127.0.0.1:8081;", "server "+gateAddr+";",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port),
		"root /srv/hls;", "root "+root+";",
	).Replace(string(conf))
	if strings.Contains(server, "server 127.0.0.1:8081;") || !strings.Contains(server, gateAddr) || !strings.Contains(server, "root "+root+";") || !strings.Contains(server, fmt.Sprint(port)) {
		t.Fatal("docs/nginx/playkey.conf no longer has the example values this test replaces")
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers read the test's private temporary files
	}
	main := fmt.Sprintf(`%s
daemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    %[3]s
}
`, user, prefix, server)
	writeFile(t, filepath.Join(prefix, "nginx.conf"), []byte(main))

	cmd := exec.Command(bin, "-p", prefix, "-c", filepath.Join(prefix, "nginx.conf"), "-e", filepath.Join(prefix, "error.log"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(failAfter):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(prefix, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), log)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	eventually(t, "nginx up", func() bool {
		resp, err := http.Get(base + "/api/video/v1/none")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	// ngx is h.get through nginx.
	ngx := func(p string, headers ...string) *response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+p, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return &response{Response: resp, body: b.String()}
	}

	// A token plays: the playlists come from the gate, the segments from nginx's disk.
	mv := ngx(playbackPath(h.private) + "?token=" + h.sign(token.Claims{ViewerID: "dave", MaximumResolution: "HD", AllowedOrigins: []string{"https://app.example"}}))
	if mv.StatusCode != 200 {
		t.Fatalf("multivariant through nginx: %s %s", mv.Status, mv.body)
	}
	variant := ngx(find(t, mv.body, "720p/index.m3u8"))
	if variant.StatusCode != 200 || !strings.Contains(variant.body, "/api/video/v1/s/") {
		t.Fatalf("variant through nginx: %s\n%s", variant.Status, variant.body)
	}
	seg := find(t, variant.body, "seg1.m4s")
	r := ngx(seg, "Origin", "https://app.example")
	if r.StatusCode != 200 || r.body != string(segmentBody("720p/seg1.m4s")) || r.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("segment through nginx: %s %q, %d bytes", r.Status, r.Header.Get("Content-Type"), len(r.body))
	}
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
		t.Errorf("segment Access-Control-Allow-Origin %q", got)
	}
	if r := ngx(seg, "Range", "bytes=10-19"); r.StatusCode != 206 || r.body != string(segmentBody("720p/seg1.m4s")[10:20]) {
		t.Errorf("range through nginx: %s %q", r.Status, r.body)
	}
	if r := ngx(find(t, variant.body, "init.mp4")); r.StatusCode != 200 {
		t.Errorf("init section: %s", r.Status)
	}

	// What the gate refuses, nginx refuses.
	if r := ngx(strings.Replace(seg, "seg1", "seg2", 1)); r.StatusCode != 401 {
		t.Errorf("a segment URL the gate did not sign: %s", r.Status)
	}
	if r := ngx(strings.Replace(seg, "720p", "1080p", 1)); r.StatusCode != 401 {
		t.Errorf("a rendition above the limit: %s", r.Status)
	}
	wantRefused(t, ngx(playbackPath(h.private)+"?token=bad"), 403, ivsInvalidToken, string(token.Malformed))
	if r := ngx(playbackPath(h.private)); r.StatusCode != 403 || r.Header.Get("X-Playkey-Code") != CodeMissingToken {
		t.Errorf("no token: %s %q", r.Status, r.Header.Get("X-Playkey-Code"))
	}

	h.state.revoke(h.private.String(), "dave", 0)
	eventually(t, "revoked through nginx", func() bool { return ngx(seg).StatusCode == 403 })
	r = ngx(seg)
	if r.Header.Get("X-Playkey-Code") != CodeRevoked {
		t.Errorf("revoked segment: X-Playkey-Code %q (reason %q)", r.Header.Get("X-Playkey-Code"), r.Header.Get("X-Playkey-Reason"))
	}
	wantRefused(t, ngx(find(t, mv.body, "720p/index.m3u8")), 403, ivsAuthError, CodeRevoked)

	// Strict origin on every segment.
	strict := ngx(playbackPath(h.private)+"?token="+h.sign(token.Claims{AllowedOrigins: []string{"https://app.example"}, StrictOriginEnforcement: true}), "Origin", "https://app.example")
	v := ngx(find(t, strict.body, "360p/index.m3u8"), "Origin", "https://app.example")
	s0 := find(t, v.body, "seg0.m4s")
	if r := ngx(s0); r.StatusCode != 403 || r.Header.Get("X-Playkey-Code") != CodeOriginNotAllowed {
		t.Errorf("strict origin, no Origin: %s %q", r.Status, r.Header.Get("X-Playkey-Code"))
	}
	if r := ngx(s0, "Origin", "https://app.example"); r.StatusCode != 200 {
		t.Errorf("strict origin, right Origin: %s", r.Status)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
