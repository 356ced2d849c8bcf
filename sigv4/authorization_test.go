package sigv4

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const testSig = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	want := Authorization{
		AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "ivs", Terminator: "aws4_request",
		SignedHeaders: []string{"content-type", "host", "x-amz-date"}, Signature: testSig,
	}
	for _, h := range []string{
		// botocore and the Go SDK
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ivs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + testSig,
		// no spaces (JavaScript SDK v2, many hand-written signers)
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ivs/aws4_request,SignedHeaders=content-type;host;x-amz-date,Signature=" + testSig,
		// other order, tabs, several spaces
		"AWS4-HMAC-SHA256  \tSignature=" + testSig + " ,  SignedHeaders=content-type;host;x-amz-date\t,Credential=AKIDEXAMPLE/20150830/us-east-1/ivs/aws4_request  ",
	} {
		a, err := ParseAuthorization(h)
		if err != nil {
			t.Fatalf("ParseAuthorization(%q): %v", h, err)
		}
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("ParseAuthorization(%q) = %+v, want %+v", h, a, want)
		}
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	t.Parallel()
	cred := "Credential=AKIDEXAMPLE/20150830/us-east-1/ivs/aws4_request"
	signed := "SignedHeaders=host;x-amz-date"
	sig := "Signature=" + testSig
	join := func(parts ...string) string { return "AWS4-HMAC-SHA256 " + strings.Join(parts, ", ") }
	tests := []struct {
		name, header, message string
	}{
		{"empty", "", "must use the AWS4-HMAC-SHA256 algorithm"},
		{"algorithm only", "AWS4-HMAC-SHA256", "must use the AWS4-HMAC-SHA256 algorithm"},
		{"no space after algorithm", "AWS4-HMAC-SHA256" + cred, "must use the AWS4-HMAC-SHA256 algorithm"},
		{"SigV4a", "AWS4-ECDSA-P256-SHA256 " + cred + ", " + signed + ", " + sig, "must use the AWS4-HMAC-SHA256 algorithm"},
		{"lower-case algorithm", "aws4-hmac-sha256 " + cred + ", " + signed + ", " + sig, "must use the AWS4-HMAC-SHA256 algorithm"},
		{"SigV2", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "must use the AWS4-HMAC-SHA256 algorithm"},
		{"missing all", "AWS4-HMAC-SHA256 ", "has an empty parameter"},
		{"missing signature and signed headers", join(cred),
			"Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"missing credential", join(signed, sig), "Authorization header requires 'Credential' parameter."},
		{"trailing comma", join(cred, signed, sig) + ",", "has an empty parameter"},
		{"no equal sign", join(cred, signed, sig, "Extra"), "missing equal-sign"},
		{"unknown parameter", join(cred, signed, sig, "Extra=1"), "unknown parameter"},
		{"lower-case parameter name", join("credential=AKIDEXAMPLE/20150830/us-east-1/ivs/aws4_request", signed, sig), "unknown parameter"},
		{"space before equal sign", join("Credential =AKIDEXAMPLE/20150830/us-east-1/ivs/aws4_request", signed, sig), "unknown parameter"},
		{"repeated parameter", join(cred, signed, sig, sig), "'Signature' parameter more than once"},
		{"space in credential", join("Credential=AKIDEXAMPLE /20150830/us-east-1/ivs/aws4_request", signed, sig), "invalid access key id"},
		{"short credential", join("Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request", signed, sig), "must have the form"},
		{"long credential", join("Credential=AKIDEXAMPLE/20150830/us-east-1/ivs/x/aws4_request", signed, sig), "must have the form"},
		{"empty access key", join("Credential=/20150830/us-east-1/ivs/aws4_request", signed, sig), "invalid access key id"},
		{"bad date", join("Credential=AKIDEXAMPLE/20151330/us-east-1/ivs/aws4_request", signed, sig), "invalid date"},
		{"short date", join("Credential=AKIDEXAMPLE/2015083/us-east-1/ivs/aws4_request", signed, sig), "invalid date"},
		{"upper-case region", join("Credential=AKIDEXAMPLE/20150830/US-EAST-1/ivs/aws4_request", signed, sig), "invalid region"},
		{"empty region", join("Credential=AKIDEXAMPLE/20150830//ivs/aws4_request", signed, sig), "invalid region"},
		{"empty service", join("Credential=AKIDEXAMPLE/20150830/us-east-1//aws4_request", signed, sig), "invalid service"},
		{"empty terminator", join("Credential=AKIDEXAMPLE/20150830/us-east-1/ivs/", signed, sig), "valid terminator"},
		{"empty signed headers", join(cred, "SignedHeaders=", sig), "at least the 'host' header"},
		{"upper-case signed header", join(cred, "SignedHeaders=Host;x-amz-date", sig), "lower-case header names"},
		{"empty signed header", join(cred, "SignedHeaders=host;;x-amz-date", sig), "lower-case header names"},
		{"unsorted signed headers", join(cred, "SignedHeaders=x-amz-date;host", sig), "sorted"},
		{"repeated signed header", join(cred, "SignedHeaders=host;host;x-amz-date", sig), "sorted"},
		{"too many signed headers", join(cred, "SignedHeaders=host"+strings.Repeat(";x", 128), sig), "at most 128"},
		{"upper-case signature", join(cred, signed, "Signature="+strings.ToUpper(testSig)), "64 lower-case hexadecimal"},
		{"short signature", join(cred, signed, "Signature="+testSig[:63]), "64 lower-case hexadecimal"},
		{"empty signature", join(cred, signed, "Signature="), "64 lower-case hexadecimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAuthorization(tt.header)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseAuthorization = %+v, %v; want an *Error", a, err)
			}
			if e.Code != ErrIncompleteSignature || e.Status != 403 {
				t.Fatalf("error %s (%d)", e.Code, e.Status)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Fatalf("message %q does not contain %q", e.Message, tt.message)
			}
			if strings.Contains(e.Message, testSig[:16]) || strings.Contains(e.Message, "AKIDEXAMPLE") {
				t.Fatalf("message %q quotes the header", e.Message)
			}
		})
	}
}
