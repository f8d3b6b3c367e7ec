//! A run over the state of nightly runs: only new or changed records are coded; the state's
//! records are carried through the same counters, so every table is the whole state's.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::code::{Coded, Engine};
use crate::config::Settings;
use crate::ingest::{self};
use crate::messages::Messages;
use crate::output::manifest::{Coding, StateReport};
use crate::output::tables::{self};
use crate::output::write::StreamWriter;
use crate::record::Record;

use super::stream::{
    beside_writer, named, read_batches, redact_field_issues, redact_quarantine, spawned, CodedBatch, Tally, Timings,
    ToWrite, WriteContext, IN_FLIGHT,
};
use super::{code_one, code_records, RunError};

/// What this run's inputs hold against the state: the records that changed (coded, in input
/// order), how many are new (they are read again after the state's records, so that no stage
/// holds them all), where each of the state's records was read, and the rows set aside
/// (redacted).
pub(super) struct Scan {
    pub(super) mapping: ingest::stream::Mapping,
    /// Changed records: record, coding, content, key.
    pub(super) changed: Vec<(Record, Coded, u128, u128)>,
    /// Records the state does not hold, per source.
    pub(super) new: Vec<u64>,
    /// Their keys (the second reading takes these records and no other).
    pub(super) new_keys: crate::fingerprints::FingerprintSet,
    /// Their record ids' fingerprints: a state's record gone from its file but met under the
    /// same id in another file has moved there.
    pub(super) new_ids: crate::fingerprints::FingerprintSet,
    /// The state's keys, each with where this run read it.
    pub(super) index: crate::state::KeyIndex,
    pub(super) unchanged: u64,
    pub(super) quarantine: Vec<ingest::Quarantined>,
    pub(super) issues: Vec<ingest::FieldIssue>,
}

/// Reads this run's inputs and codes only what the state does not hold as it is.
pub(super) fn scan(
    engine: &Engine,
    ingest: ingest::Ingest,
    mut index: crate::state::KeyIndex,
    (in_memory, staging): (usize, &std::path::Path),
    coding: &mut Coding,
    held_width: usize,
    timings: &mut Timings,
) -> Result<Scan, RunError> {
    let (mut changed_all, mut new) = (Vec::new(), Vec::new());
    let mut new_keys = crate::fingerprints::FingerprintSet::new(in_memory);
    new_keys.spill_into(staging);
    let mut new_ids = crate::fingerprints::FingerprintSet::new(in_memory);
    new_ids.spill_into(staging);
    let (mut unchanged, mut quarantine, mut issues) = (0, Vec::new(), Vec::new());
    let mapping = read_batches(ingest, timings, |mapping, source, items, timings| {
        let batch = timings.time("ingest", || mapping.map(source, items));
        // (compared as the state holds a record: its carried columns, not any this run adds)
        let (keys, contents): (Vec<u128>, Vec<(u128, Option<u128>)>) = timings.time("ingest", || {
            batch
                .records
                .par_iter()
                .with_min_len(1024)
                .map(|r| (r.key(), (r.content(), r.content_in(held_width))))
                .unzip()
        });
        let mut changed: Vec<(Record, u128, u128)> = Vec::new();
        for ((r, key), (content, held)) in batch.records.into_iter().zip(keys).zip(contents) {
            match index.read(key, r.origin) {
                Some(c) if Some(c) == held => unchanged += 1,
                Some(_) => changed.push((r, content, key)),
                None => {
                    if new.len() <= source {
                        new.resize(source + 1, 0);
                    }
                    new[source] += 1;
                    new_keys.insert(key, 0);
                    new_ids.insert(crate::record::fingerprint(r.record_id.as_str()), 0);
                }
            }
        }
        let records: Vec<Record> = changed.iter().map(|f| f.0.clone()).collect();
        let coded = timings.time("code", || code_records(engine, &records));
        changed_all.extend(changed.into_iter().zip(coded).map(|((r, content, key), c)| (r, c, content, key)));
        quarantine.extend(redact_quarantine(engine, &batch.quarantine, coding));
        issues.extend(batch.field_issues);
        Ok(true)
    })?;
    Ok(Scan { mapping, changed: changed_all, new, new_keys, new_ids, index, unchanged, quarantine, issues })
}

/// What the pool is handed in a run over a state: the state's records (coded), then this run's
/// inputs read again, for the pool to take the new records from.
pub(super) enum FromArchive {
    Coded(CodedBatch),
    Input(ingest::stream::Handed),
}

/// The state's records handed to the pool in order, month by month, each replaced by its new
/// version when it changed and dropped when it disappeared and `--prune` says so; then the
/// inputs read again, for their new records in the order read. Returns what it found.
#[allow(clippy::too_many_arguments)]
pub(super) fn produce_archive(
    mut reader: crate::state::ArchiveReader<'_>,
    mut again: Option<ingest::stream::Reader>,
    changed: Vec<(Record, Coded, u128, u128)>,
    mut new_ids: crate::fingerprints::FingerprintSet,
    read: &crate::state::KeyIndex,
    read_files: &std::collections::HashSet<String>,
    file_index: &HashMap<String, u32>,
    prune: bool,
    recode: bool,
    width: usize,
    to_pool: &std::sync::mpsc::SyncSender<Result<FromArchive, RunError>>,
) -> StateReport {
    let mut report = StateReport::default();
    let mut changed: HashMap<u128, (Record, Coded, u128)> =
        changed.into_iter().map(|(r, c, content, key)| (key, (r, c, content))).collect();
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
            let now = read.read_at(key);
            if file_read
                && now.is_none()
                && new_ids.get(crate::record::fingerprint(a.record.record_id.as_str())).is_some()
            {
                // gone from its file, and in another of tonight's under the same id: moved (it
                // was kept beside its new copy, one comment counted twice under one id: found
                // with two exports that swapped names, in the twenty-fourth session on issue 9)
                report.moved += 1;
                continue;
            }
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
            // a column this run adds: none in the state's records, their fingerprint as tonight's
            let content = if record.extra.len() < width {
                record.extra.resize(width, None);
                record.content()
            } else {
                a.content
            };
            b.records.push(record);
            b.coded.push(a.coded);
            b.contents.push(content);
            b.stale.push(true);
        }
        if !b.records.is_empty() && to_pool.send(Ok(FromArchive::Coded(b))).is_err() {
            return report;
        }
    }
    // the inputs again: the pool takes the records the state does not hold
    while let Some(again) = &mut again {
        match again.next() {
            Ok(Some(handed)) => {
                if to_pool.send(Ok(FromArchive::Input(handed))).is_err() {
                    return report;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = to_pool.send(Err(e.into()));
                return report;
            }
        }
    }
    // a changed record the state's stream did not meet (cannot happen: its key came from it)
    let left: Vec<(Record, Coded, u128)> = changed.into_values().collect();
    for chunk in left.chunks(ingest::stream::BATCH_ROWS) {
        let mut b = empty();
        for (r, c, content) in chunk.iter().cloned() {
            b.records.push(r);
            b.coded.push(c);
            b.contents.push(content);
            b.stale.push(false);
        }
        if to_pool.send(Ok(FromArchive::Coded(b))).is_err() {
            break;
        }
    }
    report
}

/// The records of a batch of the inputs read again that the first reading found new, coded, in
/// the order read. (By their keys, not by the state: a source without new records is not read
/// again, so a row that repeats the id of one of its rows is no longer a duplicate.)
fn new_records(
    engine: &Engine,
    new_keys: &mut crate::fingerprints::FingerprintSet,
    records: Vec<Record>,
    timings: &mut Timings,
) -> CodedBatch {
    let keys: Vec<u128> = records.par_iter().with_min_len(1024).map(Record::key).collect();
    let records: Vec<Record> =
        records.into_iter().zip(keys).filter(|&(_, k)| new_keys.get(k).is_some()).map(|(r, _)| r).collect();
    let contents: Vec<u128> = records.par_iter().with_min_len(1024).map(Record::content).collect();
    let coded = timings.time("code", || code_records(engine, &records));
    CodedBatch {
        stale: vec![false; records.len()],
        records,
        coded,
        contents,
        quarantine: Vec::new(),
        issues: Vec::new(),
    }
}

/// Codes again the records whose coding is the state's, from their redacted text; the
/// redactions the state recorded stay (and any the redactor finds now are added).
pub(super) fn recode_stale(engine: &Engine, b: &mut CodedBatch) {
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

/// A carried column's name as a state kept it, fit to show: a state kept before headers were
/// redacted may name a column by personal data, keyed (`x_943_476_5919`, once the header
/// `943 476 5919`), which redaction does not recognise once its spaces are underscores; read
/// with spaces, it is (`x_[NHS_NUMBER]`).
/// The refusal of a state kept with other dimensions than `dimensions`, naming those added (a
/// carried column made a dimension as the state's `x_…`) and those gone (found: a notice that the
/// state's `x_ward` was not carried came before an error listing `x_ward` as carried, when a
/// pipeline made its carried `ward` a dimension).
pub(crate) fn other_dimensions(
    dir: &std::path::Path,
    m: &crate::state::StateManifest,
    dimensions: &[String],
) -> Option<crate::state::StateError> {
    if m.dimensions == dimensions {
        return None;
    }
    let carried = |d: &str| m.extra_columns.iter().any(|c| unkeyed(c) == format!("x_{d}"));
    let added: Vec<String> = dimensions
        .iter()
        .filter(|d| !m.dimensions.contains(d))
        .map(|d| if carried(d) { format!("{d} (the state's records carry it as x_{d})") } else { d.clone() })
        .collect();
    let gone: Vec<&str> = m.dimensions.iter().filter(|d| !dimensions.contains(d)).map(String::as_str).collect();
    let mut what = Vec::new();
    if !added.is_empty() {
        what.push(format!("this run adds the dimensions {}", added.join(", ")));
    }
    if !gone.is_empty() {
        what.push(format!("it lacks the state's {}", gone.join(", ")));
    }
    if what.is_empty() {
        what.push(format!("the state's dimensions are in another order ({})", m.dimensions.join(", ")));
    }
    Some(crate::state::StateError::Mismatch {
        path: dir.to_path_buf(),
        message: format!(
            "{}: every table is split by the dimensions, so a state serves one set of them; build a state for the new \
             set with one run over every export into a new --state",
            what.join("; ")
        ),
    })
}

pub(super) fn unkeyed(name: &str) -> String {
    let spaced = name.replace('_', " ");
    match crate::text::redact::scrubbed(&spaced) {
        safe if safe == spaced => name.to_owned(),
        safe => safe.replace(' ', "_"),
    }
}

/// The stream of a run over a state: this run's inputs scanned against it, the state's records
/// (and the new and changed ones) through the pool, in the order a full run meets them.
#[allow(clippy::too_many_arguments)]
pub(super) fn stream(
    settings: &Settings,
    messages: &Messages,
    engine: &Engine,
    mut stream: ingest::Ingest,
    tally: &mut Tally<'_>,
    writer: StreamWriter,
    context: &WriteContext<'_>,
    versions: &crate::state::CodingVersions,
    dir: &std::path::Path,
    m: &crate::state::StateManifest,
    staging: &std::path::Path,
    timings: &mut Timings,
    bar: &indicatif::ProgressBar,
) -> Result<(StreamWriter, ingest::stream::Mapping, Option<StateReport>), RunError> {
    let (book, extra_columns, source_files) = (context.book, context.extra_columns, context.source_files);
    // (this run's carried columns are the state's, then any it adds: `Mapping::adopt_columns`)
    if m.dimensions != settings.dimensions || !extra_columns.starts_with(&m.extra_columns) {
        return Err(crate::state::StateError::Mismatch {
            path: dir.to_path_buf(),
            message: format!(
                "it holds the dimensions [{}] and carried columns [{}]; this run has [{}] and [{}]",
                m.dimensions.join(", "),
                m.extra_columns.iter().map(|n| unkeyed(n)).collect::<Vec<_>>().join(", "),
                settings.dimensions.join(", "),
                extra_columns.join(", ")
            ),
        }
        .into());
    }
    let recoded = if settings.full { Some("--full".to_owned()) } else { m.coding.changed(versions) };
    if let Some(why) = &recoded {
        messages.info(&format!("coding every record again: {why}"));
    }
    let index = timings.time("ingest", || crate::state::index(dir, m))?;
    // this run's sources, under their names and the state's other names for them
    let read_files: std::collections::HashSet<String> = source_files.names[..settings.sources.len()]
        .iter()
        .chain(source_files.aliases.iter().map(|a| &a.0))
        .cloned()
        .collect();
    // (a set: a folder of 1,500 daily exports holds as many sources, and each record is asked)
    let read_sources: std::collections::HashSet<&str> = settings.sources.iter().map(|s| s.name.as_str()).collect();
    timings.time("ingest", || {
        crate::state::carried_ids(
            dir,
            m,
            |file, source| read_files.contains(file) || read_sources.contains(source),
            |id| stream.mapping.seen_in_the_state(id),
        )
    })?;
    let scan = scan(
        engine,
        stream,
        index,
        (settings.ids_in_memory, staging),
        &mut tally.coding,
        m.extra_columns.len(),
        timings,
    )?;
    let file_index: HashMap<String, u32> = (source_files.names.iter().enumerate())
        .map(|(i, f)| (f.clone(), i as u32))
        .chain(source_files.aliases.iter().cloned())
        .collect();
    let Scan { mapping, changed, new, mut new_keys, new_ids, index: read, unchanged, quarantine, issues } = scan;
    // the inputs are read a second time after the state's records, for the new records in the
    // order read (held in memory instead, a national month onto a year's state took 3.2 GB); a
    // source without new records is not read again, nor opened when no source has any
    let (again, mut again_mapping) = if new.iter().any(|&n| n > 0) {
        #[cfg(test)]
        tests::between_readings(settings);
        let ingest::Ingest { reader: mut again, mapping: mut again_mapping } =
            timings.time("ingest", || ingest::Ingest::open(settings))?;
        again_mapping.spill_ids_into(staging);
        // the carried columns in the first reading's places, the state's first (found: a night
        // whose export listed them in another order wrote each value under another's name)
        again_mapping.adopt_columns(&mapping.extra_columns);
        for source in 0..settings.sources.len() {
            if new.get(source).copied().unwrap_or(0) == 0 {
                again.skip(source);
            }
        }
        (Some(again), Some(again_mapping))
    } else {
        (None, None)
    };
    let reader = crate::state::ArchiveReader::new(dir, m, book, ingest::stream::BATCH_ROWS);
    let recode = recoded.is_some();
    let (writer, report) = beside_writer(writer, context, timings, |to_write, timings| {
        std::thread::scope(|scope| {
            let (to_pool, from_archive) = std::sync::mpsc::sync_channel(IN_FLIGHT);
            let (read, read_files, file_index) = (&read, &read_files, &file_index);
            let producing = named("unheard-read")
                .spawn_scoped(scope, move || {
                    produce_archive(
                        reader,
                        again,
                        changed,
                        new_ids,
                        read,
                        read_files,
                        file_index,
                        settings.prune,
                        recode,
                        extra_columns.len(),
                        &to_pool,
                    )
                })
                .map_err(spawned)?;
            let mut people_issues = Vec::new();
            let mut met_new = 0;
            for b in from_archive {
                let b = match b? {
                    FromArchive::Coded(mut b) => {
                        if recode {
                            timings.time("code", || recode_stale(engine, &mut b));
                        }
                        b
                    }
                    FromArchive::Input(handed) => {
                        // (inputs come only when they are read again)
                        let Some(again_mapping) = again_mapping.as_mut() else { continue };
                        let (index, items) = match handed {
                            ingest::stream::Handed::Items(index, items) => (index, items),
                            ingest::stream::Handed::Finished(index, end) => {
                                again_mapping.finish(index, end);
                                let (first, second) = (&mapping.sources[index], &again_mapping.sources[index]);
                                if first.sha256 != second.sha256 {
                                    return Err(ingest::IngestError::Changed { path: first.path.clone().into() }.into());
                                }
                                continue;
                            }
                        };
                        let batch = timings.time("ingest", || again_mapping.map(index, items));
                        let b = new_records(engine, &mut new_keys, batch.records, timings);
                        met_new += b.records.len() as u64;
                        if b.records.is_empty() {
                            continue;
                        }
                        b
                    }
                };
                let mut done = tally.tally(settings, engine, &mapping.dimension_columns, b, timings)?;
                // the people stage's issues wait for the end, to be sorted in with the ingest's
                people_issues.append(&mut done.issues);
                bar.set_message(format!("{} records", tally.records));
                if to_write.send(done).is_err() {
                    break;
                }
            }
            let mut report = producing.join().map_err(|_| RunError::Panicked("reader"))?;
            // the same new records as the first reading found (the files' sha256 agree)
            debug_assert_eq!(met_new, new.iter().sum::<u64>());
            report.new = met_new;
            // this run's rows set aside and field issues, in the order a full run gives them
            let issues = redact_field_issues(engine, issues);
            tally.tallies.add(&quarantine, &issues);
            let order: HashMap<&str, usize> =
                settings.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
            let mut all = issues;
            all.extend(people_issues);
            all.sort_by_key(|f| (order.get(f.source.as_str()).copied().unwrap_or(usize::MAX), f.row));
            // the state's rows of the files not read, less those this night read again
            let carried = timings.time("output", || -> Result<_, RunError> {
                let archive = dir.join(crate::state::ARCHIVE);
                let (night_q, night_f) = (tables::quarantine(&quarantine), tables::field_issues(&all));
                let (q, again_q) = crate::state::carried(&archive.join("quarantine.parquet"), &night_q, read_files)?;
                let (f, again_f) = crate::state::carried(&archive.join("field_issues.parquet"), &night_f, read_files)?;
                report.carried_quarantine = q.rows() as u64;
                report.carried_field_issues = f.rows() as u64;
                report.read_again_elsewhere = again_q + again_f;
                Ok(Box::new((q, f)))
            })?;
            let last = ToWrite { quarantine, issues: all, carried: Some(carried), ..ToWrite::default() };
            let _ = to_write.send(last);
            Ok(report)
        })
    })?;
    // the second reading's ids answer for its duplicates as the first reading's do: a set that
    // could not read its runs back stops the run like the first's
    if let Some(failure) = new_keys.failure().or(again_mapping.as_ref().and_then(ingest::stream::Mapping::ids_failure))
    {
        return Err(RunError::Ids(failure.to_string()));
    }
    let mut mapping = mapping;
    mapping
        .count_ids_on_disk(new_keys.spilled() + again_mapping.as_ref().map_or(0, ingest::stream::Mapping::ids_on_disk));
    let mut report = report;
    report.path = crate::ingest::shown(dir);
    report.mode = if recode { "recoded" } else { "incremental" };
    report.recoded_because = recoded;
    report.unchanged = unchanged;
    report.records = tally.records as u64;
    if report.disappeared > report.pruned {
        messages.warn(&format!(
            "{} records of files read again are no longer in them: kept in the tables (--prune drops them)",
            report.disappeared - report.pruned
        ));
    }
    Ok((writer, mapping, Some(report)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use crate::config::{Overrides, Settings};
    use crate::ingest::IngestError;
    use crate::messages::Messages;
    use crate::pipeline::RunError;

    type Hook = Box<dyn FnOnce() + Send>;

    const HEADER: &str = "record_id,response_id,received_date,question,text,rating,org_level_1,org_level_2,org_level_3,sex,gender,age_band,ethnicity,ethnicity_detail,disability,religion,sexuality,imd_quintile,carer";

    /// What a test does to the inputs between a night's two readings, by the night's first input
    /// (tests run side by side, each over its own file).
    static BETWEEN: Mutex<Vec<(PathBuf, Hook)>> = Mutex::new(Vec::new());

    /// Runs the hook a test set for this night's first input, if any (once).
    pub(super) fn between_readings(settings: &Settings) {
        let Some(first) = settings.sources.first() else { return };
        let hook = {
            let mut hooks = BETWEEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            hooks.iter().position(|(p, _)| *p == first.path).map(|i| hooks.remove(i).1)
        };
        if let Some(hook) = hook {
            hook();
        }
    }

    /// `n` canonical rows from id `from`, one month, every comment coded.
    fn rows(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| {
                format!(
                    "R{i:04},P{i:04},2025-03-{:02},what_good,The nurse was kind and the wait was short,5,Trust,Dir,Team,,{},,,,,,,,\n",
                    1 + i % 28,
                    ["Female", "Male"][i % 2]
                )
            })
            .collect()
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Every file and folder under `dir` but `except`, with its bytes (folders: none).
    fn snapshot(dir: &Path, except: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
        let mut out = BTreeMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p == except {
                    continue;
                }
                if p.is_dir() {
                    out.insert(p.clone(), None);
                    todo.push(p);
                } else {
                    out.insert(p.clone(), Some(std::fs::read(&p).unwrap()));
                }
            }
        }
        out
    }

    /// A first run over 40 rows, 10 rows appended, then a night during which `meanwhile` acts
    /// on the export between the two readings: the night's error, and whether the outputs and
    /// the state are as the first run left them (nothing else left behind either).
    fn a_night_over_a_file_that(meanwhile: fn(&Path)) -> (RunError, PathBuf, bool) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("export.csv");
        std::fs::write(&input, format!("{}\n{}", HEADER, rows(0, 40))).unwrap();
        let overrides =
            Overrides { inputs: vec![input.clone()], out: Some(dir.path().join("out")), ..Overrides::default() };
        let settings = Settings::from_overrides(&overrides).unwrap();
        assert!(settings.state.is_some(), "a run keeps its state by default");
        crate::pipeline::run(&settings, &Messages::silent()).unwrap();
        append(&input, &rows(40, 10));
        let before = snapshot(dir.path(), &input);
        let during = settings.sources[0].path.clone();
        BETWEEN.lock().unwrap().push((settings.sources[0].path.clone(), Box::new(move || meanwhile(&during))));
        let err = crate::pipeline::run(&settings, &Messages::silent()).expect_err("the night must stop");
        let untouched = snapshot(dir.path(), &input) == before;
        (err, settings.sources[0].path.clone(), untouched)
    }

    #[test]
    fn a_file_that_changes_between_a_night_s_two_readings_stops_the_night_and_commits_nothing() {
        let (err, input, untouched) = a_night_over_a_file_that(|p| append(p, &rows(50, 1)));
        assert!(matches!(&err, RunError::Ingest(IngestError::Changed { path }) if *path == input), "{err}");
        assert!(err.to_string().contains("export.csv") && err.to_string().contains("nothing was committed"), "{err}");
        assert!(untouched, "the outputs and the state are the first run's");
    }

    #[test]
    fn a_file_removed_between_a_night_s_two_readings_is_named_and_nothing_is_committed() {
        let (err, _, untouched) = a_night_over_a_file_that(|p| std::fs::remove_file(p).unwrap());
        assert!(err.to_string().contains("export.csv"), "{err}");
        assert!(untouched, "the outputs and the state are the first run's");
    }
}
