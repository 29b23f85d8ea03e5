-- A username whose skeleton an account has already is taken. The store
-- maps a violation to blog.ErrUsernameTaken.
CREATE UNIQUE INDEX users_username_skeleton_key ON users (username_skeleton);
