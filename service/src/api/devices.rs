//! `GET /v1/devices`: the inventory of every registered device across users, filtered,
//! a page at a time, or the whole filtered list as CSV (`Accept: text/csv`), streamed a
//! batch at a time so that a million devices never sit in memory.
//!
//! Serial numbers are masked as the log masks them unless the service reveals them
//! (`reveal_serial_numbers`).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mdm_engine::{OsType, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Shared, decode_cursor, encode_cursor, id, limit, page_of, query};
use crate::store::StoreError;
use crate::store::inventory::{DeviceFilter, DeviceKey, DeviceSort, ListedDevice};
use crate::{App, ServiceError};

/// How many devices the CSV export reads from the database at a time.
const EXPORT_BATCH: i64 = 1000;

/// The columns of the CSV export, in order: the user, then the stored device's members.
const CSV_COLUMNS: [&str; 16] = [
    "user",
    "device_id",
    "os_type",
    "os_version",
    "serial_number",
    "model",
    "name",
    "manufacturer",
    "pin_length",
    "encrypted",
    "compromised",
    "work_profile",
    "registered_at",
    "enrollment_method",
    "enrolled_at",
    "noncompliant_since",
];

pub(super) fn router() -> Router<Arc<App>> {
    Router::new().route("/v1/devices", get(devices))
}

/// The query of `GET /v1/devices`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DevicesQuery {
    user: Option<String>,
    os_type: Option<String>,
    model: Option<String>,
    enrolled: Option<bool>,
    noncompliant: Option<bool>,
    registered_before: Option<String>,
    registered_after: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A page of the inventory.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DeviceList {
    /// The devices of this page, in the list's order.
    #[schema(value_type = Vec<super::schema::InventoryDevice>)]
    devices: Vec<Map<String, Value>>,
    /// Gives the next page (with the same filters and `sort`); `null` on the last page.
    next_cursor: Option<String>,
}

/// `GET /v1/devices`.
#[utoipa::path(
    get,
    path = "/v1/devices",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("user" = Option<String>, Query, description = "Only this user's devices"),
        ("os_type" = Option<String>, Query, description = "`ios`, `android` or `other`"),
        ("model" = Option<String>, Query, description = "Models that start with this"),
        ("enrolled" = Option<bool>, Query, description = "Only devices that finished enrolling (`true`) or have not (`false`)"),
        ("noncompliant" = Option<bool>, Query, description = "Only devices seen failing a rule with grace (`true`) or not (`false`)"),
        ("registered_before" = Option<String>, Query, description = "Registered before this time (RFC 3339)"),
        ("registered_after" = Option<String>, Query, description = "Registered at or after this time (RFC 3339)"),
        ("q" = Option<String>, Query, description = "Devices whose id, user or name starts with this"),
        ("sort" = Option<String>, Query, description = "`registered` (oldest first, the default) or `user`"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "How many (100 without it); not with CSV"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page; not with CSV"),
    ),
    responses(
        (status = 200, description = "A page of devices, or with `Accept: text/csv` every device that passes the filters", content(
            (DeviceList = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "`service.bad_request`: a filter, the cursor or the limit is not one the list takes", body = crate::error::ErrorBody),
    ),
)]
pub(super) async fn devices(
    State(app): Shared,
    headers: HeaderMap,
    q: Result<Query<DevicesQuery>, QueryRejection>,
) -> Result<Response, ServiceError> {
    let q = query(q)?;
    let filter = filter(&q)?;
    let sort = match q.sort.as_deref() {
        None | Some("registered") => DeviceSort::Registered,
        Some("user") => DeviceSort::User,
        Some(other) => {
            return Err(ServiceError::bad("sort", format!("must be `registered` or `user`, got `{other}`")));
        }
    };
    let reveal = app.runtime.config().reveal_serial_numbers;
    if wants_csv(&headers) {
        if q.limit.is_some() || q.cursor.is_some() {
            let which = if q.limit.is_some() { "limit" } else { "cursor" };
            return Err(ServiceError::bad(
                which,
                "the CSV export holds every device that passes the filters: it takes no `limit` or `cursor`",
            ));
        }
        return Ok(csv_export(app, filter, sort, reveal));
    }
    let limit = limit(q.limit)?;
    let after = q.cursor.as_deref().map(|c| cursor(c, sort)).transpose()?;
    let (rows, more) = page_of(app.store.devices(&filter, sort, after.as_ref(), limit + 1).await?, limit);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(key_cursor(&last.key(sort))?),
        _ => None,
    };
    let devices = rows.iter().map(|r| shown(r, reveal)).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(DeviceList { devices, next_cursor }).into_response())
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| m.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")))
}

fn filter(q: &DevicesQuery) -> Result<DeviceFilter, ServiceError> {
    let time = |name: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| {
                Timestamp::parse(s)
                    .map(Timestamp::as_millis)
                    .map_err(|e| ServiceError::bad(name, format!("must be an RFC 3339 time: {e}")))
            })
            .transpose()
    };
    let prefix = |name: &str, v: &Option<String>| -> Result<Option<String>, ServiceError> {
        match v {
            Some(s) => id(name, s).map(|()| Some(s.clone())),
            None => Ok(None),
        }
    };
    if let Some(u) = &q.user {
        id("user", u)?;
    }
    let os_type = q
        .os_type
        .as_deref()
        .map(|s| {
            OsType::parse(s).map(OsType::as_str).ok_or_else(|| {
                ServiceError::bad("os_type", format!("must be `ios`, `android` or `other`, got `{s}`"))
            })
        })
        .transpose()?;
    Ok(DeviceFilter {
        user: q.user.clone(),
        os_type,
        model: prefix("model", &q.model)?,
        enrolled: q.enrolled,
        noncompliant: q.noncompliant,
        before_ms: time("registered_before", &q.registered_before)?,
        after_ms: time("registered_after", &q.registered_after)?,
        q: prefix("q", &q.q)?,
    })
}

/// A device's sort key as a cursor: its JSON, encoded as every list's cursor is.
fn key_cursor(key: &DeviceKey) -> Result<String, ServiceError> {
    Ok(encode_cursor(&serde_json::to_string(key).map_err(ServiceError::internal)?))
}

/// The key a cursor holds, if the list that gave it had this order.
fn cursor(text: &str, sort: DeviceSort) -> Result<DeviceKey, ServiceError> {
    let key: DeviceKey = serde_json::from_str(&decode_cursor("cursor", text)?)
        .map_err(|_| ServiceError::bad("cursor", "is not a cursor this list gave"))?;
    if key.sort() != sort {
        return Err(ServiceError::bad("cursor", "was given by a list in another order (`sort`)"));
    }
    Ok(key)
}

/// A device as the inventory shows it: its user and the stored device, serial masked.
fn shown(row: &ListedDevice, reveal: bool) -> Result<Map<String, Value>, ServiceError> {
    let mut device: Map<String, Value> = serde_json::from_str(&row.device)
        .map_err(|e| StoreError::corrupt(format!("device `{}` of `{}`", row.device_id, row.user), e))?;
    if !reveal && let Some(Value::String(serial)) = device.get_mut("serial_number") {
        *serial = mdm_host::masked_serial(serial);
    }
    let mut out = Map::with_capacity(device.len() + 1);
    out.insert("user".into(), Value::String(row.user.clone()));
    out.append(&mut device);
    Ok(out)
}

/// The CSV export: a header line, then every device in batches read by keyset. A
/// database error after the first bytes cuts the body short (the client sees an
/// incomplete transfer, never a partial file that looks whole); it is logged.
fn csv_export(app: Arc<App>, filter: DeviceFilter, sort: DeviceSort, reveal: bool) -> Response {
    let filter = Arc::new(filter);
    let start = Export::Header;
    let stream = futures_util::stream::try_unfold(start, move |at| {
        let (app, filter) = (app.clone(), filter.clone());
        async move {
            let after = match at {
                Export::Header => {
                    let header = csv_records([CSV_COLUMNS.map(str::to_string).to_vec()])?;
                    return Ok(Some((Bytes::from(header), Export::After(None))));
                }
                Export::After(after) => after,
                Export::Done => return Ok(None),
            };
            let rows = app.store.devices(&filter, sort, after.as_ref(), EXPORT_BATCH).await?;
            let full = rows.len() == usize::try_from(EXPORT_BATCH).unwrap_or(usize::MAX);
            let next = match rows.last() {
                Some(last) if full => Export::After(Some(last.key(sort))),
                _ => Export::Done,
            };
            let records = rows.iter().map(|r| csv_row(r, reveal)).collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ServiceError>(Some((Bytes::from(csv_records(records)?), next)))
        }
    });
    let body = Body::from_stream(futures_util::TryStreamExt::inspect_err(stream, |e| {
        tracing::error!(error = %e, code = e.code(), "the CSV export of the device inventory stopped short");
    }));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"devices.csv\""),
    );
    response
}

/// Where the export is.
enum Export {
    Header,
    /// Next, the devices after this key (from the first without one).
    After(Option<DeviceKey>),
    Done,
}

/// One record of the export, in [`CSV_COLUMNS`] order.
fn csv_row(row: &ListedDevice, reveal: bool) -> Result<Vec<String>, ServiceError> {
    let d = shown(row, reveal)?;
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => inert(s),
        Some(other) => other.to_string(),
    };
    let enrollment = d.get("enrollment");
    Ok(CSV_COLUMNS
        .iter()
        .map(|c| match *c {
            "enrollment_method" => text(enrollment.and_then(|e| e.get("method"))),
            "enrolled_at" => text(enrollment.and_then(|e| e.get("at"))),
            c => text(d.get(c)),
        })
        .collect())
}

/// A text a spreadsheet will not run: a device's name is its owner's to choose, and a
/// cell that starts with `=`, `+`, `-`, `@` or a control character is a formula to Excel
/// and LibreOffice (OWASP's "CSV injection"); such a text gets a leading `'`.
fn inert(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() }
}

/// Records as CSV (RFC 4180: CRLF, fields quoted when they need to be).
fn csv_records(records: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>, ServiceError> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for r in records {
        w.write_record(&r).map_err(ServiceError::internal)?;
    }
    w.into_inner().map_err(|e| ServiceError::internal(e.into_error()))
}
