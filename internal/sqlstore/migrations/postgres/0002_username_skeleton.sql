-- Usernames that look alike (blog.UsernameSkeleton: аdmin with a Cyrillic
-- а, ΑDMIN with a Greek Α, ᴀdmin and admin) are one name. The skeleton is
-- computed in Go: after this statement, the migration's Go step fills it
-- in for every account, the first of each look-alike group (by id)
-- keeping it, the others NULL until they are renamed. The next migration
-- puts it under a unique index.
ALTER TABLE users ADD COLUMN username_skeleton text COLLATE "C";
