-- Undated articles that retention deleted, by id: their feed may list them
-- still, and with no date of their own SavePoll could not tell them from
-- new ones. A row is an id and a time; such feeds are few.
CREATE TABLE retired_articles (
    id      TEXT PRIMARY KEY,
    retired BIGINT NOT NULL
);

-- Retention: the finished deliveries of one recipient by period.
CREATE INDEX digest_deliveries_recipient ON digest_deliveries (digest, recipient, period);
