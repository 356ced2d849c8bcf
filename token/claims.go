package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Claim names, as they appear in the token payload.
const (
	ClaimChannelARN              = "aws:channel-arn"
	ClaimExp                     = "exp"
	ClaimAllowOrigin             = "aws:access-control-allow-origin"
	ClaimStrictOriginEnforcement = "aws:strict-origin-enforcement"
	ClaimSingleUseUUID           = "aws:single-use-uuid"
	ClaimViewerID                = "aws:viewer-id"
	ClaimViewerSessionVersion    = "aws:viewer-session-version"
	ClaimMaximumResolution       = "aws:maximum-resolution"
)

// Limits from the IVS playback token rules.
const (
	// MaxRestrictedLifetime is how far in the future exp may be when the token has
	// aws:single-use-uuid or aws:viewer-id.
	MaxRestrictedLifetime = 10 * time.Minute
	// MaxViewerIDLength is the most characters (Unicode code points) aws:viewer-id may have.
	MaxViewerIDLength = 40
	// MaxStrictOrigins is the most origins aws:access-control-allow-origin may list when
	// aws:strict-origin-enforcement is true.
	MaxStrictOrigins = 5
)

// Values of aws:maximum-resolution.
const (
	ResolutionSD     = "SD"      // renditions above 480p are removed
	ResolutionHD     = "HD"      // renditions above 720p are removed
	ResolutionFullHD = "FULL_HD" // renditions above 1080p are removed
)

// Claims are the claims of an IVS playback token. The zero value of each field means the
// claim is absent.
type Claims struct {
	// ChannelARN is aws:channel-arn, the channel the token plays. Required.
	ChannelARN string
	// Exp is exp, the expiry as a NumericDate: seconds since 1970-01-01 UTC, kept as the
	// token states it, so a millisecond value (AWS's own Node sample signs Date.now()-based
	// values) stays visible as a far-future date. Required; 0 means absent. A fractional
	// exp is rounded down; one beyond the int64 range is clamped to it.
	Exp int64
	// AllowedOrigins is aws:access-control-allow-origin split at commas, blanks around
	// entries trimmed. nil means the claim is absent and every origin is allowed. An entry
	// is "*" or scheme://host[:port], where host may start with "*." to match subdomains.
	AllowedOrigins []string
	// StrictOriginEnforcement is aws:strict-origin-enforcement: the request's Origin must
	// match on every playback request, browsers or not.
	StrictOriginEnforcement bool
	// SingleUseUUID is aws:single-use-uuid: the token may start playback once. Whoever
	// records use must key that record on this value, never on the token text: ECDSA
	// signatures are malleable (s and n-s both verify), so one token has two valid
	// spellings.
	SingleUseUUID string
	// ViewerID is aws:viewer-id, which makes the viewer's sessions revocable.
	ViewerID string
	// ViewerSessionVersion is aws:viewer-session-version (default 0): a revocation ends the
	// viewer's sessions whose version is at or below the revoked one.
	ViewerSessionVersion int64
	// MaximumResolution is aws:maximum-resolution: ResolutionSD, ResolutionHD,
	// ResolutionFullHD or "" for no limit.
	MaximumResolution string
	// Extra holds every other claim (iat, sub, custom ones) as raw JSON. They are ignored by
	// the checks; Sign writes them out.
	Extra map[string]json.RawMessage
}

// Restricted reports whether the claims bind exp to MaxRestrictedLifetime: true when
// aws:single-use-uuid or aws:viewer-id is present.
func (c *Claims) Restricted() bool { return c.SingleUseUUID != "" || c.ViewerID != "" }

// maxTime is the last second of year 9999, the largest time ExpiresAt returns.
const maxTime = 253402300799

// ExpiresAt returns Exp as a time in UTC, clamped to years 0001 to 9999.
func (c *Claims) ExpiresAt() time.Time {
	e := c.Exp
	e = min(e, maxTime)
	e = max(e, -62135596800) // 0001-01-01
	return time.Unix(e, 0).UTC()
}

// decodeClaims fills Claims from the payload's members. Problems of type are collected: all
// of them if all is set, else the first.
func decodeClaims(members []member, all bool) (Claims, []*Rejection) {
	var c Claims
	var rejs []*Rejection
	bad := func(r *Rejection) bool {
		rejs = append(rejs, r)
		return !all
	}
	for _, m := range members {
		var r *Rejection
		switch string(m.key) {
		case ClaimChannelARN:
			if r = wantKind(m, "string", "a string"); r == nil {
				if c.ChannelARN = decodeString(m.val); c.ChannelARN == "" {
					r = reject(BadClaim, "%s is empty; it must be the ARN of the channel the token plays", ClaimChannelARN)
				}
			}
		case ClaimExp:
			if r = wantKind(m, "number", "a number of seconds since 1970"); r == nil {
				// Exp 0 means absent in Claims, so a present 0 is refused here rather than
				// reported as a missing claim.
				if c.Exp = parseNumericDate(m.val); c.Exp == 0 {
					r = reject(BadClaim, "%s is zero, the first second of 1970; it must be the expiry in seconds since 1970", ClaimExp)
				}
			}
		case ClaimAllowOrigin:
			if r = wantKind(m, "string", "a string"); r == nil {
				c.AllowedOrigins = splitOrigins(decodeString(m.val))
			}
		case ClaimStrictOriginEnforcement:
			if r = wantKind(m, "boolean", "true or false"); r == nil {
				c.StrictOriginEnforcement = m.val[0] == 't'
			}
		case ClaimSingleUseUUID:
			if r = wantKind(m, "string", "a string"); r == nil {
				if c.SingleUseUUID = decodeString(m.val); c.SingleUseUUID == "" {
					r = reject(BadClaim, "%s is empty", ClaimSingleUseUUID)
				}
			}
		case ClaimViewerID:
			if r = wantKind(m, "string", "a string"); r == nil {
				if c.ViewerID = decodeString(m.val); c.ViewerID == "" {
					r = reject(BadClaim, "%s is empty; it must be 1 to %d characters", ClaimViewerID, MaxViewerIDLength)
				}
			}
		case ClaimViewerSessionVersion:
			if r = wantKind(m, "number", "an integer"); r == nil {
				v, err := strconv.ParseInt(string(m.val), 10, 64)
				switch {
				case errors.Is(err, strconv.ErrRange):
					r = reject(BadClaim, "%s is %s, beyond the 64-bit integer range", ClaimViewerSessionVersion, quoteShort(string(m.val)))
				case err != nil:
					r = reject(BadClaim, "%s is %s; it must be an integer", ClaimViewerSessionVersion, quoteShort(string(m.val)))
				}
				c.ViewerSessionVersion = v
			}
		case ClaimMaximumResolution:
			if r = wantKind(m, "string", "a string"); r == nil {
				if c.MaximumResolution = decodeString(m.val); c.MaximumResolution == "" {
					r = reject(BadClaim, "%s is empty; it must be %s, %s or %s", ClaimMaximumResolution, ResolutionSD, ResolutionHD, ResolutionFullHD)
				}
			}
		default:
			if c.Extra == nil {
				c.Extra = make(map[string]json.RawMessage)
			}
			c.Extra[string(m.key)] = json.RawMessage(m.val)
		}
		if r != nil {
			r.Claim = string(m.key)
			if bad(r) {
				return c, rejs
			}
		}
	}
	return c, rejs
}

// wantKind checks the JSON type of a claim; what describes the type wanted.
func wantKind(m member, kind, what string) *Rejection {
	if got := kindOf(m.val); got != kind {
		return reject(BadClaim, "%s is a JSON %s; it must be %s", m.key, got, what)
	}
	return nil
}

// parseNumericDate reads a JSON number as whole seconds, rounding down and clamping to the
// int64 range. raw has passed the JSON number grammar.
func parseNumericDate(raw []byte) int64 {
	if v, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return v
	}
	f, _ := strconv.ParseFloat(string(raw), 64) // ±Inf on overflow, 0 on underflow
	f = math.Floor(f)
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func splitOrigins(s string) []string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.Trim(p, " \t")
	}
	return parts
}

// marshal writes the claims as the compact JSON payload Sign signs.
func (c *Claims) marshal() ([]byte, error) {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	field := func(name string) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
	}
	field(ClaimChannelARN)
	b = appendJSONString(b, c.ChannelARN)
	if len(c.AllowedOrigins) > 0 {
		field(ClaimAllowOrigin)
		b = appendJSONString(b, strings.Join(c.AllowedOrigins, ","))
	}
	if c.StrictOriginEnforcement {
		field(ClaimStrictOriginEnforcement)
		b = append(b, "true"...)
	}
	if c.SingleUseUUID != "" {
		field(ClaimSingleUseUUID)
		b = appendJSONString(b, c.SingleUseUUID)
	}
	if c.ViewerID != "" {
		field(ClaimViewerID)
		b = appendJSONString(b, c.ViewerID)
	}
	if c.ViewerSessionVersion != 0 {
		field(ClaimViewerSessionVersion)
		b = strconv.AppendInt(b, c.ViewerSessionVersion, 10)
	}
	if c.MaximumResolution != "" {
		field(ClaimMaximumResolution)
		b = appendJSONString(b, c.MaximumResolution)
	}
	field(ClaimExp)
	b = strconv.AppendInt(b, c.Exp, 10)
	for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
		if isKnownClaim(k) {
			return nil, errorf("Extra has %q, which is a claim of its own field", k)
		}
		if !utf8.ValidString(k) {
			return nil, errorf("Extra has a claim name that is not valid UTF-8")
		}
		v := c.Extra[k]
		if err := validJSONValue(v); err != nil {
			return nil, errorf("Extra[%q] is not valid JSON: %v", k, err)
		}
		field(k)
		var compact bytes.Buffer
		if err := json.Compact(&compact, v); err != nil {
			return nil, errorf("Extra[%q] is not valid JSON: %v", k, err)
		}
		b = append(b, compact.Bytes()...)
	}
	return append(b, '}'), nil
}

func isKnownClaim(k string) bool {
	switch k {
	case ClaimChannelARN, ClaimExp, ClaimAllowOrigin, ClaimStrictOriginEnforcement,
		ClaimSingleUseUUID, ClaimViewerID, ClaimViewerSessionVersion, ClaimMaximumResolution:
		return true
	}
	return false
}

// checkClaims applies the claim rules. With channelARN "" the channel is not compared;
// with timed false, exp is only required, not compared with now. It returns every broken
// rule if all is set, else at most the first.
func checkClaims(c *Claims, channelARN string, now time.Time, leeway time.Duration, timed, all bool) []*Rejection {
	var rejs []*Rejection
	add := func(r *Rejection) bool {
		rejs = append(rejs, r)
		return !all
	}
	if c.ChannelARN == "" {
		if add(rejectClaim(ClaimChannelARN, MissingClaim, "token has no %s claim; it must name the channel it plays", ClaimChannelARN)) {
			return rejs
		}
	} else if channelARN != "" && c.ChannelARN != channelARN {
		if add(rejectClaim(ClaimChannelARN, ChannelMismatch, "%s is for channel %s, this is channel %s", ClaimChannelARN, quoteShort(c.ChannelARN), quoteShort(channelARN))) {
			return rejs
		}
	}
	if c.Exp == 0 {
		if add(rejectClaim(ClaimExp, MissingClaim, "token has no %s claim; IVS requires an expiry", ClaimExp)) {
			return rejs
		}
	} else if timed {
		leeway = max(leeway, 0)
		if now.Add(-leeway).Unix() >= c.Exp {
			ago := satSub(now.Unix(), c.Exp)
			msg := "token expired " + formatSeconds(ago) + " ago, at " + c.ExpiresAt().Format(time.DateTime) + " UTC"
			if ago <= 0 {
				msg = "token expired just now, at " + c.ExpiresAt().Format(time.DateTime) + " UTC"
			}
			if leeway > 0 {
				msg += " (clock leeway " + leeway.String() + ")"
			}
			if add(&Rejection{Code: Expired, Reason: msg, Claim: ClaimExp}) {
				return rejs
			}
		} else if c.Restricted() && c.Exp > now.Add(MaxRestrictedLifetime+leeway).Unix() {
			ahead := satSub(c.Exp, now.Unix())
			msg := "exp is " + formatSeconds(ahead) + " from now"
			if c.Exp > 100_000_000_000 { // past year 5138: almost surely milliseconds
				msg += " (is it in milliseconds?)"
			}
			msg += "; a token with " + restrictedBy(c) + " must expire within " + shortDuration(MaxRestrictedLifetime)
			if add(&Rejection{Code: ExpTooFar, Reason: msg, Claim: ClaimExp}) {
				return rejs
			}
		}
	}
	if n := utf8.RuneCountInString(c.ViewerID); n > MaxViewerIDLength {
		if add(rejectClaim(ClaimViewerID, ViewerIDTooLong, "%s is %d characters; at most %d are allowed", ClaimViewerID, n, MaxViewerIDLength)) {
			return rejs
		}
	}
	switch c.MaximumResolution {
	case "", ResolutionSD, ResolutionHD, ResolutionFullHD:
	default:
		if add(rejectClaim(ClaimMaximumResolution, BadMaximumResolution, "%s is %s; it must be %s, %s or %s", ClaimMaximumResolution, quoteShort(c.MaximumResolution), ResolutionSD, ResolutionHD, ResolutionFullHD)) {
			return rejs
		}
	}
	if c.AllowedOrigins != nil {
		for _, o := range c.AllowedOrigins {
			if why := originSyntax(o); why != "" {
				if add(rejectClaim(ClaimAllowOrigin, BadOrigin, "%s entry %s is not an origin: %s", ClaimAllowOrigin, quoteShort(o), why)) {
					return rejs
				}
				break
			}
		}
		if c.StrictOriginEnforcement && len(c.AllowedOrigins) > MaxStrictOrigins {
			if add(rejectClaim(ClaimAllowOrigin, TooManyOrigins, "%s lists %d origins; with %s at most %d are allowed", ClaimAllowOrigin, len(c.AllowedOrigins), ClaimStrictOriginEnforcement, MaxStrictOrigins)) {
				return rejs
			}
		}
	}
	return rejs
}

func restrictedBy(c *Claims) string {
	switch {
	case c.SingleUseUUID != "" && c.ViewerID != "":
		return ClaimSingleUseUUID + " and " + ClaimViewerID
	case c.SingleUseUUID != "":
		return ClaimSingleUseUUID
	}
	return ClaimViewerID
}

// satSub returns a-b, saturated to the int64 range.
func satSub(a, b int64) int64 {
	d := a - b
	if (d < a) != (b > 0) {
		if b > 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return d
}

// formatSeconds writes a span of seconds the way a person says it: 42s, 3m12s, 5h3m,
// 17d5h, 56 years.
func formatSeconds(sec int64) string {
	if sec < 0 {
		sec = -sec
		if sec < 0 {
			sec = math.MaxInt64
		}
	}
	const (
		minute = 60
		hour   = 60 * minute
		day    = 24 * hour
		year   = 365*day + day/4
	)
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	// two units, the second dropped when zero
	two := func(a int64, ua string, b int64, ub string) string {
		if b == 0 {
			return itoa(a) + ua
		}
		return itoa(a) + ua + itoa(b) + ub
	}
	switch {
	case sec < minute:
		return itoa(sec) + "s"
	case sec < hour:
		return two(sec/minute, "m", sec%minute, "s")
	case sec < 2*day:
		return two(sec/hour, "h", sec%hour/minute, "m")
	case sec < 2*year:
		return two(sec/day, "d", sec%day/hour, "h")
	}
	return itoa(sec/year) + " years"
}

// shortDuration formats whole minutes as "10m" rather than time.Duration's "10m0s".
func shortDuration(d time.Duration) string {
	return formatSeconds(int64(d / time.Second))
}

// originSyntax explains why s is not an allowed-origin entry, or returns "".
func originSyntax(s string) string {
	if s == "*" || s == NullOrigin {
		return ""
	}
	if s == "" {
		return "it is empty (a stray comma?)"
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "it has no scheme; write it as https://host"
	}
	if !validScheme(scheme) {
		return "the scheme is not valid"
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		return "an origin has no path, query or trailing slash"
	}
	host, port := splitHostPort(rest)
	if port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return "the port is not a number"
		}
		if n, _ := strconv.Atoi(port); n > 65535 {
			return "the port is out of range"
		}
	}
	host = strings.TrimPrefix(host, "*.")
	if host == "" {
		return "the host is empty"
	}
	if host[0] == '[' {
		if host[len(host)-1] != ']' || strings.Trim(host[1:len(host)-1], "0123456789abcdefABCDEF:.") != "" {
			return "the IPv6 address is not valid"
		}
		return ""
	}
	if strings.Contains(host, "*") {
		return `a wildcard may only be the first label of the host, as in https://*.example.com`
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return "the host has a character hosts do not have"
		}
	}
	return ""
}

func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// splitHostPort splits host[:port], where host may be a bracketed IPv6 address.
func splitHostPort(s string) (host, port string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.LastIndexByte(s, ']') > i {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// NullOrigin is the Origin header of an opaque origin (a sandboxed frame, a file: page).
// A playback restriction policy may list it, as IVS's API allows, and so may a token.
const NullOrigin = "null"

// OriginAllowed reports whether origin, the value of a request's Origin header
// (scheme://host[:port]), is allowed by aws:access-control-allow-origin. Without that claim
// every origin is allowed, "" (no Origin header) included; with it, "" is never allowed,
// whether that matters is the caller's decision (see StrictOriginEnforcement). Schemes and
// hosts compare case-insensitively, a default port (80 for http, 443 for https) equals no
// port, and an entry https://*.example.com matches any subdomain of example.com, at any
// depth, but not example.com itself. The origin "null" (what browsers send from opaque
// origins) is allowed only by an entry "null". Malformed entries match nothing, and an origin that
// is not scheme://host[:port] is never allowed by a list.
func (c *Claims) OriginAllowed(origin string) bool {
	if c.AllowedOrigins == nil {
		return true
	}
	if origin == NullOrigin {
		// An opaque origin (a sandboxed frame, a file: page) is no site: only an entry
		// that names it, as the IVS API lets a policy do, allows it; "*" does not.
		return slices.Contains(c.AllowedOrigins, NullOrigin)
	}
	// A request's Origin is one origin, never a pattern, and nothing else: a value such as
	// "https://x@a.example.com" or "https://*.example.com" must not match an entry.
	if origin == "" || originSyntax(origin) != "" || strings.Contains(origin, "*") {
		return false
	}
	oScheme, oHost, oPort, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	for _, e := range c.AllowedOrigins {
		if e == "*" {
			return true
		}
		if originSyntax(e) != "" {
			continue
		}
		scheme, host, port, _ := splitOrigin(e)
		if !strings.EqualFold(scheme, oScheme) || port != oPort {
			continue
		}
		if suffix, wild := strings.CutPrefix(host, "*"); wild {
			if len(oHost) > len(suffix) && strings.EqualFold(oHost[len(oHost)-len(suffix):], suffix) {
				return true
			}
		} else if strings.EqualFold(host, oHost) {
			return true
		}
	}
	return false
}

// splitOrigin splits scheme://host[:port], dropping the scheme's default port.
func splitOrigin(s string) (scheme, host, port string, ok bool) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", "", "", false
	}
	host, port = splitHostPort(rest)
	if n, err := strconv.Atoi(port); err == nil {
		port = strconv.Itoa(n) // "0443" is 443
	}
	switch {
	case port == "80" && strings.EqualFold(scheme, "http"), port == "443" && strings.EqualFold(scheme, "https"):
		port = ""
	}
	return scheme, host, port, true
}
