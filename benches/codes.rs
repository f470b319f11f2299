//! Looking codes up in CDC's tables, as the form does on every key of a dose: an NDC
//! as typed (any of its printed forms) to its package and reported unit of use, a
//! pack's GTIN to its package, and a VIS by its barcode or its name to the edition of
//! the dose day.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vaxentry::codes::{ndc, vis};
use vaxentry::record::parse::parse_ndc;

fn lookups(c: &mut Criterion) {
    // The tables are read once, on first use, before timing.
    let _ = (ndc::all(), vis::documents());
    let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("date");
    c.bench_function("ndc_typed_to_reported", |b| {
        b.iter(|| {
            for typed in ["49281-0425-50", "49281-425-50", "4928142550", "58160082311"] {
                let digits = parse_ndc(black_box(typed)).expect("an NDC");
                black_box(ndc::find(&digits).map(|p| p.reported()));
            }
        })
    });
    c.bench_function("ndc_by_gtin", |b| {
        b.iter(|| black_box(ndc::by_gtin(black_box("00349281425509"))))
    });
    c.bench_function("vis_by_barcode", |b| {
        b.iter(|| black_box(vis::by_encoded(black_box("253088698300010311250131"))))
    });
    c.bench_function("vis_for_vaccine_on_day", |b| {
        b.iter(|| {
            let docs = vis::usual(black_box("110"));
            let editions: Vec<_> = docs.iter().filter_map(|d| d.edition_on(day)).collect();
            black_box(editions)
        })
    });
    c.bench_function("vis_by_name", |b| {
        b.iter(|| black_box(vis::named(black_box("hep b")).is_ok()))
    });
}

criterion_group!(benches, lookups);
criterion_main!(benches);
