//! One run, end to end: ingest → code → people → analyse → output, committed atomically.
//!
//! This file is the driver: [`run`] sets the run up ([`setup`]), streams every batch through
//! the reader's thread, the pool and the writer's thread ([`stream`]; over a nightly state,
//! [`incremental`]), then analyses the counts, writes the tables, the manifest and the report
//! and commits them ([`finish`]).

mod finish;
mod incremental;
mod setup;
mod stream;

use setup::{raking_dimensions, set_up, SetUp};
use stream::{stream_batches, Tally, Timings, WriteContext};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::analyse::setup::WhoError;
use crate::analyse::AnalyseError;
use crate::code::{Codebook, CodebookError, Coded, Coder, Engine};
use crate::config::{CodebookSource, Settings, DEFAULT_CODEBOOK};
use crate::ingest::IngestError;
use crate::messages::Messages;
use crate::output::manifest::StateReport;
use crate::output::write::StreamWriter;
use crate::output::{OutputError, OutputLock};
use crate::people::{baseline::BaselineError, harmoniser};
use crate::record::Record;

/// Why a run failed (nothing was committed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Codebook.
    #[error(transparent)]
    Codebook(#[from] CodebookError),
    /// Input.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Baseline.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// Analysis.
    #[error(transparent)]
    Analyse(#[from] AnalyseError),
    /// Output.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Learned coder.
    #[error(transparent)]
    Model(#[from] crate::code::model::ModelError),
    /// A stage's thread stopped on a bug (its panic message was printed).
    #[error("internal error: the {0} thread stopped; please report it")]
    Panicked(&'static str),
    /// The state of nightly runs cannot be used.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The ids seen could not be kept on disk past `[run] ids_in_memory`, or read back.
    #[error("{0}")]
    Ids(String),
    /// A dimension met more groups than `[people] max_groups`: most likely a column of ids,
    /// postcodes or practices made a dimension, whose groups would take the machine's memory.
    #[error(
        "dimension {dimension} has more than {limit} groups ({groups} in its first {records} records): a dimension is a set of \
         groups to compare (age bands, ethnicities), and each group costs the run memory for every theme and period \
         (about a third of a megabyte for a year of months of 61 themes), so a column of this many values (a practice, a \
         postcode, an id) would take the machine's memory; map that column as org_level_1..3 or leave it carried, \
         group its values with [people.map.{dimension}], or raise [people] max_groups{sized}"
    )]
    TooManyGroups {
        /// The dimension.
        dimension: String,
        /// Its groups when the run stopped.
        groups: usize,
        /// `[people] max_groups`.
        limit: usize,
        /// Records read when the run stopped.
        records: usize,
        /// How the limit was sized from the codebook when `max_groups` is unset (else empty).
        sized: String,
    },
    /// Thread pool.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Cause.
        message: String,
    },
}

impl From<WhoError> for RunError {
    fn from(e: WhoError) -> RunError {
        match e {
            WhoError::Analyse(e) => RunError::Analyse(e),
            WhoError::Baseline(e) => RunError::Baseline(e),
        }
    }
}

/// What a finished run did (the counts are the manifest's).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The committed output folder.
    pub out: PathBuf,
    /// Its files, relative to it, sorted.
    pub files: Vec<String>,
    /// Its manifest.
    pub manifest: PathBuf,
    /// Sources read.
    pub sources: usize,
    /// Rows read (`rows_kept + quarantined + rows_dropped`).
    pub rows_read: u64,
    /// Rows kept.
    pub rows_kept: u64,
    /// Rows dropped on purpose (blank JSONL lines).
    pub rows_dropped: u64,
    /// Records kept.
    pub records: usize,
    /// Of those, the records of this run's inputs (the manifest's `counts.records`: a night's
    /// records carried from its state are not among them).
    pub records_read: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Fields that could not be used in kept records (`field_issues.parquet`).
    pub field_issues: u64,
    /// Record × theme pairs.
    pub record_themes: usize,
    /// Rows read = kept + quarantined + dropped (the manifest's `rows_reconcile`).
    pub rows_reconcile: bool,
    /// Groups flagged `under_represented` or `below_parity` over the whole run
    /// (`representation`, period `all`), in the table's order.
    pub flagged: Vec<FlaggedGroup>,
    /// Rows of `comparisons` with `significant` true.
    pub significant_changes: u64,
    /// Points of `spc` with `special_cause` true.
    pub special_causes: u64,
    /// Wall time per stage, milliseconds (the manifest's `timings_ms`, with `total`).
    pub timings_ms: BTreeMap<&'static str, u64>,
    /// What the run took from its state and kept in it (the manifest's `state`).
    pub state: Option<StateReport>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// The run kept its records in the state of another output's nightly runs (warned, exit 1).
    pub state_of_another_output: bool,
}

/// A group `representation` flags over the whole run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlaggedGroup {
    /// Dimension.
    pub dimension: String,
    /// Group.
    pub group: String,
    /// `under_represented` or `below_parity`.
    pub flag: &'static str,
}

impl Outcome {
    /// The process's exit code: 1 when rows were quarantined, fields could not be used or the run
    /// kept another output's state, else 0.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        u8::from(self.quarantined > 0 || self.field_issues > 0 || self.state_of_another_output)
    }
}

/// Loads the codebook a run uses.
///
/// # Errors
/// Unreadable or invalid codebook.
pub fn load_codebook(source: &CodebookSource) -> Result<Codebook, CodebookError> {
    match source {
        CodebookSource::Builtin => Codebook::from_toml(DEFAULT_CODEBOOK, "<builtin nhs-patient-experience.toml>"),
        CodebookSource::Path(p) => Codebook::from_file(p),
    }
}

/// Every file a run reads (an output folder may not hold any of them).
#[must_use]
pub fn input_paths(settings: &Settings) -> Vec<&std::path::Path> {
    let mut paths: Vec<&std::path::Path> = settings.sources.iter().map(|s| s.path.as_path()).collect();
    paths.extend(settings.baselines.iter().map(|b| b.path.as_path()));
    paths.extend(settings.baseline.iter().map(|b| b.path.as_path()));
    if let CodebookSource::Path(p) = &settings.codebook {
        paths.push(p);
    }
    let c = &settings.coder;
    paths.extend(
        [&settings.pipeline, &c.model, &c.label_map, &settings.people.imd_lookup]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path),
    );
    paths
}

/// The learned model a run codes with, as the state records it: its sha256 and policy.
fn model_version(settings: &Settings) -> Option<String> {
    let p = settings.coder.model.as_ref()?;
    Some(format!("{} {:?}", crate::code::model::file_sha256(p).unwrap_or_default(), settings.coder.policy))
}

/// Loads the run's learned coder, if `[coder]` names one and its policy uses it.
///
/// # Errors
/// An unusable model or label map (each error names its file).
pub fn load_model(
    settings: &Settings,
    book: &Codebook,
) -> Result<Option<crate::code::model::ThemeModel>, crate::code::model::ModelError> {
    let c = &settings.coder;
    match (&c.model, &c.label_map) {
        (Some(m), Some(map)) if c.policy != crate::config::Policy::CodebookOnly => {
            crate::code::model::ThemeModel::load(m, map, book, c.policy).map(Some)
        }
        _ => Ok(None),
    }
}

/// Redacts, codes and reads the sentiment of every record in parallel; the output order is
/// the records' order, whatever the thread count.
#[must_use]
pub fn code_records(engine: &Engine, records: &[Record]) -> Vec<Coded> {
    records.par_iter().with_min_len(256).map(|r| code_one(engine, r)).collect()
}

/// Codes one record with this worker's scratch and memos.
fn code_one(engine: &Engine, r: &Record) -> Coded {
    thread_local! {
        /// Each worker's scratch and memos (stems, codebook lookups), kept warm from batch to
        /// batch; they only cache what the codebook and analyzer compute, so results do not
        /// depend on which worker codes a record (and a memo filled by another codebook is
        /// dropped, `Coder`'s own rule).
        static CODER: std::cell::RefCell<Coder> = std::cell::RefCell::new(Coder::default());
    }
    CODER.with(|c| engine.process(&r.text, r.question, r.rating, &mut c.borrow_mut()))
}

/// Runs the pipeline and commits its outputs to `settings.out`.
///
/// # Errors
/// Any fatal error; the previous outputs are then left as they were.
pub fn run(settings: &Settings, messages: &Messages) -> Result<Outcome, RunError> {
    // before anything is read: the output may be replaced, and no other run writes to it
    let lock = OutputLock::acquire(&settings.out, &input_paths(settings), crate::output::Holds::Run)?;
    // the state is written like the outputs, under its own lock
    let state_lock = settings
        .state
        .as_ref()
        .map(|s| {
            OutputLock::acquire(s, &input_paths(settings), crate::output::Holds::State)
                .map_err(crate::output::OutputError::of_state)
        })
        .transpose()?;
    for w in lock.warnings.iter().chain(state_lock.iter().flat_map(|l| &l.warnings)) {
        messages.warn(w);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .map_err(|e| RunError::Threads { threads: settings.threads, message: e.to_string() })?;
    pool.install(|| run_in_pool(settings, messages, &lock, state_lock.as_ref(), &pool))
}

/// The files records come from: this run's sources, then those only the state holds. A file the
/// state names by another path than this run (`../a.csv` one night, `/data/a.csv` the next, found
/// on the real export) is the source it resolves to, not a file the night did not read.
pub(super) struct SourceFiles {
    /// Each file as named: this run's sources as given, then the state's as it kept them.
    pub(super) names: Vec<String>,
    /// Each file's canonical path (its digest), where it resolves; kept in the state.
    pub(super) canonical: Vec<Option<String>>,
    /// The source each file's records were read as, where known; kept in the state.
    pub(super) sources: Vec<Option<String>>,
    /// Whether each file's ids are unique only within it (`ids_per_file`); kept in the state.
    pub(super) ids_per_file: Vec<bool>,
    /// The state's other names for this run's sources, with the source each names.
    pub(super) aliases: Vec<(String, u32)>,
}

/// What `validate` can say of a state before a run: a file it holds read under another source
/// name is refused, as a run refuses it.
///
/// # Errors
/// As [`SourceFiles::of`].
pub(crate) fn check_state_sources(
    settings: &Settings,
    dir: &std::path::Path,
    m: &crate::state::StateManifest,
) -> Result<(), RunError> {
    SourceFiles::of(settings, Some((dir, m))).map(|_| ())
}

impl SourceFiles {
    /// # Errors
    /// A file the state holds is read under another source name than the state's (its records
    /// would be held twice: a record is known by source and id).
    fn of(
        settings: &Settings,
        held: Option<(&std::path::Path, &crate::state::StateManifest)>,
    ) -> Result<SourceFiles, RunError> {
        // a file's canonical path, kept as its digest (the state holds no personal data: a path
        // may name a patient); a state kept before holds the path itself
        let digest = |p: &str| {
            use sha2::Digest;
            format!("sha256:{:x}", sha2::Sha256::digest(p.as_bytes()))
        };
        let resolve = |p: &std::path::Path| std::fs::canonicalize(p).ok().map(|c| digest(&c.display().to_string()));
        let stored = |p: String| if p.starts_with("sha256:") { p } else { digest(&p) };
        let mut names: Vec<String> = settings.sources.iter().map(|s| crate::ingest::shown(&s.path)).collect();
        let mut canonical: Vec<Option<String>> = settings.sources.iter().map(|s| resolve(&s.path)).collect();
        let mut sources: Vec<Option<String>> = settings.sources.iter().map(|s| Some(s.name.clone())).collect();
        let mut ids_per_file: Vec<bool> = settings.sources.iter().map(|s| s.ids_per_file).collect();
        let mut aliases = Vec::new();
        let read = names.len();
        // per state file: the source it was read as, and this run's sources that read it
        let mut met: Vec<(String, Option<String>, Vec<usize>)> = Vec::new();
        for (j, f) in held.map(|(_, m)| m.files.iter().enumerate()).into_iter().flatten() {
            let was = held.and_then(|(_, m)| m.file_sources.get(j).cloned().flatten());
            let kept = held
                .and_then(|(_, m)| m.canonical_files.get(j).cloned().flatten())
                .map(stored)
                .or_else(|| resolve(std::path::Path::new(f)));
            let per_file = held.and_then(|(_, m)| m.file_ids_per_file.get(j).copied()).unwrap_or(false);
            let by_name: Vec<usize> = (0..read).filter(|&i| names[i] == *f).collect();
            // a file whose ids the state read one way and this run the other: every record
            // would be another (`1` against `feb:1`), the state's kept beside this run's
            let named = !by_name.is_empty();
            let readers: Vec<usize> =
                if named { by_name } else { (0..read).filter(|&i| kept.is_some() && canonical[i] == kept).collect() };
            if let Some(&i) = readers.iter().find(|&&i| settings.sources[i].ids_per_file != per_file) {
                let (then, now) = if per_file { ("within", "across") } else { ("across", "within") };
                return Err(crate::state::StateError::Mismatch {
                    path: held.map(|(d, _)| d.to_path_buf()).unwrap_or_default(),
                    message: format!(
                        "it read the ids of {f} as unique {then} files, and this run (source {:?}) reads them as unique {now} files: \
                         every record would be held twice, under two ids; read it as the state did ({}--ids-per-file, ids_per_file = {per_file})",
                        settings.sources[i].name,
                        if per_file { "with " } else { "without " }
                    ),
                }
                .into());
            }
            if named {
                met.push((f.clone(), was, readers));
                continue;
            }
            match readers.first() {
                Some(&i) => {
                    aliases.push((f.clone(), i as u32));
                    met.push((f.clone(), was, readers));
                }
                None => {
                    names.push(f.clone());
                    canonical.push(kept);
                    sources.push(was);
                    ids_per_file.push(per_file);
                }
            }
        }
        // a source renamed: a file the state read as `a` read as `b` and as no source it knew
        for (f, was, readers) in &met {
            let Some(was) = was else { continue };
            let known = |i: &usize| {
                met.iter().any(|(g, w, _)| g == f && w.as_deref() == Some(settings.sources[*i].name.as_str()))
            };
            if readers.iter().any(|&i| settings.sources[i].name == *was) || readers.iter().all(known) {
                continue;
            }
            let now: Vec<&str> = readers.iter().map(|&i| settings.sources[i].name.as_str()).collect();
            return Err(crate::state::StateError::Mismatch {
                path: held.map(|(d, _)| d.to_path_buf()).unwrap_or_default(),
                message: format!(
                    "it holds the records of {f} as source {was:?}, and this run reads that file as source {:?}: \
                     a record is known by its source and id, so every one would be held twice; name the source {was:?} again (a pipeline's \
                     `[[source]] name`; an `--input` is named after its file)",
                    now.join(", ")
                ),
            }
            .into());
        }
        Ok(SourceFiles { names, canonical, sources, ids_per_file, aliases })
    }
}

/// The manifest of an output unheard wrote that holds the records of runs that kept a state,
/// with how many and the state's path (as written).
fn nightly_output(out: &std::path::Path) -> Option<(serde_json::Value, u64, String)> {
    if !out.join(".unheard-run").is_file() {
        return None;
    }
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).ok()?).ok()?;
    let held = m["state"]["records"].as_u64().unwrap_or(0);
    let was = m["state"]["path"].as_str().filter(|_| held > 0)?.to_owned();
    Some((m, held, was))
}

/// The output a state sits beside as its default (`o` for `o.state`), when that is another
/// output than `out` and holds nightly runs that kept a state (found: `--out other --state
/// o.state` merged a national month into `o`'s archive, and `o`'s next night published it, exit 0).
fn other_owner(state: &std::path::Path, out: &std::path::Path) -> Option<std::path::PathBuf> {
    let name = state.file_name()?.to_str()?.strip_suffix(".state")?;
    let owner = state.with_file_name(name);
    // links and `..` resolved: `--state ../w/o.state` from `w` is `o`'s own (found by a reader)
    let absolute = |p: &std::path::Path| {
        crate::files::resolved(p).unwrap_or_else(|| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
    };
    (!name.is_empty() && absolute(&owner) != absolute(out) && nightly_output(&owner).is_some()).then_some(owner)
}

/// A run that finds no state where the output it replaces holds the records of nightly runs: it
/// would start afresh from its inputs alone and replace those records (found: with the state
/// removed, the next night's output shrank to that night's 50 records of 149, exit 0).
///
/// # Errors
/// [`crate::state::StateError::Unreadable`] naming the state and the records at stake.
pub(crate) fn lost_state(settings: &Settings, state: &std::path::Path) -> Result<(), RunError> {
    let out = settings.out.as_path();
    let Some((m, held, was)) = nightly_output(out) else { return Ok(()) };
    // the first night again over the same files (one killed before its state was kept): it
    // gives the same records back, nothing is lost
    let same_files = m["inputs"].as_array().is_some_and(|inputs| {
        inputs.len() == settings.sources.len()
            && inputs.iter().zip(&settings.sources).all(|(i, s)| {
                i["path"].as_str() == Some(crate::ingest::shown(&s.path).as_str())
                    && i["bytes"].as_u64() == std::fs::metadata(&s.path).ok().map(|f| f.len())
            })
    });
    if m["state"]["mode"] == "first" && same_files {
        return Ok(());
    }
    Err(crate::state::StateError::Unreadable {
        path: state.to_path_buf(),
        message: format!(
            "no state here, while the output {} holds the {held} records of runs that kept one (at {was}): this run would start afresh from its inputs alone and replace them; restore the state from its backup (or give its path with --state), or remove the output folder to start afresh (nothing was touched)",
            out.display()
        ),
    }
    .into())
}

/// What a run says of its state before it starts (`validate` says it too): a state that sits
/// beside another nightly output (whose path is returned: the run exits 1), and a run keeping no
/// state over the output of runs that kept one.
pub(crate) fn state_notices(
    settings: &Settings,
    held: Option<&std::path::Path>,
) -> (Option<std::path::PathBuf>, Vec<String>) {
    let mut notices = Vec::new();
    let shared = held.and_then(|dir| Some((dir, other_owner(dir, &settings.out)?)));
    if let Some((dir, owner)) = &shared {
        notices.push(format!(
            "the state {} sits beside the output {}, whose nightly runs keep it: this run into {} adds its records to \
             that state, and {}'s next night publishes them as its own. A state belongs to one output: give this one \
             its own (--state {}.state, the default)",
            crate::ingest::shown(dir),
            crate::ingest::shown(owner),
            crate::ingest::shown(&settings.out),
            crate::ingest::shown(owner),
            crate::ingest::shown(&settings.out)
        ));
    }
    // `--no-state` over the output of nightly runs replaces their records with its inputs'
    // alone: asked for, but said (it was silent: found in the twenty-fourth session on issue 9)
    if let (None, Some((_, records, was))) = (&settings.state, nightly_output(&settings.out)) {
        notices.push(format!(
            "the output {} held the {records} records of runs that kept a state (at {was}): this run keeps none, and \
             replaces them with its inputs' records alone (the state is left as it is: the next run that keeps it \
             writes them back)",
            crate::ingest::shown(&settings.out)
        ));
    }
    (shared.map(|(_, owner)| owner), notices)
}

/// A state behind the output it keeps: the output was published by a night that did not keep
/// the state (a run stopped or failing between the two, before the state was kept first; or the
/// state restored from an older copy). This run would publish the state's records and its own,
/// and the nights the state lacks would be gone (found by a reader in the twenty-sixth session on
/// issue 9: a full disk under the state, then a night's export of new rows, 10,000 records
/// dropped with exit 0).
///
/// # Errors
/// [`crate::state::StateError::Unreadable`] naming both and the inputs of the output's last run.
pub(crate) fn state_behind(
    settings: &Settings,
    dir: &std::path::Path,
    m: &crate::state::StateManifest,
) -> Result<(), RunError> {
    let Some((out, _, _)) = nightly_output(&settings.out) else { return Ok(()) };
    // whatever the state's path is spelled (`o.state`, `$PWD/o.state`, a copy elsewhere given
    // with --state): the spelling let a state behind through (found by a reader)
    let Some(published) = out["state"]["nights"].as_u64() else { return Ok(()) };
    if published <= m.nights {
        return Ok(());
    }
    let listed = out["inputs"].as_array().cloned().unwrap_or_default();
    let inputs: Vec<&str> = listed.iter().filter_map(|i| i["path"].as_str()).collect();
    // one night behind, and this run reads that night's inputs again, the same bytes (an export
    // overwritten at its path each night is another night's: found by a reader): it brings the
    // state up
    let again = |i: &serde_json::Value| {
        settings.sources.iter().any(|s| {
            Some(crate::ingest::shown(&s.path).as_str()) == i["path"].as_str()
                && crate::code::model::file_sha256(&s.path).ok().as_deref() == i["sha256"].as_str()
        })
    };
    if published == m.nights + 1 && !listed.is_empty() && listed.iter().all(again) {
        return Ok(());
    }
    let remedy = if published == m.nights + 1 {
        format!(
            "Run the output's last run again first (its inputs: {}), then this one",
            if inputs.is_empty() { "none listed".to_owned() } else { inputs.join(", ") }
        )
    } else {
        "The nights between are in the output alone: restore a later copy of the state, or run every export \
         again into a new output"
            .to_owned()
    };
    Err(crate::state::StateError::Unreadable {
        path: dir.to_path_buf(),
        message: format!(
            "it was kept by {} run{}, and the output {} was written by the {}: the state is behind its output (a run \
             stopped before keeping it, or a copy restored from before), and this run would drop the records the \
             output holds and the state does not. {remedy} (nothing was touched)",
            m.nights,
            if m.nights == 1 { "" } else { "s" },
            crate::ingest::shown(&settings.out),
            ordinal(published),
        ),
    }
    .into())
}

/// `1st`, `2nd`, `3rd`, `11th`…
fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A state of other dimensions than the run's (`validate` says it as a run would).
pub(crate) use finish::{codebook_warnings, target_warnings};
pub(crate) use incremental::other_dimensions;

fn run_in_pool(
    settings: &Settings,
    messages: &Messages,
    lock: &OutputLock,
    state_lock: Option<&OutputLock>,
    pool: &rayon::ThreadPool,
) -> Result<Outcome, RunError> {
    let threads = pool.current_num_threads();
    let t0 = Instant::now();
    let mut timings = Timings::default();
    // what the state holds, if the run keeps one and one was kept
    let held = match &settings.state {
        Some(dir) => crate::state::read_manifest(dir)?.map(|m| (dir.clone(), m)),
        None => None,
    };
    if let (Some(dir), None) = (&settings.state, &held) {
        lost_state(settings, dir)?;
    }
    if let Some((dir, m)) = &held {
        state_behind(settings, dir, m)?;
        crate::state::check_published(dir, m)?;
    }
    let (shared, notices) = state_notices(settings, held.as_ref().map(|(dir, _)| dir.as_path()));
    for n in &notices {
        messages.warn(n);
    }
    let SetUp { engine, baseline, bands, mut stream } =
        set_up(settings, held.as_ref().map(|h| h.1.age_bands.as_slice()), &mut timings)?;
    let book = &engine.book;
    let versions = crate::state::CodingVersions::of(book, model_version(settings).as_deref());
    let harmoniser = harmoniser(settings, &bands)?;
    let raking = raking_dimensions(settings);
    let mut tally = Tally::new(settings, &harmoniser, book, &raking);
    let staging = lock.stage()?;
    let dir = staging.path().to_path_buf();
    // ids and responses past `[run] ids_in_memory` go to unnamed files in the staging folder
    stream.mapping.spill_ids_into(&dir);
    tally.respondents.spill_into(&dir);
    let state_staging = state_lock.map(OutputLock::stage).transpose()?;
    let writer =
        StreamWriter::create(&dir, state_staging.as_ref().map(|s| s.path().join(crate::state::ARCHIVE)).as_deref())?;
    let source_files = SourceFiles::of(settings, held.as_ref().map(|h| (h.0.as_path(), &h.1)))?;
    // a state column this run does not carry that names personal data (kept by a binary from
    // before such columns were withheld) is not carried on: the state is refused, as before
    let personal = |c: &String| {
        incremental::unkeyed(c) != *c
            || crate::text::redact::personal_column(&c.strip_prefix("x_").unwrap_or(c).replace('_', " ")).is_some()
    };
    // a state of other dimensions is refused first, saying which
    if let Some(e) = held.as_ref().and_then(|(dir, m)| incremental::other_dimensions(dir, m, &settings.dimensions)) {
        return Err(e.into());
    }
    if let Some((_, m)) = held
        .as_ref()
        .filter(|(_, m)| !m.extra_columns.iter().any(|c| !stream.mapping.extra_columns.contains(c) && personal(c)))
    {
        // an export that gained a column carries it beside the state's (a JSON key first met
        // tonight refused the state until the sixteenth session on issue 9)
        // …and one it no longer carries (`carry`, or gone from the export) stays, said once
        let left: Vec<&str> =
            m.extra_columns.iter().filter(|c| !stream.mapping.extra_columns.contains(c)).map(String::as_str).collect();
        if !left.is_empty() {
            let shown = left.iter().take(10).copied().collect::<Vec<_>>().join(", ");
            let more = if left.len() > 10 { format!(" and {} more", left.len() - 10) } else { String::new() };
            messages.info(&format!(
                "the state's carried columns {shown}{more} are not carried by this run (its carry, or gone from the \
                 export): records read tonight have none there, the state's others keep theirs"
            ));
        }
        let added = stream.mapping.adopt_columns(&m.extra_columns);
        if !added.is_empty() {
            messages.info(&format!(
                "carried columns new since the state: {} (the state's records have none)",
                added.join(", ")
            ));
        }
    }
    let extra_columns = stream.mapping.extra_columns.clone();
    let context = WriteContext { settings, book, extra_columns: &extra_columns, source_files: &source_files };
    let bar = messages.spinner("run");
    let (writer, stream, mut state_report) = match &held {
        None => {
            let (writer, stream) = stream_batches(&engine, stream, &mut tally, writer, &context, &mut timings, &bar)?;
            let report = settings.state.as_ref().map(|dir| StateReport {
                path: crate::ingest::shown(dir),
                mode: "first",
                new: tally.records as u64,
                records: tally.records as u64,
                ..StateReport::default()
            });
            (writer, stream, report)
        }
        Some((dir, m)) => incremental::stream(
            settings,
            messages,
            &engine,
            stream,
            &mut tally,
            writer,
            &context,
            &versions,
            dir,
            m,
            staging.path(),
            &mut timings,
            &bar,
        )?,
    };
    bar.finish_and_clear();
    if let Some(r) = &mut state_report {
        r.nights = held.as_ref().map_or(0, |(_, m)| m.nights) + 1;
    }
    if let Some(failure) = stream.ids_failure().or(tally.respondents.failure()) {
        return Err(RunError::Ids(failure.to_string()));
    }
    let outcome = finish::finish(finish::Streamed {
        settings,
        messages,
        engine: &engine,
        baseline,
        harmoniser: &harmoniser,
        bands: &bands,
        raking,
        tally,
        stream,
        writer,
        state_report,
        staging,
        state_staging,
        versions,
        extra_columns,
        source_files,
        timings,
        t0,
        threads,
    })?;
    // said once, at the start; its exit code is the scheduler's cue (it was 0: found by a
    // reader in the twenty-sixth session on issue 9)
    Ok(Outcome { state_of_another_output: shared.is_some(), ..outcome })
}
