package api

import (
	"context"
	"net/http"

	"github.com/playkey/playkey"
)

// streamKey is the model's StreamKey. IVS returns the value from every operation that
// returns a StreamKey; the list's StreamKeySummary leaves it out.
type streamKey struct {
	ARN        string            `json:"arn"`
	Value      string            `json:"value,omitempty"`
	ChannelARN string            `json:"channelArn"`
	Tags       map[string]string `json:"tags"`
}

func streamKeyOut(k *playkey.StreamKey) streamKey {
	return streamKey{ARN: k.ARN.String(), Value: k.Value, ChannelARN: k.Channel.String(), Tags: nonNil(k.Tags)}
}

func (s *Server) createStreamKey(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		ChannelARN *string           `json:"channelArn"`
		Tags       map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	channel, err := ownedARN(c, "channelArn", deref(in.ChannelARN), playkey.TypeChannel)
	if err != nil {
		return nil, err
	}
	if err := playkey.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	key := playkey.NewStreamKey(channel, s.now().UTC())
	key.Tags = nonNil(in.Tags)
	if err := s.store.CreateStreamKey(ctx, key); err != nil {
		return nil, err
	}
	return map[string]any{"streamKey": streamKeyOut(key)}, nil
}

func (s *Server) getStreamKey(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypeStreamKey)
	if err != nil {
		return nil, err
	}
	key, err := s.store.StreamKey(ctx, arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"streamKey": streamKeyOut(key)}, nil
}

func (s *Server) batchGetStreamKey(ctx context.Context, c Caller, r *http.Request) (any, error) {
	out := struct {
		StreamKeys []streamKey  `json:"streamKeys"`
		Errors     []batchError `json:"errors"`
	}{StreamKeys: []streamKey{}, Errors: []batchError{}}
	err := batchGet(ctx, r, c, playkey.TypeStreamKey, s.store.StreamKey, func(k *playkey.StreamKey) {
		out.StreamKeys = append(out.StreamKeys, streamKeyOut(k))
	}, &out.Errors)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) listStreamKeys(ctx context.Context, c Caller, r *http.Request) (any, error) {
	const op = "ListStreamKeys"
	paging, channel, err := decodeChannelListing(c, r)
	if err != nil {
		return nil, err
	}
	keys, next, err := listPage(ctx, s, c, op, paging, streamKeyResults,
		func(page playkey.Page) ([]*playkey.StreamKey, error) { return s.store.StreamKeys(ctx, channel, page) },
		func(k *playkey.StreamKey) string { return k.ARN.ID })
	if err != nil {
		return nil, err
	}
	out := struct {
		StreamKeys []streamKey `json:"streamKeys"`
		NextToken  string      `json:"nextToken,omitempty"`
	}{StreamKeys: []streamKey{}, NextToken: next}
	for _, k := range keys {
		sum := streamKeyOut(k)
		sum.Value = "" // StreamKeySummary has no value
		out.StreamKeys = append(out.StreamKeys, sum)
	}
	return out, nil
}

func (s *Server) deleteStreamKey(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := decodeARN(c, r, playkey.TypeStreamKey)
	if err != nil {
		return nil, err
	}
	return nil, s.store.DeleteStreamKey(ctx, arn)
}
