// Package console is playkey's web console: a static single-page application, embedded in
// the binary, that manages channels and playback keys, revokes viewer sessions and debugs
// playback tokens the way the Amazon IVS console does.
//
// The console is just another API client. It has no server-side part beyond serving its
// files: the page signs every IVS API call with SigV4 in the browser (WebCrypto), using
// credentials the user types in, which stay in the tab's session storage. Key pairs are
// generated in the page; only public keys are sent to the API.
//
// Mount Handler on "/console/" beside the API handler on the same address, so that the
// page's calls are same-origin and the signed host is the one the server sees.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every console response. Nothing inline runs, nothing
// is fetched from another origin, and DOM sinks that take strings (innerHTML and the like)
// are closed by requiring Trusted Types with no policy: the page builds its DOM with
// createElement and textContent only.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; " +
	"base-uri 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

// contentTypes is explicit rather than from the mime package: the system's tables vary,
// and browsers refuse module scripts served with a non-JavaScript type.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
}

// asset is one embedded file, with the ETag of its content.
type asset struct {
	data        []byte
	contentType string
	etag        string
}

// Handler returns the handler for the console. It serves the embedded files under Prefix
// (index.html for Prefix itself), redirects "/console" to Prefix, and answers anything else
// 404. Only GET and HEAD are allowed. Every response carries the Content-Security-Policy
// above, X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, and
// Cache-Control: no-cache with a content ETag, so a new binary's assets are picked up at
// once while unchanged ones cost a 304.
func Handler() http.Handler {
	assets := map[string]*asset{}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("console: " + err.Error()) // the embed directive guarantees the directory
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(data)
		assets[p] = &asset{data: data, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic("console: reading embedded assets: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")

		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		if p == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(p, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		a, ok := assets[name]
		if !ok {
			h.Set("Cache-Control", "no-store")
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
	})
}
