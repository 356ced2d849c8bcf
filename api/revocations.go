package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/playkey/playkey"
)

// viewerSession is the model's BatchStartViewerSessionRevocationViewerSession, and the body
// of StartViewerSessionRevocation.
type viewerSession struct {
	ChannelARN *string `json:"channelArn"`
	ViewerID   *string `json:"viewerId"`
	// The model's integer is 32 bits; an int64 lets a larger number be refused with a message.
	UpTo *int64 `json:"viewerSessionVersionsLessThanOrEqualTo"`
}

// check validates one viewer session (member names the list item for messages) and
// returns its channel ARN, which may still lie outside the caller's scope.
func (v *viewerSession) check(member string) (playkey.ARN, error) {
	arn, err := playkey.ParseTypedARN(member+"channelArn", deref(v.ChannelARN), playkey.TypeChannel)
	if err != nil {
		return playkey.ARN{}, err
	}
	if v.ViewerID == nil {
		return playkey.ARN{}, playkey.Errorf(playkey.ErrValidation, "%sviewerId is required", member)
	}
	if err := playkey.ValidateViewerID(member+"viewerId", *v.ViewerID); err != nil {
		return playkey.ARN{}, err
	}
	if v.UpTo != nil {
		if err := playkey.ValidateViewerSessionVersion(member+"viewerSessionVersionsLessThanOrEqualTo", *v.UpTo); err != nil {
			return playkey.ARN{}, err
		}
	}
	return arn, nil
}

// revoke records the revocation of one checked viewer session in the caller's scope.
func (s *Server) revoke(ctx context.Context, c Caller, arn playkey.ARN, v *viewerSession) error {
	if err := own(c, arn); err != nil {
		return err
	}
	var upTo int64 // the model's default: version 0, the version of tokens that carry none
	if v.UpTo != nil {
		upTo = *v.UpTo
	}
	return s.store.RevokeViewerSessions(ctx, arn, *v.ViewerID, upTo)
}

func (s *Server) startViewerSessionRevocation(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in viewerSession
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	arn, err := in.check("")
	if err != nil {
		return nil, err
	}
	if err := s.revoke(ctx, c, arn, &in); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// revocationError is the model's BatchStartViewerSessionRevocationError.
type revocationError struct {
	ChannelARN string `json:"channelArn"`
	ViewerID   string `json:"viewerId"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

// batchStartViewerSessionRevocation validates the whole batch first (a bad item fails the
// request, as the model's constraints do), then revokes item by item: an item whose
// channel is not found is reported in errors, and the others still take effect.
func (s *Server) batchStartViewerSessionRevocation(ctx context.Context, c Caller, r *http.Request) (any, error) {
	var in struct {
		ViewerSessions []viewerSession `json:"viewerSessions"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if n := len(in.ViewerSessions); n < 1 || n > playkey.MaxRevocationBatchLength {
		return nil, playkey.Errorf(playkey.ErrValidation, "viewerSessions must hold 1 to %d viewer sessions, not %d", playkey.MaxRevocationBatchLength, n)
	}
	arns := make([]playkey.ARN, len(in.ViewerSessions))
	for i := range in.ViewerSessions {
		var err error
		if arns[i], err = in.ViewerSessions[i].check("viewerSessions[" + strconv.Itoa(i) + "]."); err != nil {
			return nil, err
		}
	}
	out := struct {
		Errors []revocationError `json:"errors"`
	}{Errors: []revocationError{}}
	for i := range in.ViewerSessions {
		v := &in.ViewerSessions[i]
		err := s.revoke(ctx, c, arns[i], v)
		if err == nil {
			continue
		}
		code, msg, ok := batchErrorOf(err)
		if !ok {
			return nil, err
		}
		out.Errors = append(out.Errors, revocationError{ChannelARN: arns[i].String(), ViewerID: *v.ViewerID, Code: code, Message: msg})
	}
	return out, nil
}
