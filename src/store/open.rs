//! Opening the database: creating it private, checking whose it is and how new,
//! upgrading it in place (one process at a time), or reading a folder that cannot be
//! written; and the batches and syncs that decide when writes reach the disk.

use super::error::{Error, Result, cannot_write, sqlite_problem};
use super::schema::{self, APPLICATION_ID, CURRENT_VERSION, MIGRATIONS};
use super::{DATABASE_FILE, Store, files, staging_dir, versions};
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Held while a process opens the database.
const LOCK_FILE: &str = "vaxentry.lock";

impl Store {
    /// Opens (creating if needed) the database in `dir`, upgrading an older schema.
    pub fn open(dir: &Path) -> Result<Store> {
        Store::open_reporting(dir, &mut |_, _, _| {})
    }

    /// Opens as [`Store::open`] does, telling `progress` how far a long upgrade is. A
    /// data folder that cannot be written (a read-only disk or a folder that is not
    /// the user's to write) is opened read-only: what it holds can be read, nothing can
    /// be saved, and a warning says so.
    pub fn open_reporting(dir: &Path, progress: schema::Progress) -> Result<Store> {
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
    pub fn open_read_only(dir: &Path) -> Result<Store> {
        let path = dir.join(DATABASE_FILE);
        files::refuse_link(&path)?;
        let (conn, version) = connect(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        if version < CURRENT_VERSION {
            return Err(Error::Unusable {
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
    pub fn migrate(&mut self, target: i32) -> anyhow::Result<()> {
        self.migrate_reporting(target, &mut |_, _, _| {})
    }

    fn migrate_reporting(&mut self, target: i32, progress: schema::Progress) -> anyhow::Result<()> {
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
    pub fn create_at_version(dir: &Path, version: i32) -> anyhow::Result<Store> {
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
    pub fn batch<T>(&mut self, work: impl FnOnce(&mut Store) -> anyhow::Result<T>) -> Result<T> {
        if self.batch.is_some() {
            let result = work(self);
            return self.checked(result);
        }
        let result = (|| -> anyhow::Result<T> {
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
        self.checked(result)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(DATABASE_FILE)
    }

    /// The data folder the database is in.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub fn schema_version(&self) -> anyhow::Result<i32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Runs `work` with commits that are not synced to the disk one by one (SQLite's
    /// `synchronous = NORMAL`): for recording send outcomes, which come many a second.
    /// `work` calls [`Store::sync_to_disk`] when what it wrote must be durable, and it
    /// is synced once more at the end. A crash in between loses only the outcomes
    /// since the last sync, never a save: the visits stay queued, and their messages
    /// go again with the same Bundle.id, which receivers take once.
    pub fn with_deferred_syncs<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> anyhow::Result<T>,
    ) -> Result<T> {
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL")
            .map_err(|e| Error::in_file(&self.path(), e.into()))?;
        let result = work(self);
        let synced = self.sync_to_disk();
        let full = self.conn.execute_batch("PRAGMA synchronous = FULL");
        let value = self.checked(result)?;
        synced?;
        full.map_err(|e| Error::in_file(&self.path(), e.into()))?;
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
            .map_err(|e| Error::in_file(&self.path(), e))
    }

    pub fn integrity_check(&self) -> anyhow::Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// Opens the database file at `path` with `flags`, and checks it is vaxentry's (or new)
/// and not from a newer vaxentry; the connection and the file's schema version.
fn connect(path: &Path, flags: OpenFlags) -> Result<(Connection, i32)> {
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
                Error::Foreign {
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
        return Err(Error::Foreign {
            path: path.to_path_buf(),
        });
    }
    if version > CURRENT_VERSION {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: CURRENT_VERSION,
        });
    }
    Ok((conn, version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

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
}
