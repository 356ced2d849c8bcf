-- Viewer-session revocations outlive their channel: a session URL of a deleted channel, or
-- a token for it, must never play again, on this gate or one started later. Channel ids
-- are random and never reused (as in IVS), so a kept revocation cannot reach a new
-- channel. RevokeViewerSessions still holds the channel against deletion (FOR KEY SHARE).
ALTER TABLE viewer_revocations DROP CONSTRAINT viewer_revocations_channel_fkey;
