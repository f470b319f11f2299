//! The command line: `vaxentry` opens the form; `check`, `bundle` and `codes` work
//! headless on record files, bundle files and the code tables.

use crate::codes::{TableId, search, table};
use crate::config::Config;
use crate::fhir::{self, Clock, RandomIds, SystemClock};
use crate::record::{self, Severity, file};
use clap::{Parser, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "vaxentry",
    version,
    about = "Keyboard-first entry of immunization records as FHIR R4 message bundles"
)]
pub struct Cli {
    /// Use this config file instead of the default one.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check record files or bundle files and print what is wrong with them.
    /// Exit status: 0 no errors, 1 errors found, 2 a file could not be read.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the FHIR message bundle for a record file.
    Bundle {
        #[arg(value_name = "RECORD")]
        record: PathBuf,
    },
    /// List the code tables, or search one: `vaxentry codes cvx flu`.
    Codes {
        /// cvx, mvx, site, route, status, status-reason, funding, eligibility,
        /// gender, race, ethnicity, report-origin, state, yes-no
        table: Option<String>,
        /// Words to search for (code, name, brand or alias).
        query: Vec<String>,
    },
}

/// Runs a headless command. `None` means the caller should open the form.
pub fn run(cli: &Cli, config: &Config) -> ExitCode {
    match &cli.command {
        None => ExitCode::SUCCESS,
        Some(Command::Check { files, json }) => check(files, *json),
        Some(Command::Bundle { record }) => bundle(record, config),
        Some(Command::Codes { table, query }) => codes(table.as_deref(), &query.join(" ")),
    }
}

const UNREADABLE: u8 = 2;

fn check(files: &[PathBuf], as_json: bool) -> ExitCode {
    let now = SystemClock.now();
    let mut worst = 0u8;
    let mut reports = Vec::new();
    for path in files {
        let report = match std::fs::read_to_string(path) {
            Err(e) => {
                worst = UNREADABLE;
                json!({"file": path, "unreadable": format!("cannot read: {e}")})
            }
            Ok(text) => check_text(&text, now),
        };
        if report.get("unreadable").is_some() {
            worst = UNREADABLE;
        } else if report["errors"].as_u64().unwrap_or(0) > 0 {
            worst = worst.max(1);
        }
        let mut report = report;
        report["file"] = json!(path);
        reports.push(report);
    }
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    } else {
        for r in &reports {
            print_report(r);
        }
    }
    ExitCode::from(worst)
}

/// Checks one file's text: a bundle if it says `"resourceType": "Bundle"`, else a record.
fn check_text(text: &str, now: chrono::DateTime<chrono::FixedOffset>) -> serde_json::Value {
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(text);
    if let Ok(value) = &parsed
        && value.get("resourceType").is_some()
    {
        let problems = fhir::message_problems(value);
        let findings: Vec<_> = problems
            .iter()
            .map(|p| json!({"severity": "error", "message": p}))
            .collect();
        return json!({"kind": "bundle", "errors": problems.len(), "warnings": 0, "findings": findings});
    }
    match file::from_json(text) {
        Err(e) => json!({"unreadable": format!("not a record file: {e}")}),
        Ok(visit) => {
            let findings = record::validate(&visit, now);
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            let rendered: Vec<_> = findings
                .iter()
                .map(|f| {
                    let mut v = serde_json::to_value(f).unwrap_or_default();
                    v["where"] = json!(f.at.section());
                    v
                })
                .collect();
            json!({"kind": "record", "errors": errors, "warnings": findings.len() - errors, "findings": rendered})
        }
    }
}

fn print_report(r: &serde_json::Value) {
    let file = r["file"].as_str().unwrap_or("?");
    if let Some(why) = r["unreadable"].as_str() {
        println!("{file}: {why}");
        return;
    }
    let (errors, warnings) = (
        r["errors"].as_u64().unwrap_or(0),
        r["warnings"].as_u64().unwrap_or(0),
    );
    let verdict = if errors == 0 {
        "ok"
    } else {
        "NOT ready to send"
    };
    println!(
        "{file}: {} {verdict}: {errors} error(s), {warnings} warning(s)",
        r["kind"].as_str().unwrap_or("")
    );
    for f in r["findings"].as_array().into_iter().flatten() {
        let place = f["where"]
            .as_str()
            .map(|w| format!("{w} · "))
            .unwrap_or_default();
        let message = f["message"].as_str().unwrap_or("");
        println!(
            "  {:<7} {place}{message}",
            f["severity"].as_str().unwrap_or("")
        );
    }
}

fn bundle(path: &Path, config: &Config) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", path.display());
            return ExitCode::from(UNREADABLE);
        }
    };
    let visit = match file::from_json(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}: not a record file: {e}", path.display());
            return ExitCode::from(UNREADABLE);
        }
    };
    let clock = SystemClock;
    for warning in record::validate(&visit, clock.now())
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        eprintln!("warning {} · {}", warning.at.section(), warning.message);
    }
    match fhir::build_bundle(&visit, &config.bundle_settings(), &clock, &mut RandomIds) {
        Ok(bundle) => {
            print!("{}", fhir::to_json(&bundle));
            ExitCode::SUCCESS
        }
        Err(invalid) => {
            eprintln!("{}: {invalid}", path.display());
            for f in &invalid.0 {
                eprintln!("error   {} · {}", f.at.section(), f.message);
            }
            ExitCode::from(1)
        }
    }
}

fn codes(table_key: Option<&str>, query: &str) -> ExitCode {
    let Some(key) = table_key else {
        for id in TableId::ALL {
            let t = table(id);
            println!("{:<14} {:>4} codes  {}", id.key(), t.entries.len(), t.name);
        }
        return ExitCode::SUCCESS;
    };
    let Some(id) = TableId::from_key(key) else {
        let names: Vec<&str> = TableId::ALL.iter().map(|t| t.key()).collect();
        eprintln!(
            "there is no code table '{key}'; the tables are: {}",
            names.join(", ")
        );
        return ExitCode::from(UNREADABLE);
    };
    let hits = search(table(id), query);
    if hits.is_empty() {
        eprintln!("nothing in {} matches '{query}'", table(id).name);
        return ExitCode::from(1);
    }
    for c in hits {
        let inactive = if c.active { "" } else { "  (inactive)" };
        println!("{:<9} {}{inactive}", c.code, c.display);
    }
    ExitCode::SUCCESS
}
