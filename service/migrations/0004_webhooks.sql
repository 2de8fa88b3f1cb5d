-- Webhooks (issue 27): the endpoints an admin configured, the events each takes, and the
-- transactional outbox. An event row and its deliveries are written in the transaction
-- of the change that caused them, so a committed change always has its notification and
-- a rolled-back one never does; the dispatcher then delivers each at least once.
CREATE TABLE webhook_endpoints (
    id           TEXT PRIMARY KEY NOT NULL,
    position     BIGINT NOT NULL,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    max_attempts BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL
);

-- One row per (endpoint, event name) it takes: a change fans out to its deliveries with
-- one INSERT ... SELECT, in its own transaction.
CREATE TABLE webhook_subscriptions (
    endpoint_id TEXT NOT NULL,
    event       TEXT NOT NULL,
    PRIMARY KEY (event, endpoint_id)
);

-- The events, as CloudEvents documents. `dedup` keeps a notification that may be found
-- twice (an expired request, seen by a login and by the sweep) to one row.
CREATE TABLE webhook_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    dedup      TEXT UNIQUE,
    created_ms BIGINT NOT NULL,
    body       TEXT NOT NULL
);

-- One delivery per (event, endpoint): `pending` until a 2xx (`delivered`) or its
-- endpoint's last attempt (`dead`). A replica claims a due delivery by moving `next_ms`
-- past the attempt's time (a lease): another replica does not take it meanwhile, and
-- after a crash it is due again once the lease runs out.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL,
    endpoint_id  TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    next_ms      BIGINT NOT NULL,
    last_status  BIGINT,
    last_error   TEXT,
    created_ms   BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    delivered_ms BIGINT,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_ms);
