-- A channel going live, ending, moving to another packager or being stopped is announced
-- (KIND "stream", with the channel id), so that gates drop what they cached of where the
-- channel is served at once rather than when it expires. The reports in between (health,
-- measurements, every few seconds) change none of these and are not announced.
CREATE TRIGGER stream_sessions_announce_start AFTER INSERT ON stream_sessions
	FOR EACH ROW WHEN (NEW.end_time IS NULL)
	EXECUTE FUNCTION playkey_announce_change('stream', 'channel_id');
CREATE TRIGGER stream_sessions_announce_change AFTER UPDATE ON stream_sessions
	FOR EACH ROW WHEN (OLD.end_time IS DISTINCT FROM NEW.end_time OR OLD.origin IS DISTINCT FROM NEW.origin
		OR OLD.stopping IS DISTINCT FROM NEW.stopping)
	EXECUTE FUNCTION playkey_announce_change('stream', 'channel_id');
