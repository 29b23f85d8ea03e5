-- Passkeys (WebAuthn credentials): a way to log in instead of a password.
--
-- passkey_handles gives each account that has ever begun adding a passkey
-- a user handle: random bytes its authenticators keep with every passkey
-- of the account and return at login, so a discoverable login finds the
-- account. It is never the account's id or name.
CREATE TABLE passkey_handles (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  BLOB    NOT NULL
) STRICT;

CREATE UNIQUE INDEX passkey_handles_handle_key ON passkey_handles (handle);

-- One row per passkey: its credential id and public key (COSE_Key), what
-- the owner calls it, the authenticator's model (AAGUID), the signature
-- counter and the flags of its last use, and when it was added and last
-- used (NULL: never). A credential id is one passkey's, whoever holds it.
CREATE TABLE passkeys (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id      BLOB    NOT NULL,
    public_key         BLOB    NOT NULL,
    name               TEXT    NOT NULL,
    aaguid             BLOB    NOT NULL,
    sign_count         INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    flags              INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 255),
    transports         TEXT    NOT NULL DEFAULT '', -- comma-separated, as the browser reported them
    attestation_format TEXT    NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER
) STRICT;

CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);
CREATE INDEX passkeys_user_id_idx ON passkeys (user_id, id);

-- The state of a ceremony between its two steps, kept here so the second
-- may reach any instance: go-webauthn's session data (the challenge
-- above all) as JSON, whose it is (a registration's user and the session
-- that began it; for a login, the account named, or none for a
-- discoverable login), and when it expires. Finishing takes the row
-- away, so a ceremony is used once. Logging out, or deleting the
-- account, ends the ceremonies begun by it.
CREATE TABLE passkey_ceremonies (
    id         TEXT    PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('register', 'login')),
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT    REFERENCES sessions (id) ON DELETE CASCADE,
    data       BLOB    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX passkey_ceremonies_expires_at_idx ON passkey_ceremonies (expires_at);
CREATE INDEX passkey_ceremonies_user_id_idx ON passkey_ceremonies (user_id);
CREATE INDEX passkey_ceremonies_session_id_idx ON passkey_ceremonies (session_id);
