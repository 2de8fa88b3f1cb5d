//! mdm-policy's test kit, kept apart from the engine and the host as Cedar keeps
//! `cedar-testing` apart from `cedar-policy`: nothing here is part of the API a gateway
//! links.
//!
//! - [`UnderTest`]: the one trait in front of an implementation under test, on the bytes a
//!   caller receives. [`Native`] calls the engine; [`Wasm`] decides in the sandboxed
//!   component of `mdm-host`, as a gateway does. (The JS package runs the same corpus with
//!   its own runner in `js/test/`, and must give the same traces.)
//! - [`scenario`]: scenario files (spec section 4) and their runner, with a typed trace.
//! - [`bad`]: the bad-input corpus (`tests/bad/`) and its runner.
//! - [`invariants`]: the contract's invariants, checked on any decided event.
//! - `generate`: seeded random worlds for the differential test (feature `generate`).
//! - [`corpus`]: finding the JSON files of a corpus.
//! - [`coverage`]: which reasons, outcomes, errors, events and settings a suite exercised.

pub mod bad;
pub mod corpus;
pub mod coverage;
#[cfg(feature = "generate")]
pub mod generate;
pub mod invariants;
pub mod scenario;
#[cfg(feature = "wasmtime")]
mod wasm;

use mdm_engine::{Decision, Error, Event, Policy, UserState, decide};
use serde::{Deserialize, Serialize};

#[cfg(feature = "wasmtime")]
pub use wasm::Wasm;

/// An error as any implementation reports it: code, pointer and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The contract's error code, or a host's own (`host.trap`) for a sandbox fault.
    pub code: String,
    /// JSON Pointer of the offending field ("" for none or the root).
    pub pointer: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            code: e.code().as_str().to_string(),
            pointer: e.pointer().to_string(),
            message: e.message(),
        }
    }
}

/// The implementation under test: the engine natively, in wasmtime, or behind a service.
/// Documents cross as the bytes a caller received, so every implementation decodes them
/// itself (UTF-8 included) and reports its own errors.
pub trait UnderTest {
    /// A loaded policy.
    type Policy;

    /// Parses, validates and compiles a policy document.
    fn load_policy(&mut self, document: &[u8]) -> Result<Self::Policy, Failure>;

    /// Decides the event document `event` for a user in `groups` whose stored state is
    /// the document `state`.
    fn decide(
        &mut self,
        policy: &Self::Policy,
        groups: &[String],
        state: &[u8],
        event: &[u8],
    ) -> Result<Decision, Failure>;
}

/// The engine, called directly.
#[derive(Debug, Default, Clone, Copy)]
pub struct Native;

impl UnderTest for Native {
    type Policy = Policy;

    fn load_policy(&mut self, document: &[u8]) -> Result<Policy, Failure> {
        Ok(Policy::from_slice(document)?)
    }

    fn decide(
        &mut self,
        policy: &Policy,
        groups: &[String],
        state: &[u8],
        event: &[u8],
    ) -> Result<Decision, Failure> {
        let state = UserState::from_slice(state)?;
        let event = Event::from_slice(event)?;
        Ok(decide(policy, groups, &state, &event)?)
    }
}
