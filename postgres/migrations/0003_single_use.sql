-- Uses of single-use playback tokens (aws:single-use-uuid), kept until the token expires.
-- A uuid is unique within an account and region; the primary key makes the claim atomic.
CREATE TABLE single_use_tokens (
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	uuid       text COLLATE "C" NOT NULL,
	expires_at timestamptz(3) NOT NULL, -- the row may go after this
	PRIMARY KEY (account, region, uuid)
);

CREATE INDEX single_use_tokens_expiry ON single_use_tokens (expires_at);
