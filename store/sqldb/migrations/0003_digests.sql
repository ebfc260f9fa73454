-- Digest deliveries: one row per (digest, recipient, period), planned
-- before it is sent and finished after; the primary key is what makes a
-- digest go out at most once per period. Times are unix milliseconds UTC.
-- state: pending, sending, retry, sent, failed, empty or cancelled.
CREATE TABLE digest_deliveries (
    digest       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    period       BIGINT NOT NULL,
    seen_since   BIGINT NOT NULL,
    seen_before  BIGINT NOT NULL,
    created      BIGINT NOT NULL,
    state        TEXT NOT NULL,
    articles     TEXT NOT NULL DEFAULT '[]',
    layout       TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    owner        TEXT,
    lease_until  BIGINT,
    next_attempt BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    sent_at      BIGINT,
    PRIMARY KEY (digest, recipient, period)
);

-- ClaimDelivery: the unfinished deliveries of a digest.
CREATE INDEX digest_deliveries_state ON digest_deliveries (digest, state, period);

-- Addresses that unsubscribed from a digest.
CREATE TABLE digest_unsubscriptions (
    digest  TEXT NOT NULL,
    address TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (digest, address)
);

-- Secrets generated once and shared by every replica: the key that signs
-- unsubscribe links.
CREATE TABLE digest_secrets (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL,
    created BIGINT NOT NULL
);
