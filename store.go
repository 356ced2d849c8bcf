package playkey

import (
	"context"
	"time"
)

// Scope is an account and region: the unit that owns resources and quotas.
type Scope struct {
	Account string
	Region  string
}

// KeyPair is a playback key pair. Only the public half is ever stored.
type KeyPair struct {
	ARN         ARN
	Name        string
	Fingerprint string // MD5 of PublicKeyDER, lowercase hex bytes joined with ':'
	// PublicKeyDER is the DER SubjectPublicKeyInfo of an ECDSA P-384 key.
	PublicKeyDER []byte
	Tags         map[string]string
	CreatedAt    time.Time
}

// MaxKeyPairs is the number of playback key pairs an account may hold in one region.
// IVS documents it as not adjustable.
const MaxKeyPairs = 3

// Page selects a slice of a listing ordered by resource id (bytewise): items whose id
// sorts after After, at most Limit of them (no limit when Limit <= 0).
type Page struct {
	After string
	Limit int
}

// Store keeps playkey's resources. Every method is safe for concurrent use, and every
// error a client can act on is an *Error (ResourceNotFound for a missing resource, and
// the codes documented on each method); anything else is an internal failure.
//
// Resources are always addressed within their own scope: a resource of another account
// or region is not found, and a reference from one resource to another (a channel's policy,
// a stream key's channel) never leaves its scope. Times are kept to the millisecond. Maps
// and slices passed in or returned are never shared with the store, and those returned are
// never nil (an empty listing, a resource without tags, a policy without countries). A call
// whose context has ended returns an error wrapping ctx.Err() and changes nothing.
type Store interface {
	// CreateKeyPair stores kp. In one atomic step it refuses with Conflict when kp's scope
	// already holds a key pair with the same fingerprint, else with ServiceQuotaExceeded when
	// it holds MaxKeyPairs key pairs. An acknowledged create is durable.
	CreateKeyPair(ctx context.Context, kp *KeyPair) error
	// KeyPair returns the key pair with the given ARN.
	KeyPair(ctx context.Context, arn ARN) (*KeyPair, error)
	// KeyPairs lists the key pairs of a scope in id order.
	KeyPairs(ctx context.Context, scope Scope, page Page) ([]*KeyPair, error)
	// DeleteKeyPair deletes the key pair with the given ARN.
	DeleteKeyPair(ctx context.Context, arn ARN) error

	// CreateChannel stores ch and, when key is not nil, its stream key (key.Channel must be
	// ch.ARN), both or neither. ResourceNotFound when ch.PlaybackRestrictionPolicy is set and
	// names no policy of ch's scope; Conflict when the ARN of ch or key is taken. The policy
	// check and the inserts are one atomic step: a channel never refers to a deleted policy.
	CreateChannel(ctx context.Context, ch *Channel, key *StreamKey) error
	// Channel returns the channel with the given ARN.
	Channel(ctx context.Context, arn ARN) (*Channel, error)
	// Channels lists the channels of a scope that match filter, in id order.
	Channels(ctx context.Context, scope Scope, filter ChannelFilter, page Page) ([]*Channel, error)
	// UpdateChannel reads the channel, lets change edit a copy of it, and stores the result,
	// in one atomic step, and returns what it stored. An error from change is returned as is
	// and nothing changes. Only settings change: the ARN, CreatedAt, SRTPassphrase and Tags
	// stay as they were whatever change does. ResourceNotFound when the channel is missing,
	// or when the result refers to a playback restriction policy its scope does not hold;
	// Conflict while the channel has a live stream (IVS: live channels cannot be updated).
	UpdateChannel(ctx context.Context, arn ARN, change func(*Channel) error) (*Channel, error)
	// DeleteChannel deletes the channel with the given ARN, and with it its stream keys,
	// its viewer revocations and its stream sessions, in one atomic step; Conflict while the
	// channel has a live stream, as on IVS.
	DeleteChannel(ctx context.Context, arn ARN) error

	// CreateStreamKey stores key. In one atomic step it refuses with ResourceNotFound when
	// key.Channel does not exist, with ServiceQuotaExceeded when the channel already has
	// MaxStreamKeysPerChannel stream keys, and with Conflict when key's ARN is taken.
	CreateStreamKey(ctx context.Context, key *StreamKey) error
	// StreamKey returns the stream key with the given ARN.
	StreamKey(ctx context.Context, arn ARN) (*StreamKey, error)
	// StreamKeys lists the stream keys of a channel in id order; ResourceNotFound when the
	// channel does not exist.
	StreamKeys(ctx context.Context, channel ARN, page Page) ([]*StreamKey, error)
	// DeleteStreamKey deletes the stream key with the given ARN.
	DeleteStreamKey(ctx context.Context, arn ARN) error

	// CreatePlaybackRestrictionPolicy stores p; Conflict when its ARN is taken.
	CreatePlaybackRestrictionPolicy(ctx context.Context, p *PlaybackRestrictionPolicy) error
	// PlaybackRestrictionPolicy returns the policy with the given ARN.
	PlaybackRestrictionPolicy(ctx context.Context, arn ARN) (*PlaybackRestrictionPolicy, error)
	// PlaybackRestrictionPolicies lists the policies of a scope in id order.
	PlaybackRestrictionPolicies(ctx context.Context, scope Scope, page Page) ([]*PlaybackRestrictionPolicy, error)
	// UpdatePlaybackRestrictionPolicy is UpdateChannel for a policy: change edits a copy,
	// and only the settings (name, countries, origins, strict enforcement) are stored.
	UpdatePlaybackRestrictionPolicy(ctx context.Context, arn ARN, change func(*PlaybackRestrictionPolicy) error) (*PlaybackRestrictionPolicy, error)
	// DeletePlaybackRestrictionPolicy deletes the policy with the given ARN; Conflict, in
	// the same atomic step, while a channel refers to it.
	DeletePlaybackRestrictionPolicy(ctx context.Context, arn ARN) error

	// RevokeViewerSessions records that the sessions of viewerID on channel with versions up
	// to upTo are revoked. The recorded bound only rises: a lower upTo than the one recorded
	// changes nothing. ResourceNotFound, in the same atomic step, when the channel does not
	// exist. An acknowledged revocation is durable.
	RevokeViewerSessions(ctx context.Context, channel ARN, viewerID string, upTo int64) error
	// ViewerRevocation returns the highest revoked version for viewerID on channel, and
	// whether any revocation is recorded.
	ViewerRevocation(ctx context.Context, channel ARN, viewerID string) (maxVersion int64, ok bool, err error)
	// RevocationsSince returns, in Seq order, up to limit (no limit when limit <= 0)
	// revocations, of every scope, whose latest change has a Seq greater than after. A
	// poller keeps the last Seq it saw and asks again from there: the changes it is shown
	// are committed in Seq order, so it never skips one that commits later with a smaller
	// Seq. Revocations vanish with their channel, without a change to report.
	RevocationsSince(ctx context.Context, after int64, limit int) ([]*Revocation, error)

	// StartStream records that st went live on st.Channel (st.SeenAt is its first report),
	// with a new stream session that keeps the channel as it is now and starts with events,
	// in one atomic step. ResourceNotFound when the channel does not exist; Conflict when it
	// already has a live stream: of concurrent starts on one channel, on every node, at most
	// one succeeds. A live stream not reported for StreamTimeout is ended first, at its
	// SeenAt, and does not conflict.
	StartStream(ctx context.Context, st *Stream, events ...StreamEvent) error
	// UpdateStream applies u to the live stream id of channel and records the report
	// (SeenAt becomes now), in one atomic step, and returns the stream as stored: its
	// Stopping tells the ingest that StopStream was called. ChannelNotBroadcasting when that
	// stream is not live (it ended, or timed out).
	UpdateStream(ctx context.Context, channel ARN, id string, u StreamUpdate) (*Stream, error)
	// EndStream ends the live stream id of channel at end, adding events to its session;
	// ChannelNotBroadcasting when that stream is not live.
	EndStream(ctx context.Context, channel ARN, id string, end time.Time, events ...StreamEvent) error
	// StopStream marks the live stream of channel Stopping, for its ingest to disconnect the
	// publisher, and returns it. ResourceNotFound when the channel does not exist,
	// ChannelNotBroadcasting when it has no live stream.
	StopStream(ctx context.Context, channel ARN) (*Stream, error)
	// LiveStream returns the live stream of channel. ResourceNotFound when the channel does
	// not exist, ChannelNotBroadcasting when it has no live stream.
	LiveStream(ctx context.Context, channel ARN) (*Stream, error)
	// LiveStreams lists the live streams of a scope that match filter, in channel id order
	// (Page.After is a channel id).
	LiveStreams(ctx context.Context, scope Scope, filter StreamFilter, page Page) ([]*Stream, error)
	// TimedOutStreams returns up to limit streams, of every scope, still recorded live but
	// not reported for StreamTimeout (their ingest is gone), oldest report first: for an
	// ingest to end them with EndStream, which ends each once whichever node asks.
	TimedOutStreams(ctx context.Context, limit int) ([]*Stream, error)
	// StreamSession returns the session of the stream id of channel, or its latest session
	// when id is "". ResourceNotFound when the channel or the session does not exist.
	// Sessions go with their channel, as on IVS, where a deleted channel is not found.
	StreamSession(ctx context.Context, channel ARN, id string) (*StreamSession, error)
	// StreamSessions lists the sessions of channel, newest first (by StartTime, then by id
	// descending); Page.After is the stream id of the last session of the previous page.
	// ResourceNotFound when the channel does not exist.
	StreamSessions(ctx context.Context, channel ARN, page Page) ([]*StreamSession, error)
	// RecordRefusedStream records a stream that never went live, a publish with a valid
	// key refused before it started (input that is not H.264/AAC, no media, a wrong SRT
	// passphrase), as an ended session of channel: ss.ID (NewStreamID's form) from
	// ss.StartTime to ss.EndTime with ss.Events (ss.Channel, Ingest and HasErrorEvent are
	// the store's to set: the channel as it is now, nothing measured). It neither makes the
	// channel live nor conflicts with its live stream. The channel keeps its latest
	// MaxRefusedSessions refused sessions; older ones go in the same atomic step.
	// ResourceNotFound when the channel does not exist; Conflict when the id is taken.
	RecordRefusedStream(ctx context.Context, channel ARN, ss *StreamSession) error

	// QueueMetadata queues a PutMetadata payload for the live stream of channel, for the
	// ingest that holds it (PendingMetadata), in one atomic step that counts the calls of
	// every node: Throttling when MetadataPerSecond payloads were queued for the channel in
	// the second before at. ResourceNotFound when the channel does not exist,
	// ChannelNotBroadcasting when it has no live stream. Payloads older than MetadataKeep
	// are dropped.
	QueueMetadata(ctx context.Context, channel ARN, payload string, at time.Time) error
	// PendingMetadata returns the payloads queued for the stream id of channel after the
	// one numbered after (0 for all kept), oldest first.
	PendingMetadata(ctx context.Context, channel ARN, id string, after int64) ([]QueuedMetadata, error)

	// RecordViewers records that gates saw the given playback sessions; a session seen again
	// keeps its latest time. Sightings older than twice ViewerWindow are forgotten, so the
	// records stay bounded by the sessions of the last two minutes.
	RecordViewers(ctx context.Context, seen []ViewerSighting) error
	// ViewerCounts returns, for each channel of scope with any, the number of distinct
	// playback sessions seen at or after since.
	ViewerCounts(ctx context.Context, scope Scope, since time.Time) (map[ARN]int64, error)

	// Tags returns the tags of any resource (never nil).
	Tags(ctx context.Context, arn ARN) (map[string]string, error)
	// TagResource adds or replaces tags on any resource; Validation when the result would
	// hold more than MaxTags.
	TagResource(ctx context.Context, arn ARN, tags map[string]string) error
	// UntagResource removes the named tags from any resource; absent keys are ignored.
	UntagResource(ctx context.Context, arn ARN, keys []string) error

	// Secret returns a random 32-byte secret, created on first use, shared by every node
	// that uses this store (for example to sign pagination tokens).
	Secret(ctx context.Context, name string) ([]byte, error)

	// SingleUse reports whether the single-use playback token uuid (its
	// aws:single-use-uuid) of scope is still unused and, when consume is set, records its
	// use in the same atomic step: of any number of concurrent consuming calls for one
	// uuid, on every node sharing the store, exactly one reports true. A recorded use is
	// durable; it may be forgotten once expires (the token's expiry) has passed.
	SingleUse(ctx context.Context, scope Scope, uuid string, expires time.Time, consume bool) (unused bool, err error)

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	Close() error
}
