//! The database as users feel it: saving one visit (transaction plus the exported
//! bundle file, both fsynced), filtering the history over 100,000 visits, and
//! starting up to the first frame with 100,000 visits in the database.

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use vaxentry::config::Config;
use vaxentry::fhir::message_for;
use vaxentry::record::{FieldId, Visit, file};
use vaxentry::store::{DATABASE_FILE, ListQuery, Store, Summary};
use vaxentry::tui::app::App;
use vaxentry::tui::view;

const RECORDS: usize = 100_000;
const FAMILIES: [&str; 20] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
];
const VACCINES: [&str; 6] = ["140", "115", "309", "187", "03", "165"];

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

/// A database with 100,000 saved visits, written in one transaction for speed.
fn big_database() -> PathBuf {
    let dir = temp("big");
    drop(Store::open(&dir).expect("store"));
    let mut conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).expect("open");
    let tx = conn.transaction().expect("tx");
    let settings = Config::default().bundle_settings();
    let template = example();
    let bundle = message_for(&template, &settings, now(), Uuid::new_v4())
        .expect("bundle")
        .json;
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO visits (id, state, record_json, bundle_json, bundle_id, created_at, updated_at, mrn, patient_name, vaccines, visit_date, search)
                 VALUES (?1, 'saved', ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .expect("prepare");
        for i in 0..RECORDS {
            let mut visit = template.clone();
            visit.patient.set(FieldId::Mrn, format!("MRN-{i:06}"));
            visit
                .patient
                .set(FieldId::Family, FAMILIES[i % FAMILIES.len()]);
            visit.patient.set(FieldId::Given, format!("Pat{}", i % 997));
            visit.doses[0].set(FieldId::Vaccine, VACCINES[i % VACCINES.len()]);
            let s = Summary::of(&visit, now());
            let stamp = format!(
                "2026-{:02}-{:02}T{:02}:{:02}:00.000-05:00",
                1 + i % 11,
                1 + i % 28,
                i % 24,
                i % 60
            );
            insert
                .execute(rusqlite::params![
                    Uuid::new_v4().to_string(),
                    file::to_json(&visit),
                    bundle,
                    Uuid::new_v4().to_string(),
                    stamp,
                    s.mrn,
                    s.patient_name,
                    s.vaccines,
                    s.visit_date,
                    s.search
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    dir
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

fn history_and_startup(c: &mut Criterion) {
    let dir = big_database();
    let store = Store::open(&dir).expect("store");
    let query = |text: &str| ListQuery {
        text: text.into(),
        limit: 100,
        ..ListQuery::default()
    };
    c.bench_function(
        "history filter over 100,000 visits: 'garcia' (many matches)",
        |b| b.iter(|| black_box(store.list(&query("garcia")).expect("list"))),
    );
    c.bench_function(
        "history filter over 100,000 visits: 'mrn-099999' (one match)",
        |b| b.iter(|| black_box(store.list(&query("mrn-099999")).expect("list"))),
    );
    c.bench_function(
        "history filter over 100,000 visits: 'zzz' (no match)",
        |b| b.iter(|| black_box(store.list(&query("zzz")).expect("list"))),
    );
    drop(store);
    c.bench_function(
        "startup to first frame with 100,000 visits (open, draft check, draw)",
        |b| b.iter(|| black_box(first_frame(&dir))),
    );
    // The database is large (hundreds of MB): do not leave it behind.
    let _ = std::fs::remove_dir_all(&dir);
}

fn first_frame(dir: &Path) -> usize {
    let store = Store::open(dir).expect("store");
    let draft = store.latest_draft().expect("draft");
    let app = App::new(now(), Config::default().bundle_settings(), (120, 40), true);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    terminal
        .draw(|f| {
            view::draw(f, &app);
        })
        .expect("draw");
    usize::from(draft.is_some())
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = save, history_and_startup
}
criterion_main!(benches);
