//! What staff typed: a visit is one patient and one or more doses, each a set of raw
//! text values keyed by the field catalogue.

use super::fields::{FIELD_COUNT, FIELDS, FieldId, Kind, Section};
use super::parse::{EnteredDateTime, parse_date, parse_datetime};
use crate::clock::ClinicTime;

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
    /// Replaces date shortcuts (`t-3`, `y`, `now`, `14:05`, `3/4/2026`) with the plain
    /// dates they stand for as of `now`, so a stored record means the same tomorrow.
    /// Values that do not parse, and times given with their own offset, are kept.
    /// Returns whether anything changed.
    pub fn fix_dates(&mut self, now: ClinicTime) -> bool {
        let mut changed = fix_section_dates(&mut self.patient, Section::Patient, now);
        for dose in &mut self.doses {
            changed |= fix_section_dates(dose, Section::Dose, now);
        }
        changed
    }

    /// A blank visit with one dose and the defaults a clinic expects.
    pub fn new(now: ClinicTime) -> Visit {
        Visit {
            patient: Fields::default().with(FieldId::Country, "US"),
            doses: vec![new_dose(now)],
        }
    }
}

/// A blank dose: given here, completed, administered now.
pub fn new_dose(now: ClinicTime) -> Fields {
    Fields::default()
        .with(FieldId::Status, "completed")
        .with(FieldId::PrimarySource, "yes")
        .with(
            FieldId::Administered,
            &now.format("%Y-%m-%d %H:%M").to_string(),
        )
}

fn fix_section_dates(fields: &mut Fields, section: Section, now: ClinicTime) -> bool {
    let mut changed = false;
    for spec in FIELDS.iter().filter(|f| f.section == section) {
        let raw = fields.get(spec.id).trim();
        let fixed = match spec.kind {
            Kind::Date => parse_date(raw, now.date_naive())
                .ok()
                .map(|d| d.format("%Y-%m-%d").to_string()),
            Kind::ExpiryDate => super::parse::parse_expiry(raw, now.date_naive())
                .ok()
                .map(|d| d.format("%Y-%m-%d").to_string()),
            Kind::DateTime if super::parse::with_offset(raw).is_some() => None,
            Kind::DateTime => parse_datetime(raw, now).ok().map(|d| match d {
                EnteredDateTime::Date(d) => d.format("%Y-%m-%d").to_string(),
                EnteredDateTime::At(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            }),
            _ => None,
        };
        if let Some(fixed) = fixed.filter(|f| f != raw) {
            fields.set(spec.id, fixed);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_shortcuts_become_plain_dates_and_the_rest_is_kept() {
        let now =
            crate::clock::Clock::fixed("2026-11-25T14:07:31-05:00", chrono_tz::America::New_York)
                .unwrap()
                .now();
        let mut visit = Visit::new(now);
        visit.patient.set(FieldId::BirthDate, "3/4/1980");
        visit.patient.set(FieldId::Family, "t-3");
        visit.doses[0].set(FieldId::Expiration, "t+30");
        visit.doses[0].set(FieldId::VisPresented, "y");
        visit.doses[0].set(FieldId::Administered, "2:05p");
        visit.doses.push(
            new_dose(now)
                .with(FieldId::Administered, "2026-11-20T08:15:00+01:00")
                .with(FieldId::Expiration, "soon"),
        );
        assert!(visit.fix_dates(now), "shortcuts were written out");
        assert!(
            !visit.clone().fix_dates(now),
            "a second pass changes nothing"
        );
        assert_eq!(visit.patient.get(FieldId::BirthDate), "1980-03-04");
        assert_eq!(
            visit.patient.get(FieldId::Family),
            "t-3",
            "names are not dates"
        );
        assert_eq!(visit.doses[0].get(FieldId::Expiration), "2026-12-25");
        assert_eq!(visit.doses[0].get(FieldId::VisPresented), "2026-11-24");
        assert_eq!(
            visit.doses[0].get(FieldId::Administered),
            "2026-11-25 14:05"
        );
        assert_eq!(
            visit.doses[1].get(FieldId::Administered),
            "2026-11-20T08:15:00+01:00",
            "an explicit offset is kept"
        );
        assert_eq!(
            visit.doses[1].get(FieldId::Expiration),
            "soon",
            "what does not parse is left for the validator"
        );
    }
}
