package token_test

import (
	"testing"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/token"
)

// TestNullOrigin: the API accepts "null" in allowedOrigins, so the one matching rule does
// too: "null" allows an Origin: null and nothing else, and "*" does not allow it.
func TestNullOrigin(t *testing.T) {
	if err := playkey.ValidateOrigin("null"); err != nil {
		t.Fatalf("the API refuses null: %v", err)
	}
	listed := token.Claims{AllowedOrigins: []string{"null", "https://a.example"}}
	if !listed.OriginAllowed("null") || !listed.OriginAllowed("https://a.example") || listed.OriginAllowed("https://b.example") {
		t.Error(`a list with "null" must allow Origin: null and its other entries only`)
	}
	if (&token.Claims{AllowedOrigins: []string{"*"}}).OriginAllowed("null") {
		t.Error(`"*" allows Origin: null`)
	}
	if (&token.Claims{AllowedOrigins: []string{"https://a.example"}}).OriginAllowed("null") {
		t.Error("a list without null allows Origin: null")
	}
	// A token may list it too.
	c := token.Claims{ChannelARN: "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEfGhIjKl", Exp: 4102444800, AllowedOrigins: []string{"null"}}
	v := token.Verifier{}
	if rejs := v.CheckClaims(&c, c.ChannelARN, c.ExpiresAt().Add(-1)); len(rejs) > 0 {
		t.Errorf("a token listing null: %v", rejs[0])
	}
}
