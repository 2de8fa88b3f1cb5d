//! The engine in the wasmtime sandbox, as a gateway runs it.

use mdm_engine::{Decision, DocumentKind, Event, UserState};
use mdm_host::{Gateway, HostError, Runtime};

use crate::{Failure, UnderTest};

/// Decides in the sandboxed component: the state and the event are decoded with the
/// engine's types (as a gateway decodes what it stored and what it received), and every
/// decision is made in the sandbox.
#[derive(Clone)]
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

    fn load_policy(&mut self, document: &[u8]) -> Result<Gateway, Failure> {
        let text = DocumentKind::Policy.text(document)?;
        self.0.gateway(text).map_err(failure)
    }

    fn decide(
        &mut self,
        gateway: &Gateway,
        groups: &[String],
        state: &[u8],
        event: &[u8],
    ) -> Result<Decision, Failure> {
        let state = UserState::from_slice(state)?;
        let event = Event::from_slice(event)?;
        gateway.decide(groups, &state, &event).map_err(failure)
    }
}
