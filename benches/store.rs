//! Saving one visit as users feel it: the transaction plus the exported bundle file,
//! both fsynced; and reading the lot inventory as choosing a vaccine does. (A large
//! history is measured in `scale.rs`.)

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;
use uuid::Uuid;
use vaxentry::config::Config;
use vaxentry::fhir::message_for;
use vaxentry::record::{Visit, file};
use vaxentry::store::Store;

fn now() -> vaxentry::clock::ClinicTime {
    vaxentry::clock::Clock::fixed("2026-11-25T15:30:00-05:00", chrono_tz::America::New_York)
        .expect("time")
        .now()
}

fn example() -> Visit {
    file::from_json(include_str!("../assets/examples/adult-flu.json")).expect("example")
}

fn temp(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-bench-{name}-{}", Uuid::new_v4()))
}

fn save(c: &mut Criterion) {
    let dir = temp("save");
    let mut store = Store::open(&dir).expect("store");
    let visit = example();
    let settings = Config::default().bundle_settings();
    c.bench_function(
        "save one visit (transaction + exported bundle file, fsync)",
        |b| {
            b.iter(|| {
                let id = Uuid::new_v4();
                let message = message_for(&visit, &settings, now(), id).expect("bundle");
                black_box(store.save(id, &visit, &message, now()).expect("save"));
            })
        },
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Lots a busy clinic gathers over years: 100 vaccines with 50 lots each, a fifth of
/// them retired. The form reads the lots on hand at start and after each save.
fn lot_lookup(c: &mut Criterion) {
    let dir = temp("lots");
    let mut store = Store::open(&dir).expect("store");
    for vaccine in 0..100 {
        for n in 0..50 {
            let lot = vaxentry::store::lots::Lot {
                vaccine: format!("{}", 100 + vaccine),
                lot: format!("L{vaccine:03}-{n:02}"),
                manufacturer: "PMC".into(),
                expiration: format!("2027-{:02}-28", 1 + n % 12),
                ndc: String::new(),
                dose_ml: String::new(),
                last_used: now().to_utc(),
                retired: false,
            };
            store.add_lot(&lot, now()).expect("lot");
            if n % 5 == 0 {
                store
                    .retire_lot(&lot.vaccine, &lot.lot, now())
                    .expect("retire");
            }
        }
    }
    c.bench_function("lots on hand, all 5,000 lots of 100 vaccines", |b| {
        b.iter(|| black_box(store.lots(None, false).expect("lots")))
    });
    c.bench_function("lots on hand for one vaccine (of 5,000 lots)", |b| {
        b.iter(|| black_box(store.lots(Some("140"), false).expect("lots")))
    });
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = save, lot_lookup
}
criterion_main!(benches);
