//! The only writer to stderr: progress bars on a terminal, errors always, a summary line
//! unless `--quiet`. For scheduled runs it also appends what it says to a log file (`--log`)
//! and, with `--json`, keeps warnings and reports for the one JSON summary instead of
//! printing reports on stdout. Every line it writes to stderr, a log or the summary passes
//! through the redaction it is given ([`Messages::redacting`]).

use std::borrow::Cow;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Removes personal data from a line before it is written.
pub type Redact = fn(&str) -> Cow<'_, str>;

/// Where messages go.
#[derive(Debug)]
pub struct Messages {
    quiet: bool,
    /// Progress bars: only when stderr is a terminal and not quiet.
    progress: bool,
    redact: Option<Redact>,
    log: Option<Log>,
    /// With `--json`: what would have gone to stdout, and the warnings, kept for the summary.
    kept: Option<Mutex<Kept>>,
}

/// What a `--json` run keeps for its summary (redacted).
#[derive(Debug, Default, Clone)]
pub struct Kept {
    /// Warnings, without the `warning: ` prefix.
    pub warnings: Vec<String>,
    /// Lines a command would have printed on stdout (e.g. `validate`'s report).
    pub reports: Vec<String>,
}

/// A log file opened for appending.
#[derive(Debug)]
struct Log {
    path: PathBuf,
    file: Mutex<File>,
    /// Set after the first failed write (reported once on stderr).
    failed: AtomicBool,
}

impl Messages {
    /// Progress only when stderr is a terminal and not quiet: a scheduler's captured stderr
    /// (a file or a pipe) never holds progress-bar control sequences.
    #[must_use]
    pub fn new(quiet: bool) -> Messages {
        Messages { quiet, progress: !quiet && std::io::stderr().is_terminal(), redact: None, log: None, kept: None }
    }

    /// Silent except errors (for tests and library use).
    #[must_use]
    pub fn silent() -> Messages {
        Messages { quiet: true, progress: false, redact: None, log: None, kept: None }
    }

    /// Every line written to stderr, the log or the summary passes through `redact`.
    #[must_use]
    pub fn redacting(self, redact: Redact) -> Messages {
        Messages { redact: Some(redact), ..self }
    }

    /// Keeps warnings and stdout reports for a JSON summary; stdout is left to it.
    #[must_use]
    pub fn keeping(self) -> Messages {
        Messages { kept: Some(Mutex::new(Kept::default())), ..self }
    }

    /// Appends to the log at `path` from now on (created if missing, never truncated), after a
    /// header line.
    ///
    /// # Errors
    /// The file cannot be opened for appending, or the header cannot be written.
    pub fn log_to(&mut self, path: &Path, header: &str) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().append(true).create(true).open(path)?;
        file.write_all(format!("{header}\n").as_bytes())?;
        self.log = Some(Log { path: path.to_path_buf(), file: Mutex::new(file), failed: AtomicBool::new(false) });
        Ok(())
    }

    /// `text` as it may be written: personal data redacted.
    #[must_use]
    pub fn safe<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redact {
            Some(redact) => redact(text),
            None => Cow::Borrowed(text),
        }
    }

    /// What a `--json` run kept (empty otherwise).
    #[must_use]
    pub fn kept(&self) -> Kept {
        self.kept.as_ref().map(|k| k.lock().unwrap_or_else(PoisonError::into_inner).clone()).unwrap_or_default()
    }

    /// Appends `text` (lines) to the log, if there is one; a failed write is reported once.
    pub fn log(&self, text: &str) {
        let Some(log) = &self.log else { return };
        let mut file = log.file.lock().unwrap_or_else(PoisonError::into_inner);
        // one write per message, so lines of runs sharing a log do not interleave mid-line
        if let Err(e) = file.write_all(format!("{text}\n").as_bytes()) {
            if !log.failed.swap(true, Ordering::SeqCst) {
                let _ =
                    writeln!(std::io::stderr().lock(), "warning: cannot append to the log {}: {e}", log.path.display());
            }
        }
    }

    /// A progress bar for `len` items of a stage (hidden when not on a terminal).
    #[must_use]
    pub fn bar(&self, stage: &str, len: u64) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        bar.set_prefix(stage.to_owned());
        bar
    }

    /// A spinner for a stage without a count (hidden when not on a terminal).
    #[must_use]
    pub fn spinner(&self, stage: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_prefix(stage.to_owned());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} {spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// An informational line (not shown with `--quiet`; always logged).
    pub fn info(&self, line: &str) {
        let line = self.safe(line);
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        self.log(&line);
    }

    /// A warning: something the user should act on, shown unless quiet (always logged, and
    /// kept for a JSON summary).
    pub fn warn(&self, line: &str) {
        let line = self.safe(line);
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "warning: {line}");
        }
        self.log(&format!("warning: {line}"));
        if let Some(kept) = &self.kept {
            kept.lock().unwrap_or_else(PoisonError::into_inner).warnings.push(line.into_owned());
        }
    }

    /// An error with every cause, always shown (and logged).
    pub fn error(&self, err: &anyhow::Error) {
        let mut said = said_once(err).into_iter();
        let mut text = format!("error: {}", said.next().unwrap_or_default());
        for cause in said {
            text.push_str(&format!("\n  cause: {cause}"));
        }
        let text = self.safe(&text);
        let _ = writeln!(std::io::stderr().lock(), "{text}");
        self.log(&text);
    }

    /// Writes to stdout (reports asked for by a command, e.g. `validate`), and to the log; with
    /// a JSON summary, keeps it for the summary instead.
    pub fn out(&self, text: &str) {
        if self.log.is_some() || self.kept.is_some() {
            let safe = self.safe(text);
            self.log(&safe);
            if let Some(kept) = &self.kept {
                kept.lock().unwrap_or_else(PoisonError::into_inner).reports.extend(safe.lines().map(str::to_owned));
                return;
            }
        }
        // stdout too has its personal data redacted, as stderr has: `codebook check` printed a
        // codebook's path and `codebook suggest` a run folder's as typed (found in the
        // twenty-fourth session on issue 9)
        let _ = writeln!(std::io::stdout().lock(), "{}", self.safe(text));
    }

    /// A command's closing line on stdout (what it did, where it wrote), not shown with
    /// `--quiet`: a command a scheduler runs says nothing when all went well.
    pub fn done(&self, text: &str) {
        if !self.quiet {
            self.out(text);
        }
    }

    /// Writes the JSON summary: the one thing on stdout of a `--json` run.
    pub fn summary(&self, json: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{json}");
    }
}

/// `text` cut to at most `max` characters (an ellipsis marks a cut), for quoting values in
/// one-line messages.
#[must_use]
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// An error and its causes, each cause its message already says left out ("x.lock:
/// Permission denied (os error 13)" was followed by "cause: Permission denied (os error 13)").
#[must_use]
pub fn said_once(err: &anyhow::Error) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cause in err.chain().map(ToString::to_string) {
        if out.last().is_none_or(|last| !last.contains(&cause)) {
            out.push(cause);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> Cow<'_, str> {
        crate::text::redact::Redactor::shared().redact(text).0
    }

    #[test]
    fn every_line_is_redacted_then_appended_to_the_log_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        std::fs::write(&path, "before\n").unwrap();
        let mut m = Messages::silent().redacting(redact).keeping();
        m.log_to(&path, "=== header ===").unwrap();
        m.warn("call 07700 900123");
        m.info("from jo@example.org");
        m.error(&anyhow::anyhow!("bad value jo@example.org").context("run failed"));
        m.out("report for Dr Smith");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "before\n=== header ===\nwarning: call [PHONE]\nfrom [EMAIL]\nerror: run failed\n  cause: bad value [EMAIL]\nreport for Dr [NAME]\n"
        );
        let kept = m.kept();
        assert_eq!(
            (kept.warnings, kept.reports),
            (vec!["call [PHONE]".to_owned()], vec!["report for Dr [NAME]".to_owned()])
        );
    }
}
