-- Full-text search of posts (Store.SearchPosts): an FTS5 index of each
-- post's title and content, kept by the triggers below in the transaction
-- that writes the post, and filled here for the posts there are.
--
-- It is an external-content table: the text stays in posts, the index
-- holds only the words, keyed by the post's id (rowid). unicode61 splits
-- words at anything but letters, digits and marks, folds case, and with
-- remove_diacritics 2 drops accents (café is cafe, Ångström angstrom).
-- Per-row sizes (columnsize, the default) keep bm25 from re-reading the
-- text it ranks.
CREATE VIRTUAL TABLE posts_fts USING fts5(
    title,
    content,
    content = 'posts',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The delete command takes the words the post was indexed with: the old
-- values. These also fire for the posts that ON DELETE CASCADE removes
-- with their author.
CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO posts_fts (rowid, title, content) VALUES (NEW.id, NEW.title, NEW.content);
END;

CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts
BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, title, content) VALUES ('delete', OLD.id, OLD.title, OLD.content);
END;

CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, content ON posts
WHEN OLD.title IS NOT NEW.title OR OLD.content IS NOT NEW.content
BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, title, content) VALUES ('delete', OLD.id, OLD.title, OLD.content);
    INSERT INTO posts_fts (rowid, title, content) VALUES (NEW.id, NEW.title, NEW.content);
END;

INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
