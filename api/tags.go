package api

import (
	"context"
	"net/http"

	"github.com/playkey/playkey"
)

// tagARN checks the {arn} of a tags path: a well-formed IVS ARN in the caller's scope. The
// store answers NotFound for resource types it does not hold.
func tagARN(c Caller, r *http.Request) (playkey.ARN, error) {
	arn, err := playkey.ParseARN("resourceArn", r.PathValue("arn"))
	if err != nil {
		return playkey.ARN{}, err
	}
	return arn, own(c, arn)
}

func (s *Server) tagResource(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := tagARN(c, r)
	if err != nil {
		return nil, err
	}
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, playkey.Errorf(playkey.ErrValidation, "tags is required")
	}
	if err := playkey.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.store.TagResource(ctx, arn, in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) untagResource(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := tagARN(c, r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	keys, ok := q["tagKeys"]
	if !ok {
		return nil, playkey.Errorf(playkey.ErrValidation, "tagKeys is required")
	}
	if len(keys) > playkey.MaxTags {
		return nil, playkey.Errorf(playkey.ErrValidation, "%d tag keys given; at most %d", len(keys), playkey.MaxTags)
	}
	for _, k := range keys {
		if err := playkey.ValidateTagKey(k); err != nil {
			return nil, err
		}
	}
	if err := s.store.UntagResource(ctx, arn, keys); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) listTagsForResource(ctx context.Context, c Caller, r *http.Request) (any, error) {
	arn, err := tagARN(c, r)
	if err != nil {
		return nil, err
	}
	tags, err := s.store.Tags(ctx, arn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": nonNil(tags)}, nil
}
