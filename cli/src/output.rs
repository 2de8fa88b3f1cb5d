//! How results and errors are printed, and what the process exits with.
//!
//! Exit codes: 0 ok; 1 a negative result (validation errors, failed scenarios, files not
//! in canonical form, an `eval --fail-on` outcome); 2 usage; 3 unreadable or invalid
//! input, or a sandbox fault.

use std::process::ExitCode;

use mdm_host::HostError;

/// How a command prints its result and its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For a person at a terminal.
    Pretty,
    /// One JSON document on stdout; errors as `{ "code", "pointer", "message" }` on stderr.
    Json,
    /// JUnit XML (`mdm test` only), for a CI system to show.
    Junit,
}

/// What a command ended with, when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything held.
    Ok,
    /// It ran, and the answer is no.
    Negative,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::Negative => ExitCode::from(1),
        }
    }
}

/// A command that could not run to the end: its code, where, and why.
#[derive(Debug)]
pub(crate) struct CliError {
    /// The contract's code for a bad document, `host.*` for a sandbox fault, `usage` or
    /// `io` for the command line and files.
    pub(crate) code: String,
    /// JSON Pointer into the offending document ("" for none).
    pub(crate) pointer: String,
    /// What went wrong, for a person.
    pub(crate) message: String,
}

impl CliError {
    /// An error of the command line (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError { code: "usage".into(), pointer: String::new(), message: message.into() }
    }

    /// A file that could not be read or written (exit 3).
    pub(crate) fn io(message: impl Into<String>) -> Self {
        CliError { code: "io".into(), pointer: String::new(), message: message.into() }
    }

    /// What the process exits with.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(if self.code == "usage" { 2 } else { 3 })
    }

    /// Prints it on stderr in `format`.
    pub(crate) fn print(&self, format: Format) {
        match format {
            Format::Json => {
                let json = serde_json::json!({
                    "code": self.code, "pointer": self.pointer, "message": self.message,
                });
                eprintln!("{json}");
            }
            Format::Pretty | Format::Junit if self.pointer.is_empty() => {
                eprintln!("mdm: {}: {}", self.code, self.message);
            }
            Format::Pretty | Format::Junit => {
                eprintln!("mdm: {} at `{}`: {}", self.code, self.pointer, self.message);
            }
        }
    }
}

impl From<HostError> for CliError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::Engine(inner) => CliError::from(inner),
            other => {
                CliError { code: other.code().into(), pointer: String::new(), message: other.to_string() }
            }
        }
    }
}

impl From<mdm_service::ServiceError> for CliError {
    fn from(e: mdm_service::ServiceError) -> Self {
        CliError { code: e.code().into(), pointer: e.pointer().into(), message: e.to_string() }
    }
}

impl From<mdm_engine::Error> for CliError {
    fn from(e: mdm_engine::Error) -> Self {
        CliError { code: e.code().as_str().into(), pointer: e.pointer().into(), message: e.message() }
    }
}

/// `println!` that ends the process (exit 3) when stdout is closed, as when the output is
/// piped into `head`, instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(3);
        }
    }};
}
pub(crate) use outln;

/// `print!`, as [`outln`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(3);
        }
    }};
}
pub(crate) use out;

/// Prints `value` as JSON on stdout: indented for a person, one line for a pipe.
pub(crate) fn print_json(value: &impl serde::Serialize, format: Format) -> Result<(), CliError> {
    let text = if format == Format::Pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    let text = text.map_err(|e| CliError::io(format!("cannot print the result: {e}")))?;
    outln!("{text}");
    Ok(())
}
