//! Saving one visit as users feel it: the transaction plus the exported bundle file,
//! both fsynced. (A large history is measured in `scale.rs`.)

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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = save
}
criterion_main!(benches);
