package gate

import (
	"net/http"

	"github.com/playkey/playkey"
)

// checkChannel applies to every request of a session what may have changed about its
// channel since the session started, through the same cache (and the same announcements)
// as new sessions: a deleted channel ends its sessions, and a public channel made private
// ends the sessions that started without a token. A channel made public keeps its
// private sessions, whose viewers had tokens. While the store cannot be read, sessions go
// on: an outage must not stop everyone's playback.
func (g *Gate) checkChannel(r *http.Request, sess *session) *failure {
	arn := playkey.ARN{Region: sess.Region, Account: sess.Account, Type: playkey.TypeChannel, ID: sess.ChannelID}
	res, err := g.channels.get(r.Context(), arn)
	if err != nil {
		// The store cannot be read (past RevocationStaleAfter): a session that was admitted
		// goes on, as sessions without a viewer ID always did during an outage; only
		// what needs the store now (new sessions, revocations) waits for it.
		return nil
	}
	if !res.found {
		return &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeChannelNotFound,
			reason: "the channel of this playback session was deleted"}
	}
	if sess.Anonymous && res.ch.Authorized {
		return &failure{status: http.StatusForbidden, ivsCode: ivsAuthError, code: CodeMissingToken,
			reason: "the channel was made private: start again from its playback URL with a playback authorization token"}
	}
	return nil
}
