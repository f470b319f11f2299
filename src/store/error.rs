//! The store's typed errors: what went wrong, naming the file and what to do (a file
//! that is another program's, from a newer vaxentry, damaged, a full disk), and what a
//! visit's state does not allow. Callers branch on them; no message names a key.

use super::rows::VisitState;
use std::path::{Path, PathBuf};

/// What went wrong in the store, in words that say what to do, naming the file. Nothing
/// is changed by a failed operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    #[error("that visit is not in the database")]
    NotFound,
    /// The visit is not in a state that allows what was asked.
    #[error("{0}")]
    Refused(Refusal),
    /// Another station or window changed the visit since it was read.
    #[error(
        "the visit was corrected or sent again meanwhile (another station or window); open it again to see it as it is now"
    )]
    Changed,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    /// Whether another process holds the database's write lock (it was busy for
    /// longer than the store waits): worth trying again shortly.
    pub fn is_busy(&self) -> bool {
        let Error::Other(e) = self else {
            return false;
        };
        e.chain().any(|cause| {
            cause.downcast_ref::<rusqlite::Error>().is_some_and(|e| {
                matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                )
            })
        })
    }
}

/// What the store's operations give back.
pub type Result<T> = std::result::Result<T, Error>;

/// What was asked of a visit whose state does not allow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Saving it (again, in its place).
    Save,
    /// Putting it in the outbox.
    Queue,
    /// A new message about it: sent again, amended.
    Correct,
    /// Voiding its doses.
    Void,
}

/// A visit in `state` cannot be what was `asked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub state: VisitState,
    pub asked: Asked,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.as_str();
        let words = match (self.asked, self.state) {
            (_, VisitState::Received) => {
                "this visit was received from elsewhere: it is kept as it came, and is corrected or sent by the system that made it; to record more, start a new visit".into()
            }
            (Asked::Save, _) => format!(
                "this visit is already {state} and cannot be saved again; start a new visit to record more"
            ),
            (Asked::Queue, VisitState::Queued) => "it already waits in the outbox".into(),
            (Asked::Queue, VisitState::Submitted) => {
                "it was sent already; to send it again as a new message, choose it in the outbox and send it again".into()
            }
            (Asked::Queue, _) => {
                format!("only a saved or failed visit can be sent; this one is {state}")
            }
            (Asked::Correct, VisitState::Queued) => format!(
                "only a submitted or failed visit can be sent again; this one is {state} (it waits in the outbox: correct it once it is sent)"
            ),
            (Asked::Correct, _) => format!(
                "only a submitted or failed visit can be sent again; this one is {state}"
            ),
            (Asked::Void, VisitState::Saved | VisitState::Draft) => format!(
                "only a visit the endpoint accepted (submitted) can be voided; this one is {state}: it was never sent, so just correct it"
            ),
            (Asked::Void, VisitState::Queued) => format!(
                "only a visit the endpoint accepted (submitted) can be voided; this one is {state}: wait until it is sent"
            ),
            (Asked::Void, _) => format!(
                "only a visit the endpoint accepted (submitted) can be voided; this one is {state}"
            ),
        };
        f.write_str(&words)
    }
}

/// What SQLite's error means for the user: only a corrupt file is "damaged" (and
/// only then is moving it away the advice); a full disk or a folder that cannot be
/// used say so.
pub(super) fn sqlite_problem(path: &Path, e: rusqlite::Error) -> Error {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    match code {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            Error::Damaged {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        }
        Some(rusqlite::ErrorCode::DiskFull) => Error::DiskFull {
            path: path.to_path_buf(),
            step: String::new(),
        },
        _ => Error::Unusable {
            path: path.to_path_buf(),
            detail: e.to_string(),
        },
    }
}

impl Error {
    /// What a failure of an operation on the database at `path` means: a store error
    /// passes as it is; SQLite's report of a damaged file or a full disk becomes one
    /// that names the file and says what to do; other errors pass as they are.
    pub(super) fn in_file(path: &Path, e: anyhow::Error) -> Error {
        match e.downcast::<Error>() {
            Ok(error) => error,
            Err(e) => explain(path, e),
        }
    }
}

/// Turns SQLite's report of a damaged file or a full disk into one that names the
/// file and says what to do; other errors pass as they are.
fn explain(path: &Path, e: anyhow::Error) -> Error {
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
            Error::Damaged {
                path: path.to_path_buf(),
                detail: format!("{e:#}"),
            }
        }
        _ if unreadable_value => Error::Damaged {
            path: path.to_path_buf(),
            detail: format!("{e:#}"),
        },
        Some(rusqlite::ErrorCode::DiskFull) => Error::DiskFull {
            path: path.to_path_buf(),
            step,
        },
        _ if disk_full => Error::DiskFull {
            path: path.to_path_buf(),
            step,
        },
        _ => Error::Other(e),
    }
}

/// The folder refuses writing: a read-only disk, or permissions.
pub(super) fn cannot_write(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::os::raw::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
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

    #[test]
    fn a_database_another_process_holds_is_busy_and_other_errors_are_not() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/tmp")
            .join(format!("vaxentry-busy-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite3");
        let holder = rusqlite::Connection::open(&path).unwrap();
        holder
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); BEGIN IMMEDIATE;")
            .unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        let busy = other.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
        let wrapped = Error::Other(anyhow::Error::from(busy).context("cannot keep it"));
        assert!(wrapped.is_busy());
        assert!(!Error::NotFound.is_busy());
        assert!(!Error::Other(anyhow::anyhow!("something else")).is_busy());
        drop(holder);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
