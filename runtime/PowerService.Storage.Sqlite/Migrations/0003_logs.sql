-- Write-ahead logs: records a silo acknowledged before the grains they reach stored them (AMI meter events). Appended
-- in batches, read only after a crash, deleted once their effects are stored.
CREATE TABLE logs (
    sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
    log         TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    appended_at INTEGER NOT NULL
);

CREATE INDEX logs_log ON logs (log, sequence);
