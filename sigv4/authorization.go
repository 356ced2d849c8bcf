package sigv4

import (
	"fmt"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// Terminator ends every valid credential scope.
const Terminator = "aws4_request"

// maxSignedHeaders bounds the work one request can cause; SDKs sign about ten.
const maxSignedHeaders = 128

// Authorization is the parsed content of a SigV4 Authorization header, or of the
// equivalent presigned query parameters. The parser checks the syntax of every part;
// Verify checks their meaning (service, terminator, dates).
type Authorization struct {
	AccessKeyID string
	// Date, Region, Service and Terminator make up the credential scope.
	Date          string // YYYYMMDD
	Region        string
	Service       string
	Terminator    string
	SignedHeaders []string // lower-case names, strictly ascending
	Signature     string   // 64 lower-case hexadecimal digits
}

// ParseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261128/us-west-2/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// The three components may come in any order, separated by commas with optional spaces
// or tabs around them (botocore writes ", ", other clients ","). Anything else is refused:
// another algorithm, a missing, repeated, unknown or empty component, a malformed
// credential scope, header names that are not lower case and sorted (or more than 128
// of them), or a signature that is not 64 lower-case hex digits.
//
// Errors are *Error with code ErrIncompleteSignature; their messages never quote the
// header.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(h, Algorithm)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return a, incomplete("Authorization header must use the " + Algorithm + " algorithm " +
			"and carry the 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " \t")
		if part == "" {
			return a, incomplete("Authorization header has an empty parameter.")
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return a, incomplete("Authorization header parameter is not a valid key=value pair (missing equal-sign).")
		}
		var seen *bool
		switch name {
		case "Credential":
			cred, seen = value, &haveCred
		case "SignedHeaders":
			signed, seen = value, &haveSigned
		case "Signature":
			sig, seen = value, &haveSig
		default:
			return a, incomplete("Authorization header has an unknown parameter; " +
				"only 'Credential', 'SignedHeaders' and 'Signature' are allowed.")
		}
		if *seen {
			return a, incomplete("Authorization header has the '" + name + "' parameter more than once.")
		}
		*seen = true
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return a, incomplete(strings.Join(missing, " "))
	}
	if err := a.parseParts(cred, signed, sig); err != nil {
		return Authorization{}, err
	}
	return a, nil
}

// parseParts fills a from the three parameter values, shared by the header and the
// presigned query forms.
func (a *Authorization) parseParts(cred, signed, sig string) *Error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return incomplete("Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.")
	}
	a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	if !ValidAccessKeyID(a.AccessKeyID) {
		return incomplete("Credential has an invalid access key id: it must be 1 to 128 letters, digits, '_', '-' or '.'.")
	}
	if len(a.Date) != 8 || !allDigits(a.Date) {
		return incomplete("Credential has an invalid date: it must be YYYYMMDD.")
	}
	if _, err := time.Parse("20060102", a.Date); err != nil {
		return incomplete("Credential has an invalid date: it must be YYYYMMDD.")
	}
	if !scopeWord(a.Region, false) {
		return incomplete("Credential has an invalid region: it must be 1 to 64 lower-case letters, digits or '-'.")
	}
	if !scopeWord(a.Service, false) {
		return incomplete("Credential has an invalid service: it must be 1 to 64 lower-case letters, digits or '-'.")
	}
	if !scopeWord(a.Terminator, true) {
		return incomplete("Credential should be scoped with a valid terminator: '" + Terminator + "'.")
	}

	if signed == "" {
		return incomplete("SignedHeaders must name at least the 'host' header.")
	}
	if strings.Count(signed, ";") >= maxSignedHeaders {
		return incomplete(fmt.Sprintf("SignedHeaders must name at most %d headers.", maxSignedHeaders))
	}
	a.SignedHeaders = strings.Split(signed, ";")
	for i, name := range a.SignedHeaders {
		if !headerName(name) {
			return incomplete("SignedHeaders must be lower-case header names separated by ';'.")
		}
		if i > 0 && name <= a.SignedHeaders[i-1] {
			return incomplete("SignedHeaders must be sorted and must not repeat a name.")
		}
	}

	if len(sig) != 64 || !lowerHex(sig) {
		return incomplete("Signature must be 64 lower-case hexadecimal digits.")
	}
	a.Signature = sig
	return nil
}

func incomplete(msg string) *Error { return authError(ErrIncompleteSignature, msg) }

// ValidAccessKeyID reports whether id can be used as an access key id: 1 to 128 ASCII
// letters, digits, '_', '-' or '.'. Real AWS ids are upper-case letters and digits; the
// wider set admits the placeholders ("test", "local-dev") that tools put in CI configs.
func ValidAccessKeyID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// scopeWord accepts a region, service or terminator: 1 to 64 lower-case letters, digits
// and '-' (or '_' for the terminator).
func scopeWord(s string, underscore bool) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (underscore && c == '_')
		if !ok {
			return false
		}
	}
	return true
}

// headerName accepts a lower-case HTTP field name (RFC 9110 token).
func headerName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
