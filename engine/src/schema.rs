//! JSON Schemas of the documents (JSON Schema 2020-12), generated from the types the
//! engine decodes them into, so they cannot drift from what it accepts. An editor uses them
//! to complete and check a document as it is typed; the engine stays the judge (a schema
//! cannot say "at most 256 bytes" or "an OS version the policy names").
//!
//! Behind the `schema` feature: native tools only, so the wasm modules stay small.

pub use crate::schema_parts::Id;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

use crate::device::Device;
use crate::device::UserState;
use crate::ids::Text;
use crate::manage::{Approver, EnrollmentMethod, InstalledApp};
use crate::policy::PolicyDocument;
use crate::preview::PopulationDoc;
use crate::time::Timestamp;

/// The documents with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A policy document (`mdm.policy/v1`, `v2` or `v3`).
    Policy,
    /// One user's stored state.
    State,
    /// An event: a login or an admin's action.
    Event,
    /// A population for the what-if preview.
    Population,
}

impl Document {
    /// Every document, in the order of the contract.
    pub const ALL: [Document; 4] = [Document::Policy, Document::State, Document::Event, Document::Population];

    /// Its name on the command line and in `schemas/NAME.schema.json`.
    pub const fn name(self) -> &'static str {
        match self {
            Document::Policy => "policy",
            Document::State => "state",
            Document::Event => "event",
            Document::Population => "population",
        }
    }

    /// The document named `name`.
    pub fn parse(name: &str) -> Option<Document> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Its schema.
    pub fn schema(self) -> Schema {
        match self {
            Document::Policy => root::<PolicyDocument>("mdm-policy policy"),
            Document::State => root::<UserState>("mdm-policy user state"),
            Document::Event => root::<EventDoc>("mdm-policy event"),
            Document::Population => root::<PopulationDoc>("mdm-policy population"),
        }
    }
}

/// The schema of `T` as a document of its own, for what the engine reads (defaults and
/// optional fields as a reader sees them).
pub fn root<T: JsonSchema>(title: &str) -> Schema {
    let mut schema =
        SchemaSettings::draft2020_12().for_deserialize().into_generator().into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    schema
}

/// The event document as written, for its schema (a scenario's steps refer to it).
///
/// The engine reads an event field by field (`Event::from_json`), so that a wrong field
/// of one event type is reported at its pointer; this type exists for the schema only,
/// and every valid event of the corpus is checked against the schema (`js/test`).
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventDoc {
    /// A mobile login.
    Login {
        /// Who logs in.
        user: Id,
        /// When.
        at: Timestamp,
        /// The device, as the mobile app reports it.
        device: LoginDevice,
    },
    /// The admin (or, under version 2's `approvers`, the user) approves a pending request.
    Approve {
        /// Whose request.
        user: Id,
        /// The waiting device.
        device_id: Text,
        /// When.
        at: Timestamp,
        /// Who approves (version 2; `admin` when absent).
        #[serde(default)]
        by: Option<Approver>,
        /// The user's active device that approves a self-approval (version 2).
        #[serde(default)]
        from_device: Option<String>,
    },
    /// The admin rejects a pending request.
    Reject(DeviceEvent),
    /// The admin lifts a rejection.
    Unblock(DeviceEvent),
    /// The admin removes an active device.
    RemoveDevice(DeviceEvent),
    /// A device finished enrolling in management (version 2).
    Enrolled {
        /// Whose device.
        user: Id,
        /// The device.
        device_id: Text,
        /// When.
        at: Timestamp,
        /// The enrollment path it took.
        method: EnrollmentMethod,
    },
    /// The admin ends management of a device and removes it (version 2).
    Deprovision(DeviceEvent),
    /// The admin erases a device and removes it (version 2).
    Wipe(DeviceEvent),
}

/// An admin's action on one device of one user.
#[allow(dead_code)]
#[derive(JsonSchema)]
pub struct DeviceEvent {
    /// Whose device.
    user: Id,
    /// The device.
    device_id: Text,
    /// When.
    at: Timestamp,
}

/// The login device: what a rule reads, and the apps installed on it (version 2).
#[allow(dead_code)]
#[derive(JsonSchema)]
pub struct LoginDevice {
    #[serde(flatten)]
    device: Device,
    /// The apps installed on the device, read for this login only.
    #[serde(default)]
    apps: Vec<InstalledApp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_has_a_titled_schema_of_the_2020_12_draft() {
        for d in Document::ALL {
            let s = d.schema();
            assert_eq!(Document::parse(d.name()), Some(d));
            assert_eq!(
                s.get("$schema").and_then(|v| v.as_str()),
                Some("https://json-schema.org/draft/2020-12/schema")
            );
            assert!(s.get("title").is_some());
        }
        // A policy document is one of the two shapes, each closed and needing `schema`.
        let policy = serde_json::to_value(Document::Policy.schema()).unwrap();
        for shape in ["PolicyDoc", "PolicySetDoc"] {
            let s = &policy["$defs"][shape];
            assert_eq!(s["required"], serde_json::json!(["schema"]), "{s:#}");
            assert_eq!(s["additionalProperties"], serde_json::json!(false));
        }
        assert_eq!(policy["$defs"]["PolicyEntryDoc"]["required"], serde_json::json!(["name"]));
        assert_eq!(policy["anyOf"].as_array().map(Vec::len), Some(2));
    }
}
