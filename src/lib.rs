//! vaxentry: keyboard-first entry of immunization records as FHIR R4 message bundles.
//!
//! `record` (what staff type, validation) -> `fhir` (the bundle); `codes` holds the
//! terminology; `clinic` its staff and places; `config` the settings; `cli` the headless commands; `tui` the form.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod card;
pub mod cli;
pub mod clinic;
pub mod clock;
pub mod codes;
pub mod config;
pub mod corrections;
pub mod delivery;
pub mod fhir;
pub mod forecast;
pub mod record;
pub mod store;
pub mod submit;
pub mod tui;
pub mod untrusted;
