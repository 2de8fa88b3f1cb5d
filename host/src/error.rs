//! The host's errors: the engine's own, or a fault of the sandbox. Either means deny.

/// Why the host could not give a decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The engine answered with an error of the contract (bad input, nothing pending...).
    #[error(transparent)]
    Engine(#[from] mdm_engine::Error),
    /// The call ran past the deadline and was interrupted.
    #[error("the engine ran past its deadline and was stopped")]
    Deadline,
    /// The guest needed more memory than the sandbox allows.
    #[error("the engine hit the sandbox's memory limit of {limit} bytes")]
    MemoryLimit {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The guest trapped.
    #[error("the engine trapped: {0}")]
    Trap(String),
    /// The guest answered something the host cannot map back (a broken component).
    #[error("the engine's answer does not fit the request: {0}")]
    Protocol(String),
    /// A document could not be read.
    #[error("cannot read `{path}`: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The component could not be compiled, loaded or instantiated.
    #[error("cannot load the engine: {0}")]
    Load(String),
}

impl HostError {
    /// A stable code: the contract's for engine errors, `host.*` for sandbox faults.
    pub fn code(&self) -> &'static str {
        match self {
            HostError::Engine(e) => e.code().as_str(),
            HostError::Deadline => "host.deadline",
            HostError::MemoryLimit { .. } => "host.memory_limit",
            HostError::Trap(_) => "host.trap",
            HostError::Protocol(_) => "host.protocol",
            HostError::Read { .. } => "host.read",
            HostError::Load(_) => "host.load",
        }
    }

    pub(crate) fn load(what: &str, e: &wasmtime::Error) -> Self {
        HostError::Load(format!("{what}: {e:#}"))
    }
}
