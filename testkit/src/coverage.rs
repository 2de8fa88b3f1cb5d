//! Rule coverage of a scenario suite: which reason codes, outcomes, error codes, events
//! and policy settings its steps exercised, and which they never did, overall and per
//! policy.
//!
//! A step counts once it is answered: a login's outcome and each of its reasons, a decided
//! event's type, a refused event's error code. A policy setting counts when a step is decided under a
//! policy that has it: a setting no decision ever ran under is one the suite cannot have
//! tested. (Per policy the settings are fixed, so a policy's own table leaves them out.)

use std::collections::{BTreeMap, BTreeSet};

use mdm_engine::{
    AdminAction, Decision, ErrorCode, Outcome, Policy, PolicyDoc, PolicyDocument, PolicyEntryDoc,
    PolicySetDoc, Reason, SchemaVersion,
};
use serde::Serialize;
use serde_json::Value;

use crate::scenario::{Run, Scenario, StepEvent, StepResult};

/// What a suite is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The contract's reason codes.
    Reasons,
    /// A login's outcomes.
    Outcomes,
    /// The contract's error codes.
    Errors,
    /// The event types: `login` and the admin's actions.
    Events,
    /// The policy settings that change a decision, as `path=value`.
    Settings,
}

impl Category {
    /// Every category, in the order a report shows them.
    pub const ALL: [Category; 5] =
        [Category::Reasons, Category::Outcomes, Category::Errors, Category::Events, Category::Settings];

    /// Its name in a report.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Reasons => "reasons",
            Category::Outcomes => "outcomes",
            Category::Errors => "errors",
            Category::Events => "events",
            Category::Settings => "settings",
        }
    }

    /// Every item of the category, as a report names it.
    pub fn universe(self) -> Vec<String> {
        match self {
            Category::Reasons => Reason::ALL.iter().map(|r| r.as_str().to_string()).collect(),
            Category::Outcomes => Outcome::ALL.iter().map(|o| o.as_str().to_string()).collect(),
            // A scenario's states are checked when the file is read, so no step can give
            // `invalid_state`: it is not counted against a suite.
            Category::Errors => ErrorCode::ALL
                .iter()
                .filter(|c| **c != ErrorCode::InvalidState)
                .map(|c| c.as_str().to_string())
                .collect(),
            Category::Events => std::iter::once("login")
                .chain(AdminAction::ALL.iter().map(|a| a.as_str()))
                .map(str::to_string)
                .collect(),
            Category::Settings => SETTINGS
                .iter()
                .flat_map(|(path, values)| values.iter().map(move |v| format!("{path}={v}")))
                .collect(),
        }
    }
}

/// The settings that change a decision, with every value they take. A number counts as
/// `off` (0, or absent) or `on`.
const SETTINGS: &[(&str, &[&str])] = &[
    ("schema", &["mdm.policy/v1", "mdm.policy/v2", "mdm.policy/v3"]),
    ("enabled", &["true", "false"]),
    ("assignment.organization", &["true", "false"]),
    ("device_match", &["device_id", "device_id_and_serial"]),
    ("assigned.on_new_device", &["approval", "replace", "deny"]),
    ("assigned.on_approve", &["replace", "add"]),
    ("assigned.approval_ttl_hours", &["off", "on"]),
    ("assigned.push_mfa", &["true", "false"]),
    ("assigned.approvers", &["admin", "self"]),
    ("unassigned.on_new_device", &["replace", "add"]),
    ("unassigned.access", &["limited", "full"]),
    ("unassigned.push_mfa", &["true", "false"]),
    ("requirements.platforms", &["off", "on"]),
    ("requirements.min_os_version", &["off", "on"]),
    ("requirements.min_pin_length", &["off", "on"]),
    ("requirements.require_encryption", &["true", "false"]),
    ("requirements.block_compromised", &["true", "false"]),
    ("requirements.grace_hours", &["off", "on"]),
    ("enrollment.required", &["true", "false"]),
    ("configuration.data_separation", &["true", "false"]),
    ("apps", &["off", "on"]),
];

/// The setting values of a (resolved) version 1 or 2 policy document.
fn settings_of(doc: &PolicyDoc) -> Vec<String> {
    let on = |b: bool| if b { "on" } else { "off" }.to_string();
    let mut out = vec![
        ("schema", doc.schema.clone().unwrap_or_default()),
        ("enabled", doc.enabled.to_string()),
        ("device_match", text(&doc.device_match)),
        ("unassigned.on_new_device", text(&doc.unassigned.on_new_device)),
        ("unassigned.access", text(&doc.unassigned.access)),
        ("unassigned.push_mfa", doc.unassigned.push_mfa.to_string()),
    ];
    out.extend(rules_of(&Rules {
        organization: doc.assignment.organization,
        assigned: &doc.assigned,
        requirements: &doc.requirements,
        v2: (doc.version() == Some(SchemaVersion::V2)).then(|| {
            (
                doc.enrollment.as_ref().is_some_and(|e| e.required),
                doc.configuration.as_ref().is_some_and(|c| c.data_separation),
            )
        }),
    }));
    if doc.version() == Some(SchemaVersion::V2) {
        out.push(("apps", on(doc.apps.as_ref().is_some_and(|a| !a.is_empty()))));
    }
    out.into_iter().map(|(path, value)| format!("{path}={value}")).collect()
}

/// The organisation's setting values of a version 3 document: what every decision under
/// it runs with, whatever the user's policy.
fn set_settings_of(doc: &PolicySetDoc) -> Vec<String> {
    let on = |b: bool| if b { "on" } else { "off" }.to_string();
    [
        ("schema", doc.schema.clone().unwrap_or_default()),
        ("enabled", doc.enabled.to_string()),
        ("device_match", text(&doc.device_match)),
        ("unassigned.on_new_device", text(&doc.unassigned.on_new_device)),
        ("unassigned.access", text(&doc.unassigned.access)),
        ("unassigned.push_mfa", doc.unassigned.push_mfa.to_string()),
        ("apps", on(!doc.apps.is_empty())),
    ]
    .into_iter()
    .map(|(path, value)| format!("{path}={value}"))
    .collect()
}

/// One policy of a set's setting values.
fn entry_settings_of(p: &PolicyEntryDoc) -> Vec<String> {
    rules_of(&Rules {
        organization: p.assignment.organization,
        assigned: &p.assigned,
        requirements: &p.requirements,
        v2: Some((p.enrollment.required, p.configuration.data_separation)),
    })
    .into_iter()
    .map(|(path, value)| format!("{path}={value}"))
    .collect()
}

/// What one policy gives its assigned users, from either kind of document.
struct Rules<'a> {
    organization: bool,
    assigned: &'a mdm_engine::AssignedSettings,
    requirements: &'a mdm_engine::Requirements,
    /// Version 2's `enrollment.required` and `configuration.data_separation`.
    v2: Option<(bool, bool)>,
}

fn rules_of(r: &Rules<'_>) -> Vec<(&'static str, String)> {
    let on = |b: bool| if b { "on" } else { "off" }.to_string();
    let (a, q) = (r.assigned, r.requirements);
    let mut out = vec![
        ("assignment.organization", r.organization.to_string()),
        ("assigned.on_new_device", text(&a.on_new_device)),
        ("assigned.on_approve", text(&a.on_approve)),
        ("assigned.approval_ttl_hours", on(a.approval_ttl_hours > 0)),
        ("assigned.push_mfa", a.push_mfa.to_string()),
        ("requirements.platforms", on(!q.platforms.is_empty())),
        ("requirements.min_os_version", on(!q.min_os_version.is_empty())),
        ("requirements.min_pin_length", on(q.min_pin_length > 0)),
        ("requirements.require_encryption", q.require_encryption.to_string()),
        ("requirements.block_compromised", q.block_compromised.to_string()),
    ];
    if let Some((required, separation)) = r.v2 {
        for approver in a.approvers.iter().flatten() {
            out.push(("assigned.approvers", text(approver)));
        }
        out.push(("requirements.grace_hours", on(q.grace_hours.unwrap_or_default() > 0)));
        out.push(("enrollment.required", required.to_string()));
        out.push(("configuration.data_separation", separation.to_string()));
    }
    out
}

/// The JSON spelling of a settings enum (`device_id_and_serial`).
fn text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// How often each item was exercised.
#[derive(Debug, Clone, Default)]
struct Hits(BTreeMap<Category, BTreeMap<String, usize>>);

impl Hits {
    fn add(&mut self, category: Category, item: &str) {
        *self.0.entry(category).or_default().entry(item.to_string()).or_default() += 1;
    }

    fn table(&self, categories: &[Category]) -> Table {
        let rows = categories
            .iter()
            .map(|&c| {
                let hits = self.0.get(&c);
                let (mut covered, mut never) = (BTreeMap::new(), Vec::new());
                for item in c.universe() {
                    match hits.and_then(|h| h.get(&item)) {
                        Some(&n) => {
                            covered.insert(item, n);
                        }
                        None => never.push(item),
                    }
                }
                Row { category: c, covered, never }
            })
            .collect();
        Table { rows }
    }
}

/// One category's line of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The category.
    pub category: Category,
    /// Each exercised item, with how many steps exercised it.
    pub covered: BTreeMap<String, usize>,
    /// The items no step exercised.
    pub never: Vec<String>,
}

/// A coverage table: one row per category.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The rows.
    pub rows: Vec<Row>,
}

impl Table {
    /// Items exercised, and items in all.
    pub fn counts(&self) -> (usize, usize) {
        self.rows.iter().fold((0, 0), |(c, t), r| (c + r.covered.len(), t + r.covered.len() + r.never.len()))
    }

    /// The share of items exercised, in percent.
    pub fn percent(&self) -> f64 {
        let (covered, total) = self.counts();
        if total == 0 { 100.0 } else { 100.0 * covered as f64 / total as f64 }
    }
}

/// One distinct policy of a suite (equal resolved documents are one policy).
#[derive(Debug, Clone, Serialize)]
pub struct PolicyReport {
    /// Where it first appears: `FILE` (the scenario's policy) or `FILE step N`.
    pub label: String,
    /// The scenarios that decided under it.
    pub scenarios: BTreeSet<String>,
    /// What its decisions exercised (settings left out: they are the policy's own).
    pub table: Table,
}

/// A suite's coverage report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Scenarios counted.
    pub scenarios: usize,
    /// The policies of sets (version 3) under which no step was decided: never
    /// exercised, by label (`FILE policy `NAME``).
    pub unreached: Vec<String>,
    /// The share of all items exercised, in percent.
    pub percent: f64,
    /// Every category over the whole suite.
    pub total: Table,
    /// Each policy, in the order first seen.
    pub policies: Vec<PolicyReport>,
}

#[derive(Debug, Clone, Default)]
struct Tracked {
    label: String,
    /// A policy of a set: reported when no step reached it.
    of_set: bool,
    scenarios: BTreeSet<String>,
    /// The policy's own setting values, counted in the total once per decision.
    settings: Vec<String>,
    hits: Hits,
}

/// Collects coverage over the runs of a suite.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    scenarios: usize,
    total: Hits,
    /// By resolved document (JSON): the first of its entries. A set has the set's own
    /// (its unassigned users' decisions and its errors), then one per policy.
    index: BTreeMap<String, usize>,
    policies: Vec<Tracked>,
}

/// The document a step is decided under: its first entry, and whether it is a set.
#[derive(Debug, Clone, Copy)]
struct Current {
    first: usize,
    set: bool,
}

impl Coverage {
    /// A report with nothing counted yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one scenario's run: `scenario` gives the policies, `run` what each step gave.
    pub fn add(&mut self, file: &str, scenario: &Scenario, run: &Run) {
        self.scenarios += 1;
        let mut current = self.policy(&scenario.policy, file.to_string());
        for (index, step) in run.trace.iter().enumerate() {
            match (StepEvent::read(&step.event), &step.result) {
                (Ok(StepEvent::SetPolicy(p)), StepResult::Ok) => {
                    current = self.policy(&p, format!("{file} step {index}"));
                }
                (Ok(StepEvent::Decide { .. }), result)
                | (Ok(StepEvent::SetPolicy(_)), result @ StepResult::Error(_)) => {
                    let Some(i) = current else { continue };
                    self.step(i, &run.name, &step.event, result);
                }
                _ => {}
            }
        }
    }

    /// The entries of the policy `document`, added if new; `None` when it does not compile.
    fn policy(&mut self, document: &Value, label: String) -> Option<Current> {
        let policy = Policy::from_value(document).ok()?;
        let key = serde_json::to_string(policy.doc()).ok()?;
        let next = self.policies.len();
        let first = *self.index.entry(key).or_insert(next);
        let set = policy.is_set();
        if first == next {
            match policy.doc() {
                PolicyDocument::Set(doc) => {
                    let own = set_settings_of(doc);
                    self.policies.push(Tracked {
                        label: label.clone(),
                        settings: own.clone(),
                        ..Tracked::default()
                    });
                    for p in &doc.policies {
                        let name = p.name.as_deref().unwrap_or_default();
                        let mut settings = own.clone();
                        settings.extend(entry_settings_of(p));
                        self.policies.push(Tracked {
                            label: format!("{label} policy `{name}`"),
                            of_set: true,
                            settings,
                            ..Tracked::default()
                        });
                    }
                }
                PolicyDocument::Single(doc) => {
                    self.policies.push(Tracked { label, settings: settings_of(doc), ..Tracked::default() });
                }
                _ => return None,
            }
        }
        Some(Current { first, set })
    }

    fn step(&mut self, current: Current, scenario: &str, event: &Value, result: &StepResult) {
        // Under a set, a decision counts for the user's policy (an unassigned user's, and
        // an error, for the set's own entry).
        let entry = match result {
            StepResult::Decision(d) if current.set => d.policy().name().map_or(0, |n| n.index() as usize + 1),
            _ => 0,
        };
        let Some(tracked) = self.policies.get_mut(current.first + entry) else { return };
        tracked.scenarios.insert(scenario.to_string());
        let mut items: Vec<(Category, String)> = Vec::new();
        // An event counts when it was decided: a refused one is its error's.
        if let (StepResult::Decision(_), Some(t)) = (result, event.get("type").and_then(Value::as_str)) {
            items.push((Category::Events, t.to_string()));
        }
        match result {
            StepResult::Decision(Decision::Login(d)) => {
                items.push((Category::Outcomes, d.outcome.as_str().to_string()));
                items.extend(d.reasons.iter().map(|r| (Category::Reasons, r.as_str().to_string())));
            }
            StepResult::Decision(Decision::Admin { .. }) | StepResult::Ok => {}
            StepResult::Error(f) => {
                if ErrorCode::parse(&f.code).is_some() {
                    items.push((Category::Errors, f.code.clone()));
                }
            }
        }
        for (category, item) in &items {
            tracked.hits.add(*category, item);
            self.total.add(*category, item);
        }
        for setting in &tracked.settings {
            self.total.add(Category::Settings, setting);
        }
    }

    /// The report.
    pub fn report(&self) -> Report {
        let total = self.total.table(&Category::ALL);
        let own = [Category::Reasons, Category::Outcomes, Category::Errors, Category::Events];
        Report {
            scenarios: self.scenarios,
            unreached: self
                .policies
                .iter()
                .filter(|p| p.of_set && p.scenarios.is_empty())
                .map(|p| p.label.clone())
                .collect(),
            percent: total.percent(),
            policies: self
                .policies
                .iter()
                .filter(|p| !p.scenarios.is_empty())
                .map(|p| PolicyReport {
                    label: p.label.clone(),
                    scenarios: p.scenarios.clone(),
                    table: p.hits.table(&own),
                })
                .collect(),
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Native;

    fn run(text: &str) -> Report {
        let scenario = crate::scenario::parse(text).unwrap();
        let run = crate::scenario::run(&mut Native, "t", text);
        let mut c = Coverage::new();
        c.add("t.json", &scenario, &run);
        c.report()
    }

    fn row(t: &Table, c: Category) -> &Row {
        t.rows.iter().find(|r| r.category == c).unwrap()
    }

    #[test]
    fn a_login_counts_its_outcome_reasons_event_and_the_settings_it_ran_under() {
        let r = run(r#"{"name":"t","policy":{"schema":"mdm.policy/v1","assignment":{"users":["a"]}},
            "steps":[{"event":{"type":"login","user":"a","at":"2026-01-01T00:00:00Z","device":{"device_id":"d","os_type":"ios"}}},
                     {"event":{"type":"approve","user":"a","device_id":"x","at":"2026-01-01T00:00:00Z"}}]}"#);
        assert_eq!(row(&r.total, Category::Outcomes).covered.keys().collect::<Vec<_>>(), ["allow"]);
        assert_eq!(row(&r.total, Category::Events).covered.get("login"), Some(&1));
        assert_eq!(
            row(&r.total, Category::Events).covered.get("approve"),
            None,
            "an approve that failed is an error"
        );
        assert_eq!(
            row(&r.total, Category::Errors).covered.keys().collect::<Vec<_>>(),
            ["no_pending_request"]
        );
        assert!(row(&r.total, Category::Reasons).covered.contains_key("scope.user"));
        let settings = row(&r.total, Category::Settings);
        assert_eq!(settings.covered.get("assigned.on_new_device=approval"), Some(&2));
        assert!(settings.never.contains(&"schema=mdm.policy/v2".to_string()));
        assert_eq!(r.policies.len(), 1);
        assert_eq!(r.policies[0].label, "t.json");
        assert!(r.percent > 0.0 && r.percent < 50.0, "{}", r.percent);
    }

    #[test]
    fn every_setting_value_is_one_a_policy_can_have() {
        for item in Category::Settings.universe() {
            let (path, value) = item.split_once('=').unwrap();
            assert!(!path.is_empty() && !value.is_empty());
        }
        let policy =
            Policy::from_json(r#"{"schema":"mdm.policy/v2","assigned":{"approvers":["admin","self"]}}"#)
                .unwrap();
        let doc = policy.doc().single().unwrap();
        let universe = Category::Settings.universe();
        for s in settings_of(doc) {
            assert!(universe.contains(&s), "`{s}` is not in the universe");
        }
    }
}
