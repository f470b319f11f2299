//! Helpers shared by the integration tests: a fixed clock, the example records and
//! the official FHIR R4 JSON schema.
#![allow(dead_code)]

pub mod server;

use chrono::{DateTime, FixedOffset};
use std::sync::OnceLock;
use vaxentry::config::Config;
use vaxentry::fhir::{BundleSettings, FixedClock};
use vaxentry::record::{Visit, file};

pub fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-25T15:30:00-05:00").expect("fixed time")
}

pub fn clock() -> FixedClock {
    FixedClock(now())
}

pub fn settings() -> BundleSettings {
    Config::default().bundle_settings()
}

pub fn example(name: &str) -> Visit {
    let path = format!("{}/assets/examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    file::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub const EXAMPLES: [&str; 5] = [
    "adult-flu",
    "child-four-doses",
    "not-done-refusal",
    "historical",
    "unicode-race",
];

/// Errors from the official FHIR R4 JSON schema; empty when the JSON is valid.
pub fn schema_errors(instance: &serde_json::Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = format!(
            "{}/tests/fixtures/fhir.r4.schema.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
                .expect("schema JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    });
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
