package playkey

import (
	"net"
	"slices"
	"strings"
	"time"
)

// Channel is an IVS channel. playkey carries no video: it keeps channels for what playback
// security needs (whether playback is private, which restriction policy applies) and keeps
// every other setting so that clients see what IVS would show them.
type Channel struct {
	ARN             ARN
	Name            string
	LatencyMode     string // one of LatencyModes
	Type            string // one of ChannelTypes
	Preset          string // one of TranscodePresets for the ADVANCED types, else ""
	Authorized      bool   // private: playback needs a playback authorization token
	InsecureIngest  bool
	ContainerFormat string // one of ContainerFormats
	Multitrack      Multitrack
	// PlaybackRestrictionPolicy names a policy in the channel's own scope, or is the zero ARN.
	PlaybackRestrictionPolicy ARN
	// SRTPassphrase is generated once, when the channel is created.
	SRTPassphrase string
	Tags          map[string]string
	CreatedAt     time.Time
}

// Multitrack is a channel's multitrackInputConfiguration. When it is disabled, IVS still
// reports a policy and a maximum resolution (ALLOW and FULL_HD unless set).
type Multitrack struct {
	Enabled           bool
	Policy            string // one of MultitrackPolicies
	MaximumResolution string // one of MultitrackResolutions
}

// Enumerations of the IVS service model.
const (
	LatencyNormal = "NORMAL"
	LatencyLow    = "LOW"

	ChannelBasic      = "BASIC"
	ChannelStandard   = "STANDARD"
	ChannelAdvancedSD = "ADVANCED_SD"
	ChannelAdvancedHD = "ADVANCED_HD"

	PresetHigherBandwidth      = "HIGHER_BANDWIDTH_DELIVERY"
	PresetConstrainedBandwidth = "CONSTRAINED_BANDWIDTH_DELIVERY"

	ContainerTS            = "TS"
	ContainerFragmentedMP4 = "FRAGMENTED_MP4"

	MultitrackAllow   = "ALLOW"
	MultitrackRequire = "REQUIRE"

	ResolutionSD     = "SD"
	ResolutionHD     = "HD"
	ResolutionFullHD = "FULL_HD"
)

// The allowed values of each enumeration, in the model's order.
var (
	LatencyModes          = []string{LatencyNormal, LatencyLow}
	ChannelTypes          = []string{ChannelBasic, ChannelStandard, ChannelAdvancedSD, ChannelAdvancedHD}
	TranscodePresets      = []string{PresetHigherBandwidth, PresetConstrainedBandwidth}
	ContainerFormats      = []string{ContainerTS, ContainerFragmentedMP4}
	MultitrackPolicies    = []string{MultitrackAllow, MultitrackRequire}
	MultitrackResolutions = []string{ResolutionSD, ResolutionHD, ResolutionFullHD}
)

// Lengths of generated secrets, as seen in responses from IVS: a stream key value is
// sk_{region}_{stream key id}_{30 letters and digits}; an SRT passphrase is 79 letters and
// digits (the most SRT allows).
const (
	streamKeySecretLength = 30
	srtPassphraseLength   = 79
)

// MaxStreamKeysPerChannel is IVS's limit: CreateChannel makes the one stream key, and
// CreateStreamKey works only after DeleteStreamKey.
const MaxStreamKeysPerChannel = 1

// NewChannel returns a channel with IVS's defaults: no name, LOW latency, STANDARD type, no
// preset, public, secure ingest only, TS container, multitrack disabled (ALLOW, FULL_HD),
// no playback restriction policy, no tags, and a fresh SRT passphrase.
func NewChannel(arn ARN, now time.Time) *Channel {
	return &Channel{
		ARN:             arn,
		LatencyMode:     LatencyLow,
		Type:            ChannelStandard,
		ContainerFormat: ContainerTS,
		Multitrack:      Multitrack{Policy: MultitrackAllow, MaximumResolution: ResolutionFullHD},
		SRTPassphrase:   RandomString(srtPassphraseLength),
		Tags:            map[string]string{},
		CreatedAt:       now,
	}
}

// Advanced reports whether the channel's type is one of the ADVANCED types, the only ones
// with a transcode preset.
func (c *Channel) Advanced() bool {
	return c.Type == ChannelAdvancedSD || c.Type == ChannelAdvancedHD
}

// Check enforces the rules of the IVS model on a channel's settings, alone and together:
// the name; every enumeration; a preset on the ADVANCED types and only on them; multitrack
// input only on STANDARD channels with the FRAGMENTED_MP4 container. The error is a
// ValidationException naming the member at fault.
func (c *Channel) Check() error {
	if err := ValidateName(c.Name); err != nil {
		return err
	}
	for _, e := range []struct {
		member, value string
		allowed       []string
	}{
		{"latencyMode", c.LatencyMode, LatencyModes},
		{"type", c.Type, ChannelTypes},
		{"containerFormat", c.ContainerFormat, ContainerFormats},
		{"multitrackInputConfiguration.policy", c.Multitrack.Policy, MultitrackPolicies},
		{"multitrackInputConfiguration.maximumResolution", c.Multitrack.MaximumResolution, MultitrackResolutions},
	} {
		if err := CheckEnum(e.member, e.value, e.allowed); err != nil {
			return err
		}
	}
	switch {
	case c.Advanced():
		if err := CheckEnum("preset", c.Preset, TranscodePresets); err != nil {
			return err
		}
	case c.Preset != "":
		return Errorf(ErrValidation, "preset is selectable only for ADVANCED_SD and ADVANCED_HD channels, not %s", c.Type)
	}
	if c.Multitrack.Enabled {
		if c.Type != ChannelStandard {
			return Errorf(ErrValidation, "multitrack input can be enabled only on STANDARD channels, not %s", c.Type)
		}
		if c.ContainerFormat != ContainerFragmentedMP4 {
			return Errorf(ErrValidation, "multitrack input needs containerFormat FRAGMENTED_MP4, not %s", c.ContainerFormat)
		}
	}
	return nil
}

// CheckEnum returns a ValidationException naming member and listing the allowed values
// unless v is one of them.
func CheckEnum(member, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return Errorf(ErrValidation, "%s %q is not valid; use one of %s", member, v, strings.Join(allowed, ", "))
}

// StreamKey is the secret a broadcaster streams to a channel with. IVS returns its value
// from GetStreamKey too, so it is stored as is.
type StreamKey struct {
	ARN       ARN
	Channel   ARN // in the stream key's own scope
	Value     string
	Tags      map[string]string
	CreatedAt time.Time
}

// NewStreamKey returns a new stream key for channel, with a fresh id and value in IVS's
// format, sk_{region}_{id}_{30 letters and digits}, and no tags.
func NewStreamKey(channel ARN, now time.Time) *StreamKey {
	id := NewID()
	return &StreamKey{
		ARN:       ARN{Region: channel.Region, Account: channel.Account, Type: TypeStreamKey, ID: id},
		Channel:   channel,
		Value:     "sk_" + channel.Region + "_" + id + "_" + RandomString(streamKeySecretLength),
		Tags:      map[string]string{},
		CreatedAt: now,
	}
}

// ChannelFilter narrows a channel listing; zero fields match everything. IVS allows one
// filter per request; a store applies all it is given.
type ChannelFilter struct {
	Name                      string // exact match
	PlaybackRestrictionPolicy ARN
}

// The ports of IVS's RTMP ingest: RTMPS on 443, RTMP on 1935.
const (
	RTMPSPort = "443"
	RTMPPort  = "1935"
)

// IngestServerURL is the server URL broadcasters enter for a channel whose ingestEndpoint
// is endpoint (the stream key follows it): rtmps://HOST:443/app/ for a bare HOST, as IVS
// documents; for HOST:PORT, RTMP when the port is 1935 and RTMPS on any other port. The
// model's ingestEndpoint carries no scheme, so a deployment announces plain RTMP by its
// port (see serve's --ingest-url); the console's channel pages read it by the same rule.
func IngestServerURL(endpoint string) string {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil || port == "" {
		return "rtmps://" + net.JoinHostPort(strings.Trim(endpoint, "[]"), RTMPSPort) + "/app/"
	}
	scheme := "rtmps"
	if port == RTMPPort {
		scheme = "rtmp"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/app/"
}
