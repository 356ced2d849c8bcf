// Package playkey holds the domain of a self-hosted Amazon IVS playback-security service:
// the resources it manages (playback key pairs, channels and their stream keys, playback
// restriction policies, viewer-session revocations, and the tags on them), the rules they obey,
// the error type that carries an AWS error code, and the Store interface that the embedded
// and PostgreSQL stores implement.
//
// Technology lives in sibling packages: keypair (PEM and fingerprints), token (playback
// tokens), sigv4 (request authentication), sqlite (the embedded store), api (the IVS HTTP
// API) and cmd/playkey (wiring).
package playkey

import (
	"errors"
	"fmt"
)

// AWS error codes, as they appear in the x-amzn-ErrorType header.
const (
	ErrValidation           = "ValidationException"
	ErrServiceQuotaExceeded = "ServiceQuotaExceededException"
	ErrAccessDenied         = "AccessDeniedException"
	ErrResourceNotFound     = "ResourceNotFoundException"
	ErrConflict             = "ConflictException"
	ErrThrottling           = "ThrottlingException"
	ErrInternal             = "InternalServerException"
	ErrServiceUnavailable   = "ServiceUnavailable"
)

// Error is a failure a client can act on. Code is an AWS error name (ErrValidation, ...);
// Message is written for the user and is returned on the wire as is, so it must never
// contain secrets or key material.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, or ErrInternal for any other error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ErrInternal
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
