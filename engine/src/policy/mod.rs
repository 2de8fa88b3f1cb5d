//! The policy document compiled (contract section 1 of v1, v2 and v3): the organisation's
//! settings, each policy's [`Rules`], and the index that finds a user's policy.
//!
//! A version 1 or 2 document is a set of one policy whose settings are the document's,
//! so every decision reads one shape.

mod check;
mod doc;
mod index;
mod rules;

use std::sync::Arc;

pub use check::{Issue, IssueCode, Validation, validate};
pub use doc::{
    AppDoc, AssignedOnNewDevice, AssignedSettings, Assignment, ConfigurationSettings, DeviceMatch,
    EnrollmentSettings, MAX_APPS, MAX_DEVICES_LIMIT, MAX_PIN_LENGTH, MAX_POLICIES, OnApprove, OsVersions,
    PolicyDoc, PolicyDocument, PolicyEntryDoc, PolicySetDoc, Requirements, SCHEMA, SCHEMA_V2, SCHEMA_V3,
    SchemaVersion, UnassignedAccess, UnassignedOnNewDevice, UnassignedSettings,
};
pub(crate) use index::IdTable;
pub(crate) use rules::Rules;

use crate::device::Device;
use crate::document::DocumentKind;
use crate::error::Error;
use crate::manage::{AppPlatform, AppStatus, InstalledApp, OfferedApp};
use crate::outcome::{Access, Membership, Outcome, Reason, Reasons, Scope};
use index::Naming;
use rules::RulesDoc;

/// A parsed, validated and indexed policy document: built once, then used for many
/// decisions. Of a version 3 document, the whole set.
#[derive(Debug, Clone)]
pub struct Policy {
    doc: PolicyDocument,
    /// `false`: nobody is assigned (`scope.disabled`).
    enabled: bool,
    device_match: DeviceMatch,
    unassigned: UnassignedSettings,
    /// Every policy, in the document's order (a disabled one too, so that an index is a
    /// position in the list); one for a version 1 or 2 document.
    rules: Vec<Rules>,
    users: IdTable,
    groups: IdTable,
    /// Which enabled policies name each user and group, and how.
    naming: Naming,
    /// The enabled policies that assign the whole organisation, in order.
    organization: Vec<u32>,
    apps: Vec<App>,
    /// The apps assigned to every assigned user (both lists empty), by index.
    apps_for_everyone: Box<[u32]>,
    /// Each (principal, app) pair of an app's audience, packed principal-high into a
    /// `u64` and sorted: a user's store is found from their own few principals, not by
    /// searching every app's audience (a sorted list, not a map: no other hash table
    /// type is compiled into the modules).
    apps_by_principal: Box<[u64]>,
    /// The distinct app ids of `apps`, interned: a login's installed apps are looked up
    /// here, and cross the wasm boundary as these indices.
    app_ids: IdTable,
    warnings: Vec<Issue>,
}

/// An app of the store, compiled.
#[derive(Debug, Clone)]
struct App {
    platform: AppPlatform,
    id: Arc<str>,
    name: Arc<str>,
    /// The index of `id` in the policy's app ids.
    id_index: u32,
}

/// The name of a user's policy in a set, with its index in the set's list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyName {
    index: u32,
    name: Arc<str>,
}

impl PolicyName {
    /// The name and its policy's index in the document's list; what a host that resolves
    /// an index to a name builds.
    pub fn new(index: u32, name: impl Into<Arc<str>>) -> Self {
        PolicyName { index, name: name.into() }
    }

    /// The policy's position in the document's list.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl serde::Serialize for PolicyName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

/// The `policy` key of a decision, or of one side of a preview (contract version 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum PolicyKey {
    /// No key: the decision of a version 1 or 2 document (in a preview, neither side is a
    /// version 3 document).
    #[default]
    Absent,
    /// `"policy": null`: no policy of the set assigns the user (or, in a preview with one
    /// version 3 side, this side is not a set).
    Null,
    /// `"policy": "<name>"`: the user's policy.
    Named(PolicyName),
}

impl PolicyKey {
    /// Whether the key is left out.
    pub fn is_absent(&self) -> bool {
        matches!(self, PolicyKey::Absent)
    }

    /// The user's policy, if one assigns them.
    pub fn name(&self) -> Option<&PolicyName> {
        match self {
            PolicyKey::Named(n) => Some(n),
            PolicyKey::Absent | PolicyKey::Null => None,
        }
    }
}

impl serde::Serialize for PolicyKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PolicyKey::Named(n) => n.serialize(s),
            PolicyKey::Absent | PolicyKey::Null => s.serialize_none(),
        }
    }
}

/// Where a policy document places one user: their scope, and under a set, their policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    pub(crate) scope: Scope,
    /// The index of the user's policy in the document's list, when assigned.
    pub(crate) policy: Option<u32>,
}

/// How a policy document places one user, for a caller outside the engine (tests, tools):
/// see [`Policy::place`].
#[derive(Debug, Clone, Copy)]
pub struct UserPlacement<'p> {
    policy: &'p Policy,
    placement: Placement,
}

impl UserPlacement<'_> {
    /// Whether the user is assigned.
    pub fn assigned(&self) -> bool {
        self.placement.scope.assigned()
    }

    /// The scope's reason.
    pub fn scope(&self) -> Reason {
        self.placement.scope.reason()
    }

    /// The decision's `policy` key for this user.
    pub fn policy(&self) -> PolicyKey {
        self.policy.key(self.placement)
    }

    /// The devices the user keeps without approval (assigned) or at all (unassigned).
    pub fn max_devices(&self) -> u32 {
        match self.policy.rules_of(self.placement) {
            Some(r) => r.max_devices(),
            None => self.policy.unassigned.max_devices,
        }
    }

    /// The posture rules `device` fails under the user's policy; none for an unassigned
    /// user, whom no requirement applies to.
    pub fn posture<K>(&self, device: &Device<K>) -> Reasons {
        self.policy.rules_of(self.placement).map(|r| r.posture(device)).unwrap_or_default()
    }
}

/// The principals of one user that a document names, on the stack for the usual few.
pub(crate) type Principals = smallvec::SmallVec<[u32; 16]>;

impl Policy {
    /// Parses, validates and compiles a policy document of any version.
    pub fn from_json(text: &str) -> Result<Policy, Error> {
        if doc::is_set(text) {
            Policy::compile_set(DocumentKind::Policy.parse(text)?)
        } else {
            Policy::compile(DocumentKind::Policy.parse(text)?)
        }
    }

    /// Same as [`Policy::from_json`], from bytes that must be UTF-8.
    pub fn from_slice(bytes: &[u8]) -> Result<Policy, Error> {
        Policy::from_json(DocumentKind::Policy.text(bytes)?)
    }

    /// Same as [`Policy::from_json`], from a parsed JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Policy, Error> {
        Policy::from_json(&value.to_string())
    }

    /// Validates and compiles a typed version 1 or 2 document.
    pub fn compile(doc: PolicyDoc) -> Result<Policy, Error> {
        let warnings = first_error(check::check(&doc))?;
        let mut doc = doc;
        doc.resolve();
        let rules = vec![Rules::compile(RulesDoc {
            name: None,
            organization: doc.assignment.organization,
            assigned: &doc.assigned,
            requirements: &doc.requirements,
            enrollment: doc.enrollment.as_ref(),
            data_separation: doc.configuration.as_ref().is_some_and(|c| c.data_separation),
        })];
        let assignments = [(0, &doc.assignment)];
        let apps = doc.apps.as_deref().unwrap_or_default();
        let mut policy = Policy::index(&assignments, apps, rules, warnings);
        policy.enabled = doc.enabled;
        policy.device_match = doc.device_match;
        policy.unassigned = doc.unassigned.clone();
        policy.doc = PolicyDocument::Single(Box::new(doc));
        Ok(policy)
    }

    /// Validates and compiles a typed version 3 document.
    pub fn compile_set(doc: PolicySetDoc) -> Result<Policy, Error> {
        let warnings = first_error(check::check_set(&doc))?;
        let mut doc = doc;
        doc.resolve();
        let rules = doc
            .policies
            .iter()
            .map(|p| {
                Rules::compile(RulesDoc {
                    name: p.name.as_deref(),
                    organization: p.assignment.organization,
                    assigned: &p.assigned,
                    requirements: &p.requirements,
                    enrollment: Some(&p.enrollment),
                    data_separation: p.configuration.data_separation,
                })
            })
            .collect();
        // A disabled policy assigns and excludes nobody: it is not indexed.
        let assignments: Vec<(u32, &Assignment)> = doc
            .policies
            .iter()
            .enumerate()
            .filter(|(_, p)| p.enabled)
            .map(|(i, p)| (i as u32, &p.assignment))
            .collect();
        let mut policy = Policy::index(&assignments, &doc.apps, rules, warnings);
        policy.enabled = doc.enabled;
        policy.device_match = doc.device_match;
        policy.unassigned = doc.unassigned.clone();
        policy.doc = PolicyDocument::Set(doc);
        Ok(policy)
    }

    /// The id tables and the naming of `assignments` (each policy's index and its
    /// assignment), and the store.
    fn index(
        assignments: &[(u32, &Assignment)],
        app_docs: &[AppDoc],
        rules: Vec<Rules>,
        warnings: Vec<Issue>,
    ) -> Policy {
        let listed = |f: fn(&Assignment) -> usize| assignments.iter().map(|(_, a)| f(a)).sum::<usize>();
        let app_ids_of = |f: fn(&AppDoc) -> usize| app_docs.iter().map(f).sum::<usize>();
        let mut users = IdTable::with_capacity(
            listed(|a| a.users.len() + a.exclude_users.len()) + app_ids_of(|a| a.users.len()),
        );
        let mut groups = IdTable::with_capacity(
            listed(|a| a.groups.len() + a.exclude_groups.len()) + app_ids_of(|a| a.groups.len()),
        );
        // Interned first, so that a principal's index is final before it is named.
        let mut named: Vec<(bool, u32, u32, Membership)> = Vec::new();
        for &(p, a) in assignments {
            for (ids, bits) in [(&a.users, Membership::INCLUDED), (&a.exclude_users, Membership::EXCLUDED)] {
                named.extend(ids.iter().map(|u| (true, users.add(u), p, bits)));
            }
            for (ids, bits) in [(&a.groups, Membership::INCLUDED), (&a.exclude_groups, Membership::EXCLUDED)]
            {
                named.extend(ids.iter().map(|g| (false, groups.add(g), p, bits)));
            }
        }
        // Ids an app names join the tables unnamed by any policy: they change no scope.
        for app in app_docs {
            app.users.iter().for_each(|u| {
                users.add(u);
            });
            app.groups.iter().for_each(|g| {
                groups.add(g);
            });
        }
        let user_count = users.names().len() as u32;
        let mut naming = Naming::new(users.names().len() + groups.names().len());
        for (is_user, i, p, bits) in named {
            naming.add(if is_user { i } else { i + user_count }, p, bits);
        }
        naming.seal();
        let organization = assignments.iter().filter(|(_, a)| a.organization).map(|&(p, _)| p).collect();
        let mut app_ids = IdTable::default();
        let mut apps_for_everyone = Vec::new();
        let mut by_principal: Vec<u64> = Vec::new();
        let apps = app_docs
            .iter()
            .enumerate()
            .map(|(index, app)| {
                let index = index as u32;
                if app.users.is_empty() && app.groups.is_empty() {
                    apps_for_everyone.push(index);
                }
                let audience = app
                    .users
                    .iter()
                    .filter_map(|u| users.lookup(u))
                    .chain(app.groups.iter().filter_map(|g| groups.lookup(g)).map(|g| g + user_count));
                by_principal.extend(audience.map(|principal| u64::from(principal) << 32 | u64::from(index)));
                App {
                    platform: app.platform,
                    id: app.id.as_str().into(),
                    name: app.name.as_str().into(),
                    id_index: app_ids.add(&app.id),
                }
            })
            .collect();
        crate::sort::sort(&mut by_principal);
        // An id listed twice in one app names it once.
        by_principal.dedup();
        let apps_by_principal = by_principal.into_boxed_slice();
        Policy {
            doc: PolicyDocument::Single(Box::default()),
            enabled: true,
            device_match: DeviceMatch::default(),
            unassigned: UnassignedSettings::default(),
            rules,
            users,
            groups,
            naming,
            organization,
            apps,
            apps_for_everyone: apps_for_everyone.into(),
            apps_by_principal,
            app_ids,
            warnings,
        }
    }

    /// The document with every default filled in: what an editor shows for the fields a
    /// document leaves out (serialise it for the JSON).
    pub fn doc(&self) -> &PolicyDocument {
        &self.doc
    }

    /// Whether the document is a version 3 set (its decisions carry `policy`).
    pub fn is_set(&self) -> bool {
        matches!(self.doc, PolicyDocument::Set(_))
    }

    /// The names of a set's policies, in its order; `None` for a version 1 or 2 document.
    pub fn policy_names(&self) -> Option<impl ExactSizeIterator<Item = &str>> {
        self.is_set().then(|| self.rules.iter().map(|r| r.name().map_or("", |n| &**n)))
    }

    /// Warnings found while validating (ids both included and excluded).
    pub fn warnings(&self) -> &[Issue] {
        &self.warnings
    }

    /// Where the document places `user` in `groups`.
    pub fn place<G: AsRef<str>>(&self, user: &str, groups: &[G]) -> UserPlacement<'_> {
        let principals: Principals = self.principals(user, groups).collect();
        UserPlacement { policy: self, placement: self.placement(&principals) }
    }

    /// The users the document names, interned.
    pub(crate) fn user_ids(&self) -> &IdTable {
        &self.users
    }

    /// The groups the document names, interned.
    pub(crate) fn group_ids(&self) -> &IdTable {
        &self.groups
    }

    /// The distinct app ids of the store, interned.
    pub(crate) fn app_ids(&self) -> &IdTable {
        &self.app_ids
    }

    /// The store in document order: platform, id, name, and the id's index.
    pub(crate) fn app_list(&self) -> impl Iterator<Item = (AppPlatform, &str, &str, u32)> {
        self.apps.iter().map(|a| (a.platform, &*a.id, &*a.name, a.id_index))
    }

    /// What makes a login device the same as a registered one.
    pub(crate) fn device_match(&self) -> DeviceMatch {
        self.device_match
    }

    /// The settings for users nothing assigns.
    pub(crate) fn unassigned(&self) -> &UnassignedSettings {
        &self.unassigned
    }

    /// What an unassigned user's allowed login gets.
    pub(crate) fn allowed_unassigned(&self) -> (Outcome, Access) {
        let u = &self.unassigned;
        let full = u.access == UnassignedAccess::Full;
        let outcome = if full { Outcome::Allow } else { Outcome::Limited };
        (outcome, Access { app: true, sso: full, push_mfa: u.push_mfa })
    }

    /// The rules of a placed user: their policy's when assigned.
    pub(crate) fn rules_of(&self, placement: Placement) -> Option<&Rules> {
        placement.policy.and_then(|p| self.rules.get(p as usize))
    }

    /// The rules an admin event reads for a user placed so: under a version 1 or 2
    /// document the document's own whatever the scope (as those contracts say), under a
    /// set the user's policy now, none when unassigned.
    pub(crate) fn admin_rules(&self, placement: Placement) -> Option<&Rules> {
        if self.is_set() { self.rules_of(placement) } else { self.rules.first() }
    }

    /// The decision's `policy` key for a placed user.
    pub(crate) fn key(&self, placement: Placement) -> PolicyKey {
        if !self.is_set() {
            return PolicyKey::Absent;
        }
        match placement.policy.and_then(|p| Some((p, self.rules.get(p as usize)?.name()?))) {
            Some((index, name)) => PolicyKey::Named(PolicyName { index, name: name.clone() }),
            None => PolicyKey::Null,
        }
    }

    /// The rules of each policy, in order: what the preview makes its probes from.
    pub(crate) fn all_rules(&self) -> &[Rules] {
        &self.rules
    }

    /// The principals of `user` in `groups` that the document names: user `i` of its user
    /// ids is `i`, group `j` of its group ids is `users + j`. Ids it does not name are
    /// dropped: they change no scope and get no app.
    pub(crate) fn principals<'a, G: AsRef<str>>(
        &'a self,
        user: &str,
        groups: &'a [G],
    ) -> impl Iterator<Item = u32> + Clone + 'a {
        let groups = groups.iter().filter_map(move |g| self.group_principal(g.as_ref()));
        self.user_principal(user).into_iter().chain(groups)
    }

    /// The principal of a user id, if the document names it.
    pub(crate) fn user_principal(&self, user: &str) -> Option<u32> {
        self.users.lookup(user)
    }

    /// The principal of a group id, if the document names it.
    pub(crate) fn group_principal(&self, group: &str) -> Option<u32> {
        let users = self.users.names().len() as u32;
        self.groups.lookup(group).map(|g| g + users)
    }

    /// Where the document places the user who is `principals`: the first enabled policy
    /// that assigns them, by the scope rules inside it; unassigned, the exclusion of the
    /// first enabled policy that excludes them, else `scope.none`.
    ///
    /// One pass over the policies that name the user's principals (gathered from the
    /// index, sorted by position), merged with the policies that assign the whole
    /// organisation: a policy that names none of them and does not assign everyone is
    /// never looked at, so the cost does not grow with the policies a user is not in.
    pub(crate) fn placement(&self, principals: &[u32]) -> Placement {
        if !self.enabled {
            return Placement { scope: Scope::Disabled, policy: None };
        }
        let users = self.users.names().len() as u32;
        // Each policy that names one of the principals, and how, packed in a `u32` (the
        // policy above a bit for "by the user's id" and the two membership bits), so that
        // sorting them sorts by policy, and no list or sort of another type is compiled in.
        let mut hits: Principals = Principals::new();
        for &p in principals {
            let by_user = u32::from(p < users) << 2;
            hits.extend(self.naming.of(p).map(|(policy, bits)| policy << 3 | by_user | u32::from(bits.0)));
        }
        if self.rules.len() > 1 {
            crate::sort::sort(&mut hits);
        }
        let mut organization = self.organization.iter().copied().peekable();
        let mut rest = hits.as_slice();
        let mut excluded = None;
        loop {
            let policy = match (rest.first().map(|h| h >> 3), organization.peek().copied()) {
                (None, None) => break,
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
            };
            if organization.peek() == Some(&policy) {
                organization.next();
            }
            let (mut user, mut group) = (Membership::default(), Membership::default());
            while let Some((&hit, tail)) = rest.split_first()
                && hit >> 3 == policy
            {
                let bits = Membership((hit & 3) as u8);
                if hit & 4 != 0 {
                    user = user | bits;
                } else {
                    group = group | bits;
                }
                rest = tail;
            }
            let everyone = self.rules.get(policy as usize).is_some_and(Rules::organization);
            let scope = Scope::of(user, group, everyone);
            if scope.assigned() {
                return Placement { scope, policy: Some(policy) };
            }
            if excluded.is_none() && matches!(scope, Scope::ExcludedUser | Scope::ExcludedGroup) {
                excluded = Some(scope);
            }
        }
        Placement { scope: excluded.unwrap_or(Scope::None), policy: None }
    }

    /// The user's apps for one platform (every platform: `None`), in document order, with
    /// their status on a device that reports `installed` (app id index, managed).
    pub(crate) fn store(
        &self,
        principals: &[u32],
        os: Option<crate::ids::OsType>,
        installed: &[(u32, bool)],
    ) -> Vec<OfferedApp> {
        let status = |id: u32| {
            installed.iter().filter(|(i, _)| *i == id).fold(AppStatus::Available, |s, (_, managed)| {
                match (s, managed) {
                    (AppStatus::Unmanaged, _) | (_, false) => AppStatus::Unmanaged,
                    _ => AppStatus::Managed,
                }
            })
        };
        // The user's apps as a bit set over the store's indices: those for everyone, and
        // those naming one of the user's principals; then the store in document order.
        let mut chosen: Vec<u64> = vec![0; self.apps.len().div_ceil(64)];
        let mut mark = |i: u32| {
            if let Some(word) = chosen.get_mut(i as usize / 64) {
                *word |= 1 << (i % 64);
            }
        };
        self.apps_for_everyone.iter().for_each(|&i| mark(i));
        for &p in principals {
            let from = self.apps_by_principal.partition_point(|pair| pair >> 32 < u64::from(p));
            let pairs = self.apps_by_principal.get(from..).unwrap_or_default();
            pairs.iter().take_while(|pair| *pair >> 32 == u64::from(p)).for_each(|pair| mark(*pair as u32));
        }
        let mut store = Vec::with_capacity(chosen.iter().map(|w| w.count_ones() as usize).sum());
        for (w, &word) in chosen.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let index = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                if let Some(a) = self.apps.get(index as usize)
                    && os.is_none_or(|os| a.platform.os() == os)
                {
                    store.push(OfferedApp {
                        index,
                        id: a.id.clone(),
                        name: a.name.clone(),
                        status: status(a.id_index),
                    });
                }
            }
        }
        store
    }

    /// The platform of the store's app at `index`.
    pub(crate) fn app_platform(&self, index: u32) -> AppPlatform {
        self.apps.get(index as usize).map_or(AppPlatform::Ios, |a| a.platform)
    }

    /// The installed apps the store names, as (app id index, managed); the rest can change
    /// nothing.
    pub(crate) fn installed(&self, apps: &[InstalledApp]) -> Vec<(u32, bool)> {
        apps.iter().filter_map(|a| Some((self.app_ids.lookup(&a.id)?, a.managed))).collect()
    }
}

/// The warnings of a validation without errors, or the first error.
fn first_error(v: Validation) -> Result<Vec<Issue>, Error> {
    match v.errors.into_iter().next() {
        Some(first) => Err(Error::InvalidPolicy { pointer: first.pointer, message: first.message }),
        None => Ok(v.warnings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resolved_document_is_the_defaults_and_means_the_same() {
        let p = Policy::from_json(r#"{"schema":"mdm.policy/v1"}"#).unwrap();
        let expected = PolicyDoc { schema: Some(SCHEMA.into()), ..PolicyDoc::default() };
        let doc = p.doc().single().unwrap();
        assert_eq!(doc.enrollment, None, "a version 1 document stays one");
        assert_eq!(doc, &expected);
        assert_eq!(doc.assigned.approval_ttl_hours, 72);
        assert!(doc.enabled && doc.assigned.push_mfa && !doc.unassigned.push_mfa);
        let text = serde_json::to_string(p.doc()).unwrap();
        assert_eq!(Policy::from_json(&text).unwrap().doc(), p.doc());
    }

    #[test]
    fn a_missing_schema_is_reported_with_the_other_errors() {
        let v = validate(r#"{"assigned":{"max_devices":0}}"#);
        let pointers: Vec<&str> = v.errors.iter().map(|i| i.pointer.as_str()).collect();
        assert_eq!(pointers, ["/schema", "/assigned/max_devices"]);
        assert_eq!(v.errors[0].message, "missing field `schema`");
    }

    fn set(policies: &str) -> Policy {
        Policy::from_json(&format!(r#"{{"schema":"mdm.policy/v3","policies":[{policies}]}}"#)).unwrap()
    }

    fn placed(p: &Policy, user: &str, groups: &[&str]) -> (Reason, Option<String>) {
        let place = p.place(user, groups);
        (place.scope(), place.policy().name().map(|n| n.name().to_string()))
    }

    #[test]
    fn the_first_enabled_policy_that_assigns_is_the_users() {
        let p = set(r#"{"name":"a","assignment":{"groups":["g"],"exclude_users":["x"]}},
               {"name":"off","enabled":false,"assignment":{"organization":true}},
               {"name":"b","assignment":{"users":["x"],"exclude_groups":["k"]}},
               {"name":"all","assignment":{"organization":true,"exclude_groups":["kiosk"]}}"#);
        assert_eq!(placed(&p, "u", &["g"]), (Reason::ScopeGroup, Some("a".into())));
        assert_eq!(placed(&p, "x", &["g"]), (Reason::ScopeUser, Some("b".into())));
        assert_eq!(placed(&p, "x", &["g", "k"]), (Reason::ScopeOrganization, Some("all".into())));
        assert_eq!(placed(&p, "v", &[]), (Reason::ScopeOrganization, Some("all".into())));
        // Unassigned: the exclusion of the first enabled policy that excludes the user.
        assert_eq!(placed(&p, "x", &["g", "k", "kiosk"]), (Reason::ScopeExcludedUser, None));
        assert_eq!(placed(&p, "v", &["kiosk"]), (Reason::ScopeExcludedGroup, None));
        assert_eq!(p.policy_names().unwrap().collect::<Vec<_>>(), ["a", "off", "b", "all"]);
    }

    #[test]
    fn every_policy_disabled_or_none_is_no_scope_but_a_disabled_set_is() {
        let p =
            set(r#"{"name":"a","enabled":false,"assignment":{"organization":true,"exclude_users":["u"]}}"#);
        assert_eq!(placed(&p, "u", &[]), (Reason::ScopeNone, None));
        let p = set("");
        assert_eq!(placed(&p, "u", &[]), (Reason::ScopeNone, None));
        let p = Policy::from_json(
            r#"{"schema":"mdm.policy/v3","enabled":false,"policies":[{"name":"a","assignment":{"organization":true}}]}"#,
        )
        .unwrap();
        assert_eq!(placed(&p, "u", &[]), (Reason::ScopeDisabled, None));
        assert_eq!(p.place("u", &[] as &[&str]).policy(), PolicyKey::Null);
    }

    #[test]
    fn a_version_one_document_has_no_policy_key() {
        let p = Policy::from_json(r#"{"schema":"mdm.policy/v1","assignment":{"groups":["g"]}}"#).unwrap();
        assert_eq!(p.place("u", &["g"]).policy(), PolicyKey::Absent);
        assert!(p.policy_names().is_none());
    }
}
