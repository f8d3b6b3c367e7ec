//! One run, end to end: ingest → code → people → analyse → output, committed atomically.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::ParallelProgressIterator;
use rayon::prelude::*;

use crate::analyse::setup::{analyse_who, WhoError};
use crate::analyse::AnalyseError;
use crate::code::{Codebook, CodebookError, Coded, Coder, Engine};
use crate::config::{CodebookSource, Settings, DEFAULT_CODEBOOK};
use crate::ingest::{self, IngestError};
use crate::messages::Messages;
use crate::output::manifest::{
    coding_counts, counts, BaselineEntry, CodebookEntry, Coding, DisclosureReport, Manifest, ModelEntry, PeopleReport,
    VERSIONS,
};
use crate::output::write::{write_tables, write_text, RunTables};
use crate::output::{OutputError, OutputLock};
use crate::people::{
    age_bands,
    baseline::{Baseline, BaselineError},
    field_issues, group_records, harmoniser, publishable, unmapped_shares, unmapped_values,
};
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

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The committed output folder.
    pub out: PathBuf,
    /// Sources read.
    pub sources: usize,
    /// Rows read.
    pub rows_read: u64,
    /// Records kept.
    pub records: usize,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Fields that could not be used in kept records (`field_issues.parquet`).
    pub field_issues: u64,
    /// Record × theme pairs.
    pub record_themes: usize,
    /// Wall time, seconds.
    pub seconds: f64,
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
pub fn code_records(engine: &Engine, records: &[Record], messages: &Messages) -> Vec<Coded> {
    let bar = messages.bar("code", records.len() as u64);
    let out = records
        .par_iter()
        .with_min_len(256)
        .progress_with(bar.clone())
        .map_init(Coder::default, |coder, r| engine.process(&r.text, r.question, r.rating, coder))
        .collect();
    bar.finish_and_clear();
    out
}

/// Runs the pipeline and commits its outputs to `settings.out`.
///
/// # Errors
/// Any fatal error; the previous outputs are then left as they were.
pub fn run(settings: &Settings, messages: &Messages) -> Result<Outcome, RunError> {
    // before anything is read: the output may be replaced, and no other run writes to it
    let lock = OutputLock::acquire(&settings.out, &input_paths(settings))?;
    for w in &lock.warnings {
        messages.warn(w);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .map_err(|e| RunError::Threads { threads: settings.threads, message: e.to_string() })?;
    pool.install(|| run_in_pool(settings, messages, &lock, pool.current_num_threads()))
}

fn run_in_pool(
    settings: &Settings,
    messages: &Messages,
    lock: &OutputLock,
    threads: usize,
) -> Result<Outcome, RunError> {
    let t0 = Instant::now();
    let mut timings = BTreeMap::new();
    let mut lap = {
        let mut last = Instant::now();
        move |name: &'static str, timings: &mut BTreeMap<&'static str, u64>| {
            let now = Instant::now();
            timings.insert(name, u64::try_from((now - last).as_millis()).unwrap_or(u64::MAX));
            last = now;
        }
    };
    let book = load_codebook(&settings.codebook)?;
    let baseline = settings.baseline.as_ref().map(|b| Baseline::from_file(&b.name, &b.path)).transpose()?;
    lap("config", &mut timings);

    let spinner = messages.spinner("ingest");
    let mut ingested = ingest::ingest(settings)?;
    spinner.finish_and_clear();
    lap("ingest", &mut timings);

    let engine = Engine::new(book);
    let model = load_model(settings, &engine.book)?;
    let engine = engine.with_model(model);
    let coded = code_records(&engine, &ingested.records, messages);
    let mut coding = coding_counts(&coded);
    let quarantine = redact_quarantine(&engine, &ingested.quarantine, &mut coding);
    let book = &engine.book;
    lap("code", &mut timings);

    let bands = age_bands(settings, baseline.as_ref(), &ingested.records);
    let harmoniser = harmoniser(settings, &bands)?;
    let (groups, values) = group_records(&harmoniser, &settings.dimensions, &ingested.records);
    let safe_values = publishable(&values, &settings.dimensions, &engine.redactor);
    let unmapped = unmapped_values(&settings.dimensions, &safe_values);
    let (unmapped_share, mut people_warnings) =
        unmapped_shares(&settings.dimensions, &safe_values, ingested.records.len());
    let issues = redact_field_issues(&engine, field_issues(settings, &ingested, &groups));
    for source in &mut ingested.sources {
        source.field_issues = issues.iter().filter(|f| f.source == source.name).count() as u64;
    }
    lap("people", &mut timings);

    let pairs: Vec<(u32, u32, bool)> = coded
        .iter()
        .enumerate()
        .flat_map(|(r, c)| c.themes.iter().map(move |t| (r as u32, u32::from(t.hit.theme), t.is_concern)))
        .collect();
    let who =
        analyse_who(settings, &ingested.records, &groups, baseline.as_ref(), &harmoniser, &pairs, book.themes.len())?;
    lap("analyse", &mut timings);
    people_warnings.extend(who.baseline_warnings.iter().cloned());
    for w in &people_warnings {
        messages.warn(w);
    }

    let staging = lock.stage()?;
    let dir = staging.path().to_path_buf();
    let source_files: Vec<String> = settings.sources.iter().map(|s| s.path.display().to_string()).collect();
    let entries = write_tables(
        &dir,
        &RunTables {
            records: &ingested.records,
            coded: &coded,
            groups: &groups,
            extra_columns: &ingested.extra_columns,
            source_files: &source_files,
            keep_original_text: settings.keep_original_text,
            book,
            who: &who,
            quarantine: &quarantine,
            field_issues: &issues,
        },
    )?;

    let who_unused = who.baseline_unused.clone();
    let counts =
        counts(&ingested, &issues, pairs.len() as u64, coded.iter().filter(|c| c.themes.is_empty()).count() as u64);
    lap("output", &mut timings);
    timings.insert("total", u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX));
    let manifest = Manifest {
        unheard_version: env!("CARGO_PKG_VERSION"),
        versions: VERSIONS.into_iter().collect(),
        run: &settings.name,
        threads,
        settings,
        model: settings.coder.model.as_ref().map(|p| ModelEntry {
            path: p.display().to_string(),
            sha256: crate::code::model::file_sha256(p).unwrap_or_default(),
        }),
        codebook: CodebookEntry::of(book),
        baseline: baseline.as_ref().zip(settings.baseline.as_ref()).map(|(b, s)| BaselineEntry::of(b, s)),
        inputs: &ingested.sources,
        carried_columns: &ingested.extra_columns,
        counts,
        coding,
        unmapped_values: unmapped,
        people: PeopleReport { age_bands: &bands, unmapped_share, warnings: people_warnings },
        baseline_unused: who_unused,
        raking: who.raking.clone(),
        disclosure: DisclosureReport::of(&settings.analysis, &who.theme_by_group, &who.representation),
        tables: entries,
        timings_ms: timings,
    };
    write_text(
        &dir.join("manifest.json"),
        &(serde_json::to_string_pretty(&manifest).map_err(OutputError::Json)? + "\n"),
    )?;
    let committed = staging.commit()?;
    if let Some(w) = &committed.warning {
        messages.warn(w);
    }
    let out = committed.path;
    let c = &manifest.counts;
    Ok(Outcome {
        out,
        sources: settings.sources.len(),
        rows_read: c.rows_read,
        records: ingested.records.len(),
        quarantined: c.rows_quarantined,
        field_issues: c.field_issues,
        record_themes: pairs.len(),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Field issues quote values: the value and the message are redacted.
fn redact_field_issues(engine: &Engine, mut issues: Vec<ingest::FieldIssue>) -> Vec<ingest::FieldIssue> {
    for f in &mut issues {
        for s in [&mut f.value, &mut f.message] {
            if let (Cow::Owned(safe), _) = engine.redactor.redact(s) {
                *s = safe;
            }
        }
    }
    issues
}

/// Quarantined rows keep their raw fields and quote values in their message, so personal
/// data in them is redacted too.
fn redact_quarantine(engine: &Engine, rows: &[ingest::Quarantined], coding: &mut Coding) -> Vec<ingest::Quarantined> {
    rows.iter()
        .map(|q| {
            let mut q = q.clone();
            if let (Cow::Owned(safe), _) = engine.redactor.redact(&q.message) {
                q.message = safe;
            }
            for (_, value) in &mut q.raw {
                let (safe, found) = engine.redactor.redact(value);
                if !found.is_empty() {
                    for r in &found {
                        *coding.quarantine_redactions.entry(r.kind.as_str()).or_insert(0) += 1;
                    }
                    *value = safe.into_owned();
                }
            }
            q
        })
        .collect()
}
