-- Channels, their stream keys, playback restriction policies and viewer-session revocations.
-- Every resource table has account, region, id (its primary key) and tags, like
-- playback_key_pairs. References stay inside one account and region, so foreign keys are
-- (account, region, id); they are the last word on referential rules the store also checks.

CREATE TABLE playback_restriction_policies (
	account                  TEXT    NOT NULL,
	region                   TEXT    NOT NULL,
	id                       TEXT    NOT NULL,
	name                     TEXT    NOT NULL,
	allowed_countries        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(allowed_countries) AND json_type(allowed_countries) = 'array'),
	allowed_origins          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(allowed_origins) AND json_type(allowed_origins) = 'array'),
	strict_origin_enforcement INTEGER NOT NULL CHECK (strict_origin_enforcement IN (0, 1)),
	tags                     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
	created_at               INTEGER NOT NULL, -- unix milliseconds
	PRIMARY KEY (account, region, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE channels (
	account                        TEXT    NOT NULL,
	region                         TEXT    NOT NULL,
	id                             TEXT    NOT NULL,
	name                           TEXT    NOT NULL,
	latency_mode                   TEXT    NOT NULL,
	type                           TEXT    NOT NULL,
	preset                         TEXT    NOT NULL,
	authorized                     INTEGER NOT NULL CHECK (authorized IN (0, 1)),
	insecure_ingest                INTEGER NOT NULL CHECK (insecure_ingest IN (0, 1)),
	container_format               TEXT    NOT NULL,
	multitrack_enabled             INTEGER NOT NULL CHECK (multitrack_enabled IN (0, 1)),
	multitrack_policy              TEXT    NOT NULL,
	multitrack_maximum_resolution  TEXT    NOT NULL,
	playback_restriction_policy_id TEXT,   -- NULL: none
	srt_passphrase                 TEXT    NOT NULL,
	tags                           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
	created_at                     INTEGER NOT NULL,
	PRIMARY KEY (account, region, id),
	FOREIGN KEY (account, region, playback_restriction_policy_id) REFERENCES playback_restriction_policies (account, region, id)
) STRICT, WITHOUT ROWID;

-- ListChannels filters, and the "is this policy in use" check on delete.
CREATE INDEX channels_by_name ON channels (account, region, name, id);
CREATE INDEX channels_by_policy ON channels (account, region, playback_restriction_policy_id, id);

CREATE TABLE stream_keys (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	value      TEXT    NOT NULL UNIQUE,
	tags       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(tags) AND json_type(tags) = 'object'),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (account, region, id),
	FOREIGN KEY (account, region, channel_id) REFERENCES channels (account, region, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX stream_keys_by_channel ON stream_keys (account, region, channel_id, id);

-- Per channel and viewer, the highest revoked viewer-session version. seq is the change
-- counter value of the latest change that raised max_version: pollers page by it.
CREATE TABLE viewer_revocations (
	account     TEXT    NOT NULL,
	region      TEXT    NOT NULL,
	channel_id  TEXT    NOT NULL,
	viewer_id   TEXT    NOT NULL,
	max_version INTEGER NOT NULL CHECK (max_version >= 0),
	updated_at  INTEGER NOT NULL,
	seq         INTEGER NOT NULL UNIQUE,
	PRIMARY KEY (account, region, channel_id, viewer_id),
	FOREIGN KEY (account, region, channel_id) REFERENCES channels (account, region, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Monotonic counters. A counter lives apart from the rows it numbers so that deleting rows
-- never lets a number be handed out twice.
CREATE TABLE counters (
	name  TEXT    PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;

INSERT INTO counters (name, value) VALUES ('viewer_revocations', 0);
