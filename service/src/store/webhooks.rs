//! The webhooks' tables: the endpoints and the events each takes, the outbox of events
//! and their deliveries.
//!
//! [`insert_events`] runs inside the transaction of the change that caused the events;
//! the dispatcher claims due deliveries by moving their `next_ms` past the attempt (a
//! lease), with `FOR UPDATE SKIP LOCKED` on PostgreSQL so that replicas claiming at the
//! same moment take different rows instead of waiting for each other.

use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use super::{Kind, Store, StoreError};
use crate::webhooks::{Endpoint, Outgoing, parse_events};

/// A delivery's state.
pub(crate) const PENDING: &str = "pending";
/// Answered with a 2xx.
pub(crate) const DELIVERED: &str = "delivered";
/// Out of attempts, or its endpoint was removed: waits for a replay.
pub(crate) const DEAD: &str = "dead";

/// The code of a delivery whose endpoint is no longer configured.
pub(crate) const ENDPOINT_REMOVED: &str = "webhook.endpoint_removed";

/// A delivery the dispatcher claimed: what it sends, and where.
pub(crate) struct Claimed {
    pub(crate) id: i64,
    pub(crate) event_id: String,
    /// This attempt's number, from 1.
    pub(crate) attempt: i64,
    pub(crate) body: String,
    /// The endpoint, unless it was removed since.
    pub(crate) endpoint: Option<ClaimedEndpoint>,
}

/// The endpoint of a claimed delivery, as configured now.
pub(crate) struct ClaimedEndpoint {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) secret: String,
    /// Its own limit of attempts, if it set one.
    pub(crate) max_attempts: Option<i64>,
}

/// A delivery as `GET /v1/webhooks/deliveries` lists it, as its row reads
/// (`sqlx::FromRow`: columns by field name).
#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    pub(crate) id: i64,
    pub(crate) event_id: String,
    #[sqlx(rename = "type")]
    pub(crate) event_type: String,
    pub(crate) endpoint_id: String,
    pub(crate) state: String,
    pub(crate) attempts: i64,
    pub(crate) next_ms: i64,
    pub(crate) last_status: Option<i64>,
    pub(crate) last_error: Option<String>,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) delivered_ms: Option<i64>,
}

/// Writes `events` and a pending delivery of each to every endpoint that takes it, on
/// `conn` (inside the caller's transaction). An event no endpoint takes is not written;
/// nor is one whose `dedup` key is already stored.
pub(crate) async fn insert_events(conn: &mut AnyConnection, events: &[Outgoing]) -> Result<bool, StoreError> {
    let mut any = false;
    for e in events {
        let written = sqlx::query(
            "INSERT INTO webhook_events (id, type, dedup, created_ms, body) \
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE event = $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&e.id)
        .bind(e.kind.name())
        .bind(e.dedup.as_deref())
        .bind(e.created_ms)
        .bind(&e.body)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if written == 1 {
            sqlx::query(
                "INSERT INTO webhook_deliveries \
                 (event_id, endpoint_id, state, attempts, next_ms, created_ms, updated_ms) \
                 SELECT $1, endpoint_id, 'pending', 0, $2, $2, $2 FROM webhook_subscriptions WHERE event = $3",
            )
            .bind(&e.id)
            .bind(e.created_ms)
            .bind(e.kind.name())
            .execute(&mut *conn)
            .await?;
            any = true;
        }
    }
    Ok(any)
}

const DELIVERY_COLUMNS: &str = "d.id AS id, d.event_id AS event_id, e.type AS type, d.endpoint_id AS endpoint_id, \
     d.state AS state, d.attempts AS attempts, d.next_ms AS next_ms, d.last_status AS last_status, \
     d.last_error AS last_error, d.created_ms AS created_ms, d.updated_ms AS updated_ms, \
     d.delivered_ms AS delivered_ms";

impl Store {
    /// Writes `events` (and their deliveries) in a transaction of their own: for what is
    /// found rather than changed (an expired request the sweep came across). `true` when
    /// any was written.
    pub(crate) async fn record_events(&self, events: &[Outgoing]) -> Result<bool, StoreError> {
        let mut tx = self.write.begin().await?;
        let any = insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(any)
    }

    /// The configured endpoints, in the order they were given.
    pub(crate) async fn webhooks(&self) -> Result<Vec<Endpoint>, StoreError> {
        let rows =
            sqlx::query("SELECT id, url, secret, max_attempts FROM webhook_endpoints ORDER BY position")
                .fetch_all(&self.read)
                .await?;
        let subscriptions =
            sqlx::query("SELECT endpoint_id, event FROM webhook_subscriptions").fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let names = subscriptions
                    .iter()
                    .filter(|s| s.try_get::<String, _>("endpoint_id").is_ok_and(|e| e == id))
                    .map(|s| s.try_get("event"))
                    .collect::<Result<Vec<String>, _>>()?;
                let max_attempts: Option<i64> = r.try_get("max_attempts")?;
                Ok(Endpoint {
                    url: r.try_get("url")?,
                    secret: r.try_get("secret")?,
                    events: parse_events(&names),
                    max_attempts: max_attempts.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0),
                    id,
                })
            })
            .collect()
    }

    /// Replaces the endpoints. Pending deliveries of an endpoint kept by id go to its new
    /// URL with its new secret; those of a removed one are `dead` (replayable once an
    /// endpoint of that id is back).
    pub(crate) async fn put_webhooks(&self, endpoints: &[Endpoint], now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM webhook_subscriptions").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM webhook_endpoints").execute(&mut *tx).await?;
        for (position, e) in endpoints.iter().enumerate() {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, position, url, secret, max_attempts, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&e.id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(&e.url)
            .bind(&e.secret)
            // 0: the service's default, which may change from start to start.
            .bind(i64::from(e.max_attempts.unwrap_or(0)))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            for kind in &e.events {
                sqlx::query("INSERT INTO webhook_subscriptions (endpoint_id, event) VALUES ($1, $2)")
                    .bind(&e.id)
                    .bind(kind.name())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'dead', last_error = $1, updated_ms = $2 \
             WHERE state = 'pending' AND NOT EXISTS \
             (SELECT 1 FROM webhook_endpoints w WHERE w.id = webhook_deliveries.endpoint_id)",
        )
        .bind(ENDPOINT_REMOVED)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` deliveries due at `now_ms`: each one's attempt is counted and
    /// its `next_ms` moved to `lease_until`, so no other replica (nor this one) takes it
    /// before then. A replica that dies mid-attempt leaves it due again after the lease.
    pub(crate) async fn claim(
        &self,
        now_ms: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let lock = match self.kind {
            Kind::Postgres => " FOR UPDATE SKIP LOCKED",
            Kind::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET next_ms = $1, attempts = attempts + 1, updated_ms = $2 \
             WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_ms <= $2 \
             ORDER BY next_ms, id LIMIT $3{lock}) RETURNING id, event_id, endpoint_id, attempts"
        );
        let claimed = sqlx::query(AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&self.write)
            .await?;
        let mut out = Vec::with_capacity(claimed.len());
        for c in &claimed {
            let id: i64 = c.try_get("id")?;
            let event_id: String = c.try_get("event_id")?;
            let endpoint_id: String = c.try_get("endpoint_id")?;
            let body: String = sqlx::query("SELECT body FROM webhook_events WHERE id = $1")
                .bind(&event_id)
                .fetch_one(&self.read)
                .await?
                .try_get("body")?;
            let endpoint =
                sqlx::query("SELECT url, secret, max_attempts FROM webhook_endpoints WHERE id = $1")
                    .bind(&endpoint_id)
                    .fetch_optional(&self.read)
                    .await?
                    .map(|r| -> Result<ClaimedEndpoint, StoreError> {
                        let max: i64 = r.try_get("max_attempts")?;
                        Ok(ClaimedEndpoint {
                            id: endpoint_id.clone(),
                            url: r.try_get("url")?,
                            secret: r.try_get("secret")?,
                            max_attempts: (max > 0).then_some(max),
                        })
                    })
                    .transpose()?;
            out.push(Claimed { id, event_id, attempt: c.try_get("attempts")?, body, endpoint });
        }
        Ok(out)
    }

    /// A claimed delivery was answered with a 2xx `status`.
    pub(crate) async fn delivered(&self, id: i64, status: u16, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'delivered', last_status = $2, last_error = NULL, \
             updated_ms = $3, delivered_ms = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(i64::from(status))
        .bind(now_ms)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A claimed delivery's attempt failed: due again at `retry_at`, or `dead` (`None`).
    pub(crate) async fn attempt_failed(
        &self,
        id: i64,
        retry_at: Option<i64>,
        status: Option<u16>,
        code: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET state = $2, next_ms = $3, last_status = $4, last_error = $5, \
             updated_ms = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(if retry_at.is_some() { PENDING } else { DEAD })
        .bind(retry_at.unwrap_or(now_ms))
        .bind(status.map(i64::from))
        .bind(code)
        .bind(now_ms)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Deliveries, newest first: all, or those in `state`, or of one endpoint.
    pub(crate) async fn deliveries(
        &self,
        state: Option<&str>,
        endpoint: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
             WHERE ($1 IS NULL OR d.state = $1) AND ($2 IS NULL OR d.endpoint_id = $2) \
             ORDER BY d.id DESC LIMIT $3"
        );
        Ok(sqlx::query_as::<_, DeliveryRow>(AssertSqlSafe(sql))
            .bind(state)
            .bind(endpoint)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// One delivery.
    pub(crate) async fn delivery(&self, id: i64) -> Result<Option<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
             WHERE d.id = $1"
        );
        Ok(sqlx::query_as::<_, DeliveryRow>(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.write).await?)
    }

    /// Makes a delivered or dead delivery pending again, due now, with its attempts
    /// counted afresh; `false` when it is pending already (or does not exist).
    pub(crate) async fn replay(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_ms = $2, updated_ms = $2 \
             WHERE id = $1 AND state <> 'pending'",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// The pending approval requests, oldest first (user, device, when requested): what
    /// the sweep checks for expiry.
    pub(crate) async fn pending_requests(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, device_id, requested_ms FROM pending ORDER BY requested_ms, user_id, device_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("user_id")?, r.try_get("device_id")?, r.try_get("requested_ms")?)))
            .collect()
    }
}
