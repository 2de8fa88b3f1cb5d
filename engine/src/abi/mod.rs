//! What the engine's WebAssembly component needs beyond the public API: decisions over
//! interned principals, app ids and per-call device tokens, so that no id string crosses
//! the boundary. Not a stable API: it changes with the WIT package.

pub mod context;

use crate::decide::LoginDecision;
use crate::device::{Device, UserState};
use crate::error::AdminFailure;
use crate::manage::AppPlatform;
use crate::policy::Policy;
use crate::time::Timestamp;

pub use crate::decide::{AdminDecision, AdminRequest, FromDevice};
pub use crate::json::escape_pointer;

/// The user ids and the group ids the policy names, in index order: user `i` is
/// principal `i`, group `j` is principal `users.len() + j`.
pub fn principals(policy: &Policy) -> (&[Box<str>], &[Box<str>]) {
    (policy.user_ids().names(), policy.group_ids().names())
}

/// The distinct app ids of the policy's store, in index order: a login's installed apps
/// cross as these indices.
pub fn app_ids(policy: &Policy) -> &[Box<str>] {
    policy.app_ids().names()
}

/// The policy's store in policy order: platform, id, name, and the index of the id among
/// [`app_ids`].
pub fn apps(policy: &Policy) -> impl Iterator<Item = (AppPlatform, &str, &str, u32)> {
    policy.app_list()
}

/// Decides a login of the user who is `principals` (the user and the groups the policy
/// names, interned; see [`principals`]), on a device that reports `installed` (app id
/// index, managed).
pub fn decide_login<K: Clone + PartialEq>(
    policy: &Policy,
    principals: &[u32],
    state: &UserState<K>,
    device: &Device<K>,
    installed: &[(u32, bool)],
    at: Timestamp,
) -> LoginDecision<K> {
    crate::decide::login(policy, principals.iter().copied(), state, device, installed, at)
}

/// Carries out an admin event of the user who is `principals`.
pub fn decide_admin<K: Clone + PartialEq>(
    policy: &Policy,
    principals: &[u32],
    state: &UserState<K>,
    request: &AdminRequest<K>,
) -> Result<AdminDecision<K>, AdminFailure> {
    crate::decide::admin(policy, principals, state, request)
}
