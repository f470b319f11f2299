//! Parsed values: each field's raw text turned into a typed value by its kind, and
//! the per-dose context (given? given here?) that decides which fields apply.

use super::fields::{Applies, FIELD_COUNT, FieldId, FieldSpec, Kind, Need};
use super::parse::{self, EnteredDateTime};
use super::visit::Fields;
use crate::clock::ClinicTime;
use crate::codes::{Code, table};
use chrono::NaiveDate;

/// One parsed field.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Empty,
    Text(String),
    Date(NaiveDate),
    DateTime(EnteredDateTime),
    Code(&'static Code),
    Amount(f64),
    Bool(bool),
    Count(u32),
    /// The VIS field as typed; once the dose is interpreted, the VIS it is given
    /// with (see `record::education`).
    Vis(Vec<super::vis_field::VisGiven>),
}

/// The parsed values of one section, indexed by field.
#[derive(Clone, Debug)]
pub struct Values {
    values: Vec<Value>,
}

impl Values {
    pub fn get(&self, id: FieldId) -> &Value {
        &self.values[id as usize]
    }

    pub fn text(&self, id: FieldId) -> Option<&str> {
        match self.get(id) {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn date(&self, id: FieldId) -> Option<NaiveDate> {
        match self.get(id) {
            Value::Date(d) => Some(*d),
            Value::DateTime(dt) => Some(dt.date()),
            _ => None,
        }
    }

    /// Replaces a value (the VIS field, once resolved).
    pub(super) fn set(&mut self, id: FieldId, value: Value) {
        self.values[id as usize] = value;
    }

    /// The VIS the dose is given with, once interpreted.
    pub fn vis(&self) -> &[super::vis_field::VisGiven] {
        match self.get(FieldId::Vis) {
            Value::Vis(list) => list,
            _ => &[],
        }
    }

    pub fn code(&self, id: FieldId) -> Option<&'static Code> {
        match self.get(id) {
            Value::Code(c) => Some(c),
            _ => None,
        }
    }
}

/// How a field stands for one dose given its status and source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    Expected(Need),
    NotExpected,
}

/// The facts about a dose that decide which of its fields apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DoseContext {
    pub not_done: bool,
    /// The record was entered in error: nothing more is asked of it.
    pub in_error: bool,
    pub given_here: bool,
}

impl DoseContext {
    /// Read from the raw text so the form can decide before anything parses.
    pub fn of(dose: &Fields) -> DoseContext {
        let status = dose.get(FieldId::Status).trim();
        DoseContext {
            not_done: status.eq_ignore_ascii_case("not-done"),
            in_error: status.eq_ignore_ascii_case("entered-in-error"),
            given_here: parse::parse_yes_no(dose.get(FieldId::PrimarySource)).unwrap_or(true),
        }
    }

    /// Whether and how much `spec` is wanted for this dose.
    pub fn expectation(self, spec: &FieldSpec) -> Expectation {
        use Expectation::*;
        match spec.applies {
            Applies::Always => Expected(spec.need),
            // A record entered in error keeps what it had, and needs nothing more.
            Applies::WhenNotDone if self.in_error => NotExpected,
            _ if self.in_error => Expected(Need::Optional),
            Applies::WhenGiven if self.not_done => NotExpected,
            Applies::WhenGiven => Expected(spec.need),
            Applies::WhenGivenHere if self.not_done => NotExpected,
            Applies::WhenGivenHere if !self.given_here => Expected(Need::Optional),
            Applies::WhenGivenHere => Expected(spec.need),
            Applies::WhenNotDone if self.not_done => Expected(spec.need),
            Applies::WhenNotDone => NotExpected,
            Applies::WhenHistorical if !self.not_done && !self.given_here => Expected(spec.need),
            Applies::WhenHistorical => NotExpected,
        }
    }
}

/// Parses every field of a section. Returns the values and, per field, the reason a
/// non-empty value did not parse.
pub fn parse_fields(
    fields: &Fields,
    ids: impl Iterator<Item = FieldId>,
    now: ClinicTime,
    country_is_us: bool,
) -> (Values, Vec<(FieldId, String)>) {
    let mut values = vec![Value::Empty; FIELD_COUNT];
    let mut problems = Vec::new();
    for id in ids {
        let raw = fields.get(id).trim();
        if raw.is_empty() {
            continue;
        }
        match parse_value(id.spec(), raw, now, country_is_us) {
            Ok(v) => values[id as usize] = v,
            Err(message) => problems.push((id, message)),
        }
    }
    (Values { values }, problems)
}

fn parse_value(spec: &FieldSpec, raw: &str, now: ClinicTime, us: bool) -> Result<Value, String> {
    if raw.chars().any(char::is_control) {
        return Err("contains control characters; retype it".to_string());
    }
    // U+202E and friends make text show in another order than it is stored.
    if raw.chars().any(parse::is_bidi_control) {
        return Err("contains invisible direction marks (bidi controls); retype it".to_string());
    }
    let today = now.date_naive();
    Ok(match spec.kind {
        Kind::Text => Value::Text(raw.to_string()),
        Kind::Date => Value::Date(parse::parse_date(raw, today)?),
        Kind::ExpiryDate => Value::Date(parse::parse_expiry(raw, today)?),
        Kind::DateTime => Value::DateTime(parse::parse_datetime(raw, now)?),
        Kind::Coded(t) => {
            let table = table(t);
            let code = table.get(raw).ok_or_else(|| {
                format!(
                    "'{raw}' is not a known {} code; type to search and pick one from the list",
                    table.name
                )
            })?;
            Value::Code(code)
        }
        Kind::Quantity => Value::Amount(parse::parse_amount(raw)?),
        Kind::Boolean => Value::Bool(parse::parse_yes_no(raw)?),
        Kind::Count => Value::Count(parse::parse_count(raw)?),
        Kind::Ndc => Value::Text(parse::parse_ndc(raw)?),
        Kind::Vis => Value::Vis(super::vis_field::parse_list(raw, today)?),
        Kind::Name => {
            if raw.chars().any(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "'{raw}' has digits; a name has letters only (hyphens, apostrophes and spaces are fine)"
                ));
            }
            Value::Text(raw.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        Kind::Npi => {
            if !parse::npi_is_valid(raw) {
                return Err(format!(
                    "'{raw}' is not a valid NPI; it has 10 digits and its last digit must match the check digit; check for a typo"
                ));
            }
            Value::Text(raw.to_string())
        }
        Kind::Phone if us => Value::Text(parse::parse_us_phone(raw)?),
        Kind::PostalCode if us => Value::Text(parse::parse_us_zip(raw)?),
        Kind::Phone | Kind::PostalCode => Value::Text(raw.to_string()),
        Kind::Country => {
            if raw.len() != 2 || !raw.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(format!(
                    "'{raw}' is not a two-letter country code such as US or CA"
                ));
            }
            Value::Text(raw.to_ascii_uppercase())
        }
    })
}
