//! Choosing the series that speaks for an antigen (CDSi chapter 8): within each series
//! group the one series prioritized or best scored, then the best of the groups.

use chrono::{Datelike as _, NaiveDate};

use super::data::Series;
use super::evaluate::{Context, Evaluated, Target};
use super::{Forecast, SeriesStatus};

/// A relevant series, evaluated and forecast.
pub(super) struct Candidate<'a> {
    pub series: &'a Series,
    pub evaluated: Evaluated,
    pub predicted: Forecast,
    /// The date of each antigen dose (by position), to date the series' doses.
    pub dates: Vec<NaiveDate>,
}

impl Candidate<'_> {
    fn complete(&self) -> bool {
        self.predicted.status == SeriesStatus::Complete
    }
    fn valid(&self) -> usize {
        self.evaluated.valid_count()
    }
    fn in_process(&self) -> bool {
        self.valid() > 0 && !self.complete()
    }
    fn first_valid(&self) -> Option<NaiveDate> {
        self.evaluated.targets.iter().find_map(|t| match t {
            Target::Satisfied(p) => self.dates.get(*p).copied(),
            Target::Skipped => None,
        })
    }
    fn last_valid(&self) -> Option<NaiveDate> {
        self.evaluated.targets.iter().rev().find_map(|t| match t {
            Target::Satisfied(p) => self.dates.get(*p).copied(),
            Target::Skipped => None,
        })
    }
    fn product_all_valid(&self) -> bool {
        self.series.product
            && !self.evaluated.outcomes.is_empty()
            && self
                .evaluated
                .outcomes
                .iter()
                .all(|o| o.0 == super::Status::Valid)
    }
    fn completeable(&self) -> bool {
        matches!(
            self.predicted.status,
            SeriesStatus::NotComplete | SeriesStatus::Complete
        )
    }
    fn remaining(&self) -> usize {
        self.series.doses.len().saturating_sub(self.evaluated.next)
    }
}

/// The index of the candidate chosen for the antigen, if any.
pub(super) fn choose(candidates: &[Candidate], cx: &Context) -> Option<usize> {
    let mut groups: Vec<&str> = candidates.iter().map(|c| c.series.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    let chosen: Vec<(usize, bool)> = groups
        .iter()
        .filter_map(|g| choose_in_group(candidates, g, cx))
        .collect();
    // A series group none of whose series the patient can start (the 75-and-over RSV
    // series for a child) speaks only when no group can, or when it is complete.
    let any_scorable = chosen.iter().any(|(_, scorable)| *scorable);
    let best: Vec<usize> = chosen
        .into_iter()
        .filter(|(i, scorable)| *scorable || !any_scorable || candidates[*i].complete())
        .map(|(i, _)| i)
        .collect();
    let rank = |i: &usize| match candidates[*i].predicted.status {
        SeriesStatus::Complete | SeriesStatus::Immune => 0,
        SeriesStatus::NotComplete if candidates[*i].valid() > 0 => 1,
        SeriesStatus::NotComplete => 2,
        _ => 3,
    };
    best.iter()
        .copied()
        .min_by_key(|i| (rank(i), candidates[*i].series.group.clone()))
}

/// The series chosen in one series group, and whether any of its series was scorable.
fn choose_in_group(candidates: &[Candidate], group: &str, cx: &Context) -> Option<(usize, bool)> {
    let relevant: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].series.group == group)
        .collect();
    // Started by the first valid dose, or today; a maximum age to start binds only a
    // series already started (CDC forecasts a late starter on the standard series), and
    // a minimum age to start does not bind a series the doses have completed (an HPV
    // 3-dose series started at 9, under the schedule before the 2-dose one).
    let starts_in_range = |i: &usize| {
        let c = &candidates[*i];
        let first = c.first_valid();
        (c.complete()
            || cx
                .age(c.series.min_age_to_start)
                .is_none_or(|min| first.unwrap_or(cx.as_of) >= min))
            && first.is_none_or(|start| {
                cx.age(c.series.max_age_to_start)
                    .is_none_or(|max| start < max)
            })
    };
    let in_range: Vec<usize> = relevant.iter().copied().filter(starts_in_range).collect();
    let top = in_range
        .iter()
        .map(|i| candidates[*i].series.priority.as_str())
        .min();
    let scorable: Vec<usize> = in_range
        .iter()
        .copied()
        .filter(|i| Some(candidates[*i].series.priority.as_str()) == top)
        .collect();
    let default = |list: &[usize]| list.iter().copied().find(|i| candidates[*i].series.default);
    if scorable.is_empty() {
        return default(&relevant)
            .or(relevant.first().copied())
            .map(|i| (i, false));
    }
    if scorable.len() == 1 {
        return Some((scorable[0], true));
    }
    let complete: Vec<usize> = scorable
        .iter()
        .copied()
        .filter(|i| candidates[*i].complete())
        .collect();
    if complete.len() == 1 {
        return Some((complete[0], true));
    }
    let in_process: Vec<usize> = scorable
        .iter()
        .copied()
        .filter(|i| candidates[*i].in_process())
        .collect();
    if complete.is_empty() && in_process.len() == 1 {
        return Some((in_process[0], true));
    }
    let none_valid = scorable.iter().all(|i| candidates[*i].valid() == 0);
    if none_valid && let Some(d) = default(&scorable) {
        return Some((d, true));
    }
    let pool = if complete.len() >= 2 {
        complete
    } else if in_process.len() >= 2 {
        in_process
    } else {
        scorable
    };
    let mut scores = vec![0i32; pool.len()];
    let mut award = |hits: Vec<bool>, only: i32, tied: i32, not: i32| {
        let count = hits.iter().filter(|h| **h).count();
        for (score, hit) in scores.iter_mut().zip(hits) {
            *score += match (hit, count) {
                (true, 1) => only,
                (true, _) => tied,
                (false, _) => not,
            };
        }
    };
    let when = |test: &dyn Fn(usize) -> bool| pool.iter().map(|i| test(*i)).collect::<Vec<bool>>();
    let most = |f: &dyn Fn(usize) -> i64| {
        let values: Vec<i64> = pool.iter().map(|i| f(*i)).collect();
        let best = values.iter().copied().max().unwrap_or(0);
        values.into_iter().map(|v| v == best).collect::<Vec<bool>>()
    };
    let valid = |i: usize| candidates[i].valid() as i64;
    let finish = |i: usize| {
        -(candidates[i]
            .last_valid()
            .map_or(i64::MAX, |d| i64::from(d.num_days_from_ce())))
    };
    let next = |i: usize| {
        -(candidates[i]
            .predicted
            .earliest
            .map_or(i64::MAX, |d| i64::from(d.num_days_from_ce())))
    };
    if pool.iter().all(|i| candidates[*i].complete()) {
        award(most(&valid), 1, 0, -1);
        award(when(&|i| candidates[i].product_all_valid()), 1, 0, -1);
        award(most(&finish), 2, 1, -1);
    } else if pool.iter().any(|i| candidates[*i].valid() > 0) {
        award(when(&|i| candidates[i].product_all_valid()), 2, 0, -2);
        award(when(&|i| candidates[i].completeable()), 3, 0, -3);
        award(most(&valid), 2, 0, -2);
        award(most(&|i| -(candidates[i].remaining() as i64)), 2, 0, -2);
        award(most(&next), 1, 0, -1);
    } else {
        award(most(&next), 1, 0, -1);
        award(when(&|i| candidates[i].completeable()), 1, 0, -1);
        award(when(&|i| candidates[i].series.product), -1, 0, 1);
    }
    pool.iter()
        .copied()
        .zip(scores)
        .max_by_key(|(i, score)| (*score, std::cmp::Reverse(candidates[*i].series.preference)))
        .map(|(i, _)| (i, true))
}
