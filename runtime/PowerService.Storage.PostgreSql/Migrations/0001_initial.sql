-- Payloads of the journal and outbox are text, not jsonb: they round-trip byte for byte, exactly as on SQLite,
-- and cost no JSON parsing on the write path. Queries that need JSON can cast (payload::jsonb).

-- fillfactor leaves room on each page so a state update can stay on its page (HOT) without touching the index.
CREATE TABLE grain_state (
    grain_type  text        NOT NULL,
    grain_key   text        NOT NULL,
    version     bigint      NOT NULL,
    payload     bytea       NOT NULL,
    modified_at timestamptz NOT NULL,
    PRIMARY KEY (grain_type, grain_key)
) WITH (fillfactor = 80);

CREATE TABLE reminders (
    grain_type text   NOT NULL,
    grain_key  text   NOT NULL,
    name       text   NOT NULL,
    due_at_ms  bigint NOT NULL,
    period_ms  bigint NOT NULL,
    partition  int    NOT NULL,
    PRIMARY KEY (grain_type, grain_key, name)
);

CREATE INDEX reminders_partition_due ON reminders (partition, due_at_ms);

CREATE TABLE journal (
    sequence    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id   text        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor       text,
    location    text,
    payload     text        NOT NULL
);

CREATE INDEX journal_stream ON journal (stream_id, sequence);

CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key      text        NOT NULL UNIQUE,
    channel        text        NOT NULL,
    recipient      text        NOT NULL,
    payload        text        NOT NULL,
    created_at     timestamptz NOT NULL,
    lease_until_ms bigint      NOT NULL DEFAULT 0,
    attempts       int         NOT NULL DEFAULT 0,
    delivered_at   timestamptz
);

-- Claims scan only what is still to deliver, oldest first.
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL;
