//! The field catalogue: one list of every field of a visit, read by the form, the
//! validator, the record file and the documentation.

use crate::codes::TableId;
use serde::{Deserialize, Serialize};

/// Which part of the visit a field belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Patient,
    Dose,
}

/// What a field holds, and so how it is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Date,
    /// A date that may be given as a month and year (`06/2027`, `2027-06`), as vials
    /// print it: the last day of that month.
    ExpiryDate,
    DateTime,
    Coded(TableId),
    /// An amount in mL.
    Quantity,
    Boolean,
    /// A whole number of 1 or more.
    Count,
    /// A National Drug Code: 11 digits, or 10 in any of the three dashed forms, or 10
    /// without dashes when only one form is a vaccine's.
    Ndc,
    /// The Vaccine Information Statements given (see `record::education`).
    Vis,
    /// A person's name: no digits or control characters.
    Name,
    /// A 10-digit National Provider Identifier.
    Npi,
    /// A phone number (10 digits when the country is US).
    Phone,
    /// A postal code (a ZIP code when the country is US).
    PostalCode,
    /// A two-letter country code.
    Country,
}

/// When a field is expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    Always,
    /// The dose was given (status completed).
    WhenGiven,
    /// The dose was given and this clinic gave it (primary source yes).
    WhenGivenHere,
    /// The dose was not given (status not-done).
    WhenNotDone,
    /// A historical record (primary source no).
    WhenHistorical,
}

/// How much a field is wanted where it applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Empty is an error.
    Required,
    /// Empty is a warning.
    Recommended,
    Optional,
}

/// Every field of a visit. The order is the form's order within each section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldId {
    Mrn,
    Family,
    Given,
    BirthDate,
    Gender,
    Phone,
    AddressLine,
    City,
    State,
    PostalCode,
    Country,
    Race,
    Ethnicity,
    PhoneUse,
    MothersMaidenName,
    BirthOrder,
    GuardianFamily,
    GuardianGiven,
    GuardianRelationship,
    GuardianPhone,
    /// A CDSi coded observation (pregnant, immunocompromised ...): weighed by the
    /// forecast, never sent.
    Condition,
    Vaccine,
    Status,
    StatusReason,
    Administered,
    PrimarySource,
    ReportOrigin,
    Lot,
    Manufacturer,
    Expiration,
    Ndc,
    Amount,
    Site,
    Route,
    Performer,
    PerformerNpi,
    Orderer,
    Location,
    Funding,
    Eligibility,
    Vis,
    VisEdition,
    VisPresented,
    DoseNumber,
    Note,
}

/// What a new dose or a new visit takes over from the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carry {
    /// Typed afresh each time.
    Never,
    /// A fact about the visit: a dose added to it starts with the dose before's value.
    ToNextDose,
    /// A fact about the station (who gives, where): carried to the next dose, and to
    /// the first dose of the next visit.
    ToNextVisit,
    /// Belongs with the vaccine product: filled in when the same vaccine is chosen
    /// again (lot memory).
    WithVaccine,
}

/// Everything known about one field.
#[derive(Debug)]
pub struct FieldSpec {
    pub id: FieldId,
    /// The key in record files and `--json` output.
    pub key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub section: Section,
    pub applies: Applies,
    pub need: Need,
    pub carry: Carry,
}

pub const FIELD_COUNT: usize = 45;

use Applies::*;
use Carry::*;
use Kind::*;
use Need::*;
use Section::*;

// One catalogue row; the arguments are the columns of the table below.
#[allow(clippy::too_many_arguments)]
const fn spec(
    id: FieldId,
    key: &'static str,
    label: &'static str,
    help: &'static str,
    kind: Kind,
    section: Section,
    applies: Applies,
    need: Need,
    carry: Carry,
) -> FieldSpec {
    FieldSpec {
        id,
        key,
        label,
        help,
        kind,
        section,
        applies,
        need,
        carry,
    }
}

/// The catalogue, in `FieldId` order.
#[rustfmt::skip]
pub static FIELDS: [FieldSpec; FIELD_COUNT] = [
    spec(FieldId::Mrn, "mrn", "MRN", "The patient's medical record number at this clinic.", Text, Patient, Always, Required, Never),
    spec(FieldId::Family, "family", "Family name", "Last name, as on the patient's ID.", Name, Patient, Always, Required, Never),
    spec(FieldId::Given, "given", "Given names", "First and middle names as one (Mary Ann); a comma separates given names the record keeps apart.", Name, Patient, Always, Recommended, Never),
    spec(FieldId::BirthDate, "birth_date", "Birth date", "MM/DD/YYYY, YYYY-MM-DD or MMDDYYYY.", Date, Patient, Always, Required, Never),
    spec(FieldId::Gender, "gender", "Gender", "Administrative gender: female, male, other or unknown.", Coded(TableId::Gender), Patient, Always, Required, Never),
    spec(FieldId::Phone, "phone", "Phone", "10-digit US number; any spacing or dashes.", Phone, Patient, Always, Optional, Never),
    spec(FieldId::AddressLine, "address_line", "Street", "Street address, e.g. 12 Harbour Road Apt 4.", Text, Patient, Always, Optional, Never),
    spec(FieldId::City, "city", "City", "City or town.", Text, Patient, Always, Optional, Never),
    spec(FieldId::State, "state", "State", "Two-letter US state code, e.g. MA.", Coded(TableId::State), Patient, Always, Optional, Never),
    spec(FieldId::PostalCode, "postal_code", "ZIP code", "5 digits, or ZIP+4 as 12345-6789.", PostalCode, Patient, Always, Optional, Never),
    spec(FieldId::Country, "country", "Country", "Two-letter country code; US by default.", Country, Patient, Always, Optional, Never),
    spec(FieldId::Race, "race", "Race", "OMB race category, if the patient shared it.", Coded(TableId::Race), Patient, Always, Optional, Never),
    spec(FieldId::Ethnicity, "ethnicity", "Ethnicity", "OMB ethnicity, if the patient shared it.", Coded(TableId::Ethnicity), Patient, Always, Optional, Never),
    spec(FieldId::PhoneUse, "phone_use", "Phone is", "Whose phone it is: home, mobile or work (registries send reminders by it).", Coded(TableId::PhoneUse), Patient, Always, Optional, Never),
    spec(FieldId::MothersMaidenName, "mothers_maiden_name", "Mother's maiden", "The mother's family name at her birth; registries match patients by it.", Name, Patient, Always, Optional, Never),
    spec(FieldId::BirthOrder, "birth_order", "Birth order", "Twins or more: 1 for the first born, 2 for the second; empty for one child.", Count, Patient, Always, Optional, Never),
    spec(FieldId::GuardianFamily, "guardian_family", "Guardian family", "For a minor: the responsible person's family name.", Name, Patient, Always, Optional, Never),
    spec(FieldId::GuardianGiven, "guardian_given", "Guardian given", "Their given names.", Name, Patient, Always, Optional, Never),
    spec(FieldId::GuardianRelationship, "guardian_relationship", "Guardian is", "How they are related: mother, father, guardian, grandmother ...", Coded(TableId::Relationship), Patient, Always, Optional, Never),
    spec(FieldId::GuardianPhone, "guardian_phone", "Guardian phone", "Their phone number (10 digits in the US).", Phone, Patient, Always, Optional, Never),
    spec(FieldId::Condition, "cdsi_condition", "Condition", "A condition CDC's schedule weighs (pregnant, immunocompromised, asplenia ...): type to pick one. It changes what is due; it is not sent.", Coded(TableId::Observation), Patient, Always, Optional, Never),
    spec(FieldId::Vaccine, "vaccine", "Vaccine", "The vaccine (CVX). Type a name, brand or code: flu, covid, tdap, 140.", Coded(TableId::Cvx), Dose, Always, Required, Never),
    spec(FieldId::Status, "status", "Status", "completed = given; not-done = not given (say why); entered-in-error.", Coded(TableId::Status), Dose, Always, Required, Never),
    spec(FieldId::StatusReason, "status_reason", "Reason not given", "Why the dose was not given.", Coded(TableId::StatusReason), Dose, WhenNotDone, Required, Never),
    spec(FieldId::Administered, "administered", "Administered", "Date and time given: now, t 14:05, y 9:30a, 11/25/2026 2:05p.", DateTime, Dose, Always, Required, ToNextDose),
    spec(FieldId::PrimarySource, "primary_source", "Given here", "yes = given by this clinic; no = a historical record from elsewhere.", Boolean, Dose, Always, Required, Never),
    spec(FieldId::ReportOrigin, "report_origin", "Record source", "Where a historical record came from: provider, record, recall, school.", Coded(TableId::ReportOrigin), Dose, WhenHistorical, Recommended, Never),
    spec(FieldId::Lot, "lot", "Lot number", "As printed on the vial or syringe.", Text, Dose, WhenGivenHere, Required, WithVaccine),
    spec(FieldId::Manufacturer, "manufacturer", "Manufacturer", "The maker (MVX), e.g. PFR Pfizer, SKB GSK, PMC Sanofi.", Coded(TableId::Mvx), Dose, WhenGivenHere, Recommended, WithVaccine),
    spec(FieldId::Expiration, "expiration", "Expiration date", "As printed on the vial: a date, or MM/YYYY for the last day of that month.", ExpiryDate, Dose, WhenGivenHere, Recommended, WithVaccine),
    spec(FieldId::Ndc, "ndc", "NDC", "NDC on the vial or the carton, as printed; fills vaccine, maker and route.", Ndc, Dose, WhenGivenHere, Recommended, Never),
    spec(FieldId::Amount, "amount", "Dose (mL)", "Amount given in mL, e.g. 0.5.", Quantity, Dose, WhenGivenHere, Recommended, Never),
    spec(FieldId::Site, "site", "Site", "Where on the body, e.g. LA left arm, RT right thigh.", Coded(TableId::Site), Dose, WhenGivenHere, Recommended, Never),
    spec(FieldId::Route, "route", "Route", "How it was given, e.g. IM intramuscular, SQ, PO.", Coded(TableId::Route), Dose, WhenGivenHere, Recommended, Never),
    spec(FieldId::Performer, "performer", "Given by", "Who gave the dose; type part of a name to pick from the clinic's staff.", Name, Dose, WhenGivenHere, Recommended, ToNextVisit),
    spec(FieldId::PerformerNpi, "performer_npi", "Given by NPI", "Their 10-digit NPI, if they have one.", Npi, Dose, WhenGivenHere, Optional, ToNextVisit),
    spec(FieldId::Orderer, "orderer", "Ordered by", "Ordering provider, if different; picked from the staff like Given by.", Name, Dose, WhenGivenHere, Optional, ToNextDose),
    spec(FieldId::Location, "location", "Location", "Where it was given; type part of a name to pick from the clinic's places.", Text, Dose, Always, Optional, ToNextVisit),
    spec(FieldId::Funding, "funding", "Funding", "Whose stock the dose came from: PHC70 private, VXC51 VFC, VXC52 public non-VFC, VXC2 state ...", Coded(TableId::Funding), Dose, WhenGivenHere, Optional, ToNextDose),
    spec(FieldId::Eligibility, "eligibility", "VFC eligibility", "The patient's VFC eligibility: 1 not eligible, 2 Medicaid, 3 uninsured, 4 AI/AN, 5 underinsured.", Coded(TableId::Eligibility), Dose, WhenGivenHere, Recommended, ToNextDose),
    spec(FieldId::Vis, "vis", "VIS given", "VIS handed out: empty = CDC's; or names (dtap, polio, multi), edition after @.", Vis, Dose, WhenGivenHere, Optional, Never),
    spec(FieldId::VisEdition, "vis_edition", "VIS edition", "Edition printed at the foot of the VIS; empty: the one current on the dose day.", Date, Dose, WhenGivenHere, Optional, Never),
    spec(FieldId::VisPresented, "vis_presented", "VIS given on", "Date the VIS was given to the patient; usually today.", Date, Dose, WhenGivenHere, Optional, ToNextDose),
    spec(FieldId::DoseNumber, "dose_number", "Dose number", "Dose number in the series: 1, 2, 3 ...", Count, Dose, Always, Optional, Never),
    spec(FieldId::Note, "note", "Note", "Anything else worth recording.", Text, Dose, Always, Optional, Never),
];

impl FieldId {
    pub fn spec(self) -> &'static FieldSpec {
        &FIELDS[self as usize]
    }

    pub fn from_key(section: Section, key: &str) -> Option<FieldId> {
        FIELDS
            .iter()
            .find(|f| f.section == section && f.key == key)
            .map(|f| f.id)
    }

    /// The fields that carry over in this way.
    pub fn carried(carry: Carry) -> impl Iterator<Item = FieldId> {
        FIELDS
            .iter()
            .filter(move |f| f.carry == carry)
            .map(|f| f.id)
    }

    /// The most characters the field holds: enough for any real value, and a bound
    /// on what a paste or a file can put in.
    pub fn max_len(self) -> usize {
        match (self, self.spec().kind) {
            (FieldId::Note, _) => 2000,
            (_, Kind::Text) => 200,
            (_, Kind::Name) => 100,
            _ => 64,
        }
    }

    /// The fields of one section, in form order.
    pub fn of(section: Section) -> impl Iterator<Item = FieldId> {
        FIELDS
            .iter()
            .filter(move |f| f.section == section)
            .map(|f| f.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_in_enum_order_with_unique_keys() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.id as usize, i, "{} is out of order", f.key);
            assert!(!f.label.is_empty() && !f.help.is_empty());
        }
        let mut keys: Vec<_> = FIELDS
            .iter()
            .map(|f| (f.key, f.section == Section::Dose))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), FIELD_COUNT);
        assert_eq!(FieldId::from_key(Section::Dose, "lot"), Some(FieldId::Lot));
        assert_eq!(FieldId::from_key(Section::Patient, "lot"), None);
    }
}
