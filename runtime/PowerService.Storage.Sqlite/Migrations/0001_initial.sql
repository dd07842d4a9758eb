-- Timestamps are INTEGER unix microseconds (UTC), the precision PostgreSQL's timestamptz keeps,
-- so both providers round-trip the same values.

CREATE TABLE grain_state (
    grain_type  TEXT    NOT NULL,
    grain_key   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    payload     BLOB    NOT NULL,
    modified_at INTEGER NOT NULL,
    PRIMARY KEY (grain_type, grain_key)
);

CREATE TABLE reminders (
    grain_type TEXT    NOT NULL,
    grain_key  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    due_at_ms  INTEGER NOT NULL,
    period_ms  INTEGER NOT NULL,
    partition  INTEGER NOT NULL,
    PRIMARY KEY (grain_type, grain_key, name)
);

CREATE INDEX reminders_partition_due ON reminders (partition, due_at_ms);

-- AUTOINCREMENT: sequence numbers are never reused, so readers paging by sequence never miss or repeat one.
CREATE TABLE journal (
    sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    actor       TEXT,
    location    TEXT,
    payload     TEXT    NOT NULL
);

CREATE INDEX journal_stream ON journal (stream_id, sequence);

CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key      TEXT    NOT NULL UNIQUE,
    channel        TEXT    NOT NULL,
    recipient      TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    delivered_at   INTEGER
);

-- Claims scan only what is still to deliver, oldest first.
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL;
