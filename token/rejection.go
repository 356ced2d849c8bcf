package token

import "fmt"

// A Code names why a token was rejected. Codes are stable: callers may store them, count
// them and branch on them. The reason text that comes with a code may change.
type Code string

// The rejection codes, roughly in the order the checks run.
const (
	// Malformed: not a compact JWS at all: too long, not three base64url parts separated by
	// dots, or a part that is not strict unpadded base64url.
	Malformed Code = "malformed"
	// BadHeader: the header is not a JSON object, repeats a key, has no alg, or has a
	// parameter other than alg, typ and kid (crit, jku, b64, ...).
	BadHeader Code = "bad_header"
	// UnsupportedAlg: the header's alg is not exactly "ES384".
	UnsupportedAlg Code = "unsupported_alg"
	// BadSignatureEncoding: the signature is not 96 bytes of r||s with r and s in range:
	// DER-encoded, the size of another curve's signature, or missing.
	BadSignatureEncoding Code = "bad_signature_encoding"
	// UnknownKey: the signature is well formed but verifies with none of the candidate
	// keys: the token was signed with another key, or altered after signing.
	UnknownKey Code = "unknown_key"
	// BadPayload: the payload is not a JSON object, repeats a key, or is not valid JSON.
	BadPayload Code = "bad_payload"
	// BadClaim: a known claim has the wrong JSON type, an empty value (aws:viewer-id "",
	// aws:maximum-resolution ""), exp 0, or a number that is not a 64-bit integer where one
	// is required (exp "soon", aws:viewer-session-version 1.5).
	BadClaim Code = "bad_claim"
	// MissingClaim: aws:channel-arn or exp is absent.
	MissingClaim Code = "missing_claim"
	// ChannelMismatch: aws:channel-arn names another channel than the one being played.
	ChannelMismatch Code = "channel_mismatch"
	// Expired: exp is in the past, beyond the verifier's leeway.
	Expired Code = "expired"
	// ExpTooFar: the token has aws:single-use-uuid or aws:viewer-id and exp is more than
	// 10 minutes (plus leeway) away.
	ExpTooFar Code = "exp_too_far"
	// ViewerIDTooLong: aws:viewer-id has more than 40 characters.
	ViewerIDTooLong Code = "viewer_id_too_long"
	// BadMaximumResolution: aws:maximum-resolution is not SD, HD or FULL_HD.
	BadMaximumResolution Code = "bad_maximum_resolution"
	// BadOrigin: an entry of aws:access-control-allow-origin is not an origin.
	BadOrigin Code = "bad_origin"
	// TooManyOrigins: aws:strict-origin-enforcement is true and
	// aws:access-control-allow-origin lists more than 5 origins.
	TooManyOrigins Code = "too_many_origins"
)

// Rejection is the error a token check returns for a token that must not start playback.
// Reason is a sentence for a person ("token expired 3m12s ago"); it never contains the
// token, a signature or key material, though it may quote a claim value, shortened.
type Rejection struct {
	Code   Code
	Reason string
	// Claim names the claim the rejection is about ("exp", "aws:viewer-id"), or is ""
	// when it is about the token's form, header or signature.
	Claim string
}

// Error returns the reason.
func (r *Rejection) Error() string { return r.Reason }

func reject(code Code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Reason: fmt.Sprintf(format, args...)}
}

func rejectClaim(claim string, code Code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Reason: fmt.Sprintf(format, args...), Claim: claim}
}
