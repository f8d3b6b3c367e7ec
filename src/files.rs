//! Reading the files a run is pointed at. Only regular files are read: a folder, FIFO, socket or
//! device is refused before it is opened (a FIFO would block for ever, `/dev/zero` would never
//! end). Every file unheard reads — inputs, pipelines, codebooks, baselines, models, label maps,
//! lookups — goes through here.

use std::path::Path;

/// What `path` is when it is not a regular file (following links), e.g. `"a FIFO (named pipe)"`;
/// `None` for a regular file or a path that cannot be looked at (the read then says why).
#[must_use]
pub(crate) fn not_a_file(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return None;
    }
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some(if t.is_dir() { "a folder" } else { "something else" })
}

fn refuse(path: &Path) -> std::io::Result<()> {
    match not_a_file(path) {
        None => Ok(()),
        Some(kind) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{kind}, not a regular file; only files are read"),
        )),
    }
}

/// The bytes of a regular file.
///
/// # Errors
/// Not a regular file, or it cannot be read.
pub(crate) fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    refuse(path)?;
    std::fs::read(path)
}

/// The text of a regular file.
///
/// # Errors
/// Not a regular file, not UTF-8, or it cannot be read.
pub(crate) fn read_to_string(path: &Path) -> std::io::Result<String> {
    refuse(path)?;
    std::fs::read_to_string(path)
}

/// Refuses to write over `path` unless nothing is there or `ours` recognises what is there as a
/// file unheard wrote (a model, a Parquet file of its own); without `ours` the command replaces
/// nothing. A file a person made is never replaced. `command` and `flag` name what to change in
/// the message.
///
/// # Errors
/// Something is at `path` that `ours` does not recognise.
pub(crate) fn may_replace(
    path: &Path,
    command: &str,
    flag: &str,
    ours: Option<&dyn Fn(&Path) -> bool>,
) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(path).is_err() || ours.is_some_and(|ours| path.is_file() && ours(path)) {
        return Ok(());
    }
    let why = if ours.is_some() {
        format!("was not written by `unheard {command}`; it is left as it is")
    } else {
        format!("`unheard {command}` replaces no file")
    };
    anyhow::bail!("{}: exists and {why}: remove it or choose another {flag}", crate::ingest::shown(path))
}

/// Whether `path` may take a run's log lines: no file there yet, an empty one (a scheduler's
/// `touch`, a rotation's truncation), a device or pipe (`/dev/stderr`), a log unheard wrote
/// (its first line a run's header, `=== <time> unheard …`), or a text log other programs write
/// to too — but never a data, pipeline or binary file (found: `--log notes.csv` appended the
/// run's lines to a person's spreadsheet).
#[must_use]
pub(crate) fn may_log(path: &Path) -> bool {
    use std::io::Read as _;
    /// What a person keeps beside the data: never a log either.
    const NOT_LOGS: [&str; 5] = ["txt", "toml", "zip", "docx", "html"];
    /// What another program's log is named.
    const LOGS: [&str; 6] = ["log", "out", "err", "logs", "stdout", "stderr"];
    let links = match std::fs::metadata(path) {
        Err(_) => return std::fs::symlink_metadata(path).is_err(),
        Ok(m) if !m.is_file() => return true,
        Ok(m) => {
            use std::os::unix::fs::MetadataExt;
            m.nlink()
        }
    };
    let Ok(file) = std::fs::File::open(path) else { return false };
    let mut head = Vec::with_capacity(64);
    if file.take(64).read_to_end(&mut head).is_err() {
        return false;
    }
    let ours = head.starts_with(b"=== ") && head.windows(9).any(|w| w == b" unheard ");
    // another program's text is appended to when it is named as a log is (`cron.log`,
    // `/var/log/messages`): a script, a query or notes are not (found: `--log nightly.sh` appended
    // the run's lines to the cron script, by a reader in the twenty-sixth session on issue 9)
    // and a rotated one (`nightly.log.1`); a script of no extension is not (`#!`, a cron.daily
    // script); nor a file of other names too, one of which may be a state's (a hard link to its
    // manifest broke every night after: found by a reader)
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
    let rotated =
        name.contains(".log.") && name.rsplit('.').next().is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
    let named_as_log = rotated
        || match path.extension().and_then(|e| e.to_str()) {
            None => !head.starts_with(b"#!"),
            Some(e) => LOGS.iter().any(|n| n.eq_ignore_ascii_case(e)),
        };
    if links > 1 && !ours {
        return false;
    }
    let data = is_data_file(path)
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| NOT_LOGS.iter().any(|n| n.eq_ignore_ascii_case(e)));
    head.is_empty() || ours || (!data && named_as_log && !head.contains(&0))
}

/// `path` made absolute with its links resolved, also when its last part does not exist yet.
#[must_use]
pub(crate) fn resolved(path: &Path) -> Option<std::path::PathBuf> {
    std::fs::canonicalize(path).ok().or_else(|| {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
    })
}

/// Whether `path` is named as data (an export: CSV, TSV, JSON, Parquet, a workbook, gzipped),
/// which is never a pipeline, a codebook or a log.
#[must_use]
pub(crate) fn is_data_file(path: &Path) -> bool {
    const DATA: [&str; 13] =
        ["csv", "tsv", "json", "jsonl", "ndjson", "parquet", "pq", "xlsx", "xlsm", "xls", "xlsb", "ods", "gz"];
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| DATA.iter().any(|n| n.eq_ignore_ascii_case(e)))
}

/// Whether `path` is a Parquet file unheard wrote (its footer's `created_by`).
#[must_use]
pub(crate) fn unheard_parquet(path: &Path) -> bool {
    use parquet::file::reader::FileReader as _;
    let Ok(file) = std::fs::File::open(path) else { return false };
    parquet::file::reader::SerializedFileReader::new(file)
        .is_ok_and(|r| r.metadata().file_metadata().created_by().is_some_and(|c| c.starts_with("unheard ")))
}

/// What tells one file from another: its device and inode where there are such (a hard link
/// is the same file under another name: given twice, every row of the second was a duplicate,
/// found trying careless flags in the twenty-first session on issue 9), else its canonical path
/// (which sees through a symbolic link). `None` for a path that cannot be examined.
pub(crate) fn identity(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| format!("{}:{}", m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(path).ok().map(|p| p.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f.txt");
        std::fs::write(&f, "x").unwrap();
        assert_eq!(read(&f).unwrap(), b"x");
        assert_eq!(not_a_file(tmp.path()), Some("a folder"));
        let e = read_to_string(tmp.path()).unwrap_err();
        assert!(e.to_string().contains("a folder, not a regular file"), "{e}");
        assert_eq!(not_a_file(Path::new("/dev/null")), Some("a device"));
        assert!(read(Path::new("/dev/zero")).is_err());
    }
}
