-- When a post's title or content last changed: see
-- migrations/sqlite/0006_post_updated_at.sql. Adding a column that may be
-- NULL rewrites no row.
ALTER TABLE posts ADD COLUMN updated_at bigint;
