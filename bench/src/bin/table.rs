//! Prints the comparison table from criterion's last run (`target/criterion`), the
//! preview's native throughput, and the module sizes. Run by `make bench`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use mdm_engine::preview::{Population, preview};
use mdm_engine::{Policy, Timestamp};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = root().join(format!("target/criterion/{group}/{id}/new/estimates.json"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The budgets' population of `n` users (`js/budgets.mjs` writes the same one), written
/// straight to text so that building it leaves no garbage for the parse to pay for.
fn population(n: usize) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(n * 190);
    out.push_str("{\"directory\":{");
    for i in 0..n {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(out, "{sep}\"u{i}\":[\"g{}\",\"g{}\"]", i % 30, (i * 7) % 30);
    }
    out.push_str("},\"state\":{");
    for i in 0..n {
        let sep = if i == 0 { "" } else { "," };
        let os = if i % 2 == 1 { "ios" } else { "android" };
        let version = if i % 3 == 0 { "11" } else { "17.1" };
        let _ = write!(
            out,
            "{sep}\"u{i}\":{{\"devices\":[{{\"device_id\":\"u{i}-1\",\"os_type\":\"{os}\",\"os_version\":\"{version}\",\"pin_length\":6,\"registered_at\":\"2026-01-01T00:00:00Z\"}}]}}"
        );
    }
    out.push_str("}}");
    out
}

/// One figure beside its goal: `at_most` says whether lower is better.
fn row(what: &str, measured: Option<f64>, goal: f64, at_most: bool, show: impl Fn(f64) -> String) {
    let (value, met) = match measured {
        Some(m) => {
            (show(m), if (at_most && m <= goal) || (!at_most && m >= goal) { "yes" } else { "**no**" })
        }
        None => ("(not measured in this run)".to_string(), "–"),
    };
    let sign = if at_most { "≤" } else { "≥" };
    println!("| {what} | {value} | {sign} {} | {met} |", show(goal));
}

/// The speed issue's table (issue 25): every figure of this run beside its goal. The
/// browser's, the CLI's and the service's rows are `make budgets`' and `make load`'s.
fn targets(million: Option<(f64, f64)>) {
    println!("\n## The speed issue's targets, this run\n");
    println!("| what | measured | goal | met |");
    println!("|---|---|---|---|");
    let times = |x: f64| format!("{x:.1}×");
    row(
        "warm login through wasmtime (decide bench `login`)",
        median_ns("login", "wasmtime_warm"),
        1_000.0,
        true,
        human,
    );
    row("the same login natively", median_ns("login", "native"), 200.0, true, human);
    row(
        "with 20 apps in the policy, through wasmtime (`login_with_apps`)",
        median_ns("login_with_apps", "wasmtime_warm"),
        1_500.0,
        true,
        human,
    );
    for group in ["small", "large"] {
        let w = median_ns(group, "mdm_wasmtime");
        let ratio = |other: &str| Some(median_ns(group, other)? / w?);
        row(
            &format!("compare `{group}`: Cedar 4.14 ÷ mdm through wasmtime"),
            ratio("cedar"),
            12.0,
            false,
            times,
        );
        row(
            &format!("compare `{group}`: regorus RVM ÷ mdm through wasmtime"),
            ratio("regorus_rvm"),
            12.0,
            false,
            times,
        );
    }
    row("parse the budgets' 1M-user population (164 MB), natively", million.map(|m| m.0), 1e9, true, human);
    row("preview those 1M users, natively", million.map(|m| m.1), 250e6, true, human);
}

fn main() {
    println!(
        "## One login decision (criterion medians; ratio = implementation / mdm-policy through wasmtime)\n"
    );
    println!(
        "| workload | mdm native | mdm wasmtime (warm) | Cedar 4.14 | regorus 0.14 (RVM) | Cedar ÷ wasmtime | regorus ÷ wasmtime |"
    );
    println!("|---|---|---|---|---|---|---|");
    for group in ["small", "large"] {
        let get = |id| median_ns(group, id);
        let (Some(n), Some(w), Some(c), Some(r)) =
            (get("mdm_native"), get("mdm_wasmtime"), get("cedar"), get("regorus_rvm"))
        else {
            println!(
                "| {group} | (no criterion results: run `cargo bench -p mdm-bench --features compare --bench compare`) | | | | | |"
            );
            continue;
        };
        println!(
            "| {group} | {} | {} | {} | {} | {:.1}× | {:.1}× |",
            human(n),
            human(w),
            human(c),
            human(r),
            c / w,
            r / w
        );
    }
    println!("\n## Preview throughput, native (one run)\n");
    println!("| users | parse the population | preview | users per second |");
    println!("|---|---|---|---|");
    let current =
        Policy::from_json(r#"{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2"]}}"#).unwrap();
    let proposed = Policy::from_json(
        r#"{"schema":"mdm.policy/v1","assignment":{"groups":["g1","g2","g3"],"exclude_groups":["g4"]},"requirements":{"min_os_version":{"android":"12"}}}"#,
    )
    .unwrap();
    let at = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
    // MDM_TABLE_USERS=100000 measures fewer sizes (under callgrind, say).
    let sizes: Vec<usize> = std::env::var("MDM_TABLE_USERS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    let mut million = None;
    for n in sizes {
        let text = population(n);
        let t = Instant::now();
        let pop = Population::from_json(&text).unwrap();
        let parse = t.elapsed();
        let t = Instant::now();
        let report = preview(&current, &proposed, &pop, at);
        let took = t.elapsed();
        assert_eq!(report.summary.users, n as u64);
        if n == 1_000_000 {
            million = Some((parse.as_secs_f64() * 1e9, took.as_secs_f64() * 1e9));
        }
        println!(
            "| {n} | {:.0} ms | {:.0} ms | {:.0} |",
            parse.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3,
            n as f64 / took.as_secs_f64()
        );
    }
    targets(million);
    println!("\n## Module sizes\n");
    let newest = std::fs::read_dir(root().join("target/release/build"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("out/mdm.wasm"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok());
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    if let Some(c) = newest.as_deref().and_then(size) {
        println!("- WebAssembly component (wasmtime host): {c} bytes");
    }
    if let Some(j) = size(&root().join("js/pkg/mdm_js_bg.wasm")) {
        println!("- wasm-bindgen module (browser, Node): {j} bytes");
    }
    println!("- cedar-wasm, as published: 4.3 MB");
}
