// Package sigv4 authenticates API requests signed with AWS Signature Version 4, the
// way AWS JSON services do, and loads the credentials it checks them against.
//
// Both the Authorization header form and the presigned query form are accepted. The
// canonical request is rebuilt from the request as received: the path as sent,
// percent-encoded once more as SigV4 requires for every service but S3; the query
// re-encoded and sorted; exactly the headers the client listed in SignedHeaders, with
// host taken from the request's Host; and the SHA-256 of the body, which Verify reads
// (up to a limit) and puts back. The package never logs.
package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Defaults for the zero values of Verifier's fields.
const (
	DefaultService      = "ivs"
	DefaultMaxSkew      = 15 * time.Minute
	DefaultMaxBodyBytes = 1 << 20
	// DefaultAccount is the account of the credentials file CreateCredentialsFile
	// writes, and of unknown keys accepted by Verifier.AcceptAnyKey.
	DefaultAccount = "000000000000"
)

// maxPresignExpires is the longest X-Amz-Expires accepted, seven days, as in AWS.
const maxPresignExpires = 7 * 24 * 60 * 60

const timeFormat = "20060102T150405Z"

// Identity is who signed an authenticated request, and where it was sent.
type Identity struct {
	AccessKeyID string
	Account     string // 12 digits
	Region      string // from the credential scope
	Service     string // from the credential scope
}

// Verifier checks SigV4 signatures. Its fields are read-only once Verify has been
// called; Verify is safe for concurrent use. A Verifier must not be copied after first
// use.
type Verifier struct {
	// Service is the signing name requests must be scoped to; empty means DefaultService.
	Service string
	// Lookup returns the credential of an access key id. A nil Lookup knows no key.
	// Credentials.Lookup fits.
	Lookup func(accessKeyID string) (Credential, bool)
	// AcceptAnyKey is an insecure mode for throwaway test setups: an access key that
	// Lookup does not know is accepted without checking the signature, and its account
	// is the key id itself if that is 12 digits, else DefaultAccount. Keys Lookup knows
	// are still verified. The request must still be well formed, correctly scoped and
	// within the time window.
	AcceptAnyKey bool
	// MaxSkew is how far the request time may be from Now, either way; zero means
	// DefaultMaxSkew.
	MaxSkew time.Duration
	// MaxBodyBytes caps the body Verify reads to hash it; zero means DefaultMaxBodyBytes.
	// A larger body is refused with 413 and code ErrValidation.
	MaxBodyBytes int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	keys keyCache
}

// Verify authenticates r and returns who signed it. It reads r.Body (at most
// MaxBodyBytes) and replaces it with an in-memory copy, so handlers can read it again.
//
// Every error is an *Error:
//   - ErrMissingAuthenticationToken (403): no Authorization header and no presigned query;
//   - ErrIncompleteSignature (403): a malformed Authorization header or presigned query,
//     host or the date header not signed, no X-Amz-Date or Date header, both auth forms;
//   - ErrUnrecognizedClient (403): unknown access key;
//   - ErrInvalidSignature (403): signature mismatch, wrong service or terminator in the
//     scope, scope date not the request's date, request time outside MaxSkew, expired
//     presigned URL, an X-Amz-Content-Sha256 that is not the body's hash
//     (UNSIGNED-PAYLOAD included);
//   - ErrValidation: a query string with bad percent-encoding or an unreadable body (400),
//     a body larger than MaxBodyBytes (413).
func (v *Verifier) Verify(r *http.Request) (Identity, error) {
	id, err := v.verify(r)
	if err != nil {
		return Identity{}, err // a typed nil would not compare equal to nil
	}
	return id, nil
}

// request is what verify gathers about r before checking the signature.
type request struct {
	auth      Authorization
	timestamp string // yyyymmddThhmmssZ, as it enters the string to sign
	when      time.Time
	presigned bool
	expires   int // seconds; 0 when absent
	query     []queryPair
}

func (v *Verifier) verify(r *http.Request) (Identity, *Error) {
	query, qerr := parseQuery(r.URL.RawQuery)
	if qerr != nil {
		return Identity{}, qerr
	}
	req, err := parseRequest(r, query)
	if err != nil {
		return Identity{}, err
	}
	a := &req.auth

	if a.Date != req.timestamp[:8] {
		return Identity{}, authError(ErrInvalidSignature, fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.Date, req.timestamp[:8], req.timestamp))
	}
	if a.Service != v.service() {
		return Identity{}, authError(ErrInvalidSignature, "Credential should be scoped to correct service: '"+v.service()+"'.")
	}
	if a.Terminator != Terminator {
		return Identity{}, authError(ErrInvalidSignature,
			"Credential should be scoped with a valid terminator: '"+Terminator+"', not '"+a.Terminator+"'.")
	}
	if err := v.checkTime(req); err != nil {
		return Identity{}, err
	}

	var cred Credential
	known := false
	if v.Lookup != nil {
		cred, known = v.Lookup(a.AccessKeyID)
	}
	if !known && !v.AcceptAnyKey {
		return Identity{}, authError(ErrUnrecognizedClient, msgUnknownKey)
	}

	body, err := v.readBody(r)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{AccessKeyID: a.AccessKeyID, Region: a.Region, Service: a.Service}
	if !known {
		id.Account = DefaultAccount
		if len(a.AccessKeyID) == 12 && allDigits(a.AccessKeyID) {
			id.Account = a.AccessKeyID
		}
		return id, nil
	}
	id.Account = cred.Account

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if !req.presigned {
		if got := r.Header.Get("X-Amz-Content-Sha256"); got != "" && got != payloadHash {
			if !lowerHex(got) || len(got) != 64 {
				return Identity{}, authError(ErrInvalidSignature,
					"The payload must be signed: X-Amz-Content-Sha256 must be the SHA-256 of the body, in hex.")
			}
			return Identity{}, authError(ErrInvalidSignature,
				"The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}

	want, herr := hex.DecodeString(a.Signature)
	if herr != nil { // the parser admits only 64 hex digits
		return Identity{}, incomplete("Signature must be 64 lower-case hexadecimal digits.")
	}
	key := v.keys.signingKey(cred.SecretAccessKey, a.Date, a.Region, a.Service)
	for canonical := range canonicalRequests(r, req, payloadHash) {
		if hmac.Equal(signature(key, req, a, canonical), want) {
			return id, nil
		}
	}
	return Identity{}, authError(ErrInvalidSignature, msgBadSignature)
}

// parseRequest finds the signature parameters in the Authorization header or the query.
func parseRequest(r *http.Request, query []queryPair) (request, *Error) {
	var req request
	req.query = query
	headers := r.Header.Values("Authorization")
	presigned := false
	for _, p := range query {
		switch p.key {
		case "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature":
			presigned = true
		}
	}
	switch {
	case len(headers) > 0 && presigned:
		return req, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
			"or the Authorization header should be specified.")
	case presigned:
		return parsePresigned(req)
	case len(headers) == 0 || (len(headers) == 1 && strings.TrimSpace(headers[0]) == ""):
		return req, authError(ErrMissingAuthenticationToken, msgMissingToken)
	case len(headers) > 1:
		return req, incomplete("The request has more than one Authorization header.")
	}

	a, err := ParseAuthorization(headers[0])
	if err != nil {
		return req, err.(*Error)
	}
	req.auth = a
	if !slices.Contains(a.SignedHeaders, "host") {
		return req, incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if dates := r.Header.Values("X-Amz-Date"); len(dates) > 0 {
		if len(dates) > 1 {
			return req, incomplete("The request has more than one X-Amz-Date header.")
		}
		if !slices.Contains(a.SignedHeaders, "x-amz-date") {
			return req, incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
		}
		t, err := time.Parse(timeFormat, dates[0])
		if err != nil || len(dates[0]) != len(timeFormat) {
			return req, incomplete("X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
		}
		req.timestamp, req.when = dates[0], t
		return req, nil
	}
	if dates := r.Header.Values("Date"); len(dates) > 0 {
		if len(dates) > 1 {
			return req, incomplete("The request has more than one Date header.")
		}
		if !slices.Contains(a.SignedHeaders, "date") {
			return req, incomplete("'Date' must be a 'SignedHeader' in the AWS Authorization.")
		}
		t, err := http.ParseTime(dates[0])
		if err != nil {
			// botocore writes the numeric zone of RFC 2822: "Sat, 28 Nov 2026 12:30:00 -0000".
			t, err = time.Parse(time.RFC1123Z, dates[0])
		}
		if err != nil {
			return req, incomplete("The Date header must be an HTTP date.")
		}
		req.when = t.UTC()
		req.timestamp = req.when.Format(timeFormat)
		return req, nil
	}
	return req, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

func parsePresigned(req request) (request, *Error) {
	params := map[string]string{}
	for _, p := range req.query {
		if strings.HasPrefix(p.key, "X-Amz-") {
			if _, dup := params[p.key]; dup {
				return req, incomplete("The query string has the '" + p.key + "' parameter more than once.")
			}
			params[p.key] = p.value
		}
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"} {
		if _, ok := params[k]; !ok {
			return req, incomplete("AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', " +
				"'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.")
		}
	}
	if params["X-Amz-Algorithm"] != Algorithm {
		return req, incomplete("X-Amz-Algorithm only supports '" + Algorithm + "'.")
	}
	req.presigned = true
	if err := req.auth.parseParts(params["X-Amz-Credential"], params["X-Amz-SignedHeaders"], params["X-Amz-Signature"]); err != nil {
		return req, err
	}
	if !slices.Contains(req.auth.SignedHeaders, "host") {
		return req, incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	date := params["X-Amz-Date"]
	t, err := time.Parse(timeFormat, date)
	if err != nil || len(date) != len(timeFormat) {
		return req, incomplete("X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.")
	}
	req.timestamp, req.when = date, t
	if e, ok := params["X-Amz-Expires"]; ok {
		n, err := strconv.Atoi(e)
		if err != nil || !allDigits(e) || n < 1 || n > maxPresignExpires {
			return req, incomplete("X-Amz-Expires must be a whole number of seconds from 1 to 604800.")
		}
		req.expires = n
	}
	return req, nil
}

// checkTime refuses a request dated more than MaxSkew from now, or a presigned request
// past its X-Amz-Expires. A presigned request without X-Amz-Expires gets the skew window.
func (v *Verifier) checkTime(req request) *Error {
	now := v.now().UTC()
	skew := v.maxSkew()
	fmtT := func(t time.Time) string { return t.UTC().Format(timeFormat) }
	if req.when.After(now.Add(skew)) {
		return authError(ErrInvalidSignature, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
			req.timestamp, fmtT(now.Add(skew)), fmtT(now), minutes(skew)))
	}
	if req.presigned && req.expires > 0 {
		until := req.when.Add(time.Duration(req.expires) * time.Second)
		if now.After(until) {
			return authError(ErrInvalidSignature, fmt.Sprintf(
				"Signature expired: the presigned request was valid until %s (X-Amz-Date + X-Amz-Expires) and it is now %s.",
				fmtT(until), fmtT(now)))
		}
		return nil
	}
	if req.when.Before(now.Add(-skew)) {
		return authError(ErrInvalidSignature, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			req.timestamp, fmtT(now.Add(-skew)), fmtT(now), minutes(skew)))
	}
	return nil
}

func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return d.String()
}

func (v *Verifier) readBody(r *http.Request) ([]byte, *Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	limit := v.maxBody()
	tooLarge := &Error{Code: ErrValidation, Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, &Error{Code: ErrValidation, Status: http.StatusBadRequest, Message: "The request body could not be read."}
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return DefaultService
	}
	return v.Service
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return v.MaxBodyBytes
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

// signature computes the signature of a canonical request.
func signature(key []byte, req request, a *Authorization, canonical string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	var b strings.Builder
	b.Grow(len(Algorithm) + len(req.timestamp) + 64 + 64)
	b.WriteString(Algorithm)
	b.WriteByte('\n')
	b.WriteString(req.timestamp)
	b.WriteByte('\n')
	b.WriteString(a.Date)
	b.WriteByte('/')
	b.WriteString(a.Region)
	b.WriteByte('/')
	b.WriteString(a.Service)
	b.WriteByte('/')
	b.WriteString(Terminator)
	b.WriteByte('\n')
	var hexSum [64]byte
	hex.Encode(hexSum[:], sum[:])
	b.Write(hexSum[:])
	return hmacSHA256(key, b.String())
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, Terminator)
}

// keyCache keeps derived signing keys, which change once a day per key and region.
type keyCache struct {
	mu sync.Mutex
	m  map[keyCacheKey][]byte
}

type keyCacheKey struct{ secret, date, region, service string }

// maxCachedKeys bounds the cache; when full it is emptied, which costs four HMACs per
// key on the next requests and nothing else.
const maxCachedKeys = 256

func (c *keyCache) signingKey(secret, date, region, service string) []byte {
	k := keyCacheKey{secret, date, region, service}
	c.mu.Lock()
	defer c.mu.Unlock()
	if key, ok := c.m[k]; ok {
		return key
	}
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[keyCacheKey][]byte)
	}
	key := deriveKey(secret, date, region, service)
	c.m[k] = key
	return key
}

// canonicalRequests yields the canonical request of r, then, only where they differ
// from it, the forms the signers in use would have produced for an unusual request:
// botocore removes dot segments and empty segments from the path, and it collapses all
// whitespace in header values where the Go SDK collapses only spaces.
func canonicalRequests(r *http.Request, req request, payloadHash string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		path := requestPath(r)
		paths := []string{path}
		if n := removeDotSegments(path); n != path {
			paths = append(paths, n)
		}
		query := canonicalQuery(req.query, req.presigned)
		for _, allSpace := range []bool{false, true} {
			headers, differs := canonicalHeaders(r, req.auth.SignedHeaders, allSpace)
			if allSpace && !differs {
				return
			}
			for _, p := range paths {
				var b strings.Builder
				b.WriteString(r.Method)
				b.WriteByte('\n')
				escapePath(&b, p)
				b.WriteByte('\n')
				b.WriteString(query)
				b.WriteByte('\n')
				b.WriteString(headers)
				b.WriteByte('\n')
				b.WriteString(strings.Join(req.auth.SignedHeaders, ";"))
				b.WriteByte('\n')
				b.WriteString(payloadHash)
				if !yield(b.String()) {
					return
				}
			}
		}
	}
}

// requestPath is the path as the client sent it, still percent-encoded.
func requestPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// escapePath percent-encodes every byte but the unreserved characters and '/', so an
// already-escaped path is escaped a second time ("%2F" becomes "%252F"), as both the AWS
// SDKs and botocore do for every service but S3.
func escapePath(b *strings.Builder, p string) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if unreserved(c) || c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
}

func unreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~'
}

// removeDotSegments is RFC 3986 section 5.2.4 plus the removal of empty segments, as
// botocore applies it to the path before signing.
func removeDotSegments(p string) string {
	if p == "" {
		return ""
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	s := strings.Join(out, "/")
	if p[0] == '/' {
		s = "/" + s
	}
	if p[len(p)-1] == '/' && len(out) > 0 {
		s += "/"
	}
	return s
}

type queryPair struct{ key, value string } // decoded

// parseQuery splits a raw query into decoded pairs, '+' meaning a space as in
// url.ParseQuery. Unlike url.ParseQuery it keeps pairs containing ';' and refuses bad
// percent-encoding instead of dropping the pair.
func parseQuery(raw string) ([]queryPair, *Error) {
	var pairs []queryPair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			return nil, &Error{Code: ErrValidation, Status: http.StatusBadRequest,
				Message: "The query string is not correctly percent-encoded."}
		}
		pairs = append(pairs, queryPair{k, val})
	}
	return pairs, nil
}

// canonicalQuery encodes every name and value, then sorts by name and value; the
// sorting comes after the encoding, as SigV4 specifies.
func canonicalQuery(pairs []queryPair, presigned bool) string {
	enc := make([]queryPair, 0, len(pairs))
	for _, p := range pairs {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryPair{encodeQuery(p.key), encodeQuery(p.value)})
	}
	slices.SortFunc(enc, func(a, b queryPair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

func encodeQuery(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

// canonicalHeaders writes "name:value\n" for each signed header. Values are trimmed and
// runs of spaces collapsed (the Go SDK), or, with allSpace, runs of any whitespace
// collapsed to one space (botocore). differs reports whether allSpace changed anything.
func canonicalHeaders(r *http.Request, names []string, allSpace bool) (s string, differs bool) {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		values := headerValues(r, name)
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			sdk := strings.TrimSpace(collapseSpaces(v))
			if !allSpace {
				b.WriteString(sdk)
				continue
			}
			boto := strings.Join(strings.FieldsFunc(v, unicode.IsSpace), " ")
			differs = differs || boto != sdk
			b.WriteString(boto)
		}
		b.WriteByte('\n')
	}
	return b.String(), differs
}

// headerValues returns the values of a signed header as received. Go moves Host, and
// on the client side Content-Length and Transfer-Encoding, out of r.Header.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		return []string{r.URL.Host}
	case "content-length":
		if vs := r.Header.Values("Content-Length"); len(vs) > 0 {
			return vs
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if vs := r.Header.Values("Transfer-Encoding"); len(vs) > 0 {
			return vs
		}
		return []string{strings.Join(r.TransferEncoding, ",")}
	}
	if vs := r.Header[textproto.CanonicalMIMEHeaderKey(name)]; len(vs) > 0 {
		return vs
	}
	// Names that textproto does not canonicalise are stored as received.
	for k, vs := range r.Header {
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
