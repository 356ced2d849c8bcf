-- Where an ingest node serves each live channel's HLS, for the gates. One row per live
-- channel; it goes with the stream (or the channel).
CREATE TABLE live_origins (
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	channel_id text COLLATE "C" NOT NULL,
	stream_id  text COLLATE "C" NOT NULL,
	url        text NOT NULL,
	started_at timestamptz(3) NOT NULL,
	PRIMARY KEY (account, region, channel_id),
	CONSTRAINT live_origins_channel_fkey FOREIGN KEY (account, region, channel_id)
		REFERENCES channels (account, region, id) ON DELETE CASCADE
);
