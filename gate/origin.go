package gate

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/playkey/playkey"
)

// originTemplate is the URL of a channel's multivariant playlist on the operator's HLS
// origin, with {region}, {account} and {channel} placeholders.
type originTemplate string

// parseOriginTemplate checks a template: an http or https URL with a host, a {channel}
// placeholder, and no user info or fragment.
func parseOriginTemplate(t string) (originTemplate, error) {
	if t == "" {
		return "", errors.New("no origin URL template")
	}
	if !strings.Contains(t, "{channel}") {
		return "", fmt.Errorf("origin template %q has no {channel} placeholder", t)
	}
	ot := originTemplate(t)
	u, err := url.Parse(ot.expand("us-west-2", "123456789012", "abcDEF123456"))
	if err != nil {
		return "", fmt.Errorf("origin template %q: %w", t, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("origin template %q: the scheme must be http or https", t)
	case u.Host == "":
		return "", fmt.Errorf("origin template %q has no host", t)
	case u.User != nil || u.Fragment != "":
		return "", fmt.Errorf("origin template %q: no user info or fragment", t)
	case strings.Contains(strings.SplitN(strings.TrimPrefix(t, u.Scheme+"://"), "/", 2)[0], "{"):
		return "", fmt.Errorf("origin template %q: placeholders belong in the path", t)
	case strings.HasSuffix(u.Path, "/"):
		return "", fmt.Errorf("origin template %q must name the multivariant playlist, not a directory", t)
	}
	return ot, nil
}

// expand fills in the placeholders. The values are checked by the caller to be ARN
// components (letters, digits, '-'), so they need no escaping.
func (t originTemplate) expand(region, account, channel string) string {
	return strings.NewReplacer("{region}", region, "{account}", account, "{channel}", channel).Replace(string(t))
}

// channelOrigin is where one channel's files live on the origin.
type channelOrigin struct {
	playlist *url.URL // the multivariant playlist
	base     *url.URL // scheme://host, for comparisons
	basePath string   // the playlist's directory, escaped, ending in "/"
	arn      string   // the channel's ARN, for metrics
}

func (t originTemplate) channel(region, account, channel string) (*channelOrigin, error) {
	u, err := url.Parse(t.expand(region, account, channel))
	if err != nil {
		return nil, err
	}
	p := u.EscapedPath()
	dir := p[:strings.LastIndexByte(p, '/')+1]
	if dir == "" {
		dir = "/"
	}
	return &channelOrigin{playlist: u, base: &url.URL{Scheme: u.Scheme, Host: u.Host}, basePath: dir}, nil
}

var (
	errOutside       = errors.New("outside the channel's origin directory")
	errForeignURI    = errors.New("not an http URI") // data:, skd: and the like: kept as is
	errUnsafeSegment = errors.New("a path segment that is a dot segment or hides a slash")
)

// relative returns ref, a URI found in the origin playlist at from, as a path relative to
// the channel's origin directory, with its query: the form that session URLs carry. A
// reference that resolves to another scheme, host or port, or outside the directory, is
// errOutside; one with a scheme other than http and https is errForeignURI.
func (o *channelOrigin) relative(from *url.URL, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("URI %q: %w", ref, err)
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return "", errForeignURI
	}
	abs := from.ResolveReference(u)
	if abs.Scheme != o.base.Scheme || !strings.EqualFold(abs.Host, o.base.Host) || abs.User != nil {
		return "", fmt.Errorf("URI %q: %w", ref, errOutside)
	}
	p := abs.EscapedPath()
	rel, ok := strings.CutPrefix(p, o.basePath)
	if !ok || rel == "" {
		return "", fmt.Errorf("URI %q: %w", ref, errOutside)
	}
	if err := checkSegments(rel); err != nil {
		return "", fmt.Errorf("URI %q: %w", ref, err)
	}
	if abs.RawQuery != "" {
		rel += "?" + abs.RawQuery
	}
	return rel, nil
}

// url returns the origin URL of a relative form, with query as its query (the signed
// query plus any LL-HLS directives the player added).
func (o *channelOrigin) url(relPath, query string) (*url.URL, error) {
	if relPath == "" {
		return nil, errOutside
	}
	if err := checkSegments(relPath); err != nil {
		return nil, err
	}
	s := o.base.Scheme + "://" + o.base.Host + o.basePath + relPath
	if query != "" {
		s += "?" + query
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(u.EscapedPath(), o.basePath) {
		return nil, errOutside
	}
	return u, nil
}

// checkSegments refuses an escaped relative path with a dot segment, an empty segment, a
// backslash, or an escaped slash, any of which an origin server might resolve outside the
// directory.
func checkSegments(rel string) error {
	if strings.ContainsAny(rel, "\\?#") {
		return errUnsafeSegment
	}
	for seg := range strings.SplitSeq(rel, "/") {
		un, err := url.PathUnescape(seg)
		if err != nil || un == "" || un == "." || un == ".." || strings.ContainsAny(un, "/\\\x00") {
			return errUnsafeSegment
		}
	}
	return nil
}

// splitHLSQuery separates a request's raw query into the part a session URL signed and the
// LL-HLS delivery directives (_HLS_msn, _HLS_part, _HLS_skip...) a player may append.
func splitHLSQuery(raw string) (signed string) {
	if raw == "" {
		return ""
	}
	var keep []string
	for p := range strings.SplitSeq(raw, "&") {
		if strings.HasPrefix(p, "_HLS_") {
			continue
		}
		keep = append(keep, p)
	}
	return strings.Join(keep, "&")
}

// channelOrigin returns where a channel's files live, parsing the template's expansion
// only the first time: every admitted request needs it, and parsing a URL is most of what
// such a request costs the gate. At most maxCacheEntries channels are kept.
func (g *Gate) channelOrigin(region, account, channel string) (*channelOrigin, error) {
	k := [3]string{region, account, channel}
	if co, ok := g.origins.Load(k); ok {
		return co.(*channelOrigin), nil
	}
	co, err := g.origin.channel(region, account, channel)
	if err != nil {
		return nil, err
	}
	co.arn = playkey.ARN{Region: region, Account: account, Type: playkey.TypeChannel, ID: channel}.String()
	if g.originCount.Load() < maxCacheEntries {
		if _, loaded := g.origins.LoadOrStore(k, co); !loaded {
			g.originCount.Add(1)
		}
	}
	return co, nil
}
