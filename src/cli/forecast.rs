//! `vaxentry forecast`: what is due for a patient by CDC's CDSi, from a history file
//! (`vaxentry-history/1`) or from what this station holds for an MRN (its doses and the
//! endpoint's last answer): a table a nurse reads at a glance, or JSON.

use super::records::fail;
use crate::clock::ClinicTime;
use crate::forecast::data::{SUPPORTING_DATA_VERSION, SupportingData, cvx_of};
use crate::forecast::{Assessment, DoseGiven, Gender, History, Observation, assess};
use crate::record::due::{self, gender_of, or_dash};
use crate::record::fields::FieldId;
use crate::record::file::{MOST_BYTES, read_text};
use crate::record::history::EndpointDose;
use crate::record::parse::parse_date;
use crate::store::Store;
use chrono::NaiveDate;
use serde_json::{Map, Value as Json, json};
use std::path::Path;
use std::process::ExitCode;

/// The history file's format name.
pub const HISTORY_FORMAT: &str = "vaxentry-history/1";

/// `vaxentry forecast FILE`.
pub fn from_file(path: &Path, as_of: Option<&str>, as_json: bool, now: ClinicTime) -> ExitCode {
    let read = read_text(path, 16 * MOST_BYTES).and_then(|text| {
        let value: Json = serde_json::from_str(&text)
            .map_err(|e| format!("not JSON ({e}); a history file is a {HISTORY_FORMAT} object"))?;
        read_history(&value)
    });
    let history = match read {
        Ok(history) => history,
        Err(why) => {
            err!("vaxentry forecast: {}: {why}", path.display());
            return ExitCode::from(super::UNREADABLE);
        }
    };
    let Some(as_of) = day(as_of, now) else {
        return ExitCode::from(super::UNREADABLE);
    };
    print(
        &history,
        &assess(SupportingData::cdc(), &history, as_of),
        as_json,
    );
    ExitCode::SUCCESS
}

/// `vaxentry forecast --mrn MRN`: the doses held here and those the endpoint last reported.
pub fn from_store(
    store: &Store,
    mrn: &str,
    as_of: Option<&str>,
    as_json: bool,
    now: ClinicTime,
) -> ExitCode {
    let mrn = mrn.trim();
    let patient = match store.patient(mrn) {
        Ok(Some(patient)) => patient,
        Ok(None) => {
            err!(
                "vaxentry forecast: no patient with MRN {mrn} is stored here; give a stored MRN, or a history file"
            );
            return ExitCode::from(super::UNREADABLE);
        }
        Err(e) => return fail(&e),
    };
    let Ok(birth_date) = parse_date(patient.get(FieldId::BirthDate), now.date_naive()) else {
        err!(
            "vaxentry forecast: the patient with MRN {mrn} has no readable birth date; correct it in the form"
        );
        return ExitCode::from(super::UNREADABLE);
    };
    let here = match store.doses_of(mrn) {
        Ok(doses) => doses,
        Err(e) => return fail(&e),
    };
    let endpoint = match store.endpoint_history(mrn) {
        Ok(history) => history,
        Err(e) => return fail(&e),
    };
    let theirs: Vec<EndpointDose> = endpoint
        .iter()
        .flat_map(|h| h.immunizations.iter().filter_map(EndpointDose::from_fhir))
        .collect();
    let known = due::known_before(&here, &theirs);
    let Some(as_of) = day(as_of, now) else {
        return ExitCode::from(super::UNREADABLE);
    };
    if !as_json {
        let asked = endpoint.as_ref().map_or(String::new(), |h| {
            format!(
                " and the endpoint's answer of {}",
                crate::clock::as_of(h.fetched_at, now)
            )
        });
        out!(
            "MRN {mrn}: {} dose(s) from those held here{asked}",
            known.len()
        );
    }
    let history = History {
        birth_date,
        gender: gender_of(patient.get(FieldId::Gender)),
        observations: due::observations_of(&patient),
        doses: known
            .iter()
            .map(|d| DoseGiven {
                cvx: d.cvx.clone(),
                mvx: None,
                date: d.given_on,
            })
            .collect(),
    };
    print(
        &history,
        &assess(SupportingData::cdc(), &history, as_of),
        as_json,
    );
    ExitCode::SUCCESS
}

/// The assessment day: `--as-of` as typed (any form the form takes), or today.
fn day(as_of: Option<&str>, now: ClinicTime) -> Option<NaiveDate> {
    let Some(raw) = as_of else {
        return Some(now.date_naive());
    };
    match parse_date(raw, now.date_naive()) {
        Ok(day) => Some(day),
        Err(why) => {
            err!("vaxentry forecast: --as-of {raw:?}: {why}");
            None
        }
    }
}

/// Reads a `vaxentry-history/1` object, naming the field of anything wrong.
pub fn read_history(value: &Json) -> Result<History, String> {
    let top = object(
        value,
        "the file",
        &["format", "patient", "observations", "doses"],
    )?;
    match top.get("format") {
        Some(Json::String(f)) if f == HISTORY_FORMAT => {}
        _ => return Err(format!("format: must be \"{HISTORY_FORMAT}\"")),
    }
    let patient = object(
        top.get("patient").unwrap_or(&Json::Null),
        "patient",
        &["birth_date", "gender"],
    )?;
    let birth_date = iso_date(patient.get("birth_date"), "patient.birth_date")?
        .ok_or("patient.birth_date: missing; write the birth date as YYYY-MM-DD")?;
    let gender = match patient.get("gender").and_then(Json::as_str) {
        Some("female") => Gender::Female,
        Some("male") => Gender::Male,
        Some("unknown" | "other") | None => Gender::Unknown,
        Some(other) => {
            return Err(format!(
                "patient.gender: {other:?} is not female, male or unknown"
            ));
        }
    };
    let mut observations = Vec::new();
    for (i, item) in list(top.get("observations"), "observations")?
        .iter()
        .enumerate()
    {
        let at = format!("observations[{i}]");
        let fields = object(item, &at, &["code", "date"])?;
        let code = fields
            .get("code")
            .and_then(Json::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if !SupportingData::cdc()
            .observations
            .iter()
            .any(|o| o.code == code)
        {
            return Err(format!(
                "{at}.code: {code:?} is not one of CDSi's coded observations (three digits, e.g. \"007\" pregnant); `vaxentry codes observation` lists them"
            ));
        }
        observations.push(Observation {
            code: code.to_string(),
            date: iso_date(fields.get("date"), &format!("{at}.date"))?,
        });
    }
    let mut doses = Vec::new();
    for (i, item) in list(top.get("doses"), "doses")?.iter().enumerate() {
        let at = format!("doses[{i}]");
        let fields = object(item, &at, &["vaccine", "mvx", "date"])?;
        let cvx = fields
            .get("vaccine")
            .and_then(Json::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if cvx_of(cvx).is_none_or(|n| !SupportingData::cdc().cvx.contains_key(&n)) {
            return Err(format!(
                "{at}.vaccine: {cvx:?} is not a CVX code CDSi knows; give the vaccine's CVX code"
            ));
        }
        let mvx = match fields.get("mvx") {
            None | Some(Json::Null) => None,
            Some(Json::String(m)) => Some(m.trim().to_string()),
            Some(_) => return Err(format!("{at}.mvx: must be the maker's MVX code as text")),
        };
        let date = iso_date(fields.get("date"), &format!("{at}.date"))?.ok_or(format!(
            "{at}.date: missing; write the day it was given as YYYY-MM-DD"
        ))?;
        doses.push(DoseGiven {
            cvx: cvx.to_string(),
            mvx,
            date,
        });
    }
    Ok(History {
        birth_date,
        gender,
        observations,
        doses,
    })
}

fn object<'a>(value: &'a Json, at: &str, known: &[&str]) -> Result<&'a Map<String, Json>, String> {
    let map = value
        .as_object()
        .ok_or(format!("{at}: must be a JSON object"))?;
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "{at}: unknown field {key:?} (known: {})",
            known.join(", ")
        )),
        None => Ok(map),
    }
}

fn list<'a>(value: Option<&'a Json>, at: &str) -> Result<&'a [Json], String> {
    match value {
        None | Some(Json::Null) => Ok(&[]),
        Some(Json::Array(items)) => Ok(items),
        Some(_) => Err(format!("{at}: must be a list")),
    }
}

fn iso_date(value: Option<&Json>, at: &str) -> Result<Option<NaiveDate>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("{at}: {text:?} is not a date; write YYYY-MM-DD")),
        Some(_) => Err(format!("{at}: must be a date as text, YYYY-MM-DD")),
    }
}

fn print(history: &History, assessment: &Assessment, as_json: bool) {
    if as_json {
        out!("{:#}", to_json(history, assessment));
        return;
    }
    out!(
        "As of {} (CDC CDSi, supporting data {SUPPORTING_DATA_VERSION})",
        assessment.as_of
    );
    out!("{}", due::summary(assessment, assessment.as_of));
    out!("");
    out!(
        "{:<16} {:<16} {:>4}  {:<10}  {:<11}  {:<10}  {:<10}",
        "Vaccine group",
        "Status",
        "Dose",
        "Earliest",
        "Recommended",
        "Past due",
        "Latest"
    );
    for g in &assessment.groups {
        let flag = if g.forecast.overdue_on(assessment.as_of) {
            "  overdue"
        } else if g.forecast.due_on(assessment.as_of) {
            "  due"
        } else {
            ""
        };
        out!(
            "{:<16} {:<16} {:>4}  {:<10}  {:<11}  {:<10}  {:<10}{flag}",
            g.group,
            g.forecast.status.to_string(),
            or_dash(g.forecast.dose_number),
            or_dash(g.forecast.earliest),
            or_dash(g.forecast.recommended),
            or_dash(g.forecast.past_due),
            or_dash(g.forecast.latest),
        );
    }
    if history.doses.is_empty() {
        return;
    }
    out!("");
    out!("Doses given:");
    for (dose, groups) in history.doses.iter().zip(&assessment.doses) {
        let judged: Vec<String> = groups
            .iter()
            .map(|g| match g.reason {
                Some(reason) => format!("{}: {} ({reason})", g.group, g.status),
                None => format!("{}: {}", g.group, g.status),
            })
            .collect();
        let judged = if judged.is_empty() {
            "counts in no vaccine group".to_string()
        } else {
            judged.join(" · ")
        };
        out!("  {}  CVX {:<4} {judged}", dose.date, dose.cvx);
    }
}

/// The JSON the users script against: doses in the input's order, groups in CDC's.
pub fn to_json(history: &History, assessment: &Assessment) -> Json {
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    json!({
        "as_of": assessment.as_of.to_string(),
        "supporting_data": SUPPORTING_DATA_VERSION,
        "doses": history.doses.iter().zip(&assessment.doses).map(|(dose, groups)| json!({
            "vaccine": dose.cvx,
            "date": dose.date.to_string(),
            "groups": groups.iter().map(|g| json!({
                "group": g.group,
                "status": g.status.to_string(),
                "reason": g.reason.map(|r| r.to_string()),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "groups": assessment.groups.iter().map(|g| json!({
            "group": g.group,
            "status": g.forecast.status.to_string(),
            "dose_number": g.forecast.dose_number,
            "earliest": date(g.forecast.earliest),
            "recommended": date(g.forecast.recommended),
            "past_due": date(g.forecast.past_due),
            "latest": date(g.forecast.latest),
        })).collect::<Vec<_>>(),
    })
}
