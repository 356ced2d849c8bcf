// Package token signs and verifies Amazon IVS playback authorization tokens.
//
// A customer's backend signs a token with the private key of one of its playback key
// pairs; the viewer's player appends it as ?token= to the channel's playback URL; the
// service checks it before the first playlist. A token is a compact JWS: header
// {"alg":"ES384","typ":"JWT"}, a JSON payload of claims (see Claims), and an ECDSA P-384
// signature over SHA-384 in the 96-byte r||s form. There is no key ID: every playback key
// of the channel's account and region is a candidate.
//
// Sign makes a token. Verifier.Verify checks one: it is written on the P-384 group of
// filippo.io/nistec (the code inside crypto/ecdsa) rather than a general JOSE library,
// accepts and rejects signatures exactly as crypto/ecdsa does, and accepts only what IVS
// tokens need:
//
//   - compact serialization, at most MaxTokenLength bytes, three parts of strict unpadded
//     base64url (no padding, no line breaks, no stray trailing bits);
//   - a header that is a JSON object with alg exactly "ES384" and at most typ and kid
//     besides (kid is ignored); crit, jwk, jku, x5u, b64 and every other parameter is
//     refused;
//   - header and payload in strict JSON: UTF-8 only, no duplicate keys at any depth (keys
//     compared after unescaping), claim names matched case-sensitively;
//   - a signature of exactly 96 bytes, r and s each in [1, n-1];
//   - the claim rules below.
//
// # Claim rules
//
// aws:channel-arn is required and must equal the channel being played. exp is required
// and the token must be used before it (plus Verifier.Leeway); a far-future exp, such as
// the millisecond value AWS's own Node sample signs, is accepted, except that a token with
// aws:single-use-uuid or aws:viewer-id must expire within 10 minutes (MaxRestrictedLifetime,
// plus the leeway). aws:viewer-id has 1 to 40 characters. aws:maximum-resolution is SD, HD
// or FULL_HD. aws:access-control-allow-origin is a comma-separated list of "*" or
// scheme://host[:port] entries, where host may begin with "*."; at most 5 with
// aws:strict-origin-enforcement. aws:viewer-session-version is an integer. Unknown claims
// (iat, nbf, sub, custom ones) are kept in Claims.Extra and otherwise ignored, as IVS
// ignores them.
//
// # Rejections
//
// Every refusal is a *Rejection carrying a stable Code and a sentence for a person. The
// codes are:
//
//	malformed               not a compact JWS (length, parts, base64url)
//	bad_header              header not a JSON object, duplicate key, no alg, extra parameter
//	unsupported_alg         alg is not "ES384"
//	bad_signature_encoding  signature not 96 bytes of r||s (DER, another curve, out of range)
//	unknown_key             signature verifies with none of the candidate keys
//	bad_payload             payload not a JSON object, or invalid JSON, or duplicate key
//	bad_claim               a known claim of the wrong type, or empty where it may not be
//	missing_claim           no aws:channel-arn or no exp
//	channel_mismatch        aws:channel-arn is another channel
//	expired                 exp has passed
//	exp_too_far             single-use or viewer token expiring more than 10 minutes ahead
//	viewer_id_too_long      aws:viewer-id over 40 characters
//	bad_maximum_resolution  aws:maximum-resolution not SD, HD or FULL_HD
//	bad_origin              an aws:access-control-allow-origin entry is not an origin
//	too_many_origins        over 5 origins with aws:strict-origin-enforcement
//
// Reasons never contain the token, the signature or key material.
//
// # State the verifier leaves to the caller
//
// Verify is a pure function of the token, the keys, the channel and the time. Refusing a
// second use of a single-use token, refusing revoked viewer sessions and enforcing origins
// need state and the request, and are the caller's. Record single use under
// Claims.SingleUseUUID, never under the token text: an ECDSA signature (r, s) has a twin
// (r, n-s) that verifies too, and JOSE libraries accept both, so a viewer can respell a
// token without the key.
//
// # Keys kept for a long time
//
// A playback key verifies every viewer's token for as long as it exists. NewPublicKey
// precomputes tables of multiples of the key (about 128 KiB, the work of about ten
// verifications), and Verifier.VerifyKeys, which checks exactly what Verify checks, then
// costs about a sixth of an ecdsa.VerifyASN1 per key tried.
//
// To show a token without a key, Parse decodes it and Verifier.Diagnose lists everything
// that would reject it except the signature.
package token
