//! What is due: CDC's Clinical Decision Support for Immunization (CDSi), evaluating each
//! dose given against CDC's antigen series and forecasting the next, from CDC's own
//! supporting data. Pure: the assessment date is an input, never the clock.
//!
//! `data` reads CDC's XML; `span` does CDC's date arithmetic; `evaluate` judges doses
//! against one series; `predict` forecasts one series; `select` picks the series that
//! speaks for an antigen; this module joins antigens into CDC's vaccine groups.

pub mod data;
mod evaluate;
mod predict;
mod select;
pub mod span;

use std::fmt;

use chrono::NaiveDate;

use data::{SeriesKind, SupportingData};
use evaluate::{Context, Given};
use select::Candidate;

/// The patient's sex as CDSi's series need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Unknown,
}

/// A CDSi coded observation (a condition, history or circumstance), with its date when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub code: String,
    pub date: Option<NaiveDate>,
}

/// A dose given: its CVX (as written, "03" or "3"), maker and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseGiven {
    pub cvx: String,
    pub mvx: Option<String>,
    pub date: NaiveDate,
}

/// Everything the engine needs about a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub birth_date: NaiveDate,
    pub gender: Gender,
    pub observations: Vec<Observation>,
    pub doses: Vec<DoseGiven>,
}

/// How a dose counts toward a vaccine group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Valid,
    NotValid,
    Extraneous,
    SubStandard,
}

/// Why a dose does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    TooYoung,
    /// Too young, and too soon after an earlier dose as well.
    TooYoungAndTooSoon,
    TooOld,
    TooSoon,
    /// Too soon after an earlier dose, and in conflict with a live vaccine as well.
    TooSoonAndLiveVirusConflict,
    LiveVirusConflict,
    Inadvertent,
    NotAllowedVaccine,
    SeriesComplete,
}

/// A dose's evaluation in one antigen series.
type Outcome = (Status, Option<Reason>);

/// Where a patient stands in a vaccine group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStatus {
    NotComplete,
    Complete,
    AgedOut,
    Immune,
    Contraindicated,
    NotRecommended,
}

/// A dose's status in one vaccine group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseInGroup {
    pub group: &'static str,
    pub status: Status,
    pub reason: Option<Reason>,
}

/// Where a series or a vaccine group stands, and its next dose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub status: SeriesStatus,
    /// The next dose, counted from 1 among the doses that count.
    pub dose_number: Option<usize>,
    pub earliest: Option<NaiveDate>,
    pub recommended: Option<NaiveDate>,
    pub past_due: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

impl Forecast {
    /// No dose needed, for this reason.
    fn done(status: SeriesStatus) -> Forecast {
        Forecast {
            status,
            dose_number: None,
            earliest: None,
            recommended: None,
            past_due: None,
            latest: None,
        }
    }

    /// Due on `day`: needed and past its recommended date.
    pub fn due_on(&self, day: NaiveDate) -> bool {
        self.status == SeriesStatus::NotComplete && self.recommended.is_some_and(|r| r <= day)
    }

    /// Overdue on `day`: past its past-due date.
    pub fn overdue_on(&self, day: NaiveDate) -> bool {
        self.status == SeriesStatus::NotComplete && self.past_due.is_some_and(|p| p < day)
    }
}

/// The forecast of one vaccine group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupForecast {
    pub group: &'static str,
    pub forecast: Forecast,
}

/// The assessment of a history on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub as_of: NaiveDate,
    /// One entry per dose given, in the history's order.
    pub doses: Vec<Vec<DoseInGroup>>,
    /// One entry per vaccine group with a series for this patient, in CDC's order.
    pub groups: Vec<GroupForecast>,
}

impl Assessment {
    pub fn group(&self, name: &str) -> Option<&GroupForecast> {
        self.groups.iter().find(|g| g.group == name)
    }
}

/// Evaluates every dose and forecasts every vaccine group on `as_of`.
pub fn assess(data: &'static SupportingData, history: &History, as_of: NaiveDate) -> Assessment {
    let mut all: Vec<Given> = history
        .doses
        .iter()
        .enumerate()
        .filter(|(_, d)| d.date <= as_of)
        .filter_map(|(index, d)| {
            Some(Given {
                index,
                date: d.date,
                cvx: data::cvx_of(&d.cvx)?,
            })
        })
        .collect();
    all.sort_by_key(|g| (g.date, g.index));
    let observations: Vec<(String, Option<NaiveDate>)> = history
        .observations
        .iter()
        .map(|o| (o.code.clone(), o.date))
        .collect();
    let mut dose_groups: Vec<Vec<(usize, DoseInGroup)>> = vec![Vec::new(); history.doses.len()];
    let mut groups = Vec::new();
    for group in &data.groups {
        let mut forecasts: Vec<Forecast> = Vec::new();
        let mut per_dose: Vec<Vec<Outcome>> = vec![Vec::new(); history.doses.len()];
        for antigen_name in &group.antigens {
            let Some(antigen) = data.antigen(antigen_name) else {
                continue;
            };
            let doses: Vec<Given> = all
                .iter()
                .filter(|g| {
                    data.cvx.get(&g.cvx).is_some_and(|list| {
                        list.iter().any(|a| {
                            &a.antigen == antigen_name
                                && a.begin_age
                                    .and_then(|s| s.after(history.birth_date))
                                    .is_none_or(|b| g.date >= b)
                                && a.end_age
                                    .and_then(|s| s.after(history.birth_date))
                                    .is_none_or(|e| g.date < e)
                        })
                    })
                })
                .cloned()
                .collect();
            let Some((chosen, evaluated)) =
                assess_antigen(data, antigen, history, &all, &doses, &observations, as_of)
            else {
                continue;
            };
            for (dose, outcome) in doses.iter().zip(&evaluated) {
                per_dose[dose.index].push(*outcome);
            }
            forecasts.push(chosen);
        }
        if forecasts.is_empty() {
            continue;
        }
        let name: &'static str = group.name.as_str();
        for (index, outcomes) in per_dose.iter().enumerate() {
            if let Some(worst) = combine(outcomes) {
                dose_groups[index].push((
                    groups.len(),
                    DoseInGroup {
                        group: name,
                        status: worst.0,
                        reason: worst.1,
                    },
                ));
            }
        }
        groups.push(join(group, &forecasts));
    }
    Assessment {
        as_of,
        doses: dose_groups
            .into_iter()
            .map(|list| list.into_iter().map(|(_, d)| d).collect())
            .collect(),
        groups,
    }
}

/// A dose's outcome in a group from its outcome in each antigen: valid only where valid in all.
fn combine(outcomes: &[Outcome]) -> Option<Outcome> {
    outcomes
        .iter()
        .copied()
        .find(|o| o.0 == Status::NotValid)
        .or_else(|| {
            outcomes
                .iter()
                .copied()
                .find(|o| o.0 == Status::Valid)
                .or_else(|| outcomes.first().copied())
        })
}

/// A vaccine group's forecast from its antigens' forecasts. A group given whole (MMR)
/// waits for the last of its antigens; another (DTaP/Tdap/Td) is due with the first.
fn join(group: &'static data::VaccineGroup, forecasts: &[Forecast]) -> GroupForecast {
    let name = group.name.as_str();
    let needing: Vec<&Forecast> = forecasts
        .iter()
        .filter(|f| f.status == SeriesStatus::NotComplete)
        .collect();
    let status = if !needing.is_empty() {
        SeriesStatus::NotComplete
    } else if forecasts.iter().all(|f| f.status == forecasts[0].status) {
        forecasts[0].status
    } else if forecasts.iter().any(|f| f.status == SeriesStatus::Complete) {
        SeriesStatus::Complete
    } else {
        forecasts[0].status
    };
    let first = needing.iter().min_by_key(|f| f.earliest).copied();
    let forecast = if !group.administer_full || needing.len() <= 1 {
        match first {
            Some(first) => Forecast {
                status,
                ..first.clone()
            },
            None => Forecast::done(status),
        }
    } else {
        // Given whole: the dose is the one the antigen furthest behind needs, when that
        // antigen wants it, and no sooner than every antigen can take it.
        let behind = needing.iter().min_by_key(|f| f.dose_number).copied();
        let earliest = needing.iter().filter_map(|f| f.earliest).max();
        Forecast {
            status,
            dose_number: behind.and_then(|f| f.dose_number),
            earliest,
            recommended: behind.and_then(|f| f.recommended).max(earliest),
            past_due: behind
                .and_then(|f| f.past_due)
                .map(|d| d.max(earliest.unwrap_or(d))),
            latest: needing.iter().filter_map(|f| f.latest).min(),
        }
    };
    GroupForecast {
        group: name,
        forecast,
    }
}

/// One antigen: its relevant series evaluated and forecast, and the one chosen.
/// Returns the chosen forecast and each antigen dose's outcome in the chosen series.
fn assess_antigen(
    data: &'static SupportingData,
    antigen: &data::Antigen,
    history: &History,
    all: &[Given],
    doses: &[Given],
    observations: &[(String, Option<NaiveDate>)],
    as_of: NaiveDate,
) -> Option<(Forecast, Vec<Outcome>)> {
    let has = |code: &str| observations.iter().any(|(c, _)| c == code);
    let age = |span: Option<span::Span>| span.and_then(|s| s.after(history.birth_date));
    let gender = match history.gender {
        Gender::Female => "Female",
        Gender::Male => "Male",
        Gender::Unknown => "Unknown",
    };
    let mut relevant: Vec<&data::Series> = antigen
        .series
        .iter()
        .filter(|s| s.required_gender.as_deref().is_none_or(|g| g == gender))
        .filter(|s| match s.kind {
            SeriesKind::Standard => true,
            SeriesKind::EvaluationOnly => false,
            SeriesKind::Risk => s.indications.iter().any(|i| {
                has(&i.code)
                    && age(i.begin_age).is_none_or(|b| as_of >= b)
                    && age(i.end_age).is_none_or(|e| as_of < e)
            }),
        })
        .collect();
    if relevant.is_empty() {
        return None;
    }
    relevant.sort_by(|a, b| a.group.cmp(&b.group));
    let mut cx = Context {
        data,
        birth_date: history.birth_date,
        as_of,
        all,
        observations,
        completed_groups: Vec::new(),
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    for series in relevant {
        let evaluated = evaluate::evaluate(series, doses, &cx);
        let predicted = predict::predict(series, doses, &evaluated, &cx);
        if predicted.status == SeriesStatus::Complete
            && !cx.completed_groups.contains(&series.group)
        {
            cx.completed_groups.push(series.group.clone());
        }
        candidates.push(Candidate {
            series,
            evaluated,
            predicted,
            dates: doses.iter().map(|d| d.date).collect(),
        });
    }
    let chosen = select::choose(&candidates, &cx)?;
    let Candidate {
        evaluated,
        mut predicted,
        ..
    } = candidates.swap_remove(chosen);
    let immune = antigen.immunity.guideline_codes.iter().any(|c| has(c))
        || antigen.immunity.birth_date.is_some_and(|date| {
            history.birth_date < date && !antigen.immunity.exclusion_codes.iter().any(|c| has(c))
        });
    let contraindicated = antigen.contraindications.iter().any(|c| {
        c.vaccines.is_empty()
            && has(&c.code)
            && age(c.begin_age).is_none_or(|b| as_of >= b)
            && age(c.end_age).is_none_or(|e| as_of < e)
    });
    if immune {
        predicted = Forecast::done(SeriesStatus::Immune);
    } else if contraindicated && predicted.status == SeriesStatus::NotComplete {
        predicted = Forecast::done(SeriesStatus::Contraindicated);
    }
    Some((predicted, evaluated.outcomes))
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Valid => "Valid",
            Status::NotValid => "Not Valid",
            Status::Extraneous => "Extraneous",
            Status::SubStandard => "Sub standard",
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::TooYoung => "too young",
            Reason::TooYoungAndTooSoon => "too young, and too soon after an earlier dose",
            Reason::TooOld => "too old",
            Reason::TooSoon => "too soon after an earlier dose",
            Reason::TooSoonAndLiveVirusConflict => {
                "too soon after an earlier dose, and too soon after a live vaccine"
            }
            Reason::LiveVirusConflict => "live virus conflict",
            Reason::Inadvertent => "inadvertent vaccine",
            Reason::NotAllowedVaccine => "not a preferable or allowable vaccine",
            Reason::SeriesComplete => "series already complete",
        })
    }
}

impl fmt::Display for SeriesStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SeriesStatus::NotComplete => "Not Complete",
            SeriesStatus::Complete => "Complete",
            SeriesStatus::AgedOut => "Aged Out",
            SeriesStatus::Immune => "Immune",
            SeriesStatus::Contraindicated => "Contraindicated",
            SeriesStatus::NotRecommended => "Not Recommended",
        })
    }
}
