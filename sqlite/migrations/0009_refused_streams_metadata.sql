-- A publish refused before it went live (input that is not H.264/AAC, no media, a wrong SRT
-- passphrase) is kept as an ended session marked refused, so that its failure shows in the
-- stream session API; refused sessions are pruned per channel.
ALTER TABLE stream_sessions ADD COLUMN refused INTEGER NOT NULL DEFAULT 0 CHECK (refused IN (0, 1));

-- PutMetadata's payloads on their way to the ingest node that holds the stream: that node
-- reads them on its checks (about twice a second) and adds them to the stream. A few
-- seconds' worth per channel; the rows of the last second are also PutMetadata's rate count.
CREATE TABLE metadata_outbox (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	account    TEXT    NOT NULL,
	region     TEXT    NOT NULL,
	channel_id TEXT    NOT NULL,
	stream_id  TEXT    NOT NULL,
	at         INTEGER NOT NULL, -- unix milliseconds
	payload    TEXT    NOT NULL,
	FOREIGN KEY (account, region, channel_id) REFERENCES channels (account, region, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX metadata_outbox_by_channel ON metadata_outbox (account, region, channel_id, seq);
