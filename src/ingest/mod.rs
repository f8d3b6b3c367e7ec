//! Ingest: readers per format, column mapping to the canonical [`Record`], quarantine.
//!
//! Each reader ([`csv`], [`jsonl`], [`parquet`], [`xlsx`]) turns a file into a header and
//! [`RawRow`]s of [`Cell`]s; [`map`] turns raw rows into records, one per free-text cell, or
//! into a [`Quarantined`] row with a reason code. Nothing is dropped silently: per source,
//! `rows_read = rows_kept + rows_quarantined + rows_dropped`, and per free-text cell,
//! `text_cells = records + blank_text_cells + quarantined_text_cells`.

pub(crate) mod csv;
mod draft;
pub(crate) mod jsonl;
pub(crate) mod layout;
mod map;
/// A header or value as a key: lowercase, runs of other characters as one `_`.
pub(crate) use map::key as column_key;
pub(crate) mod parquet;
pub(crate) mod sniff;
pub(crate) mod stream;
pub(crate) mod xlsx;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::{Format, Settings, SourceSettings};
use crate::record::{Record, Str};

pub use map::{parse_rating, Mapper, ORG_MAX_CHARS};
pub use stream::{open_source, Batch, Ingest, Opened};

/// One value as a reader found it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing there.
    Empty,
    /// Text (also numbers as written in a CSV).
    Text(Str),
    /// A number from a typed format (JSON, Parquet, Excel).
    Number(f64),
    /// A date from a typed format (Parquet, Excel date cells).
    Date(NaiveDate),
    /// A date with a time of day from a typed format (a Parquet timestamp, an Excel date-time
    /// cell): its date where a date is wanted, carried whole (found: a carried visit time
    /// `2025-01-01 10:17:45` was published as `2025-01-01`).
    DateTime(chrono::NaiveDateTime),
    /// A true/false value from a typed format (JSON, Excel): read as `true`/`false` where a
    /// value is wanted, never as free text.
    Bool(bool),
    /// A value that is not a scalar (a JSON object or array), as JSON text: never a
    /// usable value; the mapper reports it as a `wrong_type` field issue.
    Structured(String),
    /// A spreadsheet's error value (`#N/A`, `#REF!`, `#VALUE!`…: a formula that failed), as
    /// Excel shows it: never a value; the mapper reports it as an `invalid_value` field issue.
    Error(Str),
}

/// `text` without the white space and invisible characters around it: zero-width spaces and
/// joiners, a word joiner, a byte-order mark, a soft hyphen. A comment of only those was kept
/// as a record (a comment of spaces is `empty_text`): found in the twenty-fourth session on
/// issue 9.
pub(crate) fn trim_blank(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || crate::text::invisible(c))
}

impl Cell {
    /// Empty, or text of white space (and invisible characters) only.
    #[must_use]
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => trim_blank(t).is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as a person would read it; `None` when empty.
    #[must_use]
    pub fn to_text(&self) -> Option<String> {
        match self {
            Cell::Empty => None,
            Cell::Text(s) => Some(s.to_string()),
            Cell::Number(n) => Some(format_number(*n)),
            Cell::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
            Cell::DateTime(t) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Structured(_) | Cell::Error(_) => None,
        }
    }

    /// The cell as written, for messages (a structured value as its JSON text).
    #[must_use]
    pub fn shown(&self) -> String {
        match self {
            Cell::Structured(json) => json.clone(),
            Cell::Error(e) => e.to_string(),
            other => other.to_text().unwrap_or_default(),
        }
    }

    /// The name of the cell's type, for messages.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Cell::Empty => "empty",
            Cell::Text(_) => "text",
            Cell::Number(_) => "a number",
            Cell::Date(_) => "a date",
            Cell::DateTime(_) => "a date and time",
            Cell::Bool(_) => "a true/false value",
            Cell::Structured(_) => "an object or array",
            Cell::Error(_) => "a spreadsheet's error value",
        }
    }
}

/// How many of a header's names a message shows.
const NAMES_SHOWN: usize = 30;

/// A header's names quoted for a message: the first [`NAMES_SHOWN`], then how many more (found:
/// a JSON export with ids as keys, 2,000 columns, gave a message of 50,000 characters).
pub(crate) fn header_list<S: AsRef<str>>(headers: &[S]) -> String {
    let mut list: Vec<String> = headers.iter().take(NAMES_SHOWN).map(|h| format!("{:?}", h.as_ref())).collect();
    if headers.len() > NAMES_SHOWN {
        list.push(format!("… and {} more ({} in all)", headers.len() - NAMES_SHOWN, headers.len()));
    }
    list.join(", ")
}

/// Formats a number without a spurious `.0`.
#[must_use]
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A row read from a file, before mapping.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Row number as a person sees it (header = row 1; JSONL: line number).
    pub row: u64,
    /// One cell per header column.
    pub cells: Vec<Cell>,
}

/// What a reader yields per row: a row, or a row it could not read at all.
#[derive(Debug)]
pub enum ReadItem {
    /// A readable row.
    Row(RawRow),
    /// A row that could not be read (bad bytes, wrong field count, bad JSON).
    Bad(Quarantined),
    /// A line that carries nothing (blank JSONL line); counted as dropped.
    Blank,
}

/// Bounded reason codes, shared by quarantined rows and field issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No free text after trimming.
    EmptyText,
    /// A date that does not parse with the configured format.
    InvalidDate,
    /// A field longer than `max_field_chars`.
    FieldTooLong,
    /// Bytes that are not valid in the declared encoding.
    UndecodableBytes,
    /// A required value (id, date) is empty.
    MissingRequired,
    /// A rating outside 1–6.
    InvalidRating,
    /// A question value no mapping knows.
    UnknownQuestion,
    /// A record id seen before in this run.
    DuplicateId,
    /// A row that cannot be parsed (wrong number of fields, a quote that never closes, bad JSON).
    MalformedRow,
    /// A date outside the plausible window (`date_window`).
    DateOutOfWindow,
    /// A value of the wrong type (an object or array; free text that is not a string).
    WrongType,
    /// An organisation value with control characters or over 200 characters.
    InvalidValue,
    /// A demographic value no mapping knows (its group is `unmapped`).
    UnmappedValue,
    /// Personal data found in a field other than the free text (replaced by its placeholder;
    /// an id is replaced by a hash of source, file and row).
    PersonalData,
    /// A CSV quote that closes only after lines that each read as a complete row.
    QuoteSpansRows,
}

impl Reason {
    /// The code written to the quarantine table.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::EmptyText => "empty_text",
            Reason::InvalidDate => "invalid_date",
            Reason::FieldTooLong => "field_too_long",
            Reason::UndecodableBytes => "undecodable_bytes",
            Reason::MissingRequired => "missing_required",
            Reason::InvalidRating => "invalid_rating",
            Reason::UnknownQuestion => "unknown_question",
            Reason::DuplicateId => "duplicate_id",
            Reason::MalformedRow => "malformed_row",
            Reason::DateOutOfWindow => "date_out_of_window",
            Reason::WrongType => "wrong_type",
            Reason::InvalidValue => "invalid_value",
            Reason::UnmappedValue => "unmapped_value",
            Reason::PersonalData => "personal_data",
            Reason::QuoteSpansRows => "quote_spans_rows",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row set aside, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// Source name.
    pub source: String,
    /// File the row came from.
    pub file: String,
    /// Row number.
    pub row: u64,
    /// Column at fault, when one is.
    pub column: Option<String>,
    /// Reason code.
    pub reason: Reason,
    /// Human message.
    pub message: String,
    /// Raw fields as `(header, value)`.
    pub raw: Vec<(String, String)>,
    /// Free-text cells this row would have yielded (for the cell-level reconcile).
    pub text_cells: u64,
}

/// A field that could not be used as written, in a record that was kept.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldIssue {
    /// Source name.
    pub source: String,
    /// File the row came from.
    pub file: String,
    /// Row number.
    pub row: u64,
    /// Column header.
    pub column: String,
    /// The field it feeds: a canonical field, a dimension, `text` or an `x_` column.
    pub field: String,
    /// Reason code.
    pub reason: Reason,
    /// What was done: `null`, `unmapped`, `blank`, `redacted`, `hashed_id`, `default_question`.
    pub action: &'static str,
    /// The value as read (redacted before it is written anywhere).
    pub value: String,
    /// Human message naming file, row and column (redacted before it is written anywhere).
    pub message: String,
    /// The response the row's records belong to.
    pub response_id: Option<String>,
}

/// Fatal ingest errors: the run stops, nothing is committed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file cannot be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid file of its format.
    #[error("{path}: not a readable {format} file: {message}")]
    Format {
        /// File.
        path: PathBuf,
        /// Format name.
        format: &'static str,
        /// What the reader said.
        message: String,
    },
    /// The input is not a regular file (a folder, a FIFO, a device): it is not opened.
    #[error("{path}: {kind}, not a regular file; only files are read")]
    NotAFile {
        /// Path.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// A file that changed between the two readings of a run over a state.
    #[error("{path}: changed while the run read it (its sha256 differs between the first reading and the second, for the new records); nothing was committed: run again once it is complete")]
    Changed {
        /// File.
        path: PathBuf,
    },
    /// A file whose header changed between the run reading every source's header and reading
    /// its rows.
    #[error("{path}: changed while the run read it (its header is not the one read when the run began); nothing was committed: run again once it is complete")]
    Reopened {
        /// File.
        path: PathBuf,
    },
    /// A file whose size or time of change differs at the end of its reading from its start.
    #[error("{path}: changed while the run read it (its size or time of change at the end of its reading is not the one at its start: rewritten, cut short or added to); nothing was committed: run again once it is complete")]
    ChangedWhileRead {
        /// File.
        path: PathBuf,
    },
    /// No column holds the free text: [`stream::open_source`] makes it a [`IngestError::Columns`]
    /// error with a draft pipeline guessed from the header and the first rows.
    #[error("{path}: {message}")]
    NoText {
        /// File.
        path: PathBuf,
        /// What is missing and what is there.
        message: String,
    },
    /// A configured or required column is absent.
    #[error("{path}: {message}")]
    Columns {
        /// File.
        path: PathBuf,
        /// What is missing and what is there.
        message: String,
    },
}

/// What one source contributed, for the manifest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceReport {
    /// Source name.
    pub name: String,
    /// File path as configured.
    pub path: String,
    /// Format.
    pub format: String,
    /// Export layout read (`canonical` or one of `unheard layouts`).
    pub layout: String,
    /// Encoding actually used (CSV).
    pub encoding: Option<String>,
    /// What the reader repaired or left out (fields decoded as Windows-1252, control
    /// characters removed, columns not read).
    #[serde(flatten)]
    pub reading: ReadNotes,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// File size.
    pub bytes: u64,
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// Rows that gave at least one record.
    pub rows_kept: u64,
    /// Rows sent to quarantine.
    pub rows_quarantined: u64,
    /// Rows dropped on purpose (blank JSONL lines).
    pub rows_dropped: u64,
    /// Free-text cells: rows read × text columns.
    pub text_cells: u64,
    /// Records made.
    pub records: u64,
    /// Blank free-text cells in kept rows (dropped on purpose).
    pub blank_text_cells: u64,
    /// Free-text cells of quarantined rows.
    pub quarantined_text_cells: u64,
    /// Rows of `field_issues` from this source (ingest's and the people stage's unmapped
    /// values; filled in by the pipeline once both are known).
    pub field_issues: u64,
    /// Column mapping used: canonical name → header.
    pub mapped_columns: Vec<(String, String)>,
    /// Columns carried through untouched into `records`.
    pub carried_columns: Vec<String>,
    /// Each carried column's name and the header it comes from (as written, redacted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub carried_from: Vec<(String, String)>,
    /// Columns not carried because their header names personal data about the respondent
    /// (`First Name`, `Email Address`, `Date of Birth`…), as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns_withheld: Vec<String>,
    /// Columns the source's `carry` (or `--carry`, `--no-carry`) leaves out of `records`, as
    /// written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns_not_carried: Vec<String>,
    /// What looks wrong with how the source was read, said once for the source (a column
    /// repeating a mapped column's name; many dates not in the date format).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Rows quarantined as `invalid_date`, and the first of them.
    #[serde(skip)]
    pub(crate) invalid_dates: (u64, Option<u64>),
    /// What those rows' dates read as, in the usual formats.
    #[serde(skip)]
    pub(crate) date_guess: map::DateGuess,
    /// Rows quarantined as `duplicate_id`, and the first of them.
    #[serde(skip)]
    pub(crate) duplicate_ids: (u64, Option<u64>),
    /// Rows whose record or response id is a long number as Excel writes it back
    /// (`1.23457E+11`), and the first of them.
    #[serde(skip)]
    pub(crate) scientific_ids: (u64, Option<u64>),
    /// Of those, the rows whose id is a record's the state keeps from a file the run does not
    /// read.
    #[serde(skip)]
    pub(crate) duplicate_ids_of_the_state: u64,
    /// The date format read with (the source's, or its layout's).
    #[serde(skip)]
    pub(crate) date_format: String,
    /// How the dates read in a date format list of both orders (`%d/%m/%Y|%m/%d/%Y`).
    #[serde(skip)]
    pub(crate) date_orders: DateOrders,
    /// The question values given to the source (`question_values`, `--question`), as written.
    #[serde(skip)]
    pub(crate) question_values_given: Vec<String>,
    /// Those that no column and no row's question of the source met (written redacted, as typed
    /// values are).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "crate::text::redact::scrubbed_seq")]
    pub question_values_unmatched: Vec<String>,
}

/// The question values given (`--question`, a source's `question_values`) that no source
/// given them met — no column and no row's question was the value — each with the source it is
/// said under (the first given it). A typo in `--question question_1=could_improve` left every
/// such record `nonspecific` with nothing said (found trying it).
#[must_use]
pub(crate) fn unmatched_question_values(sources: &[SourceReport]) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut said: Vec<&str> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        for k in &s.question_values_unmatched {
            let given: Vec<&SourceReport> =
                sources.iter().filter(|o| o.question_values_given.iter().any(|g| g == k)).collect();
            let met = given.iter().any(|o| !o.question_values_unmatched.contains(k));
            if met || said.contains(&k.as_str()) || given.iter().all(|o| o.rows_read == 0) {
                continue;
            }
            said.push(k);
            let files: Vec<&str> = given.iter().map(|o| o.path.as_str()).collect();
            out.push((
                i,
                format!(
                    "question value {k:?} (--question or question_values) matched nothing: no column and no row's question in {} is {k:?}, so no record was read as its question (a typo? the quarantine's unknown_question rows and the records' `question` show the values read)",
                    files.join(", ")
                ),
            ));
        }
    }
    out
}

/// The dates of a source whose date format names the day and the month before the year
/// ([`map::DayMonth`]): each kind counted with its first (row, date), and, for a list of both
/// orders (`%d/%m/%Y|%m/%d/%Y`, the labelled FFT export's), the order chosen for the dates
/// that read either way — that of the first date that reads only one way. Found: the labelled export written month first (as Excel writes in a US locale) had its
/// 1,968 dates that read either way read day first, 1,719 records misdated by months, silently;
/// and the real export itself holds 220 month-first dates among 4,190 day-first ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct DateOrders {
    /// Dates that read only day first.
    pub(crate) day: (u64, Option<(u64, String)>),
    /// Dates that read only month first.
    pub(crate) month: (u64, Option<(u64, String)>),
    /// Dates that read either way, as two dates.
    pub(crate) either: (u64, Option<(u64, String)>),
    /// The order chosen (month first?) and the row of the date that chose it.
    pub(crate) chosen: Option<(bool, u64)>,
    /// Whether the list gives month first.
    pub(crate) listed_month_first: bool,
    /// Whether the list holds both orders (else dates of the other are not read).
    pub(crate) both: bool,
    /// Dates that read either way mapped before the order was chosen (read as the list gives).
    pub(crate) either_before: u64,
}

impl DateOrders {
    /// Counts one date of `row`.
    pub(crate) fn count(&mut self, order: map::Order, row: u64, value: &str) {
        let kind = match order {
            map::Order::DayFirst => &mut self.day,
            map::Order::MonthFirst => &mut self.month,
            map::Order::Either => &mut self.either,
            map::Order::Neither => return,
        };
        kind.0 += 1;
        kind.1.get_or_insert_with(|| (row, value.to_owned()));
        if self.chosen.is_none() && order != map::Order::Either {
            self.chosen = Some((order == map::Order::MonthFirst, row));
        }
    }

    /// The warning of dates written both ways, or of dates read either way before the order
    /// was chosen against the list's.
    fn warning(&self, path: &str) -> Option<String> {
        let first = |k: &(u64, Option<(u64, String)>)| {
            k.1.as_ref().map_or_else(String::new, |(row, v)| format!("the first, {v:?}, at row {row}"))
        };
        let way = |month: bool| if month { "month" } else { "day" };
        if !self.both {
            // the other order is not read: its dates were quarantined, and those that read
            // either way kept in the list's order
            let listed = self.listed_month_first;
            let other = if listed { &self.day } else { &self.month };
            return (other.0 > 0 && self.either.0 > 0).then(|| {
                format!(
                    "{path}: {} date{} read only {} first ({}), which the date format does not read; the {} that read \
                     either way ({}) were kept, read {} first as the date format gives: if the export writes {} first \
                     they are wrong by months (give the order with date_format or --date-format)",
                    other.0,
                    if other.0 == 1 { "" } else { "s" },
                    way(!listed),
                    first(other),
                    self.either.0,
                    first(&self.either),
                    way(listed),
                    way(!listed)
                )
            });
        }
        let (month_first, at) = self.chosen?;
        if self.day.0 > 0 && self.month.0 > 0 {
            let either = if self.either.0 > 0 {
                format!(
                    "; the {} that read either way ({}) were read {} first, as the first date that reads only one way \
                     (row {at}): those written the other way are wrong by months",
                    self.either.0,
                    first(&self.either),
                    way(month_first)
                )
            } else {
                String::new()
            };
            return Some(format!(
                "{path}: its dates are written both day first ({} row{}, {}) and month first ({}, {}){either}; \
                 have the export write one order (yyyy-mm-dd reads alike everywhere), or read the rows of each \
                 order as their own source with its date_format",
                self.day.0,
                if self.day.0 == 1 { "" } else { "s" },
                first(&self.day),
                self.month.0,
                first(&self.month)
            ));
        }
        (self.either_before > 0 && month_first != self.listed_month_first).then(|| {
            format!(
                "{path}: {} dates that read either way before row {at} were read {} first, as the date format lists \
                 it; from row {at}, whose date reads only {} first, they were read {} first: the first ones may be \
                 wrong by months (give the order with date_format or --date-format)",
                self.either_before,
                way(self.listed_month_first),
                way(month_first),
                way(month_first)
            )
        })
    }
}

impl SourceReport {
    /// The warning of a source whose dates were read with a list of both orders and were
    /// written both ways ([`DateOrders`]).
    pub(crate) fn date_order_warning(&mut self) {
        if let Some(w) = self.date_orders.warning(&self.path) {
            self.warnings.push(w);
        }
    }

    /// The warning of a source whose dates, in 1 row in 20 or more (and three rows or most of
    /// them: a stray bad date is its row's quarantine, not a format), do not match its format
    /// (an export in `dd/mm/yyyy` or Excel serials read with the default ISO format).
    pub(crate) fn date_warning(&mut self) {
        let (n, first) = self.invalid_dates;
        if !self.widespread(n) {
            return;
        }
        self.warnings.push(format!(
            "{}: {n} of {} rows quarantined because their date does not match the date format {:?} \
             (the first at row {}); give the format with date_format in its [[source]] or --date-format \
             (e.g. \"%d/%m/%Y\", \"excel\", several joined by |), or keep such rows with received_date = \"null\" under [source.on_invalid]{}",
            self.path,
            self.rows_read,
            self.date_format,
            first.unwrap_or(0),
            self.date_guess.said().map_or_else(String::new, |s| format!("; of their dates, {s}"))
        ));
    }

    /// Whether `n` of the source's rows is a pattern, not a stray row: 1 row in 20 or more, and
    /// three rows or most of them.
    fn widespread(&self, n: u64) -> bool {
        n * 20 >= self.rows_read && (n >= 3 || n * 2 > self.rows_read)
    }

    /// The warning of a source many of whose rows repeat ids already read: the same rows read
    /// twice, or ids numbered afresh in each export (found trying two monthly files whose ids
    /// both start at 1: half the rows were quarantined with only a count to say so).
    pub(crate) fn duplicate_warning(&mut self) {
        if let (n @ 1.., Some(first)) = self.scientific_ids {
            // (the duplicates it makes are said by this, not by --ids-per-file's advice)
            self.warnings.push(format!(
                "{}: {n} {} a record or response id written in scientific notation (the first at row {first}), \
                 as Excel shows a long number and writes it back when it saves a CSV: its last digits are lost, so \
                 records of different people share an id ({} rows quarantined as duplicate_id; responses merged \
                 into one person's); export the file again without saving it from Excel, or format the id columns \
                 as text first",
                self.path,
                if n == 1 { "row has" } else { "rows have" },
                self.duplicate_ids.0
            ));
            return;
        }
        let (n, first) = self.duplicate_ids;
        if !self.widespread(n) {
            return;
        }
        if self.duplicate_ids_of_the_state * 2 > n {
            self.warnings.push(format!(
                "{}: {n} of {} rows quarantined because their record ids were read before (the first at row {}), \
                 {} of them ids of records the state keeps from files this run does not read, as a run over \
                 those files and this one would quarantine them: if each export holds every record to date, \
                 read them under one source name each night (a [[source]] name in a pipeline: --input names a \
                 source after its file), so that a record read again is the same record; if ids are numbered \
                 afresh in each export, read them with --ids-per-file (quarantine.parquet names the rows)",
                self.path,
                self.rows_read,
                first.unwrap_or(0),
                self.duplicate_ids_of_the_state
            ));
            return;
        }
        self.warnings.push(format!(
            "{}: {n} of {} rows quarantined because their record ids were read before (the first at row {}): \
             the same rows read twice (a file given twice, exports that overlap), or ids unique only within \
             each export (numbered afresh from 1), which unheard cannot tell apart: for the second, read \
             the files with --ids-per-file (or ids_per_file = true in their [[source]]), which writes \
             their ids as <source>:<id> (quarantine.parquet names the rows)",
            self.path,
            self.rows_read,
            first.unwrap_or(0)
        ));
    }
}

/// Everything ingest produced.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Records, in source order then row order.
    pub records: Vec<Record>,
    /// Quarantined rows, in source order then row order.
    pub quarantine: Vec<Quarantined>,
    /// Per-source counts.
    pub sources: Vec<SourceReport>,
    /// Names of carried-through columns (aligned with `Record::extra`).
    pub extra_columns: Vec<String>,
    /// Fields that could not be used in kept rows, in source order then row order.
    pub field_issues: Vec<FieldIssue>,
    /// Per source, per run dimension: the column header it was read from.
    pub dimension_columns: Vec<Vec<Option<String>>>,
}

/// The file's header and rows.
pub struct Table {
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows (and unreadable rows).
    pub items: Vec<ReadItem>,
    /// Encoding used, for CSV.
    pub encoding: Option<&'static str>,
    /// What the reader repaired or left out.
    pub notes: ReadNotes,
    /// Column types as the file declares them (Parquet), aligned with `headers`.
    pub types: Option<Vec<arrow::datatypes::DataType>>,
}

/// Largest row (CSV line, JSONL line) a reader holds: a longer one is quarantined as
/// `field_too_long` without being decoded, so one enormous line cannot exhaust memory.
pub const MAX_ROW_BYTES: usize = 4 << 20;

/// Rows listed per note in the manifest.
const NOTE_ROWS: usize = 10;

/// What a reader repaired or left out, per source (in the manifest's `inputs`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadNotes {
    /// CSV fields that were not UTF-8 and were decoded as Windows-1252 (`encoding = "auto"`).
    pub fields_decoded_windows_1252: u64,
    /// The first rows holding such fields.
    pub windows_1252_rows: Vec<u64>,
    /// Fields from which control characters (NUL, escape…; not tab or line ends) were removed.
    pub fields_control_chars_removed: u64,
    /// The first rows holding such fields.
    pub control_chars_rows: Vec<u64>,
    /// Columns not read, with their type (nested Parquet columns no setting names).
    pub columns_not_read: Vec<String>,
    /// Objects nested in a JSON export's records with more members than a record has fields
    /// (ids or dates as keys): each one column of its JSON text, not a column per member.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects_kept_whole: Vec<String>,
    /// The CSV delimiter found in the header, when no setting gave one and the header held
    /// none of the default's (`;`, `tab`, `|` or `,`), or on Excel's `sep=` line above it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter_detected: Option<String>,
    /// A workbook's other sheets that hold a table (two rows and two columns or more), with
    /// their rows: not read (`sheet` names the one to read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sheets_not_read: Vec<String>,
    /// Rows that were the header again, cell for cell (exports joined into one file): passed
    /// over and counted among the rows dropped.
    #[serde(skip_serializing_if = "is_zero")]
    pub repeated_headers: u64,
    /// The first of those rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repeated_header_rows: Vec<u64>,
    /// The first rows under the header (or under a header met again) that were a survey tool's
    /// further header lines (SurveyMonkey's `Response`, `Open-Ended Response`; Qualtrics'
    /// question wordings and import ids): passed over, counted among the rows dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub survey_header_rows: Vec<u64>,
    /// CSV rows with empty fields past the header's last (a delimiter ending every line): read
    /// without them.
    #[serde(skip_serializing_if = "is_zero")]
    pub trailing_empty_fields: u64,
    /// The first of those rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trailing_empty_fields_rows: Vec<u64>,
    /// CSV rows whose free text, the last column, held the delimiter unquoted: put back
    /// together.
    #[serde(skip_serializing_if = "is_zero")]
    pub text_delimiters_unquoted: u64,
    /// The first of those rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub text_delimiters_unquoted_rows: Vec<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Every row a streaming reader gives, at once (the whole-file `read` of each format, for
/// tests and small files): `next` is the reader's `next_items`.
pub(crate) fn all_items(
    mut next: impl FnMut(usize) -> Result<Vec<ReadItem>, IngestError>,
) -> Result<Vec<ReadItem>, IngestError> {
    let mut items = Vec::new();
    loop {
        let batch = next(usize::MAX)?;
        if batch.is_empty() {
            return Ok(items);
        }
        items.extend(batch);
    }
}

/// Lists `row` among the first rows of a note.
pub(crate) fn note_row(rows: &mut Vec<u64>, row: u64) {
    if rows.len() < NOTE_ROWS && rows.last() != Some(&row) {
        rows.push(row);
    }
}

/// Whether `c` is removed: a control character (in text, tab and line ends are kept).
fn removed(c: char, text: bool) -> bool {
    c.is_control() && !(text && matches!(c, '\t' | '\n' | '\r'))
}

/// `s` without control characters (tab and line ends kept when `text`), or `None` when it has
/// none.
#[must_use]
pub fn strip_controls(s: &str, text: bool) -> Option<String> {
    if !may_hold_controls(s.as_bytes()) {
        return None;
    }
    s.chars().any(|c| removed(c, text)).then(|| s.chars().filter(|&c| !removed(c, text)).collect())
}

/// Whether UTF-8 or Windows-1252 `bytes` may hold a control character: C0 controls and DEL are
/// single bytes, C1 controls start with 0xC2 in UTF-8 (the five bytes Windows-1252 leaves
/// undefined, which would decode to C1 controls, are refused by the CSV reader).
pub(crate) fn may_hold_controls(bytes: &[u8]) -> bool {
    // every byte looked at (no early exit), which the compiler does sixteen at a time: most
    // rows hold none
    bytes.iter().fold(false, |any, &b| any | (b < 0x20) | (b == 0x7F) | (b == 0xC2))
}

/// Removes control characters from the cells of `row` in `columns` (all when `None`), counting
/// the fields in `notes`.
pub(crate) fn clean_row(notes: &mut ReadNotes, row: &mut RawRow, columns: Option<&[usize]>, text: bool) {
    for (i, cell) in row.cells.iter_mut().enumerate() {
        if columns.is_some_and(|c| !c.contains(&i)) {
            continue;
        }
        let Cell::Text(s) = cell else { continue };
        let Some(c) = strip_controls(s, text) else { continue };
        notes.fields_control_chars_removed += 1;
        note_row(&mut notes.control_chars_rows, row.row);
        *cell = if c.is_empty() { Cell::Empty } else { Cell::Text(Str::from(c)) };
    }
}

/// Removes control characters from every header and cell of a table (tab and line ends kept).
fn clean(table: &mut Table) {
    for h in &mut table.headers {
        if let Some(c) = strip_controls(h, false) {
            *h = c;
        }
    }
    for item in &mut table.items {
        clean_item(&mut table.notes, item);
    }
}

/// Removes control characters from a row's cells, or from a bad row's raw fields (tab and line
/// ends kept), counting the cells in `notes`.
pub(crate) fn clean_item(notes: &mut ReadNotes, item: &mut ReadItem) {
    match item {
        ReadItem::Row(row) => clean_row(notes, row, None, true),
        ReadItem::Bad(q) => {
            for (_, v) in &mut q.raw {
                if let Some(c) = strip_controls(v, true) {
                    *v = c;
                }
            }
        }
        ReadItem::Blank => {}
    }
}

/// The bytes of an input file. Only regular files are read: a folder, FIFO, socket or device
/// is refused before it is opened (a FIFO would block, `/dev/zero` would never end).
///
/// # Errors
/// Not a regular file, or it cannot be read.
pub fn read_input(path: &Path) -> Result<Vec<u8>, IngestError> {
    if let Some(kind) = crate::files::not_a_file(path) {
        return Err(IngestError::NotAFile { path: path.to_path_buf(), kind });
    }
    let io = |e| IngestError::Io { path: path.to_path_buf(), source: e };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_INPUT_BYTES {
        return Err(too_big(path, "is"));
    }
    std::fs::read(path).map_err(io)
}

/// The most a workbook (or a gzipped Parquet file, after gunzip) may hold: those are read
/// whole, so a larger file — or a gzip bomb — is refused at once rather than read until memory
/// runs out. CSV and JSONL (gzipped or not) and Parquet stream, whatever their size.
pub const MAX_INPUT_BYTES: u64 = 4 << 30;

fn too_big(path: &Path, what: &str) -> IngestError {
    IngestError::Format {
        path: path.to_path_buf(),
        format: "input",
        message: format!(
            "{what} over {} GiB, the most a file read whole (a workbook, a gzipped Parquet file) may hold: split it, or save it as CSV or Parquet, which stream",
            MAX_INPUT_BYTES >> 30
        ),
    }
}

/// Reads every source of the run at once (commands that look at every record, and tests; a
/// run streams with [`Ingest`]).
///
/// # Errors
/// A source that cannot be read at all, or lacks a configured column.
pub fn ingest(settings: &Settings) -> Result<Ingested, IngestError> {
    let mut stream = Ingest::open(settings)?;
    let mut out = Ingested::default();
    while let Some(batch) = stream.next_batch()? {
        out.records.extend(batch.records);
        out.quarantine.extend(batch.quarantine);
        out.field_issues.extend(batch.field_issues);
    }
    out.sources = stream.mapping.sources;
    out.extra_columns = stream.mapping.extra_columns;
    out.dimension_columns = stream.mapping.dimension_columns;
    Ok(out)
}

/// The first bytes of a gzip stream.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The file's content, gunzipped when its name ends in `.gz` or it starts as gzip does.
///
/// # Errors
/// A `.gz` file that is not valid gzip.
pub fn decompress<'a>(path: &Path, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, IngestError> {
    decompress_at_most(path, bytes, MAX_INPUT_BYTES)
}

fn decompress_at_most<'a>(path: &Path, bytes: &'a [u8], limit: u64) -> Result<std::borrow::Cow<'a, [u8]>, IngestError> {
    if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) && !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(usize::try_from(limit).unwrap_or(usize::MAX)));
    let decoder = std::io::Read::take(flate2::read::MultiGzDecoder::new(bytes), limit.saturating_add(1));
    std::io::Read::read_to_end(&mut { decoder }, &mut out).map_err(|e| IngestError::Format {
        path: path.to_path_buf(),
        format: "gzip",
        message: e.to_string(),
    })?;
    if out.len() as u64 > limit {
        return Err(too_big(path, "unzipped, it is"));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Reads one source file into a table.
///
/// # Errors
/// The file is not of its declared format.
pub fn read_table(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let mut table = match source.format {
        Format::Csv => csv::read(source, bytes),
        Format::Jsonl => jsonl::read(source, bytes),
        Format::Parquet => guarded(source, "Parquet", || parquet::read(source, bytes)),
        Format::Xlsx => guarded(source, "XLSX", || xlsx::read(source, bytes)),
    }?;
    clean(&mut table);
    Ok(table)
}

/// Runs a reader of a binary format whose parser is not ours: a panic inside it on a damaged
/// file becomes a format error naming the file, not a crash.
pub(crate) fn guarded<T>(
    source: &SourceSettings,
    format: &'static str,
    read: impl FnOnce() -> Result<T, IngestError>,
) -> Result<T, IngestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the reader failed");
        Err(IngestError::Format { path: source.path.clone(), format, message: format!("damaged file ({message})") })
    })
}

/// The file name to show in messages and outputs (as configured, its personal data redacted).
pub(crate) fn shown(path: &Path) -> String {
    crate::text::redact::scrubbed(&path.display().to_string())
}

/// A small CSV (a label map, a lookup) as a spreadsheet may save it: a byte-order mark, and `;` or tabs
/// where the locale's decimal comma takes `,` (the delimiter is found from the header line; with
/// `comments`, lines starting with `#` are passed over). Found: such files were "row 2: expected
/// record_id,label", "expected theme_code,label" and an IMD lookup's "column \"key\" is missing".
pub(crate) fn small_csv(bytes: &[u8], comments: bool) -> ::csv::Reader<&[u8]> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header = text.split(|&b| b == b'\n').find(|l| !(comments && l.starts_with(b"#"))).unwrap_or_default();
    let delimiter = [b',', b';', b'\t'].into_iter().find(|d| header.contains(d)).unwrap_or(b',');
    ::csv::ReaderBuilder::new().delimiter(delimiter).comment(comments.then_some(b'#')).from_reader(text)
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn a_gzip_that_unzips_past_the_limit_is_refused() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut e, &vec![b'a'; 1 << 20]).unwrap();
        let gz = e.finish().unwrap();
        assert!(gz.len() < 10_000, "a small bomb: {} bytes", gz.len());
        let path = Path::new("bomb.csv.gz");
        let err = decompress_at_most(path, &gz, 1 << 16).unwrap_err();
        assert!(err.to_string().contains("unzipped, it is over"), "{err}");
        assert_eq!(decompress_at_most(path, &gz, 1 << 20).unwrap().len(), 1 << 20, "exactly the limit is read");
    }
}
