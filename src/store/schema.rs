//! The database schema and its migrations. `PRAGMA user_version` is the schema
//! version; each migration upgrades a file of the previous version in place.

use super::rows::{StoredTime, read_time};
use super::summary::Summary;
use super::versions::{Author, Reason};
use crate::record::file;
use anyhow::Result;
use rusqlite::{Transaction, params};
use uuid::Uuid;

/// Marks the file as a vaxentry database (`PRAGMA application_id`, "VAXE").
pub const APPLICATION_ID: i32 = 0x5641_5845;

/// Told how far a long upgrade has come: what it does, rows done, rows in all.
pub type Progress<'p> = &'p mut dyn FnMut(&str, u64, u64);

/// A step from version N-1 to version N.
pub struct Migration {
    pub version: i32,
    pub run: fn(&Transaction, Progress) -> Result<()>,
}

/// Every migration, oldest first. The last one's version is the current schema.
pub const MIGRATIONS: [Migration; 17] = [
    Migration {
        version: 1,
        run: v1_visits_and_attempts,
    },
    Migration {
        version: 2,
        run: v2_listing_patients_lots,
    },
    Migration {
        version: 3,
        run: v3_outbox,
    },
    Migration {
        version: 4,
        run: v4_utc_times,
    },
    Migration {
        version: 5,
        run: v5_claim_holder,
    },
    Migration {
        version: 6,
        run: v6_record_keys_and_doses,
    },
    Migration {
        version: 7,
        run: v7_versions,
    },
    Migration {
        version: 8,
        run: v8_search_index,
    },
    Migration {
        version: 9,
        run: v9_versions_without_copies,
    },
    Migration {
        version: 10,
        run: v10_lot_inventory,
    },
    Migration {
        version: 11,
        run: v11_endpoint_history,
    },
    Migration {
        version: 12,
        run: v12_dose_habits,
    },
    Migration {
        version: 13,
        run: v13_version_reasons_as_codes,
    },
    Migration {
        version: 14,
        run: v14_vis_habits,
    },
    Migration {
        version: 15,
        run: v15_drafts_put_aside,
    },
    Migration {
        version: 16,
        run: v16_lot_dose_volume,
    },
    Migration {
        version: 17,
        run: v17_received_visits,
    },
];

pub const CURRENT_VERSION: i32 = 17;

/// Version 17: visits received from elsewhere (state `received`, where they came from
/// and when), and the identifiers of the doses received, so that a dose received
/// again is known and an entered-in-error one voids it. The state's CHECK is widened
/// in place (SQLite's documented way to loosen a constraint: every row still meets
/// it), rather than by copying the table with its search index and triggers.
fn v17_received_visits(tx: &Transaction, _: Progress) -> Result<()> {
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.execute_batch("PRAGMA writable_schema = ON;")?;
    let widened = tx.execute(
        r#"UPDATE sqlite_schema SET sql = replace(sql, '''failed''))', '''failed'', ''received''))')
           WHERE type = 'table' AND name = 'visits'"#,
        [],
    );
    tx.execute_batch(&format!(
        "PRAGMA schema_version = {}; PRAGMA writable_schema = OFF;",
        version + 1
    ))?;
    anyhow::ensure!(
        widened? == 1,
        "the visits table's state check is not the one vaxentry made"
    );
    tx.execute_batch(
        "ALTER TABLE visits ADD COLUMN received_from TEXT;
        ALTER TABLE visits ADD COLUMN received_at TEXT;
        CREATE TABLE received_doses (
            identifier TEXT PRIMARY KEY,
            visit_id TEXT NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            dose INTEGER NOT NULL
        );",
    )?;
    Ok(())
}

/// Version 16: the volume of one dose of a lot, in mL (`lots add --ml`, or the
/// amount of the first dose saved from it), which fills a dose's amount.
fn v16_lot_dose_volume(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch("ALTER TABLE lots ADD COLUMN dose_ml TEXT NOT NULL DEFAULT '';")?;
    Ok(())
}

/// Version 15: a draft put aside for later (Ctrl+N) is told from one that was being
/// typed when vaxentry stopped, which is offered again at start.
fn v15_drafts_put_aside(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch("ALTER TABLE visits ADD COLUMN put_aside INTEGER NOT NULL DEFAULT 0;")?;
    Ok(())
}

/// Version 14: for a combination vaccine, the VIS this station hands out with it
/// (one per component, or the Multi Pediatric VIS).
fn v14_vis_habits(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch("ALTER TABLE dose_habits ADD COLUMN vis TEXT NOT NULL DEFAULT '';")?;
    Ok(())
}

/// Version 13: why each version was made is kept as a code (`amended`), not the
/// sentence shown for it, so what the lists say can change without the data.
fn v13_version_reasons_as_codes(tx: &Transaction, _: Progress) -> Result<()> {
    for (sentence, reason) in [
        ("saved", Reason::Saved),
        ("sent again as a new message", Reason::SentAgain),
        ("voided: sent as entered-in-error", Reason::Voided),
        ("amended: corrected and sent again", Reason::Amended),
        ("saved (before versions were kept)", Reason::BeforeVersions),
    ] {
        tx.execute(
            "UPDATE versions SET why = ?2 WHERE why = ?1",
            params![sentence, reason],
        )?;
    }
    Ok(())
}

/// Version 12: how each station last gave each vaccine (amount, route, site).
fn v12_dose_habits(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE dose_habits (
            station TEXT NOT NULL,
            vaccine TEXT NOT NULL,
            amount TEXT NOT NULL DEFAULT '',
            route TEXT NOT NULL DEFAULT '',
            site TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (station, vaccine)
        );",
    )?;
    Ok(())
}

/// Version 11: what the endpoint last said each patient's immunizations are (by MRN),
/// and when, so they show offline.
fn v11_endpoint_history(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE endpoint_history (
            mrn TEXT PRIMARY KEY,
            fetched_at TEXT NOT NULL,
            immunizations BLOB NOT NULL
        );",
    )?;
    Ok(())
}

/// Version 10: the lot inventory keeps each lot's NDC, and when it was retired (taken
/// off hand); lots already known are on hand.
fn v10_lot_inventory(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE lots ADD COLUMN ndc TEXT NOT NULL DEFAULT '';
        ALTER TABLE lots ADD COLUMN retired_at TEXT;
        CREATE INDEX lots_by_expiry ON lots(expiration);",
    )?;
    Ok(())
}

/// Version 9: a visit's latest version no longer copies the record and bundle the
/// visit holds (NULL means "as the visit is now"), which halved the size of a saved
/// visit. A trigger moves them into that version before they are ever replaced, so
/// no version is lost. (Record and bundle text is also stored compressed from now
/// on; the text already stored stays as it is and reads the same.)
fn v9_versions_without_copies(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE versions_v9 (
            visit_id TEXT NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            station TEXT NOT NULL,
            why TEXT NOT NULL,
            record_json,
            bundle_json,
            bundle_id TEXT NOT NULL,
            PRIMARY KEY (visit_id, number)
        );
        INSERT INTO versions_v9
            SELECT visit_id, number, at, user, station, why,
                CASE WHEN latest THEN NULL ELSE record_json END,
                CASE WHEN latest THEN NULL ELSE bundle_json END,
                bundle_id
            FROM (SELECT *, number = max(number) OVER (PARTITION BY visit_id) AS latest FROM versions);
        DROP TABLE versions;
        ALTER TABLE versions_v9 RENAME TO versions;
        CREATE TRIGGER versions_keep_replaced BEFORE UPDATE OF record_json, bundle_json ON visits
        WHEN old.record_json IS NOT new.record_json OR old.bundle_json IS NOT new.bundle_json BEGIN
            UPDATE versions SET record_json = old.record_json, bundle_json = old.bundle_json
            WHERE visit_id = old.id AND record_json IS NULL;
        END;",
    )?;
    Ok(())
}

/// How many visits the search index upgrade adds per step it reports.
const INDEX_BATCH: usize = 20_000;

/// Version 8: a full-text index (FTS5, trigram tokens) of each visit's search text,
/// so the history filter finds a word among a million visits without reading them
/// all. Triggers keep it in step with `visits.search`.
///
/// The index is keyed by `visits.search_key`, a number of its own: an implicit rowid
/// (the visits key is the TEXT id) may be renumbered by VACUUM, which would point the
/// index at the wrong visits. The index stores no text of its own (contentless); the
/// filter still checks each candidate's search text, so a match means what it always
/// did: every word appears in it as typed.
///
/// The history index orders visits by time and then by `search_key` (the order they
/// were made), so newest first is read straight from it, even when many visits share
/// one time, and a page stops reading once it is full.
fn v8_search_index(tx: &Transaction, progress: Progress) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE visits ADD COLUMN search_key INTEGER;
        CREATE VIRTUAL TABLE visits_search USING fts5(
            search, content = '', contentless_delete = 1, tokenize = 'trigram'
        );",
    )?;
    // Each visit row is rewritten to number it: in steps, saying how far it is.
    let total: i64 = tx.query_row("SELECT count(*) FROM visits", [], |r| r.get(0))?;
    let last_rowid: i64 = tx.query_row("SELECT coalesce(max(rowid), 0) FROM visits", [], |r| {
        r.get(0)
    })?;
    let mut done = 0;
    for from in (0..=last_rowid).step_by(INDEX_BATCH) {
        let upto = from + INDEX_BATCH as i64;
        done += tx.execute(
            "UPDATE visits SET search_key = rowid WHERE rowid > ?1 AND rowid <= ?2",
            params![from, upto],
        )? as u64;
        tx.execute(
            "INSERT INTO visits_search (rowid, search)
             SELECT rowid, search FROM visits WHERE rowid > ?1 AND rowid <= ?2",
            params![from, upto],
        )?;
        progress("building the history search index", done, total as u64);
    }
    tx.execute_batch(
        "CREATE UNIQUE INDEX visits_by_search_key ON visits(search_key);
        DROP INDEX visits_by_updated;
        CREATE INDEX visits_by_updated ON visits(updated_at, search_key, search);",
    )?;
    tx.execute_batch(
        "CREATE TRIGGER visits_search_insert AFTER INSERT ON visits BEGIN
            UPDATE visits SET search_key = (SELECT coalesce(max(search_key), 0) + 1 FROM visits)
                WHERE rowid = new.rowid;
            INSERT INTO visits_search (rowid, search)
                SELECT search_key, search FROM visits WHERE rowid = new.rowid;
        END;
        CREATE TRIGGER visits_search_update AFTER UPDATE OF search ON visits
        WHEN old.search IS NOT new.search BEGIN
            DELETE FROM visits_search WHERE rowid = new.search_key;
            INSERT INTO visits_search (rowid, search) VALUES (new.search_key, new.search);
        END;
        CREATE TRIGGER visits_search_delete AFTER DELETE ON visits BEGIN
            DELETE FROM visits_search WHERE rowid = old.search_key;
        END;",
    )?;
    Ok(())
}

/// Version 7: every version of each saved visit's record and bundle. A visit saved
/// before gets its current one as version 1 (the ones it replaced were not kept).
fn v7_versions(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE versions (
            visit_id TEXT NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            station TEXT NOT NULL,
            why TEXT NOT NULL,
            record_json TEXT NOT NULL,
            bundle_json TEXT NOT NULL,
            bundle_id TEXT NOT NULL,
            PRIMARY KEY (visit_id, number)
        );",
    )?;
    let saved: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT id, updated_at FROM visits WHERE state != 'draft' AND bundle_json IS NOT NULL",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let unknown = Author {
        user: String::new(),
        station: String::new(),
    };
    for (id, updated_at) in saved {
        let at = StoredTime(read_time(&updated_at).unwrap_or_default());
        tx.execute(
            "INSERT INTO versions (visit_id, number, at, user, station, why, record_json, bundle_json, bundle_id)
             SELECT id, 1, ?2, ?3, ?4, ?5, record_json, bundle_json, bundle_id FROM visits WHERE id = ?1",
            // As schema 7 wrote it; schema 13 turns it into its code.
            params![id, at, unknown.user, unknown.station, "saved (before versions were kept)"],
        )?;
    }
    Ok(())
}

/// Version 6: each saved visit's record key and the doses it gave, so a record
/// imported again, or a dose entered again, is recognised. Filled in for the visits
/// already saved; a record that no longer reads is left without them.
fn v6_record_keys_and_doses(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE visits ADD COLUMN record_key TEXT;
        CREATE INDEX visits_by_record_key ON visits(record_key);
        CREATE TABLE doses (
            visit_id TEXT NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            mrn TEXT NOT NULL,
            vaccine TEXT NOT NULL,
            given_on TEXT NOT NULL,
            lot TEXT NOT NULL
        );
        CREATE INDEX doses_by_patient ON doses(mrn, vaccine, given_on);
        CREATE INDEX doses_by_visit ON doses(visit_id);",
    )?;
    let rows: Vec<(String, String, String)> = {
        let mut stmt =
            tx.prepare("SELECT id, record_json, created_at FROM visits WHERE state != 'draft'")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    for (id, record_json, created_at) in rows {
        let (Ok(id), Ok(visit)) = (Uuid::parse_str(&id), file::from_json(&record_json)) else {
            continue;
        };
        // The time only matters for a date shortcut, which a saved record no longer has.
        let saved_at = read_time(&created_at).unwrap_or_default();
        // Keyed as this version writes the record, as import will compare it.
        let canonical = file::to_json(&visit);
        super::doses::write(
            tx,
            id,
            &visit,
            &canonical,
            saved_at.with_timezone(&chrono_tz::UTC),
        )?;
    }
    Ok(())
}

/// Version 5: who holds a visit's claim, so only the sender that holds it records
/// an outcome, and a claim can be renewed request by request.
fn v5_claim_holder(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch("ALTER TABLE visits ADD COLUMN claimed_by TEXT;")?;
    Ok(())
}

/// Version 4: every stored time in UTC (`...Z`). Earlier versions wrote the local
/// offset, and text with different offsets does not sort in time order across a DST
/// change. Values SQLite cannot read as a time are left as they are.
fn v4_utc_times(tx: &Transaction, _: Progress) -> Result<()> {
    for (table, column) in [
        ("visits", "created_at"),
        ("visits", "updated_at"),
        ("visits", "next_attempt_at"),
        ("visits", "claimed_until"),
        ("attempts", "at"),
        ("patients", "updated_at"),
        ("lots", "last_used"),
    ] {
        tx.execute(
            &format!(
                "UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%fZ', {column})
                 WHERE strftime('%Y-%m-%dT%H:%M:%fZ', {column}) IS NOT NULL"
            ),
            [],
        )?;
    }
    Ok(())
}

/// Version 1: visits with their record and bundle, and the submission attempts.
fn v1_visits_and_attempts(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE visits (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ('draft', 'saved', 'queued', 'submitted', 'failed')),
            record_json TEXT NOT NULL,
            bundle_json TEXT,
            bundle_id TEXT UNIQUE,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            visit_id TEXT NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            bundle_id TEXT NOT NULL,
            at TEXT NOT NULL,
            http_status INTEGER,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX attempts_by_visit ON attempts(visit_id, at);",
    )?;
    Ok(())
}

/// Version 3: the outbox: when each queued visit is next tried, how often it was,
/// which process is sending it, the last outcome and answer, and how many times it
/// was sent again as a new message.
fn v3_outbox(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE visits ADD COLUMN attempt_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE visits ADD COLUMN next_attempt_at TEXT;
        ALTER TABLE visits ADD COLUMN claimed_until TEXT;
        ALTER TABLE visits ADD COLUMN last_outcome TEXT NOT NULL DEFAULT '';
        ALTER TABLE visits ADD COLUMN response_body TEXT;
        ALTER TABLE visits ADD COLUMN message_seq INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX visits_due ON visits(state, next_attempt_at);",
    )?;
    Ok(())
}

/// Version 2: listing columns for the history screen (filled in for existing rows),
/// and the patients and lots that returning-patient lookup and the lot inventory read.
/// The history index carries the search text, so filtering reads the index, not the
/// large record and bundle columns.
fn v2_listing_patients_lots(tx: &Transaction, _: Progress) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE visits ADD COLUMN mrn TEXT NOT NULL DEFAULT '';
        ALTER TABLE visits ADD COLUMN patient_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE visits ADD COLUMN vaccines TEXT NOT NULL DEFAULT '';
        ALTER TABLE visits ADD COLUMN visit_date TEXT NOT NULL DEFAULT '';
        ALTER TABLE visits ADD COLUMN search TEXT NOT NULL DEFAULT '';
        CREATE INDEX visits_by_updated ON visits(updated_at DESC, search);
        CREATE INDEX visits_by_state ON visits(state, updated_at);
        CREATE INDEX visits_by_mrn ON visits(mrn);
        CREATE TABLE patients (
            mrn TEXT PRIMARY KEY,
            family TEXT NOT NULL,
            given TEXT NOT NULL,
            birth_date TEXT NOT NULL,
            record_json TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX patients_by_name ON patients(family COLLATE NOCASE, given COLLATE NOCASE);
        CREATE TABLE lots (
            vaccine TEXT NOT NULL,
            lot TEXT NOT NULL,
            manufacturer TEXT NOT NULL DEFAULT '',
            expiration TEXT NOT NULL DEFAULT '',
            last_used TEXT NOT NULL,
            PRIMARY KEY (vaccine, lot)
        );
        CREATE INDEX lots_by_vaccine ON lots(vaccine, last_used DESC);",
    )?;
    let rows: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare("SELECT id, record_json, updated_at FROM visits")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    for (id, record_json, updated_at) in rows {
        let s = Summary::of_record_json(&record_json, &updated_at);
        tx.execute(
            "UPDATE visits SET mrn = ?2, patient_name = ?3, vaccines = ?4, visit_date = ?5, search = ?6 WHERE id = ?1",
            params![id, s.mrn, s.patient_name, s.vaccines, s.visit_date, s.search],
        )?;
    }
    Ok(())
}
