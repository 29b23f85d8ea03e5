-- Verified email addresses: see
-- migrations/sqlite/0009_email_verification.sql.
ALTER TABLE users ADD COLUMN email_verified_at bigint;
ALTER TABLE users ADD COLUMN pending_email text COLLATE "C";

CREATE TABLE email_verifications (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea  NOT NULL,
    email      text   COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);

CREATE UNIQUE INDEX email_verifications_token_hash_key ON email_verifications (token_hash);
CREATE INDEX email_verifications_expires_at_idx ON email_verifications (expires_at);
