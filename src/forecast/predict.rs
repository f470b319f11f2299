//! The forecast of one evaluated series (CDSi chapter 7): whether another dose is
//! needed and, when it is, its earliest, recommended, past-due and latest dates.

use chrono::NaiveDate;

use super::data::{Series, SeriesDose, SkipContext};
use super::evaluate::{
    Context, Evaluated, Given, Target, age_rule, day_before, dose_at, reference_date, skips,
};
use super::{Forecast, SeriesStatus, Status};

/// Forecasts the series after its evaluation.
pub(super) fn predict(series: &Series, doses: &[Given], ev: &Evaluated, cx: &Context) -> Forecast {
    let mut ev = ev.clone();
    loop {
        let t = ev.next;
        let Some(target) = dose_at(series, t) else {
            return Forecast::done(if ev.valid_count() > 0 {
                SeriesStatus::Complete
            } else {
                SeriesStatus::NotRecommended
            });
        };
        let age = age_rule(target, cx.as_of);
        let min_age = age
            .and_then(|a| cx.age(a.min.or(a.abs_min)))
            .unwrap_or(cx.birth_date);
        let max_age = age.and_then(|a| cx.age(a.max));
        let intervals: Vec<_> = target
            .intervals
            .iter()
            .filter(|i| i.effective.covers(cx.as_of))
            .filter_map(|i| {
                reference_date(&i.from, doses.len(), doses, &ev, cx).map(|from| (i, from))
            })
            .collect();
        let at =
            |span: Option<super::span::Span>, from: NaiveDate| span.and_then(|s| s.after(from));
        let conflict_end = cx
            .data
            .conflicts
            .iter()
            .filter(|c| target.preferable.iter().any(|p| p.cvx == c.current))
            .flat_map(|c| {
                let ev = &ev;
                cx.all
                    .iter()
                    .filter(move |g| g.cvx == c.previous)
                    .filter_map(move |g| {
                        let end = if ev.counts_as_valid(doses, g.index) {
                            c.min_end
                        } else {
                            c.end
                        };
                        end.after(g.date)
                    })
            })
            .max();
        let season_start = target.season.and_then(|(start, _)| start);
        // The earliest date by intervals, conflicts and season, before the age sought.
        // No sooner than a dose given by mistake (a vaccine not meant for the patient).
        let inadvertent = doses
            .iter()
            .zip(&ev.outcomes)
            .filter(|(_, o)| o.1 == Some(super::Reason::Inadvertent))
            .map(|(d, _)| d.date)
            .max();
        let by_interval = [conflict_end, season_start, inadvertent]
            .into_iter()
            .chain(
                intervals
                    .iter()
                    .map(|(i, from)| at(i.min.or(i.abs_min), *from)),
            )
            .flatten()
            .max();
        let earliest = by_interval.map_or(min_age, |d| d.max(min_age));
        let overriding: Vec<_> = intervals.iter().filter(|(i, _)| i.overrides_age).collect();
        let latest_of = |pick: &dyn Fn(&super::data::Interval) -> Option<super::span::Span>,
                         list: &[&(&super::data::Interval, NaiveDate)]| {
            list.iter().filter_map(|(i, from)| at(pick(i), *from)).max()
        };
        let all: Vec<_> = intervals.iter().collect();
        let recommended_by_interval = latest_of(&|i| i.earliest_recommended, &all);
        let past_due_by_interval = latest_of(&|i| i.latest_recommended, &all);
        // An overriding interval sets the recommended dates before age does.
        let by_override = |pick: &dyn Fn(&super::data::Interval) -> Option<super::span::Span>| {
            if overriding.is_empty() {
                None
            } else {
                latest_of(pick, &overriding)
            }
        };
        let recommended = by_override(&|i| i.earliest_recommended)
            .or_else(|| age.and_then(|a| cx.age(a.earliest_recommended)))
            .or(recommended_by_interval)
            .unwrap_or(earliest)
            .max(earliest);
        let past_due = by_override(&|i| i.latest_recommended)
            .or_else(|| age.and_then(|a| cx.age(a.latest_recommended)))
            .or(past_due_by_interval)
            .map(|d| day_before(d).max(earliest));
        let latest = max_age.map(day_before);
        // "At the earliest forecast date": by intervals and conflicts, not by the age sought.
        let reference = by_interval.map_or(cx.as_of, |d| d.max(cx.as_of));
        if skips(
            target,
            SkipContext::Forecast,
            reference,
            cx.as_of,
            doses.len(),
            doses,
            &ev,
            cx,
        ) {
            ev.targets.push(Target::Skipped);
            ev.next += 1;
            continue;
        }
        if max_age.is_some_and(|max| cx.as_of >= max)
            || latest.is_some_and(|latest| earliest > latest)
        {
            return Forecast::done(SeriesStatus::AgedOut);
        }
        return Forecast {
            status: SeriesStatus::NotComplete,
            dose_number: Some(dose_number(target, doses, &ev)),
            earliest: Some(earliest),
            recommended: Some(recommended),
            past_due,
            latest,
        };
    }
}

/// The number CDC gives the dose forecast: one past the series doses satisfied; for a
/// seasonal dose (influenza, COVID-19), one past the doses that counted this season.
fn dose_number(target: &SeriesDose, doses: &[Given], ev: &Evaluated) -> usize {
    match target.season {
        Some((start, end)) if target.recurring => {
            let this_season = doses.iter().zip(&ev.outcomes).filter(|(dose, outcome)| {
                outcome.0 == Status::Valid
                    && start.is_none_or(|s| dose.date >= s)
                    && end.is_none_or(|e| dose.date <= e)
            });
            this_season.count() + 1
        }
        _ => ev.distinct_satisfied() + 1,
    }
}
