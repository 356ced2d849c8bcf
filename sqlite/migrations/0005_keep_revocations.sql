-- Viewer-session revocations outlive their channel: a session URL of a deleted channel, or
-- a token for it, must never play again, on this gate or one started later. Channel ids
-- are random and never reused (as in IVS), so a kept revocation cannot reach a new
-- channel. SQLite cannot drop a foreign key, so the table is made again without it.
CREATE TABLE viewer_revocations_new (
	account     TEXT    NOT NULL,
	region      TEXT    NOT NULL,
	channel_id  TEXT    NOT NULL,
	viewer_id   TEXT    NOT NULL,
	max_version INTEGER NOT NULL CHECK (max_version >= 0),
	updated_at  INTEGER NOT NULL,
	seq         INTEGER NOT NULL UNIQUE,
	PRIMARY KEY (account, region, channel_id, viewer_id)
) STRICT, WITHOUT ROWID;

INSERT INTO viewer_revocations_new SELECT account, region, channel_id, viewer_id, max_version, updated_at, seq FROM viewer_revocations;
DROP TABLE viewer_revocations;
ALTER TABLE viewer_revocations_new RENAME TO viewer_revocations;
