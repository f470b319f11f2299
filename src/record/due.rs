//! What is due for a patient, from what this station knows of them: their birth date
//! and gender, CDSi observations, and the doses held here and at the endpoint, put to
//! CDC's CDSi engine (`forecast`), and said in the few words a nurse reads at a glance.

use super::dose_number::KnownDose;
use super::history::EndpointDose;
use super::identity::{DoseKey, StoredDose};
use crate::forecast::data::SupportingData;
use crate::forecast::{Assessment, DoseGiven, Gender, GroupForecast, History, Observation, assess};
use chrono::NaiveDate;

/// CDSi's gender from FHIR's administrative gender code.
pub fn gender_of(code: &str) -> Gender {
    match code.trim().to_ascii_lowercase().as_str() {
        "female" | "f" => Gender::Female,
        "male" | "m" => Gender::Male,
        _ => Gender::Unknown,
    }
}

/// The doses known of a patient before a visit: those stored here and those the
/// endpoint reports given, each once, oldest first.
pub fn known_before<'a>(
    stored: impl IntoIterator<Item = &'a StoredDose>,
    endpoint: impl IntoIterator<Item = &'a EndpointDose>,
) -> Vec<KnownDose> {
    let theirs = endpoint
        .into_iter()
        .filter(|d| d.was_given())
        .filter_map(|d| {
            Some(KnownDose {
                cvx: d.cvx.clone()?,
                given_on: d.given_on?,
            })
        });
    let mut known: Vec<KnownDose> = stored
        .into_iter()
        .map(|d| known(&d.key))
        .chain(theirs)
        .collect();
    known.sort();
    known.dedup();
    known
}

/// A dose of a visit as the forecast knows it.
pub fn known(key: &DoseKey) -> KnownDose {
    KnownDose {
        cvx: key.vaccine.clone(),
        given_on: key.given_on,
    }
}

/// The patient's CDSi condition (the form's Condition field), as the engine reads it.
pub fn observations_of(patient: &crate::record::visit::Fields) -> Vec<Observation> {
    let code = patient
        .get(crate::record::fields::FieldId::Condition)
        .trim();
    crate::codes::table(crate::codes::TableId::Observation)
        .get(code)
        .map(|c| Observation {
            code: c.code.clone(),
            date: None,
        })
        .into_iter()
        .collect()
}

/// The assessment on `as_of` of the known doses (the same vaccine on the same day once).
pub fn assess_known(
    birth_date: NaiveDate,
    gender: Gender,
    observations: &[Observation],
    known: &[KnownDose],
    as_of: NaiveDate,
) -> Assessment {
    let mut doses: Vec<&KnownDose> = known.iter().collect();
    doses.sort();
    doses.dedup();
    let history = History {
        birth_date,
        gender,
        observations: observations.to_vec(),
        doses: doses
            .into_iter()
            .map(|d| DoseGiven {
                cvx: d.cvx.clone(),
                mvx: None,
                date: d.given_on,
            })
            .collect(),
    };
    assess(SupportingData::cdc(), &history, as_of)
}

/// A vaccine group's name as a nurse says it.
pub fn short_name(group: &str) -> &str {
    match group {
        "DTaP/Tdap/Td" => "DTaP/Td",
        "Influenza" => "Flu",
        "Meningococcal" => "MenACWY",
        "Meningococcal B" => "MenB",
        "Pneumococcal" => "PCV",
        "Rotavirus" => "RV",
        "Varicella" => "VAR",
        other => other,
    }
}

/// A dose number or a date as the tables show it: "-" for none.
pub fn or_dash(value: Option<impl std::fmt::Display>) -> String {
    value.map_or("-".to_string(), |v| v.to_string())
}

/// "DTaP/Td 4": a group and the number of the dose it needs.
pub fn group_and_dose(g: &GroupForecast) -> String {
    match g.forecast.dose_number {
        Some(n) => format!("{} {n}", short_name(g.group)),
        None => short_name(g.group).to_string(),
    }
}

/// The groups overdue, due (not overdue) and coming up on `today`, each soonest first.
pub fn due_lists(assessment: &Assessment, today: NaiveDate) -> [Vec<&GroupForecast>; 3] {
    let mut overdue = Vec::new();
    let mut due = Vec::new();
    let mut coming = Vec::new();
    for g in &assessment.groups {
        if g.forecast.overdue_on(today) {
            overdue.push(g);
        } else if g.forecast.due_on(today) {
            due.push(g);
        } else if g.forecast.recommended.is_some()
            && g.forecast.status == crate::forecast::SeriesStatus::NotComplete
        {
            coming.push(g);
        }
    }
    coming.sort_by_key(|g| g.forecast.recommended);
    [overdue, due, coming]
}

/// One line: "Overdue: HepA 2 · Due today: DTaP/Td 4, Hib 4 · Next: MMR 2, VAR 2 on 2029-11-10".
pub fn summary(assessment: &Assessment, today: NaiveDate) -> String {
    let [overdue, due, coming] = due_lists(assessment, today);
    let list = |groups: &[&GroupForecast]| {
        groups
            .iter()
            .map(|g| group_and_dose(g))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !overdue.is_empty() {
        parts.push(format!("Overdue: {}", list(&overdue)));
    }
    if !due.is_empty() {
        parts.push(format!("Due today: {}", list(&due)));
    }
    // The next visit's vaccines: those recommended on the first day coming.
    if let Some(day) = coming.first().and_then(|g| g.forecast.recommended) {
        let next: Vec<&GroupForecast> = coming
            .iter()
            .copied()
            .filter(|g| g.forecast.recommended == Some(day))
            .collect();
        parts.push(format!("Next: {} on {day}", list(&next)));
    }
    if parts.is_empty() {
        "Nothing due: every series is complete".to_string()
    } else {
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dose(cvx: &str, on: &str) -> KnownDose {
        KnownDose {
            cvx: cvx.into(),
            given_on: d(on),
        }
    }

    #[test]
    fn a_two_month_old_with_no_doses_is_due_the_two_month_vaccines() {
        let assessment = assess_known(d("2026-08-01"), Gender::Female, &[], &[], d("2026-10-01"));
        let [overdue, due, _] = due_lists(&assessment, d("2026-10-01"));
        let names: Vec<String> = due.iter().map(|g| group_and_dose(g)).collect();
        assert!(
            overdue.is_empty() || overdue.iter().all(|g| g.group == "HepB"),
            "{overdue:?}"
        );
        for expected in ["DTaP/Td 1", "Hib 1", "PCV 1", "Polio 1", "RV 1"] {
            assert!(names.contains(&expected.to_string()), "{names:?}");
        }
        assert!(summary(&assessment, d("2026-10-01")).contains("Due today: "));
    }

    #[test]
    fn the_same_dose_known_twice_counts_once() {
        let once = assess_known(
            d("2026-01-01"),
            Gender::Male,
            &[],
            &[dose("08", "2026-01-01")],
            d("2026-03-01"),
        );
        let twice = assess_known(
            d("2026-01-01"),
            Gender::Male,
            &[],
            &[dose("08", "2026-01-01"), dose("08", "2026-01-01")],
            d("2026-03-01"),
        );
        assert_eq!(once.groups, twice.groups);
        assert_eq!(once.group("HepB").unwrap().forecast.dose_number, Some(2));
    }

    #[test]
    fn fhir_gender_codes_read_as_cdsi_genders() {
        assert_eq!(gender_of("female"), Gender::Female);
        assert_eq!(gender_of(" Male "), Gender::Male);
        assert_eq!(gender_of("other"), Gender::Unknown);
        assert_eq!(gender_of(""), Gender::Unknown);
    }
}
