//! The atomic commit of a run: everything is written into a staging folder beside the
//! output folder, and renamed into place only when complete. A failed run removes its
//! staging folder and leaves the previous outputs untouched.

use std::path::{Path, PathBuf};

use super::OutputError;

/// A staging folder that becomes the output folder on [`Staging::commit`], and is removed
/// if dropped uncommitted.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    committed: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |e| OutputError::Io { path: path.to_path_buf(), source: e }
}

impl Staging {
    /// Creates `.<name>.staging-<pid>` beside `target`.
    ///
    /// # Errors
    /// The parent folder cannot be created or written.
    pub fn new(target: &Path) -> Result<Staging, OutputError> {
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let dir = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Staging { dir, target: target.to_path_buf(), committed: false })
    }

    /// The folder to write into.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Moves the staging folder into place. The previous output folder, if any, is moved
    /// aside first and removed after the new one is in place.
    ///
    /// # Errors
    /// A rename fails (the previous outputs are then restored where possible).
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        sync_dir(&self.dir);
        let parent = self.dir.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = self.target.file_name().and_then(|n| n.to_str()).unwrap_or("out").to_owned();
        let previous = parent.join(format!(".{name}.previous-{}", std::process::id()));
        let had_previous = self.target.exists();
        if had_previous {
            if previous.exists() {
                std::fs::remove_dir_all(&previous).map_err(io(&previous))?;
            }
            std::fs::rename(&self.target, &previous).map_err(io(&self.target))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if had_previous {
                let _ = std::fs::rename(&previous, &self.target);
            }
            return Err(OutputError::Io { path: self.target.clone(), source: e });
        }
        self.committed = true;
        sync_dir(&parent);
        if had_previous {
            std::fs::remove_dir_all(&previous).map_err(io(&previous))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn sync_dir(dir: &Path) {
    // best effort: not every platform can open a directory for fsync
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_drop_discards() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("old.txt"), "old").unwrap();

        let failed = Staging::new(&target).unwrap();
        std::fs::write(failed.path().join("new.txt"), "new").unwrap();
        drop(failed);
        assert!(target.join("old.txt").exists(), "a failed run leaves the previous outputs");

        let ok = Staging::new(&target).unwrap();
        std::fs::write(ok.path().join("new.txt"), "new").unwrap();
        ok.commit().unwrap();
        assert!(target.join("new.txt").exists());
        assert!(!target.join("old.txt").exists());
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("run")], "no staging or previous folders left");
    }
}
