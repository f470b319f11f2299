//! Private files on disk: folders vaxentry makes are 0700 and files 0600; atomic
//! writes (temp file, fsync, rename, fsync of the folder) so a crash never leaves a
//! partial file; and no symbolic link is followed where patient data is written.

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

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options
}

/// The folder of `path`, and a temporary name beside it (`.NAME.PID.N.tmp`).
fn temp_path(path: &Path, n: usize) -> Result<(&Path, PathBuf)> {
    let dir = path.parent().context("a file to write has no folder")?;
    let name = path
        .file_name()
        .context("a file to write has no name")?
        .to_string_lossy();
    Ok((
        dir,
        dir.join(format!(".{name}.{}.{n}.tmp", std::process::id())),
    ))
}

/// Writes `bytes` to `path` so that readers see either the old file or the whole new
/// one, never a part, even across a crash or power cut.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let (dir, temp) = temp_path(path, 0)?;
    refuse_link(path)?;
    let write = || -> std::io::Result<()> {
        let mut file = private_options().open(&temp)?;
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

/// Many files written as one: each goes to a temporary name first, and
/// [`StagedFiles::commit`] makes them all durable with one sync of the disk, renames
/// them into place and syncs again, instead of syncing every file on its own. Until
/// then none of them is in place; a crash leaves only temporary files, never a part
/// of a file under its real name.
#[derive(Debug, Default)]
pub struct StagedFiles {
    /// (temporary, final) paths.
    files: Vec<(PathBuf, PathBuf)>,
}

impl StagedFiles {
    /// Writes `bytes` for `path`, under a temporary name in the same folder.
    pub fn stage(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let (_, temp) = temp_path(path, self.files.len())?;
        refuse_link(path)?;
        let write = || -> std::io::Result<()> {
            let mut file = private_options().open(&temp)?;
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
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
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
}
