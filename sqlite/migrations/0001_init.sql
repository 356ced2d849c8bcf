-- Playback key pairs. Only the public half is stored. Ids sort bytewise (BINARY), which is
-- the order listings and their page tokens rely on.
CREATE TABLE playback_key_pairs (
	account        TEXT    NOT NULL,
	region         TEXT    NOT NULL,
	id             TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	fingerprint    TEXT    NOT NULL,
	public_key_der BLOB    NOT NULL,
	tags           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
	created_at     INTEGER NOT NULL, -- unix milliseconds
	PRIMARY KEY (account, region, id),
	UNIQUE (account, region, fingerprint)
) STRICT, WITHOUT ROWID;

-- Random values created on first use and shared by every node on this database.
CREATE TABLE secrets (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL CHECK (length(value) = 32)
) STRICT;
