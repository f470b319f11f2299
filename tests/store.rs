//! The local database: round trips, one row per visit, drafts, migrations from every
//! earlier schema, refusing foreign, newer and damaged files, file permissions, and
//! two processes at once.

mod common;

use common::*;
use rusqlite::Connection;
use std::path::PathBuf;
use uuid::Uuid;
use vaxentry::fhir::message_for;
use vaxentry::record::{FieldId, file};
use vaxentry::store::schema::CURRENT_VERSION;
use vaxentry::store::{DATABASE_FILE, Error as OpenError, ListQuery, Store, VisitState};

fn tempdir() -> PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("vaxentry-store-{}", Uuid::new_v4()))
}

fn save_example(store: &mut Store, name: &str) -> (Uuid, String) {
    let visit = example(name);
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).expect("valid example");
    store.save(id, &visit, &message, now()).expect("saved");
    (id, message.json)
}

#[test]
fn save_and_load_round_trip_with_export_file() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let visit = example("child-four-doses");
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    let saved = store.save(id, &visit, &message, now()).unwrap();
    let back = store.get(id).unwrap().unwrap();
    assert_eq!(back.row.state, VisitState::Saved);
    assert_eq!(back.visit().unwrap(), visit);
    assert_eq!(back.bundle_json.as_deref(), Some(message.json.as_str()));
    assert_eq!(back.bundle_id.as_deref(), Some(message.bundle_id.as_str()));
    assert_eq!(back.row.patient_name, "Okonkwo, Chidi");
    assert_eq!(back.row.vaccines, "110 48 216 116");
    assert_eq!(
        saved.export_path,
        dir.join("bundles/2026-11-25")
            .join(format!("{}.json", message.bundle_id))
    );
    assert_eq!(
        std::fs::read_to_string(&saved.export_path).unwrap(),
        message.json
    );
}

#[test]
fn saving_the_same_visit_twice_keeps_one_record() {
    let mut store = Store::open(&tempdir()).unwrap();
    let visit = example("adult-flu");
    let id = Uuid::new_v4();
    let first = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &first, now()).unwrap();
    let second = message_for(&visit, &settings(), now(), id).unwrap();
    assert_eq!(
        first.bundle_id, second.bundle_id,
        "the same visit makes the same message id"
    );
    store.save(id, &visit, &second, now()).unwrap();
    assert_eq!(store.count().unwrap(), 1);
}

#[test]
fn every_version_keeps_its_own_record_and_bundle_when_the_visit_changes() {
    let mut store = Store::open(&tempdir()).unwrap();
    let mut visit = example("adult-flu");
    let id = Uuid::new_v4();
    let first = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &first, now()).unwrap();
    visit.patient.set(FieldId::Given, "Astrid");
    let second = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &second, now()).unwrap();
    let versions = store.versions(id).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        versions[0].bundle_json, first.json,
        "the first, byte for byte"
    );
    assert_eq!(
        file::from_json(&versions[0].record_json)
            .unwrap()
            .patient
            .get(FieldId::Given),
        "Astrid Maria"
    );
    assert_eq!(versions[1].bundle_json, second.json);
    assert_eq!(
        Some(&versions[1].bundle_json),
        store.get(id).unwrap().unwrap().bundle_json.as_ref()
    );
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            names.extend(files_under(&entry.path()));
        } else {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names
}

#[test]
fn a_batch_keeps_all_its_saves_or_none() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let visit = example("adult-flu");
    let save = |store: &mut Store, id: Uuid| -> anyhow::Result<()> {
        let message = message_for(&visit, &settings(), now(), id).unwrap();
        store.save(id, &visit, &message, now())?;
        Ok(())
    };
    // A failing batch keeps nothing, files included.
    let failed: vaxentry::store::Result<()> = store.batch(|store| {
        save(store, Uuid::new_v4())?;
        save(store, Uuid::new_v4())?;
        anyhow::bail!("stopped")
    });
    assert!(failed.is_err());
    assert_eq!(store.count().unwrap(), 0);
    assert!(
        files_under(&dir.join("bundles")).is_empty(),
        "{:?}",
        files_under(&dir.join("bundles"))
    );
    // A save that fails inside is undone alone; the others are kept, with their files.
    let sent = Uuid::new_v4();
    save(&mut store, sent).unwrap();
    store.queue(sent, now()).unwrap();
    let ids = store
        .batch(|store| {
            let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
            save(store, a)?;
            assert!(
                save(store, sent).is_err(),
                "a queued visit is not saved over"
            );
            save(store, b)?;
            Ok([a, b])
        })
        .unwrap();
    assert_eq!(store.count().unwrap(), 3);
    for id in ids {
        assert_eq!(store.get(id).unwrap().unwrap().row.state, VisitState::Saved);
    }
    let files = files_under(&dir.join("bundles"));
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.ends_with(".json") && !f.starts_with('.')),
        "{files:?}"
    );
}

#[test]
fn bundle_ids_are_unique_across_visits() {
    let mut store = Store::open(&tempdir()).unwrap();
    let (a, _) = save_example(&mut store, "adult-flu");
    let (b, _) = save_example(&mut store, "adult-flu");
    let ids: Vec<_> = [a, b]
        .iter()
        .map(|id| store.get(*id).unwrap().unwrap().bundle_id.unwrap())
        .collect();
    assert_ne!(ids[0], ids[1]);
    // The database enforces it too.
    let visit = example("adult-flu");
    let err = store
        .save(
            Uuid::new_v4(),
            &visit,
            &vaxentry::fhir::Message {
                bundle_id: ids[0].clone(),
                json: "{}".into(),
            },
            now(),
        )
        .unwrap_err();
    assert!(format!("{err:#}").contains("UNIQUE"), "{err:#}");
}

#[test]
fn drafts_are_kept_replaced_and_never_overwrite_a_saved_visit() {
    let mut store = Store::open(&tempdir()).unwrap();
    let mut visit = example("adult-flu");
    let id = Uuid::new_v4();
    store.save_draft(id, &visit, now()).unwrap();
    visit.patient.set(FieldId::Given, "Astrid");
    store.save_draft(id, &visit, now()).unwrap();
    assert_eq!(store.count().unwrap(), 1);
    let draft = store.latest_draft().unwrap().unwrap();
    assert_eq!(draft.row.id, id);
    assert_eq!(draft.visit().unwrap().patient.get(FieldId::Given), "Astrid");
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &message, now()).unwrap();
    assert!(
        store.latest_draft().unwrap().is_none(),
        "saving turns the draft into a saved visit"
    );
    visit.patient.set(FieldId::Given, "Overwritten");
    store.save_draft(id, &visit, now()).unwrap();
    let kept = store.get(id).unwrap().unwrap();
    assert_eq!(kept.row.state, VisitState::Saved);
    assert_eq!(kept.visit().unwrap().patient.get(FieldId::Given), "Astrid");
    assert!(
        !store.delete_draft(id).unwrap(),
        "only drafts can be deleted"
    );
}

#[test]
fn history_filter_and_paging() {
    let mut store = Store::open(&tempdir()).unwrap();
    for name in EXAMPLES {
        save_example(&mut store, name);
    }
    let find = |text: &str| mrns_matching(&store, text);
    assert_eq!(find("lindq"), vec!["MRN-004211"]);
    assert_eq!(find("MRN-118832"), vec!["MRN-118832"]);
    assert_eq!(
        find("shingles"),
        vec!["MRN-077310"],
        "vaccine aliases are searchable"
    );
    assert_eq!(
        find("2013-05-20"),
        vec!["MRN-090017"],
        "dates are searchable"
    );
    assert_eq!(find("nguyễn"), vec!["MRN-220045"]);
    assert_eq!(
        find("100%_"),
        Vec::<String>::new(),
        "LIKE wildcards are taken literally"
    );
    assert_eq!(find("").len(), 5);
    let page = |offset| {
        store
            .list(&ListQuery {
                offset,
                limit: 2,
                ..ListQuery::default()
            })
            .unwrap()
    };
    let all: Vec<_> = (0..3).flat_map(|p| page(p * 2)).map(|r| r.id).collect();
    assert_eq!(all.len(), 5);
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(unique.len(), 5);
    assert_eq!(
        store
            .list(&ListQuery {
                state: Some(VisitState::Draft),
                limit: 9,
                ..ListQuery::default()
            })
            .unwrap()
            .len(),
        0
    );
}

fn mrns_matching(store: &Store, text: &str) -> Vec<String> {
    store
        .list(&ListQuery {
            text: text.into(),
            limit: 50,
            ..ListQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.mrn)
        .collect()
}

#[test]
fn the_search_index_follows_every_change_and_survives_vacuum() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let mut visit = example("adult-flu");
    let id = Uuid::new_v4();
    store.save_draft(id, &visit, now()).unwrap();
    assert_eq!(mrns_matching(&store, "astrid"), vec!["MRN-004211"]);
    visit.patient.set(FieldId::Given, "Birgitta");
    store.save_draft(id, &visit, now()).unwrap();
    assert!(
        mrns_matching(&store, "astrid").is_empty(),
        "an edit leaves the index"
    );
    assert_eq!(mrns_matching(&store, "birgitta"), vec!["MRN-004211"]);
    assert_eq!(
        mrns_matching(&store, "BIRG lindq"),
        vec!["MRN-004211"],
        "every word, in any case"
    );
    assert_eq!(
        mrns_matching(&store, "gi"),
        vec!["MRN-004211"],
        "short words too"
    );
    assert!(mrns_matching(&store, "birgitta zzz").is_empty());
    assert!(
        mrns_matching(&store, "\"birg").is_empty(),
        "a quote is taken literally"
    );
    assert!(store.delete_draft(id).unwrap());
    assert!(
        mrns_matching(&store, "birgitta").is_empty(),
        "a deleted draft leaves it"
    );

    // Visits saved, some drafts removed between them, the file vacuumed (which may
    // renumber rows), then more saved: each MRN still finds its own visit.
    let mut ids = Vec::new();
    for i in 0..12 {
        let mut visit = example("adult-flu");
        visit.patient.set(FieldId::Mrn, format!("VAC-{i:03}"));
        let id = Uuid::new_v4();
        if i % 3 == 0 {
            store.save_draft(id, &visit, now()).unwrap();
            store.delete_draft(id).unwrap();
        } else {
            let message = message_for(&visit, &settings(), now(), id).unwrap();
            store.save(id, &visit, &message, now()).unwrap();
            ids.push(i);
        }
    }
    drop(store);
    Connection::open(dir.join(DATABASE_FILE))
        .unwrap()
        .execute_batch("VACUUM")
        .unwrap();
    let mut store = Store::open(&dir).unwrap();
    for i in 12..15 {
        let mut visit = example("adult-flu");
        visit.patient.set(FieldId::Mrn, format!("VAC-{i:03}"));
        let id = Uuid::new_v4();
        let message = message_for(&visit, &settings(), now(), id).unwrap();
        store.save(id, &visit, &message, now()).unwrap();
        ids.push(i);
    }
    for i in 0..15 {
        let mrn = format!("VAC-{i:03}");
        let expected = if ids.contains(&i) {
            vec![mrn.clone()]
        } else {
            vec![]
        };
        assert_eq!(mrns_matching(&store, &mrn), expected, "{mrn}");
    }
    assert_eq!(mrns_matching(&store, "vac-").len(), ids.len());
}

#[test]
fn a_word_most_visits_hold_pages_newest_first_like_a_rare_one() {
    // With many matches the filter walks the history newest first instead of reading
    // every match from the index: the pages must come out the same either way.
    let mut store = Store::open(&tempdir()).unwrap();
    let mut saved = Vec::new();
    for i in 0..120 {
        let mut visit = example("adult-flu");
        visit.patient.set(FieldId::Mrn, format!("PAGE-{i:03}"));
        if i % 40 == 0 {
            visit.patient.set(FieldId::Family, "Rarename");
        }
        let id = Uuid::new_v4();
        let message = message_for(&visit, &settings(), now(), id).unwrap();
        store.save(id, &visit, &message, now()).unwrap();
        saved.push(format!("PAGE-{i:03}"));
    }
    saved.reverse();
    let pages = |text: &str, limit: usize| -> Vec<String> {
        (0..)
            .map(|page| {
                store
                    .list(&ListQuery {
                        text: text.into(),
                        offset: page * limit,
                        limit,
                        ..ListQuery::default()
                    })
                    .unwrap()
            })
            .take_while(|rows| !rows.is_empty())
            .flatten()
            .map(|r| r.mrn)
            .collect()
    };
    let common: Vec<String> = saved
        .iter()
        .filter(|m| !["PAGE-000", "PAGE-040", "PAGE-080"].contains(&m.as_str()))
        .cloned()
        .collect();
    assert_eq!(pages("lindqvist", 7), common, "many matches, small pages");
    assert_eq!(pages("lindqvist", 200), common, "many matches, one page");
    assert_eq!(
        pages("rarename", 2),
        vec!["PAGE-080", "PAGE-040", "PAGE-000"]
    );
    assert_eq!(pages("page- astrid", 25), saved, "every word, all visits");
}

/// Builds a file at each earlier schema version, with a visit in it, and opens it.
#[test]
fn migrations_upgrade_every_earlier_version_in_place() {
    for version in 0..CURRENT_VERSION {
        let dir = tempdir();
        let mut old = Store::create_at_version(&dir, version).unwrap();
        assert_eq!(old.schema_version().unwrap(), version);
        let id = Uuid::new_v4();
        if version >= 1 {
            // A visit as that version stored it (version 1 had no listing columns; up
            // to version 3 times were written with the local offset).
            let conn = Connection::open(dir.join(DATABASE_FILE)).unwrap();
            let record = file::to_json(&example("adult-flu"));
            conn.execute(
                "INSERT INTO visits (id, state, record_json, bundle_json, bundle_id, created_at, updated_at) VALUES (?1, 'saved', ?2, '{}', 'b-1', ?3, ?3)",
                rusqlite::params![
                    id.to_string(),
                    record,
                    if version < 4 {
                        "2026-11-01T01:30:00.000-04:00"
                    } else {
                        "2026-11-01T05:30:00.000Z"
                    }
                ],
            )
            .unwrap();
            if version >= 2 {
                conn.execute(
                    "UPDATE visits SET mrn = 'MRN-004211', patient_name = 'Lindqvist, Astrid Maria', search = 'mrn-004211 lindqvist, astrid maria'",
                    [],
                )
                .unwrap();
            }
            if version >= 7 {
                // Versions 7 and 8 copied the record and bundle into each version.
                conn.execute(
                    "INSERT INTO versions (visit_id, number, at, user, station, why, record_json, bundle_json, bundle_id)
                     VALUES (?1, 1, '2026-11-01T05:30:00.000Z', 'ana', 'desk 2', 'saved', ?2, '{}', 'b-1')",
                    rusqlite::params![id.to_string(), record],
                )
                .unwrap();
            }
        }
        old.migrate(version).unwrap();
        drop(old);
        let mut reports = Vec::new();
        let store = Store::open_reporting(&dir, &mut |what, done, total| {
            reports.push((what.to_string(), done, total))
        })
        .unwrap();
        let visits = u64::from(version >= 1);
        if version < 8 {
            assert_eq!(
                reports.last(),
                Some(&(
                    "building the history search index".to_string(),
                    visits,
                    visits
                )),
                "the long upgrade says how far it is, from version {version}"
            );
        }
        assert_eq!(
            store.schema_version().unwrap(),
            CURRENT_VERSION,
            "from version {version}"
        );
        if version >= 1 {
            let row = store.get(id).unwrap().expect("the old visit survives");
            assert_eq!(
                row.row.mrn, "MRN-004211",
                "listing columns are filled in for old rows"
            );
            let raw: String = Connection::open(dir.join(DATABASE_FILE))
                .unwrap()
                .query_row("SELECT updated_at FROM visits", [], |r| r.get(0))
                .unwrap();
            assert_eq!(
                raw, "2026-11-01T05:30:00.000Z",
                "times are stored in UTC from version 4, so they sort in time order"
            );
            assert_eq!(vaxentry::store::rows::stored_time(row.row.updated_at), raw);
            assert_eq!(
                store
                    .list(&ListQuery {
                        text: "lindqvist".into(),
                        limit: 5,
                        ..ListQuery::default()
                    })
                    .unwrap()
                    .len(),
                1
            );
            // Version 7 keeps the bundle it had as its first version (a row inserted
            // at version 7 has none).
            let versions = store.versions(id).unwrap();
            assert_eq!(versions.len(), 1, "from version {version}");
            if version < 7 {
                assert_eq!(
                    versions[0].why,
                    vaxentry::store::versions::Reason::BeforeVersions
                );
            }
            assert_eq!(versions[0].bundle_id, "b-1");
            assert_eq!(versions[0].bundle_json, "{}");
            assert_eq!(versions[0].record_json, row.record_json);
        }
        // Version 6 knows old visits' records and doses (filled in when upgrading
        // from an earlier version; a row inserted at version 6 has none).
        if (1..6).contains(&version) {
            assert_eq!(
                store.visit_of_record(&example("adult-flu")).unwrap(),
                Some((id, VisitState::Saved)),
                "from version {version}"
            );
            let doses = store.doses_of("MRN-004211").unwrap();
            assert_eq!(doses.len(), 1, "from version {version}");
            let dose = &doses[0];
            assert_eq!(
                (dose.visit, dose.key.vaccine.as_str(), dose.key.lot.as_str()),
                (id, "140", "UT8291AA")
            );
        }
        assert_eq!(store.integrity_check().unwrap(), "ok");
        assert_eq!(
            store.queue_counts().unwrap(),
            (0, 0),
            "the outbox columns exist"
        );
    }
}

fn file_bytes(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read(dir.join(DATABASE_FILE)).unwrap()
}

#[test]
fn a_foreign_file_is_refused_and_left_alone() {
    let dir = tempdir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(DATABASE_FILE),
        "these are somebody's notes, not a database\n".repeat(50),
    )
    .unwrap();
    let before = file_bytes(&dir);
    let err = Store::open(&dir).err().expect("refused");
    assert!(matches!(err, OpenError::Foreign { .. }), "{err}");
    assert!(
        err.to_string().contains(DATABASE_FILE) && err.to_string().contains("Nothing was changed")
    );
    assert!(file_bytes(&dir) == before, "the file is untouched");

    let other = tempdir();
    std::fs::create_dir_all(&other).unwrap();
    let conn = Connection::open(other.join(DATABASE_FILE)).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL);")
        .unwrap();
    drop(conn);
    let before = file_bytes(&other);
    assert!(matches!(
        Store::open(&other),
        Err(OpenError::Foreign { .. })
    ));
    assert!(file_bytes(&other) == before, "the file is untouched");
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = tempdir();
    drop(Store::open(&dir).unwrap());
    let conn = Connection::open(dir.join(DATABASE_FILE)).unwrap();
    conn.pragma_update(None, "user_version", CURRENT_VERSION + 7)
        .unwrap();
    drop(conn);
    let before = file_bytes(&dir);
    let err = Store::open(&dir).err().expect("refused");
    assert!(
        matches!(err, OpenError::TooNew { found, .. } if found == CURRENT_VERSION + 7),
        "{err}"
    );
    assert!(err.to_string().contains("newer vaxentry"));
    assert!(file_bytes(&dir) == before, "the file is untouched");
}

#[test]
fn a_damaged_file_is_refused_and_left_alone() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    for _ in 0..30 {
        save_example(&mut store, "child-four-doses");
    }
    drop(store);
    let path = dir.join(DATABASE_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    // Scribble over the middle pages, where the tables' data and indexes live.
    let len = bytes.len();
    for b in &mut bytes[len / 3..len / 3 + 8192] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    // Opening reads only the first page; the damage shows when the visits are read.
    let read_everything = || -> anyhow::Result<()> {
        let store = Store::open(&dir)?;
        for row in store.list(&ListQuery {
            limit: 1000,
            ..ListQuery::default()
        })? {
            store.get(row.id)?;
            store.versions(row.id)?;
        }
        store.list(&ListQuery {
            text: "mrn".into(),
            limit: 1000,
            ..ListQuery::default()
        })?;
        Ok(())
    };
    let err = read_everything().expect_err("the damage is found");
    let damaged = err
        .downcast_ref::<OpenError>()
        .unwrap_or_else(|| panic!("reported as a damaged file: {err:#}"));
    assert!(matches!(damaged, OpenError::Damaged { .. }), "{err}");
    assert!(
        err.to_string().contains(DATABASE_FILE)
            && err.to_string().contains("restore it from a backup"),
        "{err}"
    );
    assert!(
        std::fs::read(&path).unwrap() == bytes,
        "nothing was written"
    );
}

#[cfg(unix)]
#[test]
fn data_folder_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let visit = example("adult-flu");
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    let saved = store.save(id, &visit, &message, now()).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(DATABASE_FILE)), 0o600);
    assert_eq!(mode(&dir.join("bundles")), 0o700);
    assert_eq!(mode(saved.export_path.parent().unwrap()), 0o700);
    assert_eq!(mode(&saved.export_path), 0o600);
    for side in ["-wal", "-shm"] {
        let p = dir.join(format!("{DATABASE_FILE}{side}"));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
}

#[test]
fn two_processes_share_the_database() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    // Another process imports 30 records (each example for six patients) while this
    // one saves.
    let records = tempdir();
    std::fs::create_dir_all(&records).unwrap();
    let mut args = vec![
        "--data-dir".to_string(),
        dir.display().to_string(),
        "import".to_string(),
    ];
    for round in 0..6 {
        for name in EXAMPLES {
            let mut visit = example(name);
            let mrn = format!("{}-{round}", visit.patient.get(FieldId::Mrn));
            visit.patient.set(FieldId::Mrn, mrn);
            let path = records.join(format!("{name}-{round}.json"));
            std::fs::write(&path, file::to_json(&visit)).unwrap();
            args.push(path.display().to_string());
        }
    }
    let child = common::binary(&dir)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("import starts");
    for _ in 0..30 {
        save_example(&mut store, "adult-flu");
    }
    let out = child.wait_with_output().expect("import ran");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("locked"));
    assert_eq!(
        store.count().unwrap(),
        30 + 30,
        "this process sees the other's saves"
    );
}

/// Many processes opening a data folder that does not exist yet (a cron job and the
/// form starting together): every one opens it.
#[test]
fn a_new_data_folder_opened_by_many_processes_at_once_opens_for_all() {
    for round in 0..8 {
        let dir = tempdir();
        let children: Vec<_> = (0..12)
            .map(|_| {
                common::binary(&dir)
                    .args(["--data-dir", dir.to_str().unwrap(), "list", "--json"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn a_folder_vaxentry_did_not_make_is_warned_about_never_chmodded() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let store = Store::open(&dir).unwrap();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o1777, "left as it was");
    assert!(
        store.warnings[0].contains("can be opened by other users"),
        "{:?}",
        store.warnings
    );
}

#[cfg(unix)]
#[test]
fn patient_data_is_never_written_through_a_symbolic_link() {
    // A bundles folder that is a link elsewhere: the save is refused, nothing lands there.
    let dir = tempdir();
    let elsewhere = tempdir();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let mut store = Store::open(&dir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("bundles")).unwrap();
    let visit = example("adult-flu");
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    let err = format!("{:#}", store.save(id, &visit, &message, now()).unwrap_err());
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "nothing written there"
    );
    assert!(store.get(id).unwrap().is_none(), "and nothing saved");
    // A database file that is a link is not opened.
    let other = tempdir();
    std::fs::create_dir_all(&other).unwrap();
    std::os::unix::fs::symlink(dir.join(DATABASE_FILE), other.join(DATABASE_FILE)).unwrap();
    let err = Store::open(&other).err().expect("refused").to_string();
    assert!(err.contains("symbolic link"), "{err}");
}

#[test]
fn returning_patients_are_found_by_mrn_first_then_by_family_name() {
    let mut store = Store::open(&tempdir()).unwrap();
    for (mrn, family, given) in [
        ("A-100", "Lindqvist", "Astrid"),
        ("A-1000", "Okafor", "Jordan"),
        ("B-7", "lindgren", "Erik"),
        ("LIN-1", "Nguyen", "An"),
    ] {
        let mut visit = example("adult-flu");
        visit.patient.set(FieldId::Mrn, mrn);
        visit.patient.set(FieldId::Family, family);
        visit.patient.set(FieldId::Given, given);
        let id = Uuid::new_v4();
        let message = message_for(&visit, &settings(), now(), id).unwrap();
        store.save(id, &visit, &message, now()).unwrap();
    }
    let found = |typed: &str| -> Vec<String> {
        store
            .patients_matching(typed, 5)
            .unwrap()
            .into_iter()
            .map(|p| p.mrn)
            .collect()
    };
    assert_eq!(found("A-100"), ["A-100", "A-1000"], "the exact MRN first");
    assert_eq!(
        found("lin"),
        ["LIN-1", "B-7", "A-100"],
        "MRN prefix, then names in any case"
    );
    assert_eq!(found("LINDQ"), ["A-100"]);
    assert!(found("zz").is_empty());
    assert!(found("%").is_empty(), "a wildcard is taken literally");
    let first = &store.patients_matching("A-100", 1).unwrap()[0];
    assert_eq!(first.fields.get(FieldId::Given), "Astrid");
    assert_eq!(
        first.describe(),
        "Lindqvist, Astrid · born 1987-03-14 · female · A-100"
    );
}

/// What the endpoint said about a patient is kept by MRN, with when it said it, and
/// replaced by what it says next; a damaged copy is an error naming it, not a panic.
#[test]
fn the_endpoints_history_is_kept_by_mrn_until_it_says_more() {
    let mut store = Store::open(&tempdir()).unwrap();
    assert_eq!(store.endpoint_history("MRN-1").unwrap(), None);
    let first = vec![serde_json::json!({"resourceType": "Immunization", "status": "completed"})];
    store
        .save_endpoint_history(" MRN-1 ", &first, now())
        .unwrap();
    let kept = store.endpoint_history("MRN-1").unwrap().unwrap();
    assert_eq!(kept.immunizations, first);
    assert_eq!(kept.fetched_at, now().to_utc());
    let later = now() + chrono::Duration::hours(2);
    store.save_endpoint_history("MRN-1", &[], later).unwrap();
    let kept = store.endpoint_history("MRN-1").unwrap().unwrap();
    assert!(kept.immunizations.is_empty());
    assert_eq!(kept.fetched_at, later.to_utc());
    assert_eq!(store.endpoint_history("MRN-2").unwrap(), None);
}

// Corrections that race: checked and queued in one write transaction on the
// condition of the visit's last message, so two started from one version never both
// go, and the loser changes nothing.

use std::sync::{Arc, Barrier};
use std::time::Duration;
use vaxentry::corrections;
use vaxentry::fhir::message_sent_again;
use vaxentry::store::AttemptOutcome;
use vaxentry::store::outbox::{After, Recorded};

/// Puts a saved visit in the outbox (unless it waits there) and records that the
/// endpoint took it.
fn submit(store: &mut Store, id: Uuid) {
    if store.get(id).unwrap().unwrap().row.state != VisitState::Queued {
        store.queue(id, now()).unwrap();
    }
    let due = store
        .claim_due(now(), Duration::from_secs(60), 50, true, "tests")
        .unwrap();
    let item = due.iter().find(|d| d.id == id).expect("claimed");
    let attempt = recorded(id, "tests", &item.bundle_id, AttemptOutcome::Submitted);
    assert!(store.record_attempt(&attempt, After::Submitted).unwrap());
}

/// An attempt by `claimer` at the tests' time, as the sender records it.
fn recorded<'a>(
    id: Uuid,
    claimer: &'a str,
    bundle_id: &'a str,
    outcome: AttemptOutcome,
) -> Recorded<'a> {
    Recorded {
        id,
        claimer,
        bundle_id,
        now: now(),
        http_status: Some(200),
        outcome,
        detail: "an answer",
        response_body: None,
    }
}

/// The example visit with another lot, and its next message as read from `store`.
fn amendment(
    store: &Store,
    id: Uuid,
    lot: &str,
) -> (vaxentry::record::Visit, vaxentry::fhir::Message, u32) {
    let mut visit = example("adult-flu");
    visit.doses[0].set(FieldId::Lot, lot);
    let correction = corrections::correction_of(&store.get(id).unwrap().unwrap(), true).unwrap();
    let message = message_sent_again(&visit, &settings(), now(), id, &correction).unwrap();
    (visit, message, correction.sending)
}

fn bundle_file(dir: &std::path::Path, bundle_id: &str) -> String {
    std::fs::read_to_string(
        dir.join("bundles/2026-11-25")
            .join(format!("{bundle_id}.json")),
    )
    .unwrap()
}

#[test]
fn two_corrections_built_from_one_version_queue_one_and_refuse_the_other() {
    let dir = tempdir();
    let mut a = Store::open(&dir).unwrap();
    let mut b = Store::open(&dir).unwrap();
    let (id, _) = save_example(&mut a, "adult-flu");
    submit(&mut a, id);
    // Both read the visit and build their message before either writes: the same
    // Bundle.id, different lots.
    let (visit_a, message_a, sending_a) = amendment(&a, id, "AAA111");
    let (visit_b, message_b, sending_b) = amendment(&b, id, "BBB222");
    assert_eq!(message_a.bundle_id, message_b.bundle_id);
    corrections::amend(
        &mut a,
        id,
        &visit_a,
        &message_a,
        sending_a,
        now(),
        &settings(),
    )
    .unwrap();
    // The first is still waiting: the second is refused.
    assert!(
        corrections::amend(
            &mut b,
            id,
            &visit_b,
            &message_b,
            sending_b,
            now(),
            &settings()
        )
        .is_err()
    );
    // Once the first was sent, the second is still refused: it corrects what was
    // there before the first.
    submit(&mut a, id);
    let err = corrections::amend(
        &mut b,
        id,
        &visit_b,
        &message_b,
        sending_b,
        now(),
        &settings(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("meanwhile"), "{err}");
    let stored = b.get(id).unwrap().unwrap();
    assert_eq!(stored.bundle_json.as_deref(), Some(message_a.json.as_str()));
    assert_eq!(stored.visit().unwrap().doses[0].get(FieldId::Lot), "AAA111");
    assert_eq!(bundle_file(&dir, &message_a.bundle_id), message_a.json);
    assert_eq!(b.versions(id).unwrap().len(), 2, "saved, amended once");
}

#[test]
fn corrections_started_at_the_same_moment_never_both_go() {
    for round in 0..24 {
        let dir = tempdir();
        let mut store = Store::open(&dir).unwrap();
        let (id, _) = save_example(&mut store, "adult-flu");
        submit(&mut store, id);
        drop(store);
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = ["AAA111", "BBB222"]
            .into_iter()
            .enumerate()
            .map(|(n, lot)| {
                let (dir, barrier) = (dir.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut store = Store::open(&dir).unwrap();
                    // Round by round, an amendment races a void or another amendment.
                    if n == 1 && round % 2 == 1 {
                        let plan = corrections::plan_void(&store, id, None).unwrap();
                        barrier.wait();
                        return corrections::void(&mut store, id, &plan, now(), &settings())
                            .map(|()| None);
                    }
                    let (visit, message, sending) = amendment(&store, id, lot);
                    barrier.wait();
                    corrections::amend(
                        &mut store,
                        id,
                        &visit,
                        &message,
                        sending,
                        now(),
                        &settings(),
                    )
                    .map(|_| Some(message))
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let won: Vec<_> = results.iter().filter(|r| r.is_ok()).collect();
        assert_eq!(won.len(), 1, "round {round}: {results:?}");
        let store = Store::open(&dir).unwrap();
        let stored = store.get(id).unwrap().unwrap();
        assert_eq!(stored.row.state, VisitState::Queued);
        assert_eq!(stored.message_seq, 1);
        assert_eq!(store.versions(id).unwrap().len(), 2, "round {round}");
        let json = stored.bundle_json.unwrap();
        if let Ok(Some(message)) = won[0] {
            assert_eq!(json, message.json, "round {round}");
        }
        assert_eq!(
            bundle_file(&dir, &stored.bundle_id.unwrap()),
            json,
            "round {round}"
        );
    }
}

#[test]
fn an_outcome_is_recorded_only_against_the_message_it_answered() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let (id, _) = save_example(&mut store, "adult-flu");
    store.queue(id, now()).unwrap();
    let due = store
        .claim_due(now(), Duration::from_secs(60), 50, true, "sender")
        .unwrap();
    assert!(
        !store
            .record_attempt(
                &recorded(id, "sender", "another-message", AttemptOutcome::Submitted),
                After::Submitted
            )
            .unwrap(),
        "an answer to another message"
    );
    assert_eq!(
        store.get(id).unwrap().unwrap().row.state,
        VisitState::Queued
    );
    assert!(
        store
            .record_attempt(
                &recorded(id, "sender", &due[0].bundle_id, AttemptOutcome::Submitted),
                After::Submitted
            )
            .unwrap()
    );
}

#[test]
fn a_failed_visit_queued_again_starts_its_attempts_afresh() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let (id, _) = save_example(&mut store, "adult-flu");
    store.queue(id, now()).unwrap();
    let due = store
        .claim_due(now(), Duration::from_secs(60), 50, true, "sender")
        .unwrap();
    let failed = recorded(id, "sender", &due[0].bundle_id, AttemptOutcome::Retry);
    assert!(store.record_attempt(&failed, After::Failed).unwrap());
    store.queue(id, now()).unwrap();
    let due = store
        .claim_due(now(), Duration::from_secs(60), 50, true, "sender")
        .unwrap();
    assert_eq!(due[0].attempts, 0);
}

/// A data folder that cannot be written is read from without writing anything: the
/// history lists, nothing new appears in the folder, and a save is refused.
#[test]
fn a_read_only_data_folder_is_read_and_never_written() {
    let dir = tempdir();
    let mut store = Store::open(&dir).unwrap();
    let (id, _) = save_example(&mut store, "adult-flu");
    drop(store);
    for leftover in [
        "vaxentry.lock",
        "vaxentry.sqlite3-wal",
        "vaxentry.sqlite3-shm",
    ] {
        let _ = std::fs::remove_file(dir.join(leftover));
    }
    let before = files_under(&dir);
    let bytes = file_bytes(&dir);
    let mut store = Store::open_read_only(&dir).unwrap();
    assert!(
        store.warnings[0].contains("cannot be written"),
        "{:?}",
        store.warnings
    );
    let rows = store
        .list(&ListQuery {
            limit: 10,
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(store.get(id).unwrap().is_some());
    let visit = example("historical");
    let other = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), other).unwrap();
    assert!(store.save(other, &visit, &message, now()).is_err());
    drop(store);
    // (SQLite's shared-memory files appear here only because this folder can be
    // written: tests run as root, whom permissions do not stop. In a folder that
    // cannot be written, SQLite keeps them in memory.)
    let after: Vec<_> = files_under(&dir)
        .into_iter()
        .filter(|f| !f.ends_with("-wal") && !f.ends_with("-shm"))
        .collect();
    assert_eq!(after, before, "no lock, no bundle file, nothing else made");
    assert_eq!(file_bytes(&dir), bytes, "the database is as it was");
}

/// Saving a dose never blanks, changes or puts back on hand a lot of the inventory:
/// only `lots add` does. A lot the inventory lacks joins it only with its maker and
/// expiry.
#[test]
fn saving_never_corrupts_the_lot_inventory() {
    let mut store = Store::open(&tempdir()).unwrap();
    let add = |store: &mut Store, lot: &str, expiration: &str| {
        let lot = vaxentry::store::lots::Lot {
            vaccine: "140".into(),
            lot: lot.into(),
            manufacturer: "PMC".into(),
            expiration: expiration.into(),
            ndc: "49281042550".into(),
            dose_ml: String::new(),
            last_used: now().to_utc(),
            retired: false,
        };
        store.add_lot(&lot, now()).unwrap();
    };
    add(&mut store, "OLD111", "2026-10-31");
    add(&mut store, "GONE1", "2027-12-31");
    store.retire_lot("140", "GONE1", now()).unwrap();
    let save = |store: &mut Store, lot: &str, maker: &str, expiration: &str, ndc: &str| {
        let mut visit = example("adult-flu");
        let dose = &mut visit.doses[0];
        dose.set(FieldId::Lot, lot);
        dose.set(FieldId::Manufacturer, maker);
        dose.set(FieldId::Expiration, expiration);
        dose.set(FieldId::Ndc, ndc);
        let id = Uuid::new_v4();
        // Built as a record file would be; saved whatever the checks say of it.
        let message = message_for(&example("adult-flu"), &settings(), now(), id).unwrap();
        store.save(id, &visit, &message, now()).unwrap();
    };
    // The lot typed with nothing else, as the defect had it: the row keeps its facts.
    save(&mut store, "old111", "", "", "");
    save(&mut store, "GONE1", "PMC", "2027-12-31", "");
    // A new lot without its expiry is not added; with maker and expiry it is.
    save(&mut store, "NEW1", "PMC", "", "");
    save(&mut store, "NEW2", "PMC", "06/2027", "49281-0425-50");
    let lots = store.lots(None, true).unwrap();
    let find = |lot: &str| lots.iter().find(|l| l.lot == lot).cloned();
    let old = find("OLD111").unwrap();
    assert_eq!(
        (
            old.manufacturer.as_str(),
            old.expiration.as_str(),
            old.ndc.as_str()
        ),
        ("PMC", "2026-10-31", "49281042550")
    );
    assert!(
        find("GONE1").unwrap().retired,
        "a save does not put a retired lot back on hand"
    );
    assert!(find("NEW1").is_none(), "no expiry, not added");
    let new = find("NEW2").unwrap();
    assert_eq!(
        (new.expiration.as_str(), new.ndc.as_str()),
        ("2027-06-30", "49281042550")
    );
    // The volume of a dose is what a lot lacked: filled from the amount given (0.5),
    // and not changed by a dose of another amount.
    assert_eq!((old.dose_ml.as_str(), new.dose_ml.as_str()), ("0.5", "0.5"));
    let mut visit = example("adult-flu");
    visit.doses[0].set(FieldId::Lot, "NEW2");
    visit.doses[0].set(FieldId::Amount, "0.25");
    let id = Uuid::new_v4();
    let message = message_for(&visit, &settings(), now(), id).unwrap();
    store.save(id, &visit, &message, now()).unwrap();
    let lots = store.lots(None, true).unwrap();
    let new = lots.iter().find(|l| l.lot == "NEW2").unwrap();
    assert_eq!(new.dose_ml, "0.5");
}
