//! `vaxentry history MRN`: the patient's doses in this database and, with an endpoint
//! configured, as the endpoint has them: asked now and kept, or, when it cannot be
//! reached, what it said last time and when.

use super::records::fail;
use crate::clock::{Clock, as_of};
use crate::config::Config;
use crate::delivery::ask_history;
use crate::record::history::EndpointDose;
use crate::record::identity::short_id;
use crate::store::Store;
use crate::store::endpoint_history::EndpointHistory;
use crate::submit::Submitter;
use serde_json::json;
use std::process::ExitCode;

/// What the endpoint said this time: its answer, or why there is none.
struct Asked {
    history: Option<EndpointHistory>,
    /// Read just now (not the copy kept from before).
    fresh: bool,
    problem: Option<String>,
    incomplete: Option<String>,
}

pub fn history(
    store: &mut Store,
    config: &Config,
    mrn: &str,
    json: bool,
    clock: Clock,
) -> ExitCode {
    let mrn = match crate::submit::search::check_mrn(mrn) {
        Ok(mrn) => mrn,
        Err(why) => {
            err!("vaxentry history: {why}; give the patient's MRN");
            return ExitCode::from(2);
        }
    };
    let here = match store.doses_of(mrn) {
        Ok(doses) => doses,
        Err(e) => return fail(&e),
    };
    let asked = ask_endpoint(store, config, mrn, clock);
    let now = clock.now();
    let endpoint_doses: Vec<EndpointDose> = asked
        .history
        .iter()
        .flat_map(|h| h.immunizations.iter().filter_map(EndpointDose::from_fhir))
        .collect();
    if json {
        let value = json!({
            "mrn": mrn,
            "here": here.iter().map(|d| json!({
                "visit": d.visit.to_string(),
                "vaccine": d.key.vaccine,
                "given_on": d.key.given_on.to_string(),
                "lot": d.key.lot,
            })).collect::<Vec<_>>(),
            "endpoint": asked.history.as_ref().map(|h| json!({
                "as_of": h.fetched_at.with_timezone(&now.timezone()).to_rfc3339(),
                "fresh": asked.fresh,
                "incomplete": asked.incomplete,
                "immunizations": h.immunizations,
            })),
            "problem": asked.problem,
        });
        out!("{value:#}");
    } else {
        out!("MRN {mrn}");
        out!("Here ({} dose(s) in this database):", here.len());
        for dose in &here {
            out!(
                "  {}  CVX {:<4} lot {:<12} visit {}",
                dose.key.given_on,
                dose.key.vaccine,
                if dose.key.lot.is_empty() {
                    "-"
                } else {
                    &dose.key.lot
                },
                short_id(dose.visit)
            );
        }
        if let Some(h) = &asked.history {
            out!(
                "From the endpoint, as of {} ({} dose(s)):",
                as_of(h.fetched_at, now),
                endpoint_doses.len()
            );
            for dose in &endpoint_doses {
                out!(
                    "  {}  {:<8} {:<17} lot {}",
                    dose.given_on
                        .map_or("(no date)".to_string(), |d| d.to_string()),
                    match &dose.cvx {
                        Some(cvx) => format!("CVX {cvx}"),
                        None => dose.vaccine.clone(),
                    },
                    dose.status,
                    if dose.lot.is_empty() { "-" } else { &dose.lot }
                );
            }
        }
        if let Some(why) = &asked.incomplete {
            err!("vaxentry history: {why}");
        }
    }
    match asked.problem {
        Some(problem) => {
            let kept = match &asked.history {
                Some(h) => format!("; shown: what it said as of {}", as_of(h.fetched_at, now)),
                None => String::new(),
            };
            err!("vaxentry history: {problem}{kept}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}

/// Asks the endpoint, keeping its answer; when it cannot be asked, what it said last.
fn ask_endpoint(store: &mut Store, config: &Config, mrn: &str, clock: Clock) -> Asked {
    let endpoint = match crate::submit::configured_endpoint(config) {
        None => return kept(store, mrn, None),
        Some(Err(e)) => return kept(store, mrn, Some(e)),
        Some(Ok(endpoint)) => endpoint,
    };
    let submitter = Submitter::new(endpoint, clock);
    let system = config.bundle_settings().mrn_system;
    match ask_history(store, &submitter, &system, mrn) {
        Ok(fetched) => {
            if let Some(why) = fetched.not_kept {
                err!("vaxentry history: the answer could not be kept: {why}");
            }
            Asked {
                history: Some(fetched.history),
                fresh: true,
                problem: None,
                incomplete: fetched.incomplete,
            }
        }
        Err(why) => kept(
            store,
            mrn,
            Some(format!("the endpoint could not be asked: {why}")),
        ),
    }
}

/// What the endpoint said last time, with why it was not asked now.
fn kept(store: &Store, mrn: &str, problem: Option<String>) -> Asked {
    match store.endpoint_history(mrn) {
        Ok(history) => Asked {
            history,
            fresh: false,
            problem,
            incomplete: None,
        },
        Err(e) => Asked {
            history: None,
            fresh: false,
            problem: Some(format!("{e:#}")),
            incomplete: None,
        },
    }
}
