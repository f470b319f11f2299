//! The local database (SQLite, one file in the data directory) and the exported
//! bundle files. The only module that touches the database.
//!
//! Visits move through states: `draft` (autosaved while typing) -> `saved` (record
//! and bundle fixed, exported) -> `queued` -> `submitted` or `failed`.

mod doses;
pub mod endpoint_history;
mod files;
pub mod habits;
pub mod lots;
pub mod outbox;
mod packed;
pub mod patients;
pub mod rows;
pub mod schema;
pub mod summary;
pub mod versions;

use crate::clock::ClinicTime;
use crate::fhir::Message;
use crate::record::{FieldId, Fields, Visit, file};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
pub use files::StagedFiles;
use packed::Packed;
pub use rows::{AttemptOutcome, StoredTime, VisitState};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params, params_from_iter};
use schema::{APPLICATION_ID, CURRENT_VERSION, MIGRATIONS};
use std::path::{Path, PathBuf};
use std::time::Duration;
pub use summary::Summary;
use uuid::Uuid;

pub const DATABASE_FILE: &str = "vaxentry.sqlite3";
/// Held while a process opens the database.
const LOCK_FILE: &str = "vaxentry.lock";
pub const DATA_DIR_ENV: &str = "VAXENTRY_DATA_DIR";

/// Where the data lives: `--data-dir`, else `$VAXENTRY_DATA_DIR`, else the user's
/// data directory.
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "vaxentry")
        .map(|d| d.data_dir().to_path_buf())
        .context(
            "cannot find a home folder for the data; give one with --data-dir or VAXENTRY_DATA_DIR",
        )
}

/// Why a database file could not be opened. Nothing is changed in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "{path} is not a vaxentry database (it belongs to another program). Nothing was changed. Use another --data-dir, or move the file away."
    )]
    Foreign { path: PathBuf },
    #[error(
        "{path} was made by a newer vaxentry (schema {found}; this one knows up to {supported}). Nothing was changed. Use the newer vaxentry, or another --data-dir."
    )]
    TooNew {
        path: PathBuf,
        found: i32,
        supported: i32,
    },
    #[error(
        "{path} is damaged ({detail}). Nothing was changed. Move it away and restore it from a backup; vaxentry then starts a new one."
    )]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "{step}the disk holding {path} is full; free some space and try again. The database is not damaged, and nothing was lost that was reported saved."
    )]
    DiskFull {
        path: PathBuf,
        /// What was being done ("cannot write …/bundles/….json: "), when known.
        step: String,
    },
    #[error(
        "{path} cannot be used ({detail}); check that the folder is there and yours. Nothing was changed."
    )]
    Unusable { path: PathBuf, detail: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// One row of the history.
#[derive(Clone, Debug, PartialEq)]
pub struct VisitRow {
    pub id: Uuid,
    pub state: VisitState,
    pub mrn: String,
    pub patient_name: String,
    pub vaccines: String,
    pub visit_date: String,
    pub updated_at: DateTime<Utc>,
    /// Its latest version's number (0 for a draft, which has none), and whether that
    /// version is an amendment.
    pub version: u32,
    pub amended: bool,
}

impl VisitRow {
    /// Its state as the lists show it: with the version once there is more than one,
    /// and "amended" when the latest is an amendment.
    pub fn state_label(&self) -> String {
        match (self.amended, self.version) {
            (true, n) => format!("amended v{n}"),
            (false, n) if n > 1 => format!("{} v{n}", self.state.as_str()),
            _ => self.state.as_str().to_string(),
        }
    }
}

/// A stored visit in full.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredVisit {
    pub row: VisitRow,
    pub record_json: String,
    pub bundle_json: Option<String>,
    pub bundle_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// How many times it was sent again as a new message.
    pub message_seq: u32,
}

impl StoredVisit {
    pub fn visit(&self) -> Result<Visit> {
        file::from_json(&self.record_json).map_err(|e| {
            anyhow::anyhow!(
                "the stored record of visit {} cannot be read: {e}",
                self.row.id
            )
        })
    }
}

/// What the history asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListQuery {
    /// Words that must all appear (name, MRN, vaccine code or name, date).
    pub text: String,
    pub state: Option<VisitState>,
    /// Only visits updated at or after this moment.
    pub since: Option<DateTime<Utc>>,
    pub offset: usize,
    pub limit: usize,
}

/// A saved visit: where its bundle file went.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    pub export_path: PathBuf,
}

pub struct Store {
    conn: Connection,
    dir: PathBuf,
    /// Worth telling the user (a data folder others can open).
    pub warnings: Vec<String>,
    /// Who makes the versions this store writes.
    pub author: versions::Author,
    /// While a [`Store::batch`] runs: the bundle files its saves wrote, not yet in place.
    batch: Option<files::StagedFiles>,
}

/// The transaction of one write: its own, or a savepoint in the open batch's.
pub(crate) enum WriteTx<'c> {
    Own(rusqlite::Transaction<'c>),
    InBatch(rusqlite::Savepoint<'c>),
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            WriteTx::Own(tx) => tx,
            WriteTx::InBatch(sp) => sp,
        }
    }
}

impl WriteTx<'_> {
    /// A write's transaction: its own (taking the write lock at once, so it never
    /// waits on another writer halfway), or a savepoint in the open batch.
    pub(crate) fn begin(conn: &mut Connection, in_batch: bool) -> rusqlite::Result<WriteTx<'_>> {
        if in_batch {
            conn.savepoint().map(WriteTx::InBatch)
        } else {
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map(WriteTx::Own)
        }
    }

    pub(crate) fn commit(self) -> rusqlite::Result<()> {
        match self {
            WriteTx::Own(tx) => tx.commit(),
            WriteTx::InBatch(sp) => sp.commit(),
        }
    }
}

/// Where a message's bundle file goes: `<dir>/bundles/YYYY-MM-DD/<bundle-id>.json`.
fn export_path(dir: &Path, message: &Message, now: ClinicTime) -> PathBuf {
    dir.join("bundles")
        .join(now.format("%Y-%m-%d").to_string())
        .join(format!("{}.json", message.bundle_id))
}

/// Where bundle files are written before they are put in place: one folder, so what a
/// killed process left there is found at once.
fn staging_dir(dir: &Path) -> PathBuf {
    dir.join("bundles").join(".staging")
}

/// Makes the folders a bundle file goes in (and is staged in), private.
fn make_export_dirs(dir: &Path, export_path: &Path) -> Result<()> {
    files::private_dir(&dir.join("bundles"))?;
    files::private_dir(&staging_dir(dir))?;
    if let Some(day) = export_path.parent() {
        files::private_dir(day)?;
    }
    Ok(())
}

/// Writes a message's bundle file under `<dir>/bundles/YYYY-MM-DD/`.
pub(crate) fn write_export(dir: &Path, message: &Message, now: ClinicTime) -> Result<PathBuf> {
    let export_path = export_path(dir, message, now);
    make_export_dirs(dir, &export_path)?;
    files::refuse_link(&export_path)?;
    files::write_atomically(
        Some(&staging_dir(dir)),
        &export_path,
        message.json.as_bytes(),
    )?;
    Ok(export_path)
}

/// Removes the temporary files a killed process left in `folder` (an export folder);
/// how many went.
pub fn remove_abandoned(folder: &Path) -> usize {
    files::remove_abandoned(folder)
}

/// Makes the folder for exported bundle files (private when vaxentry creates it);
/// returns a warning when it is an existing folder others can open.
pub fn export_dir_create(dir: &Path) -> Result<Option<String>> {
    files::private_dir(dir)
}

/// The state of a visit, if it is in the database.
pub(crate) fn state_of(conn: &Connection, id: Uuid) -> Result<Option<VisitState>> {
    Ok(conn
        .query_row(
            "SELECT state FROM visits WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?)
}

/// `now` as the database stores times.
pub(crate) fn stamp(now: ClinicTime) -> StoredTime {
    StoredTime(now.to_utc())
}

impl Store {
    /// Opens (creating if needed) the database in `dir`, upgrading an older schema.
    pub fn open(dir: &Path) -> Result<Store, OpenError> {
        Store::open_reporting(dir, &mut |_, _, _| {})
    }

    /// Opens as [`Store::open`] does, telling `progress` how far a long upgrade is. A
    /// data folder that cannot be written (a read-only disk or a folder that is not
    /// the user's to write) is opened read-only: what it holds can be read, nothing can
    /// be saved, and a warning says so.
    pub fn open_reporting(dir: &Path, progress: schema::Progress) -> Result<Store, OpenError> {
        let warnings: Vec<String> = files::private_dir(dir)?.into_iter().collect();
        // Opening is one process at a time (a cron job and the form may start together
        // on a folder that is not there yet): creating the file, checking whose it is
        // and upgrading it happen under a lock; using it afterwards does not.
        let lock_path = dir.join(LOCK_FILE);
        let lock = match files::private_options_keep().open(&lock_path) {
            Err(e) if cannot_write(&e) && dir.join(DATABASE_FILE).is_file() => {
                return Store::open_read_only(dir);
            }
            other => other.with_context(|| format!("cannot create {}", lock_path.display()))?,
        };
        lock.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let path = dir.join(DATABASE_FILE);
        files::refuse_link(&path)?;
        if !path.exists() {
            // Create the file private before SQLite opens it; its -wal and -shm files
            // take the same permissions.
            files::private_options_keep()
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
        }
        files::make_private(&path)?;
        files::remove_abandoned(&staging_dir(dir));
        let damaged = |e: rusqlite::Error| sqlite_problem(&path, e);
        let (conn, _) = connect(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        // Damage deeper in the file is found when it is read, and reported then: a
        // full check at every start would read the whole file.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(damaged)?;
        let mut store = Store {
            conn,
            dir: dir.to_path_buf(),
            warnings,
            author: versions::Author::of_this_process(),
            batch: None,
        };
        store.migrate_reporting(CURRENT_VERSION, progress)?;
        Ok(store)
    }

    /// Opens the database in `dir` to read only: nothing is created, written or
    /// upgraded there. Refused when the file needs an upgrade, which writes.
    pub fn open_read_only(dir: &Path) -> Result<Store, OpenError> {
        let path = dir.join(DATABASE_FILE);
        files::refuse_link(&path)?;
        let (conn, version) = connect(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        if version < CURRENT_VERSION {
            return Err(OpenError::Unusable {
                path,
                detail: format!(
                    "it is at schema {version} and needs an upgrade to {CURRENT_VERSION}, which writes to it, but the folder is read-only; open it once where it can be written"
                ),
            });
        }
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
            warnings: vec![format!(
                "the data folder {} cannot be written: what it holds is shown, and nothing can be saved or sent from here",
                dir.display()
            )],
            author: versions::Author::of_this_process(),
            batch: None,
        })
    }

    /// Runs the migrations up to `target`. Public so tests can build older files.
    pub fn migrate(&mut self, target: i32) -> Result<()> {
        self.migrate_reporting(target, &mut |_, _, _| {})
    }

    fn migrate_reporting(&mut self, target: i32, progress: schema::Progress) -> Result<()> {
        let (version, app_id): (i32, i32) = self.conn.query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // An up-to-date file is not written to at all.
        if version >= target && app_id == APPLICATION_ID {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for m in MIGRATIONS
            .iter()
            .filter(|m| m.version > version && m.version <= target)
        {
            (m.run)(&tx, &mut *progress)
                .with_context(|| format!("cannot upgrade the database to schema {}", m.version))?;
            tx.pragma_update(None, "user_version", m.version)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
        Ok(())
    }

    /// Opens a file for tests of migrations: creates it at an older schema `version`.
    pub fn create_at_version(dir: &Path, version: i32) -> Result<Store> {
        files::private_dir(dir)?;
        let conn = Connection::open(dir.join(DATABASE_FILE))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")?;
        rusqlite::vtab::array::load_module(&conn)?;
        let mut store = Store {
            conn,
            dir: dir.to_path_buf(),
            warnings: Vec::new(),
            author: versions::Author::of_this_process(),
            batch: None,
        };
        store.migrate(version)?;
        Ok(store)
    }

    /// Runs `work` as one batch: its saves share one transaction, and their bundle
    /// files one sync of the disk. A save that fails inside is undone alone; when
    /// `work` fails, nothing of the batch is kept. When this returns Ok, everything
    /// saved in it is durable, bundle files included; until then, none of it is.
    pub fn batch<T>(&mut self, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        if self.batch.is_some() {
            return work(self);
        }
        let result = (|| -> Result<T> {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.batch = Some(files::StagedFiles::staged_in(staging_dir(&self.dir)));
            let value = work(self)?;
            // The files' contents first, then the rows that say they are saved, then
            // the files under their names: a crash leaves no file for a visit that
            // was not saved, and none cut short.
            let mut staged = self.batch.take().unwrap_or_default();
            staged.make_durable()?;
            self.conn.execute_batch("COMMIT")?;
            staged.put_in_place()?;
            Ok(value)
        })();
        self.batch = None;
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result.map_err(|e| explain(&self.path(), e))
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(DATABASE_FILE)
    }

    pub fn schema_version(&self) -> Result<i32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn save_draft_unchecked(&mut self, id: Uuid, visit: &Visit, now: ClinicTime) -> Result<()> {
        let s = Summary::of(visit, now);
        let at = stamp(now);
        self.conn
            .execute(
                "INSERT INTO visits (id, state, record_json, created_at, updated_at, mrn, patient_name, vaccines, visit_date, search)
                 VALUES (?1, 'draft', ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(id) DO UPDATE SET record_json = ?2, updated_at = ?3, mrn = ?4, patient_name = ?5,
                     vaccines = ?6, visit_date = ?7, search = ?8
                 WHERE visits.state = 'draft'",
                params![id.to_string(), packed::pack(&file::to_json(visit)), at, s.mrn, s.patient_name, s.vaccines, s.visit_date, s.search],
            )
            .context("cannot save the draft")?;
        Ok(())
    }

    fn save_unchecked(
        &mut self,
        id: Uuid,
        visit: &Visit,
        message: &Message,
        now: ClinicTime,
    ) -> Result<Saved> {
        // Refused before anything is written (the same check runs again in the
        // transaction, for a save from another process meanwhile).
        let state = state_of(&self.conn, id)?;
        if let Some(state) = state.filter(|s| !matches!(s, VisitState::Draft | VisitState::Saved)) {
            anyhow::bail!(
                "this visit is already {} and cannot be saved again; start a new visit to record more",
                state.as_str()
            );
        }
        if let Some(staged) = &mut self.batch {
            let export_path = export_path(&self.dir, message, now);
            make_export_dirs(&self.dir, &export_path)?;
            staged.stage(&export_path, message.json.as_bytes())?;
            let result = self.save_rows(id, visit, message, now);
            if result.is_err()
                && let Some(staged) = &mut self.batch
            {
                staged.unstage_last();
            }
            return result.map(|()| Saved { export_path });
        }
        let was_there = export_path(&self.dir, message, now).exists();
        let export_path = write_export(&self.dir, message, now)?;
        let result = self.save_rows(id, visit, message, now);
        if result.is_err() && !was_there {
            // Not saved: a new bundle file must not stay behind as if it had been.
            let _ = std::fs::remove_file(&export_path);
        }
        result.map(|()| Saved { export_path })
    }

    /// The rows of a save, in one transaction.
    fn save_rows(
        &mut self,
        id: Uuid,
        visit: &Visit,
        message: &Message,
        now: ClinicTime,
    ) -> Result<()> {
        let (bundle_json, bundle_id) = (message.json.as_str(), message.bundle_id.as_str());
        let record_json = file::to_json(visit);
        let s = Summary::of(visit, now);
        let at = stamp(now);
        let tx = WriteTx::begin(&mut self.conn, self.batch.is_some())?;
        let state = state_of(&tx, id)?;
        if let Some(state) = state.filter(|s| !matches!(s, VisitState::Draft | VisitState::Saved)) {
            anyhow::bail!(
                "this visit is already {} and cannot be saved again; start a new visit to record more",
                state.as_str()
            );
        }
        tx.execute(
            "INSERT INTO visits (id, state, record_json, bundle_json, bundle_id, created_at, updated_at, mrn, patient_name, vaccines, visit_date, search)
             VALUES (?1, 'saved', ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT(id) DO UPDATE SET state = 'saved', record_json = ?2, bundle_json = ?3, bundle_id = ?4, updated_at = ?5,
                 mrn = ?6, patient_name = ?7, vaccines = ?8, visit_date = ?9, search = ?10",
            params![id.to_string(), packed::pack(&record_json), packed::pack(bundle_json), bundle_id, at, s.mrn, s.patient_name, s.vaccines, s.visit_date, s.search],
        )?;
        let p = &visit.patient;
        tx.execute(
            "INSERT INTO patients (mrn, family, given, birth_date, record_json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(mrn) DO UPDATE SET family = ?2, given = ?3, birth_date = ?4, record_json = ?5, updated_at = ?6",
            params![s.mrn, p.get(FieldId::Family), p.get(FieldId::Given), p.get(FieldId::BirthDate), packed::pack(&file::to_json(&Visit { patient: p.clone(), doses: vec![] })), at],
        )?;
        lots::record_used(&tx, visit, now)?;
        habits::record(&tx, &self.author.station, visit, now)?;
        doses::write(&tx, id, visit, &record_json, now)?;
        versions::add(&tx, id, versions::SAVED, &self.author, now)?;
        tx.commit().context("cannot save the visit")?;
        Ok(())
    }

    fn delete_draft_unchecked(&mut self, id: Uuid) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM visits WHERE id = ?1 AND state = 'draft'",
            [id.to_string()],
        )? > 0)
    }

    fn latest_draft_unchecked(&self) -> Result<Option<StoredVisit>> {
        let id: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM visits WHERE state = 'draft' ORDER BY updated_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match id.map(|i| Uuid::parse_str(&i)).transpose()? {
            Some(id) => self.get(id),
            None => Ok(None),
        }
    }

    fn get_unchecked(&self, id: Uuid) -> Result<Option<StoredVisit>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {LISTED}, record_json, bundle_json, bundle_id, created_at, message_seq
                     FROM visits WHERE id = ?1"
                ),
                [id.to_string()],
                |r| {
                    Ok(StoredVisit {
                        row: row_of(r)?,
                        record_json: r.get::<_, Packed>(LISTED_COLUMNS)?.0,
                        bundle_json: packed::optional(r, LISTED_COLUMNS + 1)?,
                        bundle_id: r.get(LISTED_COLUMNS + 2)?,
                        created_at: r.get::<_, StoredTime>(LISTED_COLUMNS + 3)?.0,
                        message_seq: r.get(LISTED_COLUMNS + 4)?,
                    })
                },
            )
            .optional()?)
    }

    fn each_listed_unchecked(
        &self,
        query: &ListQuery,
        each: &mut dyn FnMut(VisitRow) -> Result<()>,
    ) -> Result<()> {
        let mut sql = format!("SELECT {LISTED} FROM visits WHERE 1");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        let words: Vec<String> = query
            .text
            .to_lowercase()
            .split_whitespace()
            .take(6)
            .map(str::to_string)
            .collect();
        // The index finds the visits holding every word of three letters or more (its
        // tokens are three letters); the search text of each is then checked for
        // every word as typed, so the index only ever makes the filter faster.
        let indexed: Vec<String> = words
            .iter()
            .filter(|w| w.chars().count() >= 3)
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect();
        if !indexed.is_empty()
            && let Some(keys) = self.indexed_matches(&indexed.join(" "), query)?
        {
            args.push(Box::new(keys));
            sql.push_str(&format!(" AND search_key IN rarray(?{})", args.len()));
        }
        for word in &words {
            args.push(Box::new(format!("%{}%", like_literal(word))));
            sql.push_str(&format!(" AND search LIKE ?{} ESCAPE '\\'", args.len()));
        }
        if let Some(state) = query.state {
            args.push(Box::new(state.as_str()));
            sql.push_str(&format!(" AND state = ?{}", args.len()));
        }
        if let Some(since) = query.since {
            args.push(Box::new(rows::stored_time(since)));
            sql.push_str(&format!(" AND updated_at >= ?{}", args.len()));
        }
        sql.push_str(&format!(
            " ORDER BY updated_at DESC, search_key DESC LIMIT {} OFFSET {}",
            query.limit.max(1),
            query.offset
        ));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        // One row at a time: a million visits are listed without holding them all.
        for row in stmt.query_map(params_from_iter(args.iter()), row_of)? {
            each(row?)?;
        }
        Ok(())
    }

    /// The `search_key`s of the visits the search index finds for `match_expression`,
    /// or `None` when there are so many that walking the history newest first until a
    /// page is full is quicker than reading them all and sorting. Walking reads about
    /// `page × visits / matches` entries of the history index, reading about three
    /// times as much per match, so the two break even near
    /// `matches² = page × visits / 3`.
    fn indexed_matches(
        &self,
        match_expression: &str,
        query: &ListQuery,
    ) -> Result<Option<rusqlite::vtab::array::Array>> {
        let visits: i64 =
            self.conn
                .query_row("SELECT coalesce(max(search_key), 0) FROM visits", [], |r| {
                    r.get(0)
                })?;
        let page = (query.offset + query.limit.max(1)) as f64;
        let break_even = (page * visits as f64 / 3.0).sqrt().ceil() as usize;
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid FROM visits_search WHERE visits_search MATCH ?1 LIMIT ?2",
        )?;
        let keys = stmt
            .query_map(params![match_expression, break_even as i64], |r| {
                r.get::<_, i64>(0)
            })?
            .map(|key| key.map(rusqlite::types::Value::Integer))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((keys.len() < break_even).then(|| std::rc::Rc::new(keys)))
    }

    fn count_unchecked(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM visits", [], |r| r.get(0))?)
    }

    // The public operations: a damaged file is reported as such, naming the file.

    /// Keeps the form's in-progress visit. Only a draft is ever overwritten this way.
    pub fn save_draft(&mut self, id: Uuid, visit: &Visit, now: ClinicTime) -> Result<()> {
        let result = self.save_draft_unchecked(id, visit, now);
        result.map_err(|e| explain(&self.path(), e))
    }

    /// Saves a finished visit and its bundle in one transaction, and exports the
    /// bundle file. Saving the same visit again replaces it; it never makes two.
    pub fn save(
        &mut self,
        id: Uuid,
        visit: &Visit,
        message: &Message,
        now: ClinicTime,
    ) -> Result<Saved> {
        let result = self.save_unchecked(id, visit, message, now);
        result.map_err(|e| explain(&self.path(), e))
    }

    /// Deletes a draft; other states are never deleted. Returns whether one went.
    pub fn delete_draft(&mut self, id: Uuid) -> Result<bool> {
        let result = self.delete_draft_unchecked(id);
        result.map_err(|e| explain(&self.path(), e))
    }

    /// The draft touched last, if any: offered for resuming at start.
    pub fn latest_draft(&self) -> Result<Option<StoredVisit>> {
        let result = self.latest_draft_unchecked();
        result.map_err(|e| explain(&self.path(), e))
    }

    /// One visit in full.
    pub fn get(&self, id: Uuid) -> Result<Option<StoredVisit>> {
        let result = self.get_unchecked(id);
        result.map_err(|e| explain(&self.path(), e))
    }

    /// Visits matching the query, newest first, one page.
    pub fn list(&self, query: &ListQuery) -> Result<Vec<VisitRow>> {
        let mut rows = Vec::new();
        self.each_listed(query, &mut |row| {
            rows.push(row);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Hands each visit matching the query to `each`, newest first, one at a time;
    /// an error from `each` stops the listing.
    pub fn each_listed(
        &self,
        query: &ListQuery,
        each: &mut dyn FnMut(VisitRow) -> Result<()>,
    ) -> Result<()> {
        let result = self.each_listed_unchecked(query, each);
        result.map_err(|e| explain(&self.path(), e))
    }

    /// Runs `work` with commits that are not synced to the disk one by one (SQLite's
    /// `synchronous = NORMAL`): for recording send outcomes, which come many a second.
    /// `work` calls [`Store::sync_to_disk`] when what it wrote must be durable, and it
    /// is synced once more at the end. A crash in between loses only the outcomes
    /// since the last sync, never a save: the visits stay queued, and their messages
    /// go again with the same Bundle.id, which receivers take once.
    pub fn with_deferred_syncs<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(|e| explain(&self.path(), e.into()))?;
        let result = work(self);
        let synced = self.sync_to_disk();
        let full = self.conn.execute_batch("PRAGMA synchronous = FULL");
        let value = result?;
        synced?;
        full.map_err(|e| explain(&self.path(), e.into()))?;
        Ok(value)
    }

    /// Makes every commit so far durable: syncs the write-ahead log, where SQLite has
    /// already written them.
    pub fn sync_to_disk(&self) -> Result<()> {
        let wal = self.dir.join(format!("{DATABASE_FILE}-wal"));
        let synced = match std::fs::File::open(&wal) {
            Ok(file) => file.sync_all(),
            // No log: everything is in the database file, synced at the checkpoint.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
        synced
            .with_context(|| format!("cannot sync {}", wal.display()))
            .map_err(|e| explain(&self.path(), e))
    }

    /// How many visits updated at or after `since` have a bundle, and hands each
    /// bundle (its id and text) to `each`, newest first, one at a time.
    pub fn each_bundle(
        &self,
        since: Option<DateTime<Utc>>,
        count: &mut dyn FnMut(u64),
        each: &mut dyn FnMut(&str, &str) -> Result<()>,
    ) -> Result<()> {
        let result = (|| -> Result<()> {
            let since = since.map(rows::stored_time).unwrap_or_default();
            let total: i64 = self.conn.query_row(
                "SELECT count(*) FROM visits WHERE bundle_json IS NOT NULL AND updated_at >= ?1",
                [&since],
                |r| r.get(0),
            )?;
            count(total as u64);
            let mut stmt = self.conn.prepare(
                "SELECT bundle_id, bundle_json FROM visits
                 WHERE bundle_json IS NOT NULL AND bundle_id IS NOT NULL AND updated_at >= ?1
                 ORDER BY updated_at DESC, search_key DESC",
            )?;
            let mut rows = stmt.query([&since])?;
            while let Some(row) = rows.next()? {
                let bundle_id: String = row.get(0)?;
                let json = row.get::<_, Packed>(1)?.0;
                each(&bundle_id, &json)?;
            }
            Ok(())
        })();
        result.map_err(|e| explain(&self.path(), e))
    }

    /// The ids of visits whose id starts with `prefix` (lower case hex), at most `limit`.
    pub fn ids_starting(&self, prefix: &str, limit: usize) -> Result<Vec<Uuid>> {
        let result = (|| -> Result<Vec<Uuid>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id FROM visits WHERE substr(id, 1, length(?1)) = ?1 LIMIT ?2",
            )?;
            let ids = stmt
                .query_map(params![prefix, limit as i64], |r| id_column(r, 0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ids)
        })();
        result.map_err(|e| explain(&self.path(), e))
    }

    /// The patient last saved under this MRN, if any.
    pub fn patient(&self, mrn: &str) -> Result<Option<Fields>> {
        let result = (|| -> Result<Option<Fields>> {
            let record: Option<String> = self
                .conn
                .query_row(
                    "SELECT record_json FROM patients WHERE mrn = ?1",
                    [mrn.trim()],
                    |r| r.get::<_, Packed>(0).map(|p| p.0),
                )
                .optional()?;
            match record {
                None => Ok(None),
                Some(json) => file::from_json(&json)
                    .map(|v| Some(v.patient))
                    .map_err(|e| anyhow::anyhow!("the stored patient {mrn} cannot be read: {e}")),
            }
        })();
        result.map_err(|e| explain(&self.path(), e))
    }

    /// How many visits there are.
    pub fn count(&self) -> Result<i64> {
        let result = self.count_unchecked();
        result.map_err(|e| explain(&self.path(), e))
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// Opens the database file at `path` with `flags`, and checks it is vaxentry's (or new)
/// and not from a newer vaxentry; the connection and the file's schema version.
fn connect(path: &Path, flags: OpenFlags) -> Result<(Connection, i32), OpenError> {
    let damaged = |e: rusqlite::Error| sqlite_problem(path, e);
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(damaged)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(damaged)?;
    rusqlite::vtab::array::load_module(&conn).map_err(damaged)?;
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                OpenError::Foreign {
                    path: path.to_path_buf(),
                }
            }
            other => damaged(other),
        })?;
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(damaged)?;
    let has_tables: bool = conn
        .query_row("SELECT count(*) > 0 FROM sqlite_master", [], |r| r.get(0))
        .map_err(damaged)?;
    if app_id != APPLICATION_ID && (has_tables || app_id != 0) {
        return Err(OpenError::Foreign {
            path: path.to_path_buf(),
        });
    }
    if version > CURRENT_VERSION {
        return Err(OpenError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: CURRENT_VERSION,
        });
    }
    Ok((conn, version))
}

/// The folder refuses writing: a read-only disk, or permissions.
fn cannot_write(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// `text` for a LIKE pattern with `ESCAPE '\'`: its `%`, `_` and `\` taken literally.
pub(crate) fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// What SQLite's error means for the user: only a corrupt file is "damaged" (and
/// only then is moving it away the advice); a full disk or a folder that cannot be
/// used say so.
fn sqlite_problem(path: &Path, e: rusqlite::Error) -> OpenError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    match code {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            OpenError::Damaged {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        }
        Some(rusqlite::ErrorCode::DiskFull) => OpenError::DiskFull {
            path: path.to_path_buf(),
            step: String::new(),
        },
        _ => OpenError::Unusable {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
    }
}

/// Turns SQLite's report of a damaged file or a full disk into one that names the
/// file and says what to do; other errors pass as they are.
fn explain(path: &Path, e: anyhow::Error) -> anyhow::Error {
    let failure = e
        .chain()
        .find_map(|cause| match cause.downcast_ref::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(f, _)) => Some(f.code),
            _ => None,
        });
    // A value vaxentry never writes (text that is not UTF-8, a time or state that
    // does not read): the file's contents were changed behind its back.
    let unreadable_value = e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::Utf8Error(..) | rusqlite::Error::FromSqlConversionFailure(..))
        )
    });
    let disk_full = e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
    });
    // What was being done: the context the error was given, above its cause.
    let step = match e.chain().nth(1) {
        Some(_) => format!("{e}: "),
        None => String::new(),
    };
    match failure {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            OpenError::Damaged {
                path: path.to_path_buf(),
                detail: format!("{e:#}"),
            }
            .into()
        }
        _ if unreadable_value => OpenError::Damaged {
            path: path.to_path_buf(),
            detail: format!("{e:#}"),
        }
        .into(),
        Some(rusqlite::ErrorCode::DiskFull) => OpenError::DiskFull {
            path: path.to_path_buf(),
            step,
        }
        .into(),
        _ if disk_full => OpenError::DiskFull {
            path: path.to_path_buf(),
            step,
        }
        .into(),
        _ => e,
    }
}

/// The listing columns of `visits`, as [`row_of`] reads them (the latest version's
/// number and reason are read from `versions` by its key, for the rows listed only).
pub(crate) const LISTED: &str = "id, state, mrn, patient_name, vaccines, visit_date, updated_at,
    (SELECT max(number) FROM versions WHERE visit_id = visits.id),
    (SELECT why FROM versions WHERE visit_id = visits.id ORDER BY number DESC LIMIT 1)";
/// How many columns [`LISTED`] has; further columns of a query follow them.
pub(crate) const LISTED_COLUMNS: usize = 9;

/// A row of the [`LISTED`] columns.
pub(crate) fn row_of(r: &rusqlite::Row) -> rusqlite::Result<VisitRow> {
    Ok(VisitRow {
        id: id_column(r, 0)?,
        state: r.get(1)?,
        mrn: r.get(2)?,
        patient_name: r.get(3)?,
        vaccines: r.get(4)?,
        visit_date: r.get(5)?,
        updated_at: r.get::<_, StoredTime>(6)?.0,
        version: r.get::<_, Option<u32>>(7)?.unwrap_or(0),
        amended: r.get::<_, Option<String>>(8)?.as_deref() == Some(versions::AMENDED),
    })
}

/// A visit id column.
pub(crate) fn id_column(r: &rusqlite::Row, index: usize) -> rusqlite::Result<Uuid> {
    let text: String = r.get(index)?;
    Uuid::parse_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn deferred_syncs_end_with_every_commit_synced_even_on_an_error() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/tmp")
            .join(format!("vaxentry-deferred-{}", Uuid::new_v4()));
        let mut store = Store::open(&dir).unwrap();
        let synchronous = |store: &Store| -> i64 {
            store
                .conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(synchronous(&store), 2, "saves are synced one by one (FULL)");
        let failed: Result<()> = store.with_deferred_syncs(|store| {
            assert_eq!(synchronous(store), 1, "outcomes are not (NORMAL)");
            store.sync_to_disk()?;
            anyhow::bail!("the endpoint went away")
        });
        assert!(failed.is_err());
        assert_eq!(synchronous(&store), 2, "and saves are again afterwards");
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_a_corrupt_file_is_called_damaged() {
        let path = Path::new("/data/vaxentry.sqlite3");
        let full = sqlite_problem(path, failure(rusqlite::ffi::SQLITE_FULL)).to_string();
        assert!(
            full.contains("disk") && full.contains("full") && !full.contains("Move it away"),
            "{full}"
        );
        let io = sqlite_problem(path, failure(rusqlite::ffi::SQLITE_IOERR)).to_string();
        assert!(
            !io.contains("damaged") && !io.contains("Move it away"),
            "{io}"
        );
        let corrupt = sqlite_problem(path, failure(rusqlite::ffi::SQLITE_CORRUPT)).to_string();
        assert!(
            corrupt.contains("damaged") && corrupt.contains("Move it away"),
            "{corrupt}"
        );
        let while_saving = explain(
            path,
            anyhow::Error::from(failure(rusqlite::ffi::SQLITE_FULL)),
        );
        assert!(
            format!("{while_saving:#}").contains("full"),
            "{while_saving:#}"
        );
        let io_full = explain(
            path,
            anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::StorageFull)),
        );
        assert!(format!("{io_full:#}").contains("full"), "{io_full:#}");
        // The step that failed is named: writing a bundle file, saving the draft.
        for step in [
            "cannot write /data/bundles/2026-11-25/b.json",
            "cannot save the draft",
        ] {
            let full = explain(
                path,
                anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::StorageFull))
                    .context(step),
            );
            assert!(
                format!("{full:#}").starts_with(&format!("{step}: the disk holding")),
                "{full:#}"
            );
        }
    }
}
