//! The pieces of the documents' JSON Schemas that the document types name in their
//! derives (ids, times, versions): a leaf, so that a document module can use them
//! without depending on the generator of every schema ([`crate::schema`]).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::ids::{MAX_DEVICE_ID_CHARS, MAX_ID_BYTES, MAX_POLICY_NAME_BYTES, Text};
use crate::time::Timestamp;
use crate::version::Version;

impl JsonSchema for Text {
    fn schema_name() -> Cow<'static, str> {
        "DeviceId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A device id or serial number.",
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_DEVICE_ID_CHARS,
        })
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An RFC 3339 time with an offset, like `2026-11-22T10:00:00Z`.",
            "type": "string",
            "format": "date-time",
        })
    }
}

impl JsonSchema for Version {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An OS version: 1 to 4 numbers separated by dots, like `16.4`.",
            "type": "string",
            "pattern": "^[0-9]+(\\.[0-9]+){0,3}$",
        })
    }
}

/// A user, group or app id (the engine counts bytes; a schema can only count characters).
pub struct Id;

impl JsonSchema for Id {
    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": format!("A user, group or app id: 1 to {MAX_ID_BYTES} bytes of UTF-8."),
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_ID_BYTES,
        })
    }
}

/// A policy must give its `schema`: the one field that is not optional (the type holds
/// an `Option` so that validation, not decoding, words its absence).
pub(crate) fn require_schema(schema: &mut Schema) {
    schema.insert("required".into(), serde_json::json!(["schema"]));
}

/// `min_os_version`: the lowest OS version per OS type.
pub(crate) struct MinOsVersion;

impl JsonSchema for MinOsVersion {
    fn schema_name() -> Cow<'static, str> {
        "MinOsVersion".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let version = generator.subschema_for::<Version>();
        json_schema!({
            "type": "object",
            "properties": { "ios": version, "android": version, "other": version },
            "additionalProperties": false,
        })
    }
}

/// A policy's name in a set: 1 to 128 bytes of UTF-8 (a schema can only count characters).
pub(crate) struct PolicyName;

impl JsonSchema for PolicyName {
    fn schema_name() -> Cow<'static, str> {
        "PolicyName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": format!("A policy's name, unique in its set: 1 to {MAX_POLICY_NAME_BYTES} bytes of UTF-8, compared byte for byte."),
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_POLICY_NAME_BYTES,
        })
    }
}

/// A policy of a set must give its `name` (the type holds an `Option` so that validation,
/// not decoding, words its absence).
pub(crate) fn require_name(schema: &mut Schema) {
    schema.insert("required".into(), serde_json::json!(["name"]));
}
