//! Crash safety: a process saving visits and updating drafts in a loop is killed
//! with SIGKILL at random moments, 200 times. Afterwards the database passes
//! `PRAGMA integrity_check`, every save that was reported done is there with its
//! bundle file, and no exported bundle file is partial.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use uuid::Uuid;
use vaxentry::fhir::message_for;
use vaxentry::record::FieldId;
use vaxentry::store::{Store, VisitState};

const HELPER_DIR: &str = "VAXENTRY_CRASH_HELPER_DIR";
const KILLS: usize = 200;

/// The child process's work (does nothing in a normal test run): draft updates and
/// saves, forever, printing each save once `save` has returned.
#[test]
fn crash_helper() {
    let Some(dir) = std::env::var_os(HELPER_DIR) else {
        return;
    };
    let mut store = Store::open(Path::new(&dir)).expect("helper opens the store");
    let mut visit = example("child-four-doses");
    let mut out = std::io::stdout().lock();
    for n in 0.. {
        let id = Uuid::new_v4();
        for keystroke in 0..3 {
            visit.doses[0].set(FieldId::Note, format!("typed {n}-{keystroke}"));
            store.save_draft(id, &visit, now()).expect("draft");
        }
        let message = message_for(&visit, &settings(), now(), id).expect("valid");
        let saved = store.save(id, &visit, &message, now()).expect("save");
        writeln!(out, "saved {id} {}", saved.export_path.display()).expect("report");
        out.flush().expect("report");
    }
}

/// A small deterministic generator for the kill times (no extra dependency).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
    found
}

#[test]
fn killed_at_random_moments_loses_nothing_reported_saved() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-crash-{}", Uuid::new_v4()));
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let mut reported: Vec<(Uuid, PathBuf)> = Vec::new();
    for _ in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_helper", "--nocapture", "--test-threads=1"])
            .env(HELPER_DIR, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("helper starts");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    let mut parts = l.strip_prefix("saved ")?.splitn(2, ' ');
                    Some((
                        Uuid::parse_str(parts.next()?).ok()?,
                        PathBuf::from(parts.next()?),
                    ))
                })
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(5 + rng.next(45)));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        reported.extend(reader.join().unwrap());
    }
    let store = Store::open(&dir).expect("the database opens after 200 kills");
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert!(
        reported.len() > KILLS / 2,
        "too few saves happened to prove anything: {}",
        reported.len()
    );
    for (id, path) in &reported {
        let visit = store
            .get(*id)
            .unwrap()
            .unwrap_or_else(|| panic!("save {id} was reported but is missing"));
        assert_eq!(visit.row.state, VisitState::Saved);
        let file =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(Some(file.as_str()), visit.bundle_json.as_deref());
    }
    let files = json_files(&dir.join("bundles"));
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap_or_else(|e| panic!("partial bundle file {}: {e}", path.display()));
    }
    eprintln!(
        "{KILLS} kills, {} saves reported and found, {} bundle files whole",
        reported.len(),
        files.len()
    );
}
