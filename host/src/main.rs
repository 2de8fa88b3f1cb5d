//! `mdm`: run scenario files, decide one event, validate a policy, preview a change.
//! Every decision runs in the wasmtime-hosted component, as the gateway's do.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mdm_engine::scenario::{self, Native, Run};
use mdm_engine::{Event, UserState};
use mdm_host::scenario::Wasm;
use mdm_host::{Config, HostError, Runtime};

#[derive(Parser)]
#[command(name = "mdm", version, about = "mdm-policy: decide mobile logins under an MDM policy")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    limits: Limits,
}

/// The sandbox's limits. The CLI is an admin's tool over whole populations, so its
/// defaults are roomier than a gateway's per-login ones (64 MiB, 64 MiB, 100 ms); still
/// finite.
#[derive(clap::Args)]
struct Limits {
    /// Largest document read, in MiB.
    #[arg(long, global = true, default_value_t = 512, value_name = "MIB")]
    max_document_mib: usize,
    /// Most memory the engine may use, in MiB.
    #[arg(long, global = true, default_value_t = 2048, value_name = "MIB")]
    memory_mib: usize,
    /// Longest one call into the engine may run, in milliseconds.
    #[arg(long, global = true, default_value_t = 120_000, value_name = "MS")]
    deadline_ms: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Run every `*.json` scenario under the paths; ends with `N passed, N failed`.
    Test {
        /// Scenario files or directories (searched recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Run the engine natively instead of in the wasmtime component.
        #[arg(long)]
        native: bool,
    },
    /// Run one scenario and show every step's decision and the state after it.
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Print the trace as JSON.
        #[arg(long)]
        json: bool,
        /// Run the engine natively instead of in the wasmtime component.
        #[arg(long)]
        native: bool,
    },
    /// Decide one event; prints the decision and the user's new state as JSON.
    Eval {
        /// The policy document.
        #[arg(long)]
        policy: PathBuf,
        /// The user's stored state (none: no devices).
        #[arg(long)]
        state: Option<PathBuf>,
        /// The user's groups.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// The user's groups as a JSON list in a file (for more than a command line holds).
        #[arg(long, conflicts_with = "groups")]
        groups_file: Option<PathBuf>,
        /// The event document.
        #[arg(long)]
        event: PathBuf,
    },
    /// Validate a policy: errors and warnings with JSON Pointers; exit 1 on errors.
    Validate {
        /// The policy document.
        policy: PathBuf,
    },
    /// What-if preview: what the proposed policy changes for a population, as JSON.
    Preview {
        /// The policy in force.
        #[arg(long)]
        current: PathBuf,
        /// The policy the admin is about to save.
        #[arg(long)]
        proposed: PathBuf,
        /// `{ "directory": {...}, "state": {...} }`.
        #[arg(long)]
        population: PathBuf,
        /// The time to evaluate at (RFC 3339).
        #[arg(long)]
        at: String,
    },
}

/// A failure the user reads on stderr.
struct CliError(String);

impl From<HostError> for CliError {
    fn from(e: HostError) -> Self {
        match &e {
            HostError::Engine(inner) => {
                CliError(format!("{} at `{}`: {}", inner.code(), inner.pointer(), inner.message()))
            }
            other => CliError(format!("{}: {other}", other.code())),
        }
    }
}

impl From<mdm_engine::Error> for CliError {
    fn from(e: mdm_engine::Error) -> Self {
        CliError::from(HostError::Engine(e))
    }
}

fn runtime(limits: &Limits) -> Result<Runtime, CliError> {
    Ok(Runtime::new(Config {
        memory_limit: limits.memory_mib.saturating_mul(1 << 20),
        deadline: std::time::Duration::from_millis(limits.deadline_ms),
        max_document_bytes: limits.max_document_mib.saturating_mul(1 << 20),
        ..Config::default()
    })?)
}

fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| CliError(format!("cannot print the result: {e}")))?;
    println!("{text}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command, &cli.limits) {
        Ok(code) => code,
        Err(CliError(message)) => {
            eprintln!("mdm: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command, limits: &Limits) -> Result<ExitCode, CliError> {
    use mdm_engine::ErrorCode::{InvalidEvent, InvalidPolicy, InvalidState};
    match command {
        Command::Test { paths, native } => test(&paths, native, limits),
        Command::Run { scenario, json, native } => run_one(&scenario, json, native, limits),
        Command::Eval { policy, state, groups, groups_file, event } => {
            let runtime = runtime(limits)?;
            let gateway = runtime.gateway(&runtime.read_document(&policy, InvalidPolicy)?)?;
            let groups = match groups_file {
                Some(path) => {
                    serde_json::from_str(&runtime.read_document(&path, InvalidState)?).map_err(|e| {
                        CliError(format!("`{}` is not a JSON list of group ids: {e}", path.display()))
                    })?
                }
                None => groups,
            };
            let mut state = match state {
                Some(p) => UserState::from_json(&runtime.read_document(&p, InvalidState)?)?,
                None => UserState::default(),
            };
            let event = Event::from_json(&runtime.read_document(&event, InvalidEvent)?)?;
            let decision = gateway.decide(&groups, &state, &event)?;
            state.apply(decision.effects());
            print_json(&serde_json::json!({ "decision": decision, "state": state }))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { policy } => {
            let runtime = runtime(limits)?;
            let v = runtime.validate(&runtime.read_document(&policy, InvalidPolicy)?)?;
            for i in &v.errors {
                println!("error   {}: {}", display_pointer(&i.pointer), i.message);
            }
            for i in &v.warnings {
                println!("warning {}: {}", display_pointer(&i.pointer), i.message);
            }
            if v.errors.is_empty() {
                println!(
                    "valid ({} warning{})",
                    v.warnings.len(),
                    if v.warnings.len() == 1 { "" } else { "s" }
                );
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::from(1))
            }
        }
        Command::Preview { current, proposed, population, at } => {
            let runtime = runtime(limits)?;
            let read = |path: &Path, code| runtime.read_document(path, code);
            let report = runtime.preview(
                &read(&current, InvalidPolicy)?,
                &read(&proposed, InvalidPolicy)?,
                &read(&population, InvalidState)?,
                &at,
            )?;
            let value: serde_json::Value = serde_json::from_str(&report)
                .map_err(|e| CliError(format!("the engine's report is not JSON: {e}")))?;
            print_json(&value)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() { "/" } else { p }
}

/// Every `*.json` under the paths, recursively, sorted per path.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for root in paths {
        let mut found = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(p) = stack.pop() {
            let meta =
                std::fs::metadata(&p).map_err(|e| CliError(format!("cannot read `{}`: {e}", p.display())))?;
            if meta.is_dir() {
                let entries = std::fs::read_dir(&p)
                    .map_err(|e| CliError(format!("cannot list `{}`: {e}", p.display())))?;
                for entry in entries {
                    let entry = entry.map_err(|e| CliError(format!("cannot list `{}`: {e}", p.display())))?;
                    let path = entry.path();
                    if path.is_dir() || path.extension().is_some_and(|e| e == "json") {
                        stack.push(path);
                    }
                }
            } else {
                found.push(p);
            }
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn run_file(path: &Path, wasm: Option<&mut Wasm>) -> Run {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => match wasm {
            Some(w) => scenario::run(w, &name, &text),
            None => scenario::run(&mut Native, &name, &text),
        },
        Err(e) => Run {
            name: name.clone(),
            failures: vec![format!("cannot read `{name}`: {e}")],
            trace: Vec::new(),
        },
    }
}

fn test(paths: &[PathBuf], native: bool, limits: &Limits) -> Result<ExitCode, CliError> {
    let files = scenario_files(paths)?;
    let mut wasm = if native { None } else { Some(Wasm(runtime(limits)?)) };
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        let run = run_file(file, wasm.as_mut());
        if run.passed() {
            passed += 1;
        } else {
            failed += 1;
            println!("FAIL {} ({})", run.name, file.display());
            for f in &run.failures {
                println!("  {f}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn run_one(path: &Path, json: bool, native: bool, limits: &Limits) -> Result<ExitCode, CliError> {
    let runtime = runtime(limits)?;
    let text = runtime.read_document(path, mdm_engine::ErrorCode::InvalidState)?;
    let name = path.display().to_string();
    let run = if native {
        scenario::run(&mut Native, &name, &text)
    } else {
        scenario::run(&mut Wasm(runtime), &name, &text)
    };
    let steps: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("steps").and_then(|s| s.as_array()).cloned())
        .unwrap_or_default();
    if json {
        print_json(&serde_json::json!({ "name": run.name, "trace": run.trace, "failures": run.failures }))?;
    } else {
        println!("{}", run.name);
        for (i, (record, step)) in run.trace.iter().zip(&steps).enumerate() {
            println!("  {i}. {}", describe_event(&step["event"]));
            println!("     → {}", describe_result(&record["result"]));
            let s = &record["state"];
            println!(
                "     state: devices {} · pending {} · rejected {}",
                ids(&s["devices"], "device_id"),
                ids(&s["pending"], "device"),
                ids(&s["rejected"], "device_id")
            );
        }
        for f in &run.failures {
            println!("  FAIL {f}");
        }
    }
    Ok(if run.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn describe_event(e: &serde_json::Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    match s("type").as_str() {
        "login" => format!(
            "{} logs in on {} ({}) at {}",
            s("user"),
            e.pointer("/device/device_id").and_then(|v| v.as_str()).unwrap_or("?"),
            e.pointer("/device/os_type").and_then(|v| v.as_str()).unwrap_or("?"),
            s("at")
        ),
        "set_policy" => "the admin saves a new policy".into(),
        "set_groups" => format!("{}'s groups become {}", s("user"), e["groups"]),
        kind => format!("the admin does `{kind}` on {}'s {} at {}", s("user"), s("device_id"), s("at")),
    }
}

fn describe_result(r: &serde_json::Value) -> String {
    if let Some(d) = r.get("decision") {
        match d.get("outcome").and_then(|o| o.as_str()) {
            Some(o) => {
                let reasons: Vec<&str> = d["reasons"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                    .unwrap_or_default();
                let a = &d["access"];
                let mut line = format!(
                    "{o} (app {}, sso {}, push {}) because {}",
                    a["app"],
                    a["sso"],
                    a["push_mfa"],
                    reasons.join(", ")
                );
                if let Some(rem) = d.get("remediation").and_then(|x| x.as_array()) {
                    let texts: Vec<&str> = rem.iter().filter_map(|x| x.as_str()).collect();
                    line.push_str(&format!("; to fix: {}", texts.join("; ")));
                }
                line
            }
            None => format!(
                "done ({} change{})",
                d["effects"].as_array().map_or(0, Vec::len),
                if d["effects"].as_array().map_or(0, Vec::len) == 1 { "" } else { "s" }
            ),
        }
    } else if let Some(e) = r.get("error") {
        format!(
            "error {} at `{}`: {}",
            e["code"].as_str().unwrap_or("?"),
            e["pointer"].as_str().unwrap_or(""),
            e["message"].as_str().unwrap_or("")
        )
    } else {
        "ok".into()
    }
}

fn ids(list: &serde_json::Value, key: &str) -> String {
    let items: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    let v = &x[key];
                    v.as_str().or_else(|| v["device_id"].as_str()).map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() { "-".into() } else { format!("[{}]", items.join(", ")) }
}
