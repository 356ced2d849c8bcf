package console_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/playkey/playkey/console"
	"github.com/playkey/playkey/internal/testenv"
)

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandlerHeaders(t *testing.T) {
	h := console.Handler()
	cases := []struct {
		path, contentType string
	}{
		{"/console/", "text/html; charset=utf-8"},
		{"/console/index.html", "text/html; charset=utf-8"},
		{"/console/js/app.js", "text/javascript; charset=utf-8"},
		{"/console/js/pages/keys.js", "text/javascript; charset=utf-8"},
		{"/console/console.css", "text/css; charset=utf-8"},
		{"/console/favicon.svg", "image/svg+xml"},
	}
	for _, c := range cases {
		res := get(t, h, http.MethodGet, c.path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", c.path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != c.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, got, c.contentType)
		}
		checkSecurityHeaders(t, c.path, res)
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", c.path, got)
		}
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", c.path)
			continue
		}
		again := get(t, h, http.MethodGet, c.path, http.Header{"If-None-Match": {etag}})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: status %d, want 304", c.path, again.StatusCode)
		}
	}

	res := get(t, h, http.MethodGet, "/console", nil)
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d Location %q, want 301 to /console/", res.StatusCode, res.Header.Get("Location"))
	}
	for _, p := range []string{"/console/nope.js", "/console/js/", "/console/../go.mod", "/elsewhere"} {
		res := get(t, h, http.MethodGet, p, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
		}
		checkSecurityHeaders(t, p, res)
	}
	res = get(t, h, http.MethodPost, "/console/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /console/: %d Allow %q, want 405 with Allow: GET, HEAD", res.StatusCode, res.Header.Get("Allow"))
	}
	res = get(t, h, http.MethodHead, "/console/js/app.js", nil)
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD /console/js/app.js: %d with %d body bytes", res.StatusCode, len(body))
	}
}

func checkSecurityHeaders(t *testing.T, p string, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": console.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %s is %q, want %q", p, k, got, v)
		}
	}
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
		"connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(console.ContentSecurityPolicy, d) {
			t.Errorf("the Content-Security-Policy lacks %q", d)
		}
	}
}

// The CSP forbids inline code and other origins; these checks find a violation in the
// sources before a browser does, and they check that every module a script imports is
// there.
func TestAssetsNeedNothingInlineOrExternal(t *testing.T) {
	root := os.DirFS("static")
	var files []string
	fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	inlineScript := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`)
	handlerAttr := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr := regexp.MustCompile(`(?i)(<style|\sstyle\s*=|\.style\.|setAttribute\(\s*['"]style)`)
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	importRe := regexp.MustCompile(`(?:from\s+|import\()\s*'(\.{1,2}/[^']+)'`)
	reserved := regexp.MustCompile(`(?i)//([a-z0-9-]+\.)*example\.(com|net|org)$`)
	sinks := regexp.MustCompile(`\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\(`)
	h := console.Handler()
	for _, f := range files {
		data, err := fs.ReadFile(root, f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.HasSuffix(f, ".svg") {
			text = strings.ReplaceAll(text, `xmlns="http://www.w3.org/2000/svg"`, "")
		}
		if m := external.FindString(text); m != "" && !strings.HasSuffix(f, ".js") {
			t.Errorf("%s refers to another origin: %q", f, m)
		}
		switch path.Ext(f) {
		case ".html":
			if inlineScript.MatchString(text) || handlerAttr.MatchString(text) || styleAttr.MatchString(text) {
				t.Errorf("%s has inline script, handler or style, which the CSP blocks", f)
			}
		case ".js":
			for _, line := range strings.Split(text, "\n") {
				code := strings.TrimSpace(line)
				if strings.HasPrefix(code, "//") {
					continue
				}
				// Examples use the reserved example.* names (RFC 2606), which are never fetched.
				for _, m := range external.FindAllString(code, -1) {
					if !reserved.MatchString(m) {
						t.Errorf("%s refers to another origin: %q", f, code)
					}
				}
				if styleAttr.MatchString(code) {
					t.Errorf("%s sets inline style, which the CSP blocks: %q", f, code)
				}
				if sinks.MatchString(code) {
					t.Errorf("%s uses a string-to-code or string-to-DOM sink, which Trusted Types blocks: %q", f, code)
				}
			}
			for _, m := range importRe.FindAllStringSubmatch(text, -1) {
				target := path.Join("/console", path.Dir(f), m[1])
				if res := get(t, h, http.MethodGet, target, nil); res.StatusCode != http.StatusOK {
					t.Errorf("%s imports %s, which is not served (%d)", f, m[1], res.StatusCode)
				}
			}
		}
	}
}

// TestMain removes the playkey binary that the tests built (testenv.Playkey).
func TestMain(m *testing.M) { testenv.Main(m) }
