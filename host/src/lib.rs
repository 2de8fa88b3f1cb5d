//! The wasmtime host a gateway links: it loads the mdm-policy engine component once,
//! runs every decision in a sandbox (memory cap, deadline) and fails closed.
//!
//! ```
//! use mdm_host::{Config, Runtime};
//! use mdm_engine::{Device, Login, OsType, Text, Timestamp, UserState};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(Config::default())?;
//! let gateway = runtime.gateway(r#"{"schema":"mdm.policy/v1","assignment":{"groups":["sales"]}}"#)?;
//! let device = Device::new(Text::new("A1")?, OsType::Ios);
//! let login = Login::new("alice", device, Timestamp::parse("2026-11-22T10:00:00Z")?);
//! let verdict = gateway.decide_login(&login, &["sales"], &UserState::default());
//! assert!(verdict.is_allowed());
//! # Ok(()) }
//! ```
//!
//! The library touches no file unless asked: the compiled-code cache is off by default
//! ([`Config::cache_dir`]), and documents are read from disk only by
//! [`Runtime::read_document`].

mod bindings {
    wasmtime::component::bindgen!({ path: "../wit", world: "mdm" });
}
mod cache;
mod convert;
mod error;
mod gateway;
mod record;
mod tokens;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{ResourceLimiter, Store, Trap};

pub use cache::default_dir as default_cache_dir;
pub use error::HostError;
pub use gateway::{Gateway, Verdict};
pub use record::{DecisionRecord, Fault, ShadowDecision, masked_serial};

use mdm_engine::DocumentKind;

/// A gateway's memory cap per guest instance ([`Config::memory_limit`]): 64 MiB, enough for
/// a policy of a million ids and far below what a host has.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;

/// A gateway's time limit per call ([`Config::deadline`]): 100 ms, ten thousand times a
/// warm login, so that only a fault or hostile input ever meets it.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(100);

/// The largest document a gateway accepts ([`Config::max_document_bytes`]): 64 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// The engine component, built by this crate's build script.
pub const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mdm.wasm"));

/// How the sandbox is set up; [`Config::default`] is a gateway's: [`DEFAULT_MEMORY_LIMIT`],
/// [`DEFAULT_DEADLINE`], [`DEFAULT_MAX_DOCUMENT_BYTES`], no cache directory.
#[derive(Debug, Clone)]
pub struct Config {
    /// The most linear memory one guest instance may have, in bytes.
    pub memory_limit: usize,
    /// The longest one call may run before it is interrupted (and denied).
    pub deadline: Duration,
    /// How often the deadline clock ticks; a call may overrun its deadline by up to one tick.
    pub tick: Duration,
    /// The largest policy or population document accepted, in bytes; a larger one is
    /// refused before it reaches the guest.
    pub max_document_bytes: usize,
    /// Where compiled code is cached, keyed by a SHA-256 of wasmtime's compatibility
    /// hash and the component; `None` (the default) compiles at every start and writes
    /// nothing. [`default_cache_dir`] is the usual place. The directory must be as
    /// trusted as this binary: precompiled code is not validated again.
    pub cache_dir: Option<PathBuf>,
    /// Whether decision records keep devices' serial numbers whole; by default only their
    /// last four characters are kept ([`DecisionRecord`]).
    pub reveal_serial_numbers: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            deadline: DEFAULT_DEADLINE,
            tick: Duration::from_millis(5),
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            cache_dir: None,
            reveal_serial_numbers: false,
        }
    }
}

/// The longest an instantiation may run: the component's own start-up, never a decision,
/// so it is not held to a per-login deadline, but still bounded.
const INSTANTIATION_DEADLINE: Duration = Duration::from_secs(1);

impl Config {
    fn ticks(&self, limit: Duration) -> u64 {
        let tick = self.tick.as_nanos().max(1);
        // One extra tick: the current one may be about to end.
        u64::try_from(limit.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX).saturating_add(1)
    }

    fn deadline_ticks(&self) -> u64 {
        self.ticks(self.deadline)
    }
}

/// The compiled component and its sandbox settings: create once, share (it is cheap
/// to clone), and make a [`Gateway`] per policy.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: wasmtime::Engine,
    pre: bindings::MdmPre<Sandbox>,
    config: Config,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Per-store host state: the memory limiter and the per-call deadline.
struct Sandbox {
    limiter: Limiter,
    deadline_ticks: u64,
}

struct Limiter {
    max_memory: usize,
    hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.max_memory;
        self.hit |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// One guest instance with its store.
pub(crate) struct Instance {
    store: Store<Sandbox>,
    guest: bindings::Mdm,
}

impl Runtime {
    /// Compiles (or loads from the cache) the engine component and prepares instantiation.
    pub fn new(config: Config) -> Result<Runtime, HostError> {
        Runtime::with_component(config, COMPONENT)
    }

    /// Same as [`Runtime::new`] with another build of a component of the `mdm` world
    /// (a newer engine, or a faulty one in tests).
    pub fn with_component(config: Config, bytes: &[u8]) -> Result<Runtime, HostError> {
        let mut wasm = wasmtime::Config::new();
        wasm.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&wasm).map_err(|e| HostError::load("configuring wasmtime", &e))?;
        let component: Component = cache::load(&engine, bytes, config.cache_dir.as_deref())?;
        let linker = Linker::<Sandbox>::new(&engine);
        let pre =
            linker.instantiate_pre(&component).map_err(|e| HostError::load("linking the component", &e))?;
        let pre = bindings::MdmPre::new(pre)
            .map_err(|e| HostError::load("checking the component's exports", &e))?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.clone(), config.tick, stop_ticker.clone())
            .map_err(|e| HostError::Load(format!("starting the deadline clock: {e}")))?;
        Ok(Runtime { inner: Arc::new(Inner { engine, pre, config, stop_ticker }) })
    }

    /// The sandbox settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// A new instance in a fresh store.
    pub(crate) fn instantiate(&self) -> Result<Instance, HostError> {
        let limiter = Limiter { max_memory: self.inner.config.memory_limit, hit: false };
        let deadline_ticks = self.inner.config.deadline_ticks();
        let mut store = Store::new(&self.inner.engine, Sandbox { limiter, deadline_ticks });
        store.limiter(|s| &mut s.limiter);
        // Each call sets its own deadline (`Instance::call`).
        store.set_epoch_deadline(
            self.inner.config.ticks(INSTANTIATION_DEADLINE.max(self.inner.config.deadline)),
        );
        let guest = self
            .inner
            .pre
            .instantiate(&mut store)
            .map_err(|e| HostError::load("instantiating the component", &e))?;
        Ok(Instance { store, guest })
    }

    /// Parses a policy into a gateway that decides with it.
    pub fn gateway(&self, document: &str) -> Result<Gateway, HostError> {
        self.check_size(document, DocumentKind::Policy)?;
        Gateway::new(self.clone(), document)
    }

    /// Refuses a document over [`Config::max_document_bytes`].
    pub(crate) fn check_size(&self, document: &str, kind: DocumentKind) -> Result<(), HostError> {
        match self.too_large(document.len(), kind) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn too_large(&self, len: usize, kind: DocumentKind) -> Option<HostError> {
        let limit = self.inner.config.max_document_bytes;
        (len > limit).then(|| {
            let message = format!("the document is {len} bytes, more than the limit of {limit}");
            HostError::Engine(kind.error("", message))
        })
    }

    /// Reads a document of `kind` from a file, within [`Config::max_document_bytes`]
    /// (never reading more than that, whatever the file claims), and checks that it is
    /// UTF-8.
    pub fn read_document(&self, path: &Path, kind: DocumentKind) -> Result<String, HostError> {
        let io =
            |e: std::io::Error| HostError::Read { path: path.display().to_string(), message: e.to_string() };
        let limit = self.inner.config.max_document_bytes;
        let file = std::fs::File::open(path).map_err(io)?;
        let claimed = file.metadata().map_err(io)?.len();
        if let Some(e) = self.too_large(usize::try_from(claimed).unwrap_or(usize::MAX), kind) {
            return Err(e);
        }
        let mut bytes = Vec::new();
        file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
        if let Some(e) = self.too_large(bytes.len(), kind) {
            return Err(e);
        }
        // The engine words the error, so that every runtime reports bad bytes alike.
        kind.text(&bytes)?;
        String::from_utf8(bytes).map_err(|e| io(std::io::Error::other(e.utf8_error())))
    }

    /// Validates a policy document: every error and warning.
    pub fn validate(&self, document: &str) -> Result<mdm_engine::Validation, HostError> {
        self.check_size(document, DocumentKind::Policy)?;
        let mut i = self.instantiate()?;
        let v = i.call(|g, s| g.mdm_policy_engine().call_validate(s, document))?;
        Ok(convert::validation(v))
    }

    /// The version of the engine inside the sandbox (not of this host): what decided.
    pub fn engine_version(&self) -> Result<String, HostError> {
        let mut i = self.instantiate()?;
        i.call(|g, s| g.mdm_policy_engine().call_version(s))
    }

    /// The what-if preview (spec section 5), as the JSON report.
    pub fn preview(
        &self,
        current: &str,
        proposed: &str,
        population: &str,
        at: &str,
    ) -> Result<String, HostError> {
        self.check_size(current, DocumentKind::Policy)?;
        self.check_size(proposed, DocumentKind::Policy)?;
        self.check_size(population, DocumentKind::State)?;
        let mut i = self.instantiate()?;
        let r = i.call(|g, s| g.mdm_policy_engine().call_preview(s, current, proposed, population, at))?;
        r.map_err(convert::document_error)
    }
}

impl Instance {
    /// Runs one guest call under a fresh deadline, classifying any failure.
    pub(crate) fn call<R>(
        &mut self,
        f: impl FnOnce(&bindings::Mdm, &mut Store<Sandbox>) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let ticks = self.store.data().deadline_ticks;
        self.store.set_epoch_deadline(ticks);
        self.store.data_mut().limiter.hit = false;
        match f(&self.guest, &mut self.store) {
            Ok(r) => Ok(r),
            Err(e) => Err(self.classify(e)),
        }
    }

    fn classify(&self, e: wasmtime::Error) -> HostError {
        if self.store.data().limiter.hit {
            HostError::MemoryLimit { limit: self.store.data().limiter.max_memory }
        } else if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
            HostError::Deadline
        } else {
            HostError::Trap(format!("{e:#}"))
        }
    }
}

/// Advances wasmtime's epoch every `tick` until `stop` is set: the clock deadlines count.
fn spawn_ticker(engine: wasmtime::Engine, tick: Duration, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("mdm-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        })
        .map(drop)
}
