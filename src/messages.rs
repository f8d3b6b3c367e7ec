//! The only writer to stderr: progress bars on a terminal, errors always, a summary line
//! unless `--quiet`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where messages go.
#[derive(Debug, Clone, Copy)]
pub struct Messages {
    quiet: bool,
    progress: bool,
}

impl Messages {
    /// Progress only on a terminal and not quiet.
    #[must_use]
    pub fn new(quiet: bool) -> Messages {
        Messages { quiet, progress: !quiet && std::io::stderr().is_terminal() }
    }

    /// Silent except errors (for tests and library use).
    #[must_use]
    pub fn silent() -> Messages {
        Messages { quiet: true, progress: false }
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

    /// A spinner for a stage without a count.
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

    /// An informational line (not shown with `--quiet`).
    pub fn info(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// A warning: something the user should act on, shown unless quiet.
    pub fn warn(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "warning: {line}");
        }
    }

    /// An error with every cause, always shown.
    pub fn error(&self, err: &anyhow::Error) {
        let mut out = std::io::stderr().lock();
        let _ = writeln!(out, "error: {err}");
        for cause in err.chain().skip(1) {
            let _ = writeln!(out, "  cause: {cause}");
        }
    }

    /// Writes to stdout (reports asked for by a command, e.g. `validate`).
    pub fn out(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
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
