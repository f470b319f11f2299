//! What a check finds: where (a field of the patient or of a dose), how serious,
//! which rule, and a message that says how to fix it.

use super::fields::FieldId;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where a finding points: a patient field, or a field of dose `dose` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FieldRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose: Option<usize>,
    pub field: FieldId,
}

impl FieldRef {
    pub fn patient(field: FieldId) -> FieldRef {
        FieldRef { dose: None, field }
    }

    pub fn dose(index: usize, field: FieldId) -> FieldRef {
        FieldRef {
            dose: Some(index),
            field,
        }
    }

    /// The part of the visit: `Patient` or `Dose 2`. Messages start with the field.
    pub fn section(self) -> String {
        match self.dose {
            None => "Patient".to_string(),
            Some(i) => format!("Dose {}", i + 1),
        }
    }
}

/// Which rule produced a finding (stable names for tests and `--json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    Required,
    Recommended,
    NotExpected,
    Unreadable,
    BirthInFuture,
    BirthTooLongAgo,
    GivenInFuture,
    GivenBeforeBirth,
    ExpiredProduct,
    InactiveVaccine,
    /// A code no longer in use (e.g. VFC V06).
    InactiveCode,
    /// A non-US vaccine recorded as given here.
    NonUsVaccine,
    /// A product outside the ages it is licensed for.
    AgeOutOfRange,
    /// A manufacturer that does not make the vaccine.
    ManufacturerMismatch,
    /// The MRN is stored for a patient with another name, birth date or gender.
    MrnConflict,
    /// More characters than the field holds.
    TooLong,
    AmountOutOfRange,
    DuplicateVaccine,
    /// The patient has the same vaccine on the same day in another stored visit.
    AlreadyGiven,
    VisPresentedAfterDose,
    /// A VIS named that CDC does not give with the vaccine.
    VisNotForVaccine,
    /// A combination vaccine named with some of its VIS only.
    VisMissing,
    /// A VIS edition CDC never published, or published after the dose.
    VisEditionUnknown,
    /// A VIS edition replaced by a newer one before the dose.
    VisEditionReplaced,
    /// An NDC CDC lists for another vaccine.
    NdcOtherVaccine,
    /// An NDC not in CDC's crosswalk.
    NdcUnknown,
    /// An NDC off the market on the dose day.
    NdcNotMarketed,
    /// A funding source that does not go with the VFC eligibility.
    FundingEligibility,
    NoDoses,
    /// A dose given here from a lot the inventory has expired or retired.
    LotNotOnHand,
    /// A guardian's details without the guardian's family name.
    GuardianWithoutName,
    /// `[clinic] require_npi`: a dose given here without the vaccinator's NPI.
    NpiRequired,
    /// By CDC's CDSi the dose would not count (too young, too soon, a live-virus conflict).
    WouldNotCount,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    #[serde(flatten)]
    pub at: FieldRef,
    pub severity: Severity,
    pub rule: Rule,
    pub message: String,
}

pub(crate) fn finding(at: FieldRef, severity: Severity, rule: Rule, message: String) -> Finding {
    Finding {
        at,
        severity,
        rule,
        message,
    }
}
