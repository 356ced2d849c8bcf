package api

import (
	"net/http"

	"github.com/playkey/playkey/sigv4"
)

// SigV4 returns an Authenticator that checks AWS Signature Version 4 with v. Its refusals
// are *sigv4.Error values, which writeError answers with their own code and status.
func SigV4(v *sigv4.Verifier) Authenticator { return sigv4Auth{v} }

type sigv4Auth struct{ v *sigv4.Verifier }

func (a sigv4Auth) Authenticate(r *http.Request) (Caller, error) {
	id, err := a.v.Verify(r)
	if err != nil {
		return Caller{}, err
	}
	return Caller{AccessKeyID: id.AccessKeyID, Account: id.Account, Region: id.Region}, nil
}
