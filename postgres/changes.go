package postgres

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playkey/playkey"
)

// listenHeartbeat is how long Watch waits for an announcement before it checks that its
// connection still works: a connection that died without a word (a network partition)
// would otherwise look like a quiet database for as long as TCP takes to notice.
const listenHeartbeat = 10 * time.Second

// Watch calls f with every change to key pairs, channels, playback restriction policies,
// viewer revocations and live streams (their start, end, origin and stop) that any node commits to this store's schema, as PostgreSQL's
// NOTIFY delivers them, until ctx ends; it then returns ctx.Err(). It listens on a
// connection of its own, outside the pool.
//
// Announcements are sent by the transaction that makes the change, when it commits, so f
// never hears of a change that did not happen, and a node that reads the store after f
// returns sees the change. What happens while Watch is not listening is not replayed:
// f is called with playkey.ChangeAll whenever Watch starts or resumes listening (after losing its
// connection, which it retries with a growing pause while ctx lasts), and a caller that
// keeps caches drops them then. A caller should still expire its caches on its own: Watch
// takes up to ten seconds (listenHeartbeat) plus the store's timeout to notice a connection
// that died without a word.
//
// f runs on Watch's goroutine, one call at a time, and should return quickly: further
// announcements wait in the connection meanwhile.
func (s *Store) Watch(ctx context.Context, f func(playkey.Change)) error {
	const minPause, maxPause = 50 * time.Millisecond, 5 * time.Second
	pause := minPause
	for {
		listened := s.listen(ctx, f)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if listened {
			pause = minPause
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPause)
	}
}

// listen connects, listens and calls f until the connection fails or ctx ends. It reports
// whether it got as far as listening.
func (s *Store) listen(ctx context.Context, f func(playkey.Change)) bool {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(cctx, `LISTEN `+pgx.Identifier{changeChannel(s.schema)}.Sanitize()); err != nil {
		return false
	}
	cancel()
	f(playkey.Change{Kind: playkey.ChangeAll})
	for {
		wctx, cancel := context.WithTimeout(ctx, listenHeartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			c, ok := parseChange(n.Payload)
			if !ok {
				c = playkey.Change{Kind: playkey.ChangeAll} // from a newer playkey: be safe
			}
			f(c)
			continue
		case ctx.Err() != nil:
			return true
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Quiet for a while: make sure the connection still answers.
			pctx, cancel := context.WithTimeout(ctx, s.timeout)
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
		}
		return true
	}
}

// changeChannel is the NOTIFY channel of a schema, as the triggers of migration 0004 name
// it: a fixed-length name, since a schema name may be as long as a channel name may be.
func changeChannel(schema string) string {
	sum := md5.Sum([]byte(schema))
	return "playkey_" + hex.EncodeToString(sum[:])[:16]
}

// parseChange reads a payload the triggers sent: "KIND ACCOUNT REGION[ ID]".
func parseChange(payload string) (playkey.Change, bool) {
	f := strings.Fields(payload)
	if len(f) < 3 {
		return playkey.Change{}, false
	}
	c := playkey.Change{Scope: playkey.Scope{Account: f[1], Region: f[2]}}
	typ := ""
	switch f[0] {
	case "keys":
		c.Kind = playkey.ChangeKeyPairs
	case "revocations":
		c.Kind = playkey.ChangeRevocations
	case "channel":
		c.Kind, typ = playkey.ChangeChannel, playkey.TypeChannel
	case "policy":
		c.Kind, typ = playkey.ChangePolicy, playkey.TypePlaybackRestrictionPolicy
	case "stream":
		c.Kind, typ = playkey.ChangeStream, playkey.TypeChannel
	default:
		return playkey.Change{}, false
	}
	if typ == "" {
		return c, len(f) == 3
	}
	if len(f) != 4 {
		return playkey.Change{}, false
	}
	c.ARN = playkey.ARN{Region: c.Scope.Region, Account: c.Scope.Account, Type: typ, ID: f[3]}
	return c, true
}
