//! What staff typed: a visit is one patient and one or more doses, each a set of raw
//! text values keyed by the field catalogue.

use super::fields::{FIELD_COUNT, FieldId};
use chrono::{DateTime, FixedOffset};

/// The raw text of every field of one section (patient or dose).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fields {
    raw: Vec<String>,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            raw: vec![String::new(); FIELD_COUNT],
        }
    }
}

impl Fields {
    pub fn get(&self, id: FieldId) -> &str {
        &self.raw[id as usize]
    }

    pub fn set(&mut self, id: FieldId, value: impl Into<String>) {
        self.raw[id as usize] = value.into();
    }

    /// A builder-style `set`, handy for examples and tests.
    pub fn with(mut self, id: FieldId, value: &str) -> Self {
        self.set(id, value);
        self
    }
}

/// One visit: the patient and the doses recorded for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    pub patient: Fields,
    pub doses: Vec<Fields>,
}

impl Visit {
    /// A blank visit with one dose and the defaults a clinic expects.
    pub fn new(now: DateTime<FixedOffset>) -> Visit {
        Visit {
            patient: Fields::default().with(FieldId::Country, "US"),
            doses: vec![new_dose(now)],
        }
    }
}

/// A blank dose: given here, completed, administered now.
pub fn new_dose(now: DateTime<FixedOffset>) -> Fields {
    Fields::default()
        .with(FieldId::Status, "completed")
        .with(FieldId::PrimarySource, "yes")
        .with(
            FieldId::Administered,
            &now.format("%Y-%m-%d %H:%M").to_string(),
        )
}
