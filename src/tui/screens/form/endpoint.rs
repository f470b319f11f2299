//! What the endpoint holds for the patient in the form: its doses, from the copy kept
//! in the store at once and then from the endpoint's own answer, shown apart from the
//! doses stored here, and the doses being entered that it most likely has already.

use super::Form;
use crate::clock::{ClinicTime, as_of};
use crate::fhir::is_record_id;
use crate::record::history::{EndpointDose, check_endpoint_doses};
use crate::record::{FieldId, Finding};
use crate::store::endpoint_history::EndpointHistory;
use crate::tui::sync::HistoryAnswer;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use uuid::Uuid;

/// What the endpoint said about the patient looked up, and why it could not be asked
/// (or read whole) when it could not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EndpointState {
    pub view: Option<EndpointView>,
    pub problem: Option<String>,
}

/// The endpoint's doses for one patient, and when it said so.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointView {
    pub mrn: String,
    pub as_of: DateTime<Utc>,
    pub doses: Vec<EndpointDose>,
    /// The identifiers among them that the visit in the form sent (an amendment reads
    /// its own doses back), found once rather than at each keystroke's check.
    pub sent_here: HashSet<String>,
    /// The endpoint's answer of this session, not the copy kept from before.
    pub fresh: bool,
}

impl EndpointView {
    /// What the endpoint said, read for the visit `visit` in the form.
    fn of(mrn: &str, history: &EndpointHistory, fresh: bool, visit: Uuid) -> EndpointView {
        let doses: Vec<EndpointDose> = history
            .immunizations
            .iter()
            .filter_map(EndpointDose::from_fhir)
            .collect();
        let sent_here = doses
            .iter()
            .flat_map(|d| &d.identifiers)
            .filter(|id| is_record_id(visit, id))
            .cloned()
            .collect();
        EndpointView {
            mrn: mrn.to_string(),
            as_of: history.fetched_at,
            doses,
            sent_here,
            fresh,
        }
    }
}

impl Form {
    /// The copy of the endpoint's answer kept in the store for `mrn`, while the
    /// endpoint is asked again.
    pub fn endpoint_kept(&mut self, mrn: &str, kept: Option<EndpointHistory>, now: ClinicTime) {
        if self.returning.looked_up.as_deref() != Some(mrn) {
            return;
        }
        self.endpoint = EndpointState {
            view: kept.map(|history| EndpointView::of(mrn, &history, false, self.visit_id)),
            problem: None,
        };
        self.touch();
        self.refresh(now);
    }

    /// The endpoint answered (dropped when another patient is in the form by now).
    pub fn endpoint_answered(&mut self, answer: HistoryAnswer, now: ClinicTime) {
        if self.returning.looked_up.as_deref() != Some(answer.mrn.as_str()) {
            return;
        }
        match answer.result {
            Ok(history) => {
                self.endpoint = EndpointState {
                    view: Some(EndpointView::of(&answer.mrn, &history, true, self.visit_id)),
                    problem: answer.incomplete,
                };
            }
            // What was kept stays shown, with its age, marked as not this answer.
            Err(why) => {
                if let Some(view) = self.endpoint.view.as_mut() {
                    view.fresh = false;
                }
                self.endpoint.problem = Some(why);
            }
        }
        self.touch();
        self.refresh(now);
    }

    /// Forgets the endpoint's doses (another patient, or a new visit).
    pub(super) fn forget_endpoint(&mut self) {
        self.endpoint = EndpointState::default();
    }

    /// Doses being entered that the endpoint most likely has already, for doses the
    /// store has not flagged already.
    pub(super) fn endpoint_findings(&self, flagged: &[Finding], now: ClinicTime) -> Vec<Finding> {
        let mrn = self.visit.patient.get(FieldId::Mrn).trim();
        let Some(view) = self.endpoint.view.as_ref().filter(|v| v.mrn == mrn) else {
            return Vec::new();
        };
        let sent_here = |id: &str| view.sent_here.contains(id);
        // With a birth date, CDSi judges intervals from the whole history (see `due`).
        let by_interval = !self.forecasts();
        check_endpoint_doses(&self.visit, &view.doses, &sent_here, by_interval, now)
            .into_iter()
            .filter(|f| !flagged.iter().any(|g| g.at == f.at && g.rule == f.rule))
            .collect()
    }

    /// The endpoint's doses for the patient, newest first, in a few words, apart from
    /// the doses stored here: "Endpoint 15:30 today: 140 on 2026-10-01 (+2)",
    /// "Endpoint 15:30 today: no doses", or that it was not reached.
    pub fn endpoint_doses(&self, now: ClinicTime) -> Option<String> {
        let view = self.endpoint.view.as_ref();
        let problem = self.endpoint.problem.as_ref();
        let Some(view) = view else {
            return problem.map(|why| format!("Endpoint: {}", short_problem(why)));
        };
        let stale = match (view.fresh, problem) {
            (false, Some(_)) => ", not reached now",
            _ => "",
        };
        let mut given: Vec<&EndpointDose> = view.doses.iter().filter(|d| d.was_given()).collect();
        given.sort_by_key(|d| std::cmp::Reverse(d.given_on));
        let doses = match given.as_slice() {
            [] => "no doses".to_string(),
            [only] => only.describe(),
            [newest, rest @ ..] => format!("{} (+{})", newest.describe(), rest.len()),
        };
        Some(format!(
            "Endpoint {}{stale}: {doses}",
            as_of(view.as_of, now)
        ))
    }
}

/// What went wrong in a few words, for the panel: the first clause of the reason,
/// "does not offer an Immunization search (HTTP 404)" or "not reached".
fn short_problem(why: &str) -> String {
    let why = why
        .trim_start_matches("not delivered: ")
        .trim_start_matches("the endpoint ");
    let first = why.split([':', ';']).next().unwrap_or(why).trim();
    match first {
        "" => "not reached".to_string(),
        first => first.to_string(),
    }
}
