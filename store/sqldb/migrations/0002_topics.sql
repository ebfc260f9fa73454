-- Topics: the configured topics (story_id '') and the automatic stories
-- (story_id is the clusterer's id, which never changes; slug is derived
-- from it and never changes either). kind: configured or story. Times are
-- unix milliseconds UTC.
CREATE TABLE topics (
    slug     TEXT PRIMARY KEY,
    story_id TEXT NOT NULL DEFAULT '',
    label    TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL,
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL
);

-- Merges name stories by id.
CREATE INDEX topics_story_id ON topics (story_id);

-- Which article is in which topic: any number of configured topics, at
-- most one story.
CREATE TABLE article_topics (
    article_id TEXT NOT NULL REFERENCES articles (id),
    slug       TEXT NOT NULL REFERENCES topics (slug),
    PRIMARY KEY (article_id, slug)
);

CREATE INDEX article_topics_slug ON article_topics (slug);

-- 0 until the article's topics are assigned, and again after an edit, so
-- that the assigner takes each article once, in (first_seen, id) order.
ALTER TABLE articles ADD COLUMN topics_done INTEGER NOT NULL DEFAULT 0;

CREATE INDEX articles_topics_done ON articles (topics_done, first_seen);

-- Named counters shared by every replica. topics_epoch goes up with every
-- saved batch of topic assignments, so that a replica can tell whether its
-- in-memory clusterer still matches the database.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL DEFAULT 0
);

INSERT INTO counters (name, value) VALUES ('topics_epoch', 0);

-- Named leases: a job that must run on one replica at a time holds its
-- lock until "until" (unix milliseconds) and extends it while it works.
CREATE TABLE locks (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until BIGINT NOT NULL
);
