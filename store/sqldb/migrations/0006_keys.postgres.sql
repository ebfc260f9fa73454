-- Fixed-length keys. A btree entry holds at most ~2.7 KB, so indexing a
-- feed's guid or link as text made one long guid fail every poll of its
-- source. Uniqueness of (source, identity) is kept over md5(identity),
-- the one immutable digest of text PostgreSQL has (a crafted collision
-- can only keep one of its own source's items out); the id primary key is
-- a SHA-256 of the same pair already. No query looks articles up by
-- story_key, so its index goes rather than being hashed.
ALTER TABLE articles DROP CONSTRAINT articles_source_identity_key;
CREATE UNIQUE INDEX articles_source_identity ON articles (source, md5(identity));
DROP INDEX articles_story_key;
