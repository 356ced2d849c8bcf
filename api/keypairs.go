package api

import (
	"context"
	"net/http"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/keypair"
)

// playbackKeyPair is the model's PlaybackKeyPair (and, without fingerprint, its summary).
type playbackKeyPair struct {
	ARN         string            `json:"arn"`
	Name        string            `json:"name"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	Tags        map[string]string `json:"tags"`
}

func keyPairOut(kp *playkey.KeyPair, withFingerprint bool) playbackKeyPair {
	out := playbackKeyPair{ARN: kp.ARN.String(), Name: kp.Name, Tags: nonNil(kp.Tags)}
	if withFingerprint {
		out.Fingerprint = kp.Fingerprint
	}
	return out
}

func (s *Server) importPlaybackKeyPair(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		PublicKeyMaterial *string           `json:"publicKeyMaterial"`
		Name              *string           `json:"name"`
		Tags              map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.PublicKeyMaterial == nil {
		return nil, playkey.Errorf(playkey.ErrValidation, "publicKeyMaterial is required")
	}
	name := deref(in.Name)
	if err := playkey.ValidateName(name); err != nil {
		return nil, err
	}
	if err := playkey.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	_, der, err := keypair.ParsePublicKeyPEM(*in.PublicKeyMaterial)
	if err != nil {
		return nil, err
	}
	kp := &playkey.KeyPair{
		ARN:          playkey.ARN{Region: c.Region, Account: c.Account, Type: playkey.TypePlaybackKey, ID: playkey.NewID()},
		Name:         name,
		Fingerprint:  keypair.Fingerprint(der),
		PublicKeyDER: der,
		Tags:         nonNil(in.Tags),
		CreatedAt:    s.now().UTC(),
	}
	if err := s.store.CreateKeyPair(ctx, kp); err != nil {
		return nil, err
	}
	return map[string]any{"keyPair": keyPairOut(kp, true)}, nil
}

func (s *Server) getPlaybackKeyPair(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypePlaybackKey)
	if err != nil {
		return nil, err
	}
	kp, err := s.store.KeyPair(ctx, arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"keyPair": keyPairOut(kp, true)}, nil
}

func (s *Server) deletePlaybackKeyPair(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypePlaybackKey)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteKeyPair(ctx, arn); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) listPlaybackKeyPairs(ctx context.Context, c Caller, r *http.Request) (any, error) {
	const op = "ListPlaybackKeyPairs"
	var in listInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	kps, next, err := listPage(ctx, s, c, op, in, keyPairResults,
		func(page playkey.Page) ([]*playkey.KeyPair, error) { return s.store.KeyPairs(ctx, c.Scope(), page) },
		func(kp *playkey.KeyPair) string { return kp.ARN.ID })
	if err != nil {
		return nil, err
	}
	out := struct {
		KeyPairs  []playbackKeyPair `json:"keyPairs"`
		NextToken string            `json:"nextToken,omitempty"`
	}{KeyPairs: []playbackKeyPair{}, NextToken: next}
	for _, kp := range kps {
		out.KeyPairs = append(out.KeyPairs, keyPairOut(kp, false))
	}
	return out, nil
}

// own refuses an ARN outside the caller's account and region as not found: one account
// never learns whether another's resources exist.
func own(c Caller, arn playkey.ARN) error {
	if arn.Scope() != c.Scope() {
		return playkey.NotFound(arn)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
