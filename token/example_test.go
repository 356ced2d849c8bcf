package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/playkey/playkey/token"
)

func Example() {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	const channel = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl"
	now := time.Now()

	tok, err := token.Sign(token.Claims{
		ChannelARN: channel,
		Exp:        now.Add(10 * time.Minute).Unix(),
		ViewerID:   "viewer-42",
	}, key)
	if err != nil {
		panic(err)
	}

	v := &token.Verifier{Leeway: 30 * time.Second}
	keys := []*ecdsa.PublicKey{&key.PublicKey}
	claims, keyIndex, err := v.Verify(tok, keys, channel, now)
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.ViewerID, keyIndex)

	// An hour later the same token is refused, with a code and a reason.
	_, _, err = v.Verify(tok, keys, channel, now.Add(time.Hour))
	var rej *token.Rejection
	if errors.As(err, &rej) {
		fmt.Println(rej.Code)
	}
	// Output:
	// viewer-42 0
	// expired
}

func ExampleVerifier_VerifyKeys() {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	const channel = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl"
	now := time.Now()
	tok, err := token.Sign(token.Claims{ChannelARN: channel, Exp: now.Add(time.Minute).Unix()}, key)
	if err != nil {
		panic(err)
	}

	// Once per key, kept beside it for as long as the key is in use.
	pub, err := token.NewPublicKey(&key.PublicKey)
	if err != nil {
		panic(err)
	}
	v := &token.Verifier{}
	_, keyIndex, err := v.VerifyKeys(tok, []*token.PublicKey{pub}, channel, now)
	fmt.Println(keyIndex, err)
	// Output:
	// 0 <nil>
}

func ExampleVerifier_Diagnose() {
	// A token signed with pyca/cryptography's DER output instead of r||s, for another
	// channel, with a viewer ID that is too long and an expiry in 2100.
	const tok = "eyJhbGciOiJFUzM4NCJ9." +
		"eyJhd3M6Y2hhbm5lbC1hcm4iOiJhcm46YXdzOml2czp1cy13ZXN0LTI6MTIzNDU2Nzg5MDEyOmNoYW5uZWwvT3RoZXIiLCJhd3M6dmlld2VyLWlkIjoidGhpcy1pZGVudGlmaWVyLWlzLWZhci10b28tbG9uZy1mb3ItaXZzLXJ1bGVzIiwiZXhwIjo0MTAyNDQ0ODAwfQ." +
		"MGUCMB66O7LAKSx8fnHlWxCkgRF_zLy7yJEpdt1iYL7ZCvhTMFYEFcx80TLYwR4OkY57TQIxAIrwMkH8iQz0XPE7eoqb1VQH8fxPvokiwt4qQJOXDn15FccqhTWGghY7MGkwxh1hhQ"
	v := &token.Verifier{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, problems := v.Diagnose(tok, "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl", now)
	for _, p := range problems {
		fmt.Printf("%s: %s\n", p.Code, p.Reason)
	}
	// Output:
	// bad_signature_encoding: signature is DER-encoded; JWS needs the 96-byte r||s form
	// channel_mismatch: aws:channel-arn is for channel "arn:aws:ivs:us-west-2:123456789012:channel/Other", this is channel "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl"
	// exp_too_far: exp is 73 years from now; a token with aws:viewer-id must expire within 10m
	// viewer_id_too_long: aws:viewer-id is 45 characters; at most 40 are allowed
}
