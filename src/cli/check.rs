//! `vaxentry check`: findings of record files and message rules of bundle files.

use super::UNREADABLE;
use crate::clock::ClinicTime;
use crate::fhir;
use crate::record::{self, Rules, Severity, file};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn check(files: &[PathBuf], as_json: bool, rules: Rules, now: ClinicTime) -> ExitCode {
    let mut worst = 0u8;
    let mut reports = Vec::new();
    for path in files {
        let report = match file::read_text(path, file::MOST_BYTES) {
            Err(e) => {
                worst = UNREADABLE;
                json!({"file": path, "unreadable": e})
            }
            Ok(text) => check_text(&text, rules, now),
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
        out!("{:#}", serde_json::Value::Array(reports));
    } else {
        for r in &reports {
            print_report(r);
        }
    }
    ExitCode::from(worst)
}

/// Checks one file's text: a bundle if it says `"resourceType": "Bundle"`, else a record.
fn check_text(text: &str, rules: Rules, now: ClinicTime) -> serde_json::Value {
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
            let findings = record::validate(&visit, now, rules);
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
        out!("{file}: {why}");
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
    out!(
        "{file}: {} {verdict}: {errors} error(s), {warnings} warning(s)",
        r["kind"].as_str().unwrap_or("")
    );
    for f in r["findings"].as_array().into_iter().flatten() {
        let place = f["where"]
            .as_str()
            .map(|w| format!("{w} · "))
            .unwrap_or_default();
        let message = f["message"].as_str().unwrap_or("");
        out!(
            "  {:<7} {place}{message}",
            f["severity"].as_str().unwrap_or("")
        );
    }
}
