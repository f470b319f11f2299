//! `vaxentry sync` throughput: 1,000 queued records sent to a local endpoint, and, in
//! the same run, a shell loop that POSTs the same 1,000 bundle files with curl one by
//! one, for comparison.

#[path = "../tests/common/fhir_records.rs"]
#[allow(dead_code)]
mod fhir_records;
#[path = "../tests/common/server.rs"]
#[allow(dead_code)]
mod server;

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;
use vaxentry::config::Config;
use vaxentry::delivery::sync;
use vaxentry::fhir::message_for;
use vaxentry::record::{FieldId, file};
use vaxentry::store::Store;
use vaxentry::submit::{Endpoint, Submitter};

const RECORDS: usize = 1000;

/// The bench's fixed clock (the local test server checks tokens against `now`).
fn clock() -> vaxentry::clock::Clock {
    vaxentry::clock::Clock::fixed("2026-11-25T15:30:00-05:00", chrono_tz::America::New_York)
        .expect("time")
}

fn now() -> vaxentry::clock::ClinicTime {
    clock().now()
}

/// A store with 1,000 queued visits (in a folder the caller removes), and their bundles.
fn queued_store() -> (Store, PathBuf, Vec<String>) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-bench-sync-{}", Uuid::new_v4()));
    let mut store = Store::open(&dir).expect("store");
    let mut visit =
        file::from_json(include_str!("../assets/examples/adult-flu.json")).expect("example");
    let settings = Config::default().bundle_settings();
    let now = clock().now();
    let mut bundles = Vec::new();
    for i in 0..RECORDS {
        visit.patient.set(FieldId::Mrn, format!("MRN-{i:05}"));
        let id = Uuid::new_v4();
        let message = message_for(&visit, &settings, now, id).expect("bundle");
        store.save(id, &visit, &message, now).expect("save");
        store.queue(id, now).expect("queue");
        bundles.push(message.json);
    }
    (store, dir, bundles)
}

fn submitter(server: &server::TestServer, connections: usize) -> Submitter {
    let config = Config::parse(&format!(
        "[endpoint]\nkind = \"fhir\"\nbase_url = \"{}/fhir\"\nconnections = {connections}\n",
        server.base_url()
    ))
    .expect("config");
    Submitter::new(
        Endpoint::from_config(config.endpoint.as_ref().expect("endpoint")).expect("endpoint"),
        clock(),
    )
}

/// The same 1,000 POSTs with curl, one process each, as a shell loop would.
fn curl_loop(server: &server::TestServer, bundles: &[String]) -> Option<Duration> {
    let dir: PathBuf = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-bench-curl-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).ok()?;
    for (i, b) in bundles.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:04}.json")), b).ok()?;
    }
    let script = format!(
        "for f in {}/*.json; do curl -sS -o /dev/null -X POST -H 'Content-Type: application/fhir+json' -H 'Accept: application/fhir+json' --data-binary @\"$f\" {}/fhir/\\$process-message || exit 1; done",
        dir.display(),
        server.base_url()
    );
    let start = Instant::now();
    let status = std::process::Command::new("bash")
        .args(["-c", &script])
        .status()
        .ok()?;
    let elapsed = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    status.success().then_some(elapsed)
}

fn sync_1000(c: &mut Criterion) {
    let server = server::TestServer::start();
    let mut sub = submitter(&server, 1);
    let mut group = c.benchmark_group("sync");
    group.sample_size(10);
    group.bench_function(
        "vaxentry sync: 1,000 queued records to a local endpoint",
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (mut store, dir, _) = queued_store();
                    let start = Instant::now();
                    let report = sync(&mut store, &mut sub, false, &mut |_, _| {}).expect("sync");
                    total += start.elapsed();
                    assert_eq!(report.sent, RECORDS);
                    drop(store);
                    let _ = std::fs::remove_dir_all(dir);
                }
                total
            })
        },
    );
    group.finish();

    // One measured pass of each, side by side, for the note: one connection, four,
    // and the curl loop.
    let mut passes = Vec::new();
    let mut bundles = Vec::new();
    for connections in [1, 4] {
        let mut sub = submitter(&server, connections);
        let (mut store, store_dir, queued) = queued_store();
        let start = Instant::now();
        sync(&mut store, &mut sub, false, &mut |_, _| {}).expect("sync");
        passes.push((connections, start.elapsed()));
        drop(store);
        let _ = std::fs::remove_dir_all(store_dir);
        bundles = queued;
    }
    let curl = curl_loop(&server, &bundles);
    for (connections, ours) in passes {
        let rate = RECORDS as f64 / ours.as_secs_f64();
        match curl {
            Some(curl) => eprintln!(
                "sync of {RECORDS} over {connections} connection(s): {:.2} s ({rate:.0} records/s); curl loop: {:.2} s ({:.0} records/s); {:.1}x faster",
                ours.as_secs_f64(),
                curl.as_secs_f64(),
                RECORDS as f64 / curl.as_secs_f64(),
                curl.as_secs_f64() / ours.as_secs_f64()
            ),
            None => eprintln!(
                "sync of {RECORDS} over {connections} connection(s): {:.2} s ({rate:.0} records/s); curl is not available for the comparison",
                ours.as_secs_f64()
            ),
        }
    }
}

criterion_group!(benches, sync_1000);
criterion_main!(benches);
