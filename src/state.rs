//! The state of nightly runs: the coded records of every run so far, so that a run codes only
//! the records that are new or changed and recomputes every table from the whole archive.
//!
//! A state folder (`[run] state`, `--state`; by default `<out>.state` beside the output) holds:
//!
//! - `archive/records/month=YYYY-MM/part-0.parquet` and `archive/record_themes/…`: the last run's published
//!   files of the same name (hard links, or copies across file systems): the records with their
//!   redacted text and everything coded of them;
//! - `archive/keys/month=YYYY-MM/part-0.parquet`, row for row beside `records`: each record's key (a
//!   128-bit fingerprint of its source and id, as two 64-bit halves), its content fingerprint (ids, date, question, rating,
//!   text, organisation, demographic and carried values as read), the demographic values as
//!   read (before harmonisation) and the spans of personal data redacted;
//! - `archive/quarantine.parquet` and `archive/field_issues.parquet`: the last run's, by source file;
//! - `manifest.json`: what coded the records (codebook, model, analyzer), the dimensions and
//!   carried columns, the age bands, the source files.
//!
//! It holds no unredacted text: records are re-coded from their redacted text (coding reads
//! the redacted text in every run). It is written like the outputs: staged, then swapped in one
//! step, under its own lock.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Float64Type, Int32Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use crate::code::sentiment::{Polarity, RecordPolarity};
use crate::code::{Codebook, Coded, CodedTheme, Mention, Origin, ThemeHit};
use crate::record::{Question, Record, RowRef, Str};
use crate::table::{ColumnData, Table};
use crate::text::informative::Reading;
use crate::text::redact::{PiiKind, Redaction};

/// The folder of a state that holds its tables (one level down, so that a glob over run folders,
/// `runs/*/records/*/*.parquet`, does not meet a state's copies of them).
pub(crate) const ARCHIVE: &str = "archive";

/// The state's format; a state of another format is not read.
pub(crate) const STATE_FORMAT: u32 = 1;

/// Why a state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file of the state cannot be read.
    #[error("state {path}: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The state was kept with other settings than this run's.
    #[error("state {path}: {message}; give this run another state (`[run] state`, `--state`), or remove that folder to start afresh")]
    Mismatch {
        /// The state folder.
        path: PathBuf,
        /// What differs.
        message: String,
    },
}

/// What coded the archive's records: when any of it changes, every record is coded again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodingVersions {
    /// The codebook: name, version and a fingerprint of its themes and terms.
    pub codebook: String,
    /// The learned model's sha256, if one was used, with its policy.
    pub model: Option<String>,
    /// The analyzer, sentiment lexicon and redactor: unheard's version.
    pub analyzer: String,
}

impl CodingVersions {
    /// The versions of this run's coding.
    #[must_use]
    pub(crate) fn of(book: &Codebook, model: Option<&str>) -> CodingVersions {
        let themes: Vec<(&str, &[String], &[String], &[String], &str)> = book
            .themes
            .iter()
            .map(|t| {
                (
                    t.code.as_str(),
                    t.terms.as_slice(),
                    t.short_terms.as_slice(),
                    t.exclude.as_slice(),
                    t.improvement.as_str(),
                )
            })
            .collect();
        let print = crate::record::fingerprint(&(&book.name, &book.version, themes));
        CodingVersions {
            codebook: format!("{} {} {print:032x}", book.name, book.version),
            model: model.map(str::to_owned),
            analyzer: format!("unheard {} {}", env!("CARGO_PKG_VERSION"), crate::text::ANALYZER_ID),
        }
    }

    /// Why `self` (the state's) cannot stand for `now`'s coding, if it cannot.
    #[must_use]
    pub(crate) fn changed(&self, now: &CodingVersions) -> Option<String> {
        let mut why = Vec::new();
        if self.codebook != now.codebook {
            why.push(format!("the codebook changed ({} → {})", self.codebook, now.codebook));
        }
        if self.model != now.model {
            why.push("the learned model changed".to_owned());
        }
        if self.analyzer != now.analyzer {
            why.push(format!("the analyzer changed ({} → {})", self.analyzer, now.analyzer));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// `manifest.json` of a state folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StateManifest {
    /// The unheard that kept it.
    pub unheard_version: String,
    /// [`STATE_FORMAT`].
    pub unheard_state: u32,
    /// What coded the records.
    pub coding: CodingVersions,
    /// The run's dimensions, in order.
    pub dimensions: Vec<String>,
    /// The carried columns, in order.
    pub extra_columns: Vec<String>,
    /// The age bands the records were harmonised with.
    pub age_bands: Vec<String>,
    /// Records held.
    pub records: u64,
    /// The months of `records`, in order.
    pub months: Vec<String>,
    /// The files its records were read from, as the runs named them.
    pub files: Vec<String>,
    /// Each of `files` by its canonical path, where it could be resolved: a later night that
    /// names the same export another way (`../a.csv`, then `/data/a.csv`) reads it as that file.
    /// Kept as `sha256:` and the path's digest (a path may name a patient); states kept before
    /// hold the path, or none (their names are then resolved when read).
    #[serde(default)]
    pub canonical_files: Vec<Option<String>>,
    /// The source each of `files` was read as (a record is known by source and id, so a file
    /// read under another source name would count twice). States kept before it have none.
    #[serde(default)]
    pub file_sources: Vec<Option<String>>,
    /// Whether each of `files` was read with ids unique only within it (`ids_per_file`: its ids
    /// written `<source>:<id>`). States kept before it have none: none was.
    #[serde(default)]
    pub file_ids_per_file: Vec<bool>,
    /// Runs that kept this state, this one included (the output's manifest says which of them
    /// wrote it: an output ahead of its state is refused). States kept before it have 0.
    #[serde(default)]
    pub nights: u64,
    /// The archive's files that are the published files too (hard links), each with its size and
    /// the sha256 of its last 64 KiB (a Parquet file's footer: its row groups, offsets and
    /// statistics) as kept: one edited in place through the output is told. Not the time of
    /// change, which a backup restored with `cp -r` changes. States kept before it have none.
    #[serde(default)]
    pub published: BTreeMap<String, (u64, String)>,
}

/// A file's size and the sha256 of its last 64 KiB, as [`StateManifest::published`] keeps it.
fn file_stamp(path: &Path) -> Option<(u64, String)> {
    use sha2::Digest;
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(64 << 10))).ok()?;
    let mut tail = Vec::with_capacity(64 << 10);
    f.read_to_end(&mut tail).ok()?;
    Some((len, format!("{:x}", sha2::Sha256::digest(&tail))))
}

/// A file of the state's archive that is a published file too and was changed after the run
/// kept it: a published file edited in place (pyarrow's `write_table` to the same path) edits the
/// state's copy, the same file, and the next night republished the edit as the state's record, or
/// stopped every night after (found by a reader in the twenty-sixth session on issue 9).
///
/// # Errors
/// [`StateError::Unreadable`] naming the file.
pub(crate) fn check_published(dir: &Path, m: &StateManifest) -> Result<(), StateError> {
    for (f, kept) in &m.published {
        let path = dir.join(ARCHIVE).join(f);
        if file_stamp(&path).as_ref() != Some(kept) {
            return Err(StateError::Unreadable {
                path: path.clone(),
                message:
                    "changed after the run kept it: the output's file of that name is the same file (a hard link), \
                          so a published file edited in place edits the state too. Restore the output and its state \
                          from their backup, or run every export again into a new output; to edit a published file, \
                          copy it first (nothing was touched)"
                        .to_owned(),
            });
        }
    }
    Ok(())
}

/// Reads a state's `manifest.json`; `None` when the folder holds no state.
///
/// # Errors
/// The manifest is there but cannot be read, or is of another format.
pub(crate) fn read_manifest(dir: &Path) -> Result<Option<StateManifest>, StateError> {
    let path = dir.join("manifest.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StateError::Unreadable { path, message: e.to_string() }),
    };
    let m: StateManifest = serde_json::from_str(&text)
        .map_err(|e| StateError::Unreadable { path: path.clone(), message: e.to_string() })?;
    if m.unheard_state != STATE_FORMAT {
        return Err(StateError::Mismatch {
            path: dir.to_path_buf(),
            message: format!("state format {} (this unheard reads {STATE_FORMAT})", m.unheard_state),
        });
    }
    Ok(Some(m))
}

fn unreadable(path: &Path) -> impl Fn(String) -> StateError + '_ {
    move |message| StateError::Unreadable { path: path.to_path_buf(), message }
}

/// The record batches of one Parquet file, `rows` at a time.
fn batches(path: &Path, rows: usize) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, StateError> {
    let file = File::open(path).map_err(|e| unreadable(path)(e.to_string()))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(rows).build())
        .map_err(|e| unreadable(path)(e.to_string()))
}

/// A column by name, or an error naming it.
fn column<'a>(b: &'a RecordBatch, name: &str, path: &Path) -> Result<&'a ArrayRef, StateError> {
    b.column_by_name(name).ok_or_else(|| unreadable(path)(format!("no column {name:?}")))
}

/// The fingerprints `<name>_hi` and `<name>_lo` of every row.
fn fingerprints(b: &RecordBatch, name: &str, path: &Path) -> Result<Vec<u128>, StateError> {
    let half = |part: &str| -> Result<&arrow::array::Int64Array, StateError> {
        column(b, &format!("{name}_{part}"), path)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| unreadable(path)(format!("{name}_{part} is not int64")))
    };
    let (hi, lo) = (half("hi")?, half("lo")?);
    Ok((0..b.num_rows()).map(|i| (u128::from(hi.value(i) as u64) << 64) | u128::from(lo.value(i) as u64)).collect())
}

fn text_at(a: &ArrayRef, i: usize) -> Option<&str> {
    let s = a.as_string_opt::<i32>()?;
    (!s.is_null(i)).then(|| s.value(i))
}

fn parse<T: Copy>(all: &[T], name: fn(T) -> &'static str, s: &str) -> Option<T> {
    all.iter().copied().find(|&v| name(v) == s)
}

/// The record ids (as a run's id set fingerprints them) of the state's records of a file and a
/// source that `read` (file, source) says the night does not read: a night's row with one of these
/// ids repeats a record of another source, and is a duplicate, as in a full run that reads that
/// file first (found: nights over dated exports each holding every record to date, `--input`
/// naming each night's source after its file, kept every record once a night). A record of a
/// source the night reads is known by its key instead (an export moved, or a source pointed at a
/// new file: the same records).
pub(crate) fn carried_ids(
    dir: &Path,
    m: &StateManifest,
    read: impl Fn(&str, &str) -> bool,
    mut each: impl FnMut(u128),
) -> Result<(), StateError> {
    for month in &m.months {
        let path = dir.join(ARCHIVE).join("records").join(format!("month={month}")).join("part-0.parquet");
        let file = File::open(&path).map_err(|e| unreadable(&path)(e.to_string()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(&path)(e.to_string()))?;
        let wanted: Vec<usize> = ["record_id", "source", "source_file"]
            .iter()
            .map(|n| builder.schema().index_of(n).map_err(|e| unreadable(&path)(e.to_string())))
            .collect::<Result<_, _>>()?;
        let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), wanted);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(65_536)
            .build()
            .map_err(|e| unreadable(&path)(e.to_string()))?;
        for b in reader {
            let b = b.map_err(|e| unreadable(&path)(e.to_string()))?;
            let ids = column(&b, "record_id", &path)?;
            let (sources, files) = (column(&b, "source", &path)?, column(&b, "source_file", &path)?);
            for i in 0..b.num_rows() {
                let (file, source) = (text_at(files, i).unwrap_or_default(), text_at(sources, i).unwrap_or_default());
                if let (Some(id), false) = (text_at(ids, i), read(file, source)) {
                    each(crate::record::fingerprint(&[id]));
                }
            }
        }
    }
    Ok(())
}

/// The key → content of every record of the state, and where this run read each of them:
/// 48 bytes a record in one sorted array found through a radix table of its keys' first bits
/// (a hash map of keys and another of the keys read took twice that and more while growing).
pub(crate) struct KeyIndex {
    entries: Vec<Indexed>,
    /// `entries` whose key starts with bucket `b`'s bits: `starts[b]..starts[b + 1]`.
    starts: Vec<u32>,
    /// Bits of the key that choose the bucket.
    bits: u32,
}

struct Indexed {
    key: u128,
    content: u128,
    /// Where this run read the record (`source` u32::MAX: not read).
    read: crate::record::RowRef,
}

impl KeyIndex {
    fn new(mut entries: Vec<Indexed>) -> KeyIndex {
        use rayon::prelude::*;
        entries.par_sort_unstable_by_key(|e| e.key);
        // a key the archive holds twice (it cannot: a run writes each key once) counts once
        entries.dedup_by_key(|e| e.key);
        // about four entries a bucket
        let bits = (entries.len() / 4).max(1).ilog2().min(30);
        let mut starts = vec![0u32; (1usize << bits) + 1];
        for e in &entries {
            starts[KeyIndex::bucket(e.key, bits) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        KeyIndex { entries, starts, bits }
    }

    fn bucket(key: u128, bits: u32) -> usize {
        if bits == 0 {
            0
        } else {
            (key >> (128 - bits)) as usize
        }
    }

    fn find(&self, key: u128) -> Option<usize> {
        let b = KeyIndex::bucket(key, self.bits);
        let (lo, hi) = (*self.starts.get(b)? as usize, *self.starts.get(b + 1)? as usize);
        self.entries[lo..hi].binary_search_by_key(&key, |e| e.key).ok().map(|i| lo + i)
    }

    /// The content the state holds for `key`, if it holds the key; notes that this run read it
    /// at `at` (the last reading wins).
    pub(crate) fn read(&mut self, key: u128, at: crate::record::RowRef) -> Option<u128> {
        let i = self.find(key)?;
        let e = &mut self.entries[i];
        e.read = at;
        Some(e.content)
    }

    /// Where this run read the state's record `key`, if it did.
    #[must_use]
    pub(crate) fn read_at(&self, key: u128) -> Option<crate::record::RowRef> {
        let e = &self.entries[self.find(key)?];
        (e.read.source != u32::MAX).then_some(e.read)
    }

    /// Records the state holds.
    #[cfg(test)]
    #[must_use]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The key → content of every record of the state (none of them read yet).
///
/// # Errors
/// A `keys` file cannot be read.
pub(crate) fn index(dir: &Path, m: &StateManifest) -> Result<KeyIndex, StateError> {
    let unread = crate::record::RowRef { source: u32::MAX, row: 0 };
    let mut entries: Vec<Indexed> = Vec::with_capacity(usize::try_from(m.records).unwrap_or(0));
    for month in &m.months {
        let path = dir.join(ARCHIVE).join("keys").join(format!("month={month}")).join("part-0.parquet");
        for b in batches(&path, 65_536)? {
            let b = b.map_err(|e| unreadable(&path)(e.to_string()))?;
            let (k, c) = (fingerprints(&b, "key", &path)?, fingerprints(&b, "content", &path)?);
            entries.extend(k.into_iter().zip(c).map(|(key, content)| Indexed { key, content, read: unread }));
        }
    }
    Ok(KeyIndex::new(entries))
}

/// One archived record, as a run takes it back.
pub(crate) struct Archived {
    /// The record (its `text` is the redacted text).
    pub record: Record,
    /// Its coding as the state kept it (themes empty when `recode` was asked).
    pub coded: Coded,
    /// Its content fingerprint.
    pub content: u128,
    /// The file it was read from.
    pub file: Arc<str>,
}

/// Reads a state's records month by month, `rows` at a time, as records and their coding.
pub(crate) struct ArchiveReader<'a> {
    dir: PathBuf,
    manifest: &'a StateManifest,
    book: &'a Codebook,
    codes: HashMap<&'a str, u16>,
    month: usize,
    open: Option<Open>,
    rows: usize,
    /// Interned source names and files.
    names: HashMap<String, Arc<str>>,
}

/// The three readers of the month being read, and the themes read ahead of the records.
struct Open {
    records: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    keys: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    themes: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    /// Themes read but not yet given to a record: (batch, next row).
    pending: Option<(RecordBatch, usize)>,
    paths: [PathBuf; 3],
}

impl<'a> ArchiveReader<'a> {
    /// A reader of the state in `dir`.
    #[must_use]
    pub(crate) fn new(dir: &Path, manifest: &'a StateManifest, book: &'a Codebook, rows: usize) -> ArchiveReader<'a> {
        let codes = book.themes.iter().enumerate().map(|(i, t)| (t.code.as_str(), i as u16)).collect();
        ArchiveReader {
            dir: dir.to_path_buf(),
            manifest,
            book,
            codes,
            month: 0,
            open: None,
            rows,
            names: HashMap::new(),
        }
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.names.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.names.insert(s.to_owned(), a.clone());
        a
    }

    /// The next records (at most `rows`, all of one month), or `None` at the end.
    ///
    /// # Errors
    /// A file cannot be read or does not hold what a state holds.
    pub(crate) fn next_batch(&mut self, recode: bool) -> Result<Option<Vec<Archived>>, StateError> {
        loop {
            if self.open.is_none() {
                let Some(month) = self.manifest.months.get(self.month) else { return Ok(None) };
                let part =
                    |t: &str| self.dir.join(ARCHIVE).join(t).join(format!("month={month}")).join("part-0.parquet");
                let paths = [part("records"), part("keys"), part("record_themes")];
                self.open = Some(Open {
                    records: batches(&paths[0], self.rows)?,
                    keys: batches(&paths[1], self.rows)?,
                    themes: batches(&paths[2], self.rows)?,
                    pending: None,
                    paths,
                });
            }
            let Some(open) = self.open.as_mut() else { return Ok(None) };
            let Some(records) = open.records.next() else {
                self.open = None;
                self.month += 1;
                continue;
            };
            let p = open.paths.clone();
            let records = records.map_err(|e| unreadable(&p[0])(e.to_string()))?;
            let keys = match open.keys.next() {
                Some(k) => k.map_err(|e| unreadable(&p[1])(e.to_string()))?,
                None => return Err(unreadable(&p[1])("fewer rows than records".to_owned())),
            };
            if keys.num_rows() != records.num_rows() {
                return Err(unreadable(&p[1])("not row for row beside records".to_owned()));
            }
            return self.decode(&records, &keys, recode).map(Some);
        }
    }

    fn decode(&mut self, records: &RecordBatch, keys: &RecordBatch, recode: bool) -> Result<Vec<Archived>, StateError> {
        let paths = self.open.as_ref().map(|o| o.paths.clone()).unwrap_or_default();
        let (rp, kp) = (&paths[0], &paths[1]);
        let col = |name: &str| column(records, name, rp);
        let (id, response, source, date, question, rating, text, file, row) = (
            col("record_id")?,
            col("response_id")?,
            col("source")?,
            col("received_date")?
                .as_primitive_opt::<Date32Type>()
                .ok_or_else(|| unreadable(rp)("received_date is not a date".to_owned()))?,
            col("question")?,
            col("rating")?
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(|| unreadable(rp)("rating is not int32".to_owned()))?,
            col("text")?,
            col("source_file")?,
            col("source_row")?
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| unreadable(rp)("source_row is not int64".to_owned()))?,
        );
        let org = [col("org_level_1")?, col("org_level_2")?, col("org_level_3")?];
        let extra: Vec<&ArrayRef> = self.manifest.extra_columns.iter().map(|c| col(c)).collect::<Result<_, _>>()?;
        let polarity = col("polarity")?;
        let score = col("sentiment_score")?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| unreadable(rp)("sentiment_score is not double".to_owned()))?;
        let reading = col("non_informative_reading")?;
        let chars = col("text_chars_n")?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| unreadable(rp)("text_chars_n is not int32".to_owned()))?;
        let n_themes = col("themes_n")?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| unreadable(rp)("themes_n is not int32".to_owned()))?;
        let kcol = |name: &str| column(keys, name, kp);
        let (content, redactions) = (fingerprints(keys, "content", kp)?, kcol("redacted_spans")?);
        let raw: Vec<&ArrayRef> =
            self.manifest.dimensions.iter().map(|d| kcol(&format!("raw_{d}"))).collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(records.num_rows());
        for i in 0..records.num_rows() {
            let bad = |what: &str| unreadable(rp)(format!("row {i}: {what}"));
            let s = |a: &ArrayRef| text_at(a, i).map(Str::from);
            let src = text_at(source, i).ok_or_else(|| bad("no source"))?.to_owned();
            let source = self.intern(&src);
            let file = self.intern(text_at(file, i).unwrap_or_default());
            let record = Record {
                record_id: s(id).ok_or_else(|| bad("no record_id"))?,
                response_id: s(response).ok_or_else(|| bad("no response_id"))?,
                source,
                received_date: (!date.is_null(i)).then(|| date.value_as_date(i)).flatten(),
                question: text_at(question, i).and_then(Question::parse).ok_or_else(|| bad("no question"))?,
                rating: (!rating.is_null(i)).then(|| u8::try_from(rating.value(i)).ok()).flatten(),
                text: text_at(text, i).unwrap_or_default().to_owned(),
                org: org.map(s),
                demographics: raw.iter().map(|a| s(a)).collect(),
                extra: extra.iter().map(|a| s(a)).collect(),
                origin: RowRef { source: 0, row: u64::try_from(row.value(i)).unwrap_or(0) },
            };
            let redactions = text_at(redactions, i)
                .map(|r| {
                    r.split(';')
                        .filter_map(|x| {
                            let mut p = x.split(' ');
                            let kind = parse(&PiiKind::ALL, PiiKind::as_str, p.next()?)?;
                            Some(Redaction { kind, start: p.next()?.parse().ok()?, end: p.next()?.parse().ok()? })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let n = usize::try_from(n_themes.value(i)).unwrap_or(0);
            let themes = self.themes(&record.record_id, n, recode)?;
            let coded = Coded {
                redacted: None,
                redactions,
                themes,
                polarity: text_at(polarity, i)
                    .and_then(|p| {
                        parse(
                            &[
                                RecordPolarity::Positive,
                                RecordPolarity::Negative,
                                RecordPolarity::Neutral,
                                RecordPolarity::Mixed,
                            ],
                            RecordPolarity::as_str,
                            p,
                        )
                    })
                    .ok_or_else(|| bad("no polarity"))?,
                score: score.value(i) as f32,
                reading: text_at(reading, i).and_then(|r| {
                    parse(&[Reading::Satisfied, Reading::Dissatisfied, Reading::NoContent], Reading::as_str, r)
                }),
                chars: usize::try_from(chars.value(i)).unwrap_or(0),
            };
            let content = content[i];

            out.push(Archived { record, coded, content, file });
        }
        Ok(out)
    }

    /// The next `n` theme rows, which must be record `id`'s.
    fn themes(&mut self, id: &str, n: usize, recode: bool) -> Result<Vec<CodedTheme>, StateError> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let Some(open) = self.open.as_mut() else { break };
            let path = open.paths[2].clone();
            if open.pending.as_ref().is_none_or(|(b, r)| *r >= b.num_rows()) {
                match open.themes.next() {
                    Some(b) => open.pending = Some((b.map_err(|e| unreadable(&path)(e.to_string()))?, 0)),
                    None => return Err(unreadable(&path)(format!("no theme rows left for {id}"))),
                }
            }
            let Some((b, r)) = open.pending.as_mut() else { break };
            let i = *r;
            *r += 1;
            if text_at(column(b, "record_id", &path)?, i) != Some(id) {
                return Err(unreadable(&path)(format!("theme row of another record where {id}'s were expected")));
            }
            if recode {
                continue;
            }
            let bad = |what: &str| unreadable(&path)(format!("{id}: {what}"));
            let code = text_at(column(b, "theme_code", &path)?, i).ok_or_else(|| bad("no theme_code"))?;
            let theme = *self.codes.get(code).ok_or_else(|| bad("a theme the codebook does not have"))?;
            let rule = text_at(column(b, "rule", &path)?, i);
            let int = |name: &str| -> Result<Option<i32>, StateError> {
                let a = column(b, name, &path)?.as_primitive_opt::<Int32Type>().ok_or_else(|| bad("not int32"))?;
                Ok((!a.is_null(i)).then(|| a.value(i)))
            };
            let flag = |name: &str| -> Result<bool, StateError> {
                let a = column(b, name, &path)?.as_boolean_opt().ok_or_else(|| bad("not boolean"))?;
                Ok(!a.is_null(i) && a.value(i))
            };
            let span = (int("evidence_start")?.unwrap_or(0), int("evidence_end")?.unwrap_or(0));
            let negated = flag("is_negated")?;
            let mentions = if rule.is_some() {
                smallvec::smallvec![Mention { tokens: (0, 0), negated }]
            } else {
                smallvec::SmallVec::new()
            };
            let hit = ThemeHit {
                theme,
                hits: u32::try_from(int("hits_n")?.unwrap_or(0)).unwrap_or(0),
                rule: rule.map(Str::from).unwrap_or_default(),
                matched: text_at(column(b, "matched_words", &path)?, i).map(Str::from).unwrap_or_default(),
                span: (u32::try_from(span.0).unwrap_or(0), u32::try_from(span.1).unwrap_or(0)),
                mentions,
            };
            out.push(CodedTheme {
                hit,
                polarity: text_at(column(b, "polarity", &path)?, i)
                    .and_then(|p| {
                        parse(&[Polarity::Positive, Polarity::Negative, Polarity::Neutral], Polarity::as_str, p)
                    })
                    .ok_or_else(|| bad("no polarity"))?,
                is_concern: flag("is_concern")?,
                origin: text_at(column(b, "origin", &path)?, i)
                    .and_then(|o| parse(&[Origin::Codebook, Origin::Model, Origin::Both], Origin::as_str, o))
                    .ok_or_else(|| bad("no origin"))?,
            });
        }
        let _ = self.book;
        Ok(out)
    }
}

/// Puts `from` (a finished file of the output's staging folder) into the state's staging
/// folder at the same relative place: a hard link, or a copy across file systems.
///
/// # Errors
/// Neither works.
pub(crate) fn keep(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
}

/// The rows of a state's `quarantine` or `field_issues` whose `source_file` is not among `read`:
/// what this run carries of the files it does not read. `night` is the same table of this run's
/// own rows, and gives the columns: a row it holds again under another file name (the same
/// source, row and fields — an export moved to another folder, or read again under a new name) is
/// not carried twice. Returns the rows carried and how many were not, being read again.
///
/// # Errors
/// The file cannot be read or lacks a column.
pub(crate) fn carried(
    path: &Path,
    night: &Table,
    read: &std::collections::HashSet<String>,
) -> Result<(Table, u64), StateError> {
    // a row is the same row read again when every column but the file and the message (which
    // names the file) agrees
    let same: Vec<&str> =
        (night.columns.iter().map(|c| c.name.as_str())).filter(|n| !matches!(*n, "source_file" | "message")).collect();
    let identity =
        |cells: &dyn Fn(&str) -> Option<String>| -> Vec<Option<String>> { same.iter().map(|n| cells(n)).collect() };
    let again: std::collections::HashSet<Vec<Option<String>>> =
        (0..night.rows()).map(|i| identity(&|n: &str| night.column(n).and_then(|c| c.text_at(i)))).collect();
    let empty = |d: &ColumnData| match d {
        ColumnData::I64(_) => ColumnData::I64(Vec::new()),
        _ => ColumnData::Str(Vec::new()),
    };
    let columns = night.columns.iter().map(|c| crate::table::Col::new(c.name.clone(), c.doc.clone(), empty(&c.data)));
    let mut out = Table { name: night.name.clone(), grain: night.grain.clone(), columns: columns.collect() };
    let mut read_again = 0;
    for b in batches(path, 65_536)? {
        let b = b.map_err(|e| unreadable(path)(e.to_string()))?;
        let file = column(&b, "source_file", path)?;
        for n in &same {
            column(&b, n, path)?;
        }
        let b = &b;
        let cell = |i: usize| {
            move |n: &str| {
                let a = b.column_by_name(n)?;
                match a.as_primitive_opt::<Int64Type>() {
                    Some(v) => (!v.is_null(i)).then(|| v.value(i).to_string()),
                    None => text_at(a, i).map(str::to_owned),
                }
            }
        };
        let keep: Vec<usize> = (0..b.num_rows())
            .filter(|&i| !text_at(file, i).is_some_and(|f| read.contains(f)))
            .filter(|&i| {
                let seen = !again.is_empty() && again.contains(&identity(&cell(i)));
                read_again += u64::from(seen);
                !seen
            })
            .collect();
        for c in &mut out.columns {
            let a = column(b, &c.name, path)?;
            match &mut c.data {
                ColumnData::I64(v) => {
                    let a = a
                        .as_primitive_opt::<Int64Type>()
                        .ok_or_else(|| unreadable(path)(format!("{} is not int64", c.name)))?;
                    v.extend(keep.iter().map(|&i| (!a.is_null(i)).then(|| a.value(i))));
                }
                ColumnData::Str(v) => v.extend(keep.iter().map(|&i| text_at(a, i).map(str::to_owned))),
                _ => {}
            }
        }
    }
    Ok((out, read_again))
}

/// Fills the state's staging folder: the run's `files` (relative to `out`, its staging folder:
/// `records`, `record_themes`, `quarantine`, `field_issues`) kept beside the `keys` the writer
/// wrote there, and the state's manifest.
///
/// # Errors
/// A file cannot be linked, copied or written.
pub(crate) fn keep_state(
    out: &Path,
    state: &Path,
    files: &[String],
    manifest: &StateManifest,
) -> Result<(), StateError> {
    let mut published = BTreeMap::new();
    for f in files {
        let to = state.join(ARCHIVE).join(f);
        keep(&out.join(f), &to).map_err(|e| unreadable(&to)(e.to_string()))?;
        if let Some(stamp) = file_stamp(&to) {
            published.insert(f.clone(), stamp);
        }
    }
    let manifest = StateManifest { published, ..manifest.clone() };
    let path = state.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| unreadable(&path)(e.to_string()))? + "\n";
    std::fs::write(&path, text).map_err(|e| unreadable(&path)(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RowRef;

    /// The index answers as a map of the state's keys, whatever their number (none, one, a
    /// bucket's worth, many), and remembers where this run read each (the last reading).
    #[test]
    fn the_key_index_answers_as_a_map_and_remembers_where_each_key_was_read() {
        let unread = RowRef { source: u32::MAX, row: 0 };
        for n in [0u64, 1, 5, 1_000, 50_000] {
            let key = |i: u64| crate::record::fingerprint(&i);
            let entries: Vec<Indexed> =
                (0..n).map(|i| Indexed { key: key(i), content: u128::from(i) * 7, read: unread }).collect();
            let mut index = KeyIndex::new(entries);
            assert_eq!(index.len() as u64, n);
            for i in 0..n {
                assert_eq!(index.read_at(key(i)), None, "n {n}: key {i} read before any reading");
                let at = RowRef { source: (i % 3) as u32, row: i + 2 };
                assert_eq!(index.read(key(i), at), Some(u128::from(i) * 7), "n {n}: key {i}");
                if i % 2 == 0 {
                    index.read(key(i), RowRef { source: 9, row: i });
                }
            }
            for i in 0..n {
                let last = if i % 2 == 0 {
                    RowRef { source: 9, row: i }
                } else {
                    RowRef { source: (i % 3) as u32, row: i + 2 }
                };
                assert_eq!(index.read_at(key(i)), Some(last), "n {n}: key {i}");
            }
            // keys the state does not hold, including the smallest and largest there are
            for k in [0, u128::MAX, key(n + 1), key(n + 2)] {
                assert_eq!(index.read(k, RowRef { source: 0, row: 0 }), None);
                assert_eq!(index.read_at(k), None);
            }
        }
    }
}
