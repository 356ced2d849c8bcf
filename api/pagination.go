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

// The model's bounds and defaults for maxResults. Most lists allow 1-100 and default to
// 100; the model documents a default of 1 for ListStreamKeys (at most 50) and for
// ListPlaybackRestrictionPolicies, and playkey follows it.
var (
	keyPairResults   = resultLimits{def: 100, max: 100}
	channelResults   = resultLimits{def: 100, max: 100}
	streamKeyResults = resultLimits{def: 1, max: 50}
	policyResults    = resultLimits{def: 1, max: 100}
)

// resultLimits are the default and the largest maxResults of one List operation.
type resultLimits struct{ def, max int }

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

// pageOf checks maxResults (1 to lim.max, default lim.def) and nextToken, and returns the
// store page to fetch: one item more than asked, so that paginate knows whether another page
// follows.
func (s *Server) pageOf(ctx context.Context, c Caller, op string, in listInput, lim resultLimits) (playkey.Page, error) {
	limit := lim.def
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > lim.max {
			return playkey.Page{}, playkey.Errorf(playkey.ErrValidation, "maxResults must be between 1 and %d, not %d", lim.max, *in.MaxResults)
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

// listPage runs the paging of one List operation: it checks in, fetches the page with
// fetch, and returns the items for this response and the nextToken ("" on the last page).
func listPage[T any](ctx context.Context, s *Server, c Caller, op string, in listInput, lim resultLimits,
	fetch func(playkey.Page) ([]T, error), id func(T) string) ([]T, string, error) {
	page, err := s.pageOf(ctx, c, op, in, lim)
	if err != nil {
		return nil, "", err
	}
	items, err := fetch(page)
	if err != nil {
		return nil, "", err
	}
	return paginate(ctx, s, c, op, page, items, id)
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
