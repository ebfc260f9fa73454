-- Newest articles of one source (per-source feeds, `items --source`): an
-- index range scan with a limit instead of reading every article of the
-- source and sorting them.
CREATE INDEX articles_source_published ON articles (source, published, id);
