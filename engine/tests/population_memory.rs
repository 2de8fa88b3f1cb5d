//! What a population costs in memory: the compact form keeps a million users with one
//! device each under the CLI's cap with room to spare (issue: at most 200 bytes a user).

use std::alloc::System;
use std::fmt::Write;

use mdm_engine::preview::Population;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Users in 2 of 30 groups, each with one registered phone that reports everything a
/// phone reports (model and name included), every tenth with a pending request.
fn population(n: usize) -> String {
    let mut out = String::from("{\"directory\":{");
    for i in 0..n {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(out, "{sep}\"user-{i:07}@example.com\":[\"g{}\",\"g{}\"]", i % 30, (i * 7) % 30);
    }
    out.push_str("},\"state\":{");
    for i in 0..n {
        let sep = if i == 0 { "" } else { "," };
        let pending = if i % 10 == 0 {
            format!(
                ",\"pending\":[{{\"device\":{{\"device_id\":\"p-{i}\",\"os_type\":\"ios\"}},\"requested_at\":\"2026-01-02T00:00:00Z\"}}]"
            )
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "{sep}\"user-{i:07}@example.com\":{{\"devices\":[{{\"device_id\":\"3F2504E0-4F89-11D3-9A0C-{i:012}\",\"os_type\":\"ios\",\"os_version\":\"17.1.2\",\"serial_number\":\"F2LXK{i:07}\",\"model\":\"iPhone15,2\",\"name\":\"User {i}'s iPhone\",\"manufacturer\":\"Apple\",\"pin_length\":6,\"encrypted\":true,\"registered_at\":\"2026-01-01T00:00:00Z\"}}]{pending}}}"
        );
    }
    out.push_str("}}");
    out
}

#[test]
fn a_user_with_one_device_costs_at_most_200_bytes() {
    let n = 100_000;
    let text = population(n);
    let region = Region::new(GLOBAL);
    let p = Population::from_json(&text).expect("population");
    let change = region.change();
    // A reallocation counts in `bytes_allocated` or `bytes_deallocated` already.
    let kept = change.bytes_allocated as isize - change.bytes_deallocated as isize;
    assert_eq!(p.len(), n);
    let per_user = kept as f64 / n as f64;
    eprintln!("{per_user:.0} bytes a user ({} bytes of JSON a user)", text.len() / n);
    assert!(per_user <= 200.0, "{per_user:.0} bytes a user");
}
