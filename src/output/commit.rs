//! The commit of a run, and what `--out` may replace.
//!
//! - **What may be replaced.** An output path that exists is replaced only when it is a folder
//!   an earlier run wrote — its `manifest.json` and its `.unheard-run` marker (which lists every
//!   file of the run) say so — that holds nothing else and holds no input nor the current folder.
//!   Anything else is refused before anything is touched ([`check_out`]).
//! - **One run per output.** A run holds an advisory lock on `.<name>.lock` beside the output
//!   ([`OutputLock`]); the OS releases it if the process dies. A second run fails at once,
//!   naming the process that holds it. The lock holder removes the staging folders of dead runs.
//! - **Atomic commit.** A run writes into `.unheard-work/<name>.staging-<pid>` beside the
//!   output, then swaps it with the previous run in one step (Linux
//!   `renameat2(RENAME_EXCHANGE)`), so the output path always holds a complete run, old or new;
//!   the old run (now under the staging name) is removed afterwards, and a failure to remove it
//!   is a warning. Where the exchange is not supported, the previous run is renamed aside to
//!   `.unheard-work/<name>.previous-<pid>` and the new one renamed into place; if the process
//!   dies between the two, the next run puts it back. The work folder is one level down so that
//!   a glob over a folder of runs (`runs/*/records/*/*.parquet`) never reaches a run being
//!   written (found: DuckDB's `*` matches dot folders, and read a half-written `.o.staging-…`);
//!   it is removed when empty. Binaries before the twenty-fifth session on issue 9 staged in
//!   `.<name>.staging-<pid>` beside the output: such leftovers are tidied too.
//!
//! `UNHEARD_TEST_FAULT` is a hook for the tests: a comma-separated list of `kill@STEP` (the
//! process ends as by SIGKILL at that step), `pause@STEP` (it prints a line to stderr and waits
//! for a signal), `fail@tidy` (removing the previous run fails) and `no-exchange` (the
//! fallback commit). Steps: `locked`, `staged`, `moved-aside` (fallback only), `exchanged`.
//! `append@read` adds a line to a source file once its first rows are read (a file changing
//! while it is read).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::interrupt;
use super::OutputError;

/// The marker file of a run folder: lists every file the run wrote.
pub(crate) const MARKER: &str = ".unheard-run";

/// The folder beside the outputs where runs stage (`<parent>/.unheard-work/<name>.staging-<pid>`).
pub(crate) const WORK: &str = ".unheard-work";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |e| OutputError::Io { path: path.to_path_buf(), source: e }
}

fn refused(path: &Path, reason: impl Into<String>) -> OutputError {
    OutputError::Refused { role: "output", path: path.to_path_buf(), reason: reason.into() }
}

/// What a folder unheard writes holds: a run's outputs (`--out`) or a state (`--state`,
/// `<out>.state`). Each replaces only its own kind: `--out` pointed at a state (`--out
/// o.state`) replaced the archive of every night so far with one run's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// A run's outputs.
    Run,
    /// A state.
    State,
}

/// Where a run's outputs go: the path as given and its resolved parent folder and name.
#[derive(Debug, Clone)]
pub struct Target {
    shown: PathBuf,
    parent: PathBuf,
    name: String,
    holds: Holds,
    /// Whether an earlier run is there now.
    pub replaces: bool,
}

impl Target {
    fn path(&self) -> PathBuf {
        self.parent.join(&self.name)
    }
    fn sibling(&self, kind: &str) -> PathBuf {
        self.parent.join(format!(".{}.{kind}", self.name))
    }

    /// A folder of this output's in the work folder (`.unheard-work/<name>.<kind>`).
    fn work(&self, kind: &str) -> PathBuf {
        self.parent.join(WORK).join(format!("{}.{kind}", self.name))
    }

    /// Removes the work folder when nothing is left in it (another output's run may be using it).
    fn tidy_work(&self) {
        let _ = std::fs::remove_dir(self.parent.join(WORK));
    }
}

/// Checks that `out` may receive a run: it does not exist, or it is a folder an earlier run
/// wrote that holds nothing else, no input (`inputs`: every file the run reads) and not the
/// current folder. Touches nothing.
///
/// # Errors
/// [`OutputError::Refused`] saying why; [`OutputError::Io`] when the path cannot be examined.
pub fn check_out(out: &Path, inputs: &[&Path], holds: Holds) -> Result<Target, OutputError> {
    // a pipeline's `out = "."` resolves to the empty path
    let out = if out.as_os_str().is_empty() { Path::new(".") } else { out };
    // inside another run's outputs or a state: the next run into that one refuses it as a
    // file it did not write, every night (found: `--out o.state/archive/extra` and `--out
    // o/records/sub` were accepted, and a glob over `o/records` read the nested run's rows too;
    // by a reader in the twenty-sixth session on issue 9)
    if let Some(holder) = inside_unheard_folder(out) {
        return Err(refused(
            out,
            format!(
                "lies inside {}, a folder unheard writes (a run's outputs or a state), which the next run into it replaces: choose a folder outside it",
                crate::ingest::shown(&holder)
            ),
        ));
    }
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let Some(name) = out.file_name().and_then(|n| n.to_str()) else {
                return Err(refused(out, "does not end in a folder name (or the name is not UTF-8)"));
            };
            let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let parent = std::path::absolute(parent).map_err(io(parent))?;
            Ok(Target { shown: out.to_path_buf(), parent, name: name.to_owned(), holds, replaces: false })
        }
        Err(e) => Err(OutputError::Io { path: out.to_path_buf(), source: e }),
        Ok(_) => {
            let abs = std::fs::canonicalize(out).map_err(io(out))?;
            let cwd = std::env::current_dir().and_then(std::fs::canonicalize).map_err(io(Path::new(".")))?;
            if cwd.starts_with(&abs) {
                return Err(refused(out, "is the current folder or one of its parents"));
            }
            for input in inputs {
                // an input that cannot be resolved is reported when it is read
                if std::fs::canonicalize(input).is_ok_and(|i| i.starts_with(&abs)) {
                    return Err(refused(out, format!("holds the input {}", input.display())));
                }
            }
            earlier_run(out, holds).map_err(|reason| refused(out, reason))?;
            let (Some(parent), Some(name)) = (abs.parent(), abs.file_name().and_then(|n| n.to_str())) else {
                return Err(refused(out, "is the root folder"));
            };
            Ok(Target {
                shown: out.to_path_buf(),
                parent: parent.to_path_buf(),
                name: name.to_owned(),
                holds,
                replaces: true,
            })
        }
    }
}

/// The folder unheard wrote (a run's outputs or a state: it holds [`MARKER`]) that `path` lies
/// inside, if any: the next run into it replaces it, or refuses it for a file it did not write.
#[must_use]
pub(crate) fn inside_unheard_folder(path: &Path) -> Option<PathBuf> {
    // the nearest folder of its path that exists, its links and `..` resolved: `lr/sub` with
    // `lr` a link to `o/records` went in; `o/../o2` was refused (both found by a reader)
    let abs = std::path::absolute(path).ok()?;
    let existing = abs.ancestors().skip(1).find(|a| a.is_dir())?;
    let real = std::fs::canonicalize(existing).ok()?;
    real.ancestors().find(|a| a.join(MARKER).is_file()).map(Path::to_path_buf)
}

/// `Ok` when `dir` is a folder an earlier run wrote, of the kind `holds`, and holds nothing
/// else; else why not.
fn earlier_run(dir: &Path, holds: Holds) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link".to_owned());
    }
    if !meta.is_dir() {
        return Err("is a file, not a folder".to_owned());
    }
    let listed: Vec<String> = match std::fs::read_to_string(dir.join(MARKER)) {
        Ok(text) => text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect(),
        Err(_) => {
            return Err(format!(
                "is a folder unheard did not write (it has no {MARKER} marker; a run folder written before the marker existed must be removed by hand)"
            ))
        }
    };
    let manifest: Option<serde_json::Value> =
        std::fs::read(dir.join("manifest.json")).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let Some(manifest) =
        manifest.filter(|m| m.get("unheard_version").is_some() && listed.iter().any(|l| l == "manifest.json"))
    else {
        return Err("has no readable unheard manifest.json".to_owned());
    };
    match (holds, manifest.get("unheard_state").is_some()) {
        (Holds::Run, true) => {
            return Err("is a state (the records nightly runs keep), not a run's outputs: give the output another path"
                .to_owned())
        }
        (Holds::State, false) => return Err("is a run's outputs, not a state: give the state another path".to_owned()),
        _ => {}
    }
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("cannot be listed: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot be listed: {e}"))?;
            let name = entry.file_name();
            let rel = format!("{prefix}{}", name.to_string_lossy());
            let kind = entry.file_type().map_err(|e| format!("{rel}: {e}"))?;
            let known = if kind.is_dir() {
                listed.iter().any(|l| l.starts_with(&format!("{rel}/")))
            } else {
                kind.is_file() && (rel == MARKER || listed.contains(&rel))
            };
            if !known {
                return Err(format!("holds {rel}, which no unheard run wrote"));
            }
            if kind.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
            }
        }
    }
    Ok(())
}

/// The lock that makes a run the only writer of its output; removes the lock file when dropped
/// (the OS releases the lock itself if the process dies).
#[derive(Debug)]
pub struct OutputLock {
    target: Target,
    path: PathBuf,
    _file: File,
    /// What could not be tidied from dead runs (warnings, not errors).
    pub warnings: Vec<String>,
}

impl OutputLock {
    /// Checks `out` ([`check_out`]), locks it, and removes the staging folders dead runs left
    /// (restoring a previous run a fallback commit left aside).
    ///
    /// # Errors
    /// The output is refused, another run holds the lock, or a folder cannot be created.
    pub fn acquire(out: &Path, inputs: &[&Path], holds: Holds) -> Result<OutputLock, OutputError> {
        let mut target = check_out(out, inputs, holds)?;
        let unwritable = |at: &Path| {
            let (out, at) = (out.to_path_buf(), at.to_path_buf());
            move |source| OutputError::Unwritable { role: "output", path: out, at, source }
        };
        std::fs::create_dir_all(&target.parent).map_err(unwritable(&target.parent))?;
        target.parent = std::fs::canonicalize(&target.parent).map_err(unwritable(&target.parent))?;
        let path = target.sibling("lock");
        // a link under the lock's name is followed to a file of the user's (found by a reader)
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(refused(
                &path,
                "is a symbolic link under the name of the output's lock: it is left as it is; remove it, or choose another output",
            ));
        }
        let mut file = loop {
            let mut file = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(unwritable(&path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(OutputError::Locked {
                        role: "output",
                        path: out.to_path_buf(),
                        holder: if holder.is_empty() { "another process".to_owned() } else { format!("PID {holder}") },
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(OutputError::Io { path, source: e }),
            }
            // the holder before us removes the file before it unlocks: lock the file the path
            // names now, not an unlinked one
            if same_file(&file, &path) {
                break file;
            }
        };
        // a file of the user's under the lock's name: emptied, then removed (found by a reader in
        // the twenty-sixth session on issue 9); a lock file holds a process id, or nothing
        let mut held = String::new();
        let ours = file.read_to_string(&mut held).is_ok() && held.trim().bytes().all(|b| b.is_ascii_digit());
        if !ours {
            return Err(refused(
                &path,
                "is a file unheard did not write, under the name of the output's lock (it holds other than a process id): it is left as it is; move it, or choose another output",
            ));
        }
        file.set_len(0).and_then(|()| file.rewind()).map_err(io(&path))?;
        writeln!(file, "{}", std::process::id()).and_then(|()| file.flush()).map_err(io(&path))?;
        interrupt::cleanup().lock_files.push(path.clone());
        let warnings = tidy_dead_runs(&target);
        fault("locked");
        Ok(OutputLock { target, path, _file: file, warnings })
    }

    /// Creates this run's staging folder.
    ///
    /// # Errors
    /// The folder cannot be created.
    pub fn stage(&self) -> Result<Staging, OutputError> {
        let dir = self.target.work(&format!("staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        interrupt::cleanup().staging.push(dir.clone());
        // (another output's run may remove the work folder, empty, in between: tried twice)
        let mut again = true;
        loop {
            let made = std::fs::create_dir_all(self.target.parent.join(WORK)).and_then(|()| std::fs::create_dir(&dir));
            match made {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && again => again = false,
                made => break made.map_err(io(&dir))?,
            }
        }
        Ok(Staging { dir, target: self.target.clone(), committed: false })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let mut c = interrupt::cleanup();
        let _ = std::fs::remove_file(&self.path);
        c.lock_files.retain(|p| *p != self.path);
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Removes `.unheard-work/<name>.staging-*` and `<name>.previous-*` folders (and the
/// `.<name>.staging-*`, `.<name>.previous-*` beside the output that earlier binaries left): only
/// a dead run can have left them, as the caller holds the lock. A previous run left aside is put
/// back first when the output path is empty.
fn tidy_dead_runs(target: &Target) -> Vec<String> {
    let mut warnings = Vec::new();
    let leftovers_in = |folder: &Path, dot: &str| -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
        let (staging, previous) = (format!("{dot}{}.staging-", target.name), format!("{dot}{}.previous-", target.name));
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                let pid = n.strip_prefix(&staging).or_else(|| n.strip_prefix(&previous));
                pid.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|e| e.path())
            .collect()
    };
    let mut leftovers = leftovers_in(&target.parent, ".");
    leftovers.extend(leftovers_in(&target.parent.join(WORK), ""));
    leftovers.sort();
    let previous = format!("{}.previous-", target.name);
    let out = target.path();
    if std::fs::symlink_metadata(&out).is_err() {
        let aside = leftovers.iter().position(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().trim_start_matches('.').starts_with(&previous))
                && earlier_run(p, target.holds).is_ok()
        });
        if let Some(i) = aside {
            match std::fs::rename(&leftovers[i], &out) {
                Ok(()) => {
                    leftovers.remove(i);
                }
                Err(e) => warnings.push(format!("cannot put back the previous run {}: {e}", leftovers[i].display())),
            }
        }
    }
    for dir in leftovers {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            warnings.push(format!("cannot remove {} (left by a run that died): {e}", dir.display()));
        }
    }
    target.tidy_work();
    warnings
}

/// A staging folder that replaces the output on [`Staging::commit`], and is removed if dropped
/// uncommitted.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    target: Target,
    committed: bool,
}

/// A committed run.
#[derive(Debug)]
pub struct Committed {
    /// The output folder, as given.
    pub path: PathBuf,
    /// Set when the previous run could not be removed after the commit.
    pub warning: Option<String>,
    /// Every file of the run, relative to the folder, sorted (what the marker lists).
    pub files: Vec<String>,
}

impl Staging {
    /// The folder to write into.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes the marker, then puts the staging folder in place of the output in one step.
    ///
    /// # Errors
    /// The output was changed into something that may not be replaced since the run began, or
    /// a rename fails; the previous outputs are then left (or put back) in place.
    pub fn commit(mut self) -> Result<Committed, OutputError> {
        let files = write_marker(&self.dir)?;
        sync_dir(&self.dir);
        self.fault("staged");
        let target = self.target.path();
        let exists = std::fs::symlink_metadata(&target).is_ok();
        if exists {
            earlier_run(&target, self.target.holds).map_err(|reason| refused(&self.target.shown, reason))?;
        }
        let mut cleanup = interrupt::cleanup();
        let old = if !exists {
            std::fs::rename(&self.dir, &target).map_err(io(&target))?;
            None
        } else if !fault_set("no-exchange") && exchange(&self.dir, &target)? {
            Some(self.dir.clone())
        } else {
            let aside = self.target.work(&format!("previous-{}", std::process::id()));
            std::fs::rename(&target, &aside).map_err(io(&target))?;
            self.fault("moved-aside");
            if let Err(e) = std::fs::rename(&self.dir, &target) {
                let _ = std::fs::rename(&aside, &target);
                return Err(OutputError::Io { path: target, source: e });
            }
            Some(aside)
        };
        self.committed = true;
        interrupt::committed(match self.target.holds {
            Holds::State => interrupt::STATE_KEPT,
            Holds::Run => interrupt::OUTPUT_COMMITTED,
        });
        cleanup.staging.retain(|p| *p != self.dir);
        drop(cleanup);
        sync_dir(&self.target.parent);
        self.fault("exchanged");
        let warning = old.and_then(|old| {
            let removed = if fault_set("fail@tidy") {
                Err(std::io::Error::other("test fault"))
            } else {
                std::fs::remove_dir_all(&old)
            };
            removed.err().map(|e| {
                format!(
                    "the run was committed to {}, but the previous run could not be removed from {}: {e} (the next run removes it)",
                    self.target.shown.display(),
                    old.display()
                )
            })
        });
        self.target.tidy_work();
        Ok(Committed { path: self.target.shown.clone(), warning, files })
    }
}

impl Staging {
    /// A test fault at `step` of this commit: `kill@step` for any output, `kill@step:NAME` for
    /// the output (or state) named NAME.
    fn fault(&self, step: &str) {
        fault(step);
        fault(&format!("{step}:{}", self.target.name));
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let mut c = interrupt::cleanup();
            let _ = std::fs::remove_dir_all(&self.dir);
            c.staging.retain(|p| *p != self.dir);
            self.target.tidy_work();
        }
    }
}

/// Writes [`MARKER`]: every file in `dir`, one relative path a line; returns them.
fn write_marker(dir: &Path) -> Result<Vec<String>, OutputError> {
    let mut files = Vec::new();
    let (mut paths, mut folders) = (Vec::new(), Vec::new());
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(&d))? {
            let entry = entry.map_err(io(&d))?;
            let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().map_err(io(&entry.path()))?.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
                folders.push(entry.path());
            } else {
                files.push(rel);
                paths.push(entry.path());
            }
        }
    }
    sync_files(&paths)?;
    for folder in &folders {
        sync_dir(folder);
    }
    files.sort();
    let text = format!(
        "# written by unheard {}: the output of one run. unheard replaces this folder only while it\n# holds nothing but the files listed here.\n{}\n",
        env!("CARGO_PKG_VERSION"),
        files.join("\n")
    );
    let path = dir.join(MARKER);
    let mut f = File::create(&path).map_err(io(&path))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(io(&path))?;
    Ok(files)
}

/// Swaps two paths in one step; `Ok(false)` when the file system or OS cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<bool, OutputError> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|e| io(p)(e.into()));
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths; the syscall does not keep the pointers
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(OutputError::Io { path: b.to_path_buf(), source: e }),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> Result<bool, OutputError> {
    Ok(false)
}

/// Makes `files` durable, several at a time: an fsync waits on the disk, not the CPU, so the
/// run's files (written without one, 45 on the demo) are synced side by side, once, here
/// before the commit, instead of one after another on the threads that encode them.
fn sync_files(files: &[PathBuf]) -> Result<(), OutputError> {
    const AT_ONCE: usize = 16;
    let threads = files.len().min(AT_ONCE);
    let failed = std::thread::scope(|s| {
        let each: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    files.iter().skip(t).step_by(threads).find_map(|p| {
                        // (Linux syncs through a read-only handle, so a read-only file syncs
                        // too; Windows flushes only a writable one)
                        let synced = std::fs::OpenOptions::new()
                            .read(true)
                            .write(cfg!(windows))
                            .open(p)
                            .and_then(|f| f.sync_all());
                        synced.err().map(|e| (p.clone(), e))
                    })
                })
            })
            .collect();
        each.into_iter().find_map(|h| h.join().ok().flatten())
    });
    match failed {
        Some((path, source)) => Err(OutputError::Io { path, source }),
        None => Ok(()),
    }
}

fn sync_dir(dir: &Path) {
    // best effort: not every platform can open a directory for fsync
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

pub(crate) fn fault_set(item: &str) -> bool {
    std::env::var("UNHEARD_TEST_FAULT").is_ok_and(|v| v.split(',').any(|i| i == item))
}

/// The test hook at `step` (see the module documentation).
fn fault(step: &str) {
    if fault_set(&format!("kill@{step}")) {
        #[cfg(unix)]
        // SAFETY: signals this process; no memory is involved
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
    if fault_set(&format!("pause@{step}")) {
        eprintln!("unheard: test pause at {step} (pid {})", std::process::id());
        loop {
            std::thread::park();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    /// The commit's fsync of the staged files names a file it could not sync (here one removed
    /// under it), whichever thread met it; the rest sync.
    #[test]
    fn syncing_the_staged_files_names_the_one_that_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = (0..40).map(|i| tmp.path().join(format!("f{i}"))).collect();
        for f in &files {
            std::fs::write(f, "x").unwrap();
        }
        assert!(sync_files(&files).is_ok());
        std::fs::remove_file(&files[27]).unwrap();
        match sync_files(&files) {
            Err(OutputError::Io { path, .. }) => assert_eq!(path, files[27]),
            other => panic!("{other:?}"),
        }
        assert!(sync_files(&[]).is_ok());
    }

    #[test]
    fn commit_replaces_and_drop_discards() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("run");

        let lock = OutputLock::acquire(&target, &[], Holds::Run).unwrap();
        let first = lock.stage().unwrap();
        std::fs::write(first.path().join("manifest.json"), r#"{"unheard_version":"x"}"#).unwrap();
        std::fs::write(first.path().join("old.txt"), "old").unwrap();
        assert!(first.commit().unwrap().warning.is_none());
        assert_eq!(names(&target), [MARKER, "manifest.json", "old.txt"]);

        let failed = lock.stage().unwrap();
        std::fs::write(failed.path().join("new.txt"), "new").unwrap();
        drop(failed);
        assert!(target.join("old.txt").exists(), "a failed run leaves the previous outputs");

        let ok = lock.stage().unwrap();
        std::fs::write(ok.path().join("manifest.json"), r#"{"unheard_version":"y"}"#).unwrap();
        std::fs::write(ok.path().join("new.txt"), "new").unwrap();
        ok.commit().unwrap();
        assert_eq!(names(&target), [MARKER, "manifest.json", "new.txt"]);
        drop(lock);
        assert_eq!(names(tmp.path()), ["run"], "no staging, previous or lock file left");
    }

    #[test]
    fn the_lock_holder_removes_only_dead_runs_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        for dir in [".run.staging-123", ".run.previous-45", ".run.staging-mine", ".other.staging-6"] {
            std::fs::create_dir(tmp.path().join(dir)).unwrap();
        }
        let lock = OutputLock::acquire(&tmp.path().join("run"), &[], Holds::Run).unwrap();
        assert!(lock.warnings.is_empty());
        assert_eq!(names(tmp.path()), [".other.staging-6", ".run.lock", ".run.staging-mine"]);
        assert_eq!(std::fs::read_to_string(tmp.path().join(".run.lock")).unwrap(), format!("{}\n", std::process::id()));
        drop(lock);
        // in the work folder, where runs stage now: the same, and the folder goes once empty
        let work = tmp.path().join(WORK);
        for dir in ["run.staging-123", "run.previous-45", "other.staging-6"] {
            std::fs::create_dir_all(work.join(dir)).unwrap();
        }
        let lock = OutputLock::acquire(&tmp.path().join("run"), &[], Holds::Run).unwrap();
        assert_eq!(names(&work), ["other.staging-6"]);
        std::fs::remove_dir(work.join("other.staging-6")).unwrap();
        let staged = lock.stage().unwrap();
        assert!(staged.path().starts_with(&work));
        drop(staged);
        assert!(!work.exists(), "the empty work folder is removed");
    }

    #[test]
    fn only_an_earlier_run_with_nothing_else_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        std::fs::create_dir_all(run.join("records/month=2025-01")).unwrap();
        std::fs::write(run.join("records/month=2025-01/part-0.parquet"), "p").unwrap();
        std::fs::write(run.join("manifest.json"), r#"{"unheard_version":"x"}"#).unwrap();
        assert!(earlier_run(&run, Holds::Run).unwrap_err().contains("no .unheard-run marker"));
        write_marker(&run).unwrap();
        assert_eq!(earlier_run(&run, Holds::Run), Ok(()));
        std::fs::write(run.join("records/notes.txt"), "mine").unwrap();
        assert_eq!(earlier_run(&run, Holds::Run).unwrap_err(), "holds records/notes.txt, which no unheard run wrote");
        std::fs::remove_file(run.join("records/notes.txt")).unwrap();
        std::fs::create_dir(run.join("mine")).unwrap();
        assert_eq!(earlier_run(&run, Holds::Run).unwrap_err(), "holds mine, which no unheard run wrote");
        std::fs::remove_dir(run.join("mine")).unwrap();
        std::fs::write(run.join("manifest.json"), "[]").unwrap();
        assert!(earlier_run(&run, Holds::Run).unwrap_err().contains("manifest.json"));
        assert!(earlier_run(&run.join("manifest.json"), Holds::Run).unwrap_err().contains("is a file"));
    }
}
