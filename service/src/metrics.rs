//! `/metrics` in Prometheus's text format: decisions by outcome, their latency, sandbox
//! faults, database errors and webhook attempts. No user data.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;

/// The service's counters.
pub(crate) struct Metrics {
    registry: Registry,
    decisions: Family<Labels, Counter>,
    latency: Histogram,
    faults: Family<Labels, Counter>,
    database_errors: Counter,
    shadow_differences: Counter,
    webhooks: Family<Labels, Counter>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("mdm");
        let decisions = Family::<Labels, Counter>::default();
        registry.register("decisions", "Decisions answered, by event and outcome", decisions.clone());
        // 50 µs to about 3 s.
        let latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "decision_seconds",
            "Time from a request's arrival to its stored answer",
            latency.clone(),
        );
        let faults = Family::<Labels, Counter>::default();
        registry.register("sandbox_faults", "Sandbox faults (each denied), by code", faults.clone());
        let database_errors = Counter::default();
        registry.register(
            "database_errors",
            "Database errors (each denied or refused)",
            database_errors.clone(),
        );
        let shadow_differences = Counter::default();
        registry.register(
            "shadow_differences",
            "Logins the shadow policy would have answered otherwise",
            shadow_differences.clone(),
        );
        let webhooks = Family::<Labels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook attempts, by result (delivered, retry, dead)",
            webhooks.clone(),
        );
        Metrics { registry, decisions, latency, faults, database_errors, shadow_differences, webhooks }
    }

    pub(crate) fn decided(&self, event: &'static str, outcome: &'static str, seconds: f64) {
        self.decisions.get_or_create(&vec![("event", event), ("outcome", outcome)]).inc();
        self.latency.observe(seconds);
    }

    pub(crate) fn fault(&self, code: &'static str) {
        self.faults.get_or_create(&vec![("code", code)]).inc();
    }

    pub(crate) fn database_error(&self) {
        self.database_errors.inc();
    }

    pub(crate) fn shadow_difference(&self) {
        self.shadow_differences.inc();
    }

    pub(crate) fn webhook(&self, result: &'static str) {
        self.webhooks.get_or_create(&vec![("result", result)]).inc();
    }

    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
