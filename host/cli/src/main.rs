//! `mdm`: run scenario files, decide one event, validate a policy, preview a change.
//! Every decision runs in the wasmtime-hosted component, as the gateway's do.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mdm_engine::{Decision, DocumentKind, Event, UserState};
use mdm_host::{Config, HostError, Runtime};
use mdm_testkit::scenario::{self, Run, StepEvent, StepResult, TraceStep};
use mdm_testkit::{Native, Wasm, corpus};

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

/// The sandbox with the command line's limits, and the compiled-code cache in
/// `$MDM_CACHE_DIR` (else the user's cache directory): a command starts in about a
/// millisecond instead of compiling the engine for a quarter of a second.
fn runtime(limits: &Limits) -> Result<Runtime, CliError> {
    Ok(Runtime::new(Config {
        memory_limit: limits.memory_mib.saturating_mul(1 << 20),
        deadline: std::time::Duration::from_millis(limits.deadline_ms),
        max_document_bytes: limits.max_document_mib.saturating_mul(1 << 20),
        cache_dir: mdm_host::default_cache_dir(),
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
    match command {
        Command::Test { paths, native } => test(&paths, native, limits),
        Command::Run { scenario, json, native } => run_one(&scenario, json, native, limits),
        Command::Eval { policy, state, groups, groups_file, event } => {
            let runtime = runtime(limits)?;
            let gateway = runtime.gateway(&runtime.read_document(&policy, DocumentKind::Policy)?)?;
            let groups = match groups_file {
                Some(path) => serde_json::from_str(&runtime.read_document(&path, DocumentKind::Event)?)
                    .map_err(|e| {
                        CliError(format!("`{}` is not a JSON list of group ids: {e}", path.display()))
                    })?,
                None => groups,
            };
            let mut state = match state {
                Some(p) => UserState::from_json(&runtime.read_document(&p, DocumentKind::State)?)?,
                None => UserState::default(),
            };
            let event = Event::from_json(&runtime.read_document(&event, DocumentKind::Event)?)?;
            let decision = gateway.decide(&groups, &state, &event)?;
            state.apply(decision.effects());
            print_json(&serde_json::json!({ "decision": decision, "state": state }))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { policy } => {
            let runtime = runtime(limits)?;
            let v = runtime.validate(&runtime.read_document(&policy, DocumentKind::Policy)?)?;
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
                &read(&current, DocumentKind::Policy)?,
                &read(&proposed, DocumentKind::Policy)?,
                &read(&population, DocumentKind::State)?,
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
        out.extend(
            corpus::json_files(root)
                .map_err(|e| CliError(format!("cannot read `{}`: {e}", root.display())))?,
        );
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
    let mut wasm = if native { None } else { Some(Wasm(runtime(limits)?)) };
    let run = run_file(path, wasm.as_mut());
    if json {
        print_json(&serde_json::json!({ "name": run.name, "trace": run.trace, "failures": run.failures }))?;
    } else {
        println!("{}", run.name);
        for (i, step) in run.trace.iter().enumerate() {
            println!("  {i}. {}", describe_event(step));
            println!("     → {}", describe_result(&step.result));
            let s = &step.state;
            let ids = |ids: Vec<&str>| {
                if ids.is_empty() { "-".to_string() } else { format!("[{}]", ids.join(", ")) }
            };
            println!(
                "     state: devices {} · pending {} · rejected {}",
                ids(s.devices.iter().map(|d| d.device.device_id.as_str()).collect()),
                ids(s.pending.iter().map(|p| p.device.device_id.as_str()).collect()),
                ids(s.rejected.iter().map(|r| r.device_id.as_str()).collect()),
            );
        }
        for f in &run.failures {
            println!("  FAIL {f}");
        }
    }
    Ok(if run.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn describe_event(step: &TraceStep) -> String {
    match StepEvent::read(&step.event) {
        Ok(StepEvent::SetPolicy(_)) => "the admin saves a new policy".into(),
        Ok(StepEvent::SetGroups { user, groups }) => {
            format!("{user}'s groups become [{}]", groups.join(", "))
        }
        Ok(StepEvent::Decide { .. }) => match Event::from_value(&step.event) {
            Ok(Event::Login(l)) => format!(
                "{} logs in on {} ({}) at {}",
                l.user,
                l.device.device_id,
                l.device.os_type.as_str(),
                l.at
            ),
            Ok(Event::Admin(a)) => {
                format!("the admin does `{}` on {}'s {} at {}", a.action.as_str(), a.user, a.device_id, a.at)
            }
            Err(_) => format!("an invalid event: {}", step.event),
        },
        Err(_) => format!("an invalid step: {}", step.event),
    }
}

fn describe_result(result: &StepResult) -> String {
    match result {
        StepResult::Decision(Decision::Login(d)) => {
            let reasons: Vec<&str> = d.reasons.iter().map(|r| r.as_str()).collect();
            let a = d.access;
            let mut line = format!(
                "{} (app {}, sso {}, push {}) because {}",
                d.outcome.as_str(),
                a.app,
                a.sso,
                a.push_mfa,
                reasons.join(", ")
            );
            if let Some(e) = d.enroll {
                line.push_str(&format!("; enroll with {}", e.method.as_str()));
            }
            if let Some(until) = d.grace_until {
                line.push_str(&format!("; grace until {until}"));
            }
            if let Some(apps) = &d.apps
                && !apps.is_empty()
            {
                let list: Vec<String> =
                    apps.iter().map(|a| format!("{} ({})", a.name, a.status.as_str())).collect();
                line.push_str(&format!("; apps: {}", list.join(", ")));
            }
            if !d.remediation.is_empty() {
                line.push_str(&format!("; to fix: {}", d.remediation.join("; ")));
            }
            line
        }
        StepResult::Decision(Decision::Admin { effects, commands }) => {
            let mut line =
                format!("done ({} change{})", effects.len(), if effects.len() == 1 { "" } else { "s" });
            for c in commands {
                line.push_str(&format!("; send `{}` to {}", c.action.as_str(), c.device_id));
            }
            line
        }
        StepResult::Ok => "ok".into(),
        StepResult::Error(e) => format!("error {} at `{}`: {}", e.code, e.pointer, e.message),
    }
}
