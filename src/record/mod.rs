//! The domain: a visit as typed, the field catalogue, parsing of typed values and
//! validation. No terminal, no I/O.

pub mod dose_number;
pub mod due;
pub mod education;
pub mod fields;
pub mod file;
pub mod finding;
pub mod gs1;
pub mod history;
pub mod identity;
pub mod parse;
pub mod scan;
pub mod stock;
pub mod validate;
pub mod values;
pub mod vis_field;
pub mod visit;

pub use fields::{Carry, FIELDS, FieldId, FieldSpec, Kind, Section};
pub use validate::{
    FieldRef, Finding, Interpreted, Rule, Rules, Severity, check_known_patient, interpret, validate,
};
pub use visit::{Fields, Visit, new_dose};
