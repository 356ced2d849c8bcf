-- Changes that other nodes may hold in a cache are announced with NOTIFY by triggers, so
-- that the announcement belongs to the transaction that makes the change, whichever code
-- path makes it: PostgreSQL delivers it when that transaction commits, never if it rolls
-- back, and folds identical ones of one transaction into one. The channel is named for the
-- schema (postgres.changeChannel computes the same name), so that deployments in two
-- schemas of one database do not hear each other; the payload is "KIND ACCOUNT REGION",
-- followed by " ID" for a channel or a policy (see postgres.parseChange).
CREATE FUNCTION playkey_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	IF TG_OP = 'DELETE' THEN
		r := to_jsonb(OLD);
	ELSE
		r := to_jsonb(NEW);
	END IF;
	PERFORM pg_notify('playkey_' || left(md5(TG_TABLE_SCHEMA), 16),
		concat_ws(' ', TG_ARGV[0], r->>'account', r->>'region', CASE WHEN TG_NARGS > 1 THEN r->>TG_ARGV[1] END));
	RETURN NULL;
END
$$;

-- A key pair's tags and name do not matter to a cache of keys: only inserts and deletes.
CREATE TRIGGER playback_key_pairs_announce AFTER INSERT OR DELETE ON playback_key_pairs
	FOR EACH ROW EXECUTE FUNCTION playkey_announce_change('keys');
-- Inserts too: a cache may remember that a channel did not exist.
CREATE TRIGGER channels_announce AFTER INSERT OR UPDATE OR DELETE ON channels
	FOR EACH ROW EXECUTE FUNCTION playkey_announce_change('channel', 'id');
CREATE TRIGGER playback_restriction_policies_announce AFTER UPDATE OR DELETE ON playback_restriction_policies
	FOR EACH ROW EXECUTE FUNCTION playkey_announce_change('policy', 'id');
-- Revocations only rise; they vanish with their channel, which is announced.
CREATE TRIGGER viewer_revocations_announce AFTER INSERT OR UPDATE ON viewer_revocations
	FOR EACH ROW EXECUTE FUNCTION playkey_announce_change('revocations');
