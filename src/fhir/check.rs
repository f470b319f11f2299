//! The message rules a bundle must meet, checked on any JSON: used by
//! `vaxentry check` on bundle files and by the tests on every generated bundle.

use super::build::{EVENT_CODE, EVENT_SYSTEM};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Everything wrong with `bundle` as a Redox `Immunization-New` message; empty if none.
pub fn message_problems(bundle: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut fail = |m: String| problems.push(m);
    if bundle["resourceType"] != "Bundle" {
        fail("resourceType is not \"Bundle\"".into());
        return problems;
    }
    if bundle["type"] != "message" {
        fail(format!(
            "Bundle.type is {}, not \"message\"",
            bundle["type"]
        ));
    }
    match bundle["timestamp"].as_str() {
        Some(t) if chrono::DateTime::parse_from_rfc3339(t).is_ok() => {}
        _ => fail("Bundle.timestamp must be an instant with seconds and a time zone".into()),
    }
    if bundle.get("total").is_some() {
        fail("a message Bundle must not have total (bdl-1)".into());
    }
    let Some(entries) = bundle["entry"].as_array().filter(|e| !e.is_empty()) else {
        fail("Bundle.entry is empty".into());
        return problems;
    };
    let mut by_url: HashMap<&str, &str> = HashMap::new();
    let mut seen = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let kind = entry["resource"]["resourceType"].as_str().unwrap_or("");
        match entry["fullUrl"].as_str() {
            Some(url) if !url.is_empty() => {
                if !seen.insert(url) {
                    fail(format!("entry[{i}].fullUrl {url} is not unique (bdl-7)"));
                }
                by_url.insert(url, kind);
            }
            _ => fail(format!("entry[{i}] has no fullUrl")),
        }
        if entry.get("request").is_some() || entry.get("response").is_some() {
            fail(format!(
                "entry[{i}] has request/response, not allowed in a message (bdl-3, bdl-4)"
            ));
        }
    }
    let header = &entries[0]["resource"];
    if header["resourceType"] != "MessageHeader" {
        fail("the first entry is not the MessageHeader (bdl-12)".into());
        return problems;
    }
    if header["eventCoding"]["system"] != EVENT_SYSTEM
        || header["eventCoding"]["code"] != EVENT_CODE
    {
        fail(format!(
            "MessageHeader.eventCoding must be {EVENT_SYSTEM} / {EVENT_CODE}"
        ));
    }
    if header["source"]["endpoint"]
        .as_str()
        .is_none_or(str::is_empty)
    {
        fail("MessageHeader.source.endpoint is missing".into());
    }
    let focus = header["focus"].as_array().cloned().unwrap_or_default();
    if focus.is_empty() {
        fail("MessageHeader.focus names no Immunization".into());
    }
    for f in &focus {
        let target = f["reference"].as_str().unwrap_or("");
        if by_url.get(target) != Some(&"Immunization") {
            fail(format!(
                "MessageHeader.focus {target} does not resolve to an Immunization entry"
            ));
        }
    }
    let count = |kind: &str| by_url.values().filter(|k| **k == kind).count();
    if count("Patient") == 0 {
        fail("the bundle has no Patient".into());
    }
    if count("Immunization") == 0 {
        fail("the bundle has no Immunization".into());
    }
    for entry in entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Immunization")
    {
        let target = entry["resource"]["patient"]["reference"]
            .as_str()
            .unwrap_or("");
        if by_url.get(target) != Some(&"Patient") {
            fail(format!(
                "Immunization {} has patient {target}, which is not a Patient entry",
                entry["fullUrl"]
            ));
        }
    }
    problems
}
