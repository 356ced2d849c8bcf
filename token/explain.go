package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Explanation is a token taken apart for a person: what each part means and everything
// that would make Verify reject it, except the signature. It is what Explain returns, for
// every surface that shows a token (the CLI, the API's VerifyPlaybackToken, the console).
type Explanation struct {
	// Token is what could be decoded, nil when the token is not three base64url parts. Its
	// claims are unauthenticated.
	Token *Token
	// Problems are the rejections Diagnose finds, in order; none means that only the
	// signature is left to check.
	Problems []*Rejection
	// Header and Claims are the members of the header and of the payload, in token order,
	// each with its meaning. A claim's meaning is "" when the payload is rejected as a
	// whole (BadPayload): its claims are not read.
	Header, Claims []Part
	// HeaderObject and ClaimsObject report whether the header and the payload are JSON
	// objects; when not, Header or Claims hold the members read before the fault.
	HeaderObject, ClaimsObject bool
}

// Part is one member of a token's header or payload.
type Part struct {
	Name    string          `json:"name"`
	Value   json.RawMessage `json:"value"`
	Meaning string          `json:"meaning"`
}

// Explain decodes tok without a key and explains it, judging exp as of now. With
// channelARN "" the channel is not compared; channelSource says where channelARN came
// from ("--channel-arn", "the request's channelArn"), for the meaning of aws:channel-arn.
// tok comes from anyone: Part values are its bytes as they are, for the caller to show
// safely.
func (v *Verifier) Explain(tok, channelARN, channelSource string, now time.Time) *Explanation {
	t, problems := v.Diagnose(tok, channelARN, now)
	e := &Explanation{Token: t, Problems: problems}
	if t == nil {
		return e
	}
	if t.RawHeader != nil {
		var err error
		e.Header, err = jsonMembers(t.RawHeader)
		e.HeaderObject = err == nil
		for i := range e.Header {
			e.Header[i].Meaning = explainHeader(e.Header[i].Name, e.Header[i].Value)
		}
	}
	if t.RawPayload != nil {
		read := true
		for _, p := range problems {
			read = read && p.Code != BadPayload
		}
		var err error
		e.Claims, err = jsonMembers(t.RawPayload)
		e.ClaimsObject = err == nil
		for i := range e.Claims {
			if read {
				e.Claims[i].Meaning = explainClaim(&t.Claims, e.Claims[i].Name, e.Claims[i].Value, channelARN, channelSource, now)
			}
		}
	}
	return e
}

// jsonMembers lists an object's members in order, for display only: Token holds the
// decoded claims, but a person wants to see every member, unknown ones included.
func jsonMembers(b []byte) ([]Part, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var out []Part
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return out, err
		}
		out = append(out, Part{Name: t.(string), Value: raw})
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

func explainClaim(c *Claims, key string, raw json.RawMessage, channel, channelSource string, now time.Time) string {
	switch key {
	case ClaimChannelARN:
		switch {
		case channel == "":
			return "the channel this token plays"
		case c.ChannelARN == channel:
			return "the channel this token plays: matches " + channelSource
		}
		return "the channel this token plays: NOT the one given with " + channelSource
	case ClaimExp:
		if c.Exp == 0 {
			return "expiry, but not a usable number"
		}
		s := "expires " + DescribeTime(c.Exp, now)
		if c.Exp > 100_000_000_000 {
			s += "; looks like milliseconds (" + formatLocal(c.Exp/1000) + "), which IVS takes as far future: fine unless the token is single-use or has a viewer ID"
		}
		return s
	case ClaimAllowOrigin:
		if c.StrictOriginEnforcement {
			return "playback only from these origins"
		}
		return "playback only from these origins (checked on the multivariant playlist, for browsers)"
	case ClaimStrictOriginEnforcement:
		if c.StrictOriginEnforcement {
			return "every playlist and segment request must send a matching Origin header, browsers or not"
		}
		return "off: origins are checked on the multivariant playlist only"
	case ClaimSingleUseUUID:
		s := "the token starts playback once"
		if c.SingleUseUUID != "" && !uuidPattern.MatchString(c.SingleUseUUID) {
			s += " (not a UUID, though IVS documents one here)"
		}
		return s
	case ClaimViewerID:
		return "the viewer; their sessions can be revoked"
	case ClaimViewerSessionVersion:
		return "revoking this viewer with a version at or above this ends the session"
	case ClaimMaximumResolution:
		switch c.MaximumResolution {
		case ResolutionSD:
			return "renditions above 480p are removed"
		case ResolutionHD:
			return "renditions above 720p are removed"
		case ResolutionFullHD:
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

// DescribeTime describes a NumericDate (exp) in local time and relative to now: "at
// 2026-01-01 00:09:00 UTC, in 9m".
func DescribeTime(sec int64, now time.Time) string {
	when := formatLocal(sec)
	if !strings.HasPrefix(when, "the year") && !strings.HasPrefix(when, "before") {
		when = "at " + when
	} else {
		when = "in " + when
	}
	n := now.Unix()
	switch {
	case sec > n:
		return when + ", in " + humanSeconds(sec-n)
	case sec == n:
		return when + ", just now"
	}
	if sec < n-1<<62 {
		return when + ", ages ago"
	}
	return when + ", " + humanSeconds(n-sec) + " ago"
}

// formatLocal writes a NumericDate in local time; past year 9999 it gives the year alone.
func formatLocal(sec int64) string {
	c := Claims{Exp: sec}
	if t := c.ExpiresAt(); t.Unix() == sec {
		return t.Local().Format("2006-01-02 15:04:05 MST")
	}
	if sec > 0 {
		return "the year " + strconv.FormatInt(1970+sec/31556952, 10)
	}
	return "before the year 1"
}

// humanSeconds writes a span the way a person says it, as rejection reasons do (42s,
// 3m12s, 5h3m, 17d5h, 56 years), and "ages" for one out of any token's reach.
func humanSeconds(sec int64) string {
	if sec < 0 || sec > 1<<62 {
		return "ages"
	}
	return formatSeconds(sec)
}
