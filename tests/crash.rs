//! Crash safety: a process saving visits and updating drafts in a loop is killed
//! with SIGKILL at random moments, again and again. Afterwards the database passes
//! `PRAGMA integrity_check`, every save that was reported done is there with its
//! bundle file, and no exported bundle file is partial.
//!
//! The kill moments scale to how long a save takes on this disk (measured as the test
//! runs), and the test goes on until it has enough kills and reported saves, within a
//! time limit: a slow disk makes it slower, never makes it fail. Only lost data does.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use uuid::Uuid;
use vaxentry::fhir::message_for;
use vaxentry::record::FieldId;
use vaxentry::store::{Store, VisitState};

const HELPER_DIR: &str = "VAXENTRY_CRASH_HELPER_DIR";
/// Enough to prove something: this many kills, with at least this many reported saves.
const MIN_KILLS: usize = 100;
const MIN_SAVES: usize = 100;
/// However slow the disk, the test stops killing after this long and checks what it has.
const TIME_LIMIT: Duration = Duration::from_secs(150);

/// The child process's work (does nothing in a normal test run): says it is ready,
/// then draft updates and saves, forever, printing each save once `save` has returned.
#[test]
fn crash_helper() {
    let Some(dir) = std::env::var_os(HELPER_DIR) else {
        return;
    };
    let mut store = Store::open(Path::new(&dir)).expect("helper opens the store");
    let mut visit = example("child-four-doses");
    let mut out = std::io::stdout().lock();
    // On a line of its own: the test harness may have begun one ("test crash_helper ...").
    writeln!(out, "\nready").expect("report");
    out.flush().expect("report");
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

/// What one helper process reported, each line with when it arrived.
enum Line {
    Ready,
    Saved(Uuid, PathBuf),
}

/// Starts a helper and a thread that forwards its lines with their arrival times.
fn start_helper(dir: &Path) -> (std::process::Child, mpsc::Receiver<(Instant, Line)>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_helper", "--nocapture", "--test-threads=1"])
        .env(HELPER_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("helper starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let parsed = if line == "ready" {
                Some(Line::Ready)
            } else {
                line.strip_prefix("saved ").and_then(|rest| {
                    let (id, path) = rest.split_once(' ')?;
                    Some(Line::Saved(Uuid::parse_str(id).ok()?, PathBuf::from(path)))
                })
            };
            if let Some(parsed) = parsed
                && tx.send((Instant::now(), parsed)).is_err()
            {
                break;
            }
        }
    });
    (child, rx)
}

#[test]
fn killed_at_random_moments_loses_nothing_reported_saved() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-crash-{}", Uuid::new_v4()));
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let mut reported: Vec<(Uuid, PathBuf)> = Vec::new();
    // How long one save (with its three draft updates) takes here; learnt as we go.
    let mut save_time = Duration::from_millis(20);
    let mut kills = 0;
    let started = Instant::now();
    while (kills < MIN_KILLS || reported.len() < MIN_SAVES) && started.elapsed() < TIME_LIMIT {
        let (mut child, lines) = start_helper(&dir);
        let ready_at = match lines.recv_timeout(Duration::from_secs(60)) {
            Ok((at, Line::Ready)) => at,
            _ => {
                let _ = child.kill();
                panic!(
                    "the helper never said it was ready: {:?}",
                    child.wait_with_output().map(|o| o.status)
                );
            }
        };
        // Kill at a random moment within about two saves of being ready.
        let window = save_time.as_micros().max(1) as u64 * 2;
        std::thread::sleep(Duration::from_micros(rng.next(window)));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        kills += 1;
        let mut last = ready_at;
        let mut saves_this_run = 0u32;
        for (at, line) in lines.iter() {
            if let Line::Saved(id, path) = line {
                // The time between reports is the save time on this disk.
                let took = at.duration_since(last);
                save_time = (save_time * 3 + took) / 4;
                last = at;
                saves_this_run += 1;
                reported.push((id, path));
            }
        }
        if saves_this_run == 0 {
            // Killed before any save finished: this disk is slower than we thought.
            save_time = save_time.mul_f64(1.25);
        }
    }
    assert!(
        !reported.is_empty(),
        "no save was reported in {} kills within {:?}; the helper is not saving",
        kills,
        TIME_LIMIT
    );
    let store = Store::open(&dir).expect("the database opens after the kills");
    assert_eq!(store.integrity_check().unwrap(), "ok");
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
    let enough = kills >= MIN_KILLS && reported.len() >= MIN_SAVES;
    eprintln!(
        "{kills} kills, {} saves reported and found, {} bundle files whole; a save took about {:?}{}",
        reported.len(),
        files.len(),
        save_time,
        if enough {
            ""
        } else {
            " (stopped at the time limit: this disk is slow)"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}
