-- Enclosures (podcast audio, video) of each article, as a JSON array of
-- {"url", "type", "length"}: an item has a few at most and they are only
-- ever read with their article, so a column serves where a child table
-- would need a join on every read and a second write on every poll.
ALTER TABLE articles ADD COLUMN enclosures TEXT NOT NULL DEFAULT '[]';
