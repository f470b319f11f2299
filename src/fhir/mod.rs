//! Visit -> FHIR R4 message Bundle: the serde model, the builder (pure, given a clock
//! and an id source) and the message rules.

pub mod build;
pub mod check;
pub mod model;

pub use build::{
    BundleSettings, Clock, CvxSystem, DerivedIds, FixedClock, IdSource, InvalidVisit, Message,
    RandomIds, SequentialIds, SystemClock, build_bundle, message_for, to_json,
};
pub use check::message_problems;
pub use model::Bundle;
