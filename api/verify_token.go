package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/playback"
	"github.com/playkey/playkey/token"
)

// verifyTokenOutput is the answer of VerifyPlaybackToken, playkey's own operation: whether
// the token would start playback of the channel now, and why not.
type verifyTokenOutput struct {
	Valid bool `json:"valid"`
	// Code is a token.Code, or one of the playback decision's codes for state (revoked,
	// already_used, channel_not_found), or public_channel.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
	// Claims is the token's payload as it was signed, when it decodes.
	Claims     json.RawMessage `json:"claims,omitempty"`
	KeyPairARN string          `json:"keyPairArn,omitempty"`
	ChannelARN string          `json:"channelArn"`
	// Explanation takes the token apart for a person, as playkey token inspect does.
	Explanation *explanation `json:"explanation,omitempty"`
}

// explanation is a token.Explanation on the wire.
type explanation struct {
	Header []token.Part `json:"header"`
	Claims []token.Part `json:"claims"`
	// Problems are everything but the signature that rejects the token, not only the
	// first, which is Code.
	Problems []problem `json:"problems"`
}

type problem struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
	Claim  string `json:"claim,omitempty"`
}

func explanationOf(e *token.Explanation) *explanation {
	out := &explanation{Header: e.Header, Claims: e.Claims, Problems: make([]problem, len(e.Problems))}
	for i, p := range e.Problems {
		out.Problems[i] = problem{Code: string(p.Code), Reason: p.Reason, Claim: p.Claim}
	}
	if out.Header == nil {
		out.Header = []token.Part{}
	}
	if out.Claims == nil {
		out.Claims = []token.Part{}
	}
	return out
}

// codePublicChannel: the channel is public, so the token does not matter.
const codePublicChannel = "public_channel"

// verifyPlaybackToken checks a token as the gate would when playback starts: against the
// caller's playback keys, the channel, the revocations and the single-use records. It reads
// only: a single-use token stays unused. channelArn defaults to the token's own
// aws:channel-arn.
func (s *Server) verifyPlaybackToken(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		Token      *string `json:"token"`
		ChannelARN *string `json:"channelArn"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	tok := deref(in.Token)
	if tok == "" {
		return nil, playkey.Errorf(playkey.ErrValidation, "token is required")
	}
	if len(tok) > 4*token.MaxTokenLength {
		return nil, playkey.Errorf(playkey.ErrValidation, "token is %d bytes long; a playback token is at most %d", len(tok), token.MaxTokenLength)
	}
	now := s.now()
	v := &token.Verifier{Leeway: s.tokenLeeway}
	channel := deref(in.ChannelARN)
	e := v.Explain(tok, channel, "the request's channelArn", now)
	decoded := e.Token
	out := &verifyTokenOutput{Explanation: explanationOf(e)}
	if decoded != nil && json.Valid(decoded.RawPayload) {
		out.Claims = json.RawMessage(decoded.RawPayload)
	}
	if channel == "" && decoded != nil {
		channel = decoded.Claims.ChannelARN
	}
	if channel == "" {
		return nil, playkey.Errorf(playkey.ErrValidation, "channelArn is required when the token names no channel")
	}
	arn, err := ownedARN(c, "channelArn", channel, playkey.TypeChannel)
	if err != nil {
		return nil, err
	}
	out.ChannelARN = arn.String()

	state := playback.FromStore(s.store)
	ch, err := state.Channel(ctx, arn)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		ref := playback.ChannelNotFound(arn)
		out.Code, out.Reason = ref.Code, ref.Reason
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	keys, err := playback.PublicKeys(ctx, state, c.Scope())
	if err != nil {
		return nil, err
	}
	claims, key, ref, err := playback.Token(v, tok, keys, arn.String(), now)
	switch {
	case err != nil:
		return nil, err
	case ref != nil:
		out.Code, out.Reason = ref.Code, ref.Reason
	default:
		out.Valid, out.KeyPairARN = true, key.ARN
		out.Reason = "signed with " + key.ARN
		if err := s.checkTokenState(ctx, state, arn, claims, out); err != nil {
			return nil, err
		}
	}
	if !ch.Authorized {
		verdict := "the token itself is valid"
		if !out.Valid {
			verdict = "the token itself would be refused (" + out.Code + "): " + out.Reason
		}
		out.Valid, out.Code = true, codePublicChannel
		out.Reason = "the channel is public (authorized is false): it plays without a token, whatever the token says; its playback restriction policy applies. " + verdict
	}
	return out, nil
}

// checkTokenState applies the decision's checks of state, as the gate does when playback
// starts: revocations and single use. It only reads: a single-use token stays unused.
func (s *Server) checkTokenState(ctx context.Context, state playback.State, arn playkey.ARN, c *token.Claims, out *verifyTokenOutput) error {
	if c.ViewerID != "" {
		maxVersion, ok, err := s.store.ViewerRevocation(ctx, arn, c.ViewerID)
		if err != nil {
			return err
		}
		if ref := playback.Revoked(c, maxVersion, ok); ref != nil {
			out.Valid, out.Code, out.Reason = false, ref.Code, ref.Reason
			return nil
		}
	}
	ref, err := playback.SingleUse(ctx, state, arn.Scope(), c, s.tokenLeeway, false)
	if err != nil {
		return err
	}
	if ref != nil {
		out.Valid, out.Code, out.Reason = false, ref.Code, ref.Reason
		return nil
	}
	if c.SingleUseUUID != "" {
		out.Reason += "; single use: not used yet (this check does not use it)"
	}
	return nil
}
