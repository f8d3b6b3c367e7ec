//! Maps raw rows to canonical records: one shared mechanism for every format.
//!
//! [`Mapper::map_row`] runs one step per part of the row (cells, date, rating, texts, question,
//! ids, organisation, demographics, carried columns, records); a step's error is the row,
//! quarantined.
#![allow(clippy::result_large_err, reason = "the error is the quarantined row itself, made once per bad row")]

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::{shown, Cell, FieldIssue, IngestError, Quarantined, RawRow, Reason};
use crate::config::{DateWindow, OnInvalid, Settings, SourceSettings};
use crate::record::{Question, Record, RowRef, Str, CANONICAL_FIELDS};
use crate::text::redact::Redactor;

/// Longest organisation value kept (longer ones are a field issue, `invalid_value`).
pub const ORG_MAX_CHARS: usize = 200;

/// Longest value quoted in a field issue (longer ones are cut, with `…`).
const ISSUE_VALUE_CHARS: usize = 500;

/// What a column feeds, for the checks every cell goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Not used.
    Unused,
    /// A free-text column.
    Text,
    /// The record or response id: a row whose id cannot be used is quarantined.
    Id,
    /// A field with an `on_invalid` choice: checked where it is parsed.
    Chosen,
    /// Any other field (demographics, IMD, carried columns): a bad value costs the field.
    Optional,
}

/// A spreadsheet's error values, as Excel writes them into a CSV it saves (`#N/A`, a lookup's
/// "no value", is a value left out: see [`is_null_marker`]).
const EXCEL_ERRORS: [&str; 8] = ["#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"];

/// The largest whole number a double holds with every smaller one (2^53).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// The column plan for one source, built once from its header.
#[derive(Debug)]
pub struct Mapper {
    source: std::sync::Arc<str>,
    file: String,
    index: u32,
    /// The headers as they may be written (personal data redacted).
    headers: Vec<String>,
    max_chars: usize,
    date_format: String,
    /// ids unique only within the source: written `<source>:<id>`
    ids_per_file: bool,
    /// canonical field → column index
    fields: BTreeMap<&'static str, usize>,
    /// the columns of the fields every row reads, looked up once
    cols: Columns,
    /// free-text columns with their question; `None` = per-row question column / default
    texts: Vec<(usize, Option<Question>)>,
    /// per free-text column, what makes its record id distinct within the row
    text_parts: Vec<String>,
    default_question: Question,
    /// question value → its question, and its place in `given` when the pipeline or
    /// `--question` gave it (a layout's own values have none)
    question_values: BTreeMap<String, (Question, Option<usize>)>,
    /// the question values given (`question_values`, `--question`), each set once a column or
    /// a row's question is it: one never met is a warning (a typo leaves its rows nonspecific)
    /// (key, as written, met)
    given: Vec<(String, String, std::sync::atomic::AtomicBool)>,
    /// one entry per run dimension
    dims: Vec<Option<usize>>,
    /// carried-through column indices
    carried: Vec<usize>,
    /// their names in `records` (`x_<header>`, made unique within the source)
    carried_names: Vec<String>,
    /// Each carried column's name and the header it comes from (as written).
    carried_from: Vec<(String, String)>,
    /// Columns not carried because the source's `carry` leaves them out.
    not_carried: Vec<usize>,
    /// Columns not carried because their header names personal data (`First Name`, `Email
    /// Address`, `Date of Birth`: [`crate::text::redact::personal_column`]); their values are
    /// withheld from the quarantine's raw rows too.
    withheld: Vec<usize>,
    /// index of the imd_quintile dimension
    imd_dim: Option<usize>,
    /// the export layout read (see [`super::layout`])
    layout: &'static str,
    /// Said once for the source: a carried column named as a column read.
    warnings: Vec<String>,
    /// per column: what it feeds, and the field's name (for field issues)
    roles: Vec<(Role, String)>,
    window: DateWindow,
    on_invalid: BTreeMap<String, OnInvalid>,
    redactor: &'static Redactor,
}

/// The column of each canonical field a row is read for (`None`: not in the source).
#[derive(Debug)]
struct Columns {
    received_date: Option<usize>,
    rating: Option<usize>,
    question: Option<usize>,
    record_id: Option<usize>,
    response_id: Option<usize>,
    org: [Option<usize>; 3],
    imd_decile: Option<usize>,
    imd_key: Option<usize>,
}

impl Columns {
    fn of(fields: &BTreeMap<&'static str, usize>) -> Columns {
        let col = |name: &str| fields.get(name).copied();
        Columns {
            received_date: col("received_date"),
            rating: col("rating"),
            question: col("question"),
            record_id: col("record_id"),
            response_id: col("response_id"),
            org: [col("org_level_1"), col("org_level_2"), col("org_level_3")],
            imd_decile: col("imd_decile"),
            imd_key: col("imd_key"),
        }
    }
}

/// What a row gives per text column: held inline for a row of one or two texts (no allocation).
pub(crate) type Texts<T> = smallvec::SmallVec<[T; 2]>;

/// A row mapped to records.
#[derive(Debug)]
pub struct Mapped {
    /// The records (one per non-blank text cell; most rows hold one, kept inline).
    pub records: Texts<Record>,
    /// Blank text cells (dropped on purpose).
    pub blank_cells: u64,
    /// Fields that could not be used (the records are kept).
    pub issues: Vec<FieldIssue>,
}

/// A header or value as a key: lowercase, runs of other characters as one `_`.
pub(crate) fn key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_us = true;
    for c in s.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            last_us = false;
        } else if !last_us {
            out.push('_');
            last_us = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

impl Mapper {
    /// Plans the mapping of `headers` for `source`.
    ///
    /// # Errors
    /// A configured column is not in the header, or the source has no free-text column.
    pub fn new(
        settings: &Settings,
        source: &SourceSettings,
        index: usize,
        headers: &[String],
    ) -> Result<Mapper, IngestError> {
        let given: Vec<(String, String, std::sync::atomic::AtomicBool)> = source
            .question_values
            .keys()
            .map(|k| {
                // a value that names a column (the upload template's `question_1`) is met there
                let column = headers.iter().any(|h| key(h) == key(k));
                (key(k), k.clone(), std::sync::atomic::AtomicBool::new(column))
            })
            .collect();
        let (source, layout) = super::layout::apply(source, headers)?;
        let source = source.as_ref();
        let file = shown(&source.path);
        let find = |name: &str| -> Option<usize> {
            headers.iter().position(|h| h == name).or_else(|| {
                let k = key(name);
                headers.iter().position(|h| key(h) == k)
            })
        };
        let missing = |what: &str, col: &str| IngestError::Columns {
            path: source.path.clone(),
            message: format!(
                "column {col:?} ({what}) is not in the header; the header has: {}",
                super::header_list(headers)
            ),
        };
        let mut used = vec![false; headers.len()];
        let resolve = |name: &str, used: &mut Vec<bool>| -> Result<Option<usize>, IngestError> {
            match source.columns.get(name) {
                Some(col) => {
                    let i = find(col).ok_or_else(|| missing(&format!("mapped to {name}"), col))?;
                    used[i] = true;
                    Ok(Some(i))
                }
                None => {
                    // canonical headers are recognised without any mapping
                    let i = headers.iter().position(|h| key(h) == name);
                    if let Some(i) = i {
                        used[i] = true;
                    }
                    Ok(i)
                }
            }
        };
        let mut fields = BTreeMap::new();
        for f in CANONICAL_FIELDS {
            if f == "text" && !source.texts.is_empty() {
                continue;
            }
            if let Some(i) = resolve(f, &mut used)? {
                fields.insert(f, i);
            }
        }
        let mut dims = Vec::with_capacity(settings.dimensions.len());
        for d in &settings.dimensions {
            dims.push(resolve(d, &mut used)?);
        }
        let texts = if source.texts.is_empty() {
            match fields.get("text") {
                Some(&i) => vec![(i, None)],
                None => {
                    return Err(IngestError::NoText {
                        path: source.path.clone(),
                        message: format!(
                            "no free-text column: name one with columns.text or [[source.text]] (the header has: {}; \
                             if the header is not on the first line, say where with header_row or --header-row)",
                            super::header_list(headers),
                        ),
                    })
                }
            }
        } else {
            let mut t = Vec::new();
            for (col, q) in &source.texts {
                let i = find(col).ok_or_else(|| missing(&format!("free text answering {q}"), col))?;
                used[i] = true;
                t.push((i, Some(*q)));
            }
            t
        };
        // every column not used is carried, a second column of a canonical name included
        // ("Ethnicity" beside "ethnicity" becomes x_ethnicity): nothing read is dropped
        // …but a column whose header names personal data about the respondent (a survey tool's
        // `First Name`, `IP Address`; a complaints export's `Date of Birth`): withheld and said
        let personal: Vec<Option<&str>> = headers.iter().map(|h| crate::text::redact::personal_column(h)).collect();
        let (withheld, carried): (Vec<usize>, Vec<usize>) =
            (0..headers.len()).filter(|&i| !used[i]).partition(|&i| personal[i].is_some());
        // …and of the others, those `carry` leaves out (a survey export of every question)
        let (carried, not_carried, unmet) = chosen(&source.carry, headers, carried);
        // headers are matched as written, and written (column names, quarantine, field issues,
        // the manifest) with their personal data redacted: a carried column headed by an NHS
        // number is `x_nhs_number`
        let written: Vec<String> = headers.iter().map(|h| crate::text::redact::scrubbed(h)).collect();
        let question_values = source
            .question_values
            .iter()
            .map(|(k, v)| (key(k), (*v, given.iter().position(|g| g.0 == key(k)))))
            .collect();
        // a layout's slot (`question_1`) takes a given value by the slot's name
        if layout != "canonical" {
            for (k, _, met) in &given {
                if k.starts_with("question_") {
                    met.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        let text_parts = texts
            .iter()
            .map(|&(i, q)| match q {
                Some(q) if texts.iter().filter(|t| t.1 == Some(q)).count() > 1 => format!("{q}:{}", key(&written[i])),
                Some(q) => q.as_str().to_owned(),
                None => String::new(),
            })
            .collect();
        let mut roles = vec![(Role::Unused, String::new()); headers.len()];
        for (f, &i) in &fields {
            let role = match *f {
                "record_id" | "response_id" => Role::Id,
                "text" => Role::Text,
                f if crate::config::ON_INVALID_FIELDS.contains(&f) => Role::Chosen,
                _ => Role::Optional,
            };
            roles[i] = (role, (*f).to_owned());
        }
        for (d, i) in dims.iter().enumerate() {
            if let Some(i) = *i {
                roles[i] = (Role::Optional, settings.dimensions[d].clone());
            }
        }
        for &(i, _) in &texts {
            roles[i] = (Role::Text, "text".to_owned());
        }
        // a carried column named as a column read (two "text" columns: the second carried,
        // its comments not coded) is said once for the source
        // (each header's key made once, the columns read found by it: a survey tool's export of
        // 2,000 questions took 1.5 s here, every carried column compared with every column)
        let keys: Vec<String> = headers.iter().map(|h| key(h)).collect();
        let mut read_as: HashMap<&str, usize> = HashMap::new();
        for j in (0..headers.len()).filter(|&j| used[j]) {
            read_as.entry(keys[j].as_str()).or_insert(j);
        }
        let warnings: Vec<String> = carried
            .iter()
            .filter_map(|&i| {
                let j = *read_as.get(keys[i].as_str())?;
                Some(format!(
                    "{file}: column {} {:?} has the name of column {}, which is read as {}; it is carried as it is, \
                     not read (name each column in the pipeline, e.g. [[source.text]] for two free-text columns)",
                    i + 1,
                    headers[i],
                    j + 1,
                    roles[j].1
                ))
            })
            .collect();
        let mut warnings = warnings;
        if !unmet.is_empty() {
            let said: Vec<String> = unmet.iter().map(|h| format!("{:?}", crate::text::redact::scrubbed(h))).collect();
            warnings.push(format!(
                "{file}: carry names {} that {} not among the columns this source carries (not in the header, \
                 read as a field, or withheld as personal data): {}",
                if said.len() == 1 { "a column".to_owned() } else { format!("{} columns", said.len()) },
                if said.len() == 1 { "is" } else { "are" },
                said.join(", ")
            ));
        }
        // columns the pipeline says it knows of are withheld unsaid (a nightly export's `Patient
        // name` warned every night); a new one is said
        let unsaid: Vec<usize> =
            withheld.iter().copied().filter(|&i| !source.withheld.iter().any(|w| key(w) == key(&headers[i]))).collect();
        if !unsaid.is_empty() {
            let withheld = &unsaid;
            let said: Vec<String> = withheld
                .iter()
                .map(|&i| format!("{:?} ({})", written[i], personal[i].unwrap_or("personal data")))
                .collect();
            let (one, their) = (withheld.len() == 1, if withheld.len() == 1 { "its" } else { "their" });
            warnings.push(format!(
                "{file}: {} personal data about the respondent by {their} header and {} not carried into records: {} \
                 (the quarantine's raw rows show {WITHHELD} for {their} values); to read one as a field, name it in \
                 [source.columns]; to withhold {} unsaid, list {} in the source's withheld = [...]",
                if one { "a column names".to_owned() } else { format!("{} columns name", withheld.len()) },
                if one { "is" } else { "are" },
                said.join(", "),
                if one { "it" } else { "them" },
                if one { "it" } else { "them" },
            ));
        }
        let carried_names = carried_names(&written, &carried);
        for (&i, name) in carried.iter().zip(&carried_names) {
            roles[i] = (Role::Optional, name.clone());
        }
        let carried_from: Vec<(String, String)> =
            carried.iter().zip(&carried_names).map(|(&i, name)| (name.clone(), written[i].clone())).collect();
        Ok(Mapper {
            text_parts,
            roles,
            window: source.date_window.unwrap_or(settings.date_window),
            on_invalid: source.on_invalid.clone(),
            redactor: Redactor::shared(),
            imd_dim: settings.dimensions.iter().position(|d| d == "imd_quintile"),
            source: std::sync::Arc::from(source.name.as_str()),
            file,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            headers: written,
            max_chars: settings.max_field_chars,
            date_format: source.date_format.0.clone(),
            ids_per_file: source.ids_per_file,
            cols: Columns::of(&fields),
            fields,
            texts,
            default_question: source.default_question.unwrap_or(Question::Nonspecific),
            question_values,
            given,
            dims,
            carried,
            carried_names,
            carried_from,
            not_carried,
            withheld,
            layout,
            warnings,
        })
    }

    /// The date format the source is read with.
    #[must_use]
    pub fn date_format(&self) -> &str {
        &self.date_format
    }

    /// The day-first and month-first forms of the source's date format ([`DayMonth`]).
    #[must_use]
    pub(crate) fn day_and_month_first(&self) -> Option<DayMonth> {
        day_and_month_first(&self.date_format)
    }

    /// The received date of a row as written, when it is text.
    pub(crate) fn date_text<'r>(&self, row: &'r RawRow) -> Option<&'r str> {
        match row.cells.get(self.cols.received_date?)? {
            Cell::Text(s) => Some(s.trim()),
            _ => None,
        }
    }

    /// Reads dates that read either way month first (`month_first`) or day first from now on:
    /// the chosen format goes before the other in the list, which still reads the other order.
    pub(crate) fn read_first(&mut self, month_first: bool) {
        reorder(&mut self.date_format, month_first);
    }

    /// The value of dimension `d` in `row`, as written (trimmed), before anything else is read
    /// of the row: what the age bands in force are read from before the stream starts.
    pub(crate) fn dimension_text<'r>(&self, row: &'r RawRow, d: usize) -> Option<Cow<'r, str>> {
        trimmed(&row.cells, (*self.dims.get(d)?)?)
    }

    /// Adds a warning said once for the source.
    pub(crate) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The question values given (`question_values`, `--question`), as written.
    #[must_use]
    pub(crate) fn question_values_given(&self) -> Vec<String> {
        self.given.iter().map(|g| g.1.clone()).collect()
    }

    /// The question values given (`question_values`, `--question`) that no column and no row's
    /// question met, once every row is mapped.
    #[must_use]
    pub(crate) fn question_values_unmet(&self) -> Vec<String> {
        self.given.iter().filter(|g| !g.2.load(std::sync::atomic::Ordering::Relaxed)).map(|g| g.1.clone()).collect()
    }

    /// What looks wrong with the source's columns (see [`SourceReport::warnings`](super::SourceReport)).
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// The export layout this source is read with.
    #[must_use]
    pub fn layout(&self) -> &'static str {
        self.layout
    }

    /// Free-text columns per row.
    #[must_use]
    pub fn text_columns(&self) -> usize {
        self.texts.len()
    }

    /// The free text is one column, the header's last.
    #[must_use]
    pub(crate) fn text_is_last(&self) -> bool {
        matches!(self.texts.as_slice(), [(i, _)] if i + 1 == self.headers.len())
    }

    /// Canonical name → header, for the manifest.
    #[must_use]
    pub fn mapped_columns(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> =
            self.fields.iter().map(|(k, &i)| ((*k).to_owned(), self.headers[i].clone())).collect();
        for (i, q) in &self.texts {
            if let Some(q) = q {
                v.push((format!("text ({q})"), self.headers[*i].clone()));
            }
        }
        v
    }

    /// Per run dimension, the header it is read from.
    #[must_use]
    pub fn dimension_columns(&self) -> Vec<Option<String>> {
        // IMD read from a decile or lookup-key column is named by that column
        let imd = self.fields.get("imd_decile").or_else(|| self.fields.get("imd_key"));
        (0..self.dims.len())
            .map(|d| {
                let col = self.dims[d].or(if Some(d) == self.imd_dim { imd.copied() } else { None });
                col.map(|i| self.headers[i].clone())
            })
            .collect()
    }

    /// Names of the columns carried through (snake_case, prefixed `x_`).
    #[must_use]
    pub fn carried_columns(&self) -> Vec<String> {
        self.carried_names.clone()
    }

    /// Each carried column's name and the header it comes from (as written).
    #[must_use]
    pub fn carried_from(&self) -> Vec<(String, String)> {
        self.carried_from.clone()
    }

    /// The plausible window of the source's dates.
    #[must_use]
    pub(crate) fn date_window(&self) -> &crate::config::DateWindow {
        &self.window
    }

    /// The columns the source's `carry` leaves out of `records`, as written.
    #[must_use]
    pub fn not_carried_columns(&self) -> Vec<String> {
        self.not_carried.iter().map(|&i| self.headers[i].clone()).collect()
    }

    /// The columns not carried because their header names personal data, as written.
    #[must_use]
    pub fn withheld_columns(&self) -> Vec<String> {
        self.withheld.iter().map(|&i| self.headers[i].clone()).collect()
    }

    fn raw(&self, row: &RawRow) -> Vec<(String, String)> {
        let value = |i: usize, c: &Cell| {
            let v = c.to_text().unwrap_or_default();
            if self.withheld.contains(&i) && !v.is_empty() {
                WITHHELD.to_owned()
            } else {
                v
            }
        };
        self.headers.iter().zip(&row.cells).enumerate().map(|(i, (h, c))| (h.clone(), value(i, c))).collect()
    }

    fn quarantine(&self, row: &RawRow, column: Option<usize>, reason: Reason, message: String) -> Quarantined {
        Quarantined {
            source: self.source.to_string(),
            file: self.file.clone(),
            row: row.row,
            column: column.map(|i| self.headers[i].clone()),
            reason,
            message,
            raw: self.raw(row),
            text_cells: self.texts.len() as u64,
        }
    }

    /// Quarantines a row that mapped but must not be kept (e.g. a duplicate id): the row as
    /// read, which the caller keeps beside its [`Mapped`] until it knows.
    #[must_use]
    pub fn quarantine_mapped(&self, row: &RawRow, reason: Reason, message: String) -> Quarantined {
        let message = format!("{}: row {}: {message}", self.file, row.row);
        Quarantined {
            column: self.cols.record_id.map(|i| self.headers[i].clone()),
            ..self.quarantine(row, None, reason, message)
        }
    }

    fn text(cells: &[Cell], col: Option<usize>) -> Option<Cow<'_, str>> {
        trimmed(cells, col?)
    }

    fn msg(&self, row: &RawRow, col: usize, what: &str) -> String {
        format!("{}: row {}: column {:?}: {what}", self.file, row.row, self.headers[col])
    }

    fn issue(
        &self,
        row: &RawRow,
        col: usize,
        reason: Reason,
        action: &'static str,
        value: String,
        what: &str,
    ) -> FieldIssue {
        FieldIssue {
            source: self.source.to_string(),
            file: self.file.clone(),
            row: row.row,
            column: self.headers[col].clone(),
            field: self.roles[col].1.clone(),
            reason,
            action,
            // an overlong value is shown by its start
            value: if value.chars().count() > ISSUE_VALUE_CHARS {
                value.chars().take(ISSUE_VALUE_CHARS).chain(std::iter::once('…')).collect()
            } else {
                value
            },
            message: self.msg(row, col, what),
            response_id: None,
        }
    }

    /// A value of a field with an `on_invalid` choice that cannot be used: the row is
    /// quarantined, or the field is null and a field issue is written.
    #[allow(clippy::too_many_arguments)]
    fn unusable(
        &self,
        row: &RawRow,
        col: usize,
        default: OnInvalid,
        reason: Reason,
        what: &str,
        action: &'static str,
        issues: &mut Vec<FieldIssue>,
    ) -> Result<(), Quarantined> {
        let field = self.roles[col].1.as_str();
        match self.on_invalid.get(field).copied().unwrap_or(default) {
            OnInvalid::Quarantine => Err(self.quarantine(row, Some(col), reason, self.msg(row, col, what))),
            OnInvalid::Null => {
                let value = row.cells.get(col).map(Cell::shown).unwrap_or_default();
                issues.push(self.issue(row, col, reason, action, value, what));
                Ok(())
            }
        }
    }

    /// A cell of a field with an `on_invalid` choice: `Err` when it cannot be a value at all
    /// (an object or array, or over the length limit).
    fn checked<'c>(&self, cells: &'c [Cell], col: usize) -> Result<&'c Cell, (Reason, String)> {
        match cells.get(col).unwrap_or(&Cell::Empty) {
            Cell::Structured(_) => Err((Reason::WrongType, "an object or array, not a value".to_owned())),
            // (found: a workbook's `#N/A` was a comment, "#NA", coded with themes)
            Cell::Error(e) => Err((Reason::InvalidValue, format!("the spreadsheet's error value {e}, not a value"))),
            // the same written as text: a CSV saved from Excel, where a comment beginning with
            // `=`, `+` or `-` was read as a formula (found: `#NAME?` kept as a comment)
            Cell::Text(s) if s.trim_ascii_start().starts_with('#') && EXCEL_ERRORS.contains(&s.trim()) => Err((
                Reason::InvalidValue,
                format!(
                    "the spreadsheet's error value {}, not a value: the cell's value was lost when the file was saved \
                     from a spreadsheet (a comment beginning with =, + or - is read as a formula)",
                    s.trim()
                ),
            )),
            Cell::Text(s) if s.len() > self.max_chars && s.chars().count() > self.max_chars => Err((
                Reason::FieldTooLong,
                format!("{} characters, over the limit of {}", s.chars().count(), self.max_chars),
            )),
            c => Ok(c),
        }
    }

    /// Personal data in a published field other than the text: replaced by its placeholder,
    /// reported as a field issue. `None` when nothing was found.
    fn redact(
        &self,
        row: &RawRow,
        col: usize,
        value: &str,
        action: &'static str,
        issues: &mut Vec<FieldIssue>,
    ) -> Option<String> {
        let (safe, found) = self.redactor.redact(value);
        if found.is_empty() {
            return None;
        }
        let kinds: Vec<&str> = found.iter().map(|r| r.kind.as_str()).collect();
        let what = format!("personal data ({}) in a published field", kinds.join(", "));
        let safe = safe.into_owned();
        issues.push(self.issue(row, col, Reason::PersonalData, action, safe.clone(), &what));
        Some(safe)
    }

    /// Maps one row to its records, or quarantines it. Each step reads one part of the row;
    /// what it cannot use is a field issue, or quarantines the row (the steps run in this
    /// order, so the first fault found is the one reported).
    ///
    /// # Errors
    /// The row, quarantined with a reason code.
    pub fn map_row(&self, row: &RawRow) -> Result<Mapped, Quarantined> {
        let mut issues = Vec::new();
        let cells = self.usable_cells(row, &mut issues)?;
        let received_date = self.received_date(row, &cells, &mut issues)?;
        let rating = self.rating(row, &cells, &mut issues)?;
        let texts = self.texts(row, &cells, &issues)?;
        let question = self.row_question(row, &cells, &mut issues)?;
        let (id, response_id) = self.ids(row, &cells, &mut issues)?;
        let org = self.org_levels(row, &cells, &mut issues)?;
        let demographics = self.demographics(row, &cells, &mut issues);
        let extra = self.carried_values(row, &cells, &mut issues);
        let shared = Shared { id, response_id, received_date, rating, question, org, demographics, extra };
        for f in &mut issues {
            f.response_id = Some(shared.response_id.to_string());
        }
        let (records, blank_cells) = self.records(row.row, texts, shared);
        Ok(Mapped { records, blank_cells, issues })
    }

    /// Step 1: every cell not checked where it is parsed, against the length limit and its
    /// type. A bad id (or an overlong text) quarantines the row; any other bad cell is emptied
    /// and reported.
    fn usable_cells<'r>(&self, row: &'r RawRow, issues: &mut Vec<FieldIssue>) -> Result<Cow<'r, [Cell]>, Quarantined> {
        let mut cells: Cow<'_, [Cell]> = Cow::Borrowed(&row.cells);
        for (i, c) in row.cells.iter().enumerate().take(self.roles.len()) {
            let role = self.roles[i].0;
            if role == Role::Chosen && is_null_marker(c) {
                cells.to_mut()[i] = Cell::Empty;
                continue;
            }
            if matches!(role, Role::Unused | Role::Chosen) {
                continue;
            }
            // a carried column holding an array or object (a JSON export's `"tags": ["a", "b"]`)
            // is carried as its JSON text: it was null and a `wrong_type` issue in every row
            if let Cell::Structured(json) = c {
                if role == Role::Optional && self.carried.contains(&i) {
                    cells.to_mut()[i] = Cell::Text(Str::from(json.as_str()));
                }
            }
            let problem = match self.checked(&cells, i) {
                Err(p) => Some(p),
                Ok(Cell::Number(_) | Cell::Date(_) | Cell::DateTime(_) | Cell::Bool(_)) if role == Role::Text => {
                    Some((Reason::WrongType, format!("{} where free text was expected", c.type_name())))
                }
                // a whole number past 2^53 reaches here only as a double (a JSON number past 64
                // bits, a spreadsheet's past 15 digits): its last digits are gone, and two ids
                // became one (found: the second row quarantined as a duplicate, the first
                // published under a rounded id)
                Ok(Cell::Number(n)) if role == Role::Id && n.abs() > MAX_EXACT => Some((
                    Reason::InvalidValue,
                    "a number too long to be read exactly (past 2^53: a JSON number past 64 bits, a spreadsheet's \
                     past 15 digits): write the ids as text, in quotes"
                        .to_owned(),
                )),
                Ok(_) => None,
            };
            let Some((reason, what)) = problem else { continue };
            if role == Role::Id || (role == Role::Text && reason == Reason::FieldTooLong) {
                return Err(self.quarantine(row, Some(i), reason, self.msg(row, i, &what)));
            }
            let action = if role == Role::Text { "blank" } else { "null" };
            issues.push(self.issue(row, i, reason, action, c.shown(), &what));
            cells.to_mut()[i] = Cell::Empty;
        }
        Ok(cells)
    }

    /// Step 2: the received date (by default an unusable date quarantines the row, a date
    /// outside the window costs the field).
    fn received_date(
        &self,
        row: &RawRow,
        cells: &[Cell],
        issues: &mut Vec<FieldIssue>,
    ) -> Result<Option<NaiveDate>, Quarantined> {
        let Some(i) = self.cols.received_date else { return Ok(None) };
        match self.date_in(cells, i) {
            Ok(date) => Ok(date),
            Err((default, reason, what)) => {
                self.unusable(row, i, default, reason, &what, "null", issues)?;
                Ok(None)
            }
        }
    }

    /// The date in column `i`, or what is wrong with it and what that costs by default.
    fn date_in(&self, cells: &[Cell], i: usize) -> Result<Option<NaiveDate>, (OnInvalid, Reason, String)> {
        let bad = |reason: Reason, what: String| Err((OnInvalid::Quarantine, reason, what));
        let date = match self.checked(cells, i) {
            Err((reason, what)) => return bad(reason, what),
            Ok(Cell::Empty) => return bad(Reason::MissingRequired, "date is empty".to_owned()),
            Ok(Cell::Date(d)) => *d,
            Ok(Cell::DateTime(t)) => t.date(),
            // a number is an Excel serial, or digits in the date format (JSON's `20250504` with
            // `%Y%m%d`: quarantined whatever the format, found trying it)
            Ok(Cell::Number(n)) => match excel_serial(*n).or_else(|| {
                (n.fract() == 0.0 && n.abs() < 1e15).then(|| parse_date(&(*n as i64).to_string(), &self.date_format))?
            }) {
                Some(d) => d,
                None => {
                    let what =
                        format!("{n} is neither an Excel date serial nor a date in the format {:?}", self.date_format);
                    return bad(Reason::InvalidDate, what);
                }
            },
            Ok(Cell::Text(s)) => match parse_date(s.trim(), &self.date_format) {
                Some(d) => d,
                None if s.trim().is_empty() => return bad(Reason::MissingRequired, "date is empty".to_owned()),
                None => {
                    // "2025-06-31" has the format's shape: the day is what is wrong
                    let no_such_day = self.date_format.split('|').any(|f| {
                        chrono::NaiveDate::parse_from_str(s.trim(), f.trim())
                            .is_err_and(|e| e.kind() == chrono::format::ParseErrorKind::OutOfRange)
                    });
                    let what = if no_such_day {
                        format!(
                            "{:?} is written in the date format {:?} but is no day of the calendar",
                            s.trim(),
                            self.date_format
                        )
                    } else {
                        format!("{:?} does not match the date format {:?}", s.trim(), self.date_format)
                    };
                    return bad(Reason::InvalidDate, what);
                }
            },
            Ok(Cell::Structured(_) | Cell::Error(_)) => return Ok(None),
            Ok(Cell::Bool(b)) => return bad(Reason::InvalidDate, format!("{b} is not a date")),
        };
        if !self.window.contains(date) {
            let what = format!(
                "{date} is outside the plausible window {} to {} (date_window)",
                self.window.from, self.window.to
            );
            return Err((OnInvalid::Null, Reason::DateOutOfWindow, what));
        }
        Ok(Some(date))
    }

    /// Step 3: the rating (an unusable one costs the field by default).
    fn rating(&self, row: &RawRow, cells: &[Cell], issues: &mut Vec<FieldIssue>) -> Result<Option<u8>, Quarantined> {
        let Some(i) = self.cols.rating else { return Ok(None) };
        let rating = self.checked(cells, i).and_then(|c| {
            let Some(s) = cell_text(c).filter(|s| !s.trim().is_empty()) else { return Ok(None) };
            let s = s.trim();
            parse_rating(s)
                .map(Some)
                .ok_or_else(|| (Reason::InvalidRating, format!("{s:?} is not a rating from 1 to 5 or 6 (don't know)")))
        });
        self.settle(row, i, rating, OnInvalid::Null, "null", None, issues)
    }

    /// Step 4: the text of each free-text column (`None` when blank). A row with no text is
    /// quarantined: as `wrong_type` when a text cell was of the wrong type, else as `empty_text`.
    fn texts(&self, row: &RawRow, cells: &[Cell], issues: &[FieldIssue]) -> Result<Texts<Option<String>>, Quarantined> {
        let texts: Texts<Option<String>> =
            self.texts.iter().map(|&(i, _)| trimmed(cells, i).map(Cow::into_owned)).collect();
        if texts.iter().any(Option::is_some) {
            return Ok(texts);
        }
        if let Some(wrong) =
            issues.iter().find(|f| f.field == "text" && matches!(f.reason, Reason::WrongType | Reason::InvalidValue))
        {
            let col = self.texts.iter().map(|t| t.0).find(|&i| self.headers[i] == wrong.column);
            return Err(self.quarantine(row, col, wrong.reason, wrong.message.clone()));
        }
        let col = self.texts[0].0;
        let what = if self.texts.len() == 1 {
            "no text after trimming".to_owned()
        } else {
            format!("none of the {} free-text columns has text", self.texts.len())
        };
        Err(self.quarantine(row, Some(col), Reason::EmptyText, self.msg(row, col, &what)))
    }

    /// Step 5: the question a text column without its own question answers, from the row's
    /// question column (an unknown one quarantines the row by default) or the default.
    fn row_question(
        &self,
        row: &RawRow,
        cells: &[Cell],
        issues: &mut Vec<FieldIssue>,
    ) -> Result<Question, Quarantined> {
        let i = match self.cols.question {
            Some(i) if self.texts.iter().any(|t| t.1.is_none()) => i,
            _ => return Ok(self.default_question),
        };
        let question = self.checked(cells, i).and_then(|c| match cell_text(c).filter(|s| !s.trim().is_empty()) {
            None => Ok(self.default_question),
            Some(raw) => self.question_of(&raw).ok_or_else(|| {
                (Reason::UnknownQuestion, format!("unknown question {:?}; map it in question_values", raw.trim()))
            }),
        });
        self.settle(row, i, question, OnInvalid::Quarantine, "default_question", self.default_question, issues)
    }

    /// A question value: as `question_values` maps it, else as [`Question::parse`] reads it.
    fn question_of(&self, raw: &str) -> Option<Question> {
        if !self.question_values.is_empty() {
            if let Some(&(q, given)) = self.question_values.get(&key(raw)) {
                if let Some(g) = given.and_then(|g| self.given.get(g)) {
                    g.2.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                return Some(q);
            }
        }
        // a canonical name is what `Question::parse` reads it as, without building its key
        Question::ALL.into_iter().find(|q| q.as_str() == raw).or_else(|| Question::parse(raw))
    }

    /// Step 6: the row's id (`None` when the source has none, or when it holds personal data:
    /// ids are published, so such an id is replaced by the row's hash) and its response id.
    /// An empty id quarantines the row.
    fn ids(
        &self,
        row: &RawRow,
        cells: &[Cell],
        issues: &mut Vec<FieldIssue>,
    ) -> Result<(Option<Str>, Str), Quarantined> {
        // ids unique only within the source are made the run's by its name (`feb:1`)
        let scoped = |id: &str| {
            if self.ids_per_file {
                compact_str::format_compact!("{}:{id}", self.source)
            } else {
                Str::from(id)
            }
        };
        let id = match self.cols.record_id.or(self.cols.response_id) {
            Some(i) => match trimmed(cells, i) {
                Some(id) => self.redact(row, i, &id, "hashed_id", issues).is_none().then(|| scoped(&id)),
                None => {
                    return Err(self.quarantine(row, Some(i), Reason::MissingRequired, self.msg(row, i, "id is empty")))
                }
            },
            None => None,
        };
        let response_id = match (self.cols.response_id, Self::text(cells, self.cols.response_id)) {
            (Some(i), Some(r)) if self.cols.record_id.is_some() => {
                self.redact(row, i, &r, "hashed_id", issues).is_none().then(|| scoped(&r))
            }
            _ => id.clone(),
        }
        .unwrap_or_else(|| self.hash_id(row.row, "response"));
        Ok((id, response_id))
    }

    /// Step 7: the organisation levels. There is no list of known values: control characters
    /// or an overlong value cost the field; personal data is redacted.
    fn org_levels(
        &self,
        row: &RawRow,
        cells: &[Cell],
        issues: &mut Vec<FieldIssue>,
    ) -> Result<[Option<Str>; 3], Quarantined> {
        let mut org: [Option<Str>; 3] = [None, None, None];
        for (slot, col) in org.iter_mut().zip(self.cols.org) {
            let Some(i) = col else { continue };
            let value = self.checked(cells, i).and_then(org_value);
            let value = self.settle(row, i, value, OnInvalid::Null, "null", None, issues)?;
            *slot = value.map(|v| self.published(row, i, v, issues));
        }
        Ok(org)
    }

    /// Step 8: the raw demographic value per run dimension, personal data redacted. IMD: a
    /// quintile column wins; else a decile column (as its quintile); else a key for the lookup.
    fn demographics(&self, row: &RawRow, cells: &[Cell], issues: &mut Vec<FieldIssue>) -> Vec<Option<Str>> {
        let mut demographics: Vec<Option<Str>> = self
            .dims
            .iter()
            .map(|d| {
                let i = (*d)?;
                Some(self.published(row, i, trimmed(cells, i)?, issues))
            })
            .collect();
        if let Some(q) = self.imd_dim.filter(|&q| demographics[q].is_none()) {
            demographics[q] = Self::text(cells, self.cols.imd_decile)
                .map(|d| crate::record::quintile_of_decile(&d).unwrap_or_else(|| Str::from(d)))
                .or_else(|| Self::text(cells, self.cols.imd_key).map(Str::from));
        }
        demographics
    }

    /// Step 9: the carried columns, as written (not trimmed), personal data redacted.
    fn carried_values(&self, row: &RawRow, cells: &[Cell], issues: &mut Vec<FieldIssue>) -> Vec<Option<Str>> {
        self.carried.iter().map(|&i| Some(self.published(row, i, cells.get(i).and_then(cell_text)?, issues))).collect()
    }

    /// A value of a field that repeats as it may be published: with its personal data redacted
    /// (a field issue says so), else as it is.
    ///
    /// These fields repeat: a value in which nothing was found is remembered by the worker and
    /// not searched again (the redactor reads only the value, so a value clean once is clean in
    /// every row).
    fn published<V>(&self, row: &RawRow, col: usize, value: V, issues: &mut Vec<FieldIssue>) -> Str
    where
        V: AsRef<str> + Into<Str>,
    {
        /// At most this many clean values per worker (beyond, values are searched every time).
        const MAX_CLEAN: usize = 1 << 16;
        thread_local! {
            static CLEAN: std::cell::RefCell<HashSet<Box<str>, foldhash::fast::FixedState>> =
                std::cell::RefCell::default();
        }
        let raw = value.as_ref();
        if CLEAN.with(|c| c.borrow().contains(raw)) {
            return value.into();
        }
        match self.redact(row, col, raw, "redacted", issues) {
            Some(safe) => Str::from(safe),
            None => {
                CLEAN.with(|c| {
                    let mut c = c.borrow_mut();
                    if c.len() < MAX_CLEAN {
                        c.insert(raw.into());
                    }
                });
                value.into()
            }
        }
    }

    /// Step 10: one record per non-blank text, and the number of blank text cells. The last
    /// record takes the shared values; the others get copies.
    fn records(&self, row: u64, texts: Texts<Option<String>>, mut shared: Shared) -> (Texts<Record>, u64) {
        let mut records = Texts::new();
        let mut blank_cells = 0;
        let multi = self.texts.len() > 1;
        let last = texts.iter().rposition(Option::is_some);
        for (j, (&(_, q), text)) in self.texts.iter().zip(texts).enumerate() {
            let question = q.unwrap_or(shared.question);
            let Some(text) = text else {
                blank_cells += 1;
                continue;
            };
            // what tells the texts of one row apart: the question, or the column when two
            // columns answer the same question
            let part = if multi { self.text_parts[j].as_str() } else { question.as_str() };
            let own = Some(j) == last;
            let record_id = match (shared.id.as_deref(), multi) {
                (Some(_), false) => take_or_clone(&mut shared.id, own).unwrap_or_default(),
                (Some(id), true) => compact_str::format_compact!("{id}:{part}"),
                (None, _) => self.hash_id(row, part),
            };
            records.push(Record {
                record_id,
                response_id: take_or_clone(&mut shared.response_id, own),
                source: self.source.clone(),
                received_date: shared.received_date,
                question,
                rating: shared.rating,
                text,
                org: take_or_clone(&mut shared.org, own),
                demographics: take_or_clone(&mut shared.demographics, own),
                extra: take_or_clone(&mut shared.extra, own),
                origin: RowRef { source: self.index, row },
            });
        }
        (records, blank_cells)
    }

    /// A value found, or what is wrong with it: on a fault, [`Mapper::unusable`] decides
    /// (`Err` quarantines the row), and a field that is nulled gives `fallback`.
    #[allow(clippy::too_many_arguments)]
    fn settle<T>(
        &self,
        row: &RawRow,
        col: usize,
        found: Result<T, (Reason, String)>,
        default: OnInvalid,
        action: &'static str,
        fallback: T,
        issues: &mut Vec<FieldIssue>,
    ) -> Result<T, Quarantined> {
        match found {
            Ok(v) => Ok(v),
            Err((reason, what)) => {
                self.unusable(row, col, default, reason, &what, action, issues)?;
                Ok(fallback)
            }
        }
    }

    fn hash_id(&self, row: u64, question: &str) -> Str {
        let file_name = std::path::Path::new(&self.file).file_name().and_then(|s| s.to_str()).unwrap_or("");
        let digest = Sha256::digest(format!("{}\u{1f}{file_name}\u{1f}{row}\u{1f}{question}", self.source).as_bytes());
        // the first 8 bytes, in hex
        compact_str::format_compact!("{digest:.16x}")
    }
}

/// What every record of one row shares.
struct Shared {
    /// The row's id, when it has a usable one.
    id: Option<Str>,
    response_id: Str,
    received_date: Option<NaiveDate>,
    rating: Option<u8>,
    /// The question of a text column that names none.
    question: Question,
    org: [Option<Str>; 3],
    demographics: Vec<Option<Str>>,
    extra: Vec<Option<Str>>,
}

/// `value` itself when `take` (leaving its default behind), else a copy.
fn take_or_clone<T: Clone + Default>(value: &mut T, take: bool) -> T {
    if take {
        std::mem::take(value)
    } else {
        value.clone()
    }
}

/// The cell as [`Cell::to_text`] gives it, borrowed when it is text.
/// How R (`NA`), pandas and databases (`NaN`, `NULL`) write a value left out, in a CSV: empty
/// where a date, rating, question or organisation is read (found: an export written by R had its
/// every missing rating an `invalid_rating` field issue and its missing dates quarantined as
/// `invalid_date`). Free text, ids, demographic and carried values are not touched here: a
/// comment "NA" is an answer (read as non-informative), and a demographic `NA` is `missing`.
fn is_null_marker(cell: &Cell) -> bool {
    match cell {
        Cell::Text(s) => matches!(s.trim(), "NA" | "NaN" | "nan" | "NULL" | "null" | "#N/A"),
        _ => false,
    }
}

fn cell_text(cell: &Cell) -> Option<Cow<'_, str>> {
    match cell {
        Cell::Text(s) => Some(Cow::Borrowed(s)),
        other => other.to_text().map(Cow::Owned),
    }
}

/// The cell in column `i` as text, trimmed (borrowed when it is text); `None` when empty.
fn trimmed(cells: &[Cell], i: usize) -> Option<Cow<'_, str>> {
    match cells.get(i).and_then(cell_text)? {
        Cow::Borrowed(s) => Some(super::trim_blank(s)).filter(|t| !t.is_empty()).map(Cow::Borrowed),
        Cow::Owned(s) => Some(super::trim_blank(&s)).filter(|t| !t.is_empty()).map(|t| Cow::Owned(t.to_owned())),
    }
}

/// An organisation value: `None` when empty; control characters or over [`ORG_MAX_CHARS`]
/// characters make it unusable.
fn org_value(cell: &Cell) -> Result<Option<Str>, (Reason, String)> {
    let text = cell_text(cell);
    match text.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().any(char::is_control) => {
            Err((Reason::InvalidValue, "control characters in an organisation value".to_owned()))
        }
        Some(v) if v.len() > ORG_MAX_CHARS && v.chars().count() > ORG_MAX_CHARS => Err((
            Reason::InvalidValue,
            format!("{} characters, over the {ORG_MAX_CHARS} of an organisation value", v.chars().count()),
        )),
        Some(v) => Ok(Some(Str::from(v))),
    }
}

/// Of the columns that may be carried (`candidates`, in header order), those `carry` takes and
/// those it leaves out, with the headers it names that none of them has.
fn chosen(
    carry: &crate::config::Carry,
    headers: &[String],
    candidates: Vec<usize>,
) -> (Vec<usize>, Vec<usize>, Vec<String>) {
    use crate::config::Carry;
    match carry {
        Carry::Every => (candidates, Vec::new(), Vec::new()),
        Carry::Nothing => (Vec::new(), candidates, Vec::new()),
        Carry::Only(named) => {
            let wanted: HashSet<String> = named.iter().map(|n| key(n)).collect();
            let (taken, left): (Vec<usize>, Vec<usize>) =
                candidates.into_iter().partition(|&i| wanted.contains(&key(&headers[i])));
            let met: HashSet<String> = taken.iter().map(|&i| key(&headers[i])).collect();
            let unmet = named.iter().filter(|n| !met.contains(&key(n))).cloned().collect();
            (taken, left, unmet)
        }
    }
}

/// `x_<header>` for each carried column; a name that two headers share ("Notes", "notes")
/// gets `_2`, `_3`… so that no table has two columns of one name, numbered in the order of the
/// headers as written (then of their places), not of their places alone: an export that puts two
/// such columns the other way round keeps each header's name (found in the twenty-fourth session
/// on issue 9: `Ward name` and `WARD-NAME` swapped `x_ward_name` and `x_ward_name_2` between
/// nights, and a BI model refreshed without error onto the other column).
fn carried_names(headers: &[String], carried: &[usize]) -> Vec<String> {
    // a column without a name (Excel's empty trailing columns, `,,,` at a header's end) is
    // named by its place, not `x_`, `x__2`…
    let base = |i: usize| {
        let k = key(&headers[i]);
        if k.is_empty() {
            format!("x_column_{}", i + 1)
        } else {
            format!("x_{k}")
        }
    };
    let bases: Vec<String> = carried.iter().map(|&i| base(i)).collect();
    let mut order: Vec<usize> = (0..carried.len()).collect();
    order.sort_by(|&a, &b| {
        (&bases[a], &headers[carried[a]], carried[a]).cmp(&(&bases[b], &headers[carried[b]], carried[b]))
    });
    let mut names = vec![String::new(); carried.len()];
    let mut taken: HashSet<String> = HashSet::with_capacity(carried.len());
    for k in order {
        let mut name = bases[k].clone();
        let mut n = 1;
        while taken.contains(&name) {
            n += 1;
            name = format!("{}_{n}", bases[k]);
        }
        taken.insert(name.clone());
        names[k] = name;
    }
    names
}

/// Excel's 1900 date system: serial 1 = 1900-01-01, with Excel's phantom 1900-02-29.
#[must_use]
pub(crate) fn excel_serial(n: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&n) {
        return None;
    }
    let days = n.floor() as i64;
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    epoch.checked_add_signed(chrono::Duration::days(days))
}

/// Parses a date with a chrono format; `excel` reads serial numbers written as text.
/// An ISO date followed by a time (`2025-04-01T10:00:00`) is read as its date.
/// Formats separated by `|` are tried in order (`%d/%m/%Y|%Y-%m-%d`).
#[must_use]
pub(crate) fn parse_date(s: &str, format: &str) -> Option<NaiveDate> {
    if format.contains('|') {
        return format.split('|').find_map(|f| parse_date(s, f));
    }
    if format.eq_ignore_ascii_case("excel") {
        return s.parse::<f64>().ok().and_then(excel_serial);
    }
    // seconds or milliseconds since 1970 (a JSON API's `1709633700000`), as a UTC date
    if format.eq_ignore_ascii_case("unix") {
        return s.parse::<i64>().ok().and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.date_naive());
    }
    if format.eq_ignore_ascii_case("unix_ms") {
        return s.parse::<i64>().ok().and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.date_naive());
    }
    if format == ISO_DATE {
        if let Some(d) = iso_date(s) {
            return Some(d);
        }
    }
    NaiveDate::parse_from_str(s, format).ok().or_else(|| {
        // a date with a time part: parse the leading date only
        let cut = s.find(['T', ' '])?;
        NaiveDate::parse_from_str(&s[..cut], format).ok()
    })
}

/// A date format list's day-first and month-first forms of a format naming the day and the month
/// before the year (`%d/%m/%Y` and `%m/%d/%Y`): a date that reads either way (`01/06/2022`) is
/// read in whichever of them the list holds first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DayMonth {
    /// The day-first form.
    pub(crate) day: String,
    /// The month-first form.
    pub(crate) month: String,
    /// Whether the list holds both (else only the one it reads first).
    pub(crate) both: bool,
    /// Whether the list reads month first.
    pub(crate) month_first: bool,
}

/// The [`DayMonth`] of a `|`-joined date format list: a pair of formats the same but for `%d`
/// and `%m` swapped, else the first format naming both before the year.
pub(crate) fn day_and_month_first(format: &str) -> Option<DayMonth> {
    let list: Vec<&str> = format.split('|').collect();
    let forms = |f: &str| -> Option<(String, String, bool)> {
        let (d, m) = (f.find("%d")?, f.find("%m")?);
        let year = f.find("%Y").or_else(|| f.find("%y")).unwrap_or(usize::MAX);
        if year < d.max(m) {
            return None;
        }
        let swapped = f.replace("%d", "\0").replace("%m", "%d").replace('\0', "%m");
        Some(if d < m { (f.to_owned(), swapped, false) } else { (swapped, f.to_owned(), true) })
    };
    let pair = list.iter().find_map(|f| {
        let (day, month, _) = forms(f)?;
        let (at_day, at_month) = (list.iter().position(|g| *g == day)?, list.iter().position(|g| *g == month)?);
        Some(DayMonth { day, month, both: true, month_first: at_month < at_day })
    });
    pair.or_else(|| {
        list.iter().find_map(|f| forms(f)).map(|(day, month, month_first)| DayMonth {
            day,
            month,
            both: false,
            month_first,
        })
    })
}

/// The first two numbers of a date written `n<sep>n<sep>…` (one or two digits each, one
/// separator that is not a digit between them).
fn two_numbers(value: &str) -> Option<(u32, u32)> {
    let b = value.as_bytes();
    let digits = |from: usize| {
        let n = b.get(from..)?.iter().take_while(|c| c.is_ascii_digit()).count();
        (1..=2).contains(&n).then(|| (value[from..from + n].parse::<u32>().ok(), from + n))
    };
    let (a, end) = digits(0)?;
    if b.get(end).is_none_or(u8::is_ascii_digit) {
        return None;
    }
    let (m, end2) = digits(end + 1)?;
    if b.get(end2).is_none_or(u8::is_ascii_digit) {
        return None;
    }
    Some((a?, m?))
}

/// Puts a list's month-first form before its day-first one (`month_first`), or the reverse,
/// when it holds both ([`DayMonth`]).
fn reorder(format: &mut String, month_first: bool) {
    let Some(DayMonth { day, month, both: true, .. }) = day_and_month_first(format) else { return };
    let (first, second) = if month_first { (month, day) } else { (day, month) };
    let mut list: Vec<&str> = format.split('|').filter(|f| *f != first).collect();
    let at = list.iter().position(|f| *f == second).unwrap_or(0);
    list.insert(at, &first);
    *format = list.join("|");
}

/// How a date reads in a day-first and a month-first format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Only day first (`31/05/2022`).
    DayFirst,
    /// Only month first (`5/31/2022`).
    MonthFirst,
    /// Both, as two different dates (`01/06/2022`).
    Either,
    /// Neither, or both as the same date (`05/05/2022`).
    Neither,
}

/// How `value` reads in the `day`-first and `month`-first formats. Formats that begin with the
/// day and the month (`%d/%m/…`) are told apart by the first two numbers of the value, without
/// parsing it twice (chrono's parse cost a run 5 % more instructions on 60,000 `dd/mm/yyyy`
/// dates); others are parsed both ways.
pub(crate) fn order_of(value: &str, day: &str, month: &str) -> Order {
    let leading = |f: &str, a: &str, b: &str| f.starts_with(a) && f.get(3..).is_some_and(|r| r.starts_with(b));
    let sep = day.as_bytes().get(2).filter(|c| **c != b'%');
    if sep.is_some() && leading(day, "%d", "%m") && leading(month, "%m", "%d") && month.as_bytes().get(2) == sep {
        if let Some((a, b)) = two_numbers(value) {
            let fits = |n: u32| (1..=12).contains(&n);
            return match (fits(a), fits(b)) {
                (false, true) if (13..=31).contains(&a) => Order::DayFirst,
                (true, false) if (13..=31).contains(&b) => Order::MonthFirst,
                (true, true) if a != b => Order::Either,
                _ => Order::Neither,
            };
        }
    }
    match (parse_date(value, day), parse_date(value, month)) {
        (Some(a), Some(b)) if a != b => Order::Either,
        (Some(_), None) => Order::DayFirst,
        (None, Some(_)) => Order::MonthFirst,
        _ => Order::Neither,
    }
}

/// The date formats tried on dates that do not read in the one given: an export's usual ways of
/// writing a date (a time after it is passed over, as [`parse_date`] does).
const DATE_FORMATS: [&str; 16] = [
    "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%m/%d/%y", "%d-%b-%Y",
    "%d-%b-%y", "%d %b %Y", "%d %B %Y", "%Y%m%d", "excel", "unix", "unix_ms",
];

/// Dates looked at for [`DateGuess`], at most: a format that reads so many reads the export.
const DATES_GUESSED: u64 = 1_000;

/// Which of the usual date formats ([`DATE_FORMATS`]) read the dates met: for a warning that
/// names the format an export's dates are in ("03/13/2025 10:15:32 AM", a survey tool's
/// month-first timestamp, was quarantined row after row with "e.g. %d/%m/%Y" the only hint), and
/// for the draft pipeline of an export `--input` cannot place.
#[derive(Clone, Debug, Default)]
pub(crate) struct DateGuess {
    /// Dates looked at.
    dates: u64,
    /// Per format, the dates it read inside the window.
    read: [u64; DATE_FORMATS.len()],
}

/// What [`DateGuess`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Guessed {
    /// No date looked at, or none that any format read.
    Nothing,
    /// The formats that read every date looked at (several when no date tells them apart).
    Every(Vec<&'static str>, u64),
    /// The format that read the most of them, but not all.
    Most(&'static str, u64, u64),
}

impl DateGuess {
    /// Looks at one date as written.
    pub(crate) fn add(&mut self, value: &str, window: &crate::config::DateWindow) {
        let value = value.trim();
        if value.is_empty() || self.dates >= DATES_GUESSED {
            return;
        }
        self.dates += 1;
        for (n, f) in self.read.iter_mut().zip(DATE_FORMATS) {
            if parse_date(value, f).is_some_and(|d| window.contains(d)) {
                *n += 1;
            }
        }
    }

    /// The formats that read every date looked at, else the one that read the most.
    pub(crate) fn guessed(&self) -> Guessed {
        let every: Vec<&'static str> =
            DATE_FORMATS.iter().zip(self.read).filter(|(_, n)| *n == self.dates && *n > 0).map(|(f, _)| *f).collect();
        if !every.is_empty() {
            return Guessed::Every(every, self.dates);
        }
        match DATE_FORMATS.iter().zip(self.read).filter(|(_, n)| *n > 0).max_by_key(|(_, n)| *n) {
            Some((f, n)) => Guessed::Most(f, n, self.dates),
            None => Guessed::Nothing,
        }
    }

    /// What the dates read as, said after a warning that they do not read in `format`.
    pub(crate) fn said(&self) -> Option<String> {
        let quoted = |fs: &[&str]| fs.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(" or ");
        match self.guessed() {
            Guessed::Nothing => None,
            Guessed::Every(formats, n) if formats.len() == 1 => Some(format!(
                "every one of the {n} looked at reads as {}: date_format = {}",
                quoted(&formats),
                quoted(&formats)
            )),
            Guessed::Every(formats, n) => Some(format!(
                "every one of the {n} looked at reads as {} (no date among them tells which: a day first \
                 writes 13/01, a month first 01/13; check one against the export)",
                quoted(&formats)
            )),
            Guessed::Most(f, n, of) => Some(format!("{n} of the {of} looked at read as {f:?}")),
        }
    }
}

/// What the quarantine's raw row shows for a value of a column withheld as personal data.
pub(crate) const WITHHELD: &str = "[WITHHELD]";

/// The default date format.
const ISO_DATE: &str = "%Y-%m-%d";

/// A date written exactly `YYYY-MM-DD`, as chrono reads it with [`ISO_DATE`], without parsing the
/// format each time; `None` for anything else (chrono then decides).
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(digits(0..4)?).ok()?, digits(5..7)?, digits(8..10)?)
}

/// Ratings: 1–6 as numbers, or the FFT wording: today's (very good … very poor) or the
/// likelihood scale the FFT asked before April 2020 (extremely likely … extremely unlikely),
/// which a trust's older exports hold.
#[must_use]
pub fn parse_rating(s: &str) -> Option<u8> {
    if let Ok(n) = s.parse::<f64>() {
        return (n.fract() == 0.0 && (1.0..=6.0).contains(&n)).then_some(n as u8);
    }
    let k = key(s);
    // a number and its wording together ("1 - Very good", "Very good (1)", "6. Don't know", as
    // vendors label the answers; each was an invalid rating, found trying one): read when they
    // agree, never when they do not ("1 - Poor")
    let labelled = |n: &str, words: &str| {
        let n = n.parse::<u8>().ok().filter(|n| (1..=6).contains(n))?;
        (rating_words(words)? == n).then_some(n)
    };
    if let Some((n, words)) = k.split_once('_').filter(|(n, _)| n.bytes().all(|b| b.is_ascii_digit())) {
        return labelled(n, words);
    }
    if let Some((words, n)) = k.rsplit_once('_').filter(|(_, n)| n.bytes().all(|b| b.is_ascii_digit())) {
        return labelled(n, words);
    }
    rating_words(&k)
}

/// A rating in the FFT's words (`key` form), today's or the likelihood scale asked until 2020.
fn rating_words(k: &str) -> Option<u8> {
    Some(match k {
        "very_good" | "extremely_likely" => 1,
        "good" | "likely" => 2,
        "neither_good_nor_poor" | "neither_likely_nor_unlikely" => 3,
        "poor" | "unlikely" => 4,
        "very_poor" | "extremely_unlikely" => 5,
        "don_t_know" | "dont_know" => 6,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_list_of_both_orders_is_found_and_reordered() {
        let dm = |day: &str, month: &str, both: bool, month_first: bool| {
            Some(DayMonth { day: day.to_owned(), month: month.to_owned(), both, month_first })
        };
        assert_eq!(day_and_month_first("%d/%m/%Y|%m/%d/%Y|%Y-%m-%d"), dm("%d/%m/%Y", "%m/%d/%Y", true, false));
        assert_eq!(day_and_month_first("%Y-%m-%d|%m-%d-%y|%d-%m-%y"), dm("%d-%m-%y", "%m-%d-%y", true, true));
        assert_eq!(day_and_month_first("%Y-%m-%d|%d/%m/%Y"), dm("%d/%m/%Y", "%m/%d/%Y", false, false), "one order");
        assert_eq!(day_and_month_first("%m/%d/%Y %H:%M"), dm("%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", false, true));
        assert_eq!(day_and_month_first("%Y-%m-%d|%Y/%m/%d|excel"), None, "the year first: no ambiguity");
        let mut mapper_list = "%d/%m/%Y|%m/%d/%Y|%Y-%m-%d".to_owned();
        reorder(&mut mapper_list, true);
        assert_eq!(mapper_list, "%m/%d/%Y|%d/%m/%Y|%Y-%m-%d");
        reorder(&mut mapper_list, false);
        assert_eq!(mapper_list, "%d/%m/%Y|%m/%d/%Y|%Y-%m-%d");
        let mut one = "%Y-%m-%d|%d/%m/%Y".to_owned();
        reorder(&mut one, true);
        assert_eq!(one, "%Y-%m-%d|%d/%m/%Y", "a list of one order is left as it is");
        let (d, m) = ("%d/%m/%Y", "%m/%d/%Y");
        assert_eq!(
            [order_of("31/05/2022", d, m), order_of("5/31/2022", d, m), order_of("01/06/2022", d, m)],
            [Order::DayFirst, Order::MonthFirst, Order::Either]
        );
        assert_eq!([order_of("05/05/2022", d, m), order_of("soon", d, m)], [Order::Neither, Order::Neither]);
        // the numbers read without chrono, and as chrono reads them
        for v in ["31/05/2022", "5/31/2022", "01/06/2022", "1/6/2022 10:00", "13/13/2022", "0/5/2022", "32/01/2022"] {
            let slow = match (parse_date(v, d), parse_date(v, m)) {
                (Some(a), Some(b)) if a != b => Order::Either,
                (Some(_), None) => Order::DayFirst,
                (None, Some(_)) => Order::MonthFirst,
                _ => Order::Neither,
            };
            assert_eq!(order_of(v, d, m), slow, "{v}");
        }
        assert_eq!(two_numbers("2022-05-01"), None, "four digits first");
        assert_eq!(order_of("31.05.2022", "%d.%m.%Y", "%m.%d.%Y"), Order::DayFirst);
    }

    #[test]
    fn the_usual_date_formats_are_told_apart_by_the_dates_they_read() {
        let window = crate::config::DateWindow {
            from: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
        };
        let guess = |dates: &[&str]| {
            let mut g = DateGuess::default();
            for d in dates {
                g.add(d, &window);
            }
            g.guessed()
        };
        // a survey tool's month-first timestamps, one with a day past 12
        assert_eq!(guess(&["03/01/2025 09:12:44 AM", "03/13/2025 10:01:13 AM"]), Guessed::Every(vec!["%m/%d/%Y"], 2));
        // no day past 12: both read, and the warning says so
        assert_eq!(guess(&["03/01/2025", "04/02/2025"]), Guessed::Every(vec!["%d/%m/%Y", "%m/%d/%Y"], 2));
        assert_eq!(guess(&["2025/03/01 10:15:32 AM GMT"]), Guessed::Every(vec!["%Y/%m/%d"], 1));
        assert_eq!(guess(&["01-Mar-2025", "13-Mar-2025"]), Guessed::Every(vec!["%d-%b-%Y"], 2));
        // two-digit years are not year 25
        assert_eq!(guess(&["13/3/25"]), Guessed::Every(vec!["%d/%m/%y"], 1));
        assert_eq!(guess(&["45717", "45718"]), Guessed::Every(vec!["excel"], 2));
        assert_eq!(guess(&["13/03/2025", "03/14/2025", "15/03/2025"]), Guessed::Most("%d/%m/%Y", 2, 3));
        assert_eq!(guess(&["not a date", ""]), Guessed::Nothing);
        assert_eq!(guess(&[]), Guessed::Nothing);
    }

    use super::*;

    /// Found trying an older export: the FFT's likelihood wording (asked until March 2020) was
    /// an `invalid_rating` on every row; and Excel's empty trailing header columns were carried
    /// as `x_`, `x__2`, `x__3`.
    #[test]
    fn ratings_in_either_fft_wording_and_unnamed_columns_by_place() {
        let likely = [
            "Extremely likely",
            "Likely",
            "Neither likely nor unlikely",
            "Unlikely",
            "Extremely unlikely",
            "Don't know",
        ];
        let good = ["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"];
        for (i, (l, g)) in likely.iter().zip(good).enumerate() {
            assert_eq!(parse_rating(l), Some(i as u8 + 1), "{l}");
            assert_eq!(parse_rating(l), parse_rating(g), "{l} = {g}");
        }
        assert_eq!(parse_rating("Very likely"), None);
        for (labelled, n) in [("1 - Very good", Some(1)), ("Very poor (5)", Some(5)), ("6. Don't know", Some(6))] {
            assert_eq!(parse_rating(labelled), n, "{labelled}");
        }
        for disagreeing in ["1 - Poor", "7 - Very good", "2 - Fine", "Good 3"] {
            assert_eq!(parse_rating(disagreeing), None, "{disagreeing}");
        }
        let headers: Vec<String> = ["text", "", "Notes", " ", "?", "notes"].iter().map(|h| (*h).to_owned()).collect();
        assert_eq!(
            carried_names(&headers, &[1, 2, 3, 4, 5]),
            ["x_column_2", "x_notes", "x_column_4", "x_column_5", "x_notes_2"]
        );
        // headers of one name keep theirs in whatever order the export puts them
        let one: Vec<String> =
            ["Ward name", "ward_name", "WARD-NAME", "notes 2", "Notes", "notes"].map(String::from).to_vec();
        let named = |order: &[usize]| -> Vec<(String, String)> {
            let headers: Vec<String> = order.iter().map(|&i| one[i].clone()).collect();
            let mut pairs: Vec<(String, String)> =
                headers.iter().cloned().zip(carried_names(&headers, &(0..headers.len()).collect::<Vec<_>>())).collect();
            pairs.sort();
            pairs
        };
        let first = named(&[0, 1, 2, 3, 4, 5]);
        assert_eq!(first, named(&[2, 5, 0, 4, 1, 3]));
        assert_eq!(first, named(&[5, 4, 3, 2, 1, 0]));
        let names: HashSet<&String> = first.iter().map(|p| &p.1).collect();
        assert_eq!(names.len(), 6, "{first:?}");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2025-04-01", "%Y-%m-%d"), NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(parse_date("2025-04-01T09:30:00", "%Y-%m-%d"), NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(parse_date("01/04/2025", "%d/%m/%Y"), NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(parse_date("31/02/2025", "%d/%m/%Y"), None);
        assert_eq!(parse_date("45748", "excel"), NaiveDate::from_ymd_opt(2025, 4, 1));
        // a JSON API's seconds or milliseconds since 1970, as a UTC date
        assert_eq!(parse_date("1709633700", "unix"), NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(parse_date("1709633700000", "unix_ms"), NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(parse_date("soon", "unix_ms"), None);
        // alternatives in order: day first, then month first when day first cannot be
        let uk_us = "%d/%m/%Y|%m/%d/%Y|%Y-%m-%d";
        assert_eq!(parse_date("01/04/2025", uk_us), NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(parse_date("5/31/2022", uk_us), NaiveDate::from_ymd_opt(2022, 5, 31));
        assert_eq!(parse_date("2025-04-01", uk_us), NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(parse_date("31/05/2022 00:00", uk_us), NaiveDate::from_ymd_opt(2022, 5, 31));
        assert_eq!(parse_date("31/31/2022", uk_us), None);
        assert_eq!(excel_serial(45748.75), NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(excel_serial(-3.0), None);
    }

    #[test]
    fn iso_dates_read_as_chrono_reads_them() {
        let cases = [
            "2025-04-01",
            "0000-01-01",
            "9999-12-31",
            "2024-02-29",
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-04-00",
            "2025-4-01",
            "+025-04-01",
            "2025/04/01",
            "2025-04-01 ",
            " 2025-04-01",
            "20250401xx",
            "2025-04-1a",
            "２０２５-04-01",
            "",
        ];
        for s in cases {
            let chrono = NaiveDate::parse_from_str(s, ISO_DATE).ok();
            assert!(iso_date(s).is_none() || iso_date(s) == chrono, "{s:?}: {:?} vs {chrono:?}", iso_date(s));
            // what parse_date gave before the fast path: chrono, then the date before a time part
            let before = chrono.or_else(|| NaiveDate::parse_from_str(&s[..s.find(['T', ' '])?], ISO_DATE).ok());
            assert_eq!(parse_date(s, ISO_DATE), before, "{s:?}");
        }
        assert_eq!(iso_date("2025-04-01"), NaiveDate::from_ymd_opt(2025, 4, 1));
        assert_eq!(iso_date("2025-02-29"), None);
    }

    #[test]
    fn ratings() {
        assert_eq!(parse_rating("1"), Some(1));
        assert_eq!(parse_rating("6"), Some(6));
        assert_eq!(parse_rating("5.0"), Some(5));
        assert_eq!(parse_rating("7"), None);
        assert_eq!(parse_rating("Very good"), Some(1));
        assert_eq!(parse_rating("Don't know"), Some(6));
        assert_eq!(parse_rating("great"), None);
    }

    #[test]
    fn header_keys() {
        assert_eq!(key(" Ethnic Group "), "ethnic_group");
        assert_eq!(key("org_level_1"), "org_level_1");
        assert_eq!(key("What was good?"), "what_was_good");
    }
}
