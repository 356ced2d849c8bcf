package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/playkey/playkey"
)

// channelSummary is the model's ChannelSummary, what ListChannels returns.
type channelSummary struct {
	ARN                          string            `json:"arn"`
	Name                         string            `json:"name"`
	LatencyMode                  string            `json:"latencyMode"`
	Authorized                   bool              `json:"authorized"`
	RecordingConfigurationARN    string            `json:"recordingConfigurationArn"`
	Tags                         map[string]string `json:"tags"`
	InsecureIngest               bool              `json:"insecureIngest"`
	Type                         string            `json:"type"`
	Preset                       string            `json:"preset"`
	PlaybackRestrictionPolicyARN string            `json:"playbackRestrictionPolicyArn"`
	AdConfigurationARN           string            `json:"adConfigurationArn"`
}

// channel is the model's Channel: the summary and the ingest, playback and packaging details.
type channel struct {
	channelSummary
	IngestEndpoint               string     `json:"ingestEndpoint"`
	PlaybackURL                  string     `json:"playbackUrl"`
	SRT                          srt        `json:"srt"`
	MultitrackInputConfiguration multitrack `json:"multitrackInputConfiguration"`
	ContainerFormat              string     `json:"containerFormat"`
}

type srt struct {
	Endpoint   string `json:"endpoint"`
	Passphrase string `json:"passphrase"`
}

type multitrack struct {
	Enabled           bool   `json:"enabled"`
	Policy            string `json:"policy"`
	MaximumResolution string `json:"maximumResolution"`
}

func channelSummaryOut(ch *playkey.Channel) channelSummary {
	policy := ""
	if !ch.PlaybackRestrictionPolicy.IsZero() {
		policy = ch.PlaybackRestrictionPolicy.String()
	}
	return channelSummary{
		ARN:                          ch.ARN.String(),
		Name:                         ch.Name,
		LatencyMode:                  ch.LatencyMode,
		Authorized:                   ch.Authorized,
		Tags:                         nonNil(ch.Tags),
		InsecureIngest:               ch.InsecureIngest,
		Type:                         ch.Type,
		Preset:                       ch.Preset,
		PlaybackRestrictionPolicyARN: policy,
	}
}

func (s *Server) channelOut(ch *playkey.Channel) channel {
	a := ch.ARN
	m := ch.Multitrack
	// Without configured endpoints they have IVS's form, and lead nowhere.
	ingest, srtEndpoint := s.ingest, s.srt
	if ingest == "" || srtEndpoint == "" {
		prefix := ingestPrefix(ch.ARN.Account)
		ingest = cmp.Or(ingest, prefix+".global-contribute.live-video.net")
		srtEndpoint = cmp.Or(srtEndpoint, prefix+".srt.live-video.net")
	}
	return channel{
		channelSummary:               channelSummaryOut(ch),
		IngestEndpoint:               ingest,
		PlaybackURL:                  s.channelPlaybackURL(a),
		SRT:                          srt{Endpoint: srtEndpoint, Passphrase: ch.SRTPassphrase},
		MultitrackInputConfiguration: multitrack{Enabled: m.Enabled, Policy: m.Policy, MaximumResolution: m.MaximumResolution},
		ContainerFormat:              ch.ContainerFormat,
	}
}

// ingestPrefix is the 12 hex digits that lead an account's ingest endpoints. IVS gives each
// account one; playkey derives it from the account id, so it is stable and needs no state.
func ingestPrefix(account string) string {
	sum := sha256.Sum256([]byte("playkey ingest endpoint " + account))
	return hex.EncodeToString(sum[:6])
}

// channelSettings are the members CreateChannel and UpdateChannel share; nil is absent.
type channelSettings struct {
	Name                         *string       `json:"name"`
	LatencyMode                  *string       `json:"latencyMode"`
	Type                         *string       `json:"type"`
	Authorized                   *bool         `json:"authorized"`
	RecordingConfigurationARN    *string       `json:"recordingConfigurationArn"`
	InsecureIngest               *bool         `json:"insecureIngest"`
	Preset                       *string       `json:"preset"`
	PlaybackRestrictionPolicyARN *string       `json:"playbackRestrictionPolicyArn"`
	MultitrackInputConfiguration *multitrackIn `json:"multitrackInputConfiguration"`
	ContainerFormat              *string       `json:"containerFormat"`
	AdConfigurationARN           *string       `json:"adConfigurationArn"`
}

type multitrackIn struct {
	Enabled           *bool   `json:"enabled"`
	Policy            *string `json:"policy"`
	MaximumResolution *string `json:"maximumResolution"`
}

// check enforces what the model says of each member alone, before any resource is looked
// at, as AWS validates a request: names, enumerations, ARN patterns, and references that
// cannot exist (another account's policy; any recording or ad configuration).
func (in *channelSettings) check(c Caller) error {
	if in.Name != nil {
		if err := playkey.ValidateName(*in.Name); err != nil {
			return err
		}
	}
	for _, e := range []struct {
		member  string
		value   *string
		allowed []string
	}{
		{"latencyMode", in.LatencyMode, playkey.LatencyModes},
		{"type", in.Type, playkey.ChannelTypes},
		{"containerFormat", in.ContainerFormat, playkey.ContainerFormats},
	} {
		if e.value != nil {
			if err := playkey.CheckEnum(e.member, *e.value, e.allowed); err != nil {
				return err
			}
		}
	}
	// An empty preset is what IVS reports for BASIC and STANDARD channels; take it as absent.
	if in.Preset != nil && *in.Preset != "" {
		if err := playkey.CheckEnum("preset", *in.Preset, playkey.TranscodePresets); err != nil {
			return err
		}
	}
	if m := in.MultitrackInputConfiguration; m != nil {
		if m.Policy != nil {
			if err := playkey.CheckEnum("multitrackInputConfiguration.policy", *m.Policy, playkey.MultitrackPolicies); err != nil {
				return err
			}
		}
		if m.MaximumResolution != nil {
			if err := playkey.CheckEnum("multitrackInputConfiguration.maximumResolution", *m.MaximumResolution, playkey.MultitrackResolutions); err != nil {
				return err
			}
		}
		if m.Enabled != nil && *m.Enabled && (m.Policy == nil || m.MaximumResolution == nil) {
			return playkey.Errorf(playkey.ErrValidation,
				"multitrackInputConfiguration: policy and maximumResolution are required when enabled is true")
		}
	}
	for _, ref := range []struct {
		member, typ string
		value       *string
	}{
		{"recordingConfigurationArn", playkey.TypeRecordingConfiguration, in.RecordingConfigurationARN},
		{"adConfigurationArn", playkey.TypeAdConfiguration, in.AdConfigurationARN},
	} {
		if err := noSuchResource(c, ref.member, deref(ref.value), ref.typ); err != nil {
			return err
		}
	}
	if p := deref(in.PlaybackRestrictionPolicyARN); p != "" {
		if _, err := ownedARN(c, "playbackRestrictionPolicyArn", p, playkey.TypePlaybackRestrictionPolicy); err != nil {
			return err
		}
	}
	return nil
}

// noSuchResource checks an optional reference to a resource type playkey does not
// implement: "" is none, a malformed ARN is a ValidationException, and a well-formed one
// names nothing (ResourceNotFound), as an unknown ARN would on IVS.
func noSuchResource(c Caller, member, s, typ string) error {
	if s == "" {
		return nil
	}
	arn, err := ownedARN(c, member, s, typ)
	if err != nil {
		return err
	}
	return playkey.Errorf(playkey.ErrResourceNotFound, "%s %s not found: playkey has no %ss", member, arn, strings.ReplaceAll(typ, "-", " "))
}

// apply sets the members given on ch, fills in the preset IVS would, and checks the rules
// that tie the settings together. check must have passed.
func (in *channelSettings) apply(ch *playkey.Channel) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&ch.Name, in.Name)
	set(&ch.LatencyMode, in.LatencyMode)
	set(&ch.Type, in.Type)
	set(&ch.ContainerFormat, in.ContainerFormat)
	if in.Authorized != nil {
		ch.Authorized = *in.Authorized
	}
	if in.InsecureIngest != nil {
		ch.InsecureIngest = *in.InsecureIngest
	}
	if p := in.PlaybackRestrictionPolicyARN; p != nil {
		ch.PlaybackRestrictionPolicy = playkey.ARN{}
		if *p != "" {
			ch.PlaybackRestrictionPolicy, _ = playkey.ParseARN("playbackRestrictionPolicyArn", *p) // checked
		}
	}
	// The structure is replaced as a whole; unset members take IVS's defaults.
	if m := in.MultitrackInputConfiguration; m != nil {
		ch.Multitrack = playkey.Multitrack{Enabled: m.Enabled != nil && *m.Enabled,
			Policy: playkey.MultitrackAllow, MaximumResolution: playkey.ResolutionFullHD}
		set(&ch.Multitrack.Policy, m.Policy)
		set(&ch.Multitrack.MaximumResolution, m.MaximumResolution)
	}
	switch {
	case in.Preset != nil && *in.Preset != "":
		ch.Preset = *in.Preset // Check refuses it on BASIC and STANDARD
	case !ch.Advanced():
		ch.Preset = ""
	case ch.Preset == "":
		ch.Preset = playkey.PresetHigherBandwidth
	}
	return ch.Check()
}

func (s *Server) createChannel(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		channelSettings
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.check(c); err != nil {
		return nil, err
	}
	if err := playkey.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ch := playkey.NewChannel(playkey.ARN{Region: c.Region, Account: c.Account, Type: playkey.TypeChannel, ID: playkey.NewID()}, now)
	ch.Tags = nonNil(in.Tags)
	if err := in.apply(ch); err != nil {
		return nil, err
	}
	// The stream key IVS makes with a channel has no tags: CreateChannel's tags are the
	// channel's (IVS's behaviour here is undocumented).
	key := playkey.NewStreamKey(ch.ARN, now)
	if err := s.store.CreateChannel(ctx, ch, key); err != nil {
		return nil, err
	}
	return map[string]any{"channel": s.channelOut(ch), "streamKey": streamKeyOut(key)}, nil
}

func (s *Server) getChannel(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypeChannel)
	if err != nil {
		return nil, err
	}
	ch, err := s.store.Channel(ctx, arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"channel": s.channelOut(ch)}, nil
}

func (s *Server) batchGetChannel(ctx context.Context, c Caller, r *http.Request) (any, error) {
	out := struct {
		Channels []channel    `json:"channels"`
		Errors   []batchError `json:"errors"`
	}{Channels: []channel{}, Errors: []batchError{}}
	err := batchGet(ctx, r, c, playkey.TypeChannel, s.store.Channel, func(ch *playkey.Channel) {
		out.Channels = append(out.Channels, s.channelOut(ch))
	}, &out.Errors)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) listChannels(ctx context.Context, c Caller, r *http.Request) (any, error) {
	const op = "ListChannels"
	var in struct {
		listInput
		FilterByName                         *string `json:"filterByName"`
		FilterByRecordingConfigurationARN    *string `json:"filterByRecordingConfigurationArn"`
		FilterByPlaybackRestrictionPolicyARN *string `json:"filterByPlaybackRestrictionPolicyArn"`
		FilterByAdConfigurationARN           *string `json:"filterByAdConfigurationArn"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	// An empty filter is no filter [choice: the model allows "" for each].
	var f playkey.ChannelFilter
	filters, nothing := 0, false
	if name := deref(in.FilterByName); name != "" {
		if err := playkey.ValidateName(name); err != nil {
			return nil, err
		}
		f.Name, filters = name, filters+1
	}
	for _, ref := range []struct {
		member, typ string
		value       string
	}{
		{"filterByRecordingConfigurationArn", playkey.TypeRecordingConfiguration, deref(in.FilterByRecordingConfigurationARN)},
		{"filterByAdConfigurationArn", playkey.TypeAdConfiguration, deref(in.FilterByAdConfigurationARN)},
		{"filterByPlaybackRestrictionPolicyArn", playkey.TypePlaybackRestrictionPolicy, deref(in.FilterByPlaybackRestrictionPolicyARN)},
	} {
		if ref.value == "" {
			continue
		}
		filters++
		arn, err := playkey.ParseTypedARN(ref.member, ref.value, ref.typ)
		if err != nil {
			return nil, err
		}
		switch {
		case ref.typ != playkey.TypePlaybackRestrictionPolicy || own(c, arn) != nil:
			nothing = true // no channel refers to what playkey lacks, or to another scope
		default:
			f.PlaybackRestrictionPolicy = arn
		}
	}
	if filters > 1 {
		// The model: "Filters are mutually exclusive and cannot be used together" (409).
		return nil, playkey.Errorf(playkey.ErrConflict, "ListChannels filters are mutually exclusive; give at most one of filterByName, filterByRecordingConfigurationArn, filterByPlaybackRestrictionPolicyArn and filterByAdConfigurationArn")
	}
	chs, next, err := listPage(ctx, s, c, op, in.listInput, channelResults,
		func(page playkey.Page) ([]*playkey.Channel, error) {
			if nothing {
				return nil, nil
			}
			return s.store.Channels(ctx, c.Scope(), f, page)
		},
		func(ch *playkey.Channel) string { return ch.ARN.ID })
	if err != nil {
		return nil, err
	}
	out := struct {
		Channels  []channelSummary `json:"channels"`
		NextToken string           `json:"nextToken,omitempty"`
	}{Channels: []channelSummary{}, NextToken: next}
	for _, ch := range chs {
		out.Channels = append(out.Channels, channelSummaryOut(ch))
	}
	return out, nil
}

func (s *Server) updateChannel(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		ARN *string `json:"arn"`
		channelSettings
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	arn, err := ownedARN(c, "arn", deref(in.ARN), playkey.TypeChannel)
	if err != nil {
		return nil, err
	}
	if err := in.check(c); err != nil {
		return nil, err
	}
	ch, err := s.store.UpdateChannel(ctx, arn, in.apply)
	if err != nil {
		return nil, err
	}
	return map[string]any{"channel": s.channelOut(ch)}, nil
}

func (s *Server) deleteChannel(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypeChannel)
	if err != nil {
		return nil, err
	}
	return nil, s.store.DeleteChannel(ctx, arn)
}
