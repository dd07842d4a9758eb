-- Write-ahead logs: records a silo acknowledged before the grains they reach stored them (AMI meter events). Appended
-- in batches, read only after a crash, deleted once their effects are stored.
CREATE TABLE logs (
    sequence    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    log         text        NOT NULL,
    payload     bytea       NOT NULL,
    appended_at timestamptz NOT NULL
);

CREATE INDEX logs_log ON logs (log, sequence);
