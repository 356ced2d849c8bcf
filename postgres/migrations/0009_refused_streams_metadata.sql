-- A publish refused before it went live (input that is not H.264/AAC, no media, a wrong SRT
-- passphrase) is kept as an ended session marked refused, so that its failure shows in the
-- stream session API; refused sessions are pruned per channel.
ALTER TABLE stream_sessions ADD COLUMN refused boolean NOT NULL DEFAULT false;

-- PutMetadata's payloads on their way to the ingest node that holds the stream: that node
-- reads them on its checks (about twice a second) and adds them to the stream. A few
-- seconds' worth per channel; the rows of the last second are also PutMetadata's rate count.
-- Rows of a channel are inserted under the lock of its live stream's row, so their seq
-- order is their commit order.
CREATE TABLE metadata_outbox (
	seq        bigserial PRIMARY KEY,
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	channel_id text COLLATE "C" NOT NULL,
	stream_id  text COLLATE "C" NOT NULL,
	at         timestamptz(3) NOT NULL,
	payload    text NOT NULL,
	CONSTRAINT metadata_outbox_channel_fkey FOREIGN KEY (account, region, channel_id)
		REFERENCES channels (account, region, id) ON DELETE CASCADE
);

CREATE INDEX metadata_outbox_by_channel ON metadata_outbox (account, region, channel_id, seq);
