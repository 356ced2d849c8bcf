package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
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

	"github.com/google/uuid"

	"github.com/playkey/playkey/token"
)

var tokenCommand = &command{
	name:    "token",
	summary: "sign, verify and inspect playback authorization tokens",
	run: func(ctx context.Context, std *stdio, args []string) error {
		return subcommands(ctx, std, "token", args, []*command{
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

func runTokenSign(ctx context.Context, std *stdio, args []string) error {
	fs := newFlagSet(std, "token sign", "")
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
		c.SingleUseUUID = uuid.NewString()
	}
	if problems := (&token.Verifier{}).CheckClaims(&c, c.ChannelARN, time.Now()); len(problems) > 0 {
		return usageErrorf("%s", problems[0].Reason)
	}
	tok, err := token.Sign(c, key)
	if err != nil {
		return err
	}
	fmt.Fprintln(std.out, tok)
	return nil
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

func runTokenVerify(ctx context.Context, std *stdio, args []string) error {
	fs := newFlagSet(std, "token verify", "TOKEN|-")
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
		tok, err := readTokenArg(std, rest[0])
		if err != nil {
			return err
		}
		return verifyRemote(ctx, std, &af, *channel, tok)
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
	tok, err := readTokenArg(std, rest[0])
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
	fmt.Fprintf(std.out, "valid: signed with %s; expires %s\n", names[i], token.DescribeTime(c.Exp, now))
	return nil
}

func runTokenInspect(ctx context.Context, std *stdio, args []string) error {
	fs := newFlagSet(std, "token inspect", "TOKEN|-")
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
	tok, err := readTokenArg(std, rest[0])
	if err != nil {
		return err
	}
	e := (&token.Verifier{}).Explain(tok, *channel, "--channel-arn", now)
	printInspection(std.out, tok, e, *channel)
	if len(e.Problems) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// printInspection prints a token's explanation: header, each claim, signature, and the
// verdict. channel is the --channel-arn it was explained for.
func printInspection(w io.Writer, tok string, e *token.Explanation, channel string) {
	prefix := shorten(tok, 16)
	fmt.Fprintf(w, "token  %s (%d bytes)\n", prefix, len(tok))
	if t := e.Token; t != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "header")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if t.RawHeader != nil {
			if !e.HeaderObject {
				fmt.Fprintf(tw, "  (not a JSON object)\t%s\n", shorten(string(t.RawHeader), 100))
			}
			for _, m := range e.Header {
				fmt.Fprintf(tw, "  %s\t%s\n  \t%s\n", shorten(m.Name, 100), shorten(string(m.Value), 100), m.Meaning)
			}
		} else {
			fmt.Fprintln(tw, "  (not decodable)")
		}
		tw.Flush()

		fmt.Fprintln(w)
		fmt.Fprintln(w, "claims")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if t.RawPayload != nil {
			if !e.ClaimsObject {
				fmt.Fprintf(tw, "  (not a JSON object)\t%s\n", shorten(string(t.RawPayload), 100))
			}
			for _, m := range e.Claims {
				why := m.Meaning
				if why == "" {
					why = "(not read: the payload is rejected, see the verdict)"
				}
				fmt.Fprintf(tw, "  %s\t%s\n  \t%s\n", shorten(m.Name, 100), shorten(string(m.Value), 100), why)
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
	for _, p := range e.Problems {
		fmt.Fprintf(w, "  ✗ %s: %s\n", p.Code, p.Reason)
	}
	if len(e.Problems) == 0 {
		fmt.Fprintln(w, "  ✓ no problem found in the header and claims")
	}
	if channel == "" {
		fmt.Fprintln(w, "  ? channel not compared: pass --channel-arn ARN")
	}
	fmt.Fprintln(w, "  ? signature not checked: that needs the account's public keys (playkey token verify)")
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
