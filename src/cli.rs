//! Command line: clap arguments → settings → the library. Exit codes: 0 clean, 1 finished
//! with quarantined rows or field issues, 2 failed (nothing committed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::config::{Overrides, Settings};
use crate::messages::Messages;
use crate::{ingest, pipeline};

/// Who is missing from this conversation? Codes NHS feedback into themes by group.
#[derive(Debug, Parser)]
#[command(name = "unheard", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline (default: pipelines/demo.toml over data-samples/).
    Run(RunCommand),
    /// Check a pipeline's config, codebook, baseline and input headers without running.
    Validate(RunCommand),
    /// Write synthetic feedback data (format from the extension: csv, jsonl, parquet, xlsx).
    Synth(SynthArgs),
    /// Work with codebooks.
    #[command(subcommand)]
    Codebook(CodebookCommand),
    /// Score the coder against labelled comments (per-label precision, recall, F1): the
    /// codebook (with --label-map), a learned model (--model), or K-fold cross-validation (--folds).
    Eval(EvalArgs),
    /// Learn a multi-label theme coder (and sentiment) from labelled comments.
    Train(TrainArgs),
    /// Show why a text (or a record of a past run) got its codes: tokens, themes with their
    /// rule and span, the polarity of each mention and why, redactions.
    Explain(ExplainArgs),
    /// List the export layouts read with no mapping: the columns each expects and what each
    /// maps to.
    Layouts,
    /// Show how each raw demographic value of the inputs maps to a group, with counts, and
    /// write a `[people.map.<dimension>]` snippet for the values no mapping knows.
    People(PeopleArgs),
    /// Recompute the counts behind the published tables from an archive of runs (a folder of
    /// run folders, or one run folder): records, respondents, months and the top themes, with
    /// the runs' disclosure control.
    Archive(ArchiveArgs),
}

/// Arguments of `archive`.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The folder holding the run folders (or one run folder).
    #[arg(value_name = "ROOT")]
    pub root: PathBuf,
    /// Print JSON (a suppressed count is null).
    #[arg(long)]
    pub json: bool,
    /// Themes shown, by mentions.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Which reader counts: arrow (a plain loop over the Arrow reader, the default: 3.7× faster
    /// than polars on a 14-million-record year) or polars (a lazy scan); both give the same counts.
    #[arg(long, value_enum, default_value = "arrow")]
    pub reader: ArchiveReader,
}

/// The readers of `archive --reader`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ArchiveReader {
    /// A lazy polars scan.
    Polars,
    /// A plain loop over the `parquet` crate's Arrow reader.
    Arrow,
}

/// Arguments of `people`.
#[derive(Debug, Args)]
pub struct PeopleArgs {
    /// The pipeline and inputs, as for `run`.
    #[command(flatten)]
    pub run: RunArgs,
    /// Write the snippet to this file instead of stdout (only a new file, or one this
    /// command wrote before).
    #[arg(long, value_name = "FILE")]
    pub snippet: Option<PathBuf>,
}

/// Arguments of `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The text to explain (or use --record with --run).
    #[arg(required_unless_present = "record")]
    pub text: Option<String>,
    /// Question the text answers.
    #[arg(long, default_value = "nonspecific")]
    pub question: String,
    /// FFT rating 1–5 (6 = don't know), used as a sentiment prior.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=6))]
    pub rating: Option<u8>,
    /// Codebook TOML (default: the built-in codebook).
    #[arg(long, value_name = "FILE")]
    pub codebook: Option<PathBuf>,
    /// A record id of a past run (with --run).
    #[arg(long, requires = "run")]
    pub record: Option<String>,
    /// The output folder of that run.
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
}

impl ExplainArgs {
    /// What these flags ask `explain` to do.
    #[must_use]
    pub fn request(&self) -> crate::commands::ExplainRequest {
        crate::commands::ExplainRequest {
            text: self.text.clone(),
            question: self.question.clone(),
            rating: self.rating,
            codebook: self.codebook.clone(),
            record: self.record.clone(),
            run: self.run.clone(),
        }
    }
}

/// `unheard codebook …`
#[derive(Debug, Subcommand)]
pub enum CodebookCommand {
    /// Lint a codebook: duplicate or overlapping terms, themes that can never fire, surprising stems.
    Check {
        /// Codebook TOML.
        file: PathBuf,
        /// Also show information findings (overlaps between themes, stems that merge words).
        #[arg(long, short)]
        verbose: bool,
    },
    /// Print a codebook snippet of what a run's uncoded comments talk about (its
    /// `emerging_terms`): rising terms first, then the most frequent.
    Suggest {
        /// A run's output folder.
        run: PathBuf,
        /// How many themes to suggest.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

/// Arguments of `eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Codebook TOML (default: the built-in codebook).
    #[arg(long, value_name = "FILE")]
    pub codebook: Option<PathBuf>,
    /// Labelled comments, wide layout (one 0/1 column per label).
    #[arg(long, value_name = "FILE")]
    pub labelled: PathBuf,
    /// Map from theme codes to label columns (`theme_code,label` CSV); needed to score a codebook.
    #[arg(long, value_name = "FILE")]
    pub label_map: Option<PathBuf>,
    /// Score a learned model (from `unheard train`) instead of the codebook.
    #[arg(long, value_name = "MODEL", conflicts_with = "codebook")]
    pub model: Option<PathBuf>,
    /// K-fold cross-validation on this one file: train on K-1 respondent folds, predict the
    /// held-out fold, score all predictions (with --model: that model's training options).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(2..))]
    pub folds: Option<u32>,
    /// Labels left out of the scores of a model (repeatable).
    #[arg(long = "exclude-label", value_name = "LABEL", default_values_t = [String::from("Not assigned"), String::from("Labelling not possible")])]
    pub exclude_labels: Vec<String>,
    /// Training options for --folds without --model.
    #[command(flatten)]
    pub learn: LearnArgs,
    /// Where things are in the labelled file.
    #[command(flatten)]
    pub columns: LabelledColumns,
    /// Write predictions.parquet and metrics.parquet here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl EvalArgs {
    /// What these flags ask `eval` to do.
    #[must_use]
    pub fn request(&self) -> crate::commands::EvalRequest {
        crate::commands::EvalRequest {
            codebook: self.codebook.clone(),
            labelled: self.labelled.clone(),
            label_map: self.label_map.clone(),
            model: self.model.clone(),
            folds: self.folds,
            exclude_labels: self.exclude_labels.clone(),
            learn: self.learn.request(),
            columns: self.columns.columns(true),
            out: self.out.clone(),
        }
    }
}

/// Where things are in a labelled file (defaults: the FFT export's column names). An empty
/// value ("") means the file has no such column.
#[derive(Debug, Clone, Args)]
pub struct LabelledColumns {
    /// Column with the free text.
    #[arg(long, default_value = "FFT answer")]
    pub text_column: String,
    /// Column with the question.
    #[arg(long, default_value = "FFT question")]
    pub question_column: String,
    /// First label column: it and every column after it is a 0/1 label.
    #[arg(long, default_value = "Not assigned")]
    pub labels_from: String,
    /// Column with the record id (default: row number).
    #[arg(long, default_value = "Comment ID")]
    pub id_column: String,
    /// Column with sentiment 1 (very positive) … 5 (very negative); blank rows are skipped
    /// for sentiment; "" = no sentiment.
    #[arg(long, default_value = "Comment sentiment")]
    pub sentiment_column: String,
    /// Column with the FFT rating (a prior for the codebook's sentiment).
    #[arg(long, default_value = "FFT categorical answer")]
    pub rating_column: String,
    /// Column with the respondent id: folds keep a respondent's comments together; "" = the
    /// record id.
    #[arg(long, default_value = "Respondent ID")]
    pub group_column: String,
}

impl LabelledColumns {
    /// The columns to read; the rating only when `rating` (the learned coder does not use it).
    #[must_use]
    pub fn columns(&self, rating: bool) -> crate::evaluate::Columns {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        crate::evaluate::Columns {
            text: self.text_column.clone(),
            question: opt(&self.question_column),
            labels_from: self.labels_from.clone(),
            id: opt(&self.id_column),
            sentiment: opt(&self.sentiment_column),
            rating: if rating { opt(&self.rating_column) } else { None },
            group: opt(&self.group_column),
        }
    }
}

/// Arguments of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Labelled comments: the wide layout (one 0/1 column per label from --labels-from), or
    /// with --long-labels the texts file (id, text, question columns).
    #[arg(long, value_name = "FILE")]
    pub labelled: PathBuf,
    /// Long layout: a `record_id,label` CSV, one row per record and label, joined to
    /// --labelled by --id-column.
    #[arg(long, value_name = "FILE")]
    pub long_labels: Option<PathBuf>,
    /// Where to write the model (JSON; gzip when the name ends in .gz).
    #[arg(long, value_name = "MODEL")]
    pub out: PathBuf,
    /// Where things are in the labelled file.
    #[command(flatten)]
    pub columns: LabelledColumns,
    /// Training options.
    #[command(flatten)]
    pub learn: LearnArgs,
    /// Print nothing but errors (a retraining a scheduler runs: the closing line is not printed).
    #[arg(long, short, overrides_with = "quiet")]
    pub quiet: bool,
}

impl TrainArgs {
    /// What these flags ask `train` to do.
    #[must_use]
    pub fn request(&self) -> crate::commands::TrainRequest {
        crate::commands::TrainRequest {
            labelled: self.labelled.clone(),
            long_labels: self.long_labels.clone(),
            out: self.out.clone(),
            columns: self.columns.columns(false),
            learn: self.learn.request(),
        }
    }
}

/// Options of the learner.
#[derive(Debug, Clone, Args)]
pub struct LearnArgs {
    /// Seed (inner folds, the solver's order): the same seed gives the same model.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Thresholds maximise F-beta on inner folds: above 1 favours recall (2 = recall counts
    /// twice as much as precision), below 1 precision.
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    /// Inverse regularisation strength of the linear SVM.
    #[arg(long, default_value_t = 0.5)]
    pub c: f64,
    /// Word n-grams from 1 to N.
    #[arg(long, default_value_t = 2)]
    pub ngram_max: usize,
    /// Also character n-grams inside words, e.g. 3-5 (default: none).
    #[arg(long, value_name = "LO-HI")]
    pub char_ngrams: Option<String>,
    /// Drop terms in fewer training records than this.
    #[arg(long, default_value_t = 2)]
    pub min_df: u32,
    /// Weight of the question feature (0 = none).
    #[arg(long, default_value_t = 0.5)]
    pub question_weight: f32,
    /// Weight of each built-in codebook theme found (0 = none).
    #[arg(long, default_value_t = 0.5)]
    pub codebook_weight: f32,
    /// Inner folds for the thresholds.
    #[arg(long, default_value_t = 3)]
    pub inner_folds: usize,
}

impl LearnArgs {
    /// The learner's options as asked, for a command.
    #[must_use]
    pub fn request(&self) -> crate::commands::LearnRequest {
        crate::commands::LearnRequest {
            seed: self.seed,
            beta: self.beta,
            c: self.c,
            ngram_max: self.ngram_max,
            char_ngrams: self.char_ngrams.clone(),
            min_df: self.min_df,
            question_weight: self.question_weight,
            codebook_weight: self.codebook_weight,
            inner_folds: self.inner_folds,
        }
    }
}

/// Arguments of `run` and `validate`: the run's, and what a scheduler asks for.
#[derive(Debug, Args)]
pub struct RunCommand {
    /// The pipeline and inputs.
    #[command(flatten)]
    pub run: RunArgs,
    /// Summary and log for schedulers.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// What a scheduler asks of `run` and `validate` (README, "Scheduled runs").
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Print one JSON summary object on stdout at the end (nothing else goes to stdout), also
    /// when the run fails.
    #[arg(long)]
    pub json: bool,
    /// Append the summary, warnings and errors (what the terminal shows, without progress
    /// bars) to FILE after a timestamped header line; created if missing, never truncated.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// The pipeline and inputs of `run`, `validate` and `people`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pipeline file. Without it and without --input, pipelines/demo.toml.
    pub pipeline: Option<PathBuf>,
    /// Input file (repeatable, or several after one flag: `--input exports/*.csv`); replaces
    /// the pipeline's sources. Canonical column names are recognised without any mapping.
    #[arg(long = "input", value_name = "FILE", num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Population baseline CSV (dimension,group,population).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Use the pipeline's baseline of this name.
    #[arg(long, value_name = "NAME", conflicts_with = "baseline")]
    pub baseline_name: Option<String>,
    /// Count only this area of the baseline (its code or name, as a census table writes it;
    /// repeatable): a census table of every local authority otherwise counts them all.
    #[arg(long = "baseline-area", value_name = "AREA")]
    pub baseline_areas: Vec<String>,
    /// Codebook TOML (default: the built-in NHS patient experience codebook).
    #[arg(long, value_name = "FILE")]
    pub codebook: Option<PathBuf>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Export layout of every input (see `unheard layouts`; default: detected from the header).
    #[arg(long, value_name = "NAME")]
    pub layout: Option<String>,
    /// The question a layout's trust-specific question answers, e.g. question_1=could_improve
    /// (repeatable; also a raw value of a question column).
    #[arg(long = "question", value_name = "NAME=QUESTION", value_parser = parse_question)]
    pub questions: Vec<(String, crate::record::Question)>,
    /// The state of nightly runs (default: `<out>.state` beside the output).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Code every record again, whatever the state holds.
    #[arg(long)]
    pub full: bool,
    /// Drop from the state the records that a file read again no longer holds.
    #[arg(long)]
    pub prune: bool,
    /// Keep no state: a one-off run that codes everything and writes nothing beside its output.
    #[arg(long, conflicts_with_all = ["state", "full", "prune"])]
    pub no_state: bool,
    /// A service change to compare before and after, NAME=YYYY-MM-DD (repeatable; records
    /// of that day count as after); a pipeline's `[[change]]` of the same name moves to the date.
    #[arg(long = "change", value_name = "NAME=YYYY-MM-DD", value_parser = parse_change)]
    pub changes: Vec<(String, chrono::NaiveDate)>,
    /// CSV encoding of every input: auto (each field UTF-8, else Windows-1252), utf-8 or
    /// windows-1252; replaces the pipeline's `encoding`.
    #[arg(long, value_name = "auto|utf-8|windows-1252", value_parser = parse_encoding)]
    pub encoding: Option<crate::config::Encoding>,
    /// The line (CSV) or row (XLSX) holding the header of every input, counting from 1, for
    /// exports with title lines above it.
    #[arg(long, value_name = "N", value_parser = parse_header_row)]
    pub header_row: Option<u64>,
    /// The CSV delimiter of every input: one ASCII character, or `tab`; replaces the
    /// pipeline's `delimiter` (without either, a header holding no comma but `;`, tabs or `|`
    /// gives its own).
    #[arg(long, value_name = "CHAR", value_parser = crate::config::parse_delimiter)]
    pub delimiter: Option<u8>,
    /// The date format of every input: a chrono format such as `%d/%m/%Y`, `excel` for Excel
    /// serial numbers, `unix` or `unix_ms` for seconds or milliseconds since 1970, several joined
    /// by `|` (tried in order); replaces the pipeline's `date_format` and a layout's.
    #[arg(long, value_name = "FORMAT", value_parser = parse_date_format)]
    pub date_format: Option<String>,
    /// Of the columns not read, carry only these into `records` (headers, repeatable, or
    /// several after one flag); replaces the pipeline's `carry`. Default: every one.
    #[arg(long = "carry", value_name = "COLUMN", num_args = 1.., conflicts_with = "no_carry")]
    pub carry: Vec<String>,
    /// Carry none of the columns not read into `records` (a survey export of every question);
    /// replaces the pipeline's `carry`.
    #[arg(long)]
    pub no_carry: bool,
    /// The inputs' record ids are unique only within each file (monthly exports each numbering
    /// their rows from 1): record ids are written `<source>:<id>`.
    #[arg(long)]
    pub ids_per_file: bool,
    /// The sheet of every workbook input to read (else the first); replaces the pipeline's
    /// `sheet`.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short, overrides_with = "quiet")]
    pub quiet: bool,
}

fn parse_change(s: &str) -> Result<(String, chrono::NaiveDate), String> {
    let (name, date) = s
        .rsplit_once('=')
        .filter(|(n, _)| !n.trim().is_empty())
        .ok_or_else(|| format!("expected NAME=YYYY-MM-DD, e.g. new_booking_line=2025-06-02, not {s:?}"))?;
    // (found: `--change "a=2025-01-01,b=2025-02-01"` was one change named "a=2025-01-01,b")
    if name.contains('=') {
        // several changes in one flag, or a name holding `=` (`a=b=2025-07-01`: told to write
        // what was typed, found by a QI team's attacker)
        if !s.contains([',', ';']) {
            return Err(format!("a change's name may not hold '=': write NAME=YYYY-MM-DD, not {s:?}"));
        }
        let each: Vec<String> = s.split([',', ';']).map(|c| format!("--change {:?}", c.trim())).collect();
        return Err(format!("one change a flag: repeat --change for each ({}), not {s:?}", each.join(" ")));
    }
    let date = crate::config::iso_date(date.trim())
        .ok_or_else(|| format!("{date:?} is not a date; write YYYY-MM-DD (four digits of year)"))?;
    Ok((name.trim().to_owned(), date))
}

fn parse_question(s: &str) -> Result<(String, crate::record::Question), String> {
    use crate::record::Question;
    let (name, q) = s
        .split_once('=')
        .filter(|(n, _)| !n.trim().is_empty())
        .ok_or_else(|| format!("expected NAME=QUESTION, e.g. question_1=could_improve, not {s:?}"))?;
    // (found: `--question "question_1=could_improve,question_2=what_good"` read question_1 as
    // could_improve by the wording's cue, question_2 not at all)
    if q.contains('=') {
        let each: Vec<String> = s.split([',', ';']).map(|c| format!("--question {:?}", c.trim())).collect();
        return Err(format!("one question a flag: repeat --question for each ({}), not {s:?}", each.join(" ")));
    }
    let question = Question::parse(q).ok_or_else(|| {
        format!("unknown question {q:?}; expected one of {}", Question::ALL.map(Question::as_str).join(", "))
    })?;
    Ok((name.trim().to_owned(), question))
}

/// Arguments of `synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Records to write (rows for .csv/.parquet, responses for .xlsx, conversations for .jsonl).
    #[arg(long, default_value_t = 35_000)]
    pub records: usize,
    /// Random seed.
    #[arg(long, default_value_t = 20_261_126)]
    pub seed: u64,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short, overrides_with = "quiet")]
    pub quiet: bool,
}

const DEMO: &str = "pipelines/demo.toml";

fn parse_date_format(s: &str) -> Result<String, String> {
    if crate::config::date_format_valid(s) {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not a date format; e.g. \"%d/%m/%Y\", \"%Y-%m-%d\" or \"excel\""))
    }
}

fn parse_encoding(s: &str) -> Result<crate::config::Encoding, String> {
    crate::config::Encoding::parse(s)
        .ok_or_else(|| format!("unknown encoding {s:?}; expected auto, utf-8 or windows-1252"))
}

/// `--header-row`: a line number, counting from 1 (clap's range said "0 is not in
/// 1..18446744073709551615").
fn parse_header_row(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("lines count from 1: the first line of the file is 1".to_owned()),
        Err(_) => Err(format!("{s:?} is not a line number (1 for the first line)")),
    }
}

impl RunArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            inputs: self.inputs.clone(),
            baseline: self.baseline.clone(),
            baseline_name: self.baseline_name.clone(),
            baseline_areas: self.baseline_areas.clone(),
            out: self.out.clone(),
            threads: self.threads,
            codebook: self.codebook.clone(),
            layout: self.layout.clone(),
            questions: self.questions.clone(),
            changes: self.changes.clone(),
            state: self.state.clone(),
            full: self.full,
            prune: self.prune,
            no_state: self.no_state,
            encoding: self.encoding,
            header_row: self.header_row,
            delimiter: self.delimiter,
            date_format: self.date_format.clone(),
            carry: if self.no_carry {
                Some(crate::config::Carry::Nothing)
            } else if self.carry.is_empty() {
                None
            } else {
                Some(crate::config::Carry::Only(self.carry.clone()))
            },
            ids_per_file: self.ids_per_file,
            sheet: self.sheet.clone(),
        }
    }

    /// Resolves the settings this invocation asks for.
    ///
    /// # Errors
    /// A bad pipeline file or flags.
    pub fn settings(&self) -> Result<Settings> {
        let overrides = self.overrides();
        let settings = match (&self.pipeline, self.inputs.is_empty()) {
            (Some(p), _) => Settings::from_file(p, &overrides)?,
            (None, false) => Settings::from_overrides(&overrides)?,
            (None, true) => {
                let demo = Path::new(DEMO);
                if !demo.exists() {
                    anyhow::bail!("no pipeline given and {DEMO} is not here: run from the project folder, or pass a pipeline file or --input");
                }
                Settings::from_file(demo, &overrides)?
            }
        };
        Ok(settings)
    }
}

/// Runs the command line; returns the process exit code. `run` and `validate` also print their
/// JSON summary (`--json`) and write their log (`--log`) here, whatever the outcome.
#[must_use]
pub fn main_with(cli: Cli) -> ExitCode {
    let started = chrono::Utc::now();
    let (quiet, scheduled) = match &cli.command {
        Command::Run(a) | Command::Validate(a) => (a.run.quiet, Some(a)),
        Command::People(a) => (a.run.quiet, None),
        Command::Synth(a) => (a.quiet, None),
        Command::Train(a) => (a.quiet, None),
        Command::Codebook(_) | Command::Eval(_) | Command::Explain(_) | Command::Layouts | Command::Archive(_) => {
            (false, None)
        }
    };
    let json = scheduled.is_some_and(|a| a.report.json);
    let mut summary = Summary::new(if matches!(cli.command, Command::Validate(_)) { "validate" } else { "run" });
    let mut messages = Messages::new(quiet).redacting(redact);
    if json {
        messages = messages.keeping();
    }
    let opened = match scheduled {
        Some(RunCommand { run, report: ReportArgs { log: Some(path), .. } }) => open_log(
            &mut messages,
            path,
            run,
            &format!(
                "=== {} unheard {} {} started (pid {}) ===",
                stamp(started),
                env!("CARGO_PKG_VERSION"),
                summary.command,
                std::process::id()
            ),
        ),
        _ => Ok(()),
    };
    let result = opened.and_then(|()| dispatch(cli, &messages, &mut summary));
    // a signal being handled ends the process with its own exit code
    crate::output::interrupt::settle();
    let code = match result {
        Ok(code) => code,
        Err(err) => {
            messages.error(&err);
            summary.error = Some(messages.safe(&crate::messages::said_once(&err).join(": ")).into_owned());
            summary.exit_code = 2;
            ExitCode::from(2)
        }
    };
    messages.log(&format!("=== {} exit code {} ===", stamp(chrono::Utc::now()), summary.exit_code));
    if json {
        let kept = messages.kept();
        summary.warnings = kept.warnings;
        summary.checks = kept.reports;
        // plain fields cannot fail to serialise; were one to, the summary still says how it ended
        messages.summary(&serde_json::to_string(&summary).unwrap_or_else(|e| {
            serde_json::json!({
                "schema_version": SUMMARY_SCHEMA_VERSION,
                "command": summary.command,
                "exit_code": summary.exit_code,
                "error": format!("cannot write the summary: {e}"),
            })
            .to_string()
        }));
    }
    code
}

/// A command line that cannot be parsed (an unknown flag, `--threads abc`, `--change
/// x=2025-13-01`): said on stderr as clap says it, and — when the line asks for them — in the
/// `--json` summary and the `--log` file too, exit 2. A scheduler parsing stdout had nothing to
/// parse, and the log nothing, where an error after parsing gave both (found in the
/// twenty-fourth session on issue 9).
#[must_use]
pub fn refused(e: &clap::Error, args: &[String]) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    // redacted as every other line on stderr is: clap quotes the value it refused (`--threads
    // "Dr X 943 476 5919"` was printed as typed, found by a reader in the twenty-sixth session
    // on issue 9)
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), redact(&e.to_string()).as_bytes());
    let command = match args.get(1).map(String::as_str) {
        Some("validate") => "validate",
        Some("run") => "run",
        _ => return ExitCode::from(2),
    };
    // clap's message without its usage lines, personal data redacted
    let text = e.to_string();
    let said: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).collect();
    let said = redact(said.join(" ").trim_start_matches("error: ")).into_owned();
    let flag = |name: &str| {
        args.iter().enumerate().find_map(|(i, a)| {
            if a == name {
                args.get(i + 1).cloned()
            } else {
                a.strip_prefix(&format!("{name}=")).map(str::to_owned)
            }
        })
    };
    // appended only to what cannot be an input or a pipeline: the line was not read, so the
    // inputs it names are not known
    if let Some(log) = flag("--log").map(PathBuf::from) {
        let data = crate::config::Format::from_path(&log).is_some()
            || log.extension().is_some_and(|x| x.eq_ignore_ascii_case("toml"));
        if !data && crate::files::not_a_file(&log).is_none() {
            let now = stamp(chrono::Utc::now());
            let lines = format!(
                "=== {now} unheard {} {command} started (pid {}) ===\nerror: {said}\n=== {now} exit code 2 ===\n",
                env!("CARGO_PKG_VERSION"),
                std::process::id()
            );
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .and_then(|mut f| std::io::Write::write_all(&mut f, lines.as_bytes()));
            if let Err(err) = appended {
                eprintln!("warning: cannot append to the log {}: {err}", crate::ingest::shown(&log));
            }
        }
    }
    if args.iter().any(|a| a == "--json") {
        let mut summary = Summary::new(command);
        summary.exit_code = 2;
        summary.error = Some(said);
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    }
    ExitCode::from(2)
}

/// Opens `--log` for appending, unless it is a file the run reads or lies in its output folder
/// (settings that cannot be read are reported by the run itself, into the log).
fn open_log(messages: &mut Messages, path: &Path, run: &RunArgs, header: &str) -> Result<()> {
    if let (Ok(settings), Some(log)) = (run.settings(), crate::files::resolved(path)) {
        // the same file under another name too: a hard link's appended to the input it names
        let same = |i: &Path| {
            crate::files::resolved(i).as_ref() == Some(&log)
                || crate::files::identity(i).is_some_and(|id| crate::files::identity(path) == Some(id))
        };
        if let Some(input) = pipeline::input_paths(&settings).into_iter().find(|i| same(i)) {
            anyhow::bail!(
                "the log {} is {}, a file the run reads: choose another --log",
                path.display(),
                input.display()
            );
        }
        // in the state, or in any folder unheard writes: refused by its next run as a file it
        // did not write, every night after (found by a reader in the twenty-sixth session)
        if let Some(holder) =
            settings.state.iter().find(|s| crate::files::resolved(s).is_some_and(|s| log.starts_with(s)))
        {
            anyhow::bail!(
                "the log {} is inside the state {}, which a run replaces: choose another --log",
                path.display(),
                holder.display()
            );
        }
        if crate::files::resolved(&settings.out).is_some_and(|out| log.starts_with(out)) {
            anyhow::bail!(
                "the log {} is inside the output folder {}, which a run replaces: choose another --log",
                path.display(),
                settings.out.display()
            );
        }
        if let Some(holder) = crate::output::commit::inside_unheard_folder(&log) {
            anyhow::bail!(
                "the log {} is inside {}, a folder unheard writes, which a run replaces: choose another --log",
                path.display(),
                crate::ingest::shown(&holder)
            );
        }
    }
    // found: `--log notes.csv` appended the run's lines to a person's spreadsheet
    if !crate::files::may_log(path) {
        anyhow::bail!(
            "the log {} is a data, pipeline or binary file, not a log: it is left as it is; choose another --log",
            crate::ingest::shown(path)
        );
    }
    messages.log_to(path, header).with_context(|| format!("cannot open the log {} for appending", path.display()))
}

/// A time as the log shows it: UTC, to the second.
fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What stderr, the log and the summary may show of a line: personal data redacted, as in the
/// outputs.
fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    crate::text::redact::Redactor::shared().redact(text).0
}

/// The version of the `--json` summary's layout: raised when a field changes or goes.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

/// The `--json` summary of `run` and `validate` (README, "Scheduled runs"): every field is
/// always there, null (or empty) when it does not apply.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    /// [`SUMMARY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `run` or `validate`.
    pub command: &'static str,
    /// The run's name, once the pipeline is read.
    pub run: Option<String>,
    /// The exit code the process returns.
    pub exit_code: u8,
    /// Why it failed (exit code 2), with every cause; personal data redacted.
    pub error: Option<String>,
    /// The manifest's counts (a finished run).
    pub counts: Option<SummaryCounts>,
    /// Groups flagged in `representation` over the whole run.
    pub flags: Option<SummaryFlags>,
    /// Rows of `comparisons` whose change is significant.
    pub significant_changes: Option<u64>,
    /// Points of `spc` that signal special cause.
    pub special_causes: Option<u64>,
    /// What the run took from its state (the manifest's `state`; null without one).
    pub state: Option<crate::output::manifest::StateReport>,
    /// The output folder.
    pub out: Option<String>,
    /// Its manifest.
    pub manifest: Option<String>,
    /// Its files, relative to it.
    pub files: Vec<String>,
    /// Wall time per stage, milliseconds (the manifest's `timings_ms`).
    pub durations_ms: BTreeMap<&'static str, u64>,
    /// Warnings, as the terminal shows them.
    pub warnings: Vec<String>,
    /// `validate`'s report lines.
    pub checks: Vec<String>,
}

/// The counts of a finished run, named as in the manifest's `counts`.
#[derive(Debug, serde::Serialize)]
pub struct SummaryCounts {
    /// Sources read.
    pub sources: usize,
    /// Rows read.
    pub rows_read: u64,
    /// Rows that gave at least one record.
    pub rows_kept: u64,
    /// Rows quarantined.
    pub rows_quarantined: u64,
    /// Rows dropped on purpose.
    pub rows_dropped: u64,
    /// `rows_read == rows_kept + rows_quarantined + rows_dropped`.
    pub rows_reconcile: bool,
    /// Records of this run's inputs (the manifest's `counts.records`; a night's records carried
    /// from its state are in `state.carried`).
    pub records: u64,
    /// Fields that could not be used in kept records.
    pub field_issues: u64,
    /// Record × theme pairs.
    pub record_themes: usize,
}

/// Groups flagged in `representation` (period `all`).
#[derive(Debug, serde::Serialize)]
pub struct SummaryFlags {
    /// Flagged `under_represented`.
    pub under_represented: u64,
    /// Flagged `below_parity`.
    pub below_parity: u64,
    /// Each flagged group: dimension, group, flag.
    pub groups: Vec<pipeline::FlaggedGroup>,
}

impl Summary {
    fn new(command: &'static str) -> Summary {
        Summary { schema_version: SUMMARY_SCHEMA_VERSION, command, ..Summary::default() }
    }

    /// Fills in a finished run.
    fn finished(&mut self, o: &pipeline::Outcome) {
        self.exit_code = o.exit_code();
        self.counts = Some(SummaryCounts {
            sources: o.sources,
            rows_read: o.rows_read,
            rows_kept: o.rows_kept,
            rows_quarantined: o.quarantined,
            rows_dropped: o.rows_dropped,
            rows_reconcile: o.rows_reconcile,
            // the manifest's, as the summary promises (a night over a new file only gave every
            // published record here and tonight's in the manifest: found in the twenty-fourth
            // session on issue 9)
            records: o.records_read,
            field_issues: o.field_issues,
            record_themes: o.record_themes,
        });
        use crate::analyse::stats::Flag;
        let count = |flag: Flag| o.flagged.iter().filter(|f| f.flag == flag.as_str()).count() as u64;
        self.flags = Some(SummaryFlags {
            under_represented: count(Flag::UnderRepresented),
            below_parity: count(Flag::BelowParity),
            groups: o.flagged.clone(),
        });
        self.significant_changes = Some(o.significant_changes);
        self.special_causes = Some(o.special_causes);
        self.state.clone_from(&o.state);
        // (paths redacted as the terminal's summary redacts them)
        self.out = Some(crate::ingest::shown(&o.out));
        self.manifest = Some(crate::ingest::shown(&o.manifest));
        self.files.clone_from(&o.files);
        self.durations_ms.clone_from(&o.timings_ms);
    }
}

fn dispatch(cli: Cli, messages: &Messages, summary: &mut Summary) -> Result<ExitCode> {
    match cli.command {
        Command::Run(args) => {
            let settings = args.run.settings()?;
            summary.run = Some(settings.name.clone());
            if settings.threads > 0 {
                // polars sizes its own pool from this before first use
                std::env::set_var("POLARS_MAX_THREADS", settings.threads.to_string());
            }
            // a run of `--input` alone has no name of its own ("run \"run\" failed" was said)
            let what = if args.run.pipeline.is_none() && !args.run.inputs.is_empty() {
                "the run".to_owned()
            } else {
                format!("run {:?}", settings.name)
            };
            let o = pipeline::run(&settings, messages).map_err(|e| {
                // a state kept before the output failed: its error says so
                let kept = matches!(e, pipeline::RunError::Output(crate::output::OutputError::AfterState { .. }));
                let said = if kept { "" } else { "; nothing was committed" };
                anyhow::Error::from(e).context(format!("{what} failed{said}"))
            })?;
            // records of files this run did not read come from the state: said, since a
            // folder removed for a fresh start leaves its state beside it (found: "3 rows → 8
            // records" with nothing else said)
            let carried = o
                .state
                .as_ref()
                .filter(|s| s.carried > 0)
                .map(|s| format!(" ({} carried from the state {}, of files this run did not read)", s.carried, s.path))
                .unwrap_or_default();
            messages.info(&format!(
                "unheard: {} rows from {} source{} → {} records{carried}, {} quarantined, {} field issue{}, {} theme codes in {:.2} s → {}",
                o.rows_read,
                o.sources,
                if o.sources == 1 { "" } else { "s" },
                o.records,
                o.quarantined,
                o.field_issues,
                if o.field_issues == 1 { "" } else { "s" },
                o.record_themes,
                o.seconds,
                o.out.display()
            ));
            summary.finished(&o);
            Ok(ExitCode::from(o.exit_code()))
        }
        Command::Validate(args) => validate(&args.run, messages, summary),
        Command::Codebook(CodebookCommand::Check { file, verbose }) => codebook_check(&file, verbose, messages),
        Command::Codebook(CodebookCommand::Suggest { run, top }) => {
            let snippet = crate::analyse::emerging::suggest(&run, top).map_err(anyhow::Error::msg)?;
            messages.out(&snippet);
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(args) => crate::commands::eval(&args.request(), messages),
        Command::Train(args) => crate::commands::train(&args.request(), messages),
        Command::Explain(args) => crate::commands::explain(&args.request(), messages),
        Command::Archive(args) => crate::commands::archive(
            &crate::commands::ArchiveRequest {
                root: args.root,
                json: args.json,
                top: args.top,
                reader: match args.reader {
                    ArchiveReader::Polars => crate::archive::Reader::Polars,
                    ArchiveReader::Arrow => crate::archive::Reader::Arrow,
                },
            },
            messages,
        ),
        Command::Layouts => {
            messages.out(ingest::layout::describe().trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::People(args) => crate::commands::people(
            &crate::commands::PeopleRequest { settings: args.run.settings()?, snippet: args.snippet },
            messages,
        ),
        Command::Synth(args) => {
            let gz = args.out.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
            let plain = if gz { args.out.with_extension("") } else { args.out.clone() };
            let ext = crate::synth::format_of(&plain)?;
            let truth = plain.with_extension("truth.csv");
            // synthetic data never replaces a file: `--out data.csv` over a person's export
            // overwrote it, and `--out data.csv.gz` beside one overwrote it and then removed it
            // (found trying it)
            crate::files::may_replace(&args.out, "synth", "--out", None)?;
            // (a ground truth replaces a ground truth: `a.csv` and `a.jsonl` share `a.truth.csv`)
            crate::files::may_replace(&truth, "synth", "--out", Some(&crate::synth::is_truth_file))?;
            let opts = crate::synth::SynthOptions { records: args.records, seed: args.seed };
            let summary = if gz {
                // the plain file is a temporary of its own beside the .gz, never `plain`
                let dir = plain.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let tmp = tempfile::Builder::new()
                    .prefix(".unheard-synth-")
                    .suffix(&format!(".{ext}"))
                    .tempfile_in(dir)
                    .with_context(|| format!("cannot write in {}", dir.display()))?
                    .into_temp_path();
                let mut summary = crate::synth::write(&tmp, &truth, &opts)
                    .with_context(|| format!("cannot write {}", args.out.display()))?;
                gzip(&tmp, &args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
                summary.path.clone_from(&args.out);
                summary
            } else {
                crate::synth::write(&plain, &truth, &opts)
                    .with_context(|| format!("cannot write {}", plain.display()))?
            };
            messages.info(&format!(
                "unheard: wrote {} records ({} rows) to {} and the ground truth to {}",
                summary.records,
                summary.rows,
                summary.path.display(),
                summary.truth_path.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn codebook_check(file: &Path, verbose: bool, messages: &Messages) -> Result<ExitCode> {
    use crate::code::{Codebook, Severity};
    let book = Codebook::from_file(file)?;
    let findings = book.check();
    let mut lines = Vec::new();
    for f in findings.iter().filter(|f| verbose || f.severity > Severity::Info) {
        let sev = match f.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        lines.push(format!(
            "{}: line {}: theme {}: {sev}: {}",
            file.display(),
            f.line,
            f.theme.as_deref().unwrap_or("-"),
            f.message
        ));
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    lines.push(format!(
        "{}: {} themes; {} errors, {} warnings, {} notes{}",
        file.display(),
        book.themes.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        if verbose { "" } else { " (--verbose shows notes)" }
    ));
    messages.out(&lines.join("\n"));
    Ok(if count(Severity::Error) > 0 {
        ExitCode::from(2)
    } else if count(Severity::Warning) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Compresses `from` (a temporary, removed when dropped) into `to` (deterministic: no name or
/// time in the header).
fn gzip(from: &Path, to: &Path) -> std::io::Result<()> {
    let data = std::fs::read(from)?;
    let file = std::fs::File::create(to)?;
    let mut enc = flate2::GzBuilder::new().mtime(0).write(file, flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &data)?;
    enc.finish()?.sync_all()
}

fn validate(args: &RunArgs, messages: &Messages, summary: &mut Summary) -> Result<ExitCode> {
    let settings = args.settings()?;
    summary.run = Some(settings.name.clone());
    // every check runs, whatever the others found: a pipeline with three problems was told one a
    // run (found: a missing codebook hid a mapped column that is not in the header, which hid a
    // source that is not there)
    let mut problems: Vec<anyhow::Error> = Vec::new();
    let mut report = vec![format!("pipeline {:?}: ok", settings.name)];
    let check = |report: &mut Vec<String>, problems: &mut Vec<anyhow::Error>, lines: Result<Vec<String>>| match lines {
        Ok(lines) => report.extend(lines),
        Err(e) => problems.push(e),
    };
    check(
        &mut report,
        &mut problems,
        crate::output::check_out(&settings.out, &pipeline::input_paths(&settings), crate::output::Holds::Run)
            .map(|out| {
                vec![format!(
                    "output {}: {}",
                    settings.out.display(),
                    if out.replaces { "replaces an earlier run" } else { "a new folder" }
                )]
            })
            .map_err(Into::into),
    );
    // a folder it can write: `validate` said "a new folder" where the run could make none
    // (found by a reader in the twenty-sixth session on issue 9)
    for (role, dir) in std::iter::once(("output", &settings.out)).chain(settings.state.iter().map(|s| ("state", s))) {
        if let Some(e) = unwritable(dir) {
            problems.push(anyhow::anyhow!(
                "{role} {}: cannot be written there ({e}); choose a folder you can write to",
                crate::ingest::shown(dir)
            ));
        }
    }
    let book = match pipeline::load_codebook(&settings.codebook) {
        Ok(book) => {
            report.push(format!("codebook {} {}: {} themes", book.name, book.version, book.themes.len()));
            // what the run says of it, said before it runs
            for w in pipeline::codebook_warnings(&book).into_iter().chain(pipeline::target_warnings(&settings, &book)) {
                messages.warn(&w);
            }
            Some(book)
        }
        Err(e) => {
            problems.push(e.into());
            None
        }
    };
    check(&mut report, &mut problems, validate_state(&settings).map(|line| vec![line]));
    // the run's warnings on its state, said before it runs (found by a reader in the
    // twenty-sixth session on issue 9: validate said nothing of either)
    let held = settings.state.as_deref().filter(|d| crate::state::read_manifest(d).ok().flatten().is_some());
    for n in pipeline::state_notices(&settings, held).1 {
        messages.warn(&n);
    }
    if let Some(book) = &book {
        check(
            &mut report,
            &mut problems,
            pipeline::load_model(&settings, book)
                .map(|m| {
                    m.map(|m| {
                        format!(
                            "coder: model {} ({} labels, {} mapped to themes), policy {:?}",
                            settings.coder.model.as_ref().map_or(String::new(), |p| p.display().to_string()),
                            m.model.labels.len(),
                            m.theme_of_label.iter().filter(|t| t.is_some()).count(),
                            settings.coder.policy
                        )
                    })
                    .into_iter()
                    .collect()
                })
                .map_err(Into::into),
        );
    }
    if let Some(b) = &settings.baseline {
        check(&mut report, &mut problems, validate_baseline(&settings, b).map(|line| vec![line]));
    }
    for (i, source) in settings.sources.iter().enumerate() {
        check(&mut report, &mut problems, validate_source(&settings, source, i));
    }
    messages.out(&report.join("\n"));
    match problems.len() {
        0 => Ok(ExitCode::SUCCESS),
        1 => Err(problems.remove(0)),
        n => Err(anyhow::anyhow!(
            "{n} problems, each of which stops a run:\n{}",
            problems
                .iter()
                .enumerate()
                .map(|(i, e)| format!("  {}. {}", i + 1, crate::messages::said_once(e).join(": ")))
                .collect::<Vec<_>>()
                .join("\n")
        )),
    }
}

/// Why nothing can be written where `dir` is (or would be made): a file is made and dropped, unnamed,
/// in the nearest folder of its path that exists.
fn unwritable(dir: &Path) -> Option<std::io::Error> {
    let abs = std::path::absolute(dir).ok()?;
    let existing = abs.ancestors().skip(1).find(|a| a.is_dir())?;
    tempfile::tempfile_in(existing).err()
}

/// `validate`'s line on the state folder.
fn validate_state(settings: &crate::config::Settings) -> Result<String> {
    Ok(match &settings.state {
        None => "state: none (every run codes every record)".to_owned(),
        Some(dir) => {
            crate::output::check_out(dir, &pipeline::input_paths(settings), crate::output::Holds::State)
                .map_err(crate::output::OutputError::of_state)?;
            match crate::state::read_manifest(dir)? {
                None => {
                    pipeline::lost_state(settings, dir)?;
                    format!("state {}: new (this run codes every record and keeps them)", dir.display())
                }
                Some(m) => {
                    // as a run checks it: a state of other dimensions, or behind its output, was
                    // said ok here and refused by the run (found by a reader in the twenty-sixth
                    // session on issue 9)
                    if let Some(e) = pipeline::other_dimensions(dir, &m, &settings.dimensions) {
                        return Err(e.into());
                    }
                    pipeline::state_behind(settings, dir, &m)?;
                    crate::state::check_published(dir, &m)?;
                    pipeline::check_state_sources(settings, dir, &m)?;
                    format!(
                        "state {}: {} records coded by {}; a run codes only new or changed records",
                        dir.display(),
                        m.records,
                        m.coding.codebook
                    )
                }
            }
        }
    })
}

/// `validate`'s line on the baseline: its groups harmonised as a run would (duplicates are an
/// error here too).
fn validate_baseline(settings: &crate::config::Settings, b: &crate::config::BaselineSettings) -> Result<String> {
    let base = crate::people::baseline::Baseline::of(b)?;
    let harmoniser = crate::people::harmoniser(
        settings,
        &crate::people::age_bands(settings, Some(&base), &std::collections::BTreeSet::new()),
    )?;
    let pops = crate::people::baseline_populations(&base, b, &settings.dimensions, &harmoniser)?;
    // a value `[people.map.*]` maps to a group the baseline lacks: every record of it stops the
    // run, which validate can tell before any is read (found by a reader in the twenty-sixth
    // session on issue 9: validate said ok, the run stopped)
    for (d, dim) in settings.dimensions.iter().enumerate() {
        let (Some(map), Some(groups)) = (settings.people.map.get(dim), pops.groups.get(d).filter(|g| !g.is_empty()))
        else {
            continue;
        };
        for raw in map.keys() {
            let g = harmoniser.group(d, Some(raw), None);
            let special = [crate::people::MISSING, crate::people::NOT_STATED, crate::people::UNMAPPED];
            if !special.contains(&g.as_str()) && !groups.contains_key(&g) {
                anyhow::bail!(
                    "{}: no population for {dim} group {g:?}, which [people.map.{dim}] maps {raw:?} to: a record of that \
                     value stops the run; add a row \"{dim},{g},<population>\", or map it to a group the baseline has",
                    crate::ingest::shown(&b.path)
                );
            }
        }
    }
    let areas = match (base.areas.met.len(), base.areas.picked.len()) {
        (0 | 1, 0) => String::new(),
        (n, 0) => format!(", {n} areas added up (name yours with --baseline-area)"),
        (n, _) => format!(", areas {} of the {n} it holds", base.areas.picked.join(", ")),
    };
    Ok(format!("baseline {}: {} rows, {} unused{areas}", base.name, base.rows.len(), pops.unused.len()))
}

/// `validate`'s lines on one source: its layout, mapping, carried columns and warnings.
fn validate_source(
    settings: &crate::config::Settings,
    source: &crate::config::SourceSettings,
    i: usize,
) -> Result<Vec<String>> {
    let mut report = Vec::new();
    let ingest::Opened { mapper, .. } = ingest::open_source(settings, source, i)?;
    let mapped: Vec<String> = mapper.mapped_columns().into_iter().map(|(k, v)| format!("{k} ← {v:?}")).collect();
    report.push(format!(
        "source {} ({}): layout {}; {} text column(s); {}",
        source.name,
        source.path.display(),
        mapper.layout(),
        mapper.text_columns(),
        mapped.join(", ")
    ));
    let carried = mapper.carried_columns();
    if !carried.is_empty() {
        report.push(format!("  carried through: {}", carried.join(", ")));
    }
    let left = mapper.not_carried_columns();
    if !left.is_empty() {
        let more = if left.len() > 20 {
            format!(" and {} more (the manifest lists them)", left.len() - 20)
        } else {
            String::new()
        };
        report.push(format!("  not carried (the source's carry): {}{more}", left[..left.len().min(20)].join(", ")));
    }
    let withheld = mapper.withheld_columns();
    if !withheld.is_empty() {
        report.push(format!("  not carried (personal data by their header): {}", withheld.join(", ")));
    }
    // what a run says of the source before its first row (a carry naming no column)
    for w in mapper.warnings() {
        report.push(format!("  warning: {w}"));
    }
    Ok(report)
}
