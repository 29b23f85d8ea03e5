-- Two-factor login with an authenticator app (TOTP, RFC 6238): see
-- migrations/sqlite/0007_totp.sql.
CREATE TABLE totp_factors (
    user_id      bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       bytea  NOT NULL,
    created_at   bigint NOT NULL,
    confirmed_at bigint,
    last_step    bigint NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea  NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE login_challenges_used (
    id         bytea  PRIMARY KEY,
    expires_at bigint NOT NULL
);

CREATE INDEX login_challenges_used_expires_at_idx ON login_challenges_used (expires_at);
