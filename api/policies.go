package api

import (
	"context"
	"net/http"

	"github.com/playkey/playkey"
)

// playbackRestrictionPolicy is the model's PlaybackRestrictionPolicy and, with the same
// members, its summary.
type playbackRestrictionPolicy struct {
	ARN                           string            `json:"arn"`
	AllowedCountries              []string          `json:"allowedCountries"`
	AllowedOrigins                []string          `json:"allowedOrigins"`
	EnableStrictOriginEnforcement bool              `json:"enableStrictOriginEnforcement"`
	Name                          string            `json:"name"`
	Tags                          map[string]string `json:"tags"`
}

func policyOut(p *playkey.PlaybackRestrictionPolicy) playbackRestrictionPolicy {
	return playbackRestrictionPolicy{
		ARN:                           p.ARN.String(),
		AllowedCountries:              nonNilList(p.AllowedCountries),
		AllowedOrigins:                nonNilList(p.AllowedOrigins),
		EnableStrictOriginEnforcement: p.EnableStrictOriginEnforcement,
		Name:                          p.Name,
		Tags:                          nonNil(p.Tags),
	}
}

// policySettings are the members CreatePlaybackRestrictionPolicy and
// UpdatePlaybackRestrictionPolicy share; nil is absent, and an empty list clears one.
type policySettings struct {
	AllowedCountries              *[]string `json:"allowedCountries"`
	AllowedOrigins                *[]string `json:"allowedOrigins"`
	EnableStrictOriginEnforcement *bool     `json:"enableStrictOriginEnforcement"`
	Name                          *string   `json:"name"`
}

// apply sets the members given on p and checks the result against the model.
func (in *policySettings) apply(p *playkey.PlaybackRestrictionPolicy) error {
	if in.AllowedCountries != nil {
		p.AllowedCountries = *in.AllowedCountries
	}
	if in.AllowedOrigins != nil {
		p.AllowedOrigins = *in.AllowedOrigins
	}
	if in.EnableStrictOriginEnforcement != nil {
		p.EnableStrictOriginEnforcement = *in.EnableStrictOriginEnforcement
	}
	if in.Name != nil {
		p.Name = *in.Name
	}
	return p.Check()
}

// check validates the members given, before any resource is looked at.
func (in *policySettings) check() error {
	var p playkey.PlaybackRestrictionPolicy
	return in.apply(&p)
}

func (s *Server) createPlaybackRestrictionPolicy(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		policySettings
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := playkey.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	p := &playkey.PlaybackRestrictionPolicy{
		ARN:              playkey.ARN{Region: c.Region, Account: c.Account, Type: playkey.TypePlaybackRestrictionPolicy, ID: playkey.NewID()},
		AllowedCountries: []string{},
		AllowedOrigins:   []string{},
		Tags:             nonNil(in.Tags),
		CreatedAt:        s.now().UTC(),
	}
	if err := in.apply(p); err != nil {
		return nil, err
	}
	if err := s.store.CreatePlaybackRestrictionPolicy(ctx, p); err != nil {
		return nil, err
	}
	return map[string]any{"playbackRestrictionPolicy": policyOut(p)}, nil
}

func (s *Server) getPlaybackRestrictionPolicy(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypePlaybackRestrictionPolicy)
	if err != nil {
		return nil, err
	}
	p, err := s.store.PlaybackRestrictionPolicy(ctx, arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"playbackRestrictionPolicy": policyOut(p)}, nil
}

func (s *Server) listPlaybackRestrictionPolicies(ctx context.Context, c Caller, r *http.Request) (any, error) {
	const op = "ListPlaybackRestrictionPolicies"
	var in listInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	ps, next, err := listPage(ctx, s, c, op, in, policyResults,
		func(page playkey.Page) ([]*playkey.PlaybackRestrictionPolicy, error) {
			return s.store.PlaybackRestrictionPolicies(ctx, c.Scope(), page)
		},
		func(p *playkey.PlaybackRestrictionPolicy) string { return p.ARN.ID })
	if err != nil {
		return nil, err
	}
	out := struct {
		Policies  []playbackRestrictionPolicy `json:"playbackRestrictionPolicies"`
		NextToken string                      `json:"nextToken,omitempty"`
	}{Policies: []playbackRestrictionPolicy{}, NextToken: next}
	for _, p := range ps {
		out.Policies = append(out.Policies, policyOut(p))
	}
	return out, nil
}

func (s *Server) updatePlaybackRestrictionPolicy(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		ARN *string `json:"arn"`
		policySettings
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	arn, err := ownedARN(c, "arn", deref(in.ARN), playkey.TypePlaybackRestrictionPolicy)
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	p, err := s.store.UpdatePlaybackRestrictionPolicy(ctx, arn, in.apply)
	if err != nil {
		return nil, err
	}
	return map[string]any{"playbackRestrictionPolicy": policyOut(p)}, nil
}

func (s *Server) deletePlaybackRestrictionPolicy(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypePlaybackRestrictionPolicy)
	if err != nil {
		return nil, err
	}
	return nil, s.store.DeletePlaybackRestrictionPolicy(ctx, arn)
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
