-- Streams. One row per stream session, kept after the stream ends and deleted with its
-- channel; a session without end_time is its channel's live stream, and the partial unique
-- index is what makes it at most one per channel. channel is the channel as it was at
-- go-live, ingest the measured IngestConfiguration, events the newest events first (all
-- JSON in the shapes of the playkey types).
CREATE TABLE stream_sessions (
	account         TEXT    NOT NULL,
	region          TEXT    NOT NULL,
	channel_id      TEXT    NOT NULL,
	id              TEXT    NOT NULL,
	start_time      INTEGER NOT NULL, -- unix milliseconds
	end_time        INTEGER,          -- NULL while live
	channel         TEXT    NOT NULL CHECK (json_valid(channel)),
	ingest          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(ingest)),
	events          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(events) AND json_type(events) = 'array'),
	has_error_event INTEGER NOT NULL DEFAULT 0 CHECK (has_error_event IN (0, 1)),
	health          TEXT    NOT NULL,
	origin          TEXT    NOT NULL,
	stopping        INTEGER NOT NULL DEFAULT 0 CHECK (stopping IN (0, 1)),
	seen_at         INTEGER NOT NULL, -- the ingest's last report
	PRIMARY KEY (account, region, channel_id, id),
	FOREIGN KEY (account, region, channel_id) REFERENCES channels (account, region, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX stream_sessions_live ON stream_sessions (account, region, channel_id) WHERE end_time IS NULL;
CREATE INDEX stream_sessions_by_start ON stream_sessions (account, region, channel_id, start_time, id);

-- Playback sessions the gates saw, for viewer counts: the latest sighting of each.
CREATE TABLE viewer_sightings (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	session    TEXT    NOT NULL,
	seen_at    INTEGER NOT NULL, -- unix milliseconds
	PRIMARY KEY (account, region, channel_id, session)
) STRICT, WITHOUT ROWID;

CREATE INDEX viewer_sightings_by_time ON viewer_sightings (seen_at);
CREATE INDEX viewer_sightings_by_scope ON viewer_sightings (account, region, seen_at);
