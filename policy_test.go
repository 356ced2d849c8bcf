package playkey_test

import (
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/internal/testenv"
)

func TestCountryCodesMatchISOCodes(t *testing.T) {
	// Debian's iso-codes package is an independent copy of ISO 3166-1.
	data, err := os.ReadFile("/usr/share/iso-codes/json/iso_3166-1.json")
	if err != nil {
		testenv.Missing(t, "Debian's iso-codes", "apt-get install iso-codes", err)
	}
	var doc struct {
		Countries []struct {
			Alpha2 string `json:"alpha_2"`
		} `json:"3166-1"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range doc.Countries {
		want = append(want, c.Alpha2)
	}
	slices.Sort(want)
	if got := playkey.CountryCodes(); !slices.Equal(got, want) {
		t.Errorf("country codes differ from iso-codes:\n got %v\nwant %v", got, want)
	}
}

func TestValidateCountry(t *testing.T) {
	for _, ok := range []string{"US", "MX", "DE", "AX", "ZW"} {
		if err := playkey.ValidateCountry(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for bad, mention := range map[string]string{"us": `"US"`, "USA": "alpha-2", "EU": "officially", "UK": "officially", "XK": "officially", "": "officially", "U": "officially"} {
		err := playkey.ValidateCountry(bad)
		if !playkey.IsCode(err, playkey.ErrValidation) || !strings.Contains(err.Error(), mention) {
			t.Errorf("%q: %v, want a ValidationException mentioning %s", bad, err, mention)
		}
	}
}

func TestValidateOrigin(t *testing.T) {
	for _, ok := range []string{"https://www.example.com", "http://localhost:8080", "null", "http://[::1]:3000", "https://xn--bcher-kva.example",
		"app://x", "https://" + strings.Repeat("a", 120)} {
		if err := playkey.ValidateOrigin(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "example.com", "https://", "https://example.com/", "https://example.com/path", "https://example.com?q",
		"https://example.com#f", "https://example.com:0", "https://example.com:65536", "https://example.com:", "https://user@example.com",
		"https://*.example.com", "*", "https://exa mple.com", "mailto:x@example.com", "https:example.com", "https://" + strings.Repeat("a", 121),
		"NULL", "https://a%41.example", "http://[fe80::1%25eth0]:80"} {
		if err := playkey.ValidateOrigin(bad); !playkey.IsCode(err, playkey.ErrValidation) {
			t.Errorf("%q accepted (%v)", bad, err)
		}
	}
}

func TestChannelCheck(t *testing.T) {
	arn := playkey.ARN{Region: "us-west-2", Account: "111111111111", Type: playkey.TypeChannel, ID: "abcdABCDefgh"}
	if err := playkey.NewChannel(arn, nilTime).Check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, c := range map[string]struct {
		edit    func(*playkey.Channel)
		mention string
	}{
		"latency":               {func(c *playkey.Channel) { c.LatencyMode = "low" }, "latencyMode \"low\" is not valid; use one of NORMAL, LOW"},
		"type":                  {func(c *playkey.Channel) { c.Type = "" }, "type"},
		"preset on STANDARD":    {func(c *playkey.Channel) { c.Preset = playkey.PresetHigherBandwidth }, "ADVANCED"},
		"no preset on ADVANCED": {func(c *playkey.Channel) { c.Type = playkey.ChannelAdvancedSD }, "preset"},
		"container":             {func(c *playkey.Channel) { c.ContainerFormat = "MP4" }, "containerFormat"},
		"multitrack on BASIC": {func(c *playkey.Channel) {
			c.Type, c.ContainerFormat, c.Multitrack.Enabled = playkey.ChannelBasic, playkey.ContainerFragmentedMP4, true
		}, "STANDARD"},
		"multitrack on TS":      {func(c *playkey.Channel) { c.Multitrack.Enabled = true }, "FRAGMENTED_MP4"},
		"multitrack policy":     {func(c *playkey.Channel) { c.Multitrack.Policy = "" }, "multitrackInputConfiguration.policy"},
		"multitrack resolution": {func(c *playkey.Channel) { c.Multitrack.MaximumResolution = "UHD" }, "SD, HD, FULL_HD"},
		"name":                  {func(c *playkey.Channel) { c.Name = "a/b" }, "name"},
	} {
		ch := playkey.NewChannel(arn, nilTime)
		c.edit(ch)
		err := ch.Check()
		if !playkey.IsCode(err, playkey.ErrValidation) || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: %v, want a ValidationException mentioning %q", name, err, c.mention)
		}
	}
}

// FuzzValidateOrigin feeds arbitrary strings to the origin parser that guards
// allowedOrigins: it must never panic, and whatever it accepts must be "null" or exactly
// scheme://host[:port] as net/url reads it back, at most 128 characters, with no wildcard.
func FuzzValidateOrigin(f *testing.F) {
	for _, s := range []string{"https://www.example.com", "http://localhost:8080", "null", "http://[::1]:3000", "app://x",
		"https://example.com/", "https://*.example.com", "https://user@example.com", "https:example.com", "https://a%41.example",
		"https://example.com:", "HTTPS://EXAMPLE.COM", "http://[fe80::1%25eth0]:80", "https://exa\x00mple.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, o string) {
		if playkey.ValidateOrigin(o) != nil || o == "null" {
			return
		}
		u, err := url.Parse(o)
		if err != nil {
			t.Fatalf("%q accepted but does not parse: %v", o, err)
		}
		// Origins compare case-insensitively (the gate uses EqualFold), so case may differ.
		if back := u.Scheme + "://" + u.Host; !strings.EqualFold(back, o) {
			t.Fatalf("%q accepted but reads back as %q", o, back)
		}
		if utf8.RuneCountInString(o) > 128 || strings.Contains(o, "*") {
			t.Fatalf("%q accepted", o)
		}
	})
}
