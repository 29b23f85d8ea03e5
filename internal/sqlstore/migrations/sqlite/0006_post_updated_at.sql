-- When a post's title or content last changed: the feeds' <updated> and
-- the sitemap's <lastmod>. NULL for a post not changed since it was
-- posted, which the store reads as date_posted, so no row is rewritten
-- here however many posts there are.
ALTER TABLE posts ADD COLUMN updated_at INTEGER;
