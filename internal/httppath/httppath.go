// Package httppath answers one question that every playkey server asks before routing: is a
// request path clean? http.ServeMux redirects a path with empty, "." or ".." segments to
// its cleaned form with an HTML 307, which no AWS client or HLS player follows usefully, so
// playkey's servers refuse such paths themselves, in their own error shape.
package httppath

import (
	"path"
	"strings"
)

// IsClean reports whether p, an escaped URL path, has no empty, "." or ".." segment: whether
// ServeMux would route it as it is rather than redirect it. A trailing slash is fine.
func IsClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np == p
}
