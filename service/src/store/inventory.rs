//! The device inventory (`devices`) and the list of users: rows kept beside each user's
//! state, read a page at a time by keyset (the last row's sort key, never an offset), so a
//! page costs the same at the millionth row and a device written meanwhile neither repeats
//! nor skips a row of the pages after it.
//!
//! Prefixes are ranges of an index (`col >= prefix AND col < successor(prefix)`), compared
//! byte by byte on both databases (the migration's `COLLATE BINARY`).

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Row as _};

use mdm_engine::{Registered, UserState};

use super::{Kind, ROWS_PER_INSERT, Store, StoreError, values_sql};

/// Under this many devices kept by its prefixes (`model`, `q`), a page reads them through
/// the prefixes' indexes and sorts them; from it on, it walks the list's order and filters
/// (then a page reads about `limit` / share rows). Neither database's planner tells the two
/// apart on its own: SQLite took the prefix and sorted 500,000 rows for `model=Pix` (0.9 s
/// at a million devices).
const SELECTIVE: i64 = 2000;

/// The most users one backfill transaction reads.
const BACKFILL_BATCH: i64 = 2000;

/// A registered device as its inventory row holds it.
pub(crate) struct DeviceRow {
    pub(crate) user: String,
    pub(crate) device_id: String,
    pub(crate) registered_ms: i64,
    pub(crate) os_type: &'static str,
    pub(crate) model: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) enrolled: bool,
    pub(crate) noncompliant: bool,
    /// The device as the state stores it (JSON).
    pub(crate) device: String,
}

impl DeviceRow {
    fn of(user: &str, d: &Registered) -> Result<Self, StoreError> {
        Ok(DeviceRow {
            user: user.to_string(),
            device_id: d.device.device_id.as_str().to_string(),
            registered_ms: d.registered_at.as_millis(),
            os_type: d.device.os_type.as_str(),
            model: d.device.model.clone(),
            name: d.device.name.clone(),
            enrolled: d.enrollment.is_some(),
            noncompliant: d.noncompliant_since.is_some(),
            device: serde_json::to_string(d)
                .map_err(|e| StoreError::corrupt(format!("device of `{user}`"), e))?,
        })
    }
}

/// Every registered device of `user` in `state`, as inventory rows.
pub(crate) fn device_rows(user: &str, state: &UserState) -> Result<Vec<DeviceRow>, StoreError> {
    state.devices.iter().map(|d| DeviceRow::of(user, d)).collect()
}

/// Replaces `user`'s inventory rows, inside the transaction that writes their state.
pub(crate) async fn replace_devices(
    conn: &mut AnyConnection,
    user: &str,
    rows: &[DeviceRow],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM devices WHERE user_id = $1").bind(user).execute(&mut *conn).await?;
    insert_devices(conn, rows, false).await
}

/// The inventory's columns, in the order [`insert_devices`] binds them.
const DEVICE_INSERT: &str = "INSERT INTO devices (user_id, device_id, registered_ms, os_type, model, name, \
                             enrolled, noncompliant, device) VALUES ";
const DEVICE_COLUMNS: usize = 9;

async fn insert_devices(
    conn: &mut AnyConnection,
    rows: &[DeviceRow],
    backfill: bool,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut sql = values_sql(DEVICE_INSERT, DEVICE_COLUMNS, chunk.len(), false);
        // A backfill racing another replica's (two started at once) writes the same rows:
        // the second copy is dropped.
        if backfill {
            sql.push_str(" ON CONFLICT (user_id, device_id) DO NOTHING");
        }
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            insert = insert
                .bind(r.user.as_str())
                .bind(r.device_id.as_str())
                .bind(r.registered_ms)
                .bind(r.os_type)
                .bind(r.model.as_deref())
                .bind(r.name.as_deref())
                .bind(i64::from(r.enrolled))
                .bind(i64::from(r.noncompliant))
                .bind(r.device.as_str());
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// How a device list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceSort {
    /// Oldest registration first (then user, then device id).
    Registered,
    /// By user, then device id.
    User,
}

/// Where a page starts: the sort key of the previous page's last row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum DeviceKey {
    /// After this registration time, user and device id.
    Registered(i64, String, String),
    /// After this user and device id.
    User(String, String),
}

impl DeviceKey {
    pub(crate) fn sort(&self) -> DeviceSort {
        match self {
            DeviceKey::Registered(..) => DeviceSort::Registered,
            DeviceKey::User(..) => DeviceSort::User,
        }
    }
}

/// Which devices a list holds; `None` is any.
#[derive(Debug, Default)]
pub(crate) struct DeviceFilter {
    pub(crate) user: Option<String>,
    pub(crate) os_type: Option<&'static str>,
    /// A prefix of the model.
    pub(crate) model: Option<String>,
    pub(crate) enrolled: Option<bool>,
    pub(crate) noncompliant: Option<bool>,
    /// Registered strictly before this time (ms).
    pub(crate) before_ms: Option<i64>,
    /// Registered at or after this time (ms).
    pub(crate) after_ms: Option<i64>,
    /// A prefix of the device id, the user or the device's name.
    pub(crate) q: Option<String>,
}

/// A device of a list: its user, row and registration.
pub(crate) struct ListedDevice {
    pub(crate) user: String,
    pub(crate) device_id: String,
    pub(crate) registered_ms: i64,
    /// The device as stored (JSON).
    pub(crate) device: String,
}

impl ListedDevice {
    /// The key a page that ends with this device gives the next.
    pub(crate) fn key(&self, sort: DeviceSort) -> DeviceKey {
        match sort {
            DeviceSort::Registered => {
                DeviceKey::Registered(self.registered_ms, self.user.clone(), self.device_id.clone())
            }
            DeviceSort::User => DeviceKey::User(self.user.clone(), self.device_id.clone()),
        }
    }
}

/// A user of the list: their groups as last seen and how many devices and pending requests
/// they have.
pub(crate) struct ListedUser {
    pub(crate) user: String,
    pub(crate) groups: String,
    pub(crate) devices: i64,
    pub(crate) pending: i64,
    pub(crate) updated_ms: i64,
}

/// The first string after every string that starts with `prefix`, in code point (= UTF-8
/// byte) order: `prefix` with its last character moved up by one; `None` when no string
/// is (a prefix of only U+10FFFF).
pub(crate) fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A query's text and its values, numbered as they are added.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.binds.push(Bind::Text(v.into()));
        let n = self.binds.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    fn int(&mut self, v: i64) -> &mut Self {
        self.binds.push(Bind::Int(v));
        let n = self.binds.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    /// `AND col starts with prefix`, as a range the column's index answers.
    fn prefix(&mut self, col: &str, prefix: &str) -> &mut Self {
        self.push(" AND ").push(col).push(" >= ").text(prefix);
        if let Some(end) = successor(prefix) {
            self.push(" AND ").push(col).push(" < ").text(end);
        }
        self
    }

    /// [`Sql::prefix`], through the column's index or (`indexed` false) not: `col || ''`
    /// is the same text, which no index answers, so the planner walks another order.
    fn prefix_of(&mut self, col: &str, prefix: &str, indexed: bool) -> &mut Self {
        if indexed { self.prefix(col, prefix) } else { self.prefix(&format!("({col} || '')"), prefix) }
    }

    fn query(&self) -> Query<'_, Any, AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.text.as_str()));
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(n) => q.bind(*n),
            };
        }
        q
    }
}

fn listed(r: &AnyRow) -> Result<ListedDevice, StoreError> {
    Ok(ListedDevice {
        user: r.try_get("user_id")?,
        device_id: r.try_get("device_id")?,
        registered_ms: r.try_get("registered_ms")?,
        device: r.try_get("device")?,
    })
}

impl Store {
    /// A page of the inventory: at most `limit` devices that pass `filter`, in `sort`
    /// order, after `after`.
    pub(crate) async fn devices(
        &self,
        filter: &DeviceFilter,
        sort: DeviceSort,
        after: Option<&DeviceKey>,
        limit: i64,
    ) -> Result<Vec<ListedDevice>, StoreError> {
        let mut ranges = Vec::new();
        if let Some(m) = &filter.model {
            ranges.push(("model", m.as_str()));
        }
        if let Some(q) = &filter.q {
            ranges.extend(["device_id", "user_id", "name"].map(|c| (c, q.as_str())));
        }
        let mut matches = 0;
        for (col, prefix) in &ranges {
            matches += self.prefix_matches(col, prefix).await?;
        }
        let by_prefix = matches < SELECTIVE;
        let mut sql = device_query(filter, sort, after, by_prefix);
        sql.push(" LIMIT ").int(limit);
        let rows = sql.query().fetch_all(&self.read).await?;
        rows.iter().map(listed).collect()
    }

    /// How many devices (up to [`SELECTIVE`]) a prefix of `col` keeps: read from the
    /// column's index alone.
    async fn prefix_matches(&self, col: &str, prefix: &str) -> Result<i64, StoreError> {
        let mut sql = Sql::default();
        sql.push("SELECT COUNT(*) AS n FROM (SELECT 1 FROM devices WHERE 1 = 1");
        sql.prefix(col, prefix).push(" LIMIT ").int(SELECTIVE).push(") AS t");
        Ok(sql.query().fetch_one(&self.read).await?.try_get("n")?)
    }

    /// A page of users: at most `limit` whose id starts with `q`, in id order, after
    /// `after`.
    pub(crate) async fn users(
        &self,
        q: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ListedUser>, StoreError> {
        let key = match self.kind {
            Kind::Sqlite => "u.user_id",
            // The id as the inventory's index of it compares it (byte by byte).
            Kind::Postgres => "(u.user_id COLLATE \"C\")",
        };
        let mut sql = Sql::default();
        sql.push(
            "SELECT u.user_id, u.groups, u.updated_ms, \
             (SELECT COUNT(*) FROM devices d WHERE d.user_id = u.user_id) AS devices, \
             (SELECT COUNT(*) FROM pending p WHERE p.user_id = u.user_id) AS pending \
             FROM users u WHERE 1 = 1",
        );
        if let Some(q) = q {
            sql.prefix(key, q);
        }
        if let Some(after) = after {
            sql.push(" AND ").push(key).push(" > ").text(after);
        }
        sql.push(" ORDER BY ").push(key).push(" LIMIT ").int(limit);
        let rows = sql.query().fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok(ListedUser {
                    user: r.try_get("user_id")?,
                    groups: r.try_get("groups")?,
                    devices: r.try_get("devices")?,
                    pending: r.try_get("pending")?,
                    updated_ms: r.try_get("updated_ms")?,
                })
            })
            .collect()
    }

    /// Fills the inventory from every user's state when a migration left that to do; the
    /// marker goes with the last batch, so a service stopped halfway starts over (the rows
    /// already written are kept: `ON CONFLICT DO NOTHING`).
    pub(crate) async fn backfill_devices(&self) -> Result<u64, StoreError> {
        let todo = sqlx::query("SELECT name FROM backfills WHERE name = 'devices'")
            .fetch_optional(&self.write)
            .await?;
        if todo.is_none() {
            return Ok(0);
        }
        let mut after = String::new();
        let mut written = 0u64;
        loop {
            let mut tx = self.write.begin().await?;
            // On PostgreSQL the batch's users are locked until it commits: a replica that
            // already serves and changes one of them waits, or is waited for and its state
            // read after it, so no row of a device it removed is written back.
            let sql = match self.kind {
                Kind::Sqlite => {
                    "SELECT user_id, state FROM users WHERE user_id > $1 ORDER BY user_id LIMIT $2"
                }
                Kind::Postgres => {
                    "SELECT user_id, state FROM users WHERE user_id > $1 ORDER BY user_id LIMIT $2 FOR UPDATE"
                }
            };
            let rows = sqlx::query(sql).bind(&after).bind(BACKFILL_BATCH).fetch_all(&mut *tx).await?;
            let mut devices = Vec::new();
            for r in &rows {
                let user: String = r.try_get("user_id")?;
                let state: String = r.try_get("state")?;
                let state = UserState::from_json(&state)
                    .map_err(|e| StoreError::corrupt(format!("state of `{user}`"), e))?;
                devices.extend(device_rows(&user, &state)?);
                after = user;
            }
            written += devices.len() as u64;
            insert_devices(&mut tx, &devices, true).await?;
            let done = i64::try_from(rows.len()).unwrap_or(i64::MAX) < BACKFILL_BATCH;
            if done {
                sqlx::query("DELETE FROM backfills WHERE name = 'devices'").execute(&mut *tx).await?;
            }
            tx.commit().await?;
            if done {
                return Ok(written);
            }
        }
    }
}

/// The inventory's query without its limit.
/// `by_prefix`: whether the prefixes (`model`, `q`) are read through their indexes.
fn device_query(filter: &DeviceFilter, sort: DeviceSort, after: Option<&DeviceKey>, by_prefix: bool) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT user_id, device_id, registered_ms, device FROM devices WHERE 1 = 1");
    if let Some(u) = &filter.user {
        sql.push(" AND user_id = ").text(u.as_str());
    }
    if let Some(os) = filter.os_type {
        sql.push(" AND os_type = ").text(os);
    }
    if let Some(m) = &filter.model {
        sql.prefix_of("model", m, by_prefix);
    }
    if let Some(e) = filter.enrolled {
        sql.push(" AND enrolled = ").int(i64::from(e));
    }
    if let Some(n) = filter.noncompliant {
        sql.push(" AND noncompliant = ").int(i64::from(n));
    }
    if let Some(t) = filter.before_ms {
        sql.push(" AND registered_ms < ").int(t);
    }
    if let Some(t) = filter.after_ms {
        sql.push(" AND registered_ms >= ").int(t);
    }
    if let Some(q) = &filter.q {
        // Three ranges, one per index; the planner joins them (SQLite's OR optimisation,
        // PostgreSQL's bitmap OR).
        sql.push(" AND ((1 = 1");
        sql.prefix_of("device_id", q, by_prefix).push(") OR (1 = 1");
        sql.prefix_of("user_id", q, by_prefix).push(") OR (1 = 1");
        sql.prefix_of("name", q, by_prefix).push("))");
    }
    match after {
        Some(DeviceKey::Registered(ms, user, device)) => {
            sql.push(" AND (registered_ms, user_id, device_id) > (")
                .int(*ms)
                .push(", ")
                .text(user.as_str())
                .push(", ")
                .text(device.as_str())
                .push(")");
        }
        Some(DeviceKey::User(user, device)) => {
            sql.push(" AND (user_id, device_id) > (")
                .text(user.as_str())
                .push(", ")
                .text(device.as_str())
                .push(")");
        }
        None => {}
    }
    sql.push(match sort {
        DeviceSort::Registered => " ORDER BY registered_ms, user_id, device_id",
        DeviceSort::User => " ORDER BY user_id, device_id",
    });
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_before_the_first_string_that_does_not_start_with_it() {
        assert_eq!(successor("ab").as_deref(), Some("ac"));
        assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
    }

    #[test]
    fn values_are_numbered_in_the_order_they_are_bound() {
        let filter = DeviceFilter { os_type: Some("ios"), q: Some("al".into()), ..DeviceFilter::default() };
        let sql =
            device_query(&filter, DeviceSort::User, Some(&DeviceKey::User("a".into(), "b".into())), true);
        assert!(sql.text.contains("os_type = $1"), "{}", sql.text);
        assert!(sql.text.contains("device_id >= $2 AND device_id < $3"), "{}", sql.text);
        assert!(sql.text.contains("name >= $6 AND name < $7"), "{}", sql.text);
        assert!(sql.text.contains("(user_id, device_id) > ($8, $9)"), "{}", sql.text);
        assert_eq!(sql.binds.len(), 9);
        let walked = device_query(&filter, DeviceSort::User, None, false);
        assert!(
            walked.text.contains("(device_id || '') >= $2 AND (device_id || '') < $3"),
            "{}",
            walked.text
        );
    }
}
