//! A policy loaded into the sandbox, deciding from many threads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use mdm_engine::abi::AdminRequest;
use mdm_engine::{
    Access, Admin, AdminDecision, Configuration, Decision, Effect, Enroll, Event, Issue, Login,
    LoginDecision, OfferedApp, Outcome, PolicyKey, Timestamp, UserState,
};
use rustc_hash::FxHashMap;
use wasmtime::component::ResourceAny;

use crate::record::{self, DecisionRecord, Fault, Ids, ShadowDecision};
use crate::tokens::Tokens;
use crate::{HostError, Instance, Runtime, convert};

/// The answer to a login from the sandbox: a decision, or a fault that denies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The engine decided.
    Decided(LoginDecision),
    /// The sandbox failed (trap, deadline, memory limit...): deny, and here is why.
    FailedClosed(HostError),
}

impl Verdict {
    /// The outcome; `deny` for a fault.
    pub fn outcome(&self) -> Outcome {
        match self {
            Verdict::Decided(d) => d.outcome,
            Verdict::FailedClosed(_) => Outcome::Deny,
        }
    }

    /// What the login may use; nothing for a fault.
    pub fn access(&self) -> Access {
        match self {
            Verdict::Decided(d) => d.access,
            Verdict::FailedClosed(_) => Access::default(),
        }
    }

    /// Whether the login may go on (`allow` or `limited`).
    pub fn is_allowed(&self) -> bool {
        self.outcome().is_allowed()
    }

    /// The method the device must enroll with, if it must.
    pub fn enroll(&self) -> Option<Enroll> {
        self.decision().and_then(|d| d.enroll)
    }

    /// What the managed device must apply; nothing for a fault.
    pub fn configuration(&self) -> Option<Configuration> {
        self.decision().and_then(|d| d.configuration)
    }

    /// The app store for the device; empty for a fault.
    pub fn apps(&self) -> &[OfferedApp] {
        self.decision().and_then(|d| d.apps.as_deref()).unwrap_or_default()
    }

    /// Until when a device in its grace period keeps access.
    pub fn grace_until(&self) -> Option<Timestamp> {
        self.decision().and_then(|d| d.grace_until)
    }

    /// Under a policy set (version 3), the user's policy; `null` for a fault.
    pub fn policy(&self) -> PolicyKey {
        match self {
            Verdict::Decided(d) => d.policy.clone(),
            Verdict::FailedClosed(_) => PolicyKey::Null,
        }
    }

    /// The decision, unless the sandbox failed.
    pub fn decision(&self) -> Option<&LoginDecision> {
        match self {
            Verdict::Decided(d) => Some(d),
            Verdict::FailedClosed(_) => None,
        }
    }

    /// The decision, or the fault.
    pub fn into_result(self) -> Result<LoginDecision, HostError> {
        match self {
            Verdict::Decided(d) => Ok(d),
            Verdict::FailedClosed(e) => Err(e),
        }
    }
}

/// What every instance needs to know about the current policy.
struct Loaded {
    generation: u64,
    document: Arc<str>,
    /// What records name the policy by.
    digest: Arc<str>,
    /// The version of the engine the instance reported.
    engine_version: Arc<str>,
    /// User id to principal.
    users: FxHashMap<Box<str>, u32>,
    /// Group id to principal.
    groups: FxHashMap<Box<str>, u32>,
    /// App id to the index an installed app crosses as.
    app_ids: FxHashMap<Box<str>, u32>,
    /// The store, by app index: what offered apps resolve to.
    apps: Vec<convert::App>,
    /// A policy set's names, by index: what a decision's policy resolves to; `None` for a
    /// version 1 or 2 document.
    policy_names: Option<Vec<Arc<str>>>,
    warnings: Vec<Issue>,
}

/// An instance with the policy of some generation parsed into it, and buffers reused
/// from call to call.
struct Slot {
    instance: Instance,
    policy: ResourceAny,
    generation: u64,
    /// The packed context of the call in progress (`mdm_engine::abi::context`).
    context: Vec<u8>,
    /// The call's principals, installed apps and device tokens, before they are packed.
    principals: Vec<u32>,
    installed: Vec<(u32, bool)>,
    tokens: Vec<u32>,
}

impl Slot {
    fn new(instance: Instance, policy: ResourceAny, generation: u64) -> Self {
        Slot {
            instance,
            policy,
            generation,
            context: Vec::new(),
            principals: Vec::new(),
            installed: Vec::new(),
            tokens: Vec::new(),
        }
    }
}

/// What receives the record of each decision ([`Gateway::on_decision`]).
type Hook = Arc<dyn Fn(&DecisionRecord) + Send + Sync>;

/// A policy in the sandbox. `Send + Sync`: share it between threads; each decision takes
/// an instance from a pool (making one when all are busy) and gives it back.
pub struct Gateway {
    runtime: Runtime,
    current: RwLock<Arc<Loaded>>,
    pool: Mutex<Vec<Slot>>,
    generations: AtomicU64,
    hook: RwLock<Option<Hook>>,
    /// The report-only policy, decided beside the live one for the records.
    shadow: RwLock<Option<Arc<Gateway>>>,
    ids: Ids,
}

impl Gateway {
    pub(crate) fn new(runtime: Runtime, document: &str) -> Result<Gateway, HostError> {
        let generations = AtomicU64::new(1);
        let (slot, loaded) = Self::load(&runtime, document, 1)?;
        Ok(Gateway {
            runtime,
            current: RwLock::new(Arc::new(loaded)),
            pool: Mutex::new(vec![slot]),
            generations,
            hook: RwLock::new(None),
            shadow: RwLock::new(None),
            ids: Ids::new(),
        })
    }

    /// Parses `document` in a fresh instance; the id tables come from the guest.
    fn load(runtime: &Runtime, document: &str, generation: u64) -> Result<(Slot, Loaded), HostError> {
        let mut instance = runtime.instantiate()?;
        let policy = instance
            .call(|g, s| g.mdm_policy_engine().policy().call_parse(s, document))?
            .map_err(convert::document_error)?;
        let (principals, warnings, apps, policy_names, engine_version) = instance.call(|g, s| {
            let p = g.mdm_policy_engine().policy();
            Ok((
                p.call_principals(&mut *s, policy)?,
                p.call_warnings(&mut *s, policy)?,
                p.call_apps(&mut *s, policy)?,
                p.call_policy_names(&mut *s, policy)?,
                g.mdm_policy_engine().call_version(&mut *s)?,
            ))
        })?;
        // Users are principals 0..n, groups n.. (see the WIT `principal`).
        let offset = principals.users.len() as u32;
        let index = |names: Vec<String>, offset: u32| {
            names.into_iter().enumerate().map(|(i, n)| (n.into_boxed_str(), offset + i as u32)).collect()
        };
        let loaded = Loaded {
            generation,
            document: document.into(),
            digest: record::digest(document),
            engine_version: engine_version.into(),
            users: index(principals.users, 0),
            groups: index(principals.groups, offset),
            app_ids: apps.iter().map(|a| (a.id.as_str().into(), a.id_index)).collect(),
            apps: apps.into_iter().map(|a| convert::App { id: a.id.into(), name: a.name.into() }).collect(),
            policy_names: policy_names.map(|names| names.into_iter().map(Arc::from).collect()),
            warnings: warnings.into_iter().map(convert::issue).collect(),
        };
        Ok((Slot::new(instance, policy, generation), loaded))
    }

    /// Replaces the policy atomically. An invalid policy is refused and the old one
    /// stays; decisions already running finish on the old one.
    pub fn set_policy(&self, document: &str) -> Result<(), HostError> {
        self.runtime.check_size(document, mdm_engine::DocumentKind::Policy)?;
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let (slot, loaded) = Self::load(&self.runtime, document, generation)?;
        {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            // A slower concurrent swap must not overwrite a newer policy.
            if current.generation < generation {
                *current = Arc::new(loaded);
            }
        }
        self.pool.lock().unwrap_or_else(PoisonError::into_inner).push(slot);
        Ok(())
    }

    /// Sends the record of every later decision to `hook`, replacing any hook set before.
    /// The hook runs on the deciding thread, before the decision is returned: keep it
    /// short (hand the record to a channel), and never let it block on the gateway.
    pub fn on_decision(&self, hook: impl Fn(&DecisionRecord) + Send + Sync + 'static) {
        *self.hook.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    }

    fn hook(&self) -> Option<Hook> {
        self.hook.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Sets (or with `None` removes) a report-only policy: every recorded login is also
    /// decided under it, in the same sandbox, and its answer goes into the record
    /// ([`DecisionRecord::shadow`]); its effects are never returned. An invalid document
    /// is refused and the shadow set before stays.
    pub fn set_shadow(&self, document: Option<&str>) -> Result<(), HostError> {
        let shadow = match document {
            Some(d) => Some(Arc::new(self.runtime.gateway(d)?)),
            None => None,
        };
        *self.shadow.write().unwrap_or_else(PoisonError::into_inner) = shadow;
        Ok(())
    }

    fn shadow(&self) -> Option<Arc<Gateway>> {
        self.shadow.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The SHA-256 of the live policy's document, as records name it.
    pub fn policy_digest(&self) -> Arc<str> {
        self.loaded().digest.clone()
    }

    /// The SHA-256 of the shadow policy's document, if one is set.
    pub fn shadow_digest(&self) -> Option<Arc<str>> {
        self.shadow().map(|s| s.policy_digest())
    }

    /// The current policy's warnings.
    pub fn warnings(&self) -> Vec<Issue> {
        self.loaded().warnings.clone()
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Runs `f` on an instance holding the current policy. A fault drops the instance (a
    /// trapped store is not reused), so the next call starts clean.
    fn with_slot<R>(
        &self,
        f: impl FnOnce(&mut Slot, &Loaded) -> Result<R, HostError>,
    ) -> (Result<R, HostError>, Arc<Loaded>) {
        let loaded = self.loaded();
        let result = self.on_slot(&loaded, f);
        (result, loaded)
    }

    fn on_slot<R>(
        &self,
        loaded: &Loaded,
        f: impl FnOnce(&mut Slot, &Loaded) -> Result<R, HostError>,
    ) -> Result<R, HostError> {
        let pooled = self.pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut slot = match pooled {
            Some(s) if s.generation == loaded.generation => s,
            stale => {
                let mut instance = match stale {
                    Some(s) => {
                        let Slot { mut instance, policy, .. } = s;
                        // Free the old policy's memory in the guest; a failure here only
                        // means the instance is dropped with it.
                        let _ = policy.resource_drop(&mut instance.store);
                        instance
                    }
                    None => self.runtime.instantiate()?,
                };
                let document = loaded.document.clone();
                let policy = instance
                    .call(|g, s| g.mdm_policy_engine().policy().call_parse(s, &document))?
                    .map_err(convert::document_error)?;
                Slot::new(instance, policy, loaded.generation)
            }
        };
        let result = f(&mut slot, loaded);
        let faulted = matches!(
            result,
            Err(HostError::Deadline
                | HostError::MemoryLimit { .. }
                | HostError::Trap(_)
                | HostError::Protocol(_))
        );
        if !faulted {
            self.pool.lock().unwrap_or_else(PoisonError::into_inner).push(slot);
        }
        result
    }

    /// Decides `login` of a user in `groups` whose stored state is `state`, in the
    /// sandbox; any fault is a deny ([`Verdict::FailedClosed`]).
    ///
    /// With a hook set ([`Gateway::on_decision`]) the hook receives the decision's record
    /// before this returns.
    pub fn decide_login<G: AsRef<str>>(&self, login: &Login, groups: &[G], state: &UserState) -> Verdict {
        match self.hook() {
            None => self.login(login, groups, state).0,
            Some(hook) => {
                let (verdict, record) = self.decide_login_recorded(login, groups, state);
                hook(&record);
                verdict
            }
        }
    }

    /// Same as [`Gateway::decide_login`], with the decision's record, and without calling
    /// the hook: for a caller that stores the record in the same transaction as the state.
    /// With a shadow policy set, the record carries its answer too.
    pub fn decide_login_recorded<G: AsRef<str>>(
        &self,
        login: &Login,
        groups: &[G],
        state: &UserState,
    ) -> (Verdict, DecisionRecord) {
        let started = Instant::now();
        let (verdict, loaded) = self.login(login, groups, state);
        let elapsed_us = record::micros(started.elapsed());
        let shadow = self.shadow().map(|shadow| {
            let (v, l) = shadow.login(login, groups, state);
            ShadowDecision {
                policy_digest: l.digest.clone(),
                outcome: v.outcome(),
                policy: if l.policy_names.is_some() { v.policy() } else { PolicyKey::Absent },
                reasons: v.decision().map(|d| d.reasons).unwrap_or_default(),
                fault: fault(&v),
            }
        });
        let record = DecisionRecord {
            id: self.ids.next(),
            time: record::now(),
            at: login.at,
            policy_digest: loaded.digest.clone(),
            policy: if loaded.policy_names.is_some() { verdict.policy() } else { PolicyKey::Absent },
            engine_version: loaded.engine_version.clone(),
            event: "login",
            user: login.user.clone(),
            device_id: login.device.device_id.clone(),
            outcome: Some(verdict.outcome()),
            reasons: verdict.decision().map(|d| d.reasons).unwrap_or_default(),
            effects: verdict.decision().map(|d| self.logged(&d.effects)).unwrap_or_default(),
            commands: Vec::new(),
            fault: fault(&verdict),
            elapsed_us,
            shadow,
        };
        (verdict, record)
    }

    fn logged(&self, effects: &[Effect]) -> Vec<Effect> {
        record::logged_effects(effects, self.runtime.config().reveal_serial_numbers)
    }

    /// The login's verdict and the policy that gave it.
    fn login<G: AsRef<str>>(&self, login: &Login, groups: &[G], state: &UserState) -> (Verdict, Arc<Loaded>) {
        let (result, loaded) = self.with_slot(|slot, loaded| {
            // Only the principals and app ids the policy names cross: the rest can change
            // nothing.
            principals(loaded, &login.user, groups, &mut slot.principals);
            slot.installed.clear();
            slot.installed.extend(
                login.apps.iter().filter_map(|a| Some((*loaded.app_ids.get(a.id.as_str())?, a.managed))),
            );
            let mut tok = Tokens::default();
            let device = convert::device(&login.device, &mut tok);
            convert::context(
                &mut slot.context,
                &mut slot.tokens,
                &slot.principals,
                &slot.installed,
                state,
                &mut tok,
            );
            let (instance, policy, context) = (&mut slot.instance, slot.policy, &slot.context);
            let at = login.at.as_millis();
            let answer = instance
                .call(|g, s| {
                    g.mdm_policy_engine().policy().call_decide_login(s, policy, context, device, at)
                })?
                .map_err(convert::context_error)?;
            // The rich parts cross only when the answer has some: most logins of a known
            // device have none.
            let details = if convert::has_details(&answer) {
                Some(instance.call(|g, s| g.mdm_policy_engine().policy().call_login_details(s, policy))?)
            } else {
                None
            };
            convert::decision(
                answer,
                details,
                &tok,
                &login.device,
                state,
                &loaded.apps,
                loaded.policy_names.as_deref(),
            )
        });
        let verdict = match result {
            Ok(d) => Verdict::Decided(d),
            Err(e) => Verdict::FailedClosed(e),
        };
        (verdict, loaded)
    }

    /// Carries out an admin event of a user in `groups` in the sandbox: the state
    /// changes, the device commands and, under a policy set, the user's policy now (which
    /// `approve` and `enrolled` read).
    ///
    /// With a hook set ([`Gateway::on_decision`]) the hook receives the event's record
    /// before this returns.
    pub fn decide_admin<G: AsRef<str>>(
        &self,
        admin: &Admin,
        groups: &[G],
        state: &UserState,
    ) -> Result<AdminDecision, HostError> {
        match self.hook() {
            None => self.admin(admin, groups, state).0,
            Some(hook) => {
                let (result, record) = self.decide_admin_recorded(admin, groups, state);
                hook(&record);
                result
            }
        }
    }

    /// Same as [`Gateway::decide_admin`], with the event's record, and without calling
    /// the hook. A refused event (nothing pending...) is recorded with its error as the
    /// fault.
    pub fn decide_admin_recorded<G: AsRef<str>>(
        &self,
        admin: &Admin,
        groups: &[G],
        state: &UserState,
    ) -> (Result<AdminDecision, HostError>, DecisionRecord) {
        let started = Instant::now();
        let (result, loaded) = self.admin(admin, groups, state);
        let elapsed_us = record::micros(started.elapsed());
        let unknown = || if loaded.policy_names.is_some() { PolicyKey::Null } else { PolicyKey::Absent };
        let (effects, commands, policy, fault) = match &result {
            Ok(d) => (self.logged(&d.effects), d.commands.clone(), d.policy.clone(), None),
            Err(e) => (Vec::new(), Vec::new(), unknown(), Some(Fault::from(e))),
        };
        let record = DecisionRecord {
            id: self.ids.next(),
            time: record::now(),
            at: admin.at,
            policy_digest: loaded.digest.clone(),
            policy,
            engine_version: loaded.engine_version.clone(),
            event: admin.action.as_str(),
            user: admin.user.clone(),
            device_id: admin.device_id.clone(),
            outcome: None,
            reasons: Default::default(),
            effects,
            commands,
            fault,
            elapsed_us,
            shadow: None,
        };
        (result, record)
    }

    fn admin<G: AsRef<str>>(
        &self,
        admin: &Admin,
        groups: &[G],
        state: &UserState,
    ) -> (Result<AdminDecision, HostError>, Arc<Loaded>) {
        // The engine reads the event; only its ids become tokens here.
        let request = AdminRequest::of(admin);
        self.with_slot(|slot, loaded| {
            let mut tok = Tokens::default();
            let request = convert::admin_request(&request, &mut tok);
            principals(loaded, &admin.user, groups, &mut slot.principals);
            convert::context(&mut slot.context, &mut slot.tokens, &slot.principals, &[], state, &mut tok);
            let (instance, policy, context) = (&mut slot.instance, slot.policy, &slot.context);
            let r = instance
                .call(|g, s| g.mdm_policy_engine().policy().call_decide_admin(s, policy, context, request))?
                .map_err(convert::context_error)?;
            match r {
                Ok(d) => Ok(AdminDecision {
                    effects: convert::effects(d.effects, &tok, None, state)?,
                    commands: convert::commands(d.commands, &tok)?,
                    policy: convert::policy_key(d.policy, loaded.policy_names.as_deref())?,
                }),
                Err(f) => Err(HostError::Engine(mdm_engine::Error::admin(convert::admin_failure(f), admin))),
            }
        })
    }

    /// Decides any event for a user in `groups`.
    pub fn decide<G: AsRef<str>>(
        &self,
        groups: &[G],
        state: &UserState,
        event: &Event,
    ) -> Result<Decision, HostError> {
        match event {
            Event::Login(l) => self.decide_login(l, groups, state).into_result().map(Decision::Login),
            Event::Admin(a) => self.decide_admin(a, groups, state).map(|d| Decision::Admin {
                effects: d.effects,
                commands: d.commands,
                policy: d.policy,
            }),
        }
    }
}

/// The principals of `user` in `groups` that the policy names, into `out`: only those
/// can change the scope, so only those cross.
fn principals<G: AsRef<str>>(loaded: &Loaded, user: &str, groups: &[G], out: &mut Vec<u32>) {
    out.clear();
    out.extend(loaded.users.get(user).copied());
    out.extend(groups.iter().filter_map(|g| loaded.groups.get(g.as_ref())).copied());
}

fn fault(verdict: &Verdict) -> Option<Fault> {
    match verdict {
        Verdict::Decided(_) => None,
        Verdict::FailedClosed(e) => Some(Fault::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Runtime};

    /// The guest refuses a context that breaks the layout (truncated, trailing bytes,
    /// values out of range, counts larger than the buffer) with an error the host reports
    /// as `host.protocol`: never a trap, never a decision; the instance answers the next
    /// call as if nothing happened.
    #[test]
    fn a_hostile_context_is_refused_not_decided() {
        let runtime = Runtime::new(Config::default()).unwrap();
        let gateway =
            runtime.gateway(r#"{"schema":"mdm.policy/v1","assignment":{"organization":true}}"#).unwrap();
        let device = crate::bindings::mdm::policy::types::Device {
            id: 0,
            os: crate::bindings::mdm::policy::types::OsType::Ios,
            serial: None,
            os_version: crate::bindings::mdm::policy::types::Version {
                major: 0,
                minor: 0,
                patch: 0,
                build: 0,
            },
            pin_length: 0,
            reported: crate::bindings::mdm::policy::types::Reported::empty(),
        };
        let mut valid = Vec::new();
        mdm_engine::abi::context::write(&mut valid, &[], &[], [].into_iter(), [].into_iter(), [].into_iter());
        let mut hostile: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![0; 3],
            [valid.clone(), vec![0]].concat(),
            u32::MAX.to_le_bytes().to_vec(),
            vec![0xff; 64],
        ];
        // One active device whose OS type names nothing.
        let mut bad_os = [0u32.to_le_bytes(), 0u32.to_le_bytes(), 1u32.to_le_bytes()].concat();
        bad_os.extend([0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0]);
        bad_os.extend([0; 24]);
        bad_os.extend([0; 8]);
        hostile.push(bad_os);
        for bytes in hostile {
            let (result, _) = gateway.with_slot(|slot, _| {
                let policy = slot.policy;
                slot.instance
                    .call(|g, s| {
                        g.mdm_policy_engine().policy().call_decide_login(s, policy, &bytes, device, 0)
                    })?
                    .map_err(convert::context_error)
            });
            let e = result.map(|_| ()).unwrap_err();
            assert_eq!(e.code(), "host.protocol", "{bytes:?}: {e}");
        }
        // The same instances decide as before.
        let login = Login::new(
            "u",
            mdm_engine::Device::new(mdm_engine::Text::new("A1").unwrap(), mdm_engine::OsType::Ios),
            mdm_engine::Timestamp::from_millis(0),
        );
        assert!(gateway.decide_login(&login, &[] as &[&str], &UserState::default()).is_allowed());
    }
}
