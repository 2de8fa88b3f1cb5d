-- One row that `/healthz` and `/readyz` update: proof that the database takes and commits
-- a write, through the same connections as a login's.
CREATE TABLE health (
    id         INTEGER PRIMARY KEY NOT NULL,
    checked_ms BIGINT NOT NULL
);
INSERT INTO health (id, checked_ms) VALUES (1, 0);
