//! `mdm test`: run a scenario suite, report it for a person or a CI system, and measure
//! which rules it exercised.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mdm_testkit::coverage::{Coverage, Report, Table};
use mdm_testkit::scenario::{self, Run};
use mdm_testkit::{Native, Wasm, corpus};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::writer::Writer;
use regex::Regex;
use serde::Serialize;

use crate::output::{CliError, Format, Outcome, outln, print_json};

/// What `mdm test` was asked for.
pub(crate) struct Options<'a> {
    pub(crate) paths: &'a [PathBuf],
    pub(crate) filter: Option<&'a Regex>,
    pub(crate) verbose: bool,
    pub(crate) coverage: bool,
    pub(crate) coverage_min: Option<f64>,
    pub(crate) format: Format,
}

/// One scenario's result.
#[derive(Debug, Serialize)]
struct Case {
    name: String,
    file: String,
    passed: bool,
    /// Wall time in milliseconds.
    time_ms: f64,
    failures: Vec<String>,
}

/// The whole run, as `--format json` prints it.
#[derive(Debug, Serialize)]
struct Summary {
    passed: usize,
    failed: usize,
    time_ms: f64,
    scenarios: Vec<Case>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage_min: Option<f64>,
}

/// Every `*.json` under the paths, recursively, sorted per path.
pub(crate) fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for root in paths {
        out.extend(
            corpus::json_files(root)
                .map_err(|e| CliError::io(format!("cannot read `{}`: {e}", root.display())))?,
        );
    }
    Ok(out)
}

/// Runs the scenario in `text` in the sandbox (`wasm`) or natively.
pub(crate) fn run_text(name: &str, text: &str, wasm: Option<&mut Wasm>) -> Run {
    match wasm {
        Some(w) => scenario::run(w, name, text),
        None => scenario::run(&mut Native, name, text),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn test(options: &Options, mut wasm: Option<Wasm>) -> Result<Outcome, CliError> {
    let files = scenario_files(options.paths)?;
    let progress = options.format == Format::Pretty && !options.verbose && std::io::stderr().is_terminal();
    let mut coverage = options.coverage.then(Coverage::new);
    let started = Instant::now();
    let mut cases = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let path = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                cases.push(Case {
                    name: path.clone(),
                    file: path.clone(),
                    passed: false,
                    time_ms: 0.0,
                    failures: vec![format!("cannot read `{path}`: {e}")],
                });
                continue;
            }
        };
        let parsed = scenario::parse(&text).ok();
        let name = parsed.as_ref().map_or(path.as_str(), |s| s.name.as_str());
        if let Some(filter) = options.filter
            && !filter.is_match(name)
            && !filter.is_match(&path)
        {
            continue;
        }
        if progress {
            eprint!("\r\x1b[2K[{}/{}] {name}", i + 1, files.len());
        }
        let t = Instant::now();
        let run = run_text(&path, &text, wasm.as_mut());
        let time_ms = ms(t.elapsed());
        if let (Some(c), Some(s)) = (coverage.as_mut(), parsed.as_ref()) {
            c.add(&path, s, &run);
        }
        let case = Case {
            name: run.name.clone(),
            file: path,
            passed: run.passed(),
            time_ms,
            failures: run.failures,
        };
        if options.format == Format::Pretty {
            if progress && !case.passed {
                eprint!("\r\x1b[2K");
            }
            print_case(&case, options.verbose);
        }
        cases.push(case);
    }
    if progress {
        eprint!("\r\x1b[2K");
    }
    let failed = cases.iter().filter(|c| !c.passed).count();
    let report = coverage.map(|c| c.report());
    let below = match (&report, options.coverage_min) {
        (Some(r), Some(min)) => r.percent + 1e-9 < min,
        _ => false,
    };
    let summary = Summary {
        passed: cases.len() - failed,
        failed,
        time_ms: ms(started.elapsed()),
        scenarios: cases,
        coverage: report,
        coverage_min: options.coverage_min,
    };
    match options.format {
        Format::Pretty => {
            if let Some(r) = &summary.coverage {
                print_coverage(r, options.verbose);
                if let (true, Some(min)) = (below, options.coverage_min) {
                    outln!("coverage {:.1}% is below the minimum of {min}%", r.percent);
                }
            }
            outln!(
                "{} passed, {} failed ({:.2} s)",
                summary.passed,
                summary.failed,
                summary.time_ms / 1000.0
            );
        }
        Format::Json => print_json(&summary, Format::Json)?,
        Format::Junit => outln!("{}", junit(&summary)?),
    }
    Ok(if failed == 0 && !below { Outcome::Ok } else { Outcome::Negative })
}

fn print_case(case: &Case, verbose: bool) {
    if case.passed && verbose {
        outln!("ok   {} ({}) {:.1} ms", case.name, case.file, case.time_ms);
    } else if !case.passed {
        outln!("FAIL {} ({}) {:.1} ms", case.name, case.file, case.time_ms);
        for f in &case.failures {
            outln!("  {f}");
        }
    }
}

fn print_table(table: &Table, indent: &str, with_never: bool) {
    for row in &table.rows {
        let total = row.covered.len() + row.never.len();
        outln!("{indent}{:<9} {:>3}/{:<3}", row.category.as_str(), row.covered.len(), total);
        if with_never && !row.never.is_empty() {
            outln!("{indent}  never: {}", row.never.join(", "));
        }
    }
}

fn print_coverage(report: &Report, verbose: bool) {
    let (covered, total) = report.total.counts();
    outln!(
        "coverage {:.1}% ({covered}/{total}) over {} scenarios and {} policies",
        report.percent,
        report.scenarios,
        report.policies.len()
    );
    print_table(&report.total, "  ", true);
    if verbose {
        for p in &report.policies {
            let (c, t) = p.table.counts();
            outln!("  policy {} ({} scenarios): {c}/{t}", p.label, p.scenarios.len());
            print_table(&p.table, "    ", false);
        }
    }
}

fn xml_error(e: impl std::fmt::Display) -> CliError {
    CliError::io(format!("cannot write the JUnit report: {e}"))
}

/// The JUnit XML report: one `testsuite` of the scenarios, a `testcase` each, a
/// `failure` with every failed check; the coverage as properties.
fn junit(summary: &Summary) -> Result<String, CliError> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).map_err(xml_error)?;
    let tests = summary.scenarios.len().to_string();
    let failures = summary.failed.to_string();
    let time = format!("{:.3}", summary.time_ms / 1000.0);
    w.create_element("testsuites")
        .with_attributes([
            ("name", "mdm test"),
            ("tests", &*tests),
            ("failures", &*failures),
            ("time", &*time),
        ])
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes([
                    ("name", "mdm"),
                    ("tests", &*tests),
                    ("failures", &*failures),
                    ("errors", "0"),
                    ("time", &*time),
                ])
                .write_inner_content(|w| {
                    if let Some(r) = &summary.coverage {
                        w.create_element("properties").write_inner_content(|w| {
                            let percent = format!("{:.1}", r.percent);
                            w.create_element("property")
                                .with_attributes([("name", "coverage"), ("value", &*percent)])
                                .write_empty()?;
                            for row in &r.total.rows {
                                let never = row.never.join(",");
                                let name = format!("coverage.{}.never", row.category.as_str());
                                w.create_element("property")
                                    .with_attributes([("name", &*name), ("value", &*never)])
                                    .write_empty()?;
                            }
                            Ok(())
                        })?;
                    }
                    for case in &summary.scenarios {
                        let time = format!("{:.6}", case.time_ms / 1000.0);
                        let element = w.create_element("testcase").with_attributes([
                            ("name", case.name.as_str()),
                            ("classname", class_name(&case.file).as_str()),
                            ("file", case.file.as_str()),
                            ("time", time.as_str()),
                        ]);
                        if case.passed {
                            element.write_empty()?;
                        } else {
                            element.write_inner_content(|w| {
                                let first = case.failures.first().map_or("", String::as_str);
                                w.create_element("failure")
                                    .with_attribute(("message", first))
                                    .write_text_content(BytesText::new(&case.failures.join("\n")))?;
                                Ok(())
                            })?;
                        }
                    }
                    Ok(())
                })?;
            Ok(())
        })
        .map_err(xml_error)?;
    let mut bytes = w.into_inner();
    bytes.flush().map_err(xml_error)?;
    String::from_utf8(bytes).map_err(xml_error)
}

/// The JUnit class of a scenario: its directory, dotted, as CI systems group by it.
fn class_name(file: &str) -> String {
    let parent = Path::new(file).parent().unwrap_or(Path::new(""));
    let parts: Vec<String> = parent
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.is_empty() { "scenarios".into() } else { parts.join(".") }
}
