//! What makes a policy document invalid (the rules of section 1 of each contract version
//! that its types cannot express), and `validate`, which reports every finding.

use rustc_hash::FxHashSet;
use serde::Serialize;

use super::doc::{
    AppDoc, AssignedSettings, Assignment, EnrollmentSettings, MAX_APPS, MAX_DEVICES_LIMIT, MAX_PIN_LENGTH,
    MAX_POLICIES, PolicyDoc, PolicyEntryDoc, PolicySetDoc, Requirements, SCHEMA, SCHEMA_V2, SCHEMA_V3,
    SchemaVersion, UnassignedSettings, is_set,
};
use crate::ids::{MAX_ID_BYTES, MAX_POLICY_NAME_BYTES, OsType};
use crate::json;
use crate::manage::{Approver, EnrollmentMethod};
use crate::version::Version;

/// What kind of finding an [`Issue`] is: a stable code a tool can act on, beside the
/// message a person reads. Every error is `invalid_policy` in the contract; this says
/// which rule of section 1 it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// The text is not JSON (or not UTF-8); nothing past it can be read.
    Syntax,
    /// A field the schema does not have (a version 2 field in a version 1 policy, too).
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong JSON type.
    InvalidType,
    /// A value of the right type that is not one of the allowed ones.
    InvalidValue,
    /// A number or a list outside its bounds.
    OutOfRange,
    /// An empty or too long user, group or app id.
    InvalidId,
    /// An OS version that is not `N(.N){0,3}`.
    InvalidVersion,
    /// An entry listed twice.
    Duplicate,
    /// A list that must not be empty is.
    Empty,
    /// `schema` names no contract version this engine knows.
    UnsupportedSchema,
    /// Warning: an id both included and excluded (the exclusion wins).
    IncludedAndExcluded,
}

impl IssueCode {
    /// Every code.
    pub const ALL: [IssueCode; 12] = [
        IssueCode::Syntax,
        IssueCode::UnknownField,
        IssueCode::MissingField,
        IssueCode::InvalidType,
        IssueCode::InvalidValue,
        IssueCode::OutOfRange,
        IssueCode::InvalidId,
        IssueCode::InvalidVersion,
        IssueCode::Duplicate,
        IssueCode::Empty,
        IssueCode::UnsupportedSchema,
        IssueCode::IncludedAndExcluded,
    ];

    /// The code as tools read it (`unknown_field`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            IssueCode::Syntax => "syntax",
            IssueCode::UnknownField => "unknown_field",
            IssueCode::MissingField => "missing_field",
            IssueCode::InvalidType => "invalid_type",
            IssueCode::InvalidValue => "invalid_value",
            IssueCode::OutOfRange => "out_of_range",
            IssueCode::InvalidId => "invalid_id",
            IssueCode::InvalidVersion => "invalid_version",
            IssueCode::Duplicate => "duplicate",
            IssueCode::Empty => "empty",
            IssueCode::UnsupportedSchema => "unsupported_schema",
            IssueCode::IncludedAndExcluded => "included_and_excluded",
        }
    }

    /// Parses a code as [`IssueCode::as_str`] spells it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The code of a decoding failure, from its kind.
    pub(crate) fn of_decoding(kind: json::Kind) -> Self {
        match kind {
            json::Kind::Syntax => IssueCode::Syntax,
            json::Kind::UnknownField => IssueCode::UnknownField,
            json::Kind::MissingField => IssueCode::MissingField,
            json::Kind::DuplicateField => IssueCode::Duplicate,
            json::Kind::InvalidType => IssueCode::InvalidType,
            json::Kind::InvalidValue | json::Kind::UnknownVariant | json::Kind::Other => {
                IssueCode::InvalidValue
            }
        }
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding about a policy document: what kind, where, and what a person should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// The kind of finding.
    pub code: IssueCode,
    /// JSON Pointer to the field.
    pub pointer: String,
    /// What a person should know.
    pub message: String,
}

/// Everything `validate` found: errors make the policy unusable, warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Validation {
    /// Errors (`invalid_policy`).
    pub errors: Vec<Issue>,
    /// Warnings.
    pub warnings: Vec<Issue>,
}

impl Validation {
    /// The validation of a document that cannot be read at all (not JSON, not UTF-8):
    /// one `syntax` error at the root.
    pub fn syntax(message: impl Into<String>) -> Validation {
        let issue = Issue { code: IssueCode::Syntax, pointer: String::new(), message: message.into() };
        Validation { errors: vec![issue], warnings: Vec::new() }
    }
}

/// Validates a policy document without compiling it: every error and warning found, up
/// to 100 errors. A syntax error stops it (the rest of the text cannot be read); a field
/// of the wrong type or an unknown field does not: it is reported, left out, and the rest
/// of the document is checked as if it were absent.
///
/// The first error is the one [`crate::Policy::from_json`] returns.
pub fn validate(text: &str) -> Validation {
    if let Err(f) = json::check(text) {
        return Validation::syntax(f.message);
    }
    if is_set(text) {
        let mut v = validate_as::<PolicySetDoc>(text, check_set);
        // In document order: the set's keys, then the policies in list order (the reader
        // finds decoding errors in text order, the rules after them).
        crate::sort::sort_by_key(&mut v.errors, |i| entry_of(&i.pointer));
        v
    } else {
        validate_as::<PolicyDoc>(text, check)
    }
}

/// The index of the policy a pointer is in, after every set-level pointer.
fn entry_of(pointer: &str) -> usize {
    pointer
        .strip_prefix("/policies/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|i| i.parse::<usize>().ok())
        .map_or(0, |i| i + 1)
}

/// Decodes `text` as far as it can as a `T`, and checks what it could decode with `rules`.
fn validate_as<T: for<'de> json::Decode<'de>>(text: &str, rules: fn(&T) -> Validation) -> Validation {
    let (doc, decoding, patches) = json::collect::<T>(text);
    let mut v = Validation {
        errors: decoding
            .into_iter()
            .map(|f| Issue { code: IssueCode::of_decoding(f.kind), pointer: f.pointer, message: f.message })
            .collect(),
        warnings: Vec::new(),
    };
    let Some(doc) = doc else { return v };
    let checked = rules(&doc);
    // A rule broken by what stood in for a removed value is no news.
    let reported: Vec<&str> = v.errors.iter().map(|i| i.pointer.as_str()).collect();
    let news = |i: &Issue| {
        !reported
            .iter()
            .any(|r| i.pointer.strip_prefix(r).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
    };
    let original = |i: Issue| Issue { pointer: patches.original(&i.pointer), ..i };
    let errors: Vec<Issue> = checked.errors.into_iter().map(original).filter(news).collect();
    let warnings: Vec<Issue> = checked.warnings.into_iter().map(original).filter(news).collect();
    v.errors.extend(errors);
    v.warnings.extend(warnings);
    v
}

/// The findings of the rules, as they are found.
#[derive(Default)]
struct Findings(Validation);

impl Findings {
    fn error(&mut self, code: IssueCode, pointer: String, message: String) {
        self.0.errors.push(Issue { code, pointer, message });
    }

    fn warning(&mut self, code: IssueCode, pointer: String, message: String) {
        self.0.warnings.push(Issue { code, pointer, message });
    }
}

/// A list of user or group ids, at `pointer`: each 1 to [`MAX_ID_BYTES`] bytes.
fn check_ids(pointer: &str, ids: &[String], f: &mut Findings) {
    for (i, id) in ids.iter().enumerate() {
        if id.is_empty() {
            f.error(IssueCode::InvalidId, format!("{pointer}/{i}"), "must not be an empty id".into());
        } else if id.len() > MAX_ID_BYTES {
            f.error(
                IssueCode::InvalidId,
                format!("{pointer}/{i}"),
                format!("must be at most {MAX_ID_BYTES} bytes, got {}", id.len()),
            );
        }
    }
}

/// A list that must not be empty nor name an entry twice, at `list`.
fn distinct<T: PartialEq + Copy>(
    items: &[T],
    list: &str,
    name: impl Fn(T) -> &'static str,
    f: &mut Findings,
) {
    if items.is_empty() {
        f.error(IssueCode::Empty, list.into(), "must not be empty".into());
    }
    for (i, item) in items.iter().enumerate() {
        if items.get(..i).is_some_and(|before| before.contains(item)) {
            f.error(
                IssueCode::Duplicate,
                format!("{list}/{i}"),
                format!("`{}` is listed twice", name(*item)),
            );
        }
    }
}

/// Version 2's approvers and enrollment methods, in a policy at `at`.
fn check_v2_lists(
    at: &str,
    approvers: Option<&[Approver]>,
    enrollment: Option<&EnrollmentSettings>,
    f: &mut Findings,
) {
    if let Some(approvers) = approvers {
        distinct(approvers, &format!("{at}/assigned/approvers"), Approver::as_str, f);
    }
    if let Some(enrollment) = enrollment {
        distinct(&enrollment.methods, &format!("{at}/enrollment/methods"), EnrollmentMethod::as_str, f);
    }
}

/// The managed app store, at `/apps`.
fn check_apps(apps: &[AppDoc], f: &mut Findings) {
    if apps.len() > MAX_APPS {
        f.error(
            IssueCode::OutOfRange,
            "/apps".into(),
            format!("must hold at most {MAX_APPS} apps, got {}", apps.len()),
        );
    }
    let mut seen = FxHashSet::default();
    for (i, app) in apps.iter().enumerate() {
        if app.id.is_empty() || app.id.len() > MAX_ID_BYTES {
            f.error(
                IssueCode::InvalidId,
                format!("/apps/{i}/id"),
                format!("must be 1 to {MAX_ID_BYTES} bytes, got {}", app.id.len()),
            );
        }
        let chars = app.name.chars().count();
        if chars == 0 || chars > MAX_ID_BYTES {
            f.error(
                IssueCode::InvalidValue,
                format!("/apps/{i}/name"),
                format!("must be 1 to {MAX_ID_BYTES} characters, got {chars}"),
            );
        }
        if !seen.insert((app.platform, app.id.as_str())) {
            f.error(
                IssueCode::Duplicate,
                format!("/apps/{i}"),
                format!("app `{}` is listed twice for `{}`", app.id, app.platform.os().as_str()),
            );
        }
        for (list, ids) in [("users", &app.users), ("groups", &app.groups)] {
            check_ids(&format!("/apps/{i}/{list}"), ids, f);
        }
    }
}

/// A side's `max_devices`, at `pointer`.
fn check_max_devices(pointer: String, n: u32, f: &mut Findings) {
    if n < 1 {
        f.error(IssueCode::OutOfRange, pointer, format!("must be at least 1, got {n}"));
    } else if n > MAX_DEVICES_LIMIT {
        f.error(IssueCode::OutOfRange, pointer, format!("must be at most {MAX_DEVICES_LIMIT}, got {n}"));
    }
}

/// The ids an assignment names, at `{at}/assignment`.
fn check_assignment_ids(at: &str, a: &Assignment, f: &mut Findings) {
    for (list, ids) in [
        ("users", &a.users),
        ("groups", &a.groups),
        ("exclude_users", &a.exclude_users),
        ("exclude_groups", &a.exclude_groups),
    ] {
        check_ids(&format!("{at}/assignment/{list}"), ids, f);
    }
}

/// The requirements' bounds and versions, at `{at}/requirements`.
fn check_requirements(at: &str, r: &Requirements, f: &mut Findings) {
    if r.min_pin_length > MAX_PIN_LENGTH {
        f.error(
            IssueCode::OutOfRange,
            format!("{at}/requirements/min_pin_length"),
            format!("must be at most {MAX_PIN_LENGTH}, got {}", r.min_pin_length),
        );
    }
    for (os, version) in &r.min_os_version {
        let pointer = format!("{at}/requirements/min_os_version/{}", json::escape_pointer(os));
        if OsType::parse(os).is_none() {
            f.error(
                IssueCode::InvalidValue,
                pointer,
                format!("unknown OS type `{os}`, expected `ios`, `android` or `other`"),
            );
        } else if let Err(e) = version.parse::<Version>() {
            f.error(IssueCode::InvalidVersion, pointer, e.to_string());
        }
    }
}

/// Ids both included and excluded by one assignment, at `{at}/assignment`: a warning (the
/// exclusion wins).
fn warn_overlaps(at: &str, a: &Assignment, f: &mut Findings) {
    for (inc, exc, what) in [
        (&a.users, &a.exclude_users, ("users", "exclude_users", "user")),
        (&a.groups, &a.exclude_groups, ("groups", "exclude_groups", "group")),
    ] {
        let included: FxHashSet<&str> = inc.iter().map(String::as_str).collect();
        for (i, id) in exc.iter().enumerate() {
            if included.contains(id.as_str()) {
                f.warning(
                    IssueCode::IncludedAndExcluded,
                    format!("{at}/assignment/{}/{i}", what.1),
                    format!(
                        "{} `{id}` is both in `{}` and in `{}`; the exclusion wins",
                        what.2, what.0, what.1
                    ),
                );
            }
        }
    }
}

/// The `schema` of a version 1 or 2 document: given, and one this engine knows.
fn check_schema(doc: &PolicyDoc, f: &mut Findings) {
    match (&doc.schema, doc.version()) {
        (None, _) => f.error(IssueCode::MissingField, "/schema".into(), "missing field `schema`".into()),
        (Some(schema), None) => f.error(
            IssueCode::UnsupportedSchema,
            "/schema".into(),
            format!("unsupported schema `{schema}`, expected `{SCHEMA}`, `{SCHEMA_V2}` or `{SCHEMA_V3}`"),
        ),
        (Some(_), Some(SchemaVersion::V1)) => {
            for pointer in doc.v2_fields() {
                let field = pointer.rsplit('/').next().unwrap_or(pointer);
                f.error(
                    IssueCode::UnknownField,
                    pointer.into(),
                    format!("unknown field `{field}` in a `{SCHEMA}` policy (it is a `{SCHEMA_V2}` field)"),
                );
            }
        }
        (Some(_), Some(SchemaVersion::V2 | SchemaVersion::V3)) => {}
    }
}

/// The rules of a version 1 or 2 document.
pub(crate) fn check(doc: &PolicyDoc) -> Validation {
    let mut f = Findings::default();
    check_schema(doc, &mut f);
    check_v2_lists("", doc.assigned.approvers.as_deref(), doc.enrollment.as_ref(), &mut f);
    check_apps(doc.apps.as_deref().unwrap_or_default(), &mut f);
    check_assignment_ids("", &doc.assignment, &mut f);
    check_sides("", &doc.assigned, Some(&doc.unassigned), &mut f);
    check_requirements("", &doc.requirements, &mut f);
    warn_overlaps("", &doc.assignment, &mut f);
    f.0
}

/// The `max_devices` of the assigned side at `{at}/assigned`, and of the unassigned one
/// at `/unassigned` when the document has it at this level.
fn check_sides(
    at: &str,
    assigned: &AssignedSettings,
    unassigned: Option<&UnassignedSettings>,
    f: &mut Findings,
) {
    check_max_devices(format!("{at}/assigned/max_devices"), assigned.max_devices, f);
    if let Some(u) = unassigned {
        check_max_devices(format!("{at}/unassigned/max_devices"), u.max_devices, f);
    }
}

/// A policy's name, at `{at}/name`: given, 1 to [`MAX_POLICY_NAME_BYTES`] bytes.
fn check_name(at: &str, name: Option<&str>, f: &mut Findings) {
    let pointer = format!("{at}/name");
    match name {
        None => f.error(IssueCode::MissingField, pointer, "missing field `name`".into()),
        Some("") => f.error(IssueCode::InvalidId, pointer, "must not be an empty name".into()),
        Some(n) if n.len() > MAX_POLICY_NAME_BYTES => f.error(
            IssueCode::InvalidId,
            pointer,
            format!("must be at most {MAX_POLICY_NAME_BYTES} bytes, got {}", n.len()),
        ),
        Some(_) => {}
    }
}

/// The rules of one policy of a set, at `/policies/{i}`.
fn check_entry(i: usize, p: &PolicyEntryDoc, f: &mut Findings) {
    let at = format!("/policies/{i}");
    check_name(&at, p.name.as_deref(), f);
    check_v2_lists(&at, p.assigned.approvers.as_deref(), Some(&p.enrollment), f);
    check_assignment_ids(&at, &p.assignment, f);
    check_sides(&at, &p.assigned, None, f);
    check_requirements(&at, &p.requirements, f);
    warn_overlaps(&at, &p.assignment, f);
}

/// The rules of a version 3 document: the set's, then each policy's, then the names'
/// uniqueness (byte for byte), each repeat at its own name.
pub(crate) fn check_set(doc: &PolicySetDoc) -> Validation {
    let mut f = Findings::default();
    if doc.schema.as_deref() != Some(SCHEMA_V3) {
        // `is_set` chose this type for the schema; anything else is a bug of the caller.
        f.error(IssueCode::UnsupportedSchema, "/schema".into(), format!("expected `{SCHEMA_V3}`"));
    }
    check_apps(&doc.apps, &mut f);
    check_max_devices("/unassigned/max_devices".into(), doc.unassigned.max_devices, &mut f);
    if doc.policies.len() > MAX_POLICIES {
        f.error(
            IssueCode::OutOfRange,
            "/policies".into(),
            format!("must hold at most {MAX_POLICIES} policies, got {}", doc.policies.len()),
        );
    }
    let mut names = FxHashSet::default();
    for (i, p) in doc.policies.iter().enumerate() {
        check_entry(i, p, &mut f);
        if let Some(name) = p.name.as_deref()
            && !name.is_empty()
            && name.len() <= MAX_POLICY_NAME_BYTES
            && !names.insert(name)
        {
            f.error(
                IssueCode::Duplicate,
                format!("/policies/{i}/name"),
                format!("policy `{name}` is listed twice: names must be unique"),
            );
        }
    }
    f.0
}
