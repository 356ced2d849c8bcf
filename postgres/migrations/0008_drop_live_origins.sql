-- Where a live channel is served is the live stream's origin (streams.origin, 0006):
-- one record, which the stream's reports keep and its end removes.
DROP TABLE live_origins;
