-- Streams. One row per stream session, kept after the stream ends and deleted with its
-- channel; a session without end_time is its channel's live stream, and the partial unique
-- index is what makes it at most one per channel, across nodes. channel is the channel as
-- it was at go-live, ingest the measured IngestConfiguration, events the newest events
-- first (all JSON in the shapes of the playkey types).
CREATE TABLE stream_sessions (
	account         text COLLATE "C" NOT NULL,
	region          text COLLATE "C" NOT NULL,
	channel_id      text COLLATE "C" NOT NULL,
	id              text COLLATE "C" NOT NULL,
	start_time      timestamptz(3) NOT NULL,
	end_time        timestamptz(3), -- NULL while live
	channel         jsonb NOT NULL,
	ingest          jsonb NOT NULL DEFAULT '{}',
	events          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(events) = 'array'),
	has_error_event boolean NOT NULL DEFAULT false,
	health          text NOT NULL,
	origin          text NOT NULL,
	stopping        boolean NOT NULL DEFAULT false,
	seen_at         timestamptz(3) NOT NULL, -- the ingest's last report
	PRIMARY KEY (account, region, channel_id, id),
	CONSTRAINT stream_sessions_channel_fkey FOREIGN KEY (account, region, channel_id)
		REFERENCES channels (account, region, id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX stream_sessions_live ON stream_sessions (account, region, channel_id) WHERE end_time IS NULL;
CREATE INDEX stream_sessions_by_start ON stream_sessions (account, region, channel_id, start_time, id);

-- Playback sessions the gates saw, for viewer counts: the latest sighting of each.
CREATE TABLE viewer_sightings (
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	channel_id text COLLATE "C" NOT NULL,
	session    text COLLATE "C" NOT NULL,
	seen_at    timestamptz(3) NOT NULL,
	PRIMARY KEY (account, region, channel_id, session)
);

CREATE INDEX viewer_sightings_by_time ON viewer_sightings (seen_at);
CREATE INDEX viewer_sightings_by_scope ON viewer_sightings (account, region, seen_at);
