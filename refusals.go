package playkey

// The refusals every store words the same way (storetest pins their texts): the API
// returns them to users as they are. NotFound is in arn.go.

// AlreadyExists refuses to create a resource whose ARN is taken: "channel arn:... already
// exists".
func AlreadyExists(arn ARN) error {
	noun, ok := resourceNouns[arn.Type]
	if !ok {
		noun = "resource"
	}
	return Errorf(ErrConflict, "%s %s already exists", noun, arn)
}

// KeyPairQuotaExceeded refuses a key pair beyond MaxKeyPairs; n is how many the account
// holds in region.
func KeyPairQuotaExceeded(n int, region string) error {
	return Errorf(ErrServiceQuotaExceeded,
		"this account already has %d playback key pairs in %s, the most IVS allows; delete one first", n, region)
}

// FingerprintConflict refuses a key pair whose public key the scope already holds, as
// existing (the zero ARN when the store cannot say which).
func FingerprintConflict(fingerprint string, existing ARN) error {
	if existing.IsZero() {
		return Errorf(ErrConflict, "a playback key pair with fingerprint %s already exists in this account and region", fingerprint)
	}
	return Errorf(ErrConflict,
		"a playback key pair with fingerprint %s already exists in this account and region (arn %s)", fingerprint, existing)
}

// StreamKeyQuotaExceeded refuses a stream key beyond MaxStreamKeysPerChannel.
func StreamKeyQuotaExceeded(channel ARN) error {
	return Errorf(ErrServiceQuotaExceeded,
		"channel %s already has a stream key, the most IVS allows; delete it first to reset it", channel)
}

// StreamKeyValueInUse refuses a stream key whose value another one has.
func StreamKeyValueInUse(key ARN) error {
	return Errorf(ErrConflict, "stream key %s: its value is already in use", key)
}

// PolicyInUse refuses to delete a playback restriction policy that channel uses (the zero
// ARN when the store cannot say which channel).
func PolicyInUse(policy, channel ARN) error {
	if channel.IsZero() {
		return Errorf(ErrConflict, "playback restriction policy %s is in use by a channel", policy)
	}
	return Errorf(ErrConflict,
		"playback restriction policy %s is in use by channel %s; remove it from every channel first", policy, channel)
}
