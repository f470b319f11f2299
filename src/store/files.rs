//! Private files on disk: folders vaxentry makes are 0700 and files 0600; atomic
//! writes (temp file, fsync, rename, fsync of the folder) so a crash never leaves a
//! partial file; and no symbolic link is followed where patient data is written.
//!
//! A temporary file is always a new one: its name is unpredictable
//! (`.NAME.PID.RANDOM.tmp`) and it is created with `O_CREAT|O_EXCL|O_NOFOLLOW`, so
//! nothing planted in a shared folder (a link, a FIFO) is ever opened. Those left by a
//! process that was killed are removed by the next one ([`remove_abandoned`]).

use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

/// Makes sure `dir` is a folder: one vaxentry creates is private to the user; one
/// that was there is left as it is (it may be shared on purpose), and when others
/// can get into it, that comes back as a warning to show.
pub fn private_dir(dir: &Path) -> Result<Option<String>> {
    refuse_link(dir)?;
    if dir.is_dir() {
        return Ok(open_to_others(dir).then(|| {
            format!(
                "the folder {} can be opened by other users; patient data in it is safer in a folder only you can open (chmod 700)",
                dir.display()
            )
        }));
    }
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    #[cfg(unix)]
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make the folder {} private", dir.display()))?;
    Ok(None)
}

/// Patient data is never written through a symbolic link: one could send it anywhere.
pub fn refuse_link(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => anyhow::bail!(
            "{} is a symbolic link; vaxentry does not write patient data through links: give the real folder or file",
            path.display()
        ),
        _ => Ok(()),
    }
}

fn open_to_others(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

/// Makes an existing file readable only by the user.
pub fn make_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private", path.display()))?;
    Ok(())
}

/// Opens or creates a file readable only by the user, keeping what is in it.
pub fn private_options_keep() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(0o600);
    options
}

/// Creates a new private file at `path`: never one that is there already (a file, a
/// link, a FIFO), and never through a link.
pub fn create_new_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    #[cfg(target_os = "linux")]
    options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    options.open(path)
}

/// A new temporary name for `path`, in `folder` (its own folder when `None`):
/// `.NAME.PID.RANDOM.tmp`, with 128 random bits.
fn temp_path(folder: Option<&Path>, path: &Path) -> Result<PathBuf> {
    let dir = match folder {
        Some(folder) => folder,
        None => path.parent().context("a file to write has no folder")?,
    };
    let name = path
        .file_name()
        .context("a file to write has no name")?
        .to_string_lossy();
    Ok(dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )))
}

/// Whether the process `pid` is alive, asked with signal 0 (which sees the same process
/// ids as this process, unlike `/proc` in a container with its own pid namespace).
fn alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// How old a temporary file of a process that is gone must be before it is removed.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The time by the clock that stamps files in `folder`: the modification time of a
/// file made there now. Ages of files are taken from it, not from this process's
/// clock, which may differ from the disk's (a network disk, a shifted clock).
fn disk_now(folder: &Path) -> Option<std::time::SystemTime> {
    let probe = temp_path(Some(folder), &folder.join("clock")).ok()?;
    let stamped = create_new_private(&probe).and_then(|f| f.metadata()?.modified());
    let _ = fs::remove_file(&probe);
    stamped.ok()
}

/// Removes the temporary files in `folder` that a process no longer running left
/// (killed while it wrote them) at least [`SETTLED`] ago, and any a day old; how many
/// went. Only names vaxentry makes are touched.
pub fn remove_abandoned(folder: &Path) -> usize {
    let Ok(entries) = fs::read_dir(folder) else {
        return 0;
    };
    let Some(now) = disk_now(folder) else {
        return 0;
    };
    let day = std::time::Duration::from_secs(24 * 60 * 60);
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = abandoned_pid(&name) else {
            continue;
        };
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or_default();
        let file = entry.file_type().is_ok_and(|t| t.is_file());
        // A file being written is never minutes old, so a young one is left alone even
        // when its writer looks gone (another pid namespace sharing the folder).
        if file
            && pid != std::process::id()
            && ((age > SETTLED && !alive(pid)) || age > day)
            && fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// The process id in a temporary name vaxentry makes (`.NAME.PID.RANDOM.tmp`).
fn abandoned_pid(name: &str) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (rest, random) = inner.rsplit_once('.')?;
    let (_, pid) = rest.rsplit_once('.')?;
    (random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Writes `bytes` to `path` so that readers see either the old file or the whole new
/// one, never a part, even across a crash or power cut. The temporary file is made in
/// `staging` (on the same disk), or beside `path` when `None`.
pub fn write_atomically(staging: Option<&Path>, path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a file to write has no folder")?;
    let temp = temp_path(staging, path)?;
    refuse_link(path)?;
    let write = || -> std::io::Result<()> {
        let mut file = create_new_private(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    };
    write()
        .inspect_err(|_| {
            let _ = fs::remove_file(&temp);
        })
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Many files written as one: each goes to a temporary name first;
/// [`StagedFiles::make_durable`] makes them all durable with one sync of the disk and
/// [`StagedFiles::put_in_place`] renames them into place and syncs again, instead of
/// syncing every file on its own. Until
/// then none of them is in place; a crash leaves only temporary files, never a part
/// of a file under its real name.
#[derive(Debug, Default)]
pub struct StagedFiles {
    /// (temporary, final) paths.
    files: Vec<(PathBuf, PathBuf)>,
    /// Where the temporary files go (on the same disk as their final places); beside
    /// each file when `None`.
    staging: Option<PathBuf>,
}

impl StagedFiles {
    /// Files staged in `folder`, which must be on the disk they go to.
    pub fn staged_in(folder: PathBuf) -> StagedFiles {
        StagedFiles {
            files: Vec::new(),
            staging: Some(folder),
        }
    }

    /// Writes `bytes` for `path`, under a new temporary name.
    pub fn stage(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let temp = temp_path(self.staging.as_deref(), path)?;
        refuse_link(path)?;
        let write = || -> std::io::Result<()> {
            let mut file = create_new_private(&temp)?;
            file.write_all(bytes)
        };
        write()
            .inspect_err(|_| {
                let _ = fs::remove_file(&temp);
            })
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.files.push((temp, path.to_path_buf()));
        Ok(())
    }

    /// Forgets the file staged last (its save did not happen).
    pub fn unstage_last(&mut self) {
        if let Some((temp, _)) = self.files.pop() {
            let _ = fs::remove_file(temp);
        }
    }

    /// How many files are staged.
    pub fn count(&self) -> usize {
        self.files.len()
    }

    /// Makes every staged file's contents durable, still under temporary names.
    pub fn make_durable(&self) -> Result<()> {
        let Some(folder) = self.files.first().and_then(|(temp, _)| temp.parent()) else {
            return Ok(());
        };
        sync_files(&self.files, folder)
            .with_context(|| format!("cannot write the files in {}", folder.display()))
    }

    /// Renames every staged file into place, durably: when this returns Ok, all of
    /// them are on the disk under their names.
    pub fn put_in_place(&mut self) -> Result<()> {
        let done = (|| -> std::io::Result<()> {
            for (temp, path) in &self.files {
                fs::rename(temp, path)?;
            }
            let mut folders: Vec<&Path> =
                self.files.iter().filter_map(|(_, p)| p.parent()).collect();
            folders.dedup();
            sync_folders(&folders)
        })();
        let folder = self
            .files
            .first()
            .and_then(|(_, p)| p.parent())
            .map(Path::to_path_buf);
        self.discard();
        done.with_context(|| {
            format!(
                "cannot write the files in {}",
                folder.unwrap_or_default().display()
            )
        })
    }

    /// Removes what is staged and not yet in place.
    pub fn discard(&mut self) {
        for (temp, _) in self.files.drain(..) {
            let _ = fs::remove_file(temp);
        }
    }
}

impl Drop for StagedFiles {
    fn drop(&mut self) {
        self.discard();
    }
}

/// Makes the staged files' contents durable: on Linux with one `syncfs` of the disk
/// that holds them, elsewhere file by file.
fn sync_files(files: &[(PathBuf, PathBuf)], folder: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let _ = files;
        rustix::fs::syncfs(File::open(folder)?)?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = folder;
        for (temp, _) in files {
            File::open(temp)?.sync_all()?;
        }
    }
    Ok(())
}

/// Makes the renames into these folders durable.
fn sync_folders(folders: &[&Path]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(folder) = folders.first() {
        rustix::fs::syncfs(File::open(folder)?)?;
    }
    #[cfg(not(target_os = "linux"))]
    for folder in folders {
        File::open(folder)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_privately() {
        // Under target/, like every test's files, and removed at the end.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/tmp")
            .join(format!("vaxentry-files-{}", uuid::Uuid::new_v4()));
        private_dir(&dir).unwrap();
        let path = dir.join("a.json");
        write_atomically(None, &path, b"first").unwrap();
        write_atomically(None, &path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        #[cfg(unix)]
        {
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    fn test_dir(name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/tmp")
            .join(format!("vaxentry-{name}-{}", uuid::Uuid::new_v4()));
        private_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn temporary_files_are_new_unpredictable_and_never_followed() {
        let dir = test_dir("temp");
        let path = dir.join("b.json");
        let a = temp_path(None, &path).unwrap();
        let b = temp_path(None, &path).unwrap();
        assert_ne!(a, b, "each name is new");
        assert_eq!(
            abandoned_pid(&a.file_name().unwrap().to_string_lossy()),
            Some(std::process::id())
        );
        // Whatever is planted at a name is never opened: a link, a FIFO, a file.
        #[cfg(unix)]
        {
            let victim = dir.join("victim");
            fs::write(&victim, b"keep").unwrap();
            std::os::unix::fs::symlink(&victim, &a).unwrap();
            assert!(create_new_private(&a).is_err());
            assert_eq!(fs::read(&victim).unwrap(), b"keep");
            let fifo = dir.join("fifo");
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
            assert!(create_new_private(&fifo).is_err(), "no hang on a FIFO");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_a_killed_process_left_are_removed_and_no_others() {
        let dir = test_dir("abandoned");
        let hex = "0123456789abcdef0123456789abcdef";
        // No process has a pid above the kernel's limit (2^22).
        let dead = dir.join(format!(".x.json.4194999.{hex}.tmp"));
        let ours = dir.join(format!(".x.json.{}.{hex}.tmp", std::process::id()));
        let other = dir.join(".x.json.4194999.0.tmp");
        let bundle = dir.join("x.json");
        // Left by the same dead process a moment ago: perhaps a writer in another pid
        // namespace, so it stays until settled.
        let fresh = dir.join(format!(".y.json.4194999.{hex}.tmp"));
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        for f in [&dead, &ours, &other, &bundle, &fresh] {
            fs::write(f, b"x").unwrap();
            if f != &fresh {
                File::options()
                    .write(true)
                    .open(f)
                    .unwrap()
                    .set_modified(long_ago)
                    .unwrap();
            }
        }
        assert_eq!(remove_abandoned(&dir), 1);
        assert!(!dead.exists());
        assert!(ours.exists() && other.exists() && bundle.exists() && fresh.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
