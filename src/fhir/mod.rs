//! Visit -> FHIR R4 message Bundle: the serde model, the builder (pure, given the time
//! and an id source) and the message rules.

pub mod build;
pub mod check;
pub mod model;

pub use build::{
    BundleSettings, CvxSystem, DerivedIds, IdSource, InvalidVisit, Message, RandomIds,
    SequentialIds, build_bundle, message_for, to_json,
};
pub use check::message_problems;
pub use model::Bundle;
