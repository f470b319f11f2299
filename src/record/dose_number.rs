//! The dose number a new dose most likely is, from the doses known before it: per
//! CDC vaccine group (a combination vaccine counts in each of its groups), and for
//! the vaccines given each season (influenza, COVID-19) within the season, July to
//! June. It is a suggestion from what this station knows, never a forecast: a
//! combination whose groups disagree gets none.

use crate::codes::groups::groups_of;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeSet;

/// A dose known to have been given: its CVX code and day.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KnownDose {
    pub cvx: String,
    pub given_on: NaiveDate,
}

/// The groups whose doses are counted within one season.
const SEASONAL: [&str; 2] = ["Influenza", "COVID-19"];

/// The number of a dose of `cvx` given on `on` after the `known` doses (the same
/// dose listed twice counts once; doses on or after `on` do not count), and how many
/// known doses it counted; `None` for a code in no group, or a combination whose
/// groups count differently.
pub fn dose_number(cvx: &str, on: NaiveDate, known: &[KnownDose]) -> Option<(u32, usize)> {
    let groups = groups_of(cvx);
    let known: BTreeSet<&KnownDose> = known.iter().filter(|k| k.given_on < on).collect();
    let mut counts = groups.iter().map(|group| {
        known
            .iter()
            .filter(|k| groups_of(&k.cvx).contains(group))
            .filter(|k| !SEASONAL.contains(&group.as_str()) || season(k.given_on) == season(on))
            .count()
    });
    let first = counts.next()?;
    if counts.any(|n| n != first) {
        return None;
    }
    let number = u32::try_from(first).ok()?.checked_add(1)?;
    Some((number, known.len()))
}

/// The season a day is in, named by the year it starts (July 1 to June 30).
fn season(day: NaiveDate) -> i32 {
    match day.month() {
        7.. => day.year(),
        _ => day.year() - 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dose(cvx: &str, on: &str) -> KnownDose {
        KnownDose {
            cvx: cvx.into(),
            given_on: on.parse().unwrap(),
        }
    }

    fn day(on: &str) -> NaiveDate {
        on.parse().unwrap()
    }

    #[test]
    fn a_dose_counts_the_known_doses_of_its_group_before_it() {
        let known = [dose("08", "2026-09-20"), dose("110", "2026-11-25")];
        assert_eq!(
            dose_number("45", day("2026-11-25"), &known),
            Some((2, 1)),
            "HepB"
        );
        assert_eq!(dose_number("45", day("2027-01-25"), &known), Some((3, 2)));
        // Twice the same dose is one.
        let twice = [dose("08", "2026-09-20"), dose("08", "2026-09-20")];
        assert_eq!(dose_number("08", day("2026-11-25"), &twice), Some((2, 1)));
        // Nothing known: the first.
        assert_eq!(dose_number("20", day("2026-11-25"), &[]), Some((1, 0)));
        // A dose on the same day or later is not before it.
        assert_eq!(dose_number("08", day("2026-09-20"), &twice), Some((1, 0)));
    }

    #[test]
    fn a_combination_gets_a_number_only_when_its_groups_agree() {
        // 110 is DTaP, HepB and polio: after a birth dose of HepB alone they disagree.
        let birth = [dose("08", "2026-09-20")];
        assert_eq!(dose_number("110", day("2026-11-25"), &birth), None);
        let both = [dose("08", "2026-09-20"), dose("110", "2026-11-25")];
        assert_eq!(dose_number("110", day("2027-01-25"), &both), None);
        let after_110 = [dose("110", "2026-11-25")];
        assert_eq!(
            dose_number("110", day("2027-01-25"), &after_110),
            Some((2, 1))
        );
        assert_eq!(
            dose_number("not a code", day("2027-01-25"), &after_110),
            None
        );
    }

    #[test]
    fn influenza_and_covid_count_within_the_season() {
        let known = [
            dose("140", "2025-10-01"),
            dose("140", "2026-06-30"),
            dose("309", "2025-10-01"),
        ];
        assert_eq!(dose_number("140", day("2026-07-01"), &known), Some((1, 3)));
        assert_eq!(dose_number("141", day("2026-06-30"), &known), Some((2, 2)));
        assert_eq!(dose_number("309", day("2026-10-01"), &known), Some((1, 3)));
        assert_eq!(dose_number("309", day("2026-01-01"), &known), Some((2, 2)));
    }
}
