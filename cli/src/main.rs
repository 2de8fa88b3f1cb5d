//! `mdm`: run scenario files, decide one event, validate, format and describe documents,
//! preview a change. Every decision runs in the wasmtime-hosted component, as the
//! gateway's do (`--native` for a scenario run is the exception, for comparing).
//!
//! Exit codes: 0 ok; 1 a negative result; 2 usage; 3 unreadable or invalid input, or a
//! sandbox fault (see `output`).

mod fmt;
mod output;
mod test;
mod words;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mdm_engine::{Decision, DocumentKind, Event, PolicyKey, UserState};
use mdm_host::{Config, Runtime};
use mdm_testkit::Wasm;
use mdm_testkit::scenario::{StepEvent, StepResult, TraceStep};

use output::{CliError, Format, Outcome, out, outln, print_json};

#[derive(Parser)]
#[command(
    name = "mdm",
    version,
    about = "mdm-policy: decide mobile logins under an MDM policy",
    after_help = "Exit codes: 0 ok; 1 a negative result (validation errors, failed scenarios, files not in \
                  canonical form, an `eval --fail-on` outcome); 2 usage; 3 unreadable or invalid input, or a \
                  sandbox fault."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How results and errors are printed: `pretty` for a person, `json` for a program
    /// (errors as `{ "code", "pointer", "message" }` on stderr), `junit` for `mdm test`.
    #[arg(long, global = true, value_enum, env = "MDM_FORMAT", default_value = "pretty")]
    format: Format,
    #[command(flatten)]
    limits: Limits,
}

/// `mdm serve --log-format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormatArg {
    /// A line of text per event.
    Text,
    /// JSON lines.
    Json,
}

/// The sandbox's limits. The CLI is an admin's tool over whole populations, so its
/// defaults are roomier than a gateway's per-login ones (`mdm_host::Config::default()`);
/// still finite.
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
    /// Run every `*.json` scenario under the paths; exit 1 if any fails.
    Test {
        /// Scenario files or directories (searched recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Run the engine natively instead of in the wasmtime component.
        #[arg(long)]
        native: bool,
        /// Only the scenarios whose name or path matches this regular expression.
        #[arg(long, value_name = "REGEX")]
        run: Option<String>,
        /// List every scenario with its result and time (and, with `--coverage`, each
        /// policy's table).
        #[arg(short, long)]
        verbose: bool,
        /// Report which reason codes, outcomes, error codes, events and policy settings
        /// the scenarios exercised, and which they never did.
        #[arg(long)]
        coverage: bool,
        /// Fail (exit 1) when the coverage is below this percentage; implies `--coverage`.
        #[arg(long, value_name = "PCT", value_parser = percentage)]
        coverage_min: Option<f64>,
    },
    /// Run one scenario and show every step's decision and the state after it.
    Run {
        /// The scenario file.
        scenario: PathBuf,
        /// Print the trace as JSON (same as `--format json`).
        #[arg(long)]
        json: bool,
        /// Run the engine natively instead of in the wasmtime component.
        #[arg(long)]
        native: bool,
    },
    /// Decide one event; prints the decision and the user's new state.
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
        /// Exit 1 when a login gets one of these outcomes (`deny`, `pending_approval`,
        /// `limited`, `allow`), or when an admin event is refused (`error`).
        #[arg(long, value_delimiter = ',', value_name = "OUTCOME", value_parser = ["allow", "limited", "pending_approval", "deny", "error"])]
        fail_on: Vec<String>,
    },
    /// Validate a policy: every error and warning with its code and JSON Pointer; exit 1
    /// on errors.
    Validate {
        /// The policy document.
        policy: PathBuf,
    },
    /// What-if preview: what the proposed policy changes for a population.
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
    /// Put policy and scenario files in canonical form (key order, indentation).
    Fmt {
        /// Files or directories (every `*.json` under them, recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// List the files that are not in canonical form; exit 1 if any.
        #[arg(long, conflicts_with = "write")]
        check: bool,
        /// Rewrite the files in place.
        #[arg(long)]
        write: bool,
    },
    /// Serve decisions over HTTP, with each user's state, the approval inbox, the decision
    /// log and every policy version in a database (see docs/service.md). Tokens come from
    /// files (one per line) or from `MDM_GATEWAY_TOKEN` and `MDM_ADMIN_TOKEN` (set but
    /// blank is refused); without them the service listens on loopback only, open to every
    /// caller there. Decisions
    /// use a gateway's sandbox limits (64 MiB, 100 ms per call); the global limits apply
    /// to validation and previews.
    Serve {
        /// The policy to decide with when the database holds none; without it, the latest
        /// one stored. A database that holds another keeps it (an admin's `PUT` is newer
        /// than any file) unless `--replace-policy` is given.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Store `--policy` as the newest version even when the database holds another.
        #[arg(long, requires = "policy")]
        replace_policy: bool,
        /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
        #[arg(long, default_value = "sqlite://mdm.db")]
        db: String,
        /// Create the database (a SQLite file) and its tables if they do not exist;
        /// without it, a missing file or an empty database is refused.
        #[arg(long)]
        create: bool,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM, the service's own certificate
        /// first); read again, with the key, on SIGHUP.
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The log's format on stderr: `text` (a line per event) or `json` (JSON lines, each
        /// with the request's id and decision's id); `--format json` chooses `json` too.
        #[arg(long, value_enum, env = "MDM_LOG_FORMAT", value_name = "FORMAT")]
        log_format: Option<LogFormatArg>,
        /// A file of the gateway's bearer tokens, one per line (`#` starts a comment line).
        #[arg(long, value_name = "FILE")]
        gateway_token_file: Option<PathBuf>,
        /// A file of the admins' bearer tokens, one per line (`#` starts a comment line).
        #[arg(long, value_name = "FILE")]
        admin_token_file: Option<PathBuf>,
        /// A directory to serve at `/`: the admin console (`js/`).
        #[arg(long, value_name = "DIR")]
        console: Option<PathBuf>,
        /// How often to look for a policy another replica stored, in milliseconds.
        #[arg(long, default_value_t = 1000, value_name = "MS")]
        poll_ms: u64,
        /// How far an event's `at` may be from the server's clock, either way, in hours.
        #[arg(long, default_value_t = 24, value_name = "HOURS", value_parser = clap::value_parser!(u64).range(1..))]
        at_window_hours: u64,
        /// The most requests answered at once; more get 503 with `retry-after`.
        #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_concurrent: u64,
        /// The most MiB of request bodies held at once; more get 503 with `retry-after`.
        #[arg(long, default_value_t = 256, value_name = "MIB")]
        max_inflight_mib: usize,
        /// How long a client has to send a request's headers (also how long an idle
        /// connection is kept), in milliseconds.
        #[arg(long, default_value_t = 10_000, value_name = "MS")]
        header_timeout_ms: u64,
        /// How long a request body may go without a byte arriving, in milliseconds.
        #[arg(long, default_value_t = 10_000, value_name = "MS")]
        idle_timeout_ms: u64,
        /// The CloudEvents `source` of the webhooks' events.
        #[arg(long, default_value = mdm_service::DEFAULT_SOURCE, value_name = "URI")]
        webhook_source: String,
        /// The wait after a webhook delivery's first failed attempt, in milliseconds; it
        /// doubles (with jitter) at each later one.
        #[arg(long, default_value_t = 30_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
        webhook_backoff_ms: u64,
        /// The longest wait between two attempts of a webhook delivery, in milliseconds.
        #[arg(long, default_value_t = 3_600_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
        webhook_backoff_max_ms: u64,
        /// The attempts of a webhook delivery before it is dead (an endpoint's
        /// `max_attempts` overrides it).
        #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
        webhook_attempts: u32,
        /// How long one webhook attempt may take, in milliseconds.
        #[arg(long, default_value_t = 10_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
        webhook_timeout_ms: u64,
        /// How often to look for webhook deliveries that fell due (retries, and events
        /// other replicas stored), in milliseconds.
        #[arg(long, default_value_t = 1000, value_name = "MS", value_parser = clap::value_parser!(u64).range(10..))]
        webhook_poll_ms: u64,
        /// How often to look for approval requests that expired unseen, in milliseconds.
        #[arg(long, default_value_t = 60_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(10..))]
        webhook_sweep_ms: u64,
    },
    /// Print the JSON Schema of a document, for editors and validators.
    Schema {
        /// Which document.
        #[arg(value_parser = ["policy", "state", "event", "population", "scenario"])]
        document: String,
    },
}

fn percentage(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{s}` is not a percentage from 0 to 100")),
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

/// Whether the raw command line or the environment asks for JSON: a usage error is
/// found before the arguments are parsed, and is still printed as asked.
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let flag = args.windows(2).any(|w| matches!(w, [a, b] if a == "--format" && b == "json"))
        || args.iter().any(|a| a == "--format=json");
    flag || (std::env::var("MDM_FORMAT").is_ok_and(|v| v == "json")
        && !args.iter().any(|a| a.starts_with("--format")))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if json_requested() => {
            let message = e.kind().to_string();
            let detail = e.to_string();
            let first = detail.lines().next().unwrap_or(&message).trim_start_matches("error: ");
            CliError::usage(first).print(Format::Json);
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    match run(cli.command, cli.format, &cli.limits) {
        Ok(outcome) => outcome.into(),
        Err(e) => {
            e.print(cli.format);
            e.exit_code()
        }
    }
}

fn not_junit(format: Format) -> Result<Format, CliError> {
    match format {
        Format::Junit => Err(CliError::usage("`--format junit` is for `mdm test` only")),
        other => Ok(other),
    }
}

fn run(command: Command, format: Format, limits: &Limits) -> Result<Outcome, CliError> {
    match command {
        Command::Test { paths, native, run, verbose, coverage, coverage_min } => {
            let filter = run
                .map(|r| regex::Regex::new(&r).map_err(|e| CliError::usage(format!("`--run {r}`: {e}"))))
                .transpose()?;
            let wasm = if native { None } else { Some(Wasm(runtime(limits)?)) };
            let options = test::Options {
                paths: &paths,
                filter: filter.as_ref(),
                verbose,
                coverage: coverage || coverage_min.is_some(),
                coverage_min,
                format,
            };
            test::test(&options, wasm)
        }
        Command::Run { scenario, json, native } => {
            let format = if json { Format::Json } else { not_junit(format)? };
            run_one(&scenario, format, native, limits)
        }
        Command::Eval { policy, state, groups, groups_file, event, fail_on } => {
            let format = not_junit(format)?;
            let runtime = runtime(limits)?;
            let gateway = runtime.gateway(&runtime.read_document(&policy, DocumentKind::Policy)?)?;
            let groups = match groups_file {
                Some(path) => serde_json::from_str(&runtime.read_document(&path, DocumentKind::Event)?)
                    .map_err(|e| CliError {
                        code: "invalid_event".into(),
                        pointer: String::new(),
                        message: format!("`{}` is not a JSON list of group ids: {e}", path.display()),
                    })?,
                None => groups,
            };
            let mut state = match state {
                Some(p) => UserState::from_json(&runtime.read_document(&p, DocumentKind::State)?)?,
                None => UserState::default(),
            };
            let event = Event::from_json(&runtime.read_document(&event, DocumentKind::Event)?)?;
            let decision = match gateway.decide(&groups, &state, &event) {
                Ok(d) => d,
                // A refused admin event is an answer, not bad input: with `--fail-on
                // error` it is the negative result.
                Err(mdm_host::HostError::Engine(e))
                    if fail_on.iter().any(|f| f == "error") && !is_document_error(&e) =>
                {
                    CliError::from(e).print(format);
                    return Ok(Outcome::Negative);
                }
                Err(e) => return Err(e.into()),
            };
            state.apply(decision.effects());
            let failed = decision.login().is_some_and(|d| fail_on.iter().any(|f| f == d.outcome.as_str()));
            match format {
                Format::Json => {
                    print_json(&serde_json::json!({ "decision": decision, "state": state }), format)?
                }
                _ => {
                    outln!("{}", describe_result(&StepResult::Decision(decision)));
                    outln!("state: {}", describe_state(&state));
                }
            }
            Ok(if failed { Outcome::Negative } else { Outcome::Ok })
        }
        Command::Validate { policy } => {
            let format = not_junit(format)?;
            let runtime = runtime(limits)?;
            let v = runtime.validate(&runtime.read_document(&policy, DocumentKind::Policy)?)?;
            match format {
                Format::Json => print_json(
                    &serde_json::json!({ "valid": v.errors.is_empty(), "errors": v.errors, "warnings": v.warnings }),
                    format,
                )?,
                _ => {
                    for (kind, list) in [("error", &v.errors), ("warning", &v.warnings)] {
                        for i in list {
                            outln!("{kind:<7} {} {}: {}", i.code, display_pointer(&i.pointer), i.message);
                        }
                    }
                    let plural =
                        |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
                    if v.errors.is_empty() {
                        outln!("valid ({})", plural(v.warnings.len(), "warning"));
                    } else {
                        outln!(
                            "invalid ({}, {})",
                            plural(v.errors.len(), "error"),
                            plural(v.warnings.len(), "warning")
                        );
                    }
                }
            }
            Ok(if v.errors.is_empty() { Outcome::Ok } else { Outcome::Negative })
        }
        Command::Preview { current, proposed, population, at } => {
            let format = not_junit(format)?;
            let runtime = runtime(limits)?;
            let read = |path: &Path, code| runtime.read_document(path, code);
            let report = runtime.preview(
                &read(&current, DocumentKind::Policy)?,
                &read(&proposed, DocumentKind::Policy)?,
                &read(&population, DocumentKind::State)?,
                &at,
            )?;
            let not_json = |e: serde_json::Error| {
                CliError::from(mdm_host::HostError::Protocol(format!("the report is not JSON: {e}")))
            };
            if format == Format::Json {
                // Already the one compact JSON document to print: checked, not rebuilt
                // (a million-user report is tens of megabytes).
                serde_json::from_str::<serde::de::IgnoredAny>(&report).map_err(not_json)?;
                outln!("{report}");
            } else {
                print_preview(&serde_json::from_str(&report).map_err(not_json)?);
            }
            Ok(Outcome::Ok)
        }
        Command::Serve {
            policy,
            replace_policy,
            db,
            create,
            listen,
            gateway_token_file,
            admin_token_file,
            console,
            poll_ms,
            at_window_hours,
            max_concurrent,
            max_inflight_mib,
            header_timeout_ms,
            idle_timeout_ms,
            webhook_source,
            webhook_backoff_ms,
            webhook_backoff_max_ms,
            webhook_attempts,
            webhook_timeout_ms,
            webhook_poll_ms,
            webhook_sweep_ms,
            tls_cert,
            tls_key,
            log_format,
        } => {
            let preview = runtime(limits)?;
            let runtime =
                Runtime::new(Config { cache_dir: mdm_host::default_cache_dir(), ..Config::default() })?;
            let policy = policy.map(|p| runtime.read_document(&p, DocumentKind::Policy)).transpose()?;
            let role = |var: &str, file: Option<PathBuf>| {
                mdm_service::role_tokens(var, std::env::var_os(var), file.as_deref())
            };
            let tokens = mdm_service::Tokens::new(
                &role("MDM_GATEWAY_TOKEN", gateway_token_file)?,
                &role("MDM_ADMIN_TOKEN", admin_token_file)?,
            )?;
            let ms = std::time::Duration::from_millis;
            let options = mdm_service::Options {
                policy,
                replace_policy,
                db,
                create,
                listen,
                tokens,
                console,
                poll: ms(poll_ms.max(10)),
                // `--format json` (or `MDM_FORMAT=json`): the log in JSON lines.
                log: match (log_format, format) {
                    (Some(LogFormatArg::Json), _) | (None, Format::Json) => mdm_service::LogFormat::Json,
                    _ => mdm_service::LogFormat::Text,
                },
                limits: mdm_service::Limits {
                    at_window: std::time::Duration::from_secs(at_window_hours.saturating_mul(3600)),
                    max_concurrent: usize::try_from(max_concurrent).unwrap_or(usize::MAX),
                    max_inflight_bytes: max_inflight_mib.saturating_mul(1 << 20),
                    header_timeout: ms(header_timeout_ms),
                    idle_timeout: ms(idle_timeout_ms),
                    ..mdm_service::Limits::default()
                },
                webhooks: mdm_service::WebhookOptions {
                    source: webhook_source,
                    backoff: ms(webhook_backoff_ms),
                    backoff_max: ms(webhook_backoff_max_ms.max(webhook_backoff_ms)),
                    max_attempts: webhook_attempts,
                    timeout: ms(webhook_timeout_ms),
                    poll: ms(webhook_poll_ms),
                    sweep: ms(webhook_sweep_ms),
                },
                tls: tls_cert.zip(tls_key).map(|(cert, key)| mdm_service::TlsFiles { cert, key }),
            };
            mdm_service::run(runtime, preview, options)?;
            Ok(Outcome::Ok)
        }
        Command::Fmt { paths, check, write } => format_files(&paths, check, write, not_junit(format)?),
        Command::Schema { document } => {
            let schema = match mdm_engine::schema::Document::parse(&document) {
                Some(d) => d.schema(),
                None => mdm_testkit::scenario::schema(),
            };
            // Pretty-printed either way: a schema is read by people and committed.
            print_json(&schema, Format::Pretty)?;
            Ok(Outcome::Ok)
        }
    }
}

/// Whether an engine error is about a document (bad input, exit 3) rather than a refused
/// admin event (an answer).
fn is_document_error(e: &mdm_engine::Error) -> bool {
    use mdm_engine::ErrorCode as C;
    matches!(e.code(), C::InvalidPolicy | C::InvalidEvent | C::InvalidState)
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() { "/" } else { p }
}

fn print_preview(report: &serde_json::Value) {
    let summary = report.get("summary").and_then(|s| s.as_object());
    for (key, value) in summary.into_iter().flatten() {
        outln!("{:<24} {value}", key.replace('_', " "));
    }
    let changes = report.get("changes").and_then(|c| c.as_array()).map_or(&[][..], Vec::as_slice);
    if !changes.is_empty() {
        outln!("changes:");
    }
    for c in changes {
        let side = |k: &str| {
            let v = &c[k];
            let a = &v["access"];
            // A side of a preview with a policy set names the user's policy.
            let policy = match v.get("policy") {
                Some(serde_json::Value::String(name)) => format!(" under `{name}`"),
                Some(serde_json::Value::Null) => " under no policy".into(),
                _ => String::new(),
            };
            format!(
                "{}{policy} (app {}, sso {}, push {})",
                v["scope"].as_str().unwrap_or("-"),
                a["app"],
                a["sso"],
                a["push_mfa"]
            )
        };
        outln!("  {}: {} → {}", c["user"].as_str().unwrap_or("?"), side("before"), side("after"));
    }
}

fn format_files(paths: &[PathBuf], check: bool, write: bool, format: Format) -> Result<Outcome, CliError> {
    let files = test::scenario_files(paths)?;
    let mut results = Vec::new();
    let mut changed = 0usize;
    for file in &files {
        let path = file.display().to_string();
        let text =
            std::fs::read_to_string(file).map_err(|e| CliError::io(format!("cannot read `{path}`: {e}")))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| CliError {
            code: "syntax".into(),
            pointer: String::new(),
            message: format!("`{path}` is not JSON: {e}"),
        })?;
        let Some(kind) = fmt::Kind::of(&value) else {
            // Named on the command line, it is a mistake; found in a directory, it is
            // another kind of document (a state, an event) and is left alone.
            if paths.contains(file) {
                return Err(CliError::usage(format!(
                    "`{path}` is neither a policy (`schema`) nor a scenario (`steps`)"
                )));
            }
            continue;
        };
        let canonical = fmt::canonical(&value, kind);
        let is_canonical = canonical == text;
        if !is_canonical {
            changed += 1;
        }
        if write && !is_canonical {
            std::fs::write(file, &canonical)
                .map_err(|e| CliError::io(format!("cannot write `{path}`: {e}")))?;
        }
        if !check && !write && format == Format::Pretty {
            out!("{canonical}");
        } else if format == Format::Pretty && !is_canonical {
            outln!("{} {path}", if write { "formatted" } else { "not canonical:" });
        }
        results.push(serde_json::json!({
            "file": path, "canonical": is_canonical, "written": write && !is_canonical,
            "text": (!check && !write).then_some(canonical),
        }));
    }
    if format == Format::Json {
        print_json(&serde_json::json!({ "files": results, "changed": changed }), format)?;
    }
    Ok(if check && changed > 0 { Outcome::Negative } else { Outcome::Ok })
}

fn run_one(path: &Path, format: Format, native: bool, limits: &Limits) -> Result<Outcome, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("cannot read `{}`: {e}", path.display())))?;
    let mut wasm = if native { None } else { Some(Wasm(runtime(limits)?)) };
    let run = test::run_text(&path.display().to_string(), &text, wasm.as_mut());
    if format == Format::Json {
        print_json(
            &serde_json::json!({ "name": run.name, "trace": run.trace, "failures": run.failures }),
            Format::Pretty,
        )?;
    } else {
        outln!("{}", run.name);
        for (i, step) in run.trace.iter().enumerate() {
            outln!("  {i}. {}", describe_event(step));
            outln!("     → {}", describe_result(&step.result));
            outln!("     state: {}", describe_state(&step.state));
        }
        for f in &run.failures {
            outln!("  FAIL {f}");
        }
    }
    Ok(if run.passed() { Outcome::Ok } else { Outcome::Negative })
}

fn describe_state(s: &UserState) -> String {
    let ids = |ids: Vec<&str>| if ids.is_empty() { "-".to_string() } else { format!("[{}]", ids.join(", ")) };
    format!(
        "devices {} · pending {} · rejected {}",
        ids(s.devices.iter().map(|d| d.device.device_id.as_str()).collect()),
        ids(s.pending.iter().map(|p| p.device.device_id.as_str()).collect()),
        ids(s.rejected.iter().map(|r| r.device_id.as_str()).collect()),
    )
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

/// The user's policy under a set, as a run prints it; nothing under version 1 and 2.
fn describe_policy(policy: &PolicyKey) -> String {
    match policy {
        PolicyKey::Named(name) => format!(" under policy `{}`", name.name()),
        PolicyKey::Null => " under no policy of the set".into(),
        _ => String::new(),
    }
}

fn describe_result(result: &StepResult) -> String {
    match result {
        StepResult::Decision(Decision::Login(d)) => {
            let reasons: Vec<String> =
                d.reasons.iter().map(|r| words::worded("reason", r.as_str())).collect();
            let a = d.access;
            let outcome = d.outcome.as_str();
            let mut line = format!(
                "{} ({outcome}; app {}, sso {}, push {}) because {}",
                words::word("outcome", outcome).unwrap_or(outcome),
                a.app,
                a.sso,
                a.push_mfa,
                reasons.join(", ")
            );
            line.push_str(&describe_policy(&d.policy));
            if let Some(e) = d.enroll {
                line.push_str(&format!("; enroll with {}", words::worded("method", e.method.as_str())));
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
        StepResult::Decision(Decision::Admin { effects, commands, policy }) => {
            let mut line =
                format!("done ({} change{})", effects.len(), if effects.len() == 1 { "" } else { "s" });
            line.push_str(&describe_policy(policy));
            for c in commands {
                line.push_str(&format!("; send `{}` to {}", c.action.as_str(), c.device_id));
            }
            line
        }
        StepResult::Ok => "ok".into(),
        StepResult::Error(e) => format!("error {} at `{}`: {}", e.code, e.pointer, e.message),
    }
}
