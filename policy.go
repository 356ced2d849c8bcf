package playkey

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PlaybackRestrictionPolicy constrains playback of the channels that use it by the
// viewer's country and the page's origin. IVS ignores it on private channels.
type PlaybackRestrictionPolicy struct {
	ARN  ARN
	Name string
	// AllowedCountries are ISO 3166-1 alpha-2 codes; empty allows every country.
	AllowedCountries []string
	// AllowedOrigins are Origin header values; empty allows every origin.
	AllowedOrigins                []string
	EnableStrictOriginEnforcement bool
	Tags                          map[string]string
	CreatedAt                     time.Time
}

// Check validates a policy's settings against the IVS model: the name, every country code
// and every origin. The error is a ValidationException naming what is wrong.
func (p *PlaybackRestrictionPolicy) Check() error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	for _, c := range p.AllowedCountries {
		if err := ValidateCountry(c); err != nil {
			return err
		}
	}
	for _, o := range p.AllowedOrigins {
		if err := ValidateOrigin(o); err != nil {
			return err
		}
	}
	return nil
}

// countryCodes are the officially assigned ISO 3166-1 alpha-2 codes (249, as of ISO 3166-1
// in Debian's iso-codes 4.15). Reserved and user-assigned codes (EU, UK, XK...) are not.
const countryCodes = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ " +
	"BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM " +
	"DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS " +
	"GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN " +
	"KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ " +
	"MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM " +
	"PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV " +
	"SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI " +
	"VN VU WF WS YE YT ZA ZM ZW"

var countries = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(countryCodes) {
		m[c] = true
	}
	return m
}()

// CountryCodes returns the codes ValidateCountry accepts, in order.
func CountryCodes() []string { return strings.Fields(countryCodes) }

// ValidateCountry accepts an officially assigned ISO 3166-1 alpha-2 code, in upper case as
// the standard writes it.
func ValidateCountry(c string) error {
	if countries[c] {
		return nil
	}
	if countries[strings.ToUpper(c)] {
		return Errorf(ErrValidation, "allowedCountries: %q must be written in upper case, %q", c, strings.ToUpper(c))
	}
	return Errorf(ErrValidation, "allowedCountries: %q is not an officially assigned ISO 3166-1 alpha-2 country code", c)
}

// maxOriginLength is the model's limit on one allowed origin.
const maxOriginLength = 128

// ValidateOrigin accepts what a browser may send in an Origin header: "null", or
// scheme://host with an optional port, and nothing after it (no path, query, fragment or
// user information; no wildcards, percent-escapes or IPv6 zones). At most 128 characters.
func ValidateOrigin(o string) error {
	bad := func(why string) error {
		return Errorf(ErrValidation, "allowedOrigins: %q is not an origin (%s); write scheme://host[:port], e.g. https://www.example.com", o, why)
	}
	if n := utf8.RuneCountInString(o); n > maxOriginLength {
		return Errorf(ErrValidation, "allowedOrigins: an origin is %d characters long; the limit is %d", n, maxOriginLength)
	}
	if o == "null" {
		return nil
	}
	if o == "" {
		return bad("it is empty")
	}
	if strings.ContainsAny(o, "*\\ \t\r\n") {
		return bad("it holds a wildcard, a backslash or a space")
	}
	// A browser serialises an origin's host without percent-escapes or an IPv6 zone, so
	// such an entry could never match an Origin header.
	if strings.Contains(o, "%") {
		return bad("it holds a percent sign, which no browser sends in an origin")
	}
	u, err := url.Parse(o)
	switch {
	case err != nil || u.Scheme == "" || u.Opaque != "" || !strings.HasPrefix(o[len(u.Scheme):], "://"):
		return bad("no scheme://")
	case u.Host == "" || u.Hostname() == "":
		return bad("no host")
	case u.User != nil:
		return bad("user information is not part of an origin")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(o, "#"):
		return bad("an origin has no path, query or fragment")
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("bad port")
		}
	}
	return nil
}
