//! The local database (SQLite, one file in the data directory) and the exported
//! bundle files. The only module that touches the database.
//!
//! Visits move through states: `draft` (autosaved while typing) -> `saved` (record
//! and bundle fixed, exported) -> `queued` -> `submitted` or `failed`.

mod doses;
pub mod endpoint_history;
mod error;
mod files;
pub mod habits;
pub mod lots;
mod open;
pub mod outbox;
mod packed;
pub mod patients;
pub mod received;
pub mod rows;
pub mod schema;
pub mod summary;
pub mod versions;
mod visits;

use crate::clock::ClinicTime;
use crate::fhir::Message;
use crate::record::{Visit, file};
use anyhow::Context;
use chrono::{DateTime, Utc};
pub use error::{Asked, Error, Refusal, Result};
pub use files::{StagedFiles, create_new_private, private_dir, write_atomically};
pub use rows::{AttemptOutcome, StoredTime, VisitState};
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};
pub use summary::Summary;
use uuid::Uuid;

pub const DATABASE_FILE: &str = "vaxentry.sqlite3";
pub const DATA_DIR_ENV: &str = "VAXENTRY_DATA_DIR";

/// Where the data lives: `--data-dir`, else `$VAXENTRY_DATA_DIR`, else the user's
/// data directory.
pub fn data_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
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
    /// For a visit received from elsewhere: where from (a file, a sender) and when.
    pub received: Option<(String, DateTime<Utc>)>,
}

impl StoredVisit {
    pub fn visit(&self) -> anyhow::Result<Visit> {
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
pub(crate) fn export_path(dir: &Path, message: &Message, now: ClinicTime) -> PathBuf {
    dir.join("bundles")
        .join(now.format("%Y-%m-%d").to_string())
        .join(format!("{}.json", message.bundle_id))
}

/// Where bundle files are written before they are put in place: one folder, so what a
/// killed process left there is found at once.
pub(crate) fn staging_dir(dir: &Path) -> PathBuf {
    dir.join("bundles").join(".staging")
}

/// Makes the folders a bundle file goes in (and is staged in), private.
pub(crate) fn make_export_dirs(dir: &Path, export_path: &Path) -> anyhow::Result<()> {
    files::private_dir(&dir.join("bundles"))?;
    files::private_dir(&staging_dir(dir))?;
    if let Some(day) = export_path.parent() {
        files::private_dir(day)?;
    }
    Ok(())
}

/// Writes a message's bundle file under `<dir>/bundles/YYYY-MM-DD/`.
pub(crate) fn write_export(
    dir: &Path,
    message: &Message,
    now: ClinicTime,
) -> anyhow::Result<PathBuf> {
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
pub fn export_dir_create(dir: &Path) -> anyhow::Result<Option<String>> {
    files::private_dir(dir)
}

/// The state of a visit, if it is in the database.
pub(crate) fn state_of(conn: &Connection, id: Uuid) -> anyhow::Result<Option<VisitState>> {
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

/// `text` for a LIKE pattern with `ESCAPE '\'`: its `%`, `_` and `\` taken literally.
pub(crate) fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The listing columns of `visits`, by name, as [`row_of`] reads them (the latest
/// version's number and reason are read from `versions` by its key, for the rows
/// listed only).
pub(crate) const LISTED: &str = "id, state, mrn, patient_name, vaccines, visit_date, updated_at,
    (SELECT max(number) FROM versions WHERE visit_id = visits.id) AS latest_version,
    (SELECT why FROM versions WHERE visit_id = visits.id ORDER BY number DESC LIMIT 1) AS latest_reason";

/// A row of the [`LISTED`] columns.
pub(crate) fn row_of(r: &rusqlite::Row) -> rusqlite::Result<VisitRow> {
    Ok(VisitRow {
        id: id_column(r, "id")?,
        state: r.get("state")?,
        mrn: r.get("mrn")?,
        patient_name: r.get("patient_name")?,
        vaccines: r.get("vaccines")?,
        visit_date: r.get("visit_date")?,
        updated_at: r.get::<_, StoredTime>("updated_at")?.0,
        version: r.get::<_, Option<u32>>("latest_version")?.unwrap_or(0),
        amended: r.get::<_, Option<versions::Reason>>("latest_reason")?
            == Some(versions::Reason::Amended),
    })
}

/// A visit id column.
pub(crate) fn id_column(r: &rusqlite::Row, column: &str) -> rusqlite::Result<Uuid> {
    let text: String = r.get(column)?;
    Uuid::parse_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Store {
    /// An operation's outcome at the store's boundary: SQLite's report of a damaged
    /// file or a full disk is told as such, naming this database.
    pub(crate) fn checked<T>(&self, result: anyhow::Result<T>) -> Result<T> {
        result.map_err(|e| Error::in_file(&self.path(), e))
    }
}
