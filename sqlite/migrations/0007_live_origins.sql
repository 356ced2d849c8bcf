-- Where an ingest node serves each live channel's HLS, for the gates. One row per live
-- channel; it goes with the stream (or the channel).
CREATE TABLE live_origins (
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	stream_id  TEXT    NOT NULL,
	url        TEXT    NOT NULL,
	started_at INTEGER NOT NULL, -- unix milliseconds
	PRIMARY KEY (account, region, channel_id),
	FOREIGN KEY (account, region, channel_id) REFERENCES channels (account, region, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
