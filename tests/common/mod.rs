//! Helpers shared by the integration tests: the fixed clock, the example records and
//! the official FHIR R4 JSON schema.
#![allow(dead_code)]

pub mod fhir_records;
pub mod server;

use std::sync::OnceLock;
use vaxentry::clock::{ClinicTime, Clock};
use vaxentry::config::Config;
use vaxentry::fhir::BundleSettings;
use vaxentry::record::{Visit, file};

/// The moment every test runs at, in the clinic zone the tests use.
pub const NOW: &str = "2026-11-25T15:30:00-05:00";
pub const ZONE: chrono_tz::Tz = chrono_tz::America::New_York;

pub fn clock() -> Clock {
    Clock::fixed(NOW, ZONE).expect("fixed time")
}

pub fn now() -> ClinicTime {
    clock().now()
}

/// The real binary, run as the tests run it: stopped at [`NOW`] in the tests' zone
/// (whatever this machine's clock and zone say), from the repository folder, with
/// `home` as its home so a developer's own config and data never leak in.
pub fn binary(home: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vaxentry"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(vaxentry::clock::NOW_ENV, NOW)
        .env("TZ", ZONE.name())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_DATA_HOME", home)
        .env_remove(vaxentry::store::DATA_DIR_ENV);
    cmd
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

/// The endpoint a config's `[endpoint]` section describes (the tests' configs are
/// valid).
pub fn endpoint_of(toml: &str) -> vaxentry::submit::Endpoint {
    let config = vaxentry::config::Config::parse(toml).expect("config");
    vaxentry::submit::Endpoint::from_config(config.endpoint.as_ref().expect("[endpoint]"))
        .expect("endpoint")
}

/// A sender to that endpoint, on the tests' clock.
pub fn submitter_of(toml: &str) -> vaxentry::submit::Submitter {
    vaxentry::submit::Submitter::new(endpoint_of(toml), clock())
}
