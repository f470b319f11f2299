//! Evaluating the doses given against one antigen series (CDSi chapter 6): each dose in
//! turn against the target dose it might satisfy, by conditional skip, inadvertent
//! vaccine, age, interval, live-virus conflict and vaccine type.

use chrono::NaiveDate;

use super::data::{
    AgeRule, ConditionKind, CountLogic, Interval, IntervalFrom, Series, SeriesDose, SkipCondition,
    SkipContext, SupportingData,
};
use super::span::{Span, shift};
use super::{Outcome, Reason, Status};

/// A dose given, as the engine reads it.
#[derive(Debug, Clone)]
pub(super) struct Given {
    /// Its place in the caller's list.
    pub index: usize,
    pub date: NaiveDate,
    pub cvx: u32,
}

/// What the evaluation of one series needs besides the series.
pub(super) struct Context<'a> {
    pub data: &'a SupportingData,
    pub birth_date: NaiveDate,
    pub as_of: NaiveDate,
    /// Every dose the patient was given, of any antigen, by date.
    pub all: &'a [Given],
    /// The patient's observations: CDSi code and, when known, its date.
    pub observations: &'a [(String, Option<NaiveDate>)],
    /// The series groups of this antigen with a complete series so far.
    pub completed_groups: Vec<String>,
}

impl Context<'_> {
    pub fn age(&self, span: Option<Span>) -> Option<NaiveDate> {
        span.and_then(|s| s.after(self.birth_date))
    }
}

/// The state of one target dose of a series after evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// Satisfied by the antigen dose at this position.
    Satisfied(usize),
    Skipped,
}

/// One series evaluated: an outcome per antigen dose and the targets reached.
#[derive(Debug, Clone)]
pub(super) struct Evaluated {
    pub outcomes: Vec<Outcome>,
    pub targets: Vec<Target>,
    /// The series dose now sought (0-based): a recurring dose, once satisfied, is sought again.
    pub next: usize,
    /// The series doses (0-based) satisfied, each once.
    pub satisfied_doses: Vec<usize>,
}

impl Evaluated {
    /// Whether the patient's dose `index` counts as valid in this series (a dose of
    /// another antigen is taken as valid).
    pub fn counts_as_valid(&self, doses: &[Given], index: usize) -> bool {
        doses
            .iter()
            .position(|d| d.index == index)
            .and_then(|p| self.outcomes.get(p))
            .is_none_or(|(status, _)| *status == Status::Valid)
    }

    /// How many of the series' doses were satisfied, a recurring dose once.
    pub fn distinct_satisfied(&self) -> usize {
        self.satisfied_doses.len()
    }

    pub fn valid_count(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| matches!(t, Target::Satisfied(_)))
            .count()
    }
}

/// The series dose at `t` (0-based).
pub(super) fn dose_at(series: &Series, t: usize) -> Option<&SeriesDose> {
    series.doses.get(t)
}

/// The age rule in force on `date`.
pub(super) fn age_rule(dose: &SeriesDose, date: NaiveDate) -> Option<&AgeRule> {
    dose.ages
        .iter()
        .find(|a| a.effective.covers(date))
        .or(dose.ages.first())
}

/// Evaluates the antigen's doses (by date) against the series.
pub(super) fn evaluate(series: &Series, doses: &[Given], cx: &Context) -> Evaluated {
    let mut ev = Evaluated {
        outcomes: Vec::with_capacity(doses.len()),
        targets: Vec::new(),
        next: 0,
        satisfied_doses: Vec::new(),
    };
    let mut previous_failed_age_or_interval = false;
    for (pos, dose) in doses.iter().enumerate() {
        while let Some(target) = dose_at(series, ev.next) {
            if target.recurring
                || !skips(
                    target,
                    SkipContext::Evaluation,
                    dose.date,
                    dose.date,
                    pos,
                    doses,
                    &ev,
                    cx,
                )
            {
                break;
            }
            ev.targets.push(Target::Skipped);
            ev.next += 1;
        }
        let outcome = match dose_at(series, ev.next) {
            None => (Status::Extraneous, Some(Reason::SeriesComplete)),
            Some(target) => judge(target, pos, doses, &ev, previous_failed_age_or_interval, cx),
        };
        previous_failed_age_or_interval = matches!(
            outcome.1,
            Some(
                Reason::TooYoung
                    | Reason::TooYoungAndTooSoon
                    | Reason::TooSoon
                    | Reason::TooSoonAndLiveVirusConflict
            )
        );
        if outcome.0 == Status::Valid {
            ev.targets.push(Target::Satisfied(pos));
            if !ev.satisfied_doses.contains(&ev.next) {
                ev.satisfied_doses.push(ev.next);
            }
            if !series.doses[ev.next].recurring {
                ev.next += 1;
            }
        }
        ev.outcomes.push(outcome);
    }
    ev
}

fn judge(
    target: &SeriesDose,
    pos: usize,
    doses: &[Given],
    ev: &Evaluated,
    previous_failed: bool,
    cx: &Context,
) -> Outcome {
    let dose = &doses[pos];
    if target.inadvertent.contains(&dose.cvx) {
        return (Status::NotValid, Some(Reason::Inadvertent));
    }
    let first = ev.targets.is_empty();
    if let Some(age) = age_rule(target, dose.date) {
        let abs_min = cx.age(age.abs_min).unwrap_or(cx.birth_date);
        let min = cx.age(age.min).unwrap_or(abs_min);
        if dose.date < abs_min || (dose.date < min && !first && previous_failed) {
            // CDSi keeps every reason a dose fails for: the interval is judged too.
            let reason = if interval_ok(target, pos, doses, ev, previous_failed, cx) {
                Reason::TooYoung
            } else {
                Reason::TooYoungAndTooSoon
            };
            return (Status::NotValid, Some(reason));
        }
        if cx.age(age.max).is_some_and(|max| dose.date >= max) {
            return (Status::Extraneous, Some(Reason::TooOld));
        }
    }
    if !interval_ok(target, pos, doses, ev, previous_failed, cx) {
        let reason = if live_virus_conflict(dose, doses, ev, cx) {
            Reason::TooSoonAndLiveVirusConflict
        } else {
            Reason::TooSoon
        };
        return (Status::NotValid, Some(reason));
    }
    if live_virus_conflict(dose, doses, ev, cx) {
        return (Status::NotValid, Some(Reason::LiveVirusConflict));
    }
    let allowed = |rules: &[super::data::VaccineRule]| {
        rules.iter().any(|r| {
            r.cvx == dose.cvx
                && cx.age(r.begin_age).is_none_or(|begin| dose.date >= begin)
                && cx.age(r.end_age).is_none_or(|end| dose.date < end)
        })
    };
    if !allowed(&target.preferable) && !allowed(&target.allowable) {
        return (Status::NotValid, Some(Reason::NotAllowedVaccine));
    }
    (Status::Valid, None)
}

/// The date an interval counts from, when there is one.
pub(super) fn reference_date(
    from: &IntervalFrom,
    before: usize,
    doses: &[Given],
    ev: &Evaluated,
    cx: &Context,
) -> Option<NaiveDate> {
    match from {
        IntervalFrom::Previous => (0..before)
            .rev()
            .find(|&p| {
                matches!(ev.outcomes.get(p), Some((Status::Valid | Status::NotValid, reason))
                    if *reason != Some(Reason::Inadvertent))
            })
            .map(|p| doses[p].date),
        IntervalFrom::TargetDose(n) => match ev.targets.get(n.checked_sub(1)?) {
            Some(Target::Satisfied(p)) => Some(doses[*p].date),
            _ => None,
        },
        IntervalFrom::MostRecent(cvxs) => {
            let limit = doses.get(before).map(|d| (d.date, d.index));
            cx.all
                .iter()
                .filter(|g| limit.is_none_or(|l| (g.date, g.index) < l) && cvxs.contains(&g.cvx))
                .map(|g| g.date)
                .max()
        }
        IntervalFrom::Observation(code) => cx
            .observations
            .iter()
            .filter(|(c, _)| c == code)
            .filter_map(|(_, date)| *date)
            .max(),
    }
}

fn interval_ok(
    target: &SeriesDose,
    pos: usize,
    doses: &[Given],
    ev: &Evaluated,
    previous_failed: bool,
    cx: &Context,
) -> bool {
    let date = doses[pos].date;
    let passes = |interval: &Interval, grace: bool| {
        let Some(from) = reference_date(&interval.from, pos, doses, ev, cx) else {
            return true;
        };
        let at = |s: Option<Span>| s.and_then(|s| s.after(from)).unwrap_or(from);
        let abs_min = at(interval.abs_min);
        date >= abs_min && (grace || date >= at(interval.min.or(interval.abs_min)))
    };
    let preferable: Vec<&Interval> = target
        .intervals
        .iter()
        .filter(|i| i.effective.covers(date))
        .collect();
    if preferable.iter().all(|i| passes(i, !previous_failed)) {
        return true;
    }
    let allowable: Vec<&Interval> = target
        .allowable_intervals
        .iter()
        .filter(|i| i.effective.covers(date))
        .collect();
    !allowable.is_empty() && allowable.iter().all(|i| passes(i, true))
}

fn live_virus_conflict(dose: &Given, doses: &[Given], ev: &Evaluated, cx: &Context) -> bool {
    cx.data
        .conflicts
        .iter()
        .filter(|c| c.current == dose.cvx)
        .any(|conflict| {
            cx.all
                .iter()
                .filter(|g| g.cvx == conflict.previous && g.date < dose.date)
                .any(|previous| {
                    let valid = ev.counts_as_valid(doses, previous.index);
                    let end = if valid {
                        conflict.min_end
                    } else {
                        conflict.end
                    };
                    let begins = conflict.begin.after(previous.date).unwrap_or(previous.date);
                    let ends = end.after(previous.date).unwrap_or(previous.date);
                    begins <= dose.date && dose.date < ends
                })
        })
}

/// Whether a target dose may be skipped, in a context, on a reference date.
/// `before` is how many of the antigen's doses come before the reference.
#[allow(clippy::too_many_arguments)]
pub(super) fn skips(
    target: &SeriesDose,
    context: SkipContext,
    reference: NaiveDate,
    relevant_on: NaiveDate,
    before: usize,
    doses: &[Given],
    ev: &Evaluated,
    cx: &Context,
) -> bool {
    target
        .skips
        .iter()
        .filter(|skip| skip.context == context || skip.context == SkipContext::Both)
        .any(|skip| {
            let sets = skip.sets.iter().filter(|s| s.effective.covers(relevant_on));
            let met = |set: &super::data::SkipSet| {
                let mut conditions = set.conditions.iter();
                let holds = |c: &SkipCondition| condition_met(c, reference, before, doses, ev, cx);
                if set.any_condition {
                    conditions.any(holds)
                } else {
                    !set.conditions.is_empty() && conditions.all(holds)
                }
            };
            let mut sets = sets.peekable();
            if sets.peek().is_none() {
                return false;
            }
            if skip.any_set {
                sets.any(&met)
            } else {
                sets.all(met)
            }
        })
}

fn condition_met(
    c: &SkipCondition,
    reference: NaiveDate,
    before: usize,
    doses: &[Given],
    ev: &Evaluated,
    cx: &Context,
) -> bool {
    let within_ages = |date: NaiveDate| {
        cx.age(c.begin_age).is_none_or(|begin| date >= begin)
            && cx.age(c.end_age).is_none_or(|end| date < end)
    };
    let within_dates = |date: NaiveDate| {
        c.start_date.is_none_or(|start| date >= start) && c.end_date.is_none_or(|end| date < end)
    };
    match c.kind {
        ConditionKind::Age => within_ages(reference),
        ConditionKind::CompletedSeries => c
            .series_groups
            .iter()
            .any(|g| cx.completed_groups.contains(g)),
        ConditionKind::Interval => before
            .checked_sub(1)
            .and_then(|p| doses.get(p))
            .zip(c.interval)
            .is_some_and(|(previous, interval)| {
                interval
                    .after(previous.date)
                    .is_some_and(|due| reference >= due)
            }),
        ConditionKind::CountByAge
        | ConditionKind::CountByDate
        | ConditionKind::CountByDateAndAge => {
            let count = doses[..before.min(doses.len())]
                .iter()
                .enumerate()
                .filter(|(p, d)| {
                    (c.vaccine_types.is_empty() || c.vaccine_types.contains(&d.cvx))
                        && (!c.valid_only
                            || ev.outcomes.get(*p).is_some_and(|o| o.0 == Status::Valid))
                        && match c.kind {
                            ConditionKind::CountByAge => within_ages(d.date),
                            ConditionKind::CountByDate => within_dates(d.date),
                            _ => within_ages(d.date) && within_dates(d.date),
                        }
                })
                .count() as u32;
            match c.logic {
                CountLogic::GreaterThan => count > c.dose_count,
                CountLogic::EqualTo => count == c.dose_count,
                CountLogic::LessThan => count < c.dose_count,
            }
        }
    }
}

/// One day before `date`.
pub(super) fn day_before(date: NaiveDate) -> NaiveDate {
    shift(date, -1)
}
