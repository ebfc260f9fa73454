-- A change stamp of each source's articles: SavePoll adds one in the
-- transaction that inserts or edits any of the source's articles, so that
-- publish can tell, with one read of the sources, which per-source feeds
-- need their articles read again.
ALTER TABLE sources ADD COLUMN articles_version BIGINT NOT NULL DEFAULT 0;
