//! The engine for JavaScript: each export delegates to `mdm-engine`. Documents (policies,
//! populations) cross as JSON text, parsed by the engine with JSON Pointers in its errors;
//! events and states cross as JS objects. Errors are thrown as `Error`s carrying the
//! contract's `code` and `pointer`.
//!
//! Values cross as JSON text (`JSON.stringify` in, `JSON.parse` out) rather than through
//! serde-wasm-bindgen: V8 parses a 100k-user preview report far faster than the module
//! could build it object by object, and the module stays within its budget
//! (`BROWSER_MODULE_BUDGET` in js/budget.mjs; the serializer and its `js-sys` glue cost
//! 25 KB).

use mdm_engine as e;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Talc instead of the standard library's dlmalloc: a few KB smaller in the module, and
/// faster (see docs/decisions.md).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../types.d.ts");

/// An engine error as a JS `Error` with `code` and `pointer` properties.
fn throw(err: e::Error) -> JsValue {
    let js = js_sys::Error::new(&err.message());
    js.set_name("MdmError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&js, &"code".into(), &err.code().as_str().into());
    let _ = js_sys::Reflect::set(&js, &"pointer".into(), &err.pointer().into());
    js.into()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(json_error)?;
    js_sys::JSON::parse(&text)
}

fn json_error(e: serde_json::Error) -> JsValue {
    JsValue::from(js_sys::Error::new(&e.to_string()))
}

/// A document as bytes for the engine to decode: JSON text, the bytes it arrived in
/// (UTF-8 is the engine's to check, so no runtime repairs it), or a JS value. A value JSON
/// cannot hold (a function, a cycle) is an error in a document of `kind`, at the root.
fn document(value: &JsValue, kind: e::DocumentKind) -> Result<Vec<u8>, JsValue> {
    if let Some(text) = value.as_string() {
        return Ok(text.into_bytes());
    }
    if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(bytes.to_vec());
    }
    let text = js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string());
    text.map(String::into_bytes).ok_or_else(|| throw(kind.error("", "not a JSON value")))
}

fn state_of(value: JsValue) -> Result<e::UserState, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(e::UserState::default());
    }
    e::UserState::from_slice(&document(&value, e::DocumentKind::State)?).map_err(throw)
}

/// Grows the module's memory by `bytes` in one step, for a parse that will need about
/// that much. The allocator otherwise grows it a few pages at a time, and every growth
/// makes the JS engine replace the memory's buffer: parsing a 100k-user population spent
/// most of its seconds there. Freed at once, the block stays with the allocator for reuse.
fn reserve(bytes: usize) {
    drop(std::hint::black_box(Vec::<u8>::with_capacity(bytes)));
}

/// A parsed, validated and indexed policy.
#[wasm_bindgen]
pub struct Policy(e::Policy);

#[wasm_bindgen]
impl Policy {
    /// Parses a policy document (JSON text, or its bytes); throws `invalid_policy`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] doc: JsValue,
    ) -> Result<Policy, JsValue> {
        e::Policy::from_slice(&document(&doc, e::DocumentKind::Policy)?).map(Policy).map_err(throw)
    }

    /// The policy document with every default filled in, as the engine resolved it: what
    /// an editor shows for the fields a document leaves out.
    #[wasm_bindgen(unchecked_return_type = "ResolvedDocument")]
    pub fn document(&self) -> Result<JsValue, JsValue> {
        to_js(self.0.doc())
    }

    /// Warnings found while validating.
    #[wasm_bindgen(unchecked_return_type = "Issue[]")]
    pub fn warnings(&self) -> Result<JsValue, JsValue> {
        to_js(&self.0.warnings())
    }

    /// Decides an event for a user in `groups` with stored `state`; returns the decision
    /// and the user's new state.
    #[wasm_bindgen(unchecked_return_type = "Evaluation")]
    pub fn evaluate(
        &self,
        groups: Vec<String>,
        #[wasm_bindgen(unchecked_param_type = "UserState | string | Uint8Array | undefined")] state: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Event | string | Uint8Array")] event: JsValue,
    ) -> Result<JsValue, JsValue> {
        let event = e::Event::from_slice(&document(&event, e::DocumentKind::Event)?).map_err(throw)?;
        to_js(&e::evaluate(&self.0, &groups, &state_of(state)?, &event).map_err(throw)?)
    }
}

/// A population for the preview, parsed once.
#[wasm_bindgen]
pub struct Population(e::preview::Population);

#[wasm_bindgen]
impl Population {
    /// Parses `{ "directory": {...}, "state": {...} }`, or NDJSON with one
    /// `{ "user", "groups", "state" }` a line (JSON text, or its bytes); throws
    /// `invalid_state`. Held compactly: about 200 bytes a user with one device.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] doc: JsValue,
    ) -> Result<Population, JsValue> {
        let bytes = document(&doc, e::DocumentKind::State)?;
        // The compact population and the parse's passing tables take about the text's
        // size again (`engine/tests/population_memory.rs`), and the text is here once.
        reserve(bytes.len().saturating_mul(2));
        let text = e::DocumentKind::State.text(&bytes).map_err(throw)?;
        e::preview::Population::from_json(text).map(Population).map_err(throw)
    }

    /// How many users it holds.
    #[wasm_bindgen(getter)]
    pub fn users(&self) -> usize {
        self.0.users().count()
    }
}

/// Validates a policy document (JSON text, or its bytes): every error and warning (up to
/// 100 errors), each with its code and JSON Pointer. Bytes that are not UTF-8 are one
/// `syntax` error, as text that is not JSON is.
#[wasm_bindgen(unchecked_return_type = "Validation")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] doc: JsValue,
) -> Result<JsValue, JsValue> {
    let bytes = document(&doc, e::DocumentKind::Policy)?;
    match e::DocumentKind::Policy.text(&bytes) {
        Ok(text) => to_js(&e::validate(text)),
        Err(err) => to_js(&e::Validation::syntax(err.message())),
    }
}

/// The engine's version (`MAJOR.MINOR.PATCH`).
#[wasm_bindgen]
pub fn version() -> String {
    e::VERSION.to_string()
}

/// The what-if preview of spec section 5 at `at` (RFC 3339).
#[wasm_bindgen(unchecked_return_type = "PreviewReport")]
pub fn preview(
    current: &Policy,
    proposed: &Policy,
    population: &Population,
    at: &str,
) -> Result<JsValue, JsValue> {
    let report = e::preview::preview(&current.0, &proposed.0, &population.0, timestamp(at)?);
    js_sys::JSON::parse(&report.to_json().map_err(json_error)?)
}

/// A stored state, checked and with every list present (`invalid_state`).
#[wasm_bindgen(js_name = parseState, unchecked_return_type = "UserState")]
pub fn parse_state(
    #[wasm_bindgen(unchecked_param_type = "unknown")] value: JsValue,
) -> Result<JsValue, JsValue> {
    to_js(&state_of(value)?)
}

fn timestamp(at: &str) -> Result<e::Timestamp, JsValue> {
    e::Timestamp::parse(at).map_err(|err| throw(e::DocumentKind::Event.error("/at", err.to_string())))
}
