//! The stream: the reader's thread, the pool and the writer's thread side by side, batches
//! handed over in order, and what the pool keeps from batch to batch ([`Tally`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Instant;

use std::collections::HashMap;

use chrono::Datelike;
use rayon::prelude::*;

use crate::analyse::comparisons::ChangeCounter;
use crate::analyse::counts::{BatchCounts, Counter};
use crate::analyse::spc::SpcCounter;
use crate::code::{Codebook, Coded, Engine};
use crate::config::Settings;
use crate::ingest::stream::IdSet;
use crate::ingest::{self, IngestError};
use crate::output::manifest::{Coding, Tallies};
use crate::output::tables::RecordsBatch;
use crate::output::write::StreamWriter;
use crate::output::OutputError;
use crate::people::{field_issues, groups::Grouper};
use crate::record::{month_of, Record};

use super::{code_records, RunError};

/// Wall time per stage, in microseconds; a stage met in every batch adds up (in milliseconds, a
/// batch's part under one was lost: a run of 1,500 small exports coded in "0 ms").
#[derive(Default)]
pub(super) struct Timings(pub(super) BTreeMap<&'static str, u64>);

impl Timings {
    pub(super) fn merge(&mut self, other: Timings) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_insert(0) += v;
        }
    }

    pub(super) fn time<T>(&mut self, stage: &'static str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        *self.0.entry(stage).or_insert(0) += u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
        out
    }

    /// Each stage's time in milliseconds.
    pub(super) fn into_millis(self) -> BTreeMap<&'static str, u64> {
        self.0.into_iter().map(|(k, us)| (k, us / 1000)).collect()
    }
}

/// The records' months as ids in first-seen order (`YYYY-MM`; `unknown` without a date).
#[derive(Default)]
pub(super) struct Months {
    pub(super) ids: HashMap<Option<(i32, u32)>, u32, foldhash::fast::FixedState>,
    pub(super) labels: Vec<String>,
    /// The last month met (records mostly come in date order).
    pub(super) last: Option<(Option<(i32, u32)>, u32)>,
}

impl Months {
    pub(super) fn id(&mut self, r: &Record) -> u32 {
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
    pub(super) fn sorted(&self) -> (Vec<String>, Vec<u32>) {
        let mut sorted = self.labels.clone();
        sorted.sort_unstable();
        let places = self.labels.iter().map(|l| sorted.binary_search(l).unwrap_or(0) as u32).collect();
        (sorted, places)
    }
}

/// A batch on its way to the writer.
#[derive(Default)]
pub(super) struct ToWrite {
    pub(super) records: Vec<Record>,
    pub(super) coded: Vec<Coded>,
    /// Each record's content fingerprint (empty when the run keeps no state).
    pub(super) contents: Vec<u128>,
    pub(super) ids: Vec<Vec<u32>>,
    pub(super) names: Vec<Vec<String>>,
    pub(super) quarantine: Vec<ingest::Quarantined>,
    pub(super) issues: Vec<ingest::FieldIssue>,
    /// The state's quarantined rows and field issues of files the run does not read, written
    /// before this batch's (the last of a night).
    pub(super) carried: Option<Box<(crate::table::Table, crate::table::Table)>>,
}

/// Records coded (or taken back from the state) on their way through people and the counters,
/// with the rows their batch set aside.
pub(super) struct CodedBatch {
    pub(super) records: Vec<Record>,
    pub(super) coded: Vec<Coded>,
    pub(super) contents: Vec<u128>,
    /// Per record: its coding is the state's, to be done again when the run re-codes.
    pub(super) stale: Vec<bool>,
    pub(super) quarantine: Vec<ingest::Quarantined>,
    pub(super) issues: Vec<ingest::FieldIssue>,
}

/// Batches in flight between two stages: a reader and a writer thread work beside the
/// coding, and memory holds at most this many batches at each hand-over.
pub(super) const IN_FLIGHT: usize = 2;

/// What the pool keeps from batch to batch: groups, months, respondents and every counter.
pub(super) struct Tally<'h> {
    pub(super) grouper: Grouper<'h>,
    pub(super) counter: Counter,
    pub(super) changes: ChangeCounter,
    pub(super) spc: SpcCounter,
    pub(super) pairs: crate::analyse::cooccurrence::PairCounter,
    pub(super) quotes: crate::analyse::quotes::QuoteCollector,
    pub(super) terms: crate::analyse::emerging::TermCounter,
    pub(super) months: Months,
    pub(super) respondents: crate::analyse::counts::Respondents,
    pub(super) coding: Coding,
    pub(super) tallies: Tallies,
    /// `unmapped_value` field issues per source.
    pub(super) unmapped: HashMap<String, u64>,
    pub(super) records: usize,
    /// The codebook's themes.
    pub(super) themes: usize,
    /// The files (index into the writer's list) records came from.
    pub(super) files_seen: Vec<bool>,
}

impl<'h> Tally<'h> {
    /// Empty counters for a run of `settings` coded with `book`.
    pub(super) fn new(
        settings: &Settings,
        harmoniser: &'h crate::people::harmonise::Harmoniser,
        book: &Codebook,
        raking: &[usize],
    ) -> Tally<'h> {
        Tally {
            grouper: Grouper::new(harmoniser, &settings.dimensions),
            counter: Counter::new(settings.dimensions.len(), book.themes.len(), raking.to_vec()),
            changes: ChangeCounter::new(&settings.changes, settings.dimensions.len(), book.themes.len()),
            spc: SpcCounter::new(settings.analysis.spc_period, book.themes.len()),
            pairs: crate::analyse::cooccurrence::PairCounter::new(
                settings.dimensions.len(),
                book.themes.len(),
                settings.analysis.max_record_themes,
            ),
            quotes: crate::analyse::quotes::QuoteCollector::new(
                settings.quotes_per_cell,
                settings.dimensions.len(),
                book.themes.len(),
            ),
            terms: crate::analyse::emerging::TermCounter::default(),
            months: Months::default(),
            respondents: crate::analyse::counts::Respondents::new(settings.ids_in_memory),
            coding: Coding::default(),
            tallies: Tallies::default(),
            unmapped: HashMap::new(),
            records: 0,
            themes: book.themes.len(),
            files_seen: Vec::new(),
        }
    }
}

impl Tally<'_> {
    /// One read batch through the pool: its rows mapped and its records coded, then [`Tally::tally`].
    pub(super) fn take(
        &mut self,
        settings: &Settings,
        engine: &Engine,
        mapping: &mut ingest::stream::Mapping,
        (index, items): (usize, Vec<ingest::ReadItem>),
        timings: &mut Timings,
    ) -> Result<ToWrite, RunError> {
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
    pub(super) fn tally(
        &mut self,
        settings: &Settings,
        engine: &Engine,
        dimension_columns: &[Vec<Option<String>>],
        b: CodedBatch,
        timings: &mut Timings,
    ) -> Result<ToWrite, RunError> {
        let CodedBatch { records, coded, contents, quarantine, issues, .. } = b;
        let ids = timings.time("people", || self.grouper.group(&records));
        let month: Vec<u32> = timings.time("analyse", || records.iter().map(|r| self.months.id(r)).collect());
        // before the counters make room for them
        let months = self.months.labels.len();
        let limit = settings.people.group_limit(self.themes, months);
        if let Some((d, groups)) = self.grouper.crowded(limit) {
            return Err(RunError::TooManyGroups {
                dimension: settings.dimensions[d].clone(),
                groups,
                limit,
                records: self.records + records.len(),
                sized: if settings.people.max_groups.is_some() {
                    String::new()
                } else {
                    format!(
                        " (unset, {} for a codebook of up to {} themes over up to {} months; {limit} for this run's {} \
                         themes over {months} month{})",
                        crate::config::DEFAULT_MAX_GROUPS,
                        crate::config::THEMES_OF_THE_DEFAULT,
                        crate::config::MONTHS_OF_THE_DEFAULT,
                        self.themes,
                        if months == 1 { "" } else { "s" }
                    )
                },
            });
        }
        let (names, issues) = timings.time("people", || {
            let names = self.grouper.names();
            let issues = field_issues(settings, dimension_columns, &records, issues, &names, &ids);
            (names, issues)
        });
        let issues = redact_field_issues(engine, issues);
        let quarantine = redact_quarantine(engine, &quarantine, &mut self.coding);
        for f in issues.iter().filter(|f| f.reason == ingest::Reason::UnmappedValue) {
            *self.unmapped.entry(f.source.clone()).or_insert(0) += 1;
        }
        timings.time("analyse", || {
            // the respondents' fingerprints worked out in parallel, then met in record order
            let fingerprints: Vec<u128> = records
                .par_iter()
                .with_min_len(1024)
                .map(|r| IdSet::fingerprint(&[&*r.source, r.response_id.as_str()]))
                .collect();
            let (first, first_in_month): (Vec<bool>, Vec<bool>) =
                fingerprints.into_iter().zip(&month).map(|(f, &m)| self.respondents.meet(f, m)).unzip();
            let themes: Vec<Vec<(u32, bool)>> = coded
                .iter()
                .map(|c| c.themes.iter().map(|t| (u32::from(t.hit.theme), t.is_concern)).collect())
                .collect();
            let counts = BatchCounts {
                month: &month,
                groups: &ids,
                first_of_response: &first,
                first_in_month: &first_in_month,
                themes: &themes,
            };
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
        Ok(ToWrite { records, coded, contents, ids, names, quarantine, issues, carried: None })
    }
}

/// Each record's content fingerprint, when the run keeps a state.
pub(super) fn contents(settings: &Settings, records: &[Record]) -> Vec<u128> {
    if settings.state.is_none() {
        return Vec::new();
    }
    records.par_iter().with_min_len(1024).map(Record::content).collect()
}

/// The reader's thread: every source's rows, in order, handed over until the end or an error.
pub(super) fn read_stage(
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
pub(super) struct WriteContext<'a> {
    pub(super) settings: &'a Settings,
    pub(super) book: &'a Codebook,
    pub(super) extra_columns: &'a [String],
    pub(super) source_files: &'a super::SourceFiles,
}

/// The writer's thread: every batch into the streamed tables, in order.
pub(super) fn write_stage(
    mut writer: StreamWriter,
    from_coder: std::sync::mpsc::Receiver<ToWrite>,
    c: &WriteContext<'_>,
) -> Result<(StreamWriter, Timings), OutputError> {
    let mut timing = Timings::default();
    fn batch<'a>(w: &'a ToWrite, c: &'a WriteContext<'_>) -> RecordsBatch<'a> {
        RecordsBatch {
            records: &w.records,
            coded: &w.coded,
            dimensions: &c.settings.dimensions,
            names: &w.names,
            ids: &w.ids,
            extra_columns: c.extra_columns,
            source_files: &c.source_files.names,
            keep_original_text: c.settings.keep_original_text,
        }
    }
    for w in from_coder {
        if let Some(carried) = &w.carried {
            timing.time("output", || writer.carry(&carried.0, &carried.1))?;
        }
        timing.time("output", || writer.write(&batch(&w, c), &w.contents, c.book, &w.quarantine, &w.issues))?;
    }
    // a run without records: the row-level tables' columns, in empty files
    timing.time("output", || writer.placeholders(&batch(&ToWrite::default(), c), c.book))?;
    Ok((writer, timing))
}

/// Runs `produce` on this thread beside the writer's thread, which writes every batch handed
/// over, in order; returns the writer once every batch is written, and what `produce` returned.
pub(super) fn beside_writer<T>(
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

pub(super) fn named(name: &str) -> std::thread::Builder {
    std::thread::Builder::new().name(name.to_owned())
}

pub(super) fn spawned(e: std::io::Error) -> RunError {
    RunError::Threads { threads: 1, message: e.to_string() }
}

/// Every source's rows from the reader's thread, one batch at a time, to `each` (on this thread,
/// which runs the pool); the mapping back once every source is read.
pub(super) fn read_batches(
    ingest::Ingest { reader, mapping }: ingest::Ingest,
    timings: &mut Timings,
    mut each: impl FnMut(&mut ingest::stream::Mapping, usize, Vec<ingest::ReadItem>, &mut Timings) -> Result<bool, RunError>,
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
                    if !each(&mut mapping, index, items, timings)? {
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
pub(super) fn stream_batches(
    engine: &Engine,
    ingest: ingest::Ingest,
    tally: &mut Tally<'_>,
    writer: StreamWriter,
    context: &WriteContext<'_>,
    timings: &mut Timings,
    bar: &indicatif::ProgressBar,
) -> Result<(StreamWriter, ingest::stream::Mapping), RunError> {
    let settings = context.settings;
    beside_writer(writer, context, timings, |to_write, timings| {
        read_batches(ingest, timings, |mapping, index, items, timings| {
            let done = tally.take(settings, engine, mapping, (index, items), timings)?;
            bar.set_message(format!("{} records", tally.records));
            Ok(to_write.send(done).is_ok())
        })
    })
}

/// Field issues quote values: the value and the message are redacted (their column, a header,
/// is written redacted by the mapper that names it).
pub(super) fn redact_field_issues(engine: &Engine, mut issues: Vec<ingest::FieldIssue>) -> Vec<ingest::FieldIssue> {
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
pub(super) fn redact_quarantine(
    engine: &Engine,
    rows: &[ingest::Quarantined],
    coding: &mut Coding,
) -> Vec<ingest::Quarantined> {
    rows.iter()
        .map(|q| {
            let mut q = q.clone();
            if let (Cow::Owned(safe), _) = engine.redactor.redact(&q.message) {
                q.message = safe;
            }
            // a header is written too (the raw row's names, the column): redacted like a value,
            // though not counted as a redaction of the row's data
            for name in q.raw.iter_mut().map(|(name, _)| name).chain(q.column.as_mut()) {
                if let (Cow::Owned(safe), _) = engine.redactor.redact(name) {
                    *name = safe;
                }
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
