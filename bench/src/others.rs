//! Cedar and Rego deciding the same login rule.

use serde_json::{Value, json};

use crate::{Request, Workload, version_number};

fn min_version(w: &Workload, os: &str) -> i64 {
    w.policy["requirements"]["min_os_version"][os]
        .as_str()
        .and_then(|s| s.parse().ok())
        .map_or(0, |v| version_number(&v))
}

/// Cedar: the assignment as an entity hierarchy (users and groups under `MdmScope`
/// entities, so membership is a transitive-closure lookup), devices as user attributes,
/// the login's device facts in the context.
pub struct Cedar {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    action: cedar_policy::EntityUid,
    resource: cedar_policy::EntityUid,
}

impl Cedar {
    /// The policy text for the workload's settings.
    pub fn policy_text(w: &Workload) -> String {
        let max = w.policy["assigned"]["max_devices"].as_i64().unwrap_or(1);
        let pin = w.policy["requirements"]["min_pin_length"].as_i64().unwrap_or(0);
        format!(
            r#"
permit (principal, action == Action::"login", resource)
when {{ !principal.rejected.contains(context.device_id) }}
unless {{ principal in MdmScope::"assigned" && !(principal in MdmScope::"excluded") }};

permit (principal, action == Action::"login", resource)
when {{
  !principal.rejected.contains(context.device_id) &&
  principal in MdmScope::"assigned" && !(principal in MdmScope::"excluded") &&
  (principal.devices.contains(context.device_id) || principal.device_count < {max}) &&
  ["ios", "android"].contains(context.os) &&
  (context.os != "ios" || (context has os_version && context.os_version >= {ios})) &&
  (context.os != "android" || (context has os_version && context.os_version >= {android})) &&
  context has pin_length && context.pin_length >= {pin} &&
  context has encrypted && context.encrypted &&
  context has compromised && !context.compromised
}};
"#,
            ios = min_version(w, "ios"),
            android = min_version(w, "android"),
        )
    }

    /// Parses the policies and loads the entities, once.
    pub fn new(w: &Workload) -> Result<Cedar, String> {
        let policies: cedar_policy::PolicySet = Self::policy_text(w).parse().map_err(|e| format!("{e}"))?;
        let a = &w.policy["assignment"];
        let set = |k: &str| -> std::collections::HashSet<String> {
            a[k].as_array()
                .map(|v| v.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default()
        };
        let (users, groups, xu, xg) =
            (set("users"), set("groups"), set("exclude_users"), set("exclude_groups"));
        let scope = |name: &str| json!({ "type": "MdmScope", "id": name });
        let mut entities = vec![
            json!({ "uid": scope("assigned"), "attrs": {}, "parents": [] }),
            json!({ "uid": scope("excluded"), "attrs": {}, "parents": [] }),
            json!({ "uid": { "type": "Mdm", "id": "policy" }, "attrs": {}, "parents": [] }),
        ];
        let mut all_groups = std::collections::BTreeSet::new();
        for (user, gs) in &w.directory {
            let mut parents: Vec<Value> = gs.iter().map(|g| json!({ "type": "Group", "id": g })).collect();
            all_groups.extend(gs.iter().cloned());
            if users.contains(user) {
                parents.push(scope("assigned"));
            }
            if xu.contains(user) {
                parents.push(scope("excluded"));
            }
            let state = &w.states[user];
            let devices: Vec<&str> = state.devices.iter().map(|d| d.device.device_id.as_str()).collect();
            let rejected: Vec<&str> = state.rejected.iter().map(|r| r.device_id.as_str()).collect();
            entities.push(json!({
                "uid": { "type": "User", "id": user },
                "attrs": { "devices": devices, "rejected": rejected, "device_count": devices.len() },
                "parents": parents,
            }));
        }
        for g in all_groups.iter().chain(groups.iter()).chain(xg.iter()) {
            let mut parents = Vec::new();
            if groups.contains(g) {
                parents.push(scope("assigned"));
            }
            if xg.contains(g) {
                parents.push(scope("excluded"));
            }
            entities.push(json!({ "uid": { "type": "Group", "id": g }, "attrs": {}, "parents": parents }));
        }
        let entities = cedar_policy::Entities::from_json_value(Value::Array(entities), None)
            .map_err(|e| format!("{e}"))?;
        let action = r#"Action::"login""#.parse().map_err(|e| format!("{e}"))?;
        let resource = r#"Mdm::"policy""#.parse().map_err(|e| format!("{e}"))?;
        Ok(Cedar { authorizer: cedar_policy::Authorizer::new(), policies, entities, action, resource })
    }

    /// The per-request part: principal and context.
    pub fn request(&self, r: &Request) -> Result<cedar_policy::Request, String> {
        let principal = cedar_policy::EntityUid::from_type_name_and_id(
            "User".parse().map_err(|e| format!("{e}"))?,
            cedar_policy::EntityId::new(&r.user),
        );
        let d = &r.device;
        let mut ctx: Vec<(String, cedar_policy::RestrictedExpression)> = vec![
            ("device_id".into(), cedar_policy::RestrictedExpression::new_string(d.device_id.to_string())),
            ("os".into(), cedar_policy::RestrictedExpression::new_string(d.os_type.as_str().into())),
        ];
        if let Some(v) = &d.os_version {
            ctx.push(("os_version".into(), cedar_policy::RestrictedExpression::new_long(version_number(v))));
        }
        if let Some(p) = d.pin_length {
            ctx.push(("pin_length".into(), cedar_policy::RestrictedExpression::new_long(i64::from(p))));
        }
        if let Some(e) = d.encrypted {
            ctx.push(("encrypted".into(), cedar_policy::RestrictedExpression::new_bool(e)));
        }
        if let Some(c) = d.compromised {
            ctx.push(("compromised".into(), cedar_policy::RestrictedExpression::new_bool(c)));
        }
        let context = cedar_policy::Context::from_pairs(ctx).map_err(|e| format!("{e}"))?;
        cedar_policy::Request::new(principal, self.action.clone(), self.resource.clone(), context, None)
            .map_err(|e| format!("{e}"))
    }

    /// Whether the login gets access; the request is built here, as a gateway would.
    pub fn allowed(&self, r: &Request) -> bool {
        self.request(r).is_ok_and(|req| {
            self.authorizer.is_authorized(&req, &self.policies, &self.entities).decision()
                == cedar_policy::Decision::Allow
        })
    }
}

/// Rego on regorus's RVM: the policy compiled once, the directory and states as data
/// loaded once, the login as input.
pub struct Rego {
    vm: std::cell::RefCell<regorus::rvm::vm::RegoVM>,
}

impl Rego {
    /// The Rego module for the workload's settings.
    pub fn policy_text(w: &Workload) -> String {
        let max = w.policy["assigned"]["max_devices"].as_i64().unwrap_or(1);
        let pin = w.policy["requirements"]["min_pin_length"].as_i64().unwrap_or(0);
        format!(
            r#"package mdm

import rego.v1

default allow := false

excluded if data.exclude_users[input.user]

excluded if {{
	some g in data.directory[input.user]
	data.exclude_groups[g]
}}

included if data.users[input.user]

included if {{
	some g in data.directory[input.user]
	data.groups[g]
}}

assigned if {{
	included
	not excluded
}}

rejected if data.state[input.user].rejected[input.device.device_id]

allow if {{
	not rejected
	not assigned
}}

allow if {{
	not rejected
	assigned
	device_ok
	posture_ok
}}

device_ok if data.state[input.user].devices[input.device.device_id]

device_ok if data.state[input.user].count < {max}

posture_ok if {{
	input.device.os_type in {{"ios", "android"}}
	version_ok
	input.device.pin_length >= {pin}
	input.device.encrypted == true
	input.device.compromised == false
}}

version_ok if {{
	input.device.os_type == "ios"
	input.device.os_version >= {ios}
}}

version_ok if {{
	input.device.os_type == "android"
	input.device.os_version >= {android}
}}
"#,
            ios = min_version(w, "ios"),
            android = min_version(w, "android"),
        )
    }

    /// The data document: sets as objects for constant-time lookups.
    pub fn data(w: &Workload) -> Value {
        let a = &w.policy["assignment"];
        let set = |k: &str| -> Value {
            Value::Object(
                a[k].as_array()
                    .map(|v| {
                        v.iter().filter_map(|x| x.as_str()).map(|x| (x.to_string(), json!(true))).collect()
                    })
                    .unwrap_or_default(),
            )
        };
        let state: serde_json::Map<String, Value> = w
            .states
            .iter()
            .map(|(u, s)| {
                let devices: serde_json::Map<String, Value> =
                    s.devices.iter().map(|d| (d.device.device_id.to_string(), json!(true))).collect();
                let rejected: serde_json::Map<String, Value> =
                    s.rejected.iter().map(|r| (r.device_id.to_string(), json!(true))).collect();
                (u.clone(), json!({ "devices": devices, "rejected": rejected, "count": s.devices.len() }))
            })
            .collect();
        json!({ "users": set("users"), "groups": set("groups"), "exclude_users": set("exclude_users"),
                "exclude_groups": set("exclude_groups"), "directory": w.directory, "state": state })
    }

    /// Compiles the policy to an RVM program and loads the data, once.
    pub fn new(w: &Workload) -> Result<Rego, String> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("mdm.rego".into(), Self::policy_text(w)).map_err(|e| e.to_string())?;
        let entry: std::sync::Arc<str> = "data.mdm.allow".into();
        let compiled = engine.compile_with_entrypoint(&entry).map_err(|e| e.to_string())?;
        let program =
            regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, &["data.mdm.allow"])
                .map_err(|e| e.to_string())?;
        let mut vm = regorus::rvm::vm::RegoVM::new();
        vm.load_program(program);
        let data = regorus::Value::from_json_str(&Self::data(w).to_string()).map_err(|e| e.to_string())?;
        vm.set_data(data).map_err(|e| e.to_string())?;
        Ok(Rego { vm: std::cell::RefCell::new(vm) })
    }

    /// The per-request part: the input document.
    pub fn input(r: &Request) -> regorus::Value {
        let d = &r.device;
        let mut device = std::collections::BTreeMap::new();
        device.insert(regorus::Value::from("device_id"), regorus::Value::from(d.device_id.as_str()));
        device.insert(regorus::Value::from("os_type"), regorus::Value::from(d.os_type.as_str()));
        if let Some(v) = &d.os_version {
            device.insert(regorus::Value::from("os_version"), regorus::Value::from(version_number(v)));
        }
        if let Some(p) = d.pin_length {
            device.insert(regorus::Value::from("pin_length"), regorus::Value::from(i64::from(p)));
        }
        if let Some(e) = d.encrypted {
            device.insert(regorus::Value::from("encrypted"), regorus::Value::from(e));
        }
        if let Some(c) = d.compromised {
            device.insert(regorus::Value::from("compromised"), regorus::Value::from(c));
        }
        let mut input = std::collections::BTreeMap::new();
        input.insert(regorus::Value::from("user"), regorus::Value::from(r.user.as_str()));
        input.insert(regorus::Value::from("device"), regorus::Value::from(device));
        regorus::Value::from(input)
    }

    /// Whether the login gets access.
    pub fn allowed(&self, r: &Request) -> bool {
        let mut vm = self.vm.borrow_mut();
        vm.set_input(Self::input(r));
        vm.execute().is_ok_and(|v| v == regorus::Value::from(true))
    }
}
