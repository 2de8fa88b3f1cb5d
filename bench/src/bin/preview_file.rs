//! A preview of files, natively, stage by stage: where `mdm preview`'s time goes before
//! the sandbox's share (`make budgets` runs it beside the CLI on the same files).
//!
//! `preview_file CURRENT PROPOSED POPULATION AT`

use std::time::Instant;

use mdm_engine::Policy;
use mdm_engine::preview::{Population, preview};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [current, proposed, population, at] = args.as_slice() else {
        return Err("usage: preview_file CURRENT PROPOSED POPULATION AT".into());
    };
    let t = Instant::now();
    let text = std::fs::read_to_string(population)?;
    let read = t.elapsed();
    let current = Policy::from_json(&std::fs::read_to_string(current)?)?;
    let proposed = Policy::from_json(&std::fs::read_to_string(proposed)?)?;
    let at = mdm_engine::Timestamp::parse(at)?;
    let t = Instant::now();
    let population = Population::from_json(&text)?;
    let parse = t.elapsed();
    drop(text);
    let t = Instant::now();
    let report = preview(&current, &proposed, &population, at);
    let run = t.elapsed();
    let t = Instant::now();
    let json = report.to_json()?;
    let write = t.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "native: read {:.0} ms, parse {:.0} ms ({} users), preview {:.0} ms ({} changes), report {:.0} ms ({} MB)",
        ms(read),
        ms(parse),
        population.len(),
        ms(run),
        report.changes.len(),
        ms(write),
        json.len() / 1_000_000
    );
    Ok(())
}
