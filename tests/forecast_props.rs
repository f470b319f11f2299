//! The CDSi engine on any history: it never panics, whatever the dates, codes and
//! observations, and the same history on the same day gives the same answer.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use vaxentry::forecast::data::SupportingData;
use vaxentry::forecast::{DoseGiven, Gender, History, Observation, assess};

fn day(offset: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1930, 1, 1).unwrap() + Days::new(u64::from(offset))
}

/// CVX codes CDSi knows, and a few it does not.
fn cvx() -> impl Strategy<Value = String> {
    let known: Vec<String> = SupportingData::cdc()
        .cvx
        .keys()
        .map(|c| format!("{c:02}"))
        .collect();
    prop_oneof![
        4 => proptest::sample::select(known),
        1 => "[0-9]{1,3}",
        1 => ".{0,4}",
    ]
}

fn history() -> impl Strategy<Value = (History, NaiveDate)> {
    let observations: Vec<String> = SupportingData::cdc()
        .observations
        .iter()
        .map(|o| o.code.clone())
        .collect();
    (
        0u32..40_000,
        prop_oneof![
            Just(Gender::Female),
            Just(Gender::Male),
            Just(Gender::Unknown)
        ],
        proptest::collection::vec(
            (
                proptest::sample::select(observations),
                proptest::option::of(0u32..45_000),
            ),
            0..3,
        ),
        proptest::collection::vec((cvx(), 0u32..45_000), 0..30),
        0u32..45_000,
    )
        .prop_map(|(birth, gender, observations, doses, as_of)| {
            let history = History {
                birth_date: day(birth),
                gender,
                observations: observations
                    .into_iter()
                    .map(|(code, date)| Observation {
                        code,
                        date: date.map(day),
                    })
                    .collect(),
                doses: doses
                    .into_iter()
                    .map(|(cvx, date)| DoseGiven {
                        cvx,
                        mvx: None,
                        date: day(date),
                    })
                    .collect(),
            };
            (history, day(as_of))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_history_is_assessed_the_same_way_twice((history, as_of) in history()) {
        let data = SupportingData::cdc();
        let first = assess(data, &history, as_of);
        prop_assert_eq!(first.doses.len(), history.doses.len(), "one entry per dose given");
        prop_assert_eq!(&first, &assess(data, &history, as_of));
        for group in &first.groups {
            if let (Some(earliest), Some(recommended)) = (group.forecast.earliest, group.forecast.recommended) {
                prop_assert!(earliest <= recommended, "{:?}", group);
            }
            if let (Some(earliest), Some(past_due)) = (group.forecast.earliest, group.forecast.past_due) {
                prop_assert!(earliest <= past_due, "{:?}", group);
            }
        }
    }
}
