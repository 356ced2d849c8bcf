package playkey

// ChangeKind says what a Change is about.
type ChangeKind int

const (
	// ChangeAll means that anything may have changed: announcements may have been missed
	// while Watch was not listening. Drop every cache.
	ChangeAll ChangeKind = iota
	// ChangeKeyPairs: a key pair of Scope was created or deleted.
	ChangeKeyPairs
	// ChangeChannel: the channel ARN was created, updated or deleted (with its viewer
	// revocations).
	ChangeChannel
	// ChangePolicy: the playback restriction policy ARN was updated or deleted.
	ChangePolicy
	// ChangeRevocations: a viewer-session revocation of Scope was recorded; read it with
	// RevocationsSince.
	ChangeRevocations
	// ChangeStream: the channel ARN went live, or its live stream ended, moved to another
	// origin or was stopped.
	ChangeStream
)

func (k ChangeKind) String() string {
	switch k {
	case ChangeAll:
		return "all"
	case ChangeKeyPairs:
		return "keys"
	case ChangeChannel:
		return "channel"
	case ChangePolicy:
		return "policy"
	case ChangeRevocations:
		return "revocations"
	case ChangeStream:
		return "stream"
	}
	return "unknown"
}

// A Change is a committed change to state that a node may hold in a cache, as a store that
// announces its changes (PostgreSQL's Watch) tells it.
type Change struct {
	Kind  ChangeKind
	Scope Scope // every kind but ChangeAll
	ARN   ARN   // ChangeChannel, ChangePolicy and ChangeStream (the channel)
}
