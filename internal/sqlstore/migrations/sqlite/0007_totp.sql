-- Two-factor login with an authenticator app (TOTP, RFC 6238).
--
-- totp_factors holds an account's one TOTP factor. secret is sealed with
-- a key derived from SECRET_KEY and bound to user_id (package auth): a
-- copy of the database alone holds no usable secret, and a row moved to
-- another account does not open. confirmed_at is NULL while the
-- enrolment waits for its first code; logins ask for a code only once it
-- is set. last_step is the time step of the last code accepted: a login
-- moves it forward with a compare-and-set, so a code works once even
-- when two logins present it at the same moment.
CREATE TABLE totp_factors (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Recovery codes stand in for the app, once each: using one deletes it.
-- Only their SHA-256 is kept (auth.HashRecoveryCode).
CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

-- A login in two steps (the pages: the password, then the code) is
-- carried between them by a signed challenge that lasts a few minutes.
-- The id of each one used is kept until it expires, so it works once on
-- every instance.
CREATE TABLE login_challenges_used (
    id         BLOB    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX login_challenges_used_expires_at_idx ON login_challenges_used (expires_at);
