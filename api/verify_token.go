package api

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/gate"
	"github.com/playkey/playkey/keypair"
	"github.com/playkey/playkey/token"
)

// verifyTokenOutput is the answer of VerifyPlaybackToken, playkey's own operation: whether
// the token would start playback of the channel now, and why not.
type verifyTokenOutput struct {
	Valid bool `json:"valid"`
	// Code is a token.Code, or one of the gate's codes for state (revoked, already_used,
	// channel_not_found), or public_channel.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
	// Claims is the token's payload as it was signed, when it decodes.
	Claims     json.RawMessage `json:"claims,omitempty"`
	KeyPairARN string          `json:"keyPairArn,omitempty"`
	ChannelARN string          `json:"channelArn"`
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
	decoded, _ := (&token.Verifier{}).Diagnose(tok, "", now)
	out := &verifyTokenOutput{}
	if decoded != nil && json.Valid(decoded.RawPayload) {
		out.Claims = json.RawMessage(decoded.RawPayload)
	}
	channel := deref(in.ChannelARN)
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

	ch, err := s.store.Channel(ctx, arn)
	if playkey.IsCode(err, playkey.ErrResourceNotFound) {
		out.Code, out.Reason = gate.CodeChannelNotFound, fmt.Sprintf("channel %s does not exist", arn)
		return out, nil
	}
	if err != nil {
		return nil, err
	}

	kps, err := s.store.KeyPairs(ctx, c.Scope(), playkey.Page{Limit: playkey.MaxKeyPairs})
	if err != nil {
		return nil, err
	}
	keys := make([]*ecdsa.PublicKey, 0, len(kps))
	arns := make([]string, 0, len(kps))
	for _, kp := range kps {
		if k, err := keypair.ParsePublicKeyDER(kp.PublicKeyDER); err == nil {
			keys = append(keys, k)
			arns = append(arns, kp.ARN.String())
		}
	}
	claims, i, err := (&token.Verifier{Leeway: s.tokenLeeway}).Verify(tok, keys, arn.String(), now)
	var rej *token.Rejection
	switch {
	case errors.As(err, &rej):
		out.Code, out.Reason = string(rej.Code), rej.Reason
	case err != nil:
		return nil, err
	default:
		out.Valid, out.KeyPairARN = true, arns[i]
		out.Reason = "signed with " + arns[i]
		if err := s.checkTokenState(ctx, arn, claims, out); err != nil {
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

// checkTokenState applies what the verifier leaves to its caller: revocations and single
// use. It only reads.
func (s *Server) checkTokenState(ctx context.Context, arn playkey.ARN, c *token.Claims, out *verifyTokenOutput) error {
	if c.ViewerID != "" {
		maxVersion, ok, err := s.store.ViewerRevocation(ctx, arn, c.ViewerID)
		if err != nil {
			return err
		}
		if ok && c.ViewerSessionVersion <= maxVersion {
			out.Valid, out.Code = false, gate.CodeRevoked
			out.Reason = fmt.Sprintf("the sessions of viewer %q are revoked up to version %d, and this token has version %d; a token with a higher %s plays",
				c.ViewerID, maxVersion, c.ViewerSessionVersion, token.ClaimViewerSessionVersion)
			return nil
		}
	}
	if c.SingleUseUUID != "" {
		unused, err := s.store.SingleUse(ctx, arn.Scope(), c.SingleUseUUID, c.ExpiresAt(), false)
		if err != nil {
			return err
		}
		if !unused {
			out.Valid, out.Code = false, gate.CodeAlreadyUsed
			out.Reason = "this single-use token has already started playback"
			return nil
		}
		out.Reason += "; single use: not used yet (this check does not use it)"
	}
	return nil
}
