package sigv4

import "net/http"

// AWS error codes returned by Verify, as they appear in the x-amzn-ErrorType header.
const (
	// ErrMissingAuthenticationToken: the request carries neither an Authorization header
	// nor presigned query parameters.
	ErrMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// ErrIncompleteSignature: the Authorization header or the presigned query parameters
	// are malformed or lack a required part.
	ErrIncompleteSignature = "IncompleteSignatureException"
	// ErrUnrecognizedClient: the access key is unknown.
	ErrUnrecognizedClient = "UnrecognizedClientException"
	// ErrInvalidSignature: the signature does not match, the credential scope is wrong,
	// or the request time is outside the allowed window.
	ErrInvalidSignature = "InvalidSignatureException"
	// ErrValidation: the body could not be read (400) or is larger than the
	// verifier accepts (413). IVS models ValidationException, so SDKs surface it as a
	// typed error.
	ErrValidation = "ValidationException"
)

// Error is a refused request. Code is one of the Err* constants; Status is the HTTP
// status to answer with (403 for authentication failures, 400 or 413 for body problems).
// Message is written for the user and is safe to send on the wire: it never contains a
// secret key, a signature or the Authorization header.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func authError(code, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: http.StatusForbidden}
}

// The messages follow the wording real AWS JSON services use, so that what users find
// when they search for them applies.
const (
	msgMissingToken = "Missing Authentication Token"
	msgUnknownKey   = "The security token included in the request is invalid."
	msgBadSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
