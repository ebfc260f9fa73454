-- Fixed-length keys (see 0006_keys.postgres.sql). SQLite has no index
-- entry limit, so the (source, identity) unique index of 0001 stays:
-- dropping it would mean rebuilding the articles table. No query looks
-- articles up by story_key, so its index goes.
DROP INDEX articles_story_key;
