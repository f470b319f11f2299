//! Visit -> FHIR R4 message Bundle: the field-to-element table (`paths`), the builder
//! (pure, given the time and an id source) and the message rules.

pub mod answer;
pub mod build;
pub mod check;
pub mod paths;
pub mod references;
pub mod transaction;

pub use build::{
    Bundle, BundleSettings, DerivedIds, IdSource, InvalidVisit, Message, RandomIds, SequentialIds,
    build_bundle, is_first_message, is_record_id, message_for, message_sent_again, to_json,
};
pub use check::message_problems;
