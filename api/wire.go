package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/playkey/playkey"
	"github.com/playkey/playkey/sigv4"
)

// Codes beyond the IVS model's own errors: the generic AWS ones.
const (
	errUnknownOperation = "UnknownOperationException"
)

// statusOf maps an AWS error code to its HTTP status: the IVS model's errors, then the
// generic ones. Authentication errors carry their own status (sigv4.Error).
var statusOf = map[string]int{
	playkey.ErrValidation:           http.StatusBadRequest,
	playkey.ErrServiceQuotaExceeded: http.StatusPaymentRequired,
	playkey.ErrAccessDenied:         http.StatusForbidden,
	"PendingVerification":           http.StatusForbidden,
	playkey.ErrResourceNotFound:     http.StatusNotFound,
	"ChannelNotBroadcasting":        http.StatusNotFound,
	playkey.ErrConflict:             http.StatusConflict,
	playkey.ErrThrottling:           http.StatusTooManyRequests,
	playkey.ErrInternal:             http.StatusInternalServerError,
	playkey.ErrServiceUnavailable:   http.StatusServiceUnavailable,
	"StreamUnavailable":             http.StatusServiceUnavailable,

	errUnknownOperation: http.StatusNotFound,
}

// errorBody is the JSON body of every error. The model's only member is exceptionMessage,
// but the SDKs and the CLI print message: both carry the same text.
type errorBody struct {
	Message          string `json:"message"`
	ExceptionMessage string `json:"exceptionMessage"`
}

// writeError is the one place that turns an error into an API error response. An error that
// is not a *playkey.Error is unexpected: it is logged and answered with a generic 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *playkey.Error
	var tooLarge *http.MaxBytesError
	var authErr *sigv4.Error
	switch {
	case errors.As(err, &authErr):
		w.Header().Set("x-amzn-ErrorType", authErr.Code)
		writeJSON(w, authErr.Status, errorBody{Message: authErr.Message, ExceptionMessage: authErr.Message})
		return
	case errors.As(err, &tooLarge):
		msg := fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit)
		w.Header().Set("x-amzn-ErrorType", playkey.ErrValidation)
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Message: msg, ExceptionMessage: msg})
		return
	case errors.As(err, &pe):
		if pe.Code == playkey.ErrServiceUnavailable {
			// The cause (kept in err's chain) is what an operator needs; it holds no secret.
			s.log.Warn("store unavailable", "method", r.Method, "path", r.URL.EscapedPath(), "err", err)
		}
	default:
		s.log.Error("internal error", "method", r.Method, "path", r.URL.EscapedPath(), "err", err)
		pe = playkey.Errorf(playkey.ErrInternal, "internal error; the server log has details")
	}
	status, ok := statusOf[pe.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	w.Header().Set("x-amzn-ErrorType", pe.Code)
	writeJSON(w, status, errorBody{Message: pe.Message, ExceptionMessage: pe.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own wire structs reach here; they always marshal.
		panic(fmt.Sprintf("api: marshal response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// decode reads a JSON request body into v. An empty body counts as {}: the SDKs send none
// for operations whose members are all optional. Unknown members are ignored, as AWS does;
// malformed JSON and members of the wrong type are ValidationExceptions naming the member.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return playkey.Errorf(playkey.ErrValidation, "could not read the request body")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return playkey.Errorf(playkey.ErrValidation, "member %s must be of type %s, not a JSON %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
		}
		if errors.As(err, &typeErr) {
			return playkey.Errorf(playkey.ErrValidation, "the request body must be a JSON object, not a JSON %s", typeErr.Value)
		}
		return playkey.Errorf(playkey.ErrValidation, "the request body is not valid JSON")
	}
	if dec.More() {
		return playkey.Errorf(playkey.ErrValidation, "the request body holds more than one JSON value")
	}
	return nil
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "list"
	case "ptr":
		return "the documented type"
	default:
		return "number"
	}
}

// ownedARN parses the ARN in member s, of type typ, and refuses one outside the caller's
// account and region as not found.
func ownedARN(c Caller, member, s, typ string) (playkey.ARN, error) {
	arn, err := playkey.ParseTypedARN(member, s, typ)
	if err != nil {
		return playkey.ARN{}, err
	}
	return arn, own(c, arn)
}

// decodeARN decodes the body of an operation that takes only an arn, of type typ, in the
// caller's scope.
func decodeARN(c Caller, r *http.Request, typ string) (playkey.ARN, error) {
	var in struct {
		ARN *string `json:"arn"`
	}
	if err := decode(r, &in); err != nil {
		return playkey.ARN{}, err
	}
	return ownedARN(c, "arn", deref(in.ARN), typ)
}

// maxBatchGet is the model's limit on the arns of BatchGetChannel and BatchGetStreamKey.
const maxBatchGet = 50

// batchError is the model's BatchError: one ARN of a batch request that failed. Its code is
// the HTTP status the single-item operation would have answered, as a string: the one
// published IVS sample of a batch error (BatchStartViewerSessionRevocation's CLI example)
// has "403" [choice for the rest].
type batchError struct {
	ARN     string `json:"arn"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// batchErrorOf returns the code and message of a failed item: nil and false for an error
// that fails the whole request (anything but ResourceNotFound).
func batchErrorOf(err error) (code, msg string, ok bool) {
	var pe *playkey.Error
	if !errors.As(err, &pe) || pe.Code != playkey.ErrResourceNotFound {
		return "", "", false
	}
	return strconv.Itoa(statusOf[pe.Code]), pe.Message, true
}

// batchGet runs a BatchGet operation: it decodes arns (1 to 50 ARNs of type typ; anything
// else fails the whole request with a ValidationException), gets each distinct ARN once with
// get, in request order, and hands each resource to found or adds a batchError for each
// that is not found. ARNs of another account or region are not found.
func batchGet[T any](ctx context.Context, r *http.Request, c Caller, typ string,
	get func(context.Context, playkey.ARN) (T, error), found func(T), errs *[]batchError) error {
	var in struct {
		ARNs []string `json:"arns"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if n := len(in.ARNs); n < 1 || n > maxBatchGet {
		return playkey.Errorf(playkey.ErrValidation, "arns must hold 1 to %d ARNs, not %d", maxBatchGet, n)
	}
	arns := make([]playkey.ARN, len(in.ARNs))
	for i, s := range in.ARNs {
		var err error
		if arns[i], err = playkey.ParseTypedARN("arns", s, typ); err != nil {
			return err
		}
	}
	seen := map[playkey.ARN]bool{}
	for _, arn := range arns {
		if seen[arn] {
			continue
		}
		seen[arn] = true
		var v T
		err := own(c, arn)
		if err == nil {
			v, err = get(ctx, arn)
		}
		if err == nil {
			found(v)
			continue
		}
		code, msg, ok := batchErrorOf(err)
		if !ok {
			return err
		}
		*errs = append(*errs, batchError{ARN: arn.String(), Code: code, Message: msg})
	}
	return nil
}
