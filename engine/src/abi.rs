//! What the engine's WebAssembly component needs beyond the public API: decisions over
//! interned principals and per-call device tokens, so that no id string crosses the
//! boundary. Not a stable API: it changes with the WIT package.

use crate::decide::Named;
use crate::{AdminAction, Device, Effect, Error, LoginDecision, Policy, Timestamp, UserState};

pub use crate::decide::Named as DeviceName;
pub use crate::json::escape_pointer;

/// The user ids and the group ids the policy names, in index order: user `i` is
/// principal `i`, group `j` is principal `users.len() + j`.
pub fn principals(policy: &Policy) -> (&[Box<str>], &[Box<str>]) {
    (policy.user_ids().names(), policy.group_ids().names())
}

/// Decides a login of the user who is `principals` (the user and the groups the policy
/// names, interned; see [`principals`]).
pub fn decide_login<K: Clone + PartialEq>(
    policy: &Policy,
    principals: &[u32],
    state: &UserState<K>,
    device: &Device<K>,
    at: Timestamp,
) -> LoginDecision<K> {
    policy.login(policy.scope(policy.subject_interned(principals)), state, device, at)
}

/// Decides an admin's action on the device `device_id`.
pub fn decide_admin<K: Clone + PartialEq + Named>(
    policy: &Policy,
    state: &UserState<K>,
    action: AdminAction,
    device_id: &K,
    at: Timestamp,
) -> Result<Vec<Effect<K>>, Error> {
    policy.decide_admin(state, action, device_id, at)
}
