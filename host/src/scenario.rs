//! The scenario corpus's implementation under test, in the wasmtime sandbox.

use mdm_engine::scenario::{Failure, Runtime as UnderTest};
use mdm_engine::{Decision, ErrorCode, Event, UserState};
use serde_json::Value;

use crate::{Gateway, HostError, Runtime};

/// Runs scenario steps in the component: events are decoded with the engine's types (as
/// a gateway does), and every decision is made in the sandbox.
pub struct Wasm(pub Runtime);

fn failure(e: HostError) -> Failure {
    match e {
        HostError::Engine(e) => Failure::from(e),
        other => {
            Failure { code: other.code().to_string(), pointer: String::new(), message: other.to_string() }
        }
    }
}

impl UnderTest for Wasm {
    type Policy = Gateway;

    fn load_policy(&mut self, policy: &Value) -> Result<Gateway, Failure> {
        self.0.gateway(&policy.to_string()).map_err(failure)
    }

    fn decide(
        &mut self,
        gateway: &Gateway,
        groups: &[String],
        state: &UserState,
        event: &Value,
    ) -> Result<Decision, Failure> {
        let event = Event::from_value(event)?;
        gateway.decide(groups, state, &event).map_err(failure)
    }

    fn load_policy_bytes(&mut self, bytes: &[u8]) -> Result<Gateway, Failure> {
        let text = mdm_engine::json::utf8(bytes, ErrorCode::InvalidPolicy)?;
        self.0.gateway(text).map_err(failure)
    }

    fn decide_bytes(
        &mut self,
        gateway: &Gateway,
        groups: &[String],
        state: &[u8],
        event: &[u8],
    ) -> Result<Decision, Failure> {
        // A gateway decodes the state it stored and the event it received with the
        // engine's types, then crosses into the sandbox with typed values.
        let state = UserState::from_slice(state)?;
        let event = Event::from_slice(event)?;
        gateway.decide(groups, &state, &event).map_err(failure)
    }
}
