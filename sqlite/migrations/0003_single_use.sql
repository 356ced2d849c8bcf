-- Uses of single-use playback tokens (aws:single-use-uuid), kept until the token expires.
-- A uuid is unique within an account and region; the primary key makes the claim atomic.
CREATE TABLE single_use_tokens (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	uuid       TEXT    NOT NULL,
	expires_at INTEGER NOT NULL, -- unix milliseconds; the row may go after this
	PRIMARY KEY (account, region, uuid)
) STRICT, WITHOUT ROWID;

CREATE INDEX single_use_tokens_expiry ON single_use_tokens (expires_at);
