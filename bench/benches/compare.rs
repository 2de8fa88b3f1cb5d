//! One login decision in each implementation, on the small and the large workload. Before
//! timing, all four must agree on every one of the workload's 1,000 logins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mdm_bench::{Cedar, Native, Rego, Wasm, Workload, workload};

fn workloads() -> Vec<Workload> {
    vec![workload("small", 10, 5, 3, 3, 7), workload("large", 10_000, 1_000, 20, 3, 11)]
}

fn compare(c: &mut Criterion) {
    for w in workloads() {
        let native = Native::new(&w);
        let wasm = Wasm::new(&w).unwrap();
        let cedar = Cedar::new(&w).unwrap();
        let rego = Rego::new(&w).unwrap();
        let mut allowed = 0;
        for (i, r) in w.requests.iter().enumerate() {
            let n = native.allowed(&w, r);
            assert_eq!(n, wasm.allowed(&w, r), "{} request {i}: wasmtime differs", w.name);
            assert_eq!(n, cedar.allowed(r), "{} request {i}: Cedar differs: {r:?}", w.name);
            assert_eq!(n, rego.allowed(r), "{} request {i}: Rego differs: {r:?}", w.name);
            allowed += usize::from(n);
        }
        eprintln!("{}: all four agree on {} logins ({allowed} allowed)", w.name, w.requests.len());
        assert!(allowed > 100 && allowed < w.requests.len() - 100, "both answers are exercised");

        let mut g = c.benchmark_group(w.name);
        let n = w.requests.len();
        let mut i = 0;
        g.bench_function("mdm_native", |b| {
            b.iter(|| {
                i = (i + 1) % n;
                black_box(native.allowed(&w, &w.requests[i]))
            })
        });
        g.bench_function("mdm_wasmtime", |b| {
            b.iter(|| {
                i = (i + 1) % n;
                black_box(wasm.allowed(&w, &w.requests[i]))
            })
        });
        g.bench_function("cedar", |b| {
            b.iter(|| {
                i = (i + 1) % n;
                black_box(cedar.allowed(&w.requests[i]))
            })
        });
        g.bench_function("regorus_rvm", |b| {
            b.iter(|| {
                i = (i + 1) % n;
                black_box(rego.allowed(&w.requests[i]))
            })
        });
        g.finish();
    }
}

criterion_group!(benches, compare);
criterion_main!(benches);
