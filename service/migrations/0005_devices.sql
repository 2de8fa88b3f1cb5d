-- The device inventory: one row per registered device, rewritten in the transaction that
-- changes its user's devices, so that the admin lists, filters and exports every device
-- without decoding every user's state. `users.state` stays the truth; this is its index.
-- Ids and labels compare byte by byte on both databases (`COLLATE BINARY` is SQLite's
-- name; PostgreSQL reads it as `COLLATE "C"`, see `migrator` in store/mod.rs), so that a
-- prefix is a range of an index and a page's order is the same on both.
CREATE TABLE devices (
    user_id        TEXT COLLATE BINARY NOT NULL,
    device_id      TEXT COLLATE BINARY NOT NULL,
    registered_ms  BIGINT NOT NULL,
    os_type        TEXT NOT NULL,
    model          TEXT COLLATE BINARY,
    name           TEXT COLLATE BINARY,
    enrolled       BIGINT NOT NULL,
    noncompliant   BIGINT NOT NULL,
    device         TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);
CREATE INDEX devices_by_registration ON devices (registered_ms, user_id, device_id);
CREATE INDEX devices_by_id ON devices (device_id);
CREATE INDEX devices_by_name ON devices (name);
CREATE INDEX devices_by_model ON devices (model, registered_ms);
-- The few devices in grace, in the list's order, without walking the others.
CREATE INDEX devices_by_noncompliance ON devices (noncompliant, registered_ms, user_id, device_id);

-- Work left by a migration for the service to do in Rust when it starts: here, filling
-- `devices` from every user's stored state (the state is JSON, read the same way on both
-- databases only by the engine's decoder). The row goes in the last batch's transaction.
CREATE TABLE backfills (
    name TEXT PRIMARY KEY NOT NULL
);
INSERT INTO backfills (name) VALUES ('devices');

-- The list of users by id (`GET /v1/users`), in the inventory's byte order: on SQLite the
-- primary key's order already; PostgreSQL's key follows the database's collation.
CREATE INDEX users_by_id_bytes ON users (user_id COLLATE BINARY);
