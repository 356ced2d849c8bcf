package gate

import (
	"strconv"
	"strings"
)

// What an anonymous client can make the gate hold is bounded here, in one place: the
// length of what it may send, of what a log line or a refusal quotes, and of every cache.

const (
	// maxRequestPath bounds a request's escaped path: a playback URL is under 100 bytes,
	// a session URL a credential (at most maxSessionBytes, in base64) and a path on the
	// origin. Longer paths are refused before any other work.
	maxRequestPath = 4096
	// maxQuotedPath is how much of a path a log line or a refusal body quotes.
	maxQuotedPath = 160

	// maxCacheEntries bounds each cache's entries (channels, key sets, verified tokens,
	// rejected tokens, limiter buckets). Their keys are bounded (ARN parts, hashes), so
	// this bounds their bytes with the per-cache byte limits below.
	maxCacheEntries = 20_000
	// maxTokenCacheBytes bounds the bytes each token cache (verified, rejected) holds,
	// counted as the token's length plus a fixed cost per entry.
	maxTokenCacheBytes = 16 << 20
	// tokenEntryCost is what an entry costs beyond the token's own bytes: its hash, the
	// map's slot, the reason and channel it keeps.
	tokenEntryCost = 512
	// maxCachedReason bounds a remembered rejection reason.
	maxCachedReason = 300
)

// quotePath returns p, fit for a log line or a refusal body: a session credential (a
// bearer secret) replaced by "…", and at most maxQuotedPath bytes, with the length of the
// rest.
func quotePath(p string) string {
	p = redactPath(p)
	if len(p) <= maxQuotedPath {
		return p
	}
	cut := maxQuotedPath
	for cut > 0 && !isRuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…(" + strconv.Itoa(len(p)-cut) + " more bytes)"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// truncate bounds a string the gate keeps.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
