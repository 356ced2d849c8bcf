-- Playback key pairs. Only the public half is stored. Ids sort bytewise (COLLATE "C"), which
-- is the order listings and their page tokens rely on; account and region use it too so that
-- the primary key serves every lookup. created_at keeps milliseconds, as the embedded store does.
CREATE TABLE playback_key_pairs (
	account        text COLLATE "C" NOT NULL,
	region         text COLLATE "C" NOT NULL,
	id             text COLLATE "C" NOT NULL,
	name           text NOT NULL,
	fingerprint    text COLLATE "C" NOT NULL,
	public_key_der bytea NOT NULL,
	tags           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
	created_at     timestamptz(3) NOT NULL,
	PRIMARY KEY (account, region, id),
	-- The backstop for the duplicate check CreateKeyPair makes under its scope lock.
	CONSTRAINT playback_key_pairs_fingerprint_key UNIQUE (account, region, fingerprint)
);

-- Random values created on first use and shared by every node on this database.
CREATE TABLE secrets (
	name  text COLLATE "C" PRIMARY KEY,
	value bytea NOT NULL CHECK (length(value) = 32)
);
