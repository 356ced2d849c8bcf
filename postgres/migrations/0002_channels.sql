-- Channels, their stream keys, playback restriction policies and viewer-session revocations.
-- Every resource table has account, region, id (its primary key) and tags, like
-- playback_key_pairs. References stay inside one account and region, so foreign keys are
-- (account, region, id); they are the last word on referential rules the store also checks.

CREATE TABLE playback_restriction_policies (
	account                   text COLLATE "C" NOT NULL,
	region                    text COLLATE "C" NOT NULL,
	id                        text COLLATE "C" NOT NULL,
	name                      text NOT NULL,
	allowed_countries         text[] NOT NULL DEFAULT '{}',
	allowed_origins           text[] NOT NULL DEFAULT '{}',
	strict_origin_enforcement boolean NOT NULL,
	tags                      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
	created_at                timestamptz(3) NOT NULL,
	PRIMARY KEY (account, region, id)
);

CREATE TABLE channels (
	account                        text COLLATE "C" NOT NULL,
	region                         text COLLATE "C" NOT NULL,
	id                             text COLLATE "C" NOT NULL,
	name                           text COLLATE "C" NOT NULL,
	latency_mode                   text NOT NULL,
	type                           text NOT NULL,
	preset                         text NOT NULL,
	authorized                     boolean NOT NULL,
	insecure_ingest                boolean NOT NULL,
	container_format               text NOT NULL,
	multitrack_enabled             boolean NOT NULL,
	multitrack_policy              text NOT NULL,
	multitrack_maximum_resolution  text NOT NULL,
	playback_restriction_policy_id text COLLATE "C", -- NULL: none
	srt_passphrase                 text NOT NULL,
	tags                           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
	created_at                     timestamptz(3) NOT NULL,
	PRIMARY KEY (account, region, id),
	CONSTRAINT channels_policy_fkey FOREIGN KEY (account, region, playback_restriction_policy_id)
		REFERENCES playback_restriction_policies (account, region, id)
);

-- ListChannels filters, and the "is this policy in use" check on delete.
CREATE INDEX channels_by_name ON channels (account, region, name, id);
CREATE INDEX channels_by_policy ON channels (account, region, playback_restriction_policy_id, id);

CREATE TABLE stream_keys (
	account    text COLLATE "C" NOT NULL,
	region     text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	channel_id text COLLATE "C" NOT NULL,
	value      text COLLATE "C" NOT NULL,
	tags       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
	created_at timestamptz(3) NOT NULL,
	PRIMARY KEY (account, region, id),
	CONSTRAINT stream_keys_value_key UNIQUE (value),
	CONSTRAINT stream_keys_channel_fkey FOREIGN KEY (account, region, channel_id)
		REFERENCES channels (account, region, id) ON DELETE CASCADE
);

CREATE INDEX stream_keys_by_channel ON stream_keys (account, region, channel_id, id);

-- Per channel and viewer, the highest revoked viewer-session version. seq is the change
-- counter value of the latest change that raised max_version: pollers page by it.
CREATE TABLE viewer_revocations (
	account     text COLLATE "C" NOT NULL,
	region      text COLLATE "C" NOT NULL,
	channel_id  text COLLATE "C" NOT NULL,
	viewer_id   text COLLATE "C" NOT NULL,
	max_version bigint NOT NULL CHECK (max_version >= 0),
	updated_at  timestamptz(3) NOT NULL,
	seq         bigint NOT NULL,
	PRIMARY KEY (account, region, channel_id, viewer_id),
	CONSTRAINT viewer_revocations_seq_key UNIQUE (seq),
	CONSTRAINT viewer_revocations_channel_fkey FOREIGN KEY (account, region, channel_id)
		REFERENCES channels (account, region, id) ON DELETE CASCADE
);

-- Monotonic counters. A counter lives apart from the rows it numbers so that deleting rows
-- never lets a number be handed out twice; its row lock is what orders the changes it
-- numbers across nodes (see RevokeViewerSessions).
CREATE TABLE counters (
	name  text COLLATE "C" PRIMARY KEY,
	value bigint NOT NULL
);

INSERT INTO counters (name, value) VALUES ('viewer_revocations', 0);
