-- Verified email addresses. email_verified_at is when the account's
-- current address was confirmed by a mailed link, NULL while it is not:
-- every account made before this migration starts unverified. A new
-- address clears it (Tx.UpdateProfile). pending_email is an address the
-- user asked to change to while verified addresses are required: it
-- takes email's place once confirmed. Adding columns that may be NULL
-- rewrites no row.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
ALTER TABLE users ADD COLUMN pending_email TEXT;

-- The live verification link of each account, at most one: a new one
-- replaces it. The token is stored only as its SHA-256 and works once,
-- for the address it was sent to (email) and no other. created_at is
-- also when the account was last sent a link, which bounds how often it
-- may ask for another.
CREATE TABLE email_verifications (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB    NOT NULL,
    email      TEXT    NOT NULL, -- lower-cased
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX email_verifications_token_hash_key ON email_verifications (token_hash);
CREATE INDEX email_verifications_expires_at_idx ON email_verifications (expires_at);
