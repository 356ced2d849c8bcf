package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/playkey/playkey/token"
)

var tokenCommand = &command{
	name:    "token",
	summary: "sign, verify and inspect playback authorization tokens",
	run: func(ctx context.Context, io *stdio, args []string) error {
		return subcommands(ctx, io, "token", args, []*command{
			{name: "sign", summary: "sign a playback token with a private key (offline)", run: runTokenSign},
			{name: "verify", summary: "check a token against public keys (offline), or ask a server (--endpoint-url); exit 1 with the reason if rejected", run: runTokenVerify},
			{name: "inspect", summary: "decode a token without a key, explain every part, list what would reject it", run: runTokenInspect},
		})
	},
}

// channelARNPattern is what an IVS channel ARN looks like; the CLI refuses to sign for
// anything else, since a typo there makes a token that no channel accepts.
var channelARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:ivs:[a-z0-9-]+:[0-9]{12}:channel/[a-zA-Z0-9-]+$`)

func checkChannelARN(s string) error {
	if s == "" {
		return usageErrorf("--channel-arn is required")
	}
	if !channelARNPattern.MatchString(s) {
		return usageErrorf("--channel-arn %q is not an IVS channel ARN (arn:aws:ivs:REGION:ACCOUNT:channel/ID)", s)
	}
	return nil
}

func runTokenSign(ctx context.Context, io *stdio, args []string) error {
	fs := newFlagSet(io, "token sign", "")
	keyFile := fs.String("key", "", "the playback key pair's private key, a P-384 PEM `FILE` (SEC1 or PKCS#8)")
	channel := fs.String("channel-arn", "", "`ARN` of the channel the token plays (required)")
	ttl := fs.Duration("ttl", 10*time.Minute, "how long the token can start playback; at most 10m with --single-use or --viewer-id")
	var origins stringList
	fs.Var(&origins, "origin", "allow playback only from `ORIGIN` (https://host[:port], host may start with *.); repeat or comma-separate")
	strict := fs.Bool("strict-origin", false, "require a matching Origin header on every playlist and segment request (at most 5 origins)")
	singleUse := fs.Bool("single-use", false, "let the token start playback once (adds a random aws:single-use-uuid)")
	viewerID := fs.String("viewer-id", "", "viewer `ID` (1-40 characters) whose sessions can be revoked")
	version := fs.Int64("viewer-session-version", 0, "viewer session version `N`; a revocation up to N ends the session")
	maxRes := fs.String("max-resolution", "", "remove renditions above `LEVEL`: SD (480p), HD (720p) or FULL_HD (1080p)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("token sign takes no arguments, got %q", rest[0])
	}
	if *keyFile == "" {
		return usageErrorf("--key is required")
	}
	if err := checkChannelARN(*channel); err != nil {
		return err
	}
	if *ttl <= 0 {
		return usageErrorf("--ttl must be positive")
	}
	if (*singleUse || *viewerID != "") && *ttl > token.MaxRestrictedLifetime {
		return usageErrorf("--ttl %v is too long: a token with --single-use or --viewer-id must expire within %v", *ttl, token.MaxRestrictedLifetime)
	}
	if *strict && len(origins) == 0 {
		return usageErrorf("--strict-origin needs at least one --origin")
	}
	key, err := loadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	c := token.Claims{
		ChannelARN:              *channel,
		Exp:                     time.Now().Add(*ttl).Unix(),
		StrictOriginEnforcement: *strict,
		ViewerID:                *viewerID,
		ViewerSessionVersion:    *version,
		MaximumResolution:       *maxRes,
	}
	for _, o := range origins {
		for _, e := range strings.Split(o, ",") {
			c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimSpace(e))
		}
	}
	if *singleUse {
		c.SingleUseUUID = newUUID()
	}
	if problems := (&token.Verifier{}).CheckClaims(&c, c.ChannelARN, time.Now()); len(problems) > 0 {
		return usageErrorf("%s", problems[0].Reason)
	}
	tok, err := token.Sign(c, key)
	if err != nil {
		return err
	}
	fmt.Fprintln(io.out, tok)
	return nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// A keySource supplies the candidate public keys for a channel. Today they come from PEM
// files; asking a running server for the keys of the channel's account and region
// (--endpoint-url) is another source.
type keySource interface {
	keys(ctx context.Context, channelARN string) ([]*ecdsa.PublicKey, []string, error)
}

// fileKeys are public keys read from PEM files, named by their paths.
type fileKeys []string

func (f fileKeys) keys(ctx context.Context, channelARN string) ([]*ecdsa.PublicKey, []string, error) {
	keys := make([]*ecdsa.PublicKey, 0, len(f))
	for _, path := range f {
		k, err := loadPublicKey(path)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
	}
	return keys, f, nil
}

func runTokenVerify(ctx context.Context, io *stdio, args []string) error {
	fs := newFlagSet(io, "token verify", "TOKEN|-")
	var pubFiles stringList
	fs.Var(&pubFiles, "public-key", "a playback public key, a P-384 SubjectPublicKeyInfo PEM `FILE`; repeat for each of the account's keys (at most 3)")
	channel := fs.String("channel-arn", "", "`ARN` of the channel being played (required)")
	leeway := fs.Duration("leeway", 0, "clock difference to tolerate around exp")
	at := fs.String("at", "", "check as of `TIME` (RFC 3339) instead of now")
	var af apiFlags // --endpoint-url: ask a running server instead of reading key files
	af.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("token verify needs exactly one TOKEN argument (or - to read it from standard input)")
	}
	if len(pubFiles) == 0 && af.endpoint != "" {
		if *at != "" || *leeway != 0 {
			return usageErrorf("--at and --leeway apply to --public-key checks; the server checks as of its own clock")
		}
		if err := checkChannelARN(*channel); err != nil {
			return err
		}
		tok, err := readTokenArg(io, rest[0])
		if err != nil {
			return err
		}
		return verifyRemote(ctx, io, &af, *channel, tok)
	}
	if len(pubFiles) == 0 {
		return usageErrorf("--public-key FILE or --endpoint-url URL is required")
	}
	if len(pubFiles) > token.MaxKeys {
		return usageErrorf("%d --public-key flags; an account has at most %d playback keys per region", len(pubFiles), token.MaxKeys)
	}
	if err := checkChannelARN(*channel); err != nil {
		return err
	}
	now, err := parseAt(*at)
	if err != nil {
		return err
	}
	tok, err := readTokenArg(io, rest[0])
	if err != nil {
		return err
	}
	var src keySource = fileKeys(pubFiles)
	keys, names, err := src.keys(ctx, *channel)
	if err != nil {
		return err
	}
	v := &token.Verifier{Leeway: *leeway}
	c, i, err := v.Verify(tok, keys, *channel, now)
	var rej *token.Rejection
	if errors.As(err, &rej) {
		return &exitError{code: 1, msg: fmt.Sprintf("token rejected (%s): %s", rej.Code, rej.Reason)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "valid: signed with %s; expires %s\n", names[i], relative(c.Exp, now))
	return nil
}

func runTokenInspect(ctx context.Context, io *stdio, args []string) error {
	fs := newFlagSet(io, "token inspect", "TOKEN|-")
	channel := fs.String("channel-arn", "", "also check that the token is for the channel `ARN`")
	at := fs.String("at", "", "judge expiry as of `TIME` (RFC 3339) instead of now")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErrorf("token inspect needs exactly one TOKEN argument (or - to read it from standard input)")
	}
	if *channel != "" {
		if err := checkChannelARN(*channel); err != nil {
			return err
		}
	}
	now, err := parseAt(*at)
	if err != nil {
		return err
	}
	tok, err := readTokenArg(io, rest[0])
	if err != nil {
		return err
	}
	t, problems := (&token.Verifier{}).Diagnose(tok, *channel, now)
	printInspection(io.out, tok, t, problems, *channel, now)
	if len(problems) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// printInspection explains a token: header, each claim, signature, and the verdict.
func printInspection(w io.Writer, tok string, t *token.Token, problems []*token.Rejection, channel string, now time.Time) {
	prefix := shorten(tok, 16)
	fmt.Fprintf(w, "token  %s (%d bytes)\n", prefix, len(tok))
	if t != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "header")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if t.RawHeader != nil {
			members, err := jsonMembers(t.RawHeader)
			if err != nil {
				fmt.Fprintf(tw, "  (not a JSON object)\t%s\n", shorten(string(t.RawHeader), 100))
			}
			for _, m := range members {
				fmt.Fprintf(tw, "  %s\t%s\n  \t%s\n", shorten(m.key, 100), shorten(string(m.raw), 100), explainHeader(m.key, m.raw))
			}
		} else {
			fmt.Fprintln(tw, "  (not decodable)")
		}
		tw.Flush()

		fmt.Fprintln(w)
		fmt.Fprintln(w, "claims")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		payloadOK := true
		for _, p := range problems {
			payloadOK = payloadOK && p.Code != token.BadPayload
		}
		if t.RawPayload != nil {
			members, err := jsonMembers(t.RawPayload)
			if err != nil {
				fmt.Fprintf(tw, "  (not a JSON object)\t%s\n", shorten(string(t.RawPayload), 100))
			}
			for _, m := range members {
				why := "(not read: the payload is rejected, see the verdict)"
				if payloadOK {
					why = explainClaim(&t.Claims, m.key, m.raw, channel, now)
				}
				fmt.Fprintf(tw, "  %s\t%s\n  \t%s\n", shorten(m.key, 100), shorten(string(m.raw), 100), why)
			}
		} else {
			fmt.Fprintln(tw, "  (not decodable)")
		}
		tw.Flush()

		fmt.Fprintln(w)
		switch n := len(t.Signature); {
		case t.Signature == nil:
			fmt.Fprintln(w, "signature  (not decodable)")
		case n == 96:
			fmt.Fprintln(w, "signature  96 bytes, r||s as ES384 needs; checking it needs the public key (playkey token verify --public-key FILE)")
		default:
			fmt.Fprintf(w, "signature  %d bytes\n", n)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "verdict")
	for _, p := range problems {
		fmt.Fprintf(w, "  ✗ %s: %s\n", p.Code, p.Reason)
	}
	if len(problems) == 0 {
		fmt.Fprintln(w, "  ✓ no problem found in the header and claims")
	}
	if channel == "" {
		fmt.Fprintln(w, "  ? channel not compared: pass --channel-arn ARN")
	}
	fmt.Fprintln(w, "  ? signature not checked: that needs the account's public keys (playkey token verify)")
}

type jsonMember struct {
	key string
	raw json.RawMessage
}

// jsonMembers lists an object's members in order, for display only.
func jsonMembers(b []byte) ([]jsonMember, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var out []jsonMember
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out, err
		}
		out = append(out, jsonMember{key: t.(string), raw: raw})
	}
	return out, nil
}

func explainHeader(key string, raw json.RawMessage) string {
	switch key {
	case "alg":
		if string(raw) == `"ES384"` {
			return "ECDSA with P-384 and SHA-384, as IVS requires"
		}
		return "IVS requires ES384"
	case "typ":
		return "token type"
	case "kid":
		return "key ID: ignored, IVS tries every playback key of the account and region"
	}
	return "not allowed in an IVS token header"
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func explainClaim(c *token.Claims, key string, raw json.RawMessage, channel string, now time.Time) string {
	switch key {
	case token.ClaimChannelARN:
		switch {
		case channel == "":
			return "the channel this token plays"
		case c.ChannelARN == channel:
			return "the channel this token plays: matches --channel-arn"
		}
		return "the channel this token plays: NOT the one given with --channel-arn"
	case token.ClaimExp:
		if c.Exp == 0 {
			return "expiry, but not a usable number"
		}
		s := "expires " + relative(c.Exp, now)
		if c.Exp > 100_000_000_000 {
			s += "; looks like milliseconds (" + formatLocal(c.Exp/1000) + "), which IVS takes as far future: fine unless the token is single-use or has a viewer ID"
		}
		return s
	case token.ClaimAllowOrigin:
		if c.StrictOriginEnforcement {
			return "playback only from these origins"
		}
		return "playback only from these origins (checked on the multivariant playlist, for browsers)"
	case token.ClaimStrictOriginEnforcement:
		if c.StrictOriginEnforcement {
			return "every playlist and segment request must send a matching Origin header, browsers or not"
		}
		return "off: origins are checked on the multivariant playlist only"
	case token.ClaimSingleUseUUID:
		s := "the token starts playback once"
		if c.SingleUseUUID != "" && !uuidPattern.MatchString(c.SingleUseUUID) {
			s += " (not a UUID, though IVS documents one here)"
		}
		return s
	case token.ClaimViewerID:
		return "the viewer; their sessions can be revoked"
	case token.ClaimViewerSessionVersion:
		return "revoking this viewer with a version at or above this ends the session"
	case token.ClaimMaximumResolution:
		switch c.MaximumResolution {
		case token.ResolutionSD:
			return "renditions above 480p are removed"
		case token.ResolutionHD:
			return "renditions above 720p are removed"
		case token.ResolutionFullHD:
			return "renditions above 1080p are removed"
		}
		return "must be SD, HD or FULL_HD"
	case "iat", "nbf":
		name := map[string]string{"iat": "issued", "nbf": "not before"}[key]
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return "not an IVS claim, ignored (" + name + " " + formatLocal(n) + ")"
		}
	}
	return "not an IVS claim, ignored"
}

// relative describes a NumericDate in local time and relative to now.
func relative(exp int64, now time.Time) string {
	when := formatLocal(exp)
	if !strings.HasPrefix(when, "the year") && !strings.HasPrefix(when, "before") {
		when = "at " + when
	} else {
		when = "in " + when
	}
	n := now.Unix()
	switch {
	case exp > n:
		return when + ", in " + humanSeconds(exp-n)
	case exp == n:
		return when + ", just now"
	}
	if exp < n-1<<62 {
		return when + ", ages ago"
	}
	return when + ", " + humanSeconds(n-exp) + " ago"
}

// formatLocal writes a NumericDate in local time; past year 9999 it gives the year alone.
func formatLocal(sec int64) string {
	c := token.Claims{Exp: sec}
	if t := c.ExpiresAt(); t.Unix() == sec {
		return t.Local().Format("2006-01-02 15:04:05 MST")
	}
	if sec > 0 {
		return "the year " + strconv.FormatInt(1970+sec/31556952, 10)
	}
	return "before the year 1"
}

// humanSeconds writes a span the way a person says it: 42s, 3m12s, 5h3m, 17d5h, 56 years.
func humanSeconds(sec int64) string {
	if sec < 0 || sec > 1<<62 {
		return "ages"
	}
	const minute, hour, day = 60, 3600, 86400
	two := func(a int64, ua string, b int64, ub string) string {
		if b == 0 {
			return strconv.FormatInt(a, 10) + ua
		}
		return strconv.FormatInt(a, 10) + ua + strconv.FormatInt(b, 10) + ub
	}
	switch {
	case sec < minute:
		return strconv.FormatInt(sec, 10) + "s"
	case sec < hour:
		return two(sec/minute, "m", sec%minute, "s")
	case sec < 2*day:
		return two(sec/hour, "h", sec%hour/minute, "m")
	case sec < 730*day:
		return two(sec/day, "d", sec%day/hour, "h")
	}
	return strconv.FormatInt(sec/(365*day+day/4), 10) + " years"
}

// shorten makes text from a token safe to print: at most n bytes of it, cut between
// characters, with control characters (a terminal escape, a line break, a tab that would
// break the columns), other unprintable characters and invalid UTF-8 written as Go escapes.
func shorten(s string, n int) string {
	cut := len(s) > n
	if cut {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	if cut {
		b.WriteString("…")
	}
	return b.String()
}

func parseAt(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageErrorf("--at %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", s)
	}
	return t, nil
}

// readTokenArg returns the token given as an argument, read from standard input for "-",
// or taken from the token query parameter of a playback URL.
func readTokenArg(std *stdio, arg string) (string, error) {
	if arg == "-" {
		b, err := bufio.NewReader(std.in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the token from standard input: %w", err)
		}
		arg = strings.TrimSpace(b)
	}
	if strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://") {
		if u, err := url.Parse(arg); err == nil && u.Query().Get("token") != "" {
			return u.Query().Get("token"), nil
		}
	}
	return arg, nil
}

// loadPrivateKey reads a P-384 private key from a PEM file: SEC1 "EC PRIVATE KEY" (what
// openssl ecparam -genkey and playkey keygen write, possibly after an "EC PARAMETERS"
// block) or PKCS#8 "PRIVATE KEY".
func loadPrivateKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%s: no private key PEM block (want EC PRIVATE KEY or PRIVATE KEY)", path)
		}
		var key any
		switch block.Type {
		case "EC PARAMETERS":
			continue
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%s: the private key is encrypted; decrypt it first (openssl pkey -in FILE -out plain.pem)", path)
		case "PUBLIC KEY":
			return nil, fmt.Errorf("%s is a public key; signing needs the private key", path)
		default:
			return nil, fmt.Errorf("%s: a %s PEM block is not a private key", path, block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s block does not parse: %v", path, block.Type, err)
		}
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: a %T is not an ECDSA key; IVS playback keys are ECDSA P-384", path, key)
		}
		if k.Curve != elliptic.P384() {
			return nil, fmt.Errorf("%s: the key is on %s; IVS playback keys are P-384", path, k.Curve.Params().Name)
		}
		return k, nil
	}
}

// loadPublicKey reads a P-384 public key from a SubjectPublicKeyInfo "PUBLIC KEY" PEM file,
// as openssl ec -pubout writes it.
func loadPublicKey(path string) (*ecdsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("%s: no PEM block (want a PUBLIC KEY block)", path)
	case block.Type == "EC PRIVATE KEY" || block.Type == "PRIVATE KEY" || block.Type == "EC PARAMETERS":
		return nil, fmt.Errorf("%s holds a private key; pass the public key (openssl ec -in %s -pubout)", path, path)
	case block.Type != "PUBLIC KEY":
		return nil, fmt.Errorf("%s: a %s PEM block is not a public key (want PUBLIC KEY)", path, block.Type)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: the public key does not parse: %v", path, err)
	}
	k, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T is not an ECDSA key; IVS playback keys are ECDSA P-384", path, key)
	}
	if k.Curve != elliptic.P384() {
		return nil, fmt.Errorf("%s: the key is on %s; IVS playback keys are P-384", path, k.Curve.Params().Name)
	}
	return k, nil
}
