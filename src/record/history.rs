//! A patient's doses as the endpoint has them (read back from it), in the few words
//! the form shows, and the doses being entered that are most likely one of them: the
//! same vaccine on the same day, or a dose of the same vaccine group sooner than a
//! second dose can count (CDC CDSi's absolute minimum interval).

use super::fields::FieldId;
use super::finding::{FieldRef, Finding, Rule, Severity, finding};
use super::identity::{DoseKey, dose_keys};
use super::visit::Visit;
use crate::clock::ClinicTime;
use crate::codes::{TableId, groups, table};
use crate::untrusted::plain_within;
use chrono::NaiveDate;
use serde_json::Value as Json;

const CVX_SYSTEM: &str = "http://hl7.org/fhir/sid/cvx";

/// One Immunization the endpoint holds, as far as vaxentry reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointDose {
    /// The identifier's value (any system): a dose this visit sent is not a duplicate
    /// of itself.
    pub identifiers: Vec<String>,
    /// The CVX code as the table writes it, when the dose has one.
    pub cvx: Option<String>,
    /// What the dose is, in words: the CVX code, else the vaccine's text.
    pub vaccine: String,
    pub given_on: Option<NaiveDate>,
    pub status: String,
    pub lot: String,
}

impl EndpointDose {
    /// Reads an Immunization resource; `None` for anything else.
    pub fn from_fhir(resource: &Json) -> Option<EndpointDose> {
        if resource["resourceType"] != "Immunization" {
            return None;
        }
        let coding = resource["vaccineCode"]["coding"].as_array();
        let cvx = coding
            .into_iter()
            .flatten()
            .filter(|c| c["system"] == CVX_SYSTEM)
            .find_map(|c| c["code"].as_str())
            .map(|code| {
                table(TableId::Cvx)
                    .get(code.trim())
                    .map_or(code.trim().to_string(), |c| c.code.clone())
            });
        // What the endpoint wrote is shown as plain text, never as terminal codes.
        let text = |value: &Json| value.as_str().map(|t| plain_within(t, 60));
        let vaccine = cvx
            .clone()
            .or_else(|| text(&resource["vaccineCode"]["text"]))
            .unwrap_or_else(|| "a vaccine".to_string());
        // The date as the giver wrote it: the day at the clinic that gave it.
        let given_on = resource["occurrenceDateTime"]
            .as_str()
            .and_then(|d| d.get(..10))
            .and_then(|d| d.parse().ok());
        let identifiers = resource["identifier"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["value"].as_str().map(|v| plain_within(v, 80)))
            .collect();
        Some(EndpointDose {
            identifiers,
            cvx,
            vaccine,
            given_on,
            status: text(&resource["status"]).unwrap_or_default(),
            lot: text(&resource["lotNumber"]).unwrap_or_default(),
        })
    }

    /// A dose the patient has (not one recorded in error, nor one not given).
    pub fn was_given(&self) -> bool {
        self.status == "completed"
    }

    /// "140 on 2026-10-01", or "140 (no date)".
    pub fn describe(&self) -> String {
        match self.given_on {
            Some(day) => format!("{} on {day}", self.vaccine),
            None => format!("{} (no date)", self.vaccine),
        }
    }
}

/// The doses of `visit` that the endpoint most likely has already: the same CVX on
/// the same day, or, with `by_interval`, a dose of a shared vaccine group fewer days
/// away than a second dose of that group can count (the form passes false when it
/// judges intervals by CDC's CDSi with the patient's whole history, which replaces
/// this table). Doses whose identifier `is_own` says this visit sent (an amendment
/// reads its own doses back) are not compared.
pub fn check_endpoint_doses(
    visit: &Visit,
    endpoint: &[EndpointDose],
    is_own: &dyn Fn(&str) -> bool,
    by_interval: bool,
    now: ClinicTime,
) -> Vec<Finding> {
    let theirs: Vec<&EndpointDose> = endpoint
        .iter()
        .filter(|d| d.was_given() && !d.identifiers.iter().any(|i| is_own(i)))
        .collect();
    dose_keys(visit, now)
        .into_iter()
        .filter_map(|(i, key)| {
            let message = theirs.iter().find_map(|d| likely_same(&key, d, by_interval))?;
            Some(finding(
                FieldRef::dose(i, FieldId::Vaccine),
                Severity::Warning,
                Rule::AlreadyGiven,
                format!("Vaccine: {message}; check this is not the same dose entered again. Saving asks first"),
            ))
        })
        .collect()
}

/// Why `theirs` is most likely the dose `key` again, in words; `None` when it is not.
fn likely_same(key: &DoseKey, theirs: &EndpointDose, by_interval: bool) -> Option<String> {
    let their_day = theirs.given_on?;
    let their_cvx = theirs.cvx.as_deref()?;
    if their_cvx == key.vaccine && their_day == key.given_on {
        let lot = match theirs.lot.trim() {
            "" => String::new(),
            lot => format!(", lot {lot}"),
        };
        return Some(format!(
            "the endpoint already has CVX {their_cvx} on {their_day} for this patient{lot}"
        ));
    }
    if !by_interval {
        return None;
    }
    let apart = (key.given_on - their_day).num_days().unsigned_abs();
    groups::groups_of(&key.vaccine)
        .iter()
        .filter(|g| groups::groups_of(their_cvx).contains(g))
        .find_map(|group| {
            let least = groups::min_days(group)?;
            (apart < u64::from(least)).then(|| {
                format!(
                    "the endpoint has a {group} dose (CVX {their_cvx}) on {their_day}, {apart} day(s) from this one; a second {group} dose counts only after {least} days (CDC CDSi)"
                )
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::new_dose;
    use serde_json::json;

    use crate::clock::test_now as now;

    fn visit(doses: &[(&str, &str)]) -> Visit {
        let mut visit = Visit::new(now());
        visit.patient.set(FieldId::Mrn, "MRN-1");
        visit.doses = doses
            .iter()
            .map(|(cvx, day)| {
                let mut dose = new_dose(now());
                dose.set(FieldId::Vaccine, *cvx);
                dose.set(FieldId::Administered, format!("{day} 10:00"));
                dose.set(FieldId::Status, "completed");
                dose
            })
            .collect();
        visit
    }

    fn theirs(cvx: &str, day: &str, status: &str, id: &str) -> EndpointDose {
        EndpointDose::from_fhir(&json!({
            "resourceType": "Immunization",
            "identifier": [{"system": "urn:oid:9", "value": id}],
            "status": status,
            "vaccineCode": {"coding": [{"system": CVX_SYSTEM, "code": cvx}]},
            "occurrenceDateTime": format!("{day}T09:00:00-05:00"),
            "lotNumber": "L1",
        }))
        .unwrap()
    }

    fn warnings(visit: &Visit, endpoint: &[EndpointDose]) -> Vec<(usize, String)> {
        check_endpoint_doses(visit, endpoint, &|id| id == "mine", true, now())
            .into_iter()
            .map(|f| (f.at.dose.unwrap(), f.message))
            .collect()
    }

    #[test]
    fn the_same_vaccine_on_the_same_day_is_most_likely_the_same_dose() {
        let found = warnings(
            &visit(&[("140", "2026-11-20")]),
            &[theirs("140", "2026-11-20", "completed", "a")],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].1.contains(
                "the endpoint already has CVX 140 on 2026-11-20 for this patient, lot L1"
            ),
            "{found:?}"
        );
        // Another day, far enough apart: a dose of its own.
        assert!(
            warnings(
                &visit(&[("140", "2026-11-20")]),
                &[theirs("140", "2025-10-01", "completed", "a")]
            )
            .is_empty()
        );
    }

    #[test]
    fn a_shared_group_sooner_than_a_second_dose_counts_is_warned_about() {
        // Pediarix (110: DTaP, HepB, polio) 10 days after an IPV (10): polio's
        // second dose counts after 24 days.
        let found = warnings(
            &visit(&[("20", "2026-11-20"), ("110", "2026-11-20")]),
            &[theirs("10", "2026-11-10", "completed", "a")],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 1);
        assert!(
            found[0]
                .1
                .contains("a Polio dose (CVX 10) on 2026-11-10, 10 day(s) from this one"),
            "{found:?}"
        );
        assert!(found[0].1.contains("after 24 days"), "{found:?}");
        // 24 days apart: counts.
        assert!(
            warnings(
                &visit(&[("110", "2026-12-04")]),
                &[theirs("10", "2026-11-10", "completed", "a")]
            )
            .is_empty()
        );
    }

    #[test]
    fn voided_doses_and_this_visits_own_doses_are_not_duplicates() {
        let doses = visit(&[("140", "2026-11-20")]);
        assert!(
            warnings(
                &doses,
                &[theirs("140", "2026-11-20", "entered-in-error", "a")]
            )
            .is_empty()
        );
        assert!(warnings(&doses, &[theirs("140", "2026-11-20", "completed", "mine")]).is_empty());
    }

    #[test]
    fn what_cannot_be_read_is_shown_in_words_and_never_matched() {
        let odd = EndpointDose::from_fhir(&json!({
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"text": "flu shot"}, "occurrenceString": "last autumn"}))
        .unwrap();
        assert_eq!(odd.describe(), "flu shot (no date)");
        assert!(warnings(&visit(&[("140", "2026-11-20")]), &[odd]).is_empty());
        assert!(EndpointDose::from_fhir(&json!({"resourceType": "Patient"})).is_none());
        assert_eq!(theirs("3", "2026-01-02", "completed", "a").vaccine, "03");
    }
}
