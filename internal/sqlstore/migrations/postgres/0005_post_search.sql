-- Full-text search of posts (Store.SearchPosts), as migrations/sqlite/0005
-- has it with FTS5: every post's words, kept by a trigger in the
-- transaction that writes the post and filled here for the posts there
-- are, under a GIN index.
--
-- Words are read by the "simple" configuration (the default parser, case
-- folded, no stemming and no stop words, so every language is searched
-- alike) after the unaccent extension has removed diacritics (café is
-- cafe, Ångström angstrom; unaccent also makes ø o, ł l, ß ss and æ ae,
-- which SQLite's tokenizer leaves as they are).

-- unaccent is part of PostgreSQL (contrib) and trusted since 13: an owner
-- of the database may create it. Extensions are per database, so it may
-- be there already, in another schema: search_fold below names its
-- schema.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent;
EXCEPTION
    WHEN unique_violation OR duplicate_object THEN
        NULL; -- a migration of another schema created it meanwhile
    WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE EXCEPTION 'quill needs the unaccent extension for search, and cannot create it: %', SQLERRM
            USING HINT = 'Have a superuser run CREATE EXTENSION unaccent in this database (Debian ships it with postgresql), or grant quill''s role CREATE on it, then start quill again.';
END
$$;

-- search_fold is text as search reads it: without diacritics.
DO $$
DECLARE
    ext text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
                 WHERE e.extname = 'unaccent');
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION search_fold(t text) RETURNS text
        LANGUAGE sql STABLE STRICT PARALLEL SAFE
        AS $body$ SELECT %I.unaccent(%L::regdictionary, t) $body$
    $f$, ext, quote_ident(ext) || '.unaccent');
END
$$;

-- search holds the post's words and their positions, the title's with
-- weight A and the content's with B. A placeholder word between the two,
-- deleted again, leaves a gap in the positions, so no phrase runs from
-- the end of the title into the content (as none does on SQLite, where
-- they are columns).
ALTER TABLE posts ADD COLUMN search tsvector;

CREATE FUNCTION posts_search_vector(title text, content text) RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT ts_delete(
        setweight(to_tsvector('simple', search_fold(title)), 'A')
        || E'''\x01'':1'::tsvector
        || setweight(to_tsvector('simple', search_fold(content)), 'B'),
        E'\x01')
$$;

CREATE FUNCTION posts_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := posts_search_vector(NEW.title, NEW.content);
    RETURN NEW;
END
$$;

CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE OF title, content ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_update();

UPDATE posts SET search = posts_search_vector(title, content);
ALTER TABLE posts ALTER COLUMN search SET NOT NULL;

CREATE INDEX posts_search_idx ON posts USING gin (search);

-- search_query is the tsquery of a parsed search (blog.Query, rendered by
-- sqlstore/search.go): term i is texts[i], a word or a phrase as the user
-- typed it, folded as posts are and quoted here, so that nothing the user
-- typed is read as tsquery syntax; prefixes[i] makes its last word a
-- prefix, excludes[i] turns it into "and not". With title, it is instead
-- the terms that are not excluded, each restricted to the title, joined
-- by "or": whether a query word is in the title. A term that must match
-- but has no word PostgreSQL indexes makes the query NULL, which matches
-- nothing, as on SQLite; one that must not match is then left out.
CREATE FUNCTION search_query(texts text[], prefixes boolean[], excludes boolean[], title boolean)
RETURNS tsquery LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    q tsquery;
    term tsquery;
    marks text;
BEGIN
    FOR i IN 1 .. coalesce(array_length(texts, 1), 0) LOOP
        CONTINUE WHEN title AND excludes[i];
        marks := CASE WHEN prefixes[i] THEN '*' ELSE '' END || CASE WHEN title THEN 'A' ELSE '' END;
        IF marks <> '' THEN
            marks := ':' || marks;
        END IF;
        term := to_tsquery('simple',
            '''' || replace(replace(search_fold(texts[i]), '\', '\\'), '''', '''''') || '''' || marks);
        IF numnode(term) = 0 THEN
            CONTINUE WHEN excludes[i];
            RETURN NULL;
        END IF;
        IF excludes[i] THEN
            term := !! term;
        END IF;
        IF q IS NULL THEN
            q := term;
        ELSIF title THEN
            q := q || term;
        ELSE
            q := q && term;
        END IF;
    END LOOP;
    RETURN q;
END
$$;
