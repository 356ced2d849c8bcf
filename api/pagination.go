package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"sync"

	"github.com/playkey/playkey"
)

// maxListResults is the model's upper bound (and default) for maxResults.
const maxListResults = 100

// listInput holds the pagination members every List operation shares.
type listInput struct {
	MaxResults *int    `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
}

var tokenPattern = regexp.MustCompile(`^[a-zA-Z0-9+/=_-]*$`)

// Pagination tokens are opaque to clients: base64url(payload || HMAC-SHA256(payload)[:16]),
// the payload naming the operation, the caller's scope and the last id returned, the key
// being a secret shared through the store by every API node. A token edited by hand, or
// used for another operation or account, is a ValidationException, never a silent restart.
const tokenMACSize = 16

// pageOf checks maxResults (1 to max, default max) and nextToken, and returns the store page
// to fetch: one item more than asked, so that paginate knows whether another page follows.
func (s *Server) pageOf(ctx context.Context, c Caller, op string, in listInput, max int) (playkey.Page, error) {
	limit := max
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > max {
			return playkey.Page{}, playkey.Errorf(playkey.ErrValidation, "maxResults must be between 1 and %d, not %d", max, *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	page := playkey.Page{Limit: limit + 1}
	if tok := deref(in.NextToken); tok != "" {
		if len(tok) > 1024 || !tokenPattern.MatchString(tok) {
			return playkey.Page{}, errBadToken
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) < tokenMACSize {
			return playkey.Page{}, errBadToken
		}
		payload, mac := raw[:len(raw)-tokenMACSize], raw[len(raw)-tokenMACSize:]
		want, err := s.tokenMAC(ctx, payload)
		if err != nil {
			return playkey.Page{}, err
		}
		prefix := tokenPrefix(c, op)
		if !hmac.Equal(mac, want) || !bytes.HasPrefix(payload, prefix) {
			return playkey.Page{}, errBadToken
		}
		page.After = string(payload[len(prefix):])
	}
	return page, nil
}

var errBadToken = playkey.Errorf(playkey.ErrValidation, "nextToken is not a token this operation returned; start again without it")

// paginate trims a store page fetched by pageOf to the asked size and returns the token
// for the rest, or "" on the last page.
func paginate[T any](ctx context.Context, s *Server, c Caller, op string, page playkey.Page, items []T, id func(T) string) ([]T, string, error) {
	limit := page.Limit - 1
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	payload := append(tokenPrefix(c, op), id(items[limit-1])...)
	mac, err := s.tokenMAC(ctx, payload)
	if err != nil {
		return nil, "", err
	}
	return items, base64.RawURLEncoding.EncodeToString(append(payload, mac...)), nil
}

func tokenPrefix(c Caller, op string) []byte {
	return []byte(op + "\x00" + c.Account + "\x00" + c.Region + "\x00")
}

// secretCache holds the pagination key once the store has handed it out.
type secretCache struct {
	mu  sync.Mutex
	key []byte
}

func (s *Server) tokenMAC(ctx context.Context, payload []byte) ([]byte, error) {
	s.secret.mu.Lock()
	key := s.secret.key
	s.secret.mu.Unlock()
	if key == nil {
		k, err := s.store.Secret(ctx, "pagination")
		if err != nil {
			return nil, err
		}
		s.secret.mu.Lock()
		s.secret.key, key = k, k
		s.secret.mu.Unlock()
	}
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)[:tokenMACSize], nil
}
