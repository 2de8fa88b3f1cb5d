//! Decisions over fuzzed policies, directories, stored states and event sequences (the
//! `decide` fuzz target's check, and the replay of its corpus), built from structured
//! input so that most cases reach the rules rather than the parser. The policy is a
//! version 1 or 2 document, or a version 3 set of named policies (disabled ones, each
//! with its own exclusions and version 2 settings), and may change between steps, as
//! may the user's groups. At every step: no panic, the contract's invariants hold
//! ([`super::check`]), decisions are deterministic, `evaluate` equals `decide` plus the
//! effects, and an error changes nothing. Each sequence is one user's, `u`.

use arbitrary::{Arbitrary, Unstructured};
use mdm_engine::{Decision, Event, Policy, PolicyDocument, Reason, Timestamp, UserState, decide, evaluate};
use serde_json::{Map, Value, json};

/// `u` is the user whose sequence it is; `v` another user a policy may name.
const USERS: [&str; 2] = ["u", "v"];
/// `g3` is named by no policy.
const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g3"];
/// Names for a set's policies: case matters, a pointer's characters are data, and 128
/// bytes is the longest a name may be.
const NAMES: [&str; 6] = [
    "executives",
    "everyone",
    "Everyone",
    "a/b~c",
    "é",
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
];
const DEVICES: [&str; 5] = ["d0", "d1", "d2", "d3", "d4"];
const OS: [&str; 3] = ["ios", "android", "other"];
const VERSIONS: [&str; 8] = ["0", "9", "12", "12.1", "16.0.1", "17.2", "4294967295", "1.2.3.4"];
const METHODS: [&str; 4] = ["ios_profile", "android_work_profile", "samsung_knox", "android_device_admin"];
const APPS: [(&str, &str); 4] = [("mail", "ios"), ("mail", "android"), ("crm", "ios"), ("docs", "android")];
const ADMIN: [&str; 7] = ["approve", "reject", "unblock", "remove_device", "enrolled", "deprovision", "wipe"];
const BASE_MS: i64 = 1_790_000_000_000;
/// The most steps, and the most policies in a set, one input makes.
const MAX_STEPS: usize = 32;
const MAX_POLICIES: usize = 5;

/// A policy document of any version.
#[derive(Arbitrary, Debug)]
enum Doc {
    Single(Single),
    Set(Set),
}

/// A version 1 document, or with `v2` a version 2 one.
#[derive(Arbitrary, Debug)]
struct Single {
    enabled: u8,
    scope: ScopeKnobs,
    serial: bool,
    assigned: Assigned,
    unassigned: Unassigned,
    posture: Posture,
    v2: Option<(V2, Store)>,
}

/// A version 3 set.
#[derive(Arbitrary, Debug)]
struct Set {
    enabled: u8,
    serial: Option<bool>,
    unassigned: Option<Unassigned>,
    store: Option<Store>,
    policies: Vec<Entry>,
}

/// One policy of a set; `None`: the section is left out, to its defaults.
#[derive(Arbitrary, Debug)]
struct Entry {
    name: u8,
    enabled: Option<u8>,
    scope: Option<ScopeKnobs>,
    assigned: Option<Assigned>,
    posture: Option<Posture>,
    v2: Option<V2>,
}

/// An assignment: bit masks over the users and groups.
#[derive(Arbitrary, Debug)]
struct ScopeKnobs {
    organization: bool,
    users: u8,
    groups: u8,
    exclude_users: u8,
    exclude_groups: u8,
}

#[derive(Arbitrary, Debug)]
struct Assigned {
    max_devices: u8,
    on_new_device: u8,
    on_approve: bool,
    ttl_hours: u8,
    push_mfa: bool,
}

#[derive(Arbitrary, Debug)]
struct Unassigned {
    max_devices: u8,
    add: bool,
    full: bool,
    push_mfa: bool,
}

#[derive(Arbitrary, Debug)]
struct Posture {
    platforms: u8,
    min_ios: Option<u8>,
    min_android: Option<u8>,
    min_pin: u8,
    encryption: bool,
    compromised: bool,
}

/// Version 2's settings of one policy.
#[derive(Arbitrary, Debug)]
struct V2 {
    approvers: u8,
    grace: u8,
    required: bool,
    methods: u8,
    separation: bool,
}

/// The app store: bit i of `apps` lists APPS[i]; bit i of `groups` gives it to one
/// group, of `users` to `u` (bit i + 4: to `v`); neither: to every assigned user.
#[derive(Arbitrary, Debug)]
struct Store {
    apps: u8,
    groups: u8,
    users: u8,
}

#[derive(Arbitrary, Debug)]
struct Dev {
    id: u8,
    os: u8,
    version: Option<u8>,
    serial: Option<bool>,
    pin: Option<u8>,
    encrypted: Option<bool>,
    compromised: Option<bool>,
    maker: Option<u8>,
    work_profile: Option<bool>,
    /// Installed apps: bit i installs APPS[i], bit i + 4 says it is managed.
    apps: Option<u8>,
    /// For a registered device: an enrollment (method, minutes) and a noncompliant_since.
    enrollment: Option<(u8, u16)>,
    noncompliant: Option<u16>,
}

#[derive(Arbitrary, Debug)]
enum Step {
    Login { minutes: u16, device: Dev },
    Admin { action: u8, minutes: u16, device: u8, by_self: bool, from: u8, method: u8 },
    SetPolicy(Doc),
    SetGroups(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    policy: Doc,
    groups: u8,
    devices: Vec<(Dev, u16)>,
    pending: Vec<(Dev, u16)>,
    rejected: Vec<(u8, u16)>,
    steps: Vec<Step>,
}

/// What sequences reached of what the target is for: the replay of its corpus checks
/// that the corpus still reaches each (a generator that stopped making sets, say, would
/// pass every invariant vacuously).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// Decisions under a set that name the user's policy.
    pub named: usize,
    /// Decisions under a set that no policy of assigns the user.
    pub unassigned_in_set: usize,
    /// Decisions under a set with a disabled policy that would assign the user.
    pub disabled_would_assign: usize,
    /// Decisions under a set whose user an enabled policy excludes and a later one
    /// assigns.
    pub excluded_then_assigned: usize,
    /// Assigned users' logins with something of version 2: apps, an enrollment, a grace
    /// period or a configuration.
    pub managed: usize,
    /// Steps that were an error (nothing to check but that nothing changed).
    pub errors: usize,
}

impl std::ops::Add for Reach {
    type Output = Reach;

    fn add(self, o: Reach) -> Reach {
        Reach {
            named: self.named + o.named,
            unassigned_in_set: self.unassigned_in_set + o.unassigned_in_set,
            disabled_would_assign: self.disabled_would_assign + o.disabled_would_assign,
            excluded_then_assigned: self.excluded_then_assigned + o.excluded_then_assigned,
            managed: self.managed + o.managed,
            errors: self.errors + o.errors,
        }
    }
}

/// Runs the sequence `data` encodes (as the fuzz target's `arbitrary` input). Returns
/// what does not hold; bytes too short to build an input from are no sequence.
pub fn decide_sequence(data: &[u8]) -> Result<(), String> {
    decide_sequence_reach(data).map(drop)
}

/// [`decide_sequence`], saying what the sequence reached.
pub fn decide_sequence_reach(data: &[u8]) -> Result<Reach, String> {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else { return Ok(Reach::default()) };
    let mut reach = Reach::default();
    run(&input, &mut reach)?;
    Ok(reach)
}

fn run(input: &Input, reach: &mut Reach) -> Result<(), String> {
    let mut policy = compile(&input.policy)?;
    let mut groups = groups(input.groups);
    let doc = json!({
        "devices": registered(&input.devices),
        "pending": input.pending.iter()
            .map(|(d, m)| json!({ "device": device(d), "requested_at": time(*m) }))
            .collect::<Vec<_>>(),
        "rejected": input.rejected.iter()
            .map(|(d, m)| json!({ "device_id": pick(&DEVICES, *d), "rejected_at": time(*m) }))
            .collect::<Vec<_>>(),
    });
    // Duplicates and overlaps are invalid states: the decoder must say so, not decide.
    let Ok(mut state) = UserState::from_value(&doc) else { return Ok(()) };
    for s in input.steps.iter().take(MAX_STEPS) {
        match s {
            Step::Login { minutes, device: d } => {
                let event =
                    json!({ "type": "login", "user": "u", "at": time(*minutes), "device": login_device(d) });
                step(&policy, &groups, &mut state, &event, reach)?;
            }
            Step::Admin { action, minutes, device, by_self, from, method } => {
                let mut event = Map::new();
                event.insert("type".into(), json!(pick(&ADMIN, *action)));
                event.insert("user".into(), json!("u"));
                event.insert("at".into(), json!(time(*minutes)));
                event.insert("device_id".into(), json!(pick(&DEVICES, *device)));
                event.insert("method".into(), json!(pick(&METHODS, *method)));
                if *by_self {
                    event.insert("by".into(), json!("self"));
                    event.insert("from_device".into(), json!(pick(&DEVICES, *from)));
                }
                step(&policy, &groups, &mut state, &Value::Object(event), reach)?;
            }
            Step::SetPolicy(d) => policy = compile(d)?,
            Step::SetGroups(mask) => groups = self::groups(*mask),
        }
    }
    Ok(())
}

fn step(
    policy: &Policy,
    groups: &[&str],
    state: &mut UserState,
    event: &Value,
    reach: &mut Reach,
) -> Result<(), String> {
    let Ok(event) = Event::from_value(event) else { return Ok(()) };
    let first = decide(policy, groups, state, &event);
    if first != decide(policy, groups, state, &event) {
        return Err(format!("decisions are not deterministic: {event:?} in {state:?}"));
    }
    match (first, evaluate(policy, groups, state, &event)) {
        (Ok(decision), Ok(evaluation)) => {
            super::check(policy, groups, state, &event, &decision).map_err(|broken| {
                let doc = serde_json::to_string(policy.doc()).unwrap_or_default();
                format!(
                    "{broken}: {decision:?} for {event:?} of a user in {groups:?} in {state:?} under {doc}"
                )
            })?;
            let mut after = state.clone();
            after.apply(decision.effects());
            if evaluation.decision != decision || evaluation.state != after {
                return Err(format!("evaluate is not decide and its effects: {evaluation:?} / {decision:?}"));
            }
            *state = after;
            count(policy, groups, &decision, reach);
            Ok(())
        }
        (Err(a), Err(b)) if a == b => {
            reach.errors += 1;
            Ok(())
        }
        (a, b) => Err(format!("decide and evaluate disagree: {a:?} / {b:?}")),
    }
}

/// Notes what one decision of `u` reached.
fn count(policy: &Policy, groups: &[&str], decision: &Decision, reach: &mut Reach) {
    if let Decision::Login(d) = decision
        && d.assigned
        && (d.apps.is_some() || d.enroll.is_some() || d.grace_until.is_some() || d.configuration.is_some())
    {
        reach.managed += 1;
    }
    let PolicyDocument::Set(set) = policy.doc() else { return };
    let mine = decision.policy().name().map(|n| n.index() as usize);
    match mine {
        Some(_) => reach.named += 1,
        None => reach.unassigned_in_set += 1,
    }
    let assigns = |r: Reason| matches!(r, Reason::ScopeUser | Reason::ScopeGroup | Reason::ScopeOrganization);
    let mut excluded = false;
    let mut disabled = false;
    for (i, e) in set.policies.iter().enumerate() {
        let scope = super::scope_in(&e.assignment, "u", groups);
        disabled |= !e.enabled && assigns(scope);
        if e.enabled && Some(i) == mine && excluded {
            reach.excluded_then_assigned += 1;
        }
        excluded |= e.enabled && matches!(scope, Reason::ScopeExcludedUser | Reason::ScopeExcludedGroup);
    }
    if disabled && set.enabled {
        reach.disabled_would_assign += 1;
    }
}

fn compile(doc: &Doc) -> Result<Policy, String> {
    let json = match doc {
        Doc::Single(s) => single(s),
        Doc::Set(s) => set(s),
    };
    Policy::from_value(&json).map_err(|e| format!("a generated policy is refused: {e}: {json}"))
}

fn pick<T: Copy + Default>(items: &[T], i: u8) -> T {
    items.get(usize::from(i) % items.len().max(1)).copied().unwrap_or_default()
}

/// The members of `pool` whose bit is set in `mask`.
fn subset<'a>(pool: &[&'a str], mask: u8) -> Vec<&'a str> {
    pool.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect()
}

/// The user's groups: bits 0-3 choose them; bit 4 gives the first twice (a directory may
/// repeat itself).
fn groups(mask: u8) -> Vec<&'static str> {
    let mut groups = subset(&GROUPS, mask);
    if let Some(first) = groups.first().copied().filter(|_| mask & 0x10 != 0) {
        groups.push(first);
    }
    groups
}

/// Three times in four (a byte's `enabled` knob).
fn often(x: u8) -> bool {
    !x.is_multiple_of(4)
}

fn time(minutes: u16) -> String {
    Timestamp::from_millis(BASE_MS + i64::from(minutes) * 60_000).to_rfc3339()
}

fn assignment(k: &ScopeKnobs) -> Value {
    json!({
        "organization": k.organization,
        "users": subset(&USERS, k.users),
        "groups": subset(&GROUPS[..3], k.groups),
        "exclude_users": subset(&USERS, k.exclude_users),
        "exclude_groups": subset(&GROUPS[..3], k.exclude_groups),
    })
}

fn assigned(k: &Assigned) -> Value {
    json!({
        "max_devices": 1 + k.max_devices % 3,
        "on_new_device": pick(&["approval", "replace", "deny"], k.on_new_device),
        "on_approve": if k.on_approve { "add" } else { "replace" },
        "approval_ttl_hours": pick(&[0u32, 1, 72], k.ttl_hours),
        "push_mfa": k.push_mfa,
    })
}

fn unassigned(k: &Unassigned) -> Value {
    json!({
        "max_devices": 1 + k.max_devices % 2,
        "on_new_device": if k.add { "add" } else { "replace" },
        "access": if k.full { "full" } else { "limited" },
        "push_mfa": k.push_mfa,
    })
}

fn requirements(k: &Posture) -> Map<String, Value> {
    let mut min = Map::new();
    if let Some(v) = k.min_ios {
        min.insert("ios".into(), json!(pick(&VERSIONS, v)));
    }
    if let Some(v) = k.min_android {
        min.insert("android".into(), json!(pick(&VERSIONS, v)));
    }
    let mut r = Map::new();
    r.insert("platforms".into(), json!(subset(&["ios", "android"], k.platforms)));
    r.insert("min_os_version".into(), Value::Object(min));
    r.insert("min_pin_length".into(), json!(pick(&[0u32, 4, 6, 16], k.min_pin)));
    r.insert("require_encryption".into(), json!(k.encryption));
    r.insert("block_compromised".into(), json!(k.compromised));
    r
}

/// Version 2's settings of one policy into its sections (`assigned` and `requirements`
/// exist already).
fn version_2(v: &V2, doc: &mut Map<String, Value>) {
    if let Some(Value::Object(a)) = doc.get_mut("assigned") {
        a.insert(
            "approvers".into(),
            json!(pick(&[&["admin"][..], &["self"], &["admin", "self"]], v.approvers)),
        );
    }
    if let Some(Value::Object(r)) = doc.get_mut("requirements") {
        r.insert("grace_hours".into(), json!(pick(&[0u32, 1, 24], v.grace)));
    }
    let mut methods = subset(&METHODS, v.methods);
    if methods.is_empty() {
        methods.extend(METHODS.first());
    }
    doc.insert("enrollment".into(), json!({ "required": v.required, "methods": methods }));
    doc.insert("configuration".into(), json!({ "data_separation": v.separation }));
}

fn store(s: &Store) -> Value {
    APPS.iter()
        .enumerate()
        .filter(|(i, _)| s.apps & (1 << i) != 0)
        .map(|(i, (id, platform))| {
            let groups: Vec<&str> = GROUPS.iter().skip(i % 3).take(usize::from(s.groups & (1 << i) != 0)).copied().collect();
            let mut users = Vec::new();
            if s.users & (1 << i) != 0 {
                users.push("u");
            }
            if s.users & (1 << (i + 4)) != 0 {
                users.push("v");
            }
            json!({ "id": id, "name": id.to_uppercase(), "platform": platform, "users": users, "groups": groups })
        })
        .collect()
}

fn single(k: &Single) -> Value {
    let mut doc = Map::new();
    doc.insert("schema".into(), json!("mdm.policy/v1"));
    doc.insert("enabled".into(), json!(often(k.enabled)));
    doc.insert("assignment".into(), assignment(&k.scope));
    doc.insert("device_match".into(), json!(if k.serial { "device_id_and_serial" } else { "device_id" }));
    doc.insert("assigned".into(), assigned(&k.assigned));
    doc.insert("unassigned".into(), unassigned(&k.unassigned));
    doc.insert("requirements".into(), Value::Object(requirements(&k.posture)));
    if let Some((v2, apps)) = &k.v2 {
        doc.insert("schema".into(), json!("mdm.policy/v2"));
        version_2(v2, &mut doc);
        doc.insert("apps".into(), store(apps));
    }
    Value::Object(doc)
}

fn set(k: &Set) -> Value {
    let mut doc = Map::new();
    doc.insert("schema".into(), json!("mdm.policy/v3"));
    doc.insert("enabled".into(), json!(often(k.enabled)));
    if let Some(serial) = k.serial {
        doc.insert("device_match".into(), json!(if serial { "device_id_and_serial" } else { "device_id" }));
    }
    if let Some(u) = &k.unassigned {
        doc.insert("unassigned".into(), unassigned(u));
    }
    if let Some(s) = &k.store {
        doc.insert("apps".into(), store(s));
    }
    let mut names: Vec<String> = Vec::new();
    let mut policies = Vec::new();
    for (i, e) in k.policies.iter().take(MAX_POLICIES).enumerate() {
        let mut name = pick(&NAMES, e.name).to_string();
        if names.contains(&name) {
            // Names are unique in a set; a repeat is the validation's business, not this.
            name = format!("{}{i}", name.get(..120).unwrap_or(&name));
        }
        names.push(name.clone());
        let mut p = Map::new();
        p.insert("name".into(), json!(name));
        if let Some(enabled) = e.enabled {
            p.insert("enabled".into(), json!(often(enabled)));
        }
        if let Some(scope) = &e.scope {
            p.insert("assignment".into(), assignment(scope));
        }
        if let Some(a) = &e.assigned {
            p.insert("assigned".into(), assigned(a));
        }
        if let Some(r) = &e.posture {
            p.insert("requirements".into(), Value::Object(requirements(r)));
        }
        if let Some(v2) = &e.v2 {
            // Version 2's settings go into `assigned` and `requirements`, made if absent.
            p.entry("assigned").or_insert_with(|| json!({}));
            p.entry("requirements").or_insert_with(|| json!({}));
            version_2(v2, &mut p);
        }
        policies.push(Value::Object(p));
    }
    doc.insert("policies".into(), Value::Array(policies));
    Value::Object(doc)
}

fn device(d: &Dev) -> Value {
    let mut v = Map::new();
    v.insert("device_id".into(), json!(pick(&DEVICES, d.id)));
    v.insert("os_type".into(), json!(pick(&OS, d.os)));
    if let Some(x) = d.version {
        v.insert("os_version".into(), json!(pick(&VERSIONS, x)));
    }
    if let Some(s) = d.serial {
        v.insert("serial_number".into(), json!(if s { "s1" } else { "s0" }));
    }
    if let Some(p) = d.pin {
        v.insert("pin_length".into(), json!(p % 20));
    }
    if let Some(e) = d.encrypted {
        v.insert("encrypted".into(), json!(e));
    }
    if let Some(c) = d.compromised {
        v.insert("compromised".into(), json!(c));
    }
    if let Some(m) = d.maker {
        v.insert("manufacturer".into(), json!(pick(&["samsung", "Samsung", "Google"], m)));
    }
    if let Some(w) = d.work_profile {
        v.insert("work_profile".into(), json!(w));
    }
    Value::Object(v)
}

/// A login device: also the apps it reports.
fn login_device(d: &Dev) -> Value {
    let mut v = device(d);
    if let (Some(mask), Value::Object(fields)) = (d.apps, &mut v) {
        let apps: Vec<Value> = APPS
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(i, (id, _))| json!({ "id": id, "managed": mask & (1 << (i + 4)) != 0 }))
            .collect();
        fields.insert("apps".into(), json!(apps));
    }
    v
}

fn registered(list: &[(Dev, u16)]) -> Vec<Value> {
    list.iter()
        .map(|(d, m)| {
            let mut v = device(d);
            if let Value::Object(fields) = &mut v {
                fields.insert("registered_at".into(), json!(time(*m)));
                if let Some((method, at)) = d.enrollment {
                    fields.insert(
                        "enrollment".into(),
                        json!({ "method": pick(&METHODS, method), "at": time(at) }),
                    );
                }
                if let Some(at) = d.noncompliant {
                    fields.insert("noncompliant_since".into(), json!(time(at)));
                }
            }
            v
        })
        .collect()
}
