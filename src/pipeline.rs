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
    counts, BaselineEntry, CodebookEntry, Coding, DisclosureReport, Manifest, ModelEntry, PeopleReport, StateReport,
    Tallies, VERSIONS,
};
use crate::output::tables::{self, RecordsBatch};
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
    /// The state of nightly runs cannot be used.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
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
    /// What the run took from its state and kept in it (the manifest's `state`).
    pub state: Option<StateReport>,
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
    let lock = OutputLock::acquire(&settings.out, &input_paths(settings))?;
    // the state is written like the outputs, under its own lock
    let state_lock = settings
        .state
        .as_ref()
        .map(|s| OutputLock::acquire(s, &input_paths(settings)).map_err(crate::output::OutputError::of_state))
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
    records: Vec<Record>,
    coded: Vec<Coded>,
    /// Each record's content fingerprint (empty when the run keeps no state).
    contents: Vec<u128>,
    ids: Vec<Vec<u32>>,
    names: Vec<Vec<String>>,
    quarantine: Vec<ingest::Quarantined>,
    issues: Vec<ingest::FieldIssue>,
}

/// Records coded (or taken back from the state) on their way through people and the counters,
/// with the rows their batch set aside.
struct CodedBatch {
    records: Vec<Record>,
    coded: Vec<Coded>,
    contents: Vec<u128>,
    /// Per record: its coding is the state's, to be done again when the run re-codes.
    stale: Vec<bool>,
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
fn set_up(settings: &Settings, stored_bands: Option<&[String]>, timings: &mut Timings) -> Result<SetUp, RunError> {
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
        // bands the records themselves gave an earlier run stay those the state's records were
        // harmonised with (unless the pipeline or the baseline sets them)
        let fixed = age_bands(settings, baseline.as_ref(), &[]);
        if let (Some(stored), "source" | "default") = (stored_bands, fixed.from) {
            let bands: Vec<crate::record::AgeBand> =
                stored.iter().filter_map(|b| crate::record::AgeBand::parse(b)).collect();
            if !bands.is_empty() {
                return Ok(crate::people::AgeBands { from: "state", bands });
            }
        }
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
    pairs: crate::analyse::cooccurrence::PairCounter,
    quotes: crate::analyse::quotes::QuoteCollector,
    terms: crate::analyse::emerging::TermCounter,
    months: Months,
    respondents: IdSet,
    coding: Coding,
    tallies: Tallies,
    /// `unmapped_value` field issues per source.
    unmapped: HashMap<String, u64>,
    records: usize,
    /// The files (index into the writer's list) records came from.
    files_seen: Vec<bool>,
}

impl Tally<'_> {
    /// One read batch through the pool: its rows mapped and its records coded, then [`Tally::tally`].
    fn take(
        &mut self,
        settings: &Settings,
        engine: &Engine,
        mapping: &mut ingest::stream::Mapping,
        (index, items): (usize, Vec<ingest::ReadItem>),
        timings: &mut Timings,
    ) -> ToWrite {
        let batch = timings.time("ingest", || mapping.map(index, items));
        let contents = timings.time("ingest", || contents(settings, &batch.records));
        let coded = timings.time("code", || code_records(engine, &batch.records));
        let stale = Vec::new();
        let b = CodedBatch {
            records: batch.records,
            coded,
            contents,
            stale,
            quarantine: batch.quarantine,
            issues: batch.field_issues,
        };
        self.tally(settings, engine, &mapping.dimension_columns, b, timings)
    }

    /// Coded records grouped and counted, their quarantine and field issues (the people stage's
    /// added) redacted; what the writer needs is handed back.
    fn tally(
        &mut self,
        settings: &Settings,
        engine: &Engine,
        dimension_columns: &[Vec<Option<String>>],
        b: CodedBatch,
        timings: &mut Timings,
    ) -> ToWrite {
        let CodedBatch { records, coded, contents, quarantine, issues, .. } = b;
        let (ids, names, issues) = timings.time("people", || {
            let ids = self.grouper.group(&records);
            let names = self.grouper.names();
            let issues = field_issues(settings, dimension_columns, &records, issues, &names, &ids);
            (ids, names, issues)
        });
        let issues = redact_field_issues(engine, issues);
        let quarantine = redact_quarantine(engine, &quarantine, &mut self.coding);
        for f in issues.iter().filter(|f| f.reason == ingest::Reason::UnmappedValue) {
            *self.unmapped.entry(f.source.clone()).or_insert(0) += 1;
        }
        timings.time("analyse", || {
            let month: Vec<u32> = records.iter().map(|r| self.months.id(r)).collect();
            // the respondents' fingerprints worked out in parallel, then met in record order
            let fingerprints: Vec<u128> = records
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
            self.changes.add(&records, &counts);
            self.spc.add(&records, &counts);
            self.pairs.add(&ids, &themes);
            self.quotes.add(&records, &coded, &ids);
            self.terms.add(&records, &coded);
            self.coding.add(&coded);
            self.tallies.add(&quarantine, &issues);
            self.tallies.record_themes += themes.iter().map(|t| t.len() as u64).sum::<u64>();
            self.tallies.records_with_no_theme += themes.iter().filter(|t| t.is_empty()).count() as u64;
        });
        self.records += records.len();
        for r in &records {
            let i = r.origin.source as usize;
            if self.files_seen.len() <= i {
                self.files_seen.resize(i + 1, false);
            }
            self.files_seen[i] = true;
        }
        ToWrite { records, coded, contents, ids, names, quarantine, issues }
    }
}

/// Each record's content fingerprint, when the run keeps a state.
fn contents(settings: &Settings, records: &[Record]) -> Vec<u128> {
    if settings.state.is_none() {
        return Vec::new();
    }
    records.par_iter().with_min_len(1024).map(Record::content).collect()
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
                    records: &w.records,
                    coded: &w.coded,
                    dimensions: &c.settings.dimensions,
                    names: &w.names,
                    ids: &w.ids,
                    extra_columns: c.extra_columns,
                    source_files: c.source_files,
                    keep_original_text: c.settings.keep_original_text,
                },
                &w.contents,
                c.book,
                &w.quarantine,
                &w.issues,
            )
        })?;
    }
    Ok((writer, timing))
}

/// Runs `produce` on this thread beside the writer's thread, which writes every batch handed
/// over, in order; returns the writer once every batch is written, and what `produce` returned.
fn beside_writer<T>(
    writer: StreamWriter,
    context: &WriteContext<'_>,
    timings: &mut Timings,
    produce: impl FnOnce(&std::sync::mpsc::SyncSender<ToWrite>, &mut Timings) -> Result<T, RunError>,
) -> Result<(StreamWriter, T), RunError> {
    std::thread::scope(|scope| {
        let (to_write, from_coder) = std::sync::mpsc::sync_channel::<ToWrite>(IN_FLIGHT);
        let writing = named("unheard-write")
            .spawn_scoped(scope, move || write_stage(writer, from_coder, context))
            .map_err(spawned)?;
        let produced = produce(&to_write, timings);
        drop(to_write);
        let (writer, out_timing) = writing.join().map_err(|_| RunError::Panicked("writer"))??;
        timings.merge(out_timing);
        Ok((writer, produced?))
    })
}

fn named(name: &str) -> std::thread::Builder {
    std::thread::Builder::new().name(name.to_owned())
}

fn spawned(e: std::io::Error) -> RunError {
    RunError::Threads { threads: 1, message: e.to_string() }
}

/// Every source's rows from the reader's thread, one batch at a time, to `each` (on this thread,
/// which runs the pool); the mapping back once every source is read.
fn read_batches(
    ingest::Ingest { reader, mapping }: ingest::Ingest,
    timings: &mut Timings,
    mut each: impl FnMut(&mut ingest::stream::Mapping, usize, Vec<ingest::ReadItem>, &mut Timings) -> bool,
) -> Result<ingest::stream::Mapping, RunError> {
    let mut mapping = mapping;
    std::thread::scope(|scope| {
        let (to_code, from_reader) = std::sync::mpsc::sync_channel(IN_FLIGHT);
        let reading =
            named("unheard-read").spawn_scoped(scope, move || read_stage(reader, to_code)).map_err(spawned)?;
        for read in from_reader {
            match read? {
                ingest::stream::Handed::Finished(index, end) => mapping.finish(index, end),
                ingest::stream::Handed::Items(index, items) => {
                    if !each(&mut mapping, index, items, timings) {
                        break;
                    }
                }
            }
        }
        let in_timing = reading.join().map_err(|_| RunError::Panicked("reader"))?;
        timings.merge(in_timing);
        Ok(mapping)
    })
}

/// The stream of a run that codes everything: the reader's thread, the pool (this thread and
/// rayon's) and the writer's thread side by side, batches handed over in order; returns the
/// writer, every batch written.
fn stream_batches(
    settings: &Settings,
    engine: &Engine,
    ingest: ingest::Ingest,
    tally: &mut Tally<'_>,
    writer: StreamWriter,
    context: &WriteContext<'_>,
    timings: &mut Timings,
    bar: &indicatif::ProgressBar,
) -> Result<(StreamWriter, ingest::stream::Mapping), RunError> {
    beside_writer(writer, context, timings, |to_write, timings| {
        read_batches(ingest, timings, |mapping, index, items, timings| {
            let done = tally.take(settings, engine, mapping, (index, items), timings);
            bar.set_message(format!("{} records", tally.records));
            to_write.send(done).is_ok()
        })
    })
}

/// What this run's inputs hold against the state: the records that are new or changed (coded,
/// in input order), the keys of every record read, and the rows set aside (redacted).
struct Scan {
    mapping: ingest::stream::Mapping,
    /// New or changed records: record, coding, content, key, and whether the state holds the key.
    fresh: Vec<(Record, Coded, u128, u128, bool)>,
    /// Where each record read was read from, by key.
    read: HashMap<u128, crate::record::RowRef, foldhash::fast::FixedState>,
    unchanged: u64,
    quarantine: Vec<ingest::Quarantined>,
    issues: Vec<ingest::FieldIssue>,
}

/// Reads this run's inputs and codes only what the state does not hold as it is.
fn scan(
    engine: &Engine,
    ingest: ingest::Ingest,
    index: &HashMap<u128, u128, foldhash::fast::FixedState>,
    coding: &mut Coding,
    timings: &mut Timings,
) -> Result<Scan, RunError> {
    let mut fresh_all = Vec::new();
    let mut read: HashMap<u128, crate::record::RowRef, foldhash::fast::FixedState> = Default::default();
    let (mut unchanged, mut quarantine, mut issues) = (0, Vec::new(), Vec::new());
    let mapping = read_batches(ingest, timings, |mapping, source, items, timings| {
        let batch = timings.time("ingest", || mapping.map(source, items));
        let (keys, contents): (Vec<u128>, Vec<u128>) = timings
            .time("ingest", || batch.records.par_iter().with_min_len(1024).map(|r| (r.key(), r.content())).unzip());
        let mut fresh: Vec<(Record, u128, u128, bool)> = Vec::new();
        for ((r, key), content) in batch.records.into_iter().zip(keys).zip(contents) {
            read.insert(key, r.origin);
            match index.get(&key) {
                Some(&c) if c == content => unchanged += 1,
                known => fresh.push((r, content, key, known.is_some())),
            }
        }
        let records: Vec<Record> = fresh.iter().map(|f| f.0.clone()).collect();
        let coded = timings.time("code", || code_records(engine, &records));
        fresh_all.extend(fresh.into_iter().zip(coded).map(|((r, content, key, known), c)| (r, c, content, key, known)));
        quarantine.extend(redact_quarantine(engine, &batch.quarantine, coding));
        issues.extend(batch.field_issues);
        true
    })?;
    Ok(Scan { mapping, fresh: fresh_all, read, unchanged, quarantine, issues })
}

/// The state's records handed to the pool in order, month by month, each replaced by its new
/// version when it changed and dropped when it disappeared and `--prune` says so; then the new
/// records, in the order read. Returns what it found.
#[allow(clippy::too_many_arguments)]
fn produce_archive(
    mut reader: crate::state::ArchiveReader<'_>,
    fresh: Vec<(Record, Coded, u128, u128, bool)>,
    read: &HashMap<u128, crate::record::RowRef, foldhash::fast::FixedState>,
    read_files: &std::collections::HashSet<String>,
    file_index: &HashMap<String, u32>,
    prune: bool,
    recode: bool,
    to_pool: &std::sync::mpsc::SyncSender<Result<CodedBatch, RunError>>,
) -> StateReport {
    let mut report = StateReport::default();
    let (mut changed, mut new) = (HashMap::new(), Vec::new());
    for (r, c, content, key, known) in fresh {
        if known {
            changed.insert(key, (r, c, content));
        } else {
            new.push((r, c, content));
        }
    }
    report.changed = changed.len() as u64;
    let empty = || CodedBatch {
        records: Vec::new(),
        coded: Vec::new(),
        contents: Vec::new(),
        stale: Vec::new(),
        quarantine: Vec::new(),
        issues: Vec::new(),
    };
    loop {
        let items = match reader.next_batch(recode) {
            Ok(Some(items)) => items,
            Ok(None) => break,
            Err(e) => {
                let _ = to_pool.send(Err(e.into()));
                return report;
            }
        };
        let mut b = empty();
        for a in items {
            report.held += 1;
            let key = a.record.key();
            if let Some((r, c, content)) = changed.remove(&key) {
                b.records.push(r);
                b.coded.push(c);
                b.contents.push(content);
                b.stale.push(false);
                continue;
            }
            let file_read = read_files.contains(&*a.file);
            let now = read.get(&key).copied();
            if file_read && now.is_none() {
                report.disappeared += 1;
                if prune {
                    report.pruned += 1;
                    continue;
                }
            } else if !file_read && now.is_none() {
                report.carried += 1;
            }
            let mut record = a.record;
            // read again as it was: it is where this run read it (its row may have moved)
            record.origin = now.unwrap_or(crate::record::RowRef {
                source: file_index.get(&*a.file).copied().unwrap_or(u32::MAX),
                row: record.origin.row,
            });
            b.records.push(record);
            b.coded.push(a.coded);
            b.contents.push(a.content);
            b.stale.push(true);
        }
        if !b.records.is_empty() && to_pool.send(Ok(b)).is_err() {
            return report;
        }
    }
    report.new = new.len() as u64;
    // a changed record the state's stream did not meet (cannot happen: its key came from it)
    new.extend(changed.into_values());
    for chunk in new.chunks(ingest::stream::BATCH_ROWS) {
        let mut b = empty();
        for (r, c, content) in chunk.iter().cloned() {
            b.records.push(r);
            b.coded.push(c);
            b.contents.push(content);
            b.stale.push(false);
        }
        if to_pool.send(Ok(b)).is_err() {
            break;
        }
    }
    report
}

/// Codes again the records whose coding is the state's, from their redacted text; the
/// redactions the state recorded stay (and any the redactor finds now are added).
fn recode_stale(engine: &Engine, b: &mut CodedBatch) {
    let stale: Vec<usize> = (0..b.records.len()).filter(|&i| b.stale.get(i).copied().unwrap_or(false)).collect();
    let again: Vec<Coded> = stale.par_iter().with_min_len(256).map(|&i| code_one(engine, &b.records[i])).collect();
    for (i, mut c) in stale.into_iter().zip(again) {
        let old = &b.coded[i];
        let mut redactions = old.redactions.clone();
        redactions.append(&mut c.redactions);
        c.redactions = redactions;
        c.chars = old.chars;
        b.coded[i] = c;
    }
}

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
    let SetUp { engine, baseline, bands, stream } =
        set_up(settings, held.as_ref().map(|h| h.1.age_bands.as_slice()), &mut timings)?;
    let book = &engine.book;
    let versions = crate::state::CodingVersions::of(book, model_version(settings).as_deref());
    let harmoniser = harmoniser(settings, &bands)?;
    let raking = raking_dimensions(settings);
    let mut tally = Tally {
        grouper: Grouper::new(&harmoniser, &settings.dimensions),
        counter: Counter::new(settings.dimensions.len(), book.themes.len(), raking.clone()),
        changes: ChangeCounter::new(&settings.changes, settings.dimensions.len(), book.themes.len()),
        spc: SpcCounter::new(settings.analysis.spc_period, book.themes.len()),
        pairs: crate::analyse::cooccurrence::PairCounter::new(settings.dimensions.len(), book.themes.len()),
        quotes: crate::analyse::quotes::QuoteCollector::new(
            settings.quotes_per_cell,
            settings.dimensions.len(),
            book.themes.len(),
        ),
        terms: crate::analyse::emerging::TermCounter::default(),
        months: Months::default(),
        respondents: IdSet::default(),
        coding: Coding::default(),
        tallies: Tallies::default(),
        unmapped: HashMap::new(),
        records: 0,
        files_seen: Vec::new(),
    };
    let staging = lock.stage()?;
    let dir = staging.path().to_path_buf();
    let state_staging = state_lock.map(OutputLock::stage).transpose()?;
    let mut writer =
        StreamWriter::create(&dir, state_staging.as_ref().map(|s| s.path().join(crate::state::ARCHIVE)).as_deref())?;
    // the files records come from: this run's sources, then those only the state holds
    let mut source_files: Vec<String> = settings.sources.iter().map(|s| s.path.display().to_string()).collect();
    if let Some((_, m)) = &held {
        for f in &m.files {
            if !source_files.contains(f) {
                source_files.push(f.clone());
            }
        }
    }
    let extra_columns = stream.mapping.extra_columns.clone();
    let context = WriteContext { settings, book, extra_columns: &extra_columns, source_files: &source_files };
    let bar = messages.spinner("run");
    let (writer, mut stream, state_report) = match &held {
        None => {
            let (writer, stream) =
                stream_batches(settings, &engine, stream, &mut tally, writer, &context, &mut timings, &bar)?;
            let report = settings.state.as_ref().map(|dir| StateReport {
                path: dir.display().to_string(),
                mode: "first",
                new: tally.records as u64,
                records: tally.records as u64,
                ..StateReport::default()
            });
            (writer, stream, report)
        }
        Some((dir, m)) => {
            if m.dimensions != settings.dimensions || m.extra_columns != extra_columns {
                return Err(crate::state::StateError::Mismatch {
                    path: dir.clone(),
                    message: format!(
                        "it holds the dimensions [{}] and carried columns [{}]; this run has [{}] and [{}]",
                        m.dimensions.join(", "),
                        m.extra_columns.join(", "),
                        settings.dimensions.join(", "),
                        extra_columns.join(", ")
                    ),
                }
                .into());
            }
            let recoded = if settings.full { Some("--full".to_owned()) } else { m.coding.changed(&versions) };
            if let Some(why) = &recoded {
                messages.info(&format!("coding every record again: {why}"));
            }
            let index = timings.time("ingest", || crate::state::index(dir, m))?;
            let scan = scan(&engine, stream, &index, &mut tally.coding, &mut timings)?;
            drop(index);
            let read_files: std::collections::HashSet<String> =
                source_files[..settings.sources.len()].iter().cloned().collect();
            let (carried_q, carried_f) = timings.time("output", || -> Result<_, RunError> {
                let archive = dir.join(crate::state::ARCHIVE);
                let q =
                    crate::state::carried(&archive.join("quarantine.parquet"), tables::quarantine(&[]), &read_files)?;
                let f = crate::state::carried(
                    &archive.join("field_issues.parquet"),
                    tables::field_issues(&[]),
                    &read_files,
                )?;
                writer.carry(&q, &f)?;
                Ok((q.rows() as u64, f.rows() as u64))
            })?;
            let file_index: HashMap<String, u32> =
                source_files.iter().enumerate().map(|(i, f)| (f.clone(), i as u32)).collect();
            let Scan { mapping, fresh, read, unchanged, quarantine, issues } = scan;
            let reader = crate::state::ArchiveReader::new(dir, m, book, ingest::stream::BATCH_ROWS);
            let recode = recoded.is_some();
            let (writer, report) = beside_writer(writer, &context, &mut timings, |to_write, timings| {
                std::thread::scope(|scope| {
                    let (to_pool, from_archive) = std::sync::mpsc::sync_channel(IN_FLIGHT);
                    let (read, read_files, file_index) = (&read, &read_files, &file_index);
                    let producing = named("unheard-read")
                        .spawn_scoped(scope, move || {
                            produce_archive(
                                reader,
                                fresh,
                                read,
                                read_files,
                                file_index,
                                settings.prune,
                                recode,
                                &to_pool,
                            )
                        })
                        .map_err(spawned)?;
                    let mut people_issues = Vec::new();
                    for b in from_archive {
                        let mut b = b?;
                        if recode {
                            timings.time("code", || recode_stale(&engine, &mut b));
                        }
                        let mut done = tally.tally(settings, &engine, &mapping.dimension_columns, b, timings);
                        // the people stage's issues wait for the end, to be sorted in with the ingest's
                        people_issues.append(&mut done.issues);
                        bar.set_message(format!("{} records", tally.records));
                        if to_write.send(done).is_err() {
                            break;
                        }
                    }
                    let report = producing.join().map_err(|_| RunError::Panicked("reader"))?;
                    // this run's rows set aside and field issues, in the order a full run gives them
                    let issues = redact_field_issues(&engine, issues);
                    tally.tallies.add(&quarantine, &issues);
                    let order: HashMap<&str, usize> =
                        settings.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
                    let mut all = issues;
                    all.extend(people_issues);
                    all.sort_by_key(|f| (order.get(f.source.as_str()).copied().unwrap_or(usize::MAX), f.row));
                    let last = ToWrite {
                        records: Vec::new(),
                        coded: Vec::new(),
                        contents: Vec::new(),
                        ids: Vec::new(),
                        names: Vec::new(),
                        quarantine,
                        issues: all,
                    };
                    let _ = to_write.send(last);
                    Ok(report)
                })
            })?;
            let mut report = report;
            report.path = dir.display().to_string();
            report.mode = if recode { "recoded" } else { "incremental" };
            report.recoded_because = recoded;
            report.unchanged = unchanged;
            report.carried_quarantine = carried_q;
            report.carried_field_issues = carried_f;
            report.records = tally.records as u64;
            if report.disappeared > report.pruned {
                messages.warn(&format!(
                    "{} records of files read again are no longer in them: kept in the tables (--prune drops them)",
                    report.disappeared - report.pruned
                ));
            }
            (writer, mapping, Some(report))
        }
    };
    bar.finish_and_clear();
    for s in &mut stream.sources {
        s.field_issues += tally.unmapped.get(&s.name).copied().unwrap_or(0);
    }
    let Tally {
        grouper,
        counter,
        changes,
        spc,
        pairs,
        quotes,
        terms,
        months,
        coding,
        tallies,
        records: n_records,
        files_seen,
        ..
    } = tally;

    let (names, group_places, values) = grouper.finish();
    let (month_labels, month_places) = months.sorted();
    let n_groups: Vec<usize> = names.iter().map(Vec::len).collect();
    let counted = counter.finish(&month_places, month_labels.len(), &group_places, &n_groups);
    let change_counts = changes.finish(&group_places, &n_groups);
    crate::analyse::comparisons::check(&settings.changes, &change_counts, changes.dates)?;
    let spc_counts = spc.finish();
    let pair_counts = pairs.finish(&group_places, &n_groups);
    let quotes = quotes.finish(&group_places);
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
        pairs: &pair_counts,
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
    let quotes = crate::analyse::quotes::quote_rows(&quotes, &who.theme_by_group, &groups.names, book.themes.len());
    let rule = crate::analyse::setup::disclosure_rule(settings);
    let terms = crate::analyse::emerging::term_rows(&terms, settings.emerging_months, &rule);
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
                quotes: &quotes,
                terms: &terms,
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
        schema_version: crate::output::manifest::SCHEMA_VERSION,
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
        state: state_report,
        timings_ms: timings,
    };
    write_text(
        &dir.join("manifest.json"),
        &(serde_json::to_string_pretty(&manifest).map_err(OutputError::Json)? + "\n"),
    )?;
    // the report a person reads, from the same published rows
    let c = &manifest.counts;
    let page = crate::output::report::report(&crate::output::report::ReportInput {
        run: &settings.name,
        counts: [c.rows_read, c.rows_kept, c.rows_quarantined, c.rows_dropped, c.records, c.field_issues],
        reconcile: c.rows_reconcile,
        quarantine: c.quarantine_by_reason.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        field_issues: c.field_issues_by_reason.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        sources: stream.sources.iter().map(|s| (s.name.clone(), s.path.clone(), s.rows_read)).collect(),
        who: &who,
        groups: &groups,
        book,
        changes: &settings.changes,
        quotes: &quotes,
        terms: &terms,
    });
    write_text(&dir.join("report.html"), &page)?;
    let committed = staging.commit()?;
    if let Some(w) = &committed.warning {
        messages.warn(w);
    }
    // then the state: a run whose state commit fails leaves the state before it, from which
    // the next run makes the same tables again
    if let Some(state) = state_staging {
        let kept = crate::state::StateManifest {
            unheard_version: env!("CARGO_PKG_VERSION").to_owned(),
            unheard_state: crate::state::STATE_FORMAT,
            coding: versions,
            dimensions: settings.dimensions.clone(),
            extra_columns: extra_columns.clone(),
            age_bands: bands.bands.iter().map(|b| b.label.clone()).collect(),
            records: n_records as u64,
            months: month_labels.clone(),
            files: files_seen
                .iter()
                .enumerate()
                .filter(|f| *f.1)
                .filter_map(|(i, _)| source_files.get(i).cloned())
                .collect(),
        };
        let files: Vec<String> = manifest
            .tables
            .iter()
            .filter(|t| ["records", "record_themes", "quarantine", "field_issues"].contains(&t.name.as_str()))
            .flat_map(|t| t.files.iter().cloned())
            .collect();
        crate::state::keep_state(&committed.path, state.path(), &files, &kept)?;
        if let Some(w) = state.commit()?.warning {
            messages.warn(&w);
        }
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
        state: manifest.state,
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
