//! CDC's CDSi at the clinic's pace: reading the supporting data at first use (target
//! 20 ms), and evaluating and forecasting a patient with 30 doses across the vaccine
//! groups (target 1 ms).

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vaxentry::forecast::data::SupportingData;
use vaxentry::forecast::{DoseGiven, Gender, History, assess};

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// A teenager's full childhood record: 30 doses across thirteen vaccine groups.
fn thirty_doses() -> History {
    let doses = [
        ("08", "2010-01-01"),
        ("110", "2010-03-01"),
        ("116", "2010-03-01"),
        ("133", "2010-03-01"),
        ("49", "2010-03-01"),
        ("110", "2010-05-01"),
        ("116", "2010-05-01"),
        ("133", "2010-05-01"),
        ("49", "2010-05-01"),
        ("110", "2010-07-01"),
        ("116", "2010-07-01"),
        ("133", "2010-07-01"),
        ("141", "2010-10-01"),
        ("03", "2011-01-01"),
        ("21", "2011-01-01"),
        ("83", "2011-01-01"),
        ("133", "2011-01-01"),
        ("48", "2011-04-01"),
        ("20", "2011-04-01"),
        ("83", "2011-07-01"),
        ("141", "2011-10-01"),
        ("130", "2014-01-15"),
        ("94", "2014-01-15"),
        ("141", "2014-10-01"),
        ("150", "2020-10-01"),
        ("115", "2021-02-01"),
        ("62", "2021-02-01"),
        ("114", "2021-02-01"),
        ("62", "2021-09-01"),
        ("187", "2026-01-10"),
    ];
    History {
        birth_date: day("2010-01-01"),
        gender: Gender::Female,
        observations: Vec::new(),
        doses: doses
            .iter()
            .map(|(cvx, date)| DoseGiven {
                cvx: (*cvx).into(),
                mvx: None,
                date: day(date),
            })
            .collect(),
    }
}

fn benches(c: &mut Criterion) {
    c.bench_function("read CDC's CDSi supporting data", |b| {
        b.iter(|| black_box(SupportingData::read_compiled().expect("reads")))
    });
    let data = SupportingData::cdc();
    let history = thirty_doses();
    let as_of = day("2026-12-03");
    c.bench_function("forecast a patient with 30 doses", |b| {
        b.iter(|| black_box(assess(data, black_box(&history), as_of)))
    });
}

criterion_group!(forecast, benches);
criterion_main!(forecast);
