//! A large history: 100,000 visits (or `VAXENTRY_BENCH_VISITS`, e.g. 1000000) and their
//! patients, built in SQL from one saved visit in seconds, then measured as users feel
//! it: the history filter, returning-patient suggestions and start-up (criterion), and
//! one timed run each of the real binary's
//! `list --jsonl`, `export` and `import` of 10,000 record files. The database and
//! every file are removed afterwards.

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use uuid::Uuid;
use vaxentry::config::Config;
use vaxentry::fhir::message_for;
use vaxentry::record::{FieldId, Visit, file};
use vaxentry::store::{DATABASE_FILE, ListQuery, Store, Summary};
use vaxentry::tui::app::App;
use vaxentry::tui::view;

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
const NOW: &str = "2026-11-25T15:30:00-05:00";

fn visits() -> usize {
    std::env::var("VAXENTRY_BENCH_VISITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn now() -> vaxentry::clock::ClinicTime {
    vaxentry::clock::Clock::fixed(NOW, chrono_tz::America::New_York)
        .expect("time")
        .now()
}

fn example() -> Visit {
    file::from_json(include_str!("../assets/examples/adult-flu.json")).expect("example")
}

fn temp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vaxentry-bench-{name}-{}", Uuid::new_v4()))
}

/// The search text of a visit's vaccine part (as `Summary` writes it), per vaccine.
fn vaccine_search_texts() -> Vec<(usize, String, String)> {
    VACCINES
        .iter()
        .enumerate()
        .map(|(k, code)| {
            let mut visit = example();
            for field in [FieldId::Mrn, FieldId::Family, FieldId::Given] {
                visit.patient.set(field, "");
            }
            visit.doses[0].set(FieldId::Vaccine, *code);
            (
                k,
                code.to_string(),
                Summary::of(&visit, now()).search.trim().to_string(),
            )
        })
        .collect()
}

/// A database of `n` saved visits: one saved through the store, copied in SQL with
/// its own ids, MRN, name, vaccine, time and search text (the triggers index each).
fn big_database(n: usize) -> PathBuf {
    let dir = temp("scale");
    let mut store = Store::open(&dir).expect("store");
    let template = example();
    let id = Uuid::new_v4();
    let message =
        message_for(&template, &Config::default().bundle_settings(), now(), id).expect("bundle");
    store.save(id, &template, &message, now()).expect("save");
    drop(store);
    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).expect("open");
    let tx = conn.transaction().expect("tx");
    tx.execute_batch("CREATE TEMP TABLE families (k INTEGER, name TEXT); CREATE TEMP TABLE vaccines (k INTEGER, code TEXT, search TEXT);")
        .expect("temp tables");
    for (k, name) in FAMILIES.iter().enumerate() {
        tx.execute(
            "INSERT INTO families VALUES (?1, ?2)",
            rusqlite::params![k as i64, name],
        )
        .expect("family");
    }
    for (k, code, search) in vaccine_search_texts() {
        tx.execute(
            "INSERT INTO vaccines VALUES (?1, ?2, ?3)",
            rusqlite::params![k as i64, code, search],
        )
        .expect("vaccine");
    }
    let uuid = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";
    tx.execute(
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
                 rows AS (SELECT i, 'MRN-' || printf('%07d', i) AS mrn, f.name || ', Pat' || (i % 997) AS patient,
                                 v.code, v.search AS vaccine_search,
                                 strftime('%Y-%m-%dT%H:%M:%f', '2024-01-01', '+' || (i * 60) || ' seconds') || 'Z' AS at
                          FROM n JOIN families f ON f.k = i % 20 JOIN vaccines v ON v.k = i % 6)
             INSERT INTO visits (id, state, record_json, bundle_json, bundle_id, created_at, updated_at,
                                 mrn, patient_name, vaccines, visit_date, search)
             SELECT {uuid}, 'saved', t.record_json, t.bundle_json, {uuid}, at, at, mrn, patient, code,
                    substr(at, 1, 10), lower(mrn || ' ' || patient || ' ' || substr(at, 1, 10) || ' ' || vaccine_search)
             FROM rows, (SELECT record_json, bundle_json FROM visits LIMIT 1) t"
        ),
        [n as i64 - 1],
    )
    .expect("generate");
    // Each generated visit's patient, as a save stores it (the template's record).
    tx.execute(
        "INSERT OR IGNORE INTO patients (mrn, family, given, birth_date, record_json, updated_at)
         SELECT mrn, substr(patient_name, 1, instr(patient_name, ',') - 1),
                substr(patient_name, instr(patient_name, ',') + 2), '1987-03-14',
                (SELECT record_json FROM patients LIMIT 1), updated_at
         FROM visits",
        [],
    )
    .expect("patients");
    tx.commit().expect("commit");
    eprintln!(
        "built a database of {n} visits in {:.1} s: {} MB",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(dir.join(DATABASE_FILE))
            .map(|m| m.len() >> 20)
            .unwrap_or(0)
    );
    dir
}

/// Runs the real binary on the data folder, output thrown away; the time it took.
fn timed(dir: &Path, args: &[&str]) -> f64 {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_vaxentry"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("VAXENTRY_NOW", NOW)
        .env("TZ", "America/New_York")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(status.success(), "vaxentry {args:?}: {status}");
    started.elapsed().as_secs_f64()
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

fn large_history(c: &mut Criterion) {
    let n = visits();
    let dir = big_database(n);
    let store = Store::open(&dir).expect("store");
    let query = |text: &str| ListQuery {
        text: text.into(),
        limit: 100,
        ..ListQuery::default()
    };
    let one = format!("mrn-{:07}", n - 7);
    for (what, text) in [
        ("many matches", "garcia"),
        ("one match", one.as_str()),
        ("no match", "zzz"),
        ("two letters, no match", "zq"),
    ] {
        c.bench_function(
            &format!("history filter over {n} visits: '{text}' ({what})"),
            |b| b.iter(|| black_box(store.list(&query(text)).expect("list"))),
        );
    }
    for (what, typed) in [
        ("an MRN", one.to_uppercase()),
        ("a family name's start", "garc".to_string()),
        ("nothing stored", "zzz".to_string()),
    ] {
        c.bench_function(
            &format!("returning patient over {n} patients: {what} ('{typed}')"),
            |b| b.iter(|| black_box(store.patients_matching(&typed, 3).expect("patients"))),
        );
    }
    drop(store);
    c.bench_function(
        &format!("startup to first frame with {n} visits (open, draft check, draw)"),
        |b| b.iter(|| black_box(first_frame(&dir))),
    );

    let list = timed(&dir, &["list", "--jsonl"]);
    let out = temp("export");
    let export = timed(&dir, &["export", "--out", out.to_str().expect("path")]);
    let _ = std::fs::remove_dir_all(&out);
    let records = temp("records");
    std::fs::create_dir_all(&records).expect("records folder");
    let mut record: serde_json::Value =
        serde_json::from_str(include_str!("../assets/examples/adult-flu.json")).expect("json");
    let files: Vec<String> = (0..10_000)
        .map(|i| {
            record["patient"]["mrn"] = format!("IMPORT-{i:05}").into();
            let path = records.join(format!("{i:05}.json"));
            std::fs::write(&path, record.to_string()).expect("record file");
            path.to_string_lossy().into_owned()
        })
        .collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let import = timed(&dir, &args);
    let _ = std::fs::remove_dir_all(&records);
    eprintln!(
        "with {n} visits: list --jsonl {list:.2} s; export of {n} bundles {export:.1} s; import of 10,000 record files {import:.1} s"
    );
    // The database is large (GBs at a million): do not leave it behind.
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = large_history
}
criterion_main!(benches);
