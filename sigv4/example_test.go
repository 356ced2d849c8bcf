package sigv4_test

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"

	"github.com/playkey/playkey/sigv4"
)

// A handler that authenticates every request before serving it.
func ExampleVerifier() {
	creds, err := sigv4.LoadCredentials("/etc/playkey/credentials")
	if err != nil {
		log.Fatal(err)
	}
	v := &sigv4.Verifier{Lookup: creds.Lookup}
	authenticated := func(next func(http.ResponseWriter, *http.Request, sigv4.Identity)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := v.Verify(r)
			var e *sigv4.Error
			if errors.As(err, &e) {
				w.Header().Set("X-Amzn-ErrorType", e.Code)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(e.Status)
				json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
				return
			}
			next(w, r, id) // r.Body can be read again
		})
	}
	http.Handle("POST /ListPlaybackKeyPairs", authenticated(func(w http.ResponseWriter, r *http.Request, id sigv4.Identity) {
		// list the key pairs of id.Account in id.Region
	}))
}
