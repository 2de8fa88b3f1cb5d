//! A warm login through the host, many times over, for `valgrind --tool=callgrind`: the
//! decide bench's workload (`benches/common`), where instruction counts do not move with
//! the machine's load as criterion's times do.
//!
//! ```sh
//! cargo build --release -p mdm-host --example warm_login
//! valgrind --tool=callgrind --toggle-collect='*warm_login*logins*' \
//!     target/release/examples/warm_login [CALLS] [apps] [native]
//! callgrind_annotate --inclusive=yes callgrind.out.*
//! ```
//!
//! (`--toggle-collect='*native_logins*'` with `native`: the same logins natively.)
//! Only `logins` is counted: the setup (compiling the component, parsing the policy) and
//! the warm-up are not. Divide the total by CALLS for one login.

// An example: a panic is a failed setup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;

use mdm_host::{Config, Gateway, Runtime};

#[path = "../benches/common/mod.rs"]
mod common;

/// The same logins natively, for the engine's own share.
#[inline(never)]
fn native_logins(policy: &mdm_engine::Policy, w: &common::Workload, calls: usize) {
    for _ in 0..calls {
        black_box(policy.decide_login(black_box(&w.login), black_box(&w.groups), &w.state));
    }
}

#[inline(never)]
fn logins(gateway: &Gateway, w: &common::Workload, calls: usize) {
    for _ in 0..calls {
        black_box(gateway.decide_login(black_box(&w.login), black_box(&w.groups), &w.state));
    }
}

fn main() {
    let calls: usize = std::env::args().nth(1).map_or(10_000, |n| n.parse().unwrap());
    let apps = std::env::args().any(|a| a == "apps");
    let native = std::env::args().any(|a| a == "native");
    let w = if apps { common::workload_with_apps() } else { common::workload() };
    let gateway = Runtime::new(Config::default()).unwrap().gateway(&w.policy).unwrap();
    assert!(gateway.decide_login(&w.login, &w.groups, &w.state).is_allowed());
    for _ in 0..1_000 {
        black_box(gateway.decide_login(&w.login, &w.groups, &w.state));
    }
    if native {
        native_logins(&mdm_engine::Policy::from_json(&w.policy).unwrap(), &w, calls);
    } else {
        logins(&gateway, &w, calls);
    }
    println!("{calls} warm logins{}", if apps { " with apps" } else { "" });
}
