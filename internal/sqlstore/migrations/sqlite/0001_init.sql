-- quill's first schema, SQLite dialect.
--
-- Timestamps are INTEGER unix microseconds, UTC: exact, cheap to compare
-- and to index, and the precision of blog.Cursor. The PostgreSQL set uses
-- bigint with the same meaning, so the Go code scans both alike.
--
-- Tables are STRICT so a value of the wrong type is an error, not a silent
-- conversion. AUTOINCREMENT keeps ids of deleted users and posts from being
-- handed out again (links and caches keep pointing at the right thing), as a
-- PostgreSQL identity column does.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL, -- NFC, as typed, for display
    username_key  TEXT    NOT NULL, -- blog.UsernameKey(username): RFC 8265 case-mapped
    email         TEXT    NOT NULL, -- lower-cased
    password_hash TEXT    NOT NULL,
    image_file    TEXT,             -- NULL: the default avatar
    post_count    INTEGER NOT NULL DEFAULT 0 CHECK (post_count >= 0), -- kept by triggers
    created_at    INTEGER NOT NULL
) STRICT;

-- Uniqueness lives here, on the normalised forms, so concurrent
-- registrations cannot both win. The store maps a violation of each to
-- blog.ErrUsernameTaken or blog.ErrEmailTaken by column.
CREATE UNIQUE INDEX users_username_key_key ON users (username_key);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE posts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    date_posted INTEGER NOT NULL
) STRICT;

-- Newest first is (date_posted DESC, id DESC): both indexes are scanned
-- backwards, for offset pages and for keyset pages after a cursor.
CREATE INDEX posts_date_posted_id_idx ON posts (date_posted, id);
CREATE INDEX posts_user_id_date_posted_id_idx ON posts (user_id, date_posted, id);

-- Post totals are counted as rows change, not with COUNT(*) per page:
-- users.post_count per author, post_total for everyone's posts.
CREATE TABLE post_total (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL CHECK (n >= 0)
) STRICT;

INSERT INTO post_total (id, n) VALUES (1, 0);

-- These also fire for the posts that ON DELETE CASCADE removes with their
-- author.
CREATE TRIGGER posts_count_insert AFTER INSERT ON posts
BEGIN
    UPDATE users SET post_count = post_count + 1 WHERE id = NEW.user_id;
    UPDATE post_total SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER posts_count_delete AFTER DELETE ON posts
BEGIN
    UPDATE users SET post_count = post_count - 1 WHERE id = OLD.user_id;
    UPDATE post_total SET n = n - 1 WHERE id = 1;
END;

CREATE TRIGGER posts_count_move AFTER UPDATE OF user_id ON posts
WHEN OLD.user_id <> NEW.user_id
BEGIN
    UPDATE users SET post_count = post_count - 1 WHERE id = OLD.user_id;
    UPDATE users SET post_count = post_count + 1 WHERE id = NEW.user_id;
END;

-- A session is one login. Every authenticated request looks one up by id
-- (the primary key: WITHOUT ROWID makes that a single b-tree search) joined
-- to its user. Refresh tokens are stored only as hashes; the previous hash
-- is kept to detect reuse of a rotated token.
CREATE TABLE sessions (
    id                TEXT    PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    user_agent        TEXT    NOT NULL DEFAULT '',
    ip                TEXT    NOT NULL DEFAULT '',
    refresh_hash      BLOB    NOT NULL,
    prev_refresh_hash BLOB,
    rotated_at        INTEGER
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX sessions_refresh_hash_key ON sessions (refresh_hash);
CREATE UNIQUE INDEX sessions_prev_refresh_hash_key ON sessions (prev_refresh_hash);
CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Profile pictures live in the database so every instance can serve them.
-- One per user; the name is random and is what users.image_file holds.
-- A rowid table, as SQLite recommends for large rows.
CREATE TABLE pictures (
    name       TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX pictures_user_id_key ON pictures (user_id);

-- Password reset tokens, stored only as hashes; single use.
CREATE TABLE password_resets (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);
CREATE INDEX password_resets_expires_at_idx ON password_resets (expires_at);

-- Consecutive failed logins per normalised login key (blog.LoginKey), known
-- account or not, so throttling is shared by every instance and does not
-- reveal which accounts exist.
CREATE TABLE login_failures (
    key             TEXT    PRIMARY KEY,
    failures        INTEGER NOT NULL CHECK (failures > 0),
    last_failure_at INTEGER NOT NULL,
    blocked_until   INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX login_failures_last_failure_at_idx ON login_failures (last_failure_at);
