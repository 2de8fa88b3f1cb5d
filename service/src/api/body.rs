//! Request bodies: declared `application/json`, read within the document limit and the
//! in-flight budget, with an idle timeout; and JSON objects read member by member.
//!
//! A body is never turned into a `serde_json::Value` tree, which takes about 16 to 36
//! times the text it comes from (a number of one digit becomes 32 bytes): the members a
//! route takes are kept as slices of the body (`RawValue`), a member the route does not
//! take is refused as soon as its name is read, and the engine decodes the event from
//! text, skipping what it does not read without building it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt as _;
use serde::de::{self, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use tokio::sync::OwnedSemaphorePermit;

use crate::{App, ServiceError, kib};

/// How long a client is asked to wait before it tries again when the service is busy.
pub(crate) const RETRY_AFTER_SECONDS: u64 = 1;

/// A JSON body, read whole, with its share of the in-flight budget (given back when the
/// request is answered).
pub(crate) struct JsonBody {
    pub(crate) bytes: Vec<u8>,
    _held: Option<OwnedSemaphorePermit>,
}

impl FromRequest<Arc<App>> for JsonBody {
    type Rejection = ServiceError;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, ServiceError> {
        json_media_type(request.headers())?;
        let limit = app.runtime.config().max_document_bytes;
        let declared = declared_length(request.headers());
        if declared.is_some_and(|n| n > limit) {
            return Err(ServiceError::TooLarge(limit));
        }
        let mut held = declared.map(|n| take(app, n)).transpose()?;
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
        let mut body: Body = request.into_body();
        let idle = app.limits.idle_timeout;
        loop {
            let frame = tokio::time::timeout(idle, body.frame())
                .await
                .map_err(|_| ServiceError::Timeout(idle.as_millis()))?;
            let Some(frame) = frame else { break };
            let frame =
                frame.map_err(|e| ServiceError::bad("", format!("the body could not be read: {e}")))?;
            let Ok(data) = frame.into_data() else { continue };
            if bytes.len() + data.len() > limit {
                return Err(ServiceError::TooLarge(limit));
            }
            if declared.is_none() {
                let more = take(app, data.len())?;
                match &mut held {
                    Some(h) => h.merge(more),
                    None => held = Some(more),
                }
            }
            bytes.extend_from_slice(&data);
        }
        Ok(JsonBody { bytes, _held: held })
    }
}

/// `len` bytes of the in-flight budget, or 503 when it is spent.
fn take(app: &App, len: usize) -> Result<OwnedSemaphorePermit, ServiceError> {
    let units = u32::try_from(kib(len)).map_err(|_| ServiceError::Overloaded(RETRY_AFTER_SECONDS))?;
    app.inflight
        .clone()
        .try_acquire_many_owned(units)
        .map_err(|_| ServiceError::Overloaded(RETRY_AFTER_SECONDS))
}

/// The declared `Content-Length`, if any.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// One `Content-Type` of `application/json` (any case, any parameters). A browser sends
/// a cross-site request without asking first only for `text/plain`, a form's types and no
/// type at all, so requiring this one keeps those out.
fn json_media_type(headers: &HeaderMap) -> Result<(), ServiceError> {
    let mut types = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(value), None) = (types.next(), types.next()) else {
        return Err(ServiceError::UnsupportedMediaType);
    };
    let essence = value.to_str().ok().and_then(|v| v.split(';').next()).map(str::trim);
    match essence {
        Some(t) if t.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(ServiceError::UnsupportedMediaType),
    }
}

/// The body's text: UTF-8, as the engine words the error.
pub(crate) fn text(bytes: &[u8]) -> Result<&str, ServiceError> {
    mdm_engine::DocumentKind::Event.text(bytes).map_err(|e| ServiceError::bad("", e.message()))
}

/// The members of a JSON object body, each as its text, in order.
///
/// `takes` lists the names the route takes: any other name is refused at `/{name}` as
/// soon as it is read, and so is a name given twice (the engine would read one and the
/// service another). So a body holds at most `takes.len()` members, however it is made.
pub(crate) fn members<'a>(
    text: &'a str,
    takes: &[&str],
) -> Result<Vec<(String, &'a RawValue)>, ServiceError> {
    let mut refused = None;
    let mut reader = serde_json::Deserializer::from_str(text);
    let read = reader
        .deserialize_map(Members { takes, refused: &mut refused })
        .and_then(|members| reader.end().map(|()| members));
    match (read, refused) {
        (_, Some(e)) => Err(e),
        (Ok(members), None) => Ok(members),
        (Err(e), None) if e.is_data() => Err(ServiceError::bad("", "the body must be a JSON object")),
        (Err(e), None) => Err(ServiceError::bad("", format!("the body is not JSON: {e}"))),
    }
}

struct Members<'t, 'r> {
    takes: &'t [&'t str],
    refused: &'r mut Option<ServiceError>,
}

impl<'de> Visitor<'de> for Members<'_, '_> {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut members: Self::Value = Vec::with_capacity(self.takes.len());
        while let Some(name) = map.next_key::<String>()? {
            if !self.takes.contains(&name.as_str()) {
                let expected = self.takes.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
                let message = format!("unknown field `{name}`, expected one of {expected}");
                *self.refused = Some(ServiceError::bad(format!("/{name}"), message));
                return Err(de::Error::custom("refused"));
            }
            if members.iter().any(|(n, _)| *n == name) {
                let message = format!("duplicate field `{name}`");
                *self.refused = Some(ServiceError::bad(format!("/{name}"), message));
                return Err(de::Error::custom("refused"));
            }
            let value: &'de RawValue = map.next_value()?;
            members.push((name, value));
        }
        Ok(members)
    }
}

/// What kind of JSON value a member's text is, for an error's words.
pub(crate) fn kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// A member that must be a string, decoded.
pub(crate) fn string(raw: &RawValue, pointer: &str) -> Result<String, ServiceError> {
    if !raw.get().starts_with('"') {
        return Err(ServiceError::bad(pointer, format!("must be a string, got {}", kind(raw))));
    }
    serde_json::from_str(raw.get()).map_err(|e| ServiceError::bad(pointer, e.to_string()))
}

/// A list of ids (`null` for none) of at most `max`, each held to `check`; refused at
/// its pointer (`{pointer}/{i}`) as soon as an element is wrong or the list too long.
pub(crate) fn ids(
    raw: &RawValue,
    pointer: &str,
    max: usize,
    check: fn(&str, &str) -> Result<(), ServiceError>,
) -> Result<Vec<String>, ServiceError> {
    if raw.get() == "null" {
        return Ok(Vec::new());
    }
    if !raw.get().starts_with('[') {
        return Err(ServiceError::bad(pointer, format!("must be an array of group ids, got {}", kind(raw))));
    }
    let mut refused = None;
    let list = serde_json::Deserializer::from_str(raw.get()).deserialize_seq(Ids {
        pointer,
        max,
        check,
        refused: &mut refused,
    });
    match (list, refused) {
        (_, Some(e)) => Err(e),
        (Ok(list), None) => Ok(list),
        (Err(e), None) => Err(ServiceError::bad(pointer, e.to_string())),
    }
}

struct Ids<'p, 'r> {
    pointer: &'p str,
    max: usize,
    check: fn(&str, &str) -> Result<(), ServiceError>,
    refused: &'r mut Option<ServiceError>,
}

impl<'de> Visitor<'de> for Ids<'_, '_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of ids")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut list = Vec::new();
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            let at = format!("{}/{}", self.pointer, list.len());
            let checked = if list.len() == self.max {
                Err(ServiceError::bad(self.pointer, format!("at most {} groups", self.max)))
            } else {
                string(raw, &at).and_then(|s| (self.check)(&at, &s).map(|()| s))
            };
            match checked {
                Ok(s) => list.push(s),
                Err(e) => {
                    *self.refused = Some(e);
                    return Err(de::Error::custom("refused"));
                }
            }
        }
        Ok(list)
    }
}

/// An event's text: `members` in order, each once, with `extra` members first.
pub(crate) fn event_text(
    extra: &[(&str, &str)],
    members: &[(String, &RawValue)],
) -> Result<String, ServiceError> {
    let capacity = members.iter().map(|(n, v)| n.len() + v.get().len() + 4).sum::<usize>() + 64;
    let mut text = String::with_capacity(capacity);
    text.push('{');
    let names = extra.iter().map(|(n, v)| (*n, *v)).chain(members.iter().map(|(n, v)| (n.as_str(), v.get())));
    for (i, (name, value)) in names.enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(name).map_err(ServiceError::internal)?);
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_refuse_unknown_and_repeated_names_at_their_pointer() {
        let m = members(r#"{"user":"a","device":{"x":[1,2]}}"#, &["user", "device"]).unwrap();
        assert_eq!(
            m.iter().map(|(n, v)| (n.as_str(), v.get())).collect::<Vec<_>>(),
            [("user", r#""a""#), ("device", r#"{"x":[1,2]}"#)]
        );
        let e = members(r#"{"user":"a","grups":[]}"#, &["user"]).unwrap_err();
        assert_eq!((e.code(), e.pointer()), ("service.bad_request", "/grups"));
        let e = members(r#"{"user":"a","user":"b"}"#, &["user"]).unwrap_err();
        assert_eq!(e.pointer(), "/user");
        for bad in ["[]", "7", r#""x""#, "null"] {
            let e = members(bad, &["user"]).unwrap_err();
            assert_eq!(
                (e.pointer(), e.to_string().as_str()),
                ("", "the body must be a JSON object"),
                "{bad}"
            );
        }
        for bad in ["", "{", r#"{"user":}"#, r#"{"user":"a"} x"#] {
            let e = members(bad, &["user"]).unwrap_err();
            assert!(e.to_string().starts_with("the body is not JSON"), "{bad}: {e}");
        }
    }

    #[test]
    fn ids_are_checked_one_by_one_and_counted() {
        let ok = |_: &str, _: &str| Ok(());
        let raw = |t: &str| serde_json::from_str::<&RawValue>(t).unwrap().to_owned();
        assert_eq!(ids(&raw(r#"["a","b"]"#), "/groups", 10, ok).unwrap(), ["a", "b"]);
        assert_eq!(ids(&raw("null"), "/groups", 10, ok).unwrap(), Vec::<String>::new());
        assert_eq!(ids(&raw(r#"["a",7]"#), "/groups", 10, ok).unwrap_err().pointer(), "/groups/1");
        assert_eq!(ids(&raw(r#""a""#), "/groups", 10, ok).unwrap_err().pointer(), "/groups");
        assert_eq!(ids(&raw(r#"["a","b","c"]"#), "/groups", 2, ok).unwrap_err().pointer(), "/groups");
    }

    #[test]
    fn an_event_is_its_members_in_order() {
        let m = members(r#"{"user":"a\"b","n":1}"#, &["user", "n"]).unwrap();
        let text = event_text(&[("type", r#""login""#)], &m).unwrap();
        assert_eq!(text, r#"{"type":"login","user":"a\"b","n":1}"#);
    }
}
