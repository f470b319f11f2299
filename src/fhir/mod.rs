//! Visit -> FHIR R4 message Bundle: the field-to-element table (`paths`), the builder
//! (pure, given the time and an id source) and the message rules.

pub mod answer;
pub mod build;
pub mod check;
pub mod correction;
pub mod ids;
pub mod paths;
pub mod received;
pub mod references;
pub mod settings;
pub mod transaction;

pub use build::{Bundle, InvalidVisit, Message, build_bundle, message_for, to_json};
pub use check::message_problems;
pub use correction::{Correction, message_sent_again};

/// The system of the US National Provider Identifier (a vaccinator's NPI).
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";
pub use ids::{DerivedIds, IdSource, RandomIds, SequentialIds, is_first_message, is_record_id};
pub use settings::BundleSettings;
