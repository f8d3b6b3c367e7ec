//! The run's sources as one stream of batches: every source opened first (its header, its
//! column plan, the run-wide carried columns), then read in order, a batch of rows at a time,
//! mapped in parallel and checked for duplicate ids in order. Memory holds one batch and the
//! ids seen (as 128-bit fingerprints), never the file.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{
    clean_item, clean_row, csv, guarded, jsonl, parquet, read_input, strip_controls, Cell, FieldIssue, IngestError,
    Mapper, Quarantined, RawRow, ReadItem, ReadNotes, Reason, SourceReport,
};
use crate::config::{Format, Settings, SourceSettings};
use crate::fingerprints::FingerprintSet;
use crate::record::Record;

/// Rows read per batch (per source: a batch never mixes sources).
pub(crate) const BATCH_ROWS: usize = 32_768;

/// The first batch of each source: batches double from here up to [`BATCH_ROWS`], so that a
/// small input is in several batches (the three stages overlap at once) and a large one in big
/// ones (less per-batch work), within [`BATCH_BYTES`]. Sizes follow the rows read only, so outputs
/// do not depend on timing.
const FIRST_BATCH_ROWS: usize = 4_096;

/// About the most a batch's rows may hold (each cell's text and its slot): a source of long
/// texts is read in fewer rows a batch, from the size of its last batch's rows (found: 32,768
/// complaint letters of 8 KB made batches of 262 MB, six of them in flight, and a run of 50,000
/// letters peaked at 1.8 GB). Sizes follow the rows read only, so outputs do not depend on timing.
const BATCH_BYTES: usize = 32 << 20;

/// A batch's bytes, as [`BATCH_BYTES`] counts them.
fn items_bytes(items: &[ReadItem]) -> usize {
    let cell = |c: &Cell| {
        std::mem::size_of::<Cell>()
            + match c {
                Cell::Text(s) | Cell::Error(s) => s.len(),
                Cell::Structured(s) => s.len(),
                _ => 0,
            }
    };
    items
        .iter()
        .map(|item| match item {
            ReadItem::Row(row) => row.cells.iter().map(cell).sum::<usize>(),
            ReadItem::Bad(q) => q.raw.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>(),
            ReadItem::Blank => 0,
        })
        .sum()
}

/// The rows of one source, as its reader yields them.
pub(crate) enum Rows {
    /// CSV, streamed through a window.
    Csv(Box<csv::CsvRows<'static>>),
    /// JSON Lines, streamed line by line.
    Jsonl(jsonl::JsonlRows<'static>),
    /// Parquet, streamed by record batch.
    Parquet(parquet::ParquetRows),
    /// A workbook, read whole (see the README's limits).
    Whole(std::vec::IntoIter<ReadItem>),
}

/// sha256 and size of the bytes a stream has read from its file.
#[derive(Clone, Default)]
struct Hashed(Arc<Mutex<(Sha256, u64)>>);

impl Hashed {
    fn reset(&self) {
        if let Ok(mut h) = self.0.lock() {
            *h = (Sha256::new(), 0);
        }
    }

    fn hex(&self) -> (String, u64) {
        self.0.lock().map(|h| (format!("{:x}", h.0.clone().finalize()), h.1)).unwrap_or_default()
    }
}

/// A reader that hashes what it reads.
struct Hashing<R> {
    inner: R,
    hash: Hashed,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut h) = self.hash.0.lock() {
            h.0.update(&buf[..n]);
            h.1 += n as u64;
        }
        Ok(n)
    }
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Opens `path` for streaming (gunzipped when its name ends in `.gz` or its bytes start as gzip's), hashing its bytes.
fn stream_file(path: &Path, hash: &Hashed) -> Result<Box<dyn Read + Send>, IngestError> {
    if let Some(kind) = crate::files::not_a_file(path) {
        return Err(IngestError::NotAFile { path: path.to_path_buf(), kind });
    }
    let file = std::fs::File::open(path).map_err(|e| IngestError::Io { path: path.to_path_buf(), source: e })?;
    hash.reset();
    let hashed = Hashing { inner: file, hash: hash.clone() };
    let mut buffered = std::io::BufReader::with_capacity(1 << 20, hashed);
    // gzip by its name or by its first bytes (found: a gzipped export named `.csv` read as
    // binary text, its header a line of noise in the error)
    let gzipped = is_gz(path)
        || std::io::BufRead::fill_buf(&mut buffered)
            .map_err(|e| IngestError::Io { path: path.to_path_buf(), source: e })?
            .starts_with(&super::GZIP_MAGIC);
    Ok(if gzipped { Box::new(flate2::read::MultiGzDecoder::new(buffered)) } else { Box::new(buffered) })
}

/// A source opened: its rows and its column plan.
pub struct Opened {
    /// The rows still to read.
    pub rows: SourceRows,
    /// Column names.
    pub headers: Vec<String>,
    /// Column plan.
    pub mapper: Mapper,
}

/// A source's rows as they are read, with its file's facts.
pub struct SourceRows {
    rows: Rows,
    hash: Hashed,
    /// What cleaning found (control characters), on top of the reader's own notes.
    notes: ReadNotes,
    /// The id columns (tabs and line ends removed too).
    ids: Vec<usize>,
    /// The header's names as keys (CSV and workbooks: the formats whose header is a row, which
    /// a joined file repeats), to tell a header met again among the rows.
    header: Option<HeaderKeys>,
    /// No row has been given yet (the first may be a survey tool's second header line).
    first: bool,
    path: std::path::PathBuf,
    /// Columns of the header: what a row holds at least, before any is read.
    columns: usize,
    /// The format it is read as (its first bytes', where they are sure: [`super::sniff`]).
    pub format: Format,
    /// The file's size and time of change when it was opened.
    stamp: Option<(u64, std::time::SystemTime)>,
}

/// A file's size and time of change, as a file changing while it is read would show.
fn stamp(path: &Path) -> Option<(u64, std::time::SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Whether the first row under the header is a survey tool's second header line: SurveyMonkey
/// writes each question's answer kind under its wording (`Response`, `Open-Ended Response`;
/// each option of a question of several answers), and nothing under its own columns
/// (`Respondent ID`, `Start Date`…). It was quarantined as `missing_required` (its date empty),
/// and every night exited 1 (found trying such an export in the fourteenth session on issue 9).
fn second_header_line<'c>(cells: impl Iterator<Item = Option<&'c str>>) -> bool {
    let cells: Vec<&str> = cells.map(|c| c.map_or("", str::trim)).collect();
    let kind = |k: &str| cells.iter().filter(|c| c.eq_ignore_ascii_case(k)).count();
    cells.first().is_some_and(|c| c.is_empty()) && (kind("Open-Ended Response") >= 1 || kind("Response") >= 2)
}

/// Whether a row is Qualtrics' third header line: each column's import id as a JSON object
/// (`{"ImportId":"QID1_TEXT"}`), in most of its cells.
fn import_id_line<'c>(cells: impl Iterator<Item = Option<&'c str>>) -> bool {
    let (mut named, mut ids) = (0, 0);
    for c in cells.map(|c| c.map_or("", str::trim)).filter(|c| !c.is_empty()) {
        named += 1;
        ids += usize::from(c.starts_with("{\"ImportId\""));
    }
    ids > 0 && 2 * ids >= named
}

/// How many of the first rows under the header are a survey tool's further header lines:
/// SurveyMonkey's answer kinds (one line), or Qualtrics' question wordings and import ids (two
/// lines, the second the ids; found quarantined as `invalid_date` every night).
fn header_lines(items: &[ReadItem]) -> usize {
    let row = |i: usize| match items.get(i) {
        Some(ReadItem::Row(row)) => Some(row),
        _ => None,
    };
    if row(1).is_some_and(|r| import_id_line(texts(r))) && row(0).is_some() {
        2
    } else if row(0).is_some_and(|r| import_id_line(texts(r)) || second_header_line(texts(r))) {
        1
    } else {
        0
    }
}

/// The cells of a row as text, for the checks of header lines (a cell of no text is none).
fn texts(row: &super::RawRow) -> impl Iterator<Item = Option<&str>> + Clone {
    row.cells.iter().map(|c| match c {
        Cell::Text(t) => Some(t.as_str()),
        _ => None,
    })
}

/// A header's names, to tell a row that is a header again ([`HeaderKeys::again`]).
struct HeaderKeys {
    /// The names as written, trimmed.
    names: Vec<String>,
    /// The names as keys (lowercase, other characters as `_`), the empty ones left out.
    keys: std::collections::HashSet<String>,
}

/// What a row is to the header.
#[derive(Debug, PartialEq)]
enum Again {
    /// A row of data.
    No,
    /// The header again, cell for cell (exports joined with `cat`, or pasted under each other).
    Same,
    /// Another header: most of its cells are the header's names, but not in its order or not all.
    Other,
}

impl HeaderKeys {
    fn new(headers: &[String]) -> Option<HeaderKeys> {
        let names: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
        let keys: std::collections::HashSet<String> =
            names.iter().map(|h| super::map::key(h)).filter(|k| !k.is_empty()).collect();
        // a file of one named column cannot tell its header from a comment that repeats it
        (keys.len() >= 2).then_some(HeaderKeys { names, keys })
    }

    /// Whether the row's `cells` are the header again. Cheap for a row of data: one look at its
    /// first non-empty cell, which a header's is one of the names.
    fn again<'c>(&self, cells: impl Iterator<Item = Option<&'c str>> + Clone) -> Again {
        // a second file's byte-order mark leads its header (`cat` of two Excel CSVs)
        let mut cells = cells.map(|c| c.map(|c| c.trim().trim_start_matches('\u{feff}').trim()));
        let first = cells.clone().flatten().find(|c| !c.is_empty());
        // (the cell is looked at once, not once a name: this runs on every row read)
        let named = |f: &str| match f.contains(['\n', '\r', '\t']) {
            false => self.names.iter().any(|n| n.len() == f.len() && n.eq_ignore_ascii_case(f)),
            true => self.names.iter().any(|n| same_words(n, f)),
        };
        if !first.is_some_and(named) {
            return Again::No;
        }
        let same = cells
            .clone()
            .zip(self.names.iter().map(Some).chain(std::iter::repeat(None)))
            .all(|(c, n)| same_words(n.map_or("", String::as_str), c.unwrap_or("")));
        if same && cells.clone().count() == self.names.len() {
            return Again::Same;
        }
        let named = cells.by_ref().flatten().filter(|c| self.keys.contains(&super::map::key(c))).count();
        if 2 * named > self.keys.len() {
            Again::Other
        } else {
            Again::No
        }
    }
}

/// A header's name and a cell are the same words, in any ASCII case; a cell wrapped onto two
/// lines (a header's name is read with its line breaks as spaces) is compared word by word.
fn same_words(name: &str, cell: &str) -> bool {
    if !cell.contains(['\n', '\r', '\t']) {
        return name.len() == cell.len() && name.eq_ignore_ascii_case(cell);
    }
    let (mut a, mut b) = (name.split_whitespace(), cell.split_whitespace());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

/// Rows a draft pipeline looks at (their dates' format).
const DRAFT_ROWS: usize = 200;

/// The first `n` rows of a source just opened, each cell as text (an empty string for a cell of
/// no text): what the draft pipeline of an export `--input` cannot place looks at. A row the
/// reader cannot read ends them.
fn first_rows(source: &SourceSettings, rows: &mut Rows, n: usize) -> Vec<Vec<String>> {
    let texts = |items: &[ReadItem]| -> Vec<Vec<String>> {
        let items = &items[..items.len().min(n)];
        items
            .iter()
            .skip(header_lines(items))
            .filter_map(|item| match item {
                ReadItem::Row(row) => Some(row.cells.iter().map(|c| c.to_text().unwrap_or_default()).collect()),
                _ => None,
            })
            .collect()
    };
    match rows {
        Rows::Csv(r) => texts(&r.next_items(n).unwrap_or_default()),
        Rows::Jsonl(r) => texts(&r.next_items(n).unwrap_or_default()),
        Rows::Parquet(r) => texts(&guarded(source, "Parquet", || r.next_items(n)).unwrap_or_default()),
        Rows::Whole(r) => texts(r.as_slice()),
    }
}

/// Opens one source and plans its mapping; the one way every command opens a source.
///
/// # Errors
/// Not a regular file, unreadable, not of its format, a configured column missing, or a
/// free-text column whose type is not text.
pub fn open_source(settings: &Settings, source: &SourceSettings, index: usize) -> Result<Opened, IngestError> {
    let path = &source.path;
    if let Some(kind) = crate::files::not_a_file(path) {
        return Err(IngestError::NotAFile { path: path.to_path_buf(), kind });
    }
    // the format the file's first bytes are sure of, whatever its name says
    let head = super::sniff::head(path).map_err(|e| IngestError::Io { path: path.clone(), source: e })?;
    let (format, renamed) = super::sniff::read_as(source.format, super::sniff::kind(&head)).map_err(|why| {
        let format = match source.format {
            Format::Csv => "CSV",
            Format::Jsonl => "JSON",
            Format::Parquet => "Parquet",
            Format::Xlsx => "XLSX",
        };
        IngestError::Format { path: path.clone(), format, message: why.to_owned() }
    })?;
    let read_as;
    let source = if format == source.format {
        source
    } else {
        read_as = SourceSettings { format, ..source.clone() };
        &read_as
    };
    let hash = Hashed::default();
    let opened = stamp(path);
    let mut types = None;
    let mut notes = ReadNotes::default();
    let mut keep_whole_unmet: Vec<String> = Vec::new();
    // a `.json` export of one array of objects is read whole, like a workbook
    let array = source.format == Format::Jsonl && {
        let mut start = Vec::with_capacity(4096);
        stream_file(path, &hash)?
            .take(4096)
            .read_to_end(&mut start)
            .map_err(|e| IngestError::Io { path: path.clone(), source: e })?;
        jsonl::is_array(&start)
    };
    let (mut rows, mut headers) = match source.format {
        Format::Csv => {
            let rows = csv::CsvRows::open(source, stream_file(path, &hash)?)?;
            let headers = rows.headers.clone();
            (Rows::Csv(Box::new(rows)), headers)
        }
        Format::Jsonl => {
            let (p, h) = (path.clone(), hash.clone());
            let rows = jsonl::JsonlRows::open(source, &move || stream_file(&p, &h), array)?;
            let headers = rows.headers.clone();
            notes.objects_kept_whole.clone_from(&rows.kept_whole);
            keep_whole_unmet.clone_from(&rows.keep_whole_unmet);
            (Rows::Jsonl(rows), headers)
        }
        Format::Parquet if !is_gz(path) => {
            if let Some(kind) = crate::files::not_a_file(path) {
                return Err(IngestError::NotAFile { path: path.to_path_buf(), kind });
            }
            // the footer and row groups are read where they lie; the hash is one more pass
            let mut r = stream_file(path, &hash)?;
            std::io::copy(&mut r, &mut std::io::sink())
                .map_err(|e| IngestError::Io { path: path.clone(), source: e })?;
            let file = std::fs::File::open(path).map_err(|e| IngestError::Io { path: path.clone(), source: e })?;
            let rows = guarded(source, "Parquet", || parquet::ParquetRows::open(source, file))?;
            let headers = rows.headers.clone();
            types = Some(rows.types.clone());
            notes.columns_not_read.clone_from(&rows.notes.columns_not_read);
            (Rows::Parquet(rows), headers)
        }
        Format::Parquet | Format::Xlsx => {
            let bytes = read_input(path)?;
            hash.reset();
            if let Ok(mut h) = hash.0.lock() {
                h.0.update(&bytes);
                h.1 = bytes.len() as u64;
            }
            let table = super::read_table(source, &super::decompress(path, &bytes)?)?;
            notes = table.notes;
            types = table.types;
            (Rows::Whole(table.items.into_iter()), table.headers)
        }
    };
    for h in &mut headers {
        // a header wrapped onto two lines (Excel's wrap text, Alt+Enter in a cell) is one line of
        // words: the line break a space (it was removed, "What was goodabout your visit?", which
        // no mapping naming the column in its words met)
        if h.contains(['\n', '\r', '\t']) {
            *h = h.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        if let Some(c) = strip_controls(h, false) {
            *h = c;
        }
    }
    let mapper = match Mapper::new(settings, source, index, &headers) {
        // the draft pipeline, from the header and the first rows' values (their dates' format)
        Err(IngestError::NoText { path, message }) => {
            let first: Vec<Vec<String>> = first_rows(source, &mut rows, DRAFT_ROWS);
            let window = source.date_window.unwrap_or(settings.date_window);
            Err(IngestError::Columns {
                message: super::draft::draft(&path, &headers, &first, &window).map_or(message.clone(), |d| {
                    format!(
                        "{message}\n\nA pipeline for this export could begin as below (guessed from the header \
                         and the first rows: check every line), saved as a .toml file and run with `unheard run \
                         FILE.toml`:\n\n{d}"
                    )
                }),
                path,
            })
        }
        other => other,
    };
    let mut mapper = mapper.map_err(|e| match e {
        IngestError::Columns { path, message } if !notes.columns_not_read.is_empty() => IngestError::Columns {
            path,
            message: format!("{message}; nested columns are not read: {}", notes.columns_not_read.join(", ")),
        },
        IngestError::Columns { path, message } if !notes.sheets_not_read.is_empty() => IngestError::Columns {
            path,
            message: format!(
                "{message}; the workbook's other sheets: {}: name the one to read with sheet in its [[source]] or --sheet",
                notes.sheets_not_read.join(", ")
            ),
        },
        other => other,
    })?;
    if let Some(renamed) = renamed {
        mapper.warn(format!("{}: {renamed}", super::shown(path)));
    }
    if !notes.sheets_not_read.is_empty() {
        mapper.warn(format!(
            "{}: the workbook's other sheets are not read: {} (name the one to read with sheet in its [[source]] or --sheet)",
            super::shown(path),
            notes.sheets_not_read.join(", ")
        ));
    }
    if !keep_whole_unmet.is_empty() {
        mapper.warn(format!(
            "{}: keep_whole names {}, which no record holds (a typo, or a path written without its parent: \
             `answers.scores`)",
            super::shown(path),
            super::header_list(&keep_whole_unmet)
        ));
    }
    if !notes.objects_kept_whole.is_empty() {
        mapper.warn(format!(
            "{}: {} more than {} members across the file (ids or dates as keys, not fields): kept whole, \
             as one column of JSON text; name it in keep_whole of its [[source]] so that an export of fewer \
             records (a night's) keeps it whole too",
            super::shown(path),
            notes.objects_kept_whole.iter().map(|o| format!("{o:?}")).collect::<Vec<_>>().join(", ")
                + if notes.objects_kept_whole.len() == 1 { " has" } else { " have" },
            jsonl::MAX_MEMBERS
        ));
    }
    if let Some(types) = &types {
        for (what, header) in mapper.mapped_columns() {
            let Some(i) = headers.iter().position(|h| *h == header) else { continue };
            let t = &types[i];
            if what.starts_with("text") && !parquet::is_text(t) {
                return Err(IngestError::Format {
                    path: source.path.clone(),
                    format: "Parquet",
                    message: format!("column {header:?} holds the free text but its type is {t}, not a string"),
                });
            }
        }
    }
    // a canonical field or dimension holding an object in a JSON export is read as its members
    // (`ethnicity.code`): said, with how to name one (it was a `wrong_type` issue a row)
    if source.format == Format::Jsonl {
        let mapped: Vec<String> = mapper.mapped_columns().into_iter().map(|(field, _)| field).collect();
        let dims = mapper.dimension_columns();
        let unmapped = crate::record::CANONICAL_FIELDS
            .iter()
            .map(|f| (*f).to_owned())
            .filter(|f| !mapped.contains(f))
            .chain(settings.dimensions.iter().zip(&dims).filter(|(_, c)| c.is_none()).map(|(d, _)| d.clone()));
        for name in unmapped.collect::<Vec<_>>() {
            let members: Vec<&String> = headers
                .iter()
                .filter(|h| h.split_once('.').is_some_and(|(top, _)| super::map::key(top) == name))
                .collect();
            if let Some(first) = members.first() {
                mapper.warn(format!(
                    "{}: {name} holds an object, whose members are the columns {}: name the one to read in its \
                     [[source]]'s [source.columns] ({name} = {first:?})",
                    super::shown(path),
                    super::header_list(&members)
                ));
            }
        }
    }
    if let Rows::Csv(r) = &mut rows {
        r.text_last = mapper.text_is_last();
    }
    // ids hold no tab or line end either
    let ids: Vec<usize> = mapper
        .mapped_columns()
        .iter()
        .filter(|(what, _)| what == "record_id" || what == "response_id")
        .filter_map(|(_, header)| headers.iter().position(|h| h == header))
        .collect();
    let header = matches!(source.format, Format::Csv | Format::Xlsx).then(|| HeaderKeys::new(&headers)).flatten();
    let columns = headers.len();
    let rows =
        SourceRows { rows, hash, notes, ids, header, first: true, path: path.clone(), columns, format, stamp: opened };
    Ok(Opened { rows, headers, mapper })
}

impl SourceRows {
    /// Up to `max` more rows (a reader may give a few more), cleaned of control characters;
    /// empty at the end of the source.
    ///
    /// # Errors
    /// The input cannot be read on.
    pub fn next_items(&mut self, source: &SourceSettings, max: usize) -> Result<Vec<ReadItem>, IngestError> {
        let mut items = match &mut self.rows {
            Rows::Csv(r) => r.next_items(max)?,
            Rows::Jsonl(r) => r.next_items(max)?,
            Rows::Parquet(r) => guarded(source, "Parquet", || r.next_items(max))?,
            Rows::Whole(r) => r.by_ref().take(max).collect(),
        };
        // rows the CSV reader found free of control characters are left as they are
        let clean = match &mut self.rows {
            Rows::Csv(r) => std::mem::take(&mut r.clean),
            _ => Vec::new(),
        };
        let to_clean = |i: usize| !clean.get(i).copied().unwrap_or(false);
        // the whole-file readers cleaned their rows already
        if !matches!(self.rows, Rows::Whole(_)) {
            for (_, item) in items.iter_mut().enumerate().filter(|(i, _)| to_clean(*i)) {
                clean_item(&mut self.notes, item);
            }
        }
        if !self.ids.is_empty() {
            for (_, item) in items.iter_mut().enumerate().filter(|(i, _)| to_clean(*i)) {
                if let ReadItem::Row(row) = item {
                    clean_row(&mut self.notes, row, Some(&self.ids), false);
                }
            }
        }
        if let Some(header) = &self.header {
            let format = if matches!(self.rows, Rows::Csv(_)) { "CSV" } else { "workbook" };
            let at_start = std::mem::take(&mut self.first);
            let passed = header.passed_over(&mut items, at_start).map_err(|message| IngestError::Format {
                path: self.path.clone(),
                format,
                message,
            })?;
            for row in passed.repeated {
                self.notes.repeated_headers += 1;
                super::note_row(&mut self.notes.repeated_header_rows, row);
            }
            for row in passed.survey_lines {
                super::note_row(&mut self.notes.survey_header_rows, row);
            }
        }
        Ok(items)
    }
}

impl HeaderKeys {
    /// A header met again among the rows (found: monthly exports joined with `cat` into one
    /// file; its second header was quarantined as an invalid date, and every night exited 1) is
    /// made a blank row, passed over and counted; its rows are returned. Another header, whose
    /// columns differ, is an error (what to say): the rows under it would be read under the
    /// first one's names.
    fn passed_over(&self, items: &mut [ReadItem], at_start: bool) -> Result<Passed, String> {
        let header = self;
        let mut passed = Passed::default();
        // where a survey tool's further header lines may start: under the file's header, and
        // under each header met again (monthly SurveyMonkey exports joined with `cat`)
        let mut under = at_start.then_some(0);
        let mut i = 0;
        while i < items.len() {
            if let Some(start) = under.take() {
                let n = header_lines(&items[start..]);
                for item in &mut items[start..start + n] {
                    if let ReadItem::Row(row) = item {
                        passed.survey_lines.push(row.row);
                    }
                    *item = ReadItem::Blank;
                }
                i = start + n;
                continue;
            }
            let item = &mut items[i];
            i += 1;
            let (row, again) = match item {
                ReadItem::Row(r) => (r.row, header.again(texts(r))),
                // a header of another width is a malformed row: said as what it is
                ReadItem::Bad(q) if q.reason == super::Reason::MalformedRow => (
                    q.row,
                    match header.again(q.raw.iter().map(|(_, v)| Some(v.as_str()))) {
                        Again::Same | Again::Other => Again::Other,
                        Again::No => Again::No,
                    },
                ),
                _ => continue,
            };
            match again {
                Again::No => {}
                Again::Same => {
                    *item = ReadItem::Blank;
                    passed.repeated.push(row);
                    under = Some(i);
                }
                Again::Other => {
                    return Err(format!(
                        "row {row} is another header, whose columns differ from the first header's (in order or in name): \
                         the file joins exports of different layouts, and the rows under it would be read under the \
                         wrong names; give each export as its own input (`--input a.csv b.csv`)"
                    ));
                }
            }
        }
        Ok(passed)
    }
}

/// The rows [`HeaderKeys::passed_over`] made blank.
#[derive(Default)]
struct Passed {
    /// The header met again.
    repeated: Vec<u64>,
    /// A survey tool's further header lines (under the header, or under a header met again).
    survey_lines: Vec<u64>,
}

impl SourceRows {
    /// The encoding as read, everything noted while reading, the file's sha256 and size.
    fn finish(self) -> (Option<&'static str>, ReadNotes, String, u64) {
        let (sha, bytes) = self.hash.hex();
        let mut notes = self.notes;
        let encoding = match self.rows {
            Rows::Csv(r) => {
                let (encoding, read) = r.finish();
                notes.fields_decoded_windows_1252 = read.fields_decoded_windows_1252;
                notes.windows_1252_rows = read.windows_1252_rows;
                notes.delimiter_detected = read.delimiter_detected;
                notes.trailing_empty_fields = read.trailing_empty_fields;
                notes.trailing_empty_fields_rows = read.trailing_empty_fields_rows;
                notes.text_delimiters_unquoted = read.text_delimiters_unquoted;
                notes.text_delimiters_unquoted_rows = read.text_delimiters_unquoted_rows;
                Some(encoding)
            }
            Rows::Whole(_) if notes.fields_decoded_windows_1252 > 0 => Some("utf-8, windows-1252 per field (detected)"),
            _ => None,
        };
        (encoding, notes, sha, bytes)
    }
}

/// Ids seen, as fingerprints: 16 bytes an id whatever its length (a 112-bit key: no false
/// duplicate in a run this side of 10^16 ids), in memory up to `[run] ids_in_memory` and then
/// in sorted runs on disk ([`crate::fingerprints`]).
pub(crate) struct IdSet(FingerprintSet);

impl IdSet {
    /// What the set holds of the id made of `parts` (worked out anywhere, e.g. in parallel).
    #[must_use]
    pub(crate) fn fingerprint(parts: &[&str]) -> u128 {
        crate::record::fingerprint(parts)
    }

    /// Adds the id of this [`IdSet::fingerprint`]; false if it was there already.
    pub(crate) fn insert_fingerprint(&mut self, fingerprint: u128) -> bool {
        self.0.insert(fingerprint, 0).is_none()
    }

    /// Where the id of this [`IdSet::fingerprint`] was seen: `Some(true)` in a state's file this
    /// run does not read ([`Mapping::seen_in_the_state`]), `Some(false)` in this run's reading.
    #[must_use]
    pub(crate) fn seen_where(&mut self, fingerprint: u128) -> Option<bool> {
        self.0.get(fingerprint).map(|v| v == IN_THE_STATE)
    }
}

/// One batch of a source's rows, mapped: the records kept, the rows quarantined, and the
/// fields that could not be used in the kept records.
#[derive(Debug, Default)]
pub struct Batch {
    /// The records.
    pub records: Vec<Record>,
    /// The rows set aside.
    pub quarantine: Vec<Quarantined>,
    /// Field issues of kept rows.
    pub field_issues: Vec<FieldIssue>,
}

/// What the reader hands over: a source's next rows, or the end of a source with what
/// reading it found.
pub enum Handed {
    /// Rows of source `0`, in order.
    Items(usize, Vec<ReadItem>),
    /// Source `0` is read to its end (boxed: the notes are larger than a batch's handle).
    Finished(usize, Box<SourceEnd>),
}

/// What reading a source found, once it is read.
pub struct SourceEnd {
    encoding: Option<&'static str>,
    notes: ReadNotes,
    sha256: String,
    bytes: u64,
}

/// Sources [`Ingest::open`] leaves open until they are read. Past them a source's header is read
/// with the others' (every source's columns are known before the first batch), its file closed,
/// and opened again when the reader reaches it. Found: a folder of 1,500 daily exports held
/// 1,500 open files and their buffers (3.4 GB for 30,000 records), and under the usual limit of
/// 1,024 open files the run stopped: "Too many open files".
const OPEN_AT_ONCE: usize = 8;

/// A source as the reader holds it.
enum Slot {
    /// Open, its rows read from where they stand.
    Open(Box<SourceRows>),
    /// Closed once its header was read (the header, to check the file again when it is opened).
    Closed(Vec<String>),
    /// Read, or passed over.
    Gone,
}

/// The reading half of [`Ingest`]: the sources' rows, in order (no mapping: this half may
/// run on a thread of its own).
pub struct Reader {
    /// The run's settings, to open a closed source again.
    settings: Box<Settings>,
    opened: Vec<Slot>,
    current: usize,
    /// Batches served from the current source.
    served: usize,
    /// Bytes a row of the current source's last batch held, on average (0 before its first).
    row_bytes: usize,
    /// [`BATCH_BYTES`] (smaller in tests).
    batch_bytes: usize,
    /// Per source, the records a row may give (its free-text columns): a batch holds at most
    /// [`BATCH_ROWS`] records (found: a survey of 200 free-text questions made batches of a
    /// million records, and 20,000 rows peaked at 2.3 GB).
    texts: Vec<usize>,
}

impl Reader {
    /// Source `index` is not read (nothing is handed of it, not even its end).
    pub fn skip(&mut self, index: usize) {
        if let Some(slot) = self.opened.get_mut(index) {
            *slot = Slot::Gone;
        }
    }

    /// Source `index` opened again, if it was closed after its header was read: the same header
    /// or an error (the mapping planned from the first one would read the wrong columns).
    fn reopen(&mut self, index: usize) -> Result<(), IngestError> {
        let Some(Slot::Closed(headers)) = self.opened.get(index) else { return Ok(()) };
        let source = &self.settings.sources[index];
        let again = open_source(&self.settings, source, index)?;
        if again.headers != *headers {
            return Err(IngestError::Reopened { path: source.path.clone() });
        }
        self.opened[index] = Slot::Open(Box::new(again.rows));
        Ok(())
    }

    /// The next rows of the source being read, or the end of a source; `None` once every
    /// source is read.
    ///
    /// # Errors
    /// A source that cannot be read on.
    pub fn next(&mut self) -> Result<Option<Handed>, IngestError> {
        while self.current < self.opened.len() {
            let index = self.current;
            self.reopen(index)?;
            let Slot::Open(opened) = &mut self.opened[index] else {
                self.current += 1;
                continue;
            };
            let texts = self.texts.get(index).copied().unwrap_or(1).max(1);
            let mut rows = (FIRST_BATCH_ROWS << self.served.min(8)).min(BATCH_ROWS / texts).max(1);
            // before a source's first batch, a row is at least its cells (a JSON export of
            // 20,000 keys: 640 KB a row, 2.6 GB for a first batch of 4,096)
            let row_bytes = self.row_bytes.max(opened.columns * std::mem::size_of::<Cell>());
            if let Some(fit) = self.batch_bytes.checked_div(row_bytes) {
                rows = rows.min(fit).max(1);
            }
            let items = opened.next_items(&self.settings.sources[index], rows)?;
            if !items.is_empty() {
                if self.served == 0 && crate::output::commit::fault_set("append@read") {
                    use std::io::Write;
                    let file = std::fs::OpenOptions::new().append(true).open(&self.settings.sources[index].path);
                    let _ = file.and_then(|mut f| f.write_all(b"\n"));
                }
                self.served += 1;
                self.row_bytes = items_bytes(&items).div_ceil(items.len()).max(1);
                return Ok(Some(Handed::Items(index, items)));
            }
            self.current += 1;
            self.served = 0;
            self.row_bytes = 0;
            if let Slot::Open(done) = std::mem::replace(&mut self.opened[index], Slot::Gone) {
                // a file rewritten, cut short or added to while it was read: what was read is
                // neither the file before nor after (found by a reader in the twenty-sixth session
                // on issue 9: an export copied over mid-run committed 315,940 of 400,000 rows,
                // its sha256 that of neither, exit 1; a night's second reading checked it, a
                // first night or a run without a state did not)
                if done.stamp.is_some() && done.stamp != stamp(&done.path) {
                    return Err(IngestError::ChangedWhileRead { path: done.path.clone() });
                }
                let (encoding, notes, sha256, bytes) = done.finish();
                return Ok(Some(Handed::Finished(index, Box::new(SourceEnd { encoding, notes, sha256, bytes }))));
            }
        }
        Ok(None)
    }

    /// Passes over the rest of the source being read.
    pub fn skip_source(&mut self) {
        if let Some(o) = self.opened.get_mut(self.current) {
            *o = Slot::Gone;
        }
        self.current += 1;
        self.served = 0;
        self.row_bytes = 0;
    }
}

/// The value an [`IdSet`] holds for the id of a state's record from a file a night does not read.
const IN_THE_STATE: u16 = 1;

/// The mapping half of [`Ingest`]: the sources' column plans, the ids seen, and what each
/// source gave.
pub struct Mapping {
    mappers: Vec<Mapper>,
    seen: IdSet,
    /// Record ids another set of the run put on disk (a night's second reading, its new keys).
    elsewhere_on_disk: usize,
    slots: Vec<Vec<usize>>,
    /// Per source, what reading it found (complete once its end is handed over).
    pub sources: Vec<SourceReport>,
    /// Columns carried into `records`, run-wide (known before the first batch).
    pub extra_columns: Vec<String>,
    /// Per source, per dimension: the column read, if any.
    pub dimension_columns: Vec<Vec<Option<String>>>,
}

/// Every source of a run, read as batches in source and row order.
pub struct Ingest {
    /// Reading.
    pub reader: Reader,
    /// Mapping.
    pub mapping: Mapping,
}

impl Ingest {
    /// Opens every source of the run (headers and column plans) before any row is read.
    ///
    /// # Errors
    /// A source that cannot be opened, or lacks a configured column.
    pub fn open(settings: &Settings) -> Result<Ingest, IngestError> {
        let mut reader = Reader {
            settings: Box::new(settings.clone()),
            opened: Vec::new(),
            current: 0,
            served: 0,
            row_bytes: 0,
            batch_bytes: BATCH_BYTES,
            texts: Vec::new(),
        };
        let mut m = Mapping {
            mappers: Vec::new(),
            seen: IdSet(FingerprintSet::new(settings.ids_in_memory)),
            elsewhere_on_disk: 0,
            slots: Vec::new(),
            sources: Vec::new(),
            extra_columns: Vec::new(),
            dimension_columns: Vec::new(),
        };
        // the sources open side by side (a workbook is read whole, a CSV's first window
        // unzipped); the first one in order that cannot be opened is the error; past the first
        // few, each is closed once its header is read
        let opened: Vec<Result<(Slot, Mapper, Format), IngestError>> = settings
            .sources
            .par_iter()
            .enumerate()
            .map(|(index, source)| {
                let Opened { rows, headers, mapper } = open_source(settings, source, index)?;
                let format = rows.format;
                let slot = if index < OPEN_AT_ONCE { Slot::Open(Box::new(rows)) } else { Slot::Closed(headers) };
                Ok((slot, mapper, format))
            })
            .collect();
        // where each carried column is in `records` (found by name, not by a search of them all)
        let mut extra_at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (source, opened) in settings.sources.iter().zip(opened) {
            let (slot, mapper, format) = opened?;
            m.sources.push(SourceReport {
                name: source.name.clone(),
                path: super::shown(&source.path),
                format: format!("{format:?}").to_lowercase(),
                layout: mapper.layout().to_owned(),
                mapped_columns: mapper.mapped_columns(),
                carried_columns: mapper.carried_columns(),
                carried_from: mapper.carried_from(),
                columns_withheld: mapper.withheld_columns(),
                columns_not_carried: mapper.not_carried_columns(),
                warnings: mapper.warnings(),
                date_format: mapper.date_format().to_owned(),
                ..SourceReport::default()
            });
            m.dimension_columns.push(mapper.dimension_columns());
            // a carried column of the same name in several sources is one column of `records`
            let slots: Vec<usize> = mapper
                .carried_columns()
                .into_iter()
                .map(|name| match extra_at.get(&name) {
                    Some(&i) => i,
                    None => {
                        extra_at.insert(name.clone(), m.extra_columns.len());
                        m.extra_columns.push(name);
                        m.extra_columns.len() - 1
                    }
                })
                .collect();
            m.slots.push(slots);
            reader.texts.push(mapper.text_columns());
            m.mappers.push(mapper);
            reader.opened.push(slot);
        }
        Ok(Ingest { reader, mapping: m })
    }

    /// The next batch of records, quarantined rows and field issues; `None` once every source
    /// is read.
    ///
    /// # Errors
    /// A source that cannot be read on.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, IngestError> {
        loop {
            match self.reader.next()? {
                None => return Ok(None),
                Some(Handed::Items(index, items)) => return Ok(Some(self.mapping.map(index, items))),
                Some(Handed::Finished(index, end)) => self.mapping.finish(index, end),
            }
        }
    }

    /// The value of dimension `d` in `row` of source `index`, as written ([`Mapper::dimension_text`]).
    pub(crate) fn dimension_text<'r>(&self, index: usize, row: &'r RawRow, d: usize) -> Option<Cow<'r, str>> {
        self.mapping.mappers.get(index)?.dimension_text(row, d)
    }

    /// Passes over the rest of the source being read (its counts stay as they are).
    pub fn skip_source(&mut self) {
        self.reader.skip_source();
    }
}

/// An id as Excel writes a long number back into a CSV it saves (`1.23457E+11`): its last
/// digits are gone (after a `<source>:` prefix, the id of `--ids-per-file`).
fn excel_scientific(id: &str) -> bool {
    // (most ids hold no `+`: turned away by one scan)
    if !id.as_bytes().contains(&b'+') {
        return false;
    }
    let id = id.rsplit(':').next().unwrap_or(id).as_bytes();
    let Some(e) = id.iter().position(|b| *b == b'E' || *b == b'e') else { return false };
    let (mantissa, exponent) = (&id[..e], &id[e + 1..]);
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let mantissa_ok = match mantissa {
        [d] => d.is_ascii_digit(),
        [d, b'.', rest @ ..] => d.is_ascii_digit() && digits(rest),
        _ => false,
    };
    mantissa_ok && exponent.strip_prefix(b"+").is_some_and(digits)
}

impl Mapping {
    /// Ids past `[run] ids_in_memory` go to unnamed temporary files in `folder` from now on.
    pub(crate) fn spill_ids_into(&mut self, folder: &Path) {
        self.seen.0.spill_into(folder);
    }

    /// Record ids that went to disk (past `[run] ids_in_memory`), with those counted in by
    /// [`Mapping::count_ids_on_disk`].
    #[must_use]
    pub(crate) fn ids_on_disk(&self) -> usize {
        self.seen.0.spilled() + self.elsewhere_on_disk
    }

    /// Counts in `n` record ids that other sets of the run put on disk.
    pub(crate) fn count_ids_on_disk(&mut self, n: usize) {
        self.elsewhere_on_disk += n;
    }

    /// Why the ids seen could not be kept on disk or read back, if they could not.
    #[must_use]
    pub(crate) fn ids_failure(&self) -> Option<&str> {
        self.seen.0.failure()
    }

    /// Records what reading source `index` found.
    pub fn finish(&mut self, index: usize, end: Box<SourceEnd>) {
        if let Some(report) = self.sources.get_mut(index) {
            report.encoding = end.encoding.map(str::to_owned);
            report.reading = end.notes;
            report.sha256 = end.sha256;
            report.bytes = end.bytes;
            // (every row of the source is mapped: its batches came before its end)
            if let Some(m) = self.mappers.get(index) {
                report.question_values_given = m.question_values_given();
                report.question_values_unmatched = m.question_values_unmet();
            }
        }
    }

    /// Puts the carried columns a state holds first, in its order, this run's others after
    /// them: a night whose export gained a column (a JSON key first met tonight) carries it
    /// beside the state's, whose records hold none. Returns the columns this run adds.
    pub fn adopt_columns(&mut self, held: &[String]) -> Vec<String> {
        let added: Vec<String> = self.extra_columns.iter().filter(|c| !held.contains(c)).cloned().collect();
        let columns: Vec<String> = held.iter().cloned().chain(added.iter().cloned()).collect();
        for slots in &mut self.slots {
            for slot in slots.iter_mut() {
                *slot = columns.iter().position(|c| *c == self.extra_columns[*slot]).unwrap_or(*slot);
            }
        }
        self.extra_columns = columns;
        added
    }

    /// Takes the id of a state's record from a file this run does not read as read before this
    /// run's rows ([`crate::state::carried_ids`]): a row repeating it is a duplicate.
    pub(crate) fn seen_in_the_state(&mut self, id: u128) {
        self.seen.0.insert(id, IN_THE_STATE);
    }

    /// Counts how a batch's dates read when the source's date format names the day and the
    /// month before the year ([`super::map::DayMonth`]); when it lists both orders
    /// (`%d/%m/%Y|%m/%d/%Y`), until one is chosen, chooses the order of the first date that
    /// reads only one way (batches are cut by rows read: the same whatever the threads).
    fn date_orders(&mut self, index: usize, items: &[ReadItem]) {
        let (Some(mapper), Some(report)) = (self.mappers.get_mut(index), self.sources.get_mut(index)) else { return };
        let Some(dm) = mapper.day_and_month_first() else { return };
        let orders: Vec<(super::map::Order, u64, &str)> = items
            .par_iter()
            .with_min_len(512)
            .filter_map(|item| match item {
                ReadItem::Row(row) => {
                    mapper.date_text(row).map(|s| (super::map::order_of(s, &dm.day, &dm.month), row.row, s))
                }
                _ => None,
            })
            .collect();
        let seen = &mut report.date_orders;
        seen.listed_month_first = dm.month_first;
        seen.both = dm.both;
        let unchosen = seen.chosen.is_none();
        for &(order, row, value) in &orders {
            seen.count(order, row, value);
        }
        match seen.chosen {
            Some((month_first, _)) if unchosen => mapper.read_first(month_first),
            None => seen.either_before = seen.either.0,
            Some(_) => {}
        }
    }

    /// Maps a batch of source `index`'s rows in parallel, then checks ids and counts in row
    /// order.
    pub fn map(&mut self, index: usize, items: Vec<ReadItem>) -> Batch {
        self.date_orders(index, &items);
        let Some(mapper) = self.mappers.get(index) else { return Batch::default() };
        let text_cells = mapper.text_columns() as u64;
        // a row that maps is kept beside its records (moved, not copied) until the duplicate
        // check below has passed it: a duplicate is quarantined as it was read
        let outcomes: Vec<Option<Result<(RawRow, super::map::Mapped), Quarantined>>> = items
            .into_par_iter()
            .with_min_len(512)
            .map(|item| match item {
                ReadItem::Blank => None,
                // a row of empty cells (`,,,,` that Excel writes for rows once used) is a
                // blank row, as in a workbook: dropped and counted, not quarantined (found: two
                // such rows quarantined as missing_required made every night exit 1)
                ReadItem::Row(row) if row.cells.iter().all(Cell::is_blank) => None,
                ReadItem::Bad(mut q) => {
                    q.text_cells = text_cells;
                    Some(Err(q))
                }
                ReadItem::Row(row) => Some(mapper.map_row(&row).map(|mapped| (row, mapped))),
            })
            .collect();
        // the ids' fingerprints, worked out in parallel, in record order
        let fingerprints: Vec<u128> = outcomes
            .par_iter()
            .with_min_len(512)
            .flat_map_iter(|o| {
                let records = match o {
                    Some(Ok((_, mapped))) => mapped.records.as_slice(),
                    _ => &[],
                };
                records.iter().map(|r| IdSet::fingerprint(&[r.record_id.as_str()]))
            })
            .collect();
        let width = self.extra_columns.len();
        let slots = &self.slots[index];
        // a source whose carried columns are the run's, in order, places nothing
        let in_place = slots.len() == width && slots.iter().enumerate().all(|(i, &s)| i == s);
        let report = &mut self.sources[index];
        let mut batch = Batch { records: Vec::with_capacity(fingerprints.len()), ..Batch::default() };
        let mut at = 0;
        for outcome in outcomes {
            report.rows_read += 1;
            let Some(outcome) = outcome else {
                report.rows_dropped += 1;
                continue;
            };
            report.text_cells += text_cells;
            match outcome {
                Ok((row, mapped)) => {
                    if mapped
                        .records
                        .iter()
                        .any(|r| [r.record_id.as_str(), r.response_id.as_str()].iter().any(|id| excel_scientific(id)))
                    {
                        report.scientific_ids.0 += 1;
                        report.scientific_ids.1.get_or_insert(row.row);
                    }
                    let ids = &fingerprints[at..at + mapped.records.len()];
                    at += ids.len();
                    // Duplicate ids quarantine the whole row: a second copy is not new evidence.
                    let dup = ids.iter().enumerate().find_map(|(i, &id)| Some((i, self.seen.seen_where(id)?)));
                    if let Some((dup, in_the_state)) = dup {
                        let dup = &mapped.records[dup];
                        // (the row's field issues go with it: the quarantine holds the row; its
                        // message a full run's, the source's warning saying where)
                        let q = mapper.quarantine_mapped(
                            &row,
                            Reason::DuplicateId,
                            format!("record id {:?} was already read", dup.record_id),
                        );
                        if in_the_state {
                            report.duplicate_ids_of_the_state += 1;
                        }
                        report.rows_quarantined += 1;
                        report.quarantined_text_cells += q.text_cells;
                        report.duplicate_ids.0 += 1;
                        report.duplicate_ids.1.get_or_insert(q.row);
                        batch.quarantine.push(q);
                        continue;
                    }
                    report.rows_kept += 1;
                    report.blank_text_cells += mapped.blank_cells;
                    report.field_issues += mapped.issues.len() as u64;
                    batch.field_issues.extend(mapped.issues);
                    for (mut r, &id) in mapped.records.into_iter().zip(ids) {
                        self.seen.insert_fingerprint(id);
                        if !in_place {
                            // place this source's extras in the run-wide extra column list
                            let mut extra = vec![None; width];
                            for (value, &slot) in r.extra.drain(..).zip(slots) {
                                extra[slot] = value;
                            }
                            r.extra = extra;
                        }
                        report.records += 1;
                        batch.records.push(r);
                    }
                }
                Err(q) => {
                    if q.reason == Reason::InvalidDate {
                        report.invalid_dates.0 += 1;
                        report.invalid_dates.1.get_or_insert(q.row);
                        // (the raw row is redacted later, in the pool: here it is as read)
                        if let Some((_, date)) = q.raw.iter().find(|(name, _)| Some(name) == q.column.as_ref()) {
                            report.date_guess.add(date, mapper.date_window());
                        }
                    }
                    report.rows_quarantined += 1;
                    report.quarantined_text_cells += q.text_cells;
                    batch.quarantine.push(q);
                }
            }
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::second_header_line;

    #[test]
    fn ids_as_excel_writes_long_numbers_back() {
        use super::excel_scientific;
        for id in ["1.23457E+11", "1E+15", "9.9e+20", "src:1.23457E+11"] {
            assert!(excel_scientific(id), "{id}");
        }
        for id in ["123456789012", "R1E+5", "1.2E-3", "1.E+5", "E+11", "1.23457E+", "12.3E+4", "abc"] {
            assert!(!excel_scientific(id), "{id}");
        }
    }

    /// A pipeline's settings, its file in `dir`.
    fn settings_in(dir: &std::path::Path, pipeline: &str) -> crate::config::Settings {
        crate::config::Settings::from_toml(pipeline, &dir.join("p.toml"), &crate::config::Overrides::default()).unwrap()
    }

    /// Batches of long texts hold fewer rows: after the first, as many as fit the batch's bytes
    /// at the size of the last batch's rows; every row is read once, in order.
    #[test]
    fn batches_of_long_texts_hold_fewer_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let mut csv = String::from("record_id,text\n");
        for i in 0..5_000 {
            csv.push_str(&format!("R{i},{}\n", "the wait was long ".repeat(12)));
        }
        std::fs::write(tmp.path().join("letters.csv"), csv).unwrap();
        let settings = settings_in(tmp.path(), "[[source]]\npath = \"letters.csv\"\n");
        let mut ingest = super::Ingest::open(&settings).unwrap();
        ingest.reader.batch_bytes = 100_000;
        let mut sizes = Vec::new();
        let mut ids = Vec::new();
        while let Some(batch) = ingest.next_batch().unwrap() {
            sizes.push(batch.records.len());
            ids.extend(batch.records.iter().map(|r| r.record_id.to_string()));
        }
        // the first: as many as the header's cells allow (2 cells a row, at least)
        assert_eq!(sizes[0], 100_000 / (2 * std::mem::size_of::<super::Cell>()));
        // a row: 2 cells and 216 + 5 bytes of text, about 290 bytes
        let (last, middle) = sizes[1..].split_last().unwrap();
        assert!(middle.len() >= 2 && middle.iter().all(|&n| (300..=400).contains(&n)) && *last <= 400, "{sizes:?}");
        assert_eq!(ids, (0..5_000).map(|i| format!("R{i}")).collect::<Vec<_>>());
    }

    /// A wide source's first batch holds as many rows as its header's cells allow.
    #[test]
    fn a_wide_source_s_first_batch_is_sized_by_its_header() {
        let tmp = tempfile::tempdir().unwrap();
        let header: Vec<String> = (0..300).map(|i| format!("q{i}")).collect();
        let mut csv = format!("record_id,text,{}\n", header.join(","));
        for i in 0..100 {
            csv.push_str(&format!("R{i},kind staff{}\n", ",".repeat(300)));
        }
        std::fs::write(tmp.path().join("wide.csv"), csv).unwrap();
        let settings = settings_in(tmp.path(), "[[source]]\npath = \"wide.csv\"\n");
        let mut ingest = super::Ingest::open(&settings).unwrap();
        ingest.reader.batch_bytes = 302 * std::mem::size_of::<super::Cell>() * 10;
        let first = ingest.next_batch().unwrap().unwrap();
        assert_eq!(first.records.len(), 10);
    }

    /// A row of several free-text columns gives a record for each: a batch holds at most
    /// `BATCH_ROWS` records, whatever the rows (found: 200 free-text questions made batches of a
    /// million records).
    #[test]
    fn a_batch_holds_at_most_batch_rows_records_however_many_texts_a_row_has() {
        let tmp = tempfile::tempdir().unwrap();
        let texts = 100;
        let columns: Vec<String> = (0..texts).map(|i| format!("c{i}")).collect();
        let mut csv = format!("record_id,{}\n", columns.join(","));
        for i in 0..1_000 {
            csv.push_str(&format!("R{i}{}\n", ",kind staff".repeat(texts)));
        }
        std::fs::write(tmp.path().join("survey.csv"), csv).unwrap();
        let mut pipeline = "[[source]]\npath = \"survey.csv\"\n".to_owned();
        for c in &columns {
            pipeline.push_str(&format!("[[source.text]]\ncolumn = \"{c}\"\nquestion = \"nonspecific\"\n"));
        }
        let settings = settings_in(tmp.path(), &pipeline);
        let mut ingest = super::Ingest::open(&settings).unwrap();
        let mut sizes = Vec::new();
        while let Some(batch) = ingest.next_batch().unwrap() {
            sizes.push(batch.records.len());
        }
        assert_eq!(sizes.iter().sum::<usize>(), 100_000);
        assert!(sizes.iter().all(|&n| n <= super::BATCH_ROWS), "{sizes:?}");
        assert_eq!(sizes[0], super::BATCH_ROWS / texts * texts, "{sizes:?}");
    }

    /// A source past the first few is closed once its header is read and opened again when its
    /// rows are: a file whose header changed in between stops the run (the columns were planned
    /// from the first header), one that did not is read as if it had stayed open.
    #[test]
    fn a_source_opened_again_must_have_the_header_it_had() {
        let tmp = tempfile::tempdir().unwrap();
        let n = super::OPEN_AT_ONCE + 2;
        let mut pipeline = String::new();
        for i in 0..n {
            std::fs::write(tmp.path().join(format!("{i}.csv")), format!("record_id,text\nR{i},kind staff\n")).unwrap();
            pipeline.push_str(&format!("[[source]]\npath = \"{i}.csv\"\n"));
        }
        let settings = settings_in(tmp.path(), &pipeline);
        let read_all = |ingest: &mut super::Ingest| -> Result<usize, super::IngestError> {
            let mut records = 0;
            while let Some(batch) = ingest.next_batch()? {
                records += batch.records.len();
            }
            Ok(records)
        };
        let mut ingest = super::Ingest::open(&settings).unwrap();
        assert!(matches!(ingest.reader.opened[n - 1], super::Slot::Closed(_)));
        assert_eq!(read_all(&mut ingest).unwrap(), n);
        let mut ingest = super::Ingest::open(&settings).unwrap();
        std::fs::write(tmp.path().join(format!("{}.csv", n - 1)), "text,record_id\nkind staff,R9\n").unwrap();
        let err = read_all(&mut ingest).unwrap_err();
        assert!(matches!(err, super::IngestError::Reopened { .. }), "{err}");
        assert!(err.to_string().contains(&format!("{}.csv", n - 1)), "{err}");
    }

    #[test]
    fn qualtrics_import_ids_are_a_header_line() {
        let line = |cells: &[&str]| super::import_id_line(cells.iter().map(|c| Some(*c)));
        assert!(line(&[
            "{\"ImportId\":\"startDate\",\"timeZone\":\"Europe/London\"}",
            "{\"ImportId\":\"QID1_TEXT\"}",
            ""
        ]));
        assert!(!line(&["R_1", "{\"ImportId\":\"QID1_TEXT\"}", "kind", "2025-03-01"]));
        assert!(!line(&["", ""]));
    }

    #[test]
    fn a_survey_tool_s_second_header_line_is_told_from_a_row_of_answers() {
        let line = |cells: &[&str]| second_header_line(cells.iter().map(|c| Some(*c)));
        assert!(line(&["", "", "", "Response", "Open-Ended Response"]));
        assert!(line(&["", "", "Response", "Response", "Yes", "No"]), "a question of several answers names each");
        assert!(line(&["", "", "open-ended response "]));
        // a respondent's row has its id; one answer "Response" is not the line
        assert!(!line(&["114226001", "", "Response", "Open-Ended Response"]));
        assert!(!line(&["", "", "Response", "Kind staff"]));
        assert!(!line(&[]));
    }
}
