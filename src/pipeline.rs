//! One run, end to end: ingest → code → people → analyse → output, committed atomically.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use std::collections::HashMap;

use chrono::Datelike;
use rayon::prelude::*;

use crate::analyse::comparisons::{ChangeCounter, ChangeInput};
use crate::analyse::counts::{BatchCounts, Counter};
use crate::analyse::setup::{analyse_who, Seen, WhoError};
use crate::analyse::spc::SpcCounter;
use crate::analyse::AnalyseError;
use crate::code::{Codebook, CodebookError, Coded, Coder, Engine};
use crate::config::{CodebookSource, Settings, DEFAULT_CODEBOOK};
use crate::ingest::stream::IdSet;
use crate::ingest::{self, IngestError};
use crate::messages::Messages;
use crate::output::manifest::{
    counts, BaselineEntry, CodebookEntry, Coding, DisclosureReport, Manifest, ModelEntry, PeopleReport, Tallies,
    VERSIONS,
};
use crate::output::tables::RecordsBatch;
use crate::output::write::{write_tables, write_text, RunTables, StreamWriter};
use crate::output::{OutputError, OutputLock};
use crate::people::{
    age_bands,
    baseline::{Baseline, BaselineError},
    field_issues,
    groups::Grouper,
    harmoniser, publishable, unmapped_shares, unmapped_values, Groups,
};
use crate::record::{month_of, Record};

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
    /// A declared change cannot be compared.
    #[error(transparent)]
    Change(#[from] crate::analyse::comparisons::ChangeError),
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
    /// Wall time, seconds.
    pub seconds: f64,
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
    /// The process's exit code: 1 when rows were quarantined or fields could not be used, else 0.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        u8::from(self.quarantined > 0 || self.field_issues > 0)
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
    thread_local! {
        /// Each worker's scratch and memos (stems, codebook lookups), kept warm from batch to
        /// batch; they only cache what the codebook and analyzer compute, so results do not
        /// depend on which worker codes a record (and a memo filled by another codebook is
        /// dropped, `Coder`'s own rule).
        static CODER: std::cell::RefCell<Coder> = std::cell::RefCell::new(Coder::default());
    }
    records
        .par_iter()
        .with_min_len(256)
        .map(|r| CODER.with(|c| engine.process(&r.text, r.question, r.rating, &mut c.borrow_mut())))
        .collect()
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
    pool.install(|| run_in_pool(settings, messages, &lock, &pool))
}

/// Wall time per stage, in milliseconds; a stage met in every batch adds up.
#[derive(Default)]
struct Timings(BTreeMap<&'static str, u64>);

impl Timings {
    fn merge(&mut self, other: Timings) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_insert(0) += v;
        }
    }

    fn time<T>(&mut self, stage: &'static str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        *self.0.entry(stage).or_insert(0) += u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
        out
    }
}

/// The records' months as ids in first-seen order (`YYYY-MM`; `unknown` without a date).
#[derive(Default)]
struct Months {
    ids: HashMap<Option<(i32, u32)>, u32, foldhash::fast::FixedState>,
    labels: Vec<String>,
    /// The last month met (records mostly come in date order).
    last: Option<(Option<(i32, u32)>, u32)>,
}

impl Months {
    fn id(&mut self, r: &Record) -> u32 {
        let key = r.received_date.map(|d| (d.year(), d.month()));
        if let Some((k, id)) = self.last {
            if k == key {
                return id;
            }
        }
        let id = match self.ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.labels.len() as u32;
                self.labels.push(month_of(r));
                self.ids.insert(key, id);
                id
            }
        };
        self.last = Some((key, id));
        id
    }

    /// The labels sorted (`unknown` sorts after every month), and each id's place among them.
    fn sorted(&self) -> (Vec<String>, Vec<u32>) {
        let mut sorted = self.labels.clone();
        sorted.sort_unstable();
        let places = self.labels.iter().map(|l| sorted.binary_search(l).unwrap_or(0) as u32).collect();
        (sorted, places)
    }
}

/// The records the age bands in force are read from when neither the pipeline nor the
/// baseline gives them: the first batch of each source (README, "Age bands").
fn band_sample(settings: &Settings, baseline: Option<&Baseline>) -> Result<Vec<Record>, RunError> {
    use crate::people::harmonise::{bands_in, is_age_dimension};
    let from_baseline = baseline.is_some_and(|b| {
        !bands_in(b.rows.iter().filter(|r| is_age_dimension(&r.dimension)).map(|r| r.group.as_str())).is_empty()
    });
    if settings.people.age_bands.is_some() || from_baseline || !settings.dimensions.iter().any(|d| is_age_dimension(d))
    {
        return Ok(Vec::new());
    }
    let mut stream = ingest::Ingest::open(settings)?;
    let mut sample: Vec<Record> = Vec::new();
    let mut from_source = 0;
    while let Some(batch) = stream.next_batch()? {
        // the first BATCH_ROWS records of each source
        if sample.last().zip(batch.records.first()).is_some_and(|(a, b)| a.origin.source != b.origin.source) {
            from_source = 0;
        }
        from_source += batch.records.len();
        sample.extend(batch.records);
        if from_source >= ingest::stream::BATCH_ROWS {
            stream.skip_source();
            from_source = 0;
        }
    }
    Ok(sample)
}

/// A batch on its way to the writer.
struct ToWrite {
    batch: ingest::Batch,
    coded: Vec<Coded>,
    ids: Vec<Vec<u32>>,
    names: Vec<Vec<String>>,
    quarantine: Vec<ingest::Quarantined>,
    issues: Vec<ingest::FieldIssue>,
}

/// Batches in flight between two stages: a reader and a writer thread work beside the
/// coding, and memory holds at most this many batches at each hand-over.
const IN_FLIGHT: usize = 2;

/// What a run set up before its first batch.
struct SetUp {
    engine: Engine,
    baseline: Option<Baseline>,
    bands: crate::people::AgeBands,
    stream: ingest::Ingest,
}

/// Reads the codebook, baseline and model, opens every source and fixes the age bands.
fn set_up(settings: &Settings, timings: &mut Timings) -> Result<SetUp, RunError> {
    let (engine, baseline, stream) = timings.time("config", || -> Result<_, RunError> {
        // the codebook compiles while the sources open (headers read, first rows buffered)
        let (coding, stream) = rayon::join(
            || -> Result<_, RunError> {
                let book = load_codebook(&settings.codebook)?;
                let baseline = settings.baseline.as_ref().map(|b| Baseline::from_file(&b.name, &b.path)).transpose()?;
                let engine = Engine::new(book);
                let model = load_model(settings, &engine.book)?;
                Ok((engine.with_model(model), baseline))
            },
            || ingest::Ingest::open(settings),
        );
        let (engine, baseline) = coding?;
        Ok((engine, baseline, stream?))
    })?;
    let bands = timings.time("people", || -> Result<_, RunError> {
        Ok(age_bands(settings, baseline.as_ref(), &band_sample(settings, baseline.as_ref())?))
    })?;
    Ok(SetUp { engine, baseline, bands, stream })
}

/// The dimensions raking runs over (indices, in the pipeline's order, each once).
fn raking_dimensions(settings: &Settings) -> Vec<usize> {
    let mut raking: Vec<usize> = Vec::new();
    for name in &settings.analysis.raking_dimensions {
        if let Some(d) = settings.dimensions.iter().position(|x| x == name) {
            if !raking.contains(&d) {
                raking.push(d);
            }
        }
    }
    raking
}

/// What the pool keeps from batch to batch: groups, months, respondents and every counter.
struct Tally<'h> {
    grouper: Grouper<'h>,
    counter: Counter,
    changes: ChangeCounter,
    spc: SpcCounter,
    months: Months,
    respondents: IdSet,
    coding: Coding,
    tallies: Tallies,
    /// `unmapped_value` field issues per source.
    unmapped: HashMap<String, u64>,
    records: usize,
}

impl Tally<'_> {
    /// One batch through the pool: its rows mapped, its records coded, grouped and counted,
    /// its quarantine and field issues redacted; what the writer needs is handed back.
    fn take(
        &mut self,
        settings: &Settings,
        engine: &Engine,
        mapping: &mut ingest::stream::Mapping,
        (index, items): (usize, Vec<ingest::ReadItem>),
        timings: &mut Timings,
    ) -> ToWrite {
        let mut batch = timings.time("ingest", || mapping.map(index, items));
        let coded = timings.time("code", || code_records(engine, &batch.records));
        let (ids, names, issues) = timings.time("people", || {
            let ids = self.grouper.group(&batch.records);
            let names = self.grouper.names();
            let issues = field_issues(
                settings,
                &mapping.dimension_columns,
                &batch.records,
                std::mem::take(&mut batch.field_issues),
                &names,
                &ids,
            );
            (ids, names, issues)
        });
        let issues = redact_field_issues(engine, issues);
        let quarantine = redact_quarantine(engine, &std::mem::take(&mut batch.quarantine), &mut self.coding);
        for f in issues.iter().filter(|f| f.reason == ingest::Reason::UnmappedValue) {
            *self.unmapped.entry(f.source.clone()).or_insert(0) += 1;
        }
        timings.time("analyse", || {
            let month: Vec<u32> = batch.records.iter().map(|r| self.months.id(r)).collect();
            // the respondents' fingerprints worked out in parallel, then met in record order
            let fingerprints: Vec<u128> = batch
                .records
                .par_iter()
                .with_min_len(1024)
                .map(|r| IdSet::fingerprint(&[&*r.source, r.response_id.as_str()]))
                .collect();
            let first: Vec<bool> = fingerprints.into_iter().map(|f| self.respondents.insert_fingerprint(f)).collect();
            let themes: Vec<Vec<(u32, bool)>> = coded
                .iter()
                .map(|c| c.themes.iter().map(|t| (u32::from(t.hit.theme), t.is_concern)).collect())
                .collect();
            let counts = BatchCounts { month: &month, groups: &ids, first_of_response: &first, themes: &themes };
            self.counter.add(&counts);
            self.changes.add(&batch.records, &counts);
            self.spc.add(&batch.records, &counts);
            self.coding.add(&coded);
            self.tallies.add(&quarantine, &issues);
            self.tallies.record_themes += themes.iter().map(|t| t.len() as u64).sum::<u64>();
            self.tallies.records_with_no_theme += themes.iter().filter(|t| t.is_empty()).count() as u64;
        });
        self.records += batch.records.len();
        ToWrite { batch, coded, ids, names, quarantine, issues }
    }
}

/// The reader's thread: every source's rows, in order, handed over until the end or an error.
fn read_stage(
    mut reader: ingest::stream::Reader,
    to_code: std::sync::mpsc::SyncSender<Result<ingest::stream::Handed, IngestError>>,
) -> Timings {
    let mut timing = Timings::default();
    loop {
        match timing.time("ingest", || reader.next()) {
            Ok(Some(read)) => {
                if to_code.send(Ok(read)).is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = to_code.send(Err(e));
                break;
            }
        }
    }
    timing
}

/// What the writer's thread needs besides the batches.
struct WriteContext<'a> {
    settings: &'a Settings,
    book: &'a Codebook,
    extra_columns: &'a [String],
    source_files: &'a [String],
}

/// The writer's thread: every batch into the streamed tables, in order.
fn write_stage(
    mut writer: StreamWriter,
    from_coder: std::sync::mpsc::Receiver<ToWrite>,
    c: &WriteContext<'_>,
) -> Result<(StreamWriter, Timings), OutputError> {
    let mut timing = Timings::default();
    for w in from_coder {
        timing.time("output", || {
            writer.write(
                &RecordsBatch {
                    records: &w.batch.records,
                    coded: &w.coded,
                    dimensions: &c.settings.dimensions,
                    names: &w.names,
                    ids: &w.ids,
                    extra_columns: c.extra_columns,
                    source_files: c.source_files,
                    keep_original_text: c.settings.keep_original_text,
                },
                c.book,
                &w.quarantine,
                &w.issues,
            )
        })?;
    }
    Ok((writer, timing))
}

/// The stream: the reader's thread, the pool (this thread and rayon's) and the writer's
/// thread side by side, batches handed over in order; returns the writer, every batch written.
fn stream_batches(
    settings: &Settings,
    engine: &Engine,
    ingest::Ingest { reader, mapping }: ingest::Ingest,
    tally: &mut Tally<'_>,
    writer: StreamWriter,
    timings: &mut Timings,
    bar: &indicatif::ProgressBar,
) -> Result<(StreamWriter, ingest::stream::Mapping), RunError> {
    let mut mapping = mapping;
    let source_files: Vec<String> = settings.sources.iter().map(|s| s.path.display().to_string()).collect();
    let extra_columns = mapping.extra_columns.clone();
    let context =
        WriteContext { settings, book: &engine.book, extra_columns: &extra_columns, source_files: &source_files };
    std::thread::scope(|scope| {
        let (to_code, from_reader) = std::sync::mpsc::sync_channel(IN_FLIGHT);
        let (to_write, from_coder) = std::sync::mpsc::sync_channel::<ToWrite>(IN_FLIGHT);
        let thread = |name: &str| std::thread::Builder::new().name(name.to_owned());
        let spawned = |e: std::io::Error| RunError::Threads { threads: 1, message: e.to_string() };
        let reading =
            thread("unheard-read").spawn_scoped(scope, move || read_stage(reader, to_code)).map_err(spawned)?;
        let context = &context;
        let writing = thread("unheard-write")
            .spawn_scoped(scope, move || write_stage(writer, from_coder, context))
            .map_err(spawned)?;
        for read in from_reader {
            match read? {
                ingest::stream::Handed::Finished(index, end) => mapping.finish(index, end),
                ingest::stream::Handed::Items(index, items) => {
                    let done = tally.take(settings, engine, &mut mapping, (index, items), timings);
                    bar.set_message(format!("{} records", tally.records));
                    if to_write.send(done).is_err() {
                        break;
                    }
                }
            }
        }
        drop(to_write);
        let (writer, out_timing) = writing.join().map_err(|_| RunError::Panicked("writer"))??;
        let in_timing = reading.join().map_err(|_| RunError::Panicked("reader"))?;
        timings.merge(in_timing);
        timings.merge(out_timing);
        Ok((writer, mapping))
    })
}

fn run_in_pool(
    settings: &Settings,
    messages: &Messages,
    lock: &OutputLock,
    pool: &rayon::ThreadPool,
) -> Result<Outcome, RunError> {
    let threads = pool.current_num_threads();
    let t0 = Instant::now();
    let mut timings = Timings::default();
    let SetUp { engine, baseline, bands, stream } = set_up(settings, &mut timings)?;
    let book = &engine.book;
    let harmoniser = harmoniser(settings, &bands)?;
    let raking = raking_dimensions(settings);
    let mut tally = Tally {
        grouper: Grouper::new(&harmoniser, &settings.dimensions),
        counter: Counter::new(settings.dimensions.len(), book.themes.len(), raking.clone()),
        changes: ChangeCounter::new(&settings.changes, settings.dimensions.len(), book.themes.len()),
        spc: SpcCounter::new(settings.analysis.spc_period, book.themes.len()),
        months: Months::default(),
        respondents: IdSet::default(),
        coding: Coding::default(),
        tallies: Tallies::default(),
        unmapped: HashMap::new(),
        records: 0,
    };
    let staging = lock.stage()?;
    let dir = staging.path().to_path_buf();
    let bar = messages.spinner("run");
    let (writer, mut stream) =
        stream_batches(settings, &engine, stream, &mut tally, StreamWriter::create(&dir)?, &mut timings, &bar)?;
    bar.finish_and_clear();
    for s in &mut stream.sources {
        s.field_issues += tally.unmapped.get(&s.name).copied().unwrap_or(0);
    }
    let Tally { grouper, counter, changes, spc, months, coding, tallies, records: n_records, .. } = tally;

    let (names, group_places, values) = grouper.finish();
    let (month_labels, month_places) = months.sorted();
    let n_groups: Vec<usize> = names.iter().map(Vec::len).collect();
    let counted = counter.finish(&month_places, month_labels.len(), &group_places, &n_groups);
    let change_counts = changes.finish(&group_places, &n_groups);
    crate::analyse::comparisons::check(&settings.changes, &change_counts, changes.dates)?;
    let spc_counts = spc.finish();
    let safe_values = publishable(&values, &settings.dimensions, engine.redactor);
    let unmapped = unmapped_values(&settings.dimensions, &safe_values);
    let (unmapped_share, mut people_warnings) = unmapped_shares(&settings.dimensions, &safe_values, n_records);
    let seen = Seen {
        dimensions: &settings.dimensions,
        names: &names,
        months: &month_labels,
        counted: &counted,
        cell_dimensions: &raking,
        changes: ChangeInput { changes: &settings.changes, counts: &change_counts, dates: changes.dates },
        spc: &spc_counts,
    };
    // the month files close (their last row groups encoded) while the counts are analysed
    let ((streamed, closing), (who, analysing)) = rayon::join(
        || {
            let mut t = Timings::default();
            (t.time("output", || writer.finish()), t)
        },
        || {
            let mut t = Timings::default();
            (t.time("analyse", || analyse_who(settings, &seen, baseline.as_ref(), &harmoniser, book)), t)
        },
    );
    timings.merge(closing);
    timings.merge(analysing);
    let (who, streamed) = (who?, streamed?);
    people_warnings.extend(who.baseline_warnings.iter().cloned());
    for w in &people_warnings {
        messages.warn(w);
    }

    let groups = Groups { dimensions: settings.dimensions.clone(), names };
    let entries = timings.time("output", || -> Result<_, RunError> {
        Ok(write_tables(
            &dir,
            &RunTables {
                groups: &groups,
                extra_columns: &stream.extra_columns,
                keep_original_text: settings.keep_original_text,
                book,
                who: &who,
                changes: &settings.changes,
                spc_period: settings.analysis.spc_period,
            },
            streamed,
        )?)
    })?;

    let record_themes = tallies.record_themes;
    let counts = counts(&stream.sources, tallies);
    let mut timings = timings.0;
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
        inputs: &stream.sources,
        carried_columns: &stream.extra_columns,
        counts,
        coding,
        unmapped_values: unmapped,
        people: PeopleReport { age_bands: &bands, unmapped_share, warnings: people_warnings },
        baseline_unused: who.baseline_unused.clone(),
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
    use crate::analyse::stats::Flag;
    let flagged = who
        .representation
        .iter()
        .filter(|r| r.period == "all")
        .filter_map(|r| {
            let flag = [Flag::UnderRepresented, Flag::BelowParity].into_iter().find(|f| r.flag == f.as_str())?;
            Some(FlaggedGroup { dimension: r.dimension.clone(), group: r.group.clone(), flag: flag.as_str() })
        })
        .collect();
    Ok(Outcome {
        manifest: out.join("manifest.json"),
        out,
        files: committed.files,
        sources: settings.sources.len(),
        rows_read: c.rows_read,
        rows_kept: c.rows_kept,
        rows_dropped: c.rows_dropped,
        records: n_records,
        quarantined: c.rows_quarantined,
        field_issues: c.field_issues,
        record_themes: usize::try_from(record_themes).unwrap_or(usize::MAX),
        rows_reconcile: c.rows_reconcile,
        flagged,
        significant_changes: who.comparisons.iter().filter(|r| r.significant() == Some(true)).count() as u64,
        special_causes: who.spc.iter().filter(|r| r.point.special_cause()).count() as u64,
        timings_ms: manifest.timings_ms,
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
