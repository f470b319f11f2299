//! What is due for the patient in the form, by CDC's CDSi: worked out when the checks
//! run, once the patient's doses are known (stored here, or read from the endpoint).
//! Said in a line on the detail panel's edge, in full with Alt+D, and as a warning on a
//! dose being entered that would not count. Nothing here blocks saving.

use super::{Form, Overlay};
use crate::clock::ClinicTime;
use crate::forecast::{Assessment, Reason, Status};
use crate::record::dose_number::KnownDose;
use crate::record::due::{assess_known, gender_of, known, known_before, observations_of, summary};
use crate::record::fields::FieldId;
use crate::record::finding::{FieldRef, Finding, Rule, Severity, finding};
use crate::record::identity::dose_keys;
use crate::record::parse::parse_date;
use chrono::NaiveDate;

/// The patient's assessment today, with this visit's doses counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Due {
    pub assessment: Assessment,
    /// The line a nurse reads at a glance.
    pub summary: String,
}

impl Form {
    /// Whether the patient's earlier doses are known: stored here or read from the endpoint.
    pub(super) fn history_known(&self) -> bool {
        self.returning.stored_patient.is_some() || self.endpoint.view.is_some()
    }

    /// The doses known before this visit's (stored here, the endpoint's given ones),
    /// and this visit's given doses but `except`; each as (dose, visit dose index).
    pub(super) fn known_doses(
        &self,
        except: Option<usize>,
        now: ClinicTime,
    ) -> Vec<(KnownDose, Option<usize>)> {
        let this_visit: Vec<(KnownDose, Option<usize>)> = dose_keys(&self.visit, now)
            .into_iter()
            .filter(|(j, _)| Some(*j) != except)
            .map(|(j, key)| (known(&key), Some(j)))
            .collect();
        // This visit's own doses, as stored or as the endpoint has them, count once.
        let stored = self
            .returning
            .stored_doses
            .iter()
            .filter(|d| d.visit != self.visit_id);
        let from_endpoint = self.endpoint.view.iter().flat_map(|v| {
            v.doses
                .iter()
                .filter(|d| !d.identifiers.iter().any(|i| v.sent_here.contains(i)))
        });
        let mut earlier = known_before(stored, from_endpoint);
        earlier.retain(|d| !this_visit.iter().any(|(v, _)| v == d));
        earlier
            .into_iter()
            .map(|d| (d, None))
            .chain(this_visit)
            .collect()
    }

    /// Whether the form judges the doses by CDSi: the history is known and the birth date reads.
    pub(super) fn forecasts(&self) -> bool {
        self.history_known() && self.patient_for_forecast().is_some()
    }

    /// The birth date and gender the form holds, when the birth date reads.
    fn patient_for_forecast(&self) -> Option<(NaiveDate, crate::forecast::Gender)> {
        let birth = parse_date(self.visit.patient.get(FieldId::BirthDate), self.today).ok()?;
        Some((birth, gender_of(self.visit.patient.get(FieldId::Gender))))
    }

    fn assess(&self, known: &[(KnownDose, Option<usize>)], as_of: NaiveDate) -> Option<Assessment> {
        let (birth, gender) = self.patient_for_forecast()?;
        let doses: Vec<KnownDose> = known.iter().map(|(d, _)| d.clone()).collect();
        let observations = observations_of(&self.visit.patient);
        Some(assess_known(birth, gender, &observations, &doses, as_of))
    }

    /// Works out what is due (kept for drawing) and warns on each dose of this visit
    /// that would not count: too young, too soon, a live-virus conflict.
    pub(super) fn check_due(&mut self, now: ClinicTime) -> Vec<Finding> {
        if !self.history_known() {
            self.due = None;
            return Vec::new();
        }
        let known = self.known_doses(None, now);
        let Some(assessment) = self.assess(&known, self.today) else {
            self.due = None;
            return Vec::new();
        };
        let mut findings = Vec::new();
        // The history as `assess_known` orders it: sorted, the same dose once.
        let mut order: Vec<&(KnownDose, Option<usize>)> = known.iter().collect();
        order.sort_by(|a, b| a.0.cmp(&b.0));
        order.dedup_by(|a, b| a.0 == b.0);
        for (position, (dose, visit_dose)) in order.iter().enumerate() {
            let Some(i) = *visit_dose else { continue };
            let Some(groups) = assessment.doses.get(position) else {
                continue;
            };
            for judged in groups {
                let counts_later = matches!(
                    judged.reason,
                    Some(
                        Reason::TooYoung
                            | Reason::TooYoungAndTooSoon
                            | Reason::TooSoon
                            | Reason::TooSoonAndLiveVirusConflict
                            | Reason::LiveVirusConflict
                    )
                );
                if judged.status != Status::NotValid || !counts_later {
                    continue;
                }
                let from = self
                    .assess(&self.known_doses(Some(i), now), dose.given_on)
                    .and_then(|a| a.group(judged.group).and_then(|g| g.forecast.earliest))
                    .filter(|day| *day > dose.given_on)
                    .map_or(String::new(), |day| format!("; it counts from {day}"));
                let reason = judged.reason.map_or(String::new(), |r| r.to_string());
                findings.push(finding(
                    FieldRef::dose(i, FieldId::Vaccine),
                    Severity::Warning,
                    Rule::WouldNotCount,
                    format!(
                        "Vaccine: by CDC's schedule this dose would not count for {}: {reason}{from}. It can still be saved",
                        judged.group
                    ),
                ));
            }
        }
        self.due = Some(Due {
            summary: summary(&assessment, self.today),
            assessment,
        });
        findings
    }

    /// Alt+D: the whole forecast over the fields (or closes it).
    pub fn toggle_due(&mut self) -> Option<String> {
        if matches!(self.overlay, Some(Overlay::Due)) {
            self.overlay = None;
            return None;
        }
        if self.due.is_none() {
            return Some(if self.history_known() {
                "What is due needs the patient's birth date".to_string()
            } else {
                "What is due shows once the patient's doses are known: a stored patient (F7), or the endpoint's answer".to_string()
            });
        }
        self.overlay = Some(Overlay::Due);
        None
    }
}
