-- Written for SQLite; PostgreSQL reads it with its own spelling of the auto-numbered
-- keys (see `migrator` in store.rs).
-- Each user's groups as last seen and stored state; `version` guards every write
-- (compare-and-set), so two logins of one user never both take the last free slot.
CREATE TABLE users (
    user_id    TEXT PRIMARY KEY NOT NULL,
    groups     TEXT NOT NULL,
    state      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

-- The admin's inbox: every pending approval request, kept beside the state it is part of.
CREATE TABLE pending (
    user_id      TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    requested_ms BIGINT NOT NULL,
    device       TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);
CREATE INDEX pending_by_age ON pending (requested_ms, user_id, device_id);

-- The decision log: one row per answered decision, in the transaction that stored its state.
CREATE TABLE decisions (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL,
    time_ms        BIGINT NOT NULL,
    user_id        TEXT NOT NULL,
    event          TEXT NOT NULL,
    outcome        TEXT,
    shadow_digest  TEXT,
    shadow_outcome TEXT,
    actor          TEXT,
    record         TEXT NOT NULL
);
CREATE INDEX decisions_by_user ON decisions (user_id, seq);
CREATE INDEX decisions_by_shadow ON decisions (shadow_digest, seq);

-- Every policy version, live and shadow, with its time; a shadow row without a document
-- removes the shadow.
CREATE TABLE policies (
    version    INTEGER PRIMARY KEY AUTOINCREMENT,
    role       TEXT NOT NULL,
    document   TEXT,
    digest     TEXT,
    created_ms BIGINT NOT NULL,
    actor      TEXT
);
