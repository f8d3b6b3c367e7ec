use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::Spanned;

use super::options::{CarryOption, PipelineOptions, SourceOptions};
use crate::record::{Question, CANONICAL_DIMENSIONS, CANONICAL_FIELDS};

/// The default codebook, compiled into the binary so that a run needs no other file.
pub const DEFAULT_CODEBOOK: &str = include_str!("../../pipelines/codebooks/nhs-patient-experience.toml");

/// Longest accepted field, in characters, unless the pipeline says otherwise.
pub const DEFAULT_MAX_FIELD_CHARS: usize = 20_000;

/// A configuration error, naming the file, the line and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The pipeline file (or `<command line>`).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key at fault, when known.
    pub key: Option<String>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma (or other delimiter) separated values.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
    /// Excel workbook.
    Xlsx,
}

impl Format {
    /// The format named by a file's extension.
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        if ext == "gz" {
            // feedback.csv.gz: the format of what is inside
            return Format::from_path(Path::new(path.file_stem()?));
        }
        Format::parse(&ext)
    }

    fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "csv" | "txt" | "tsv" => Format::Csv,
            "jsonl" | "ndjson" | "json" => Format::Jsonl,
            "parquet" | "pq" => Format::Parquet,
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Format::Xlsx,
            _ => return None,
        })
    }
}

/// CSV text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// Each field UTF-8 when it is valid UTF-8, else Windows-1252.
    Auto,
    /// UTF-8 (a byte-order mark is skipped); invalid rows are quarantined.
    Utf8,
    /// Windows-1252 (Excel's "CSV" on a UK Windows machine).
    Windows1252,
}

/// What a value that cannot be used costs (`[source.on_invalid]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// The field is null (the record is kept) and a field issue is written.
    Null,
    /// The row goes to quarantine.
    Quarantine,
}

/// Fields whose invalid values `[source.on_invalid]` may send to `null` or `quarantine`.
/// Unset: an unusable `received_date` (empty, unreadable) or `question` quarantines the row; a
/// date outside `date_window`, a bad `rating` or organisation value costs the field only.
pub const ON_INVALID_FIELDS: [&str; 6] =
    ["received_date", "rating", "question", "org_level_1", "org_level_2", "org_level_3"];

/// Plausible received dates, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateWindow {
    /// First plausible date.
    pub from: chrono::NaiveDate,
    /// Last plausible date.
    pub to: chrono::NaiveDate,
}

impl DateWindow {
    /// The default: 2000-01-01 to tomorrow (UTC).
    #[must_use]
    pub fn default_window() -> DateWindow {
        let today = chrono::Utc::now().date_naive();
        DateWindow {
            from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(today),
            to: today.succ_opt().unwrap_or(today),
        }
    }

    /// Whether `d` is inside the window.
    #[must_use]
    pub fn contains(&self, d: chrono::NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    fn end(s: &str) -> Option<chrono::NaiveDate> {
        let today = chrono::Utc::now().date_naive();
        match s.trim().to_ascii_lowercase().as_str() {
            "today" => Some(today),
            "tomorrow" => today.succ_opt(),
            other => iso_date(other),
        }
    }
}

/// A date written `YYYY-MM-DD`, four digits of year and two of month and day: chrono's `%Y`
/// alone took `25-06-01` as the year 25 and `+002025-01-01` as 2025, so a change declared with
/// a two-digit year compared records against a date 2,000 years back, unsaid (found in the
/// twenty-fourth session on issue 9).
pub(crate) fn iso_date(s: &str) -> Option<chrono::NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    shaped.then(|| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()).flatten()
}

impl Encoding {
    /// Parses `auto`, `utf-8` or `windows-1252` (and their common aliases).
    #[must_use]
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Some(Encoding::Auto),
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => Some(Encoding::Windows1252),
            _ => None,
        }
    }
}

impl Serialize for DateWindow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.from.format("%Y-%m-%d").to_string(), self.to.format("%Y-%m-%d").to_string()].serialize(s)
    }
}

/// How dates in a text column are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateFormat(pub String);

impl Default for DateFormat {
    fn default() -> Self {
        DateFormat("%Y-%m-%d".to_owned())
    }
}

/// Where the codebook comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodebookSource {
    /// The default NHS patient experience codebook compiled into the binary.
    Builtin,
    /// A codebook file.
    Path(#[serde(serialize_with = "shown_path")] PathBuf),
}

/// How codebook and model themes combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Themes from the codebook or the model.
    Union,
    /// Only the model's themes (with the codebook's evidence where it agrees).
    ModelOnly,
    /// Only the codebook's themes.
    CodebookOnly,
}

/// A resolved `[coder]`.
#[derive(Debug, Clone, Serialize)]
pub struct CoderSettings {
    /// The learned model.
    #[serde(serialize_with = "shown_opt_path")]
    pub model: Option<PathBuf>,
    /// How codebook and model themes combine.
    pub policy: Policy,
    /// `theme_code,label` map from model labels to themes.
    #[serde(serialize_with = "shown_opt_path")]
    pub label_map: Option<PathBuf>,
}

impl Default for CoderSettings {
    fn default() -> Self {
        CoderSettings { model: None, policy: Policy::CodebookOnly, label_map: None }
    }
}

/// A resolved `[[source]]`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceSettings {
    /// Name written on every record.
    pub name: String,
    /// File to read (written out with its personal data redacted).
    #[serde(serialize_with = "shown_path")]
    pub path: PathBuf,
    /// File format.
    pub format: Format,
    /// CSV encoding.
    pub encoding: Encoding,
    /// CSV delimiter.
    pub delimiter: u8,
    /// Whether a setting gave the delimiter (else the reader takes the header's when it holds
    /// none of the default's).
    #[serde(skip)]
    pub delimiter_given: bool,
    /// XLSX sheet (default: first; written out with its personal data redacted).
    #[serde(serialize_with = "shown_opt_str")]
    pub sheet: Option<String>,
    /// Line (CSV) or row (XLSX) of the header, from 1; `None` = the first non-blank line.
    pub header_row: Option<u64>,
    /// Date format for text dates.
    pub date_format: DateFormat,
    /// Ids unique only within this source: record ids are written `<source>:<id>`.
    pub ids_per_file: bool,
    /// Explicit map canonical name → source header (canonical headers are matched too).
    pub columns: BTreeMap<String, String>,
    /// Free-text columns and the question each answers; empty = the `text` column.
    pub texts: Vec<(String, Question)>,
    /// Question of the `text` column when there is no question column.
    pub default_question: Option<Question>,
    /// Extra raw question values (also the question of a layout's free-text column, by name).
    pub question_values: BTreeMap<String, Question>,
    /// Export layout (see `unheard layouts`); `None` = detected from the header.
    pub layout: Option<String>,
    /// This source's own date window (default: the run's).
    pub date_window: Option<DateWindow>,
    /// Per field (of [`ON_INVALID_FIELDS`]): what an unusable value costs; unset = the default.
    pub on_invalid: BTreeMap<String, OnInvalid>,
    /// Headers of columns known to name personal data: withheld as any such column is, unsaid.
    pub withheld: Vec<String>,
    /// Which of the columns not read are carried into `records`.
    pub carry: Carry,
    /// JSON: objects (dotted paths) read as one column of their JSON text.
    pub keep_whole: Vec<String>,
}

/// Which of a source's columns not read are carried into `records` (`source.carry`,
/// `--carry`, `--no-carry`): a survey tool's export of every question carries thousands, and
/// the peak grows with the columns carried × the months written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Carry {
    /// Every column not read (the default: nothing read is dropped unasked).
    #[default]
    Every,
    /// None.
    Nothing,
    /// The columns of these headers (matched as column names are: case, spaces and
    /// punctuation aside; written out with their personal data redacted).
    Only(#[serde(serialize_with = "shown_strs")] Vec<String>),
}

/// A resolved `[baseline]`.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineSettings {
    /// Baseline name.
    pub name: String,
    /// CSV file (written out with its personal data redacted).
    #[serde(serialize_with = "shown_path")]
    pub path: PathBuf,
    /// Add up rows of the same (dimension, group) after harmonisation (`duplicates = "sum"`);
    /// otherwise they are an error.
    pub sum_duplicates: bool,
    /// The areas counted (codes or names, `areas = [...]` or `--baseline-area`); empty: every
    /// area the file holds.
    pub areas: Vec<String>,
}

/// Validated settings for one run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Run name.
    pub name: String,
    /// The pipeline file, if any (paths are written out with their personal data redacted).
    #[serde(serialize_with = "shown_opt_path")]
    pub pipeline: Option<PathBuf>,
    /// Output folder.
    #[serde(serialize_with = "shown_path")]
    pub out: PathBuf,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Longest accepted field in characters.
    pub max_field_chars: usize,
    /// Record ids (and, apart, responses) a run holds in memory before the rest go to disk.
    pub ids_in_memory: usize,
    /// Plausible received dates (a source may have its own).
    pub date_window: DateWindow,
    /// Also write the unredacted text.
    pub keep_original_text: bool,
    /// Codebook.
    pub codebook: CodebookSource,
    /// The population baseline this run uses.
    pub baseline: Option<BaselineSettings>,
    /// Every baseline the pipeline names (the one used is `baseline`).
    pub baselines: Vec<BaselineSettings>,
    /// Sources, in order.
    pub sources: Vec<SourceSettings>,
    /// Demographic dimensions: the canonical ones, then extra ones in sorted order.
    pub dimensions: Vec<String>,
    /// Harmonisation settings.
    pub people: PeopleSettings,
    /// Statistics settings.
    pub analysis: AnalysisSettings,
    /// The learned coder.
    pub coder: CoderSettings,
    /// Declared service changes, in the order given (the pipeline's, then `--change`).
    pub changes: Vec<Change>,
    /// The state of nightly runs; `None` when the run keeps the original text (a state holds
    /// redacted text only, so every such run codes everything).
    #[serde(serialize_with = "shown_opt_path")]
    pub state: Option<PathBuf>,
    /// `--full`: code every record again, whatever the state holds.
    pub full: bool,
    /// `[report] quotes_per_cell`: quotes per theme and group (default 3).
    pub quotes_per_cell: usize,
    /// `[report] emerging_months`: the recent months of `emerging_terms` (default 3).
    pub emerging_months: u32,
    /// `--prune`: drop from the state the records a re-read file no longer holds.
    pub prune: bool,
}

/// A declared service change (`[[change]]` or `--change NAME=YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Its name.
    pub name: String,
    /// The day it took effect; records of that day count as after.
    pub date: chrono::NaiveDate,
    /// Days compared on each side (None: all the data).
    pub window_days: Option<u32>,
    /// Organisation values records must have, per level (empty: any).
    pub org: [Vec<String>; 3],
    /// Sources records must come from, by name (empty: any).
    pub sources: Vec<String>,
}

/// The SPC chart's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpcPeriod {
    /// Calendar months.
    Month,
    /// Weeks starting on Monday.
    Week,
}

/// The SPC chart (METHODS §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpcChart {
    /// XmR (individuals) chart of the proportions: what QI teams see in Making Data Count.
    Xmr,
    /// p-chart with per-period limits.
    P,
    /// Laney p′ chart (p-chart corrected for overdispersion).
    Pprime,
}

/// A resolved `[analysis]`.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisSettings {
    /// Counts 1..=this are suppressed.
    pub suppress_max: u64,
    /// Other counts round to this.
    pub round_to: u64,
    /// Under-represented threshold on the ratio's upper bound.
    pub under_represented: f64,
    /// Over-represented threshold on the ratio's lower bound.
    pub over_represented: f64,
    /// Log-odds prior strength.
    pub alpha0: f64,
    /// Raking weight cap.
    pub weight_cap: f64,
    /// Raking dimensions.
    pub raking_dimensions: Vec<String>,
    /// SPC period.
    pub spc_period: SpcPeriod,
    /// SPC chart.
    pub spc_chart: SpcChart,
    /// XmR: screen moving-range outliers.
    pub spc_screen_outliers: bool,
    /// Assurance targets per (theme code, measure).
    #[serde(serialize_with = "targets_as_written")]
    pub spc_targets: BTreeMap<(String, String), f64>,
    /// The most pairs of themes `cooccurrence` publishes (`[analysis] max_pairs`).
    pub max_pairs: usize,
    /// The most themes a record may carry for `cooccurrence` to be counted
    /// (`[analysis] max_record_themes`).
    pub max_record_themes: usize,
}

/// Pairs of themes `cooccurrence` publishes unless `[analysis] max_pairs` says otherwise: every
/// pair of the built-in codebook's 61 themes (1,830). A codebook of 488 themes had 118,828
/// pairs, 3 million rows over its groups, and took 7 s and 2.2 GB on 60,000 records.
pub(crate) const DEFAULT_MAX_PAIRS: usize = 2_000;

/// Themes a record may carry for `cooccurrence` to be counted unless `[analysis]
/// max_record_themes` says otherwise: more than the built-in codebook's 61, so that it never
/// withholds the table; a record of 64 themes has 2,016 pairs.
pub(crate) const DEFAULT_MAX_RECORD_THEMES: usize = 64;

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            suppress_max: 7,
            round_to: 5,
            under_represented: 0.8,
            over_represented: 1.25,
            alpha0: 100.0,
            weight_cap: 5.0,
            raking_dimensions: vec!["ethnicity".to_owned(), "age_band".to_owned(), "sex".to_owned()],
            spc_period: SpcPeriod::Month,
            spc_chart: SpcChart::Xmr,
            spc_screen_outliers: true,
            spc_targets: BTreeMap::new(),
            max_pairs: DEFAULT_MAX_PAIRS,
            max_record_themes: DEFAULT_MAX_RECORD_THEMES,
        }
    }
}

/// A resolved `[people]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeopleSettings {
    /// Age bands configured (`[people] age_bands`); without them the bands in force are the
    /// baseline's, else the source's own, else the default ones.
    pub age_bands: Option<Vec<crate::record::AgeBand>>,
    /// Lookup from a key (e.g. LSOA) to IMD decile.
    #[serde(serialize_with = "shown_opt_path")]
    pub imd_lookup: Option<PathBuf>,
    /// Per dimension: raw value → group.
    pub map: BTreeMap<String, BTreeMap<String, String>>,
    /// The most groups a dimension may have before the run stops (`[people] max_groups`);
    /// unset, [`PeopleSettings::group_limit`] sizes it by the codebook.
    pub max_groups: Option<usize>,
}

/// Groups a dimension may have unless `[people] max_groups` says otherwise: each group of a
/// dimension costs the run about a third of a megabyte for a year of months (every theme ×
/// period of `theme_by_group`, the counters, quotes and pairs: 1.7 GB more for 5,000 groups
/// over 100,000 records), so a column of ids or postcodes made a dimension stopped the machine
/// (found: 100,000 values took 24 GB and were killed) where it now stops the run, saying why.
pub(crate) const DEFAULT_MAX_GROUPS: usize = 5_000;

/// The themes [`DEFAULT_MAX_GROUPS`] is sized for: the default codebook's 61.
pub(crate) const THEMES_OF_THE_DEFAULT: usize = 61;

/// The months [`DEFAULT_MAX_GROUPS`] is sized for: a year's.
pub(crate) const MONTHS_OF_THE_DEFAULT: usize = 12;

impl PeopleSettings {
    /// The most groups a dimension may have in a run coding `themes` themes over `months`
    /// months: `[people] max_groups` if set, else 5,000 for up to 61 themes over up to 12 months,
    /// and proportionally fewer past them. A group costs memory for every theme and period
    /// (`theme_by_group` holds a row for each, and each month's counts are kept with the whole
    /// run's), so the default holds a run's rows to those of 5,000 groups × 61 themes × 13
    /// periods. Found: 3,000 groups of a column made a dimension, coded with a codebook of 488
    /// themes, took 11.7 GB over 20,000 records (1.2 GB with 61 themes); 1,500 groups over ten
    /// years of months took 8.2 GB over 40,000 (1.2 GB over one year; `benches/many_themes_and_months.py`).
    #[must_use]
    pub fn group_limit(&self, themes: usize, months: usize) -> usize {
        self.max_groups.unwrap_or_else(|| {
            let rows = DEFAULT_MAX_GROUPS * THEMES_OF_THE_DEFAULT * (MONTHS_OF_THE_DEFAULT + 1);
            (rows / (themes.max(THEMES_OF_THE_DEFAULT) * (months.max(MONTHS_OF_THE_DEFAULT) + 1))).max(1)
        })
    }
}

/// Command-line values that override (or stand in for) the pipeline file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--input`: replaces the pipeline's sources.
    pub inputs: Vec<PathBuf>,
    /// `--baseline`.
    pub baseline: Option<PathBuf>,
    /// `--baseline-name`: pick one of the pipeline's baselines.
    pub baseline_name: Option<String>,
    /// `--baseline-area` (repeatable): the areas of the baseline counted.
    pub baseline_areas: Vec<String>,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--threads`.
    pub threads: Option<usize>,
    /// `--codebook`.
    pub codebook: Option<PathBuf>,
    /// `--layout`: the export layout of every source.
    pub layout: Option<String>,
    /// `--question NAME=QUESTION` (repeatable): added to every source's `question_values`.
    pub questions: Vec<(String, Question)>,
    /// `--encoding`: replaces every source's `encoding`.
    pub encoding: Option<Encoding>,
    /// `--header-row`: replaces every source's `header_row`.
    pub header_row: Option<u64>,
    /// `--delimiter`: replaces every source's `delimiter`.
    pub delimiter: Option<u8>,
    /// `--date-format`: replaces every source's `date_format`.
    pub date_format: Option<String>,
    /// `--carry` / `--no-carry`: replaces every source's `carry`.
    pub carry: Option<Carry>,
    /// `--ids-per-file`: every source's ids are unique only within it.
    pub ids_per_file: bool,
    /// `--sheet`: replaces every source's `sheet`.
    pub sheet: Option<String>,
    /// `--change NAME=YYYY-MM-DD` (repeatable): added to the pipeline's changes, or replacing
    /// the one of the same name.
    pub changes: Vec<(String, chrono::NaiveDate)>,
    /// `--state`: replaces `[run] state`.
    pub state: Option<PathBuf>,
    /// `--full`.
    pub full: bool,
    /// `--prune`.
    pub prune: bool,
    /// `--no-state`: keep no state (replaces `[run] keep_state`).
    pub no_state: bool,
}

struct Ctx<'a> {
    file: String,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Option<Range<usize>>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            line: span.map(|s| line_of(self.text, s.start)),
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }
}

/// The key whose value is at `offset`, with its table (`run.threads`), if the line holding
/// `offset` is a `key = value` line (a value spanning lines is named by its first line).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = before[start..].split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = before[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_start_matches('[').split(']').next().unwrap_or_default().trim().to_owned());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_owned(),
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

impl Settings {
    /// Reads and resolves a pipeline file, then applies the overrides.
    ///
    /// # Errors
    /// Unreadable file, TOML syntax, unknown key or invalid value, each naming file, line and key.
    pub fn from_file(path: &Path, overrides: &Overrides) -> Result<Settings, ConfigError> {
        // `unheard run export.csv` (the file where its pipeline goes) was read as TOML and
        // refused with "line 1: key with no value", found trying careless flags
        // (a `.txt` may be a pipeline Notepad saved as `demo.toml.txt`: it is read as one)
        let txt = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"));
        if Format::from_path(path).is_some() && !txt {
            return Err(ConfigError {
                file: path.display().to_string(),
                line: None,
                key: None,
                message: format!(
                    "a data file, not a pipeline (a .toml file): read it with `unheard run --input {}`",
                    crate::ingest::shown(path)
                ),
            });
        }
        let text = crate::files::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            key: None,
            message: format!("cannot read pipeline file: {e}"),
        })?;
        Settings::from_toml(&text, path, overrides)
    }

    /// Resolves a pipeline given as TOML text; `path` locates relative paths and names errors.
    ///
    /// # Errors
    /// As [`Settings::from_file`].
    pub fn from_toml(text: &str, path: &Path, overrides: &Overrides) -> Result<Settings, ConfigError> {
        let ctx = Ctx { file: path.display().to_string(), text };
        let options: PipelineOptions = toml::from_str(text).map_err(|e| {
            // an unknown key is named in the message; a bad value's message names the value,
            // so its key is read from the line the error points at
            let key = if e.message().starts_with("unknown field") {
                e.message().split('`').nth(1).map(str::to_owned)
            } else {
                e.span().and_then(|s| key_at(text, s.start))
            };
            let mut message = e.message().trim_end_matches('\n').replace('\n', "; ");
            // a Windows path in double quotes: its backslashes read as escapes
            if message.contains("escape") {
                message.push_str(
                    "; a Windows path goes in single quotes ('C:\\data\\feedback.csv') or with forward slashes",
                );
            }
            // an unquoted date (`date = 2025-07-01`) is a TOML date, which serde sees as a map
            if message.contains("invalid type: map, expected a string")
                && key.as_deref().is_some_and(|k| k.ends_with("date") || k.ends_with("from") || k.ends_with("to"))
            {
                message.push_str("; write the date in quotes: \"2025-07-01\"");
            }
            ConfigError { file: ctx.file.clone(), line: e.span().map(|s| line_of(text, s.start)), key, message }
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("run").to_owned();
        resolve(options, &ctx, &base, &stem, Some(path.to_path_buf()), overrides)
    }

    /// Settings for a run with no pipeline file: `--input` files with canonical columns.
    ///
    /// # Errors
    /// No `--input` given, or an input whose format cannot be told from its extension.
    pub fn from_overrides(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let ctx = Ctx { file: "<command line>".to_owned(), text: "" };
        if overrides.inputs.is_empty() {
            return Err(ctx.err(None, "--input", "give a pipeline file or at least one --input"));
        }
        resolve(PipelineOptions::default(), &ctx, Path::new(""), "run", None, overrides)
    }
}

/// Resolves a parsed pipeline (or none) and the command line into settings, one step per part
/// of the run; the steps run in this order, so the first fault found is the one reported.
fn resolve(
    options: PipelineOptions,
    ctx: &Ctx<'_>,
    base: &Path,
    stem: &str,
    pipeline: Option<PathBuf>,
    overrides: &Overrides,
) -> Result<Settings, ConfigError> {
    let name = run_name(&options, ctx, stem)?;
    let out = out_folder(&options, base, &name, overrides);
    let codebook = codebook_source(&options, base, overrides);
    let baselines = resolve_baselines(&options, ctx, base)?;
    let baseline = chosen_baseline(&options, ctx, &baselines, overrides)?;
    let sources = resolve_sources(&options, ctx, base, overrides)?;
    let dimensions = resolve_dimensions(&options, ctx, &sources)?;
    let people = resolve_people(&options, ctx, base)?;
    let analysis = resolve_analysis(&options, ctx)?;
    // a raking dimension the run does not have was passed over unsaid (found by a reader in the
    // twenty-sixth session on issue 9); the defaults the run lacks are passed over, as they are
    // defaults
    if options.analysis.raking_dimensions.is_some() {
        if let Some(unknown) = analysis.raking_dimensions.iter().find(|r| !dimensions.contains(r)) {
            return Err(ctx.err(
                None,
                "analysis.raking_dimensions",
                format!("{unknown:?} is not one of the run's dimensions ({})", dimensions.join(", ")),
            ));
        }
    }
    let coder = resolve_coder(&options, ctx, base)?;
    let threads = resolve_threads(&options, ctx, overrides)?;
    let changes = resolve_changes(&options, ctx, &sources, overrides)?;
    let keep_original_text = options.run.keep_original_text.unwrap_or(false);
    let state = state_folder(&options, ctx, base, &out, overrides, keep_original_text)?;
    Ok(Settings {
        name,
        pipeline,
        out,
        threads,
        max_field_chars: options.run.max_field_chars.unwrap_or(DEFAULT_MAX_FIELD_CHARS),
        ids_in_memory: options
            .run
            .ids_in_memory
            .unwrap_or(crate::fingerprints::DEFAULT_IN_MEMORY)
            .max(crate::fingerprints::FEWEST_IN_MEMORY),
        date_window: date_window(ctx, "run.date_window", options.run.date_window.as_ref())?
            .unwrap_or_else(DateWindow::default_window),
        keep_original_text,
        codebook,
        baseline,
        baselines,
        sources,
        dimensions,
        people,
        analysis,
        coder,
        changes,
        state,
        quotes_per_cell: options.report.quotes_per_cell.unwrap_or(3),
        emerging_months: options.report.emerging_months.unwrap_or(3).max(1),
        full: overrides.full,
        prune: overrides.prune,
    })
}

/// The state folder: `--state`, else `[run] state`, else `<out>.state` beside the output; never
/// the output, inside it, or holding it. None when the run keeps the original text.
fn state_folder(
    options: &PipelineOptions,
    ctx: &Ctx<'_>,
    base: &Path,
    out: &Path,
    overrides: &Overrides,
    keep_original_text: bool,
) -> Result<Option<PathBuf>, ConfigError> {
    let (key, given) = match (&overrides.state, &options.run.state) {
        (Some(p), _) => ("--state", Some(p.clone())),
        (None, Some(p)) => ("run.state", Some(join(base, p))),
        (None, None) => ("run.state", None),
    };
    if overrides.no_state {
        return Ok(None);
    }
    // `--state DIR` asks for a state: it replaces the pipeline's `keep_state = false` like
    // every flag replaces its key (found: the demo's `--state s1` kept none, unsaid)
    if options.run.keep_state == Some(false) && overrides.state.is_none() {
        return match options.run.state {
            Some(_) => Err(ctx.err(
                None,
                "run.keep_state",
                "keep_state = false keeps no state, yet run.state names one: remove one of the two",
            )),
            None => Ok(None),
        };
    }
    if keep_original_text {
        return match given {
            Some(_) => Err(ctx.err(None, key, "a state holds redacted text only: it cannot serve a run that keeps the original text (keep_original_text = true)")),
            None => Ok(None),
        };
    }
    let state = given.unwrap_or_else(|| {
        let name = out.file_name().map_or_else(|| "unheard".into(), |n| n.to_string_lossy().into_owned());
        out.with_file_name(format!("{name}.state"))
    });
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (s, o) = (absolute(&state), absolute(out));
    // (an output with no name, `.` or `..`, is refused by the output's own check)
    if out.file_name().is_some() && (s.starts_with(&o) || o.starts_with(&s)) {
        return Err(ctx.err(
            None,
            key,
            format!("the state {} must lie outside the output {} (and not hold it)", state.display(), out.display()),
        ));
    }
    Ok(Some(state))
}

/// `[[change]]` and `--change`: names unique and non-empty, dates real, windows of at least a
/// day, source filters naming sources of the run. Whether a change falls within the data is
/// known only once the data is read (the run checks it).
fn resolve_changes(
    options: &PipelineOptions,
    ctx: &Ctx<'_>,
    sources: &[SourceSettings],
    overrides: &Overrides,
) -> Result<Vec<Change>, ConfigError> {
    let mut changes: Vec<Change> = Vec::new();
    for spanned in &options.changes {
        let c = spanned.get_ref();
        let at = |key: &str, m: String| ctx.err(Some(spanned.span()), &format!("change.{key}"), m);
        let date = iso_date(c.date.get_ref().trim()).ok_or_else(|| {
            ctx.err(
                Some(c.date.span()),
                "change.date",
                format!("{:?} is not a date; write YYYY-MM-DD", c.date.get_ref()),
            )
        })?;
        let window_days = match &c.window_days {
            None => None,
            Some(w) => Some(u32::try_from(*w.get_ref()).ok().filter(|&d| d >= 1).ok_or_else(|| {
                ctx.err(
                    Some(w.span()),
                    "change.window_days",
                    // (a window past u32 was told to be "at least 1": found by a reader)
                    if *w.get_ref() >= 1 {
                        format!("{}: give a number of days of at most {}", w.get_ref(), u32::MAX)
                    } else {
                        format!("{}: give a number of days of at least 1", w.get_ref())
                    },
                )
            })?),
        };
        let org = [c.org_level_1.clone(), c.org_level_2.clone(), c.org_level_3.clone()].map(Option::unwrap_or_default);
        let names = c.source.clone().unwrap_or_default();
        if let Some(unknown) = names.iter().find(|n| !sources.iter().any(|s| &s.name == *n)) {
            let known: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
            return Err(at(
                "source",
                format!("change {:?}: no source is named {unknown:?} (sources: {})", c.name, known.join(", ")),
            ));
        }
        // a change's name is written (`comparisons`, the report, the manifest): redacted, as a
        // path is ("Dr Smith left" was written as typed)
        let name = crate::text::redact::scrubbed(c.name.trim());
        // named at the second's line (it was an error without a line)
        if changes.iter().any(|x| x.name == name) {
            return Err(at("name", format!("two changes are named {name:?}; give each a distinct name")));
        }
        changes.push(Change { name, date, window_days, org, sources: names });
    }
    let mut given = BTreeSet::new();
    for (name, date) in &overrides.changes {
        if !given.insert(name.trim()) {
            return Err(ctx.err(
                None,
                "--change",
                format!("--change {:?} is given twice; give each change once, or distinct names", name.trim()),
            ));
        }
        let c = Change {
            name: crate::text::redact::scrubbed(name.trim()),
            date: *date,
            window_days: None,
            org: Default::default(),
            sources: Vec::new(),
        };
        match changes.iter_mut().find(|x| x.name == c.name) {
            // the command line moves a change of the pipeline to another date, filters kept
            Some(x) => x.date = c.date,
            None => changes.push(c),
        }
    }
    let mut seen = BTreeSet::new();
    for c in &changes {
        if c.name.is_empty() || c.name.chars().any(char::is_control) {
            return Err(ctx.err(None, "change.name", format!("invalid change name {:?}", c.name)));
        }
        if !seen.insert(c.name.clone()) {
            return Err(ctx.err(
                None,
                "change.name",
                format!("two changes are named {:?}; give each a distinct name", c.name),
            ));
        }
    }
    Ok(changes)
}

/// The run's name: `run.name`, else the pipeline file's stem; it names a folder.
fn run_name(options: &PipelineOptions, ctx: &Ctx<'_>, stem: &str) -> Result<String, ConfigError> {
    // redacted as every name written out is: a pipeline saved as `pals Dr X 943 476 5919.toml`
    // named the manifest, the report's title and the summary as typed (found by a reader in the
    // twenty-sixth session on issue 9)
    let name = crate::text::redact::scrubbed(&options.run.name.clone().unwrap_or_else(|| stem.to_owned()));
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(ctx.err(None, "run.name", format!("invalid run name {name:?}")));
    }
    Ok(name)
}

/// The output folder: `--out`, else `run.out`, else `out/<name>`.
fn out_folder(options: &PipelineOptions, base: &Path, name: &str, overrides: &Overrides) -> PathBuf {
    match (&overrides.out, &options.run.out) {
        (Some(o), _) => o.clone(),
        (None, Some(o)) => join(base, o),
        (None, None) => PathBuf::from("out").join(name),
    }
}

/// The codebook: `--codebook`, else `[codebook] path`, else the built-in one.
fn codebook_source(options: &PipelineOptions, base: &Path, overrides: &Overrides) -> CodebookSource {
    match (&overrides.codebook, &options.codebook) {
        (Some(p), _) => CodebookSource::Path(p.clone()),
        (None, Some(c)) => CodebookSource::Path(join(base, c.path.get_ref())),
        (None, None) => CodebookSource::Builtin,
    }
}

/// Every `[[baseline]]` of the pipeline, each under a distinct name.
fn resolve_baselines(
    options: &PipelineOptions,
    ctx: &Ctx<'_>,
    base: &Path,
) -> Result<Vec<BaselineSettings>, ConfigError> {
    let baselines: Vec<BaselineSettings> = options
        .baselines
        .iter()
        .map(|b| {
            let path = join(base, b.get_ref().path.get_ref());
            let sum_duplicates = match b.get_ref().duplicates.as_ref().map(|d| d.get_ref().as_str()) {
                None | Some("error") => false,
                Some("sum") => true,
                Some(other) => {
                    return Err(ctx.err(
                        b.get_ref().duplicates.as_ref().map(Spanned::span),
                        "baseline.duplicates",
                        format!("{other:?}: write \"error\" (the default) or \"sum\""),
                    ))
                }
            };
            let areas = b.get_ref().areas.as_ref().map_or_else(Vec::new, |a| a.get_ref().clone());
            if let Some(a) = b.get_ref().areas.as_ref().filter(|a| a.get_ref().iter().any(|x| x.trim().is_empty())) {
                return Err(ctx.err(
                    Some(a.span()),
                    "baseline.areas",
                    "an area is blank: write each area's code or name",
                ));
            }
            Ok(BaselineSettings {
                name: b.get_ref().name.as_deref().map_or_else(|| file_stem(&path), crate::text::redact::scrubbed),
                path,
                sum_duplicates,
                areas,
            })
        })
        .collect::<Result<_, _>>()?;
    for (i, b) in baselines.iter().enumerate() {
        if baselines[..i].iter().any(|o| o.name == b.name) {
            return Err(ctx.err(
                Some(options.baselines[i].span()),
                "baseline.name",
                format!("two baselines are named {:?}", b.name),
            ));
        }
    }
    Ok(baselines)
}

/// The baseline this run uses: `--baseline`, else the one `--baseline-name` or `run.baseline`
/// names, else the pipeline's first.
fn chosen_baseline(
    options: &PipelineOptions,
    ctx: &Ctx<'_>,
    baselines: &[BaselineSettings],
    overrides: &Overrides,
) -> Result<Option<BaselineSettings>, ConfigError> {
    let wanted = overrides.baseline_name.clone().or_else(|| options.run.baseline.as_ref().map(|n| n.get_ref().clone()));
    let chosen = match (&overrides.baseline, wanted) {
        (Some(p), _) => {
            Some(BaselineSettings { name: file_stem(p), path: p.clone(), sum_duplicates: false, areas: Vec::new() })
        }
        (None, Some(name)) => Some(baselines.iter().find(|b| b.name == name).cloned().ok_or_else(|| {
            ctx.err(
                options.run.baseline.as_ref().map(Spanned::span),
                "run.baseline",
                format!(
                    "no baseline named {name:?}; the pipeline has {:?}",
                    baselines.iter().map(|b| b.name.as_str()).collect::<Vec<_>>()
                ),
            )
        })?),
        (None, None) => baselines.first().cloned(),
    };
    if overrides.baseline_areas.is_empty() {
        return Ok(chosen);
    }
    if overrides.baseline_areas.iter().any(|a| a.trim().is_empty()) {
        return Err(ctx.err(None, "--baseline-area", "an area is blank: give each area's code or name"));
    }
    match chosen {
        // the command line's areas replace the pipeline's for this run
        Some(b) => Ok(Some(BaselineSettings { areas: overrides.baseline_areas.clone(), ..b })),
        None => Err(ctx.err(
            None,
            "--baseline-area",
            "names areas of a baseline, but the run has none: give --baseline FILE or a [[baseline]] in the pipeline",
        )),
    }
}

/// The sources: the `--input` files, else the pipeline's `[[source]]`s; then the command
/// line's per-source overrides; each source under a distinct name.
fn resolve_sources(
    options: &PipelineOptions,
    ctx: &Ctx<'_>,
    base: &Path,
    overrides: &Overrides,
) -> Result<Vec<SourceSettings>, ConfigError> {
    let mut sources = if overrides.inputs.is_empty() {
        if options.sources.is_empty() {
            return Err(ctx.err(None, "source", "the pipeline has no [[source]]; add one or pass --input"));
        }
        let mut sources = Vec::new();
        for s in &options.sources {
            let given = join(base, s.get_ref().path.get_ref());
            let files = expand(&given).map_err(|m| ctx.err(Some(s.get_ref().path.span()), "source.path", m))?;
            if files == [given.clone()] {
                sources.push(resolve_source(s, ctx, &given)?);
                continue;
            }
            if let Some(name) = &s.get_ref().name {
                return Err(ctx.err(
                    Some(s.span()),
                    "source.name",
                    format!(
                        "a pattern's files are each a source named by its file's stem; remove `name = {name:?}` \
                         (its records' source would change as files arrive)"
                    ),
                ));
            }
            let mut matched = files.iter().map(|f| resolve_source(s, ctx, f)).collect::<Result<Vec<_>, _>>()?;
            name_inputs_apart(&mut matched, ctx)?;
            sources.extend(matched);
        }
        sources
    } else {
        let mut files = Vec::new();
        for p in &overrides.inputs {
            files.extend(expand(p).map_err(|m| ctx.err(None, "--input", m))?);
        }
        let mut inputs = files.iter().map(|p| input_source(p, ctx)).collect::<Result<Vec<_>, _>>()?;
        name_inputs_apart(&mut inputs, ctx)?;
        inputs
    };
    apply_source_overrides(&mut sources, ctx, overrides)?;
    // one file as two sources of a pipeline (`a.csv`, `./a.csv`): every row of the second was
    // quarantined as a duplicate, exit 1, where `--input` refuses it (found by a reader in the
    // twenty-sixth session on issue 9); two sheets of one workbook are two sources
    let identity: Vec<Option<String>> = sources.iter().map(|s| crate::files::identity(&s.path)).collect();
    for (i, id) in identity.iter().enumerate() {
        let same = |j: &usize| identity[*j].is_some() && identity[*j] == *id && sources[*j].sheet == sources[i].sheet;
        if let Some(j) = (0..i).find(same) {
            return Err(ctx.err(
                None,
                "source.path",
                format!(
                    "sources {:?} and {:?} read the same file ({} and {}): every row of the second would be a duplicate; give it once",
                    sources[j].name,
                    sources[i].name,
                    crate::ingest::shown(&sources[j].path),
                    crate::ingest::shown(&sources[i].path)
                ),
            ));
        }
    }
    let mut names = BTreeSet::new();
    for s in &sources {
        if !names.insert(s.name.clone()) {
            return Err(ctx.err(
                None,
                "source.name",
                format!("two sources are named {:?}; give each a distinct name", s.name),
            ));
        }
    }
    Ok(sources)
}

/// `--input` files are named by their stem; inputs sharing a stem (`a.csv`, `a.parquet`) by
/// their file name, and those sharing a file name (`site-a/f.csv`, `site-b/f.csv`) by their path
/// as given — every one of a clash, not the later ones only (the first of two `f.csv` was named
/// `f.csv` and the second `f`, found trying it). The same file given twice is an error.
fn name_inputs_apart(sources: &mut [SourceSettings], ctx: &Ctx<'_>) -> Result<(), ConfigError> {
    let canonical: Vec<Option<String>> = sources.iter().map(|s| crate::files::identity(&s.path)).collect();
    for (i, c) in canonical.iter().enumerate() {
        if let Some(j) = c.as_ref().and_then(|c| canonical[..i].iter().position(|d| d.as_ref() == Some(c))) {
            return Err(ctx.err(
                None,
                "--input",
                format!(
                    "{} and {} are the same file; give it once (its rows would all be duplicates)",
                    sources[j].path.display(),
                    sources[i].path.display()
                ),
            ));
        }
    }
    let renames: [fn(&SourceSettings) -> String; 2] = [
        |s| crate::text::redact::scrubbed(s.path.file_name().and_then(|n| n.to_str()).unwrap_or("source")),
        |s| crate::ingest::shown(&s.path),
    ];
    for rename in renames {
        let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        for (s, name) in sources.iter_mut().zip(&names) {
            if names.iter().filter(|n| *n == name).count() > 1 {
                s.name = rename(s);
            }
        }
    }
    Ok(())
}

/// `--encoding`, `--header-row`, `--delimiter`, `--date-format`, `--sheet`, `--layout` and `--question` applied to
/// every source.
fn apply_source_overrides(
    sources: &mut [SourceSettings],
    ctx: &Ctx<'_>,
    overrides: &Overrides,
) -> Result<(), ConfigError> {
    // a flag for one kind of file, with no input of that kind, would be passed over unsaid
    // (found: `--sheet Data` on a CSV)
    let kinds: [(&str, bool, &[Format], &str); 4] = [
        ("--sheet", overrides.sheet.is_some(), &[Format::Xlsx], "a workbook's sheet"),
        ("--encoding", overrides.encoding.is_some(), &[Format::Csv], "a CSV's encoding"),
        ("--delimiter", overrides.delimiter.is_some(), &[Format::Csv], "a CSV's delimiter"),
        (
            "--header-row",
            overrides.header_row.is_some(),
            &[Format::Csv, Format::Xlsx],
            "a CSV's or workbook's header line",
        ),
    ];
    for (flag, given, kinds, what) in kinds {
        if given && !sources.is_empty() && !sources.iter().any(|s| kinds.contains(&s.format)) {
            let files: Vec<String> = sources.iter().map(|s| s.path.display().to_string()).collect();
            return Err(ctx.err(None, flag, format!("{flag} sets {what}, and no input is one ({})", files.join(", "))));
        }
    }
    for s in sources.iter_mut() {
        if let Some(e) = overrides.encoding {
            s.encoding = e;
        }
        if let Some(h) = overrides.header_row {
            s.header_row = Some(h);
        }
        if let Some(d) = overrides.delimiter {
            (s.delimiter, s.delimiter_given) = (d, true);
        }
        if let Some(f) = &overrides.date_format {
            s.date_format = DateFormat(f.clone());
        }
        s.ids_per_file |= overrides.ids_per_file;
        if let Some(sheet) = &overrides.sheet {
            s.sheet = Some(sheet.clone());
        }
        if let Some(l) = &overrides.layout {
            s.layout = Some(l.clone());
        }
        if let Some(c) = &overrides.carry {
            s.carry = c.clone();
        }
        for (raw, q) in &overrides.questions {
            s.question_values.insert(raw.clone(), *q);
        }
    }
    if let Some(l) = &overrides.layout {
        check_layout(ctx, None, "--layout", l)?;
    }
    Ok(())
}

/// The columns `records` computes, beside the canonical ones: no dimension may take their names.
const RECORDS_OWN_COLUMNS: [&str; 11] = [
    "source",
    "redactions_n",
    "polarity",
    "sentiment_score",
    "is_non_informative",
    "non_informative_reading",
    "themes_n",
    "concerns_n",
    "text_chars_n",
    "source_file",
    "source_row",
];

/// The run's dimensions: the canonical ones, then extra ones (`run.dimensions` and the
/// sources' mapped columns that are not canonical), snake_case, in sorted order.
fn resolve_dimensions(
    options: &PipelineOptions,
    ctx: &Ctx<'_>,
    sources: &[SourceSettings],
) -> Result<Vec<String>, ConfigError> {
    let mut extra: BTreeSet<String> = options.run.dimensions.clone().unwrap_or_default().into_iter().collect();
    for s in sources {
        for key in s.columns.keys() {
            if !CANONICAL_FIELDS.contains(&key.as_str()) && !CANONICAL_DIMENSIONS.contains(&key.as_str()) {
                extra.insert(key.clone());
            }
        }
    }
    for e in &extra {
        if !is_snake_case(e) {
            return Err(ctx.err(None, "columns", format!("dimension name {e:?} must be snake_case (a-z, 0-9, _)")));
        }
        // a dimension is a column of `records` and a `dimension` of the tables (found: `month`
        // was hidden by the partition folder's month in every reader, pandas refused the folder,
        // and `group` made `select group from …` a parse error)
        let clash = if e == "month" {
            Some("the month partition of records/ and record_themes/ (readers put the folder's month in its place)")
        } else if RECORDS_OWN_COLUMNS.contains(&e.as_str())
            || (CANONICAL_FIELDS.contains(&e.as_str()) && !CANONICAL_DIMENSIONS.contains(&e.as_str()))
        {
            // `text`, `record_id`, `org_level_1` made a second column of that name, a file pyarrow
            // refuses (found by a reader in the twenty-sixth session on issue 9)
            Some("a column records/ writes itself")
        } else if e.starts_with("x_") {
            Some("named as a carried column is (x_…), and may be one")
        } else if crate::record::SQL_RESERVED.contains(&e.as_str()) {
            Some("an SQL reserved word (a BI tool's query would not parse)")
        } else {
            None
        };
        if let Some(why) = clash {
            return Err(ctx.err(
                None,
                "columns",
                format!("dimension name {e:?} is {why}: name it otherwise (its column may keep its header)"),
            ));
        }
    }
    Ok(CANONICAL_DIMENSIONS
        .iter()
        .map(|s| (*s).to_owned())
        .chain(extra.into_iter().filter(|e| !CANONICAL_DIMENSIONS.contains(&e.as_str())))
        .collect())
}

/// `[people]`: age bands, the IMD lookup and the value maps.
fn resolve_people(options: &PipelineOptions, ctx: &Ctx<'_>, base: &Path) -> Result<PeopleSettings, ConfigError> {
    let mut people = PeopleSettings::default();
    if let Some(bands) = &options.people.age_bands {
        people.age_bands = Some(
            bands
                .get_ref()
                .iter()
                .map(|b| {
                    crate::record::AgeBand::parse(b).ok_or_else(|| {
                        ctx.err(
                            Some(bands.span()),
                            "people.age_bands",
                            format!("{b:?} is not an age band; write e.g. \"25-34\" or \"75+\""),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        );
        // an age in two bands, or in none of no bands, is a setting that cannot be meant (found:
        // `["0-17", "15-64", "65+"]` and `[]` were taken as they were)
        let err = |message: String| ctx.err(Some(bands.span()), "people.age_bands", message);
        let mut sorted: Vec<&crate::record::AgeBand> = people.age_bands.iter().flatten().collect();
        if sorted.is_empty() {
            return Err(err("no band given: list the bands (e.g. [\"0-15\", \"16-64\", \"65+\"]), or leave age_bands unset to use the baseline's or the records' own".to_owned()));
        }
        sorted.sort_by_key(|b| (b.lo, b.hi.unwrap_or(u32::MAX)));
        for pair in sorted.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.hi.is_none_or(|hi| hi >= b.lo) {
                let both = match (a.hi, b.hi) {
                    (Some(x), Some(y)) => format!("{}-{}", b.lo, x.min(y)),
                    (Some(x), None) | (None, Some(x)) => format!("{}-{x}", b.lo),
                    (None, None) => format!("{}+", b.lo),
                };
                let ages =
                    if both == format!("{0}-{0}", b.lo) { format!("age {}", b.lo) } else { format!("ages {both}") };
                return Err(err(format!(
                    "the bands {:?} and {:?} overlap ({ages} would be in both): give bands that do not overlap",
                    a.label, b.label
                )));
            }
        }
    }
    people.imd_lookup = options.people.imd_lookup.as_ref().map(|p| join(base, p.get_ref()));
    // the values are read redacted, and a group is written out: both sides redacted (a target
    // `"Dr X 3374514413 group"` was published as typed: found by a reader in the twenty-sixth
    // session on issue 9)
    let scrub = crate::text::redact::scrubbed;
    people.map = options
        .people
        .map
        .iter()
        .map(|(d, m)| (d.clone(), m.iter().map(|(raw, group)| (scrub(raw), scrub(group))).collect()))
        .collect();
    if let Some(max) = &options.people.max_groups {
        people.max_groups = Some(at_least_one(ctx, max, "people.max_groups")?);
    }
    Ok(people)
}

/// A count that must be 1 or more (`key` is `table.name`), or an error where it is written.
fn at_least_one(ctx: &Ctx<'_>, v: &Spanned<usize>, key: &str) -> Result<usize, ConfigError> {
    match *v.get_ref() {
        0 => {
            let name = key.rsplit('.').next().unwrap_or(key);
            Err(ctx.err(Some(v.span()), key, format!("{name} must be at least 1")))
        }
        n => Ok(n),
    }
}

/// `[analysis]`, each setting unset taking its default, within its bounds.
fn resolve_analysis(options: &PipelineOptions, ctx: &Ctx<'_>) -> Result<AnalysisSettings, ConfigError> {
    let a = &options.analysis;
    let d = AnalysisSettings::default();
    let analysis = AnalysisSettings {
        suppress_max: a.suppress_max.unwrap_or(d.suppress_max),
        round_to: a.round_to.unwrap_or(d.round_to),
        under_represented: a.under_represented.unwrap_or(d.under_represented),
        over_represented: a.over_represented.unwrap_or(d.over_represented),
        alpha0: a.alpha0.unwrap_or(d.alpha0),
        weight_cap: a.weight_cap.unwrap_or(d.weight_cap),
        raking_dimensions: a.raking_dimensions.clone().unwrap_or(d.raking_dimensions),
        spc_period: match &a.spc_period {
            None => d.spc_period,
            Some(v) => match v.get_ref().as_str() {
                "month" => SpcPeriod::Month,
                "week" => SpcPeriod::Week,
                other => {
                    return Err(ctx.err(
                        Some(v.span()),
                        "analysis.spc_period",
                        format!("{other:?}: expected month or week"),
                    ))
                }
            },
        },
        spc_chart: match &a.spc_chart {
            None => d.spc_chart,
            Some(v) => match v.get_ref().as_str() {
                "xmr" => SpcChart::Xmr,
                "p" => SpcChart::P,
                "pprime" => SpcChart::Pprime,
                other => {
                    return Err(ctx.err(
                        Some(v.span()),
                        "analysis.spc_chart",
                        format!("{other:?}: expected xmr, p or pprime"),
                    ))
                }
            },
        },
        spc_screen_outliers: a.spc_screen_outliers.unwrap_or(d.spc_screen_outliers),
        spc_targets: match &a.spc_targets {
            None => d.spc_targets,
            Some(t) => t
                .get_ref()
                .iter()
                .map(|(key, &target)| match key.split_once(':') {
                    Some((code, m @ ("mentions" | "concerns"))) if !code.is_empty() && (0.0..=1.0).contains(&target) => {
                        Ok(((code.to_owned(), m.to_owned()), target))
                    }
                    _ => Err(ctx.err(
                        Some(t.span()),
                        "analysis.spc_targets",
                        format!("{key:?} = {target}: write \"THEME_CODE:mentions\" or \"THEME_CODE:concerns\" = a share from 0 to 1"),
                    )),
                })
                .collect::<Result<_, _>>()?,
        },
        max_pairs: match &a.max_pairs {
            None => d.max_pairs,
            Some(v) => at_least_one(ctx, v, "analysis.max_pairs")?,
        },
        max_record_themes: match &a.max_record_themes {
            None => d.max_record_themes,
            Some(v) => at_least_one(ctx, v, "analysis.max_record_themes")?,
        },
    };
    // each bound named with its key and value (they were one message for all four, and
    // `under_represented = 2.0` flagged groups twice their share as under-represented,
    // `round_to = 0` was taken as 1)
    let bounds = [
        ("alpha0", analysis.alpha0, analysis.alpha0 > 0.0, "above 0"),
        ("weight_cap", analysis.weight_cap, analysis.weight_cap > 1.0, "above 1"),
        (
            "under_represented",
            analysis.under_represented,
            analysis.under_represented > 0.0 && analysis.under_represented <= 1.0,
            "above 0 and at most 1 (a group is flagged when its ratio's upper bound is below it)",
        ),
        ("over_represented", analysis.over_represented, analysis.over_represented > 1.0, "above 1"),
        ("round_to", analysis.round_to as f64, analysis.round_to >= 1, "at least 1 (1: counts not rounded)"),
    ];
    if let Some((key, value, _, rule)) = bounds.into_iter().find(|b| !b.2) {
        return Err(ctx.err(None, &format!("analysis.{key}"), format!("{value} is not allowed: {key} must be {rule}")));
    }
    Ok(analysis)
}

/// Worker threads: `--threads`, else `run.threads`, else 0 (all cores); at most 4 per core.
fn resolve_threads(options: &PipelineOptions, ctx: &Ctx<'_>, overrides: &Overrides) -> Result<usize, ConfigError> {
    let threads = overrides.threads.or(options.run.threads).unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if threads > cores * 4 {
        let key = if overrides.threads.is_some() { "--threads" } else { "run.threads" };
        return Err(ctx.err(
            None,
            key,
            format!("{threads} threads is more than 4 × the {cores} cores of this machine"),
        ));
    }
    Ok(threads)
}

fn resolve_coder(options: &PipelineOptions, ctx: &Ctx<'_>, base: &Path) -> Result<CoderSettings, ConfigError> {
    let Some(spanned) = &options.coder else { return Ok(CoderSettings::default()) };
    let c = spanned.get_ref();
    let model = c.model.as_ref().map(|m| join(base, m.get_ref()));
    let label_map = c.label_map.as_ref().map(|m| join(base, m.get_ref()));
    let policy = match &c.policy {
        None if model.is_some() => Policy::Union,
        None => Policy::CodebookOnly,
        Some(p) => match p.get_ref().as_str() {
            "union" => Policy::Union,
            "model_only" => Policy::ModelOnly,
            "codebook_only" => Policy::CodebookOnly,
            other => {
                return Err(ctx.err(
                    Some(p.span()),
                    "coder.policy",
                    format!("unknown policy {other:?}; expected union, model_only or codebook_only"),
                ))
            }
        },
    };
    if policy != Policy::CodebookOnly && model.is_none() {
        return Err(ctx.err(
            c.policy.as_ref().map(Spanned::span).or(Some(spanned.span())),
            "coder.model",
            "this policy needs a model; set `model` (from `unheard train`) or use policy = \"codebook_only\"",
        ));
    }
    if model.is_some() && label_map.is_none() {
        return Err(ctx.err(
            c.model.as_ref().map(Spanned::span),
            "coder.label_map",
            "a model needs a label map (`theme_code,label` CSV), e.g. label_map = \"label-maps/fft-v6.csv\"",
        ));
    }
    Ok(CoderSettings { model, policy, label_map })
}

/// The home folder as a shell finds it: `HOME` when set and not empty, else the user's entry
/// in the password database (a timer or cron job with no `HOME` wrote `out = "~/x"` to a folder
/// named `~` beside the pipeline, and one with `HOME=` to `x` in the working folder, each a new
/// output and state with nothing said: found by a reader in the twenty-sixth session on issue 9).
fn home_dir() -> Option<PathBuf> {
    let set = |v: &str| std::env::var_os(v).filter(|h| !h.is_empty()).map(PathBuf::from);
    set("HOME").or_else(|| set("USERPROFILE")).or_else(password_home)
}

#[cfg(unix)]
fn password_home() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: `pwd` and `result` are valid out-pointers, `buf` outlives the call and its length
    // is passed; the strings read are inside `buf` and NUL-terminated by libc
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(libc::getuid(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        let dir = std::ffi::CStr::from_ptr(pwd.pw_dir).to_bytes();
        (!dir.is_empty()).then(|| PathBuf::from(std::ffi::OsStr::from_bytes(dir)))
    }
}

#[cfg(not(unix))]
fn password_home() -> Option<PathBuf> {
    None
}

/// `base/p`, with `.` and `dir/..` folded away (lexically: the paths are shown to people); a
/// path from `~/` is from the home folder, as a shell reads it (found: `out = "~/reports"` made
/// a folder named `~` beside the pipeline).
fn join(base: &Path, p: &str) -> PathBuf {
    use std::path::Component;
    let joined = match (p.strip_prefix('~'), home_dir()) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
            home.join(rest.trim_start_matches(['/', '\\']))
        }
        _ => base.join(p),
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

fn shown_path<S: serde::Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::ingest::shown(path))
}

// Paths, sheet names and headers a user gives are written out redacted, as the paths of inputs
// are (found in the twenty-fourth session on issue 9: `--out`, `--state`, a sheet's name and
// `--carry`'s headers were in the manifest as given, personal data and all).
#[allow(clippy::ref_option)]
fn shown_opt_path<S: serde::Serializer>(path: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(p) => s.serialize_some(&crate::ingest::shown(p)),
        None => s.serialize_none(),
    }
}

#[allow(clippy::ref_option)]
fn shown_opt_str<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(t) => s.serialize_some(&crate::text::redact::scrubbed(t)),
        None => s.serialize_none(),
    }
}

/// `spc_targets` as the pipeline writes them, `"ACC02:concerns" = 0.05`: a JSON object's keys
/// are strings (found: any target stopped every run at the manifest, "key must be a string").
fn targets_as_written<S: serde::Serializer>(
    targets: &BTreeMap<(String, String), f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(targets.iter().map(|((code, measure), v)| (format!("{code}:{measure}"), v)))
}

fn shown_strs<S: serde::Serializer>(texts: &[String], s: S) -> Result<S::Ok, S::Error> {
    crate::text::redact::scrubbed_seq(texts, s)
}

/// A source (or baseline) named after its file: the stem, its personal data redacted.
fn file_stem(path: &Path) -> String {
    crate::text::redact::scrubbed(path.file_stem().and_then(|s| s.to_str()).unwrap_or("source"))
}

fn input_source(path: &Path, ctx: &Ctx<'_>) -> Result<SourceSettings, ConfigError> {
    if path.is_dir() {
        // found: a folder of exports was "cannot tell the format from the extension"
        let m = format!(
            "{}: a folder, not a file: give its files (`--input {}/*.csv`), or list them as [[source]] in a pipeline",
            path.display(),
            path.display()
        );
        return Err(ctx.err(None, "--input", m));
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml")) {
        // `--input` takes several files: a pipeline after them is read as one more
        let m = format!(
            "{}: a pipeline, not an input: give it before the inputs (`unheard run {} --input FILE…`)",
            path.display(),
            path.display()
        );
        return Err(ctx.err(None, "--input", m));
    }
    let format = match Format::from_path(path) {
        Some(format) => format,
        None => sniffed(path).map_err(|m| ctx.err(None, "--input", m))?,
    };
    Ok(SourceSettings::plain(&file_stem(path), path, format))
}

/// The format of a file whose name does not tell it (no extension, another one, `.gz` alone),
/// from its first bytes; else why it cannot be read. Standard input and pipes are refused as
/// what they are (they were "cannot tell the format from the extension").
fn sniffed(path: &Path) -> Result<Format, String> {
    let unknown = || {
        format!(
            "{}: cannot tell the format from the extension (use .csv, .jsonl, .json, .parquet, .xlsx, .xls or .ods)",
            path.display()
        )
    };
    if path == Path::new("-") {
        return Err(
            "-: standard input is not read (a run reads each input more than once): save it to a file and give that"
                .to_owned(),
        );
    }
    if let Some(kind) = crate::files::not_a_file(path) {
        return Err(format!(
            "{}: {kind}, not a regular file; only files are read (a run reads each input more than once): save it to a file and give that",
            path.display()
        ));
    }
    if let Some(what) = crate::ingest::sniff::not_an_export(path) {
        return Err(format!("{}: {what}", path.display()));
    }
    if !path.is_file() {
        return Err(unknown());
    }
    let head = crate::ingest::sniff::head(path).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::ingest::sniff::format_of(crate::ingest::sniff::kind(&head))
        .map_err(|why| format!("{}: {why}", path.display()))
}

impl SourceSettings {
    /// A source read as it is: canonical columns, automatic encoding, ISO dates.
    #[must_use]
    pub fn plain(name: &str, path: &Path, format: Format) -> SourceSettings {
        SourceSettings {
            name: name.to_owned(),
            path: path.to_path_buf(),
            format,
            encoding: Encoding::Auto,
            delimiter: default_delimiter(path),
            delimiter_given: false,
            sheet: None,
            header_row: None,
            date_format: DateFormat::default(),
            ids_per_file: false,
            columns: BTreeMap::new(),
            texts: Vec::new(),
            default_question: None,
            question_values: BTreeMap::new(),
            layout: None,
            date_window: None,
            on_invalid: BTreeMap::new(),
            withheld: Vec::new(),
            carry: Carry::Every,
            keep_whole: Vec::new(),
        }
    }
}

/// A CSV delimiter as a pipeline or `--delimiter` writes it: one ASCII character that is not a
/// quote or line end, or `tab` (`\t`).
///
/// # Errors
/// Anything else, saying what to write.
pub(crate) fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s.as_bytes() {
        _ if s == "tab" || s == "\\t" => Ok(b'\t'),
        [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Ok(*b),
        _ => Err(format!("{s:?} is not a delimiter; give one ASCII character (not a quote or line end), or tab")),
    }
}

/// A chrono format with at least one field, `excel`, `unix` or `unix_ms`; several joined by `|`.
#[must_use]
pub(crate) fn date_format_valid(f: &str) -> bool {
    f.split('|').all(|f| {
        let parses = chrono::format::StrftimeItems::new(f).all(|i| !matches!(i, chrono::format::Item::Error));
        ["excel", "unix", "unix_ms"].iter().any(|k| f.eq_ignore_ascii_case(k)) || (f.contains('%') && parses)
    })
}

/// Tab for `.tsv` (and `.tsv.gz`), else comma.
fn default_delimiter(path: &Path) -> u8 {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    if name.trim_end_matches(".gz").ends_with(".tsv") {
        b'\t'
    } else {
        b','
    }
}

fn check_layout(ctx: &Ctx<'_>, span: Option<Range<usize>>, key: &str, name: &str) -> Result<(), ConfigError> {
    match super::layouts::find(name) {
        Some(_) => Ok(()),
        None => Err(ctx.err(
            span,
            key,
            format!("unknown layout {name:?}; expected one of {} (see `unheard layouts`)", super::layouts::names()),
        )),
    }
}

fn date_window(
    ctx: &Ctx<'_>,
    key: &str,
    value: Option<&Spanned<Vec<String>>>,
) -> Result<Option<DateWindow>, ConfigError> {
    let Some(v) = value else { return Ok(None) };
    let bad = |m: String| ctx.err(Some(v.span()), key, m);
    let [from, to] = v.get_ref().as_slice() else {
        return Err(bad("give two dates, e.g. [\"2000-01-01\", \"tomorrow\"]".to_owned()));
    };
    let end = |s: &String| {
        DateWindow::end(s)
            .ok_or_else(|| bad(format!("{s:?} is not a date; write YYYY-MM-DD, \"today\" or \"tomorrow\"")))
    };
    let w = DateWindow { from: end(from)?, to: end(to)? };
    if w.from > w.to {
        return Err(bad(format!("the window starts ({from}) after it ends ({to})")));
    }
    Ok(Some(w))
}

fn on_invalid(ctx: &Ctx<'_>, s: &SourceOptions) -> Result<BTreeMap<String, OnInvalid>, ConfigError> {
    let mut out = BTreeMap::new();
    for (field, v) in &s.on_invalid {
        let key = format!("source.on_invalid.{field}");
        if !ON_INVALID_FIELDS.contains(&field.as_str()) {
            return Err(ctx.err(
                Some(v.span()),
                &key,
                format!(
                    "unknown field {field:?}; on_invalid applies to {} (text and ids cannot be null; \
                     an unmapped demographic value is always kept as `unmapped`)",
                    ON_INVALID_FIELDS.join(", ")
                ),
            ));
        }
        let choice = match v.get_ref().as_str() {
            "null" => OnInvalid::Null,
            "quarantine" => OnInvalid::Quarantine,
            other => {
                return Err(ctx.err(
                    Some(v.span()),
                    &key,
                    format!("unknown choice {other:?}; expected \"null\" or \"quarantine\""),
                ))
            }
        };
        out.insert(field.clone(), choice);
    }
    Ok(out)
}

fn question(ctx: &Ctx<'_>, key: &str, value: &Spanned<String>) -> Result<Question, ConfigError> {
    Question::parse(value.get_ref()).ok_or_else(|| {
        ctx.err(
            Some(value.span()),
            key,
            format!(
                "unknown question {:?}; expected one of {}",
                value.get_ref(),
                Question::ALL.map(Question::as_str).join(", ")
            ),
        )
    })
}

/// The files a source's path names: itself, or, when its file name holds a pattern (`*`, `?`,
/// `[…]`) and no file has that very name, the files it matches, in name order — a folder of
/// monthly exports (`path = "exports/*.csv"`; `--input 'exports/*.csv'` where no shell expands
/// it, as Windows' does not). Hidden files and Excel's lock files (`~$jan.xlsx`, there while the
/// workbook is open) are not data and are passed over; a pattern that matches no file is an
/// error (found: it was "cannot read: No such file").
fn expand(path: &Path) -> Result<Vec<PathBuf>, String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?', '[']) || path.exists() {
        return Ok(vec![path.to_path_buf()]);
    }
    let pattern = path.to_str().ok_or_else(|| format!("{}: a pattern must be valid UTF-8", path.display()))?;
    let found = glob::glob(pattern).map_err(|e| format!("{}: not a file name pattern: {e}", path.display()))?;
    let mut files: Vec<PathBuf> = found
        .filter_map(Result::ok)
        .filter(|f| f.is_file())
        .filter(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.') && !n.starts_with("~$")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: the pattern matches no file", path.display()));
    }
    Ok(files)
}

fn resolve_source(spanned: &Spanned<SourceOptions>, ctx: &Ctx<'_>, path: &Path) -> Result<SourceSettings, ConfigError> {
    let s = spanned.get_ref();
    let path = path.to_path_buf();
    if path.is_dir() {
        let m = format!(
            "{}: a folder, not a file: give its files with a pattern (`path = \"{}/*.csv\"`)",
            path.display(),
            s.path.get_ref().trim_end_matches(['/', '\\'])
        );
        return Err(ctx.err(Some(s.path.span()), "source.path", m));
    }
    let format = match &s.format {
        Some(f) => Format::parse(&f.get_ref().to_ascii_lowercase()).ok_or_else(|| {
            ctx.err(
                Some(f.span()),
                "source.format",
                format!("unknown format {:?}; expected csv, jsonl, parquet or xlsx", f.get_ref()),
            )
        })?,
        None => match Format::from_path(&path) {
            Some(format) => format,
            // a file that is there says its format by its first bytes
            None if path.is_file() => sniffed(&path).map_err(|m| ctx.err(Some(s.path.span()), "source.path", m))?,
            None => {
                return Err(ctx.err(
                    Some(s.path.span()),
                    "source.path",
                    format!("cannot tell the format of {:?} from its extension; set `format`", s.path.get_ref()),
                ))
            }
        },
    };
    let encoding = match &s.encoding {
        None => Encoding::Auto,
        Some(e) => Encoding::parse(e.get_ref()).ok_or_else(|| {
            ctx.err(
                Some(e.span()),
                "source.encoding",
                format!("unknown encoding {:?}; expected auto, utf-8 or windows-1252", e.get_ref()),
            )
        })?,
    };
    let delimiter = match &s.delimiter {
        None => default_delimiter(&path),
        Some(d) => parse_delimiter(d.get_ref()).map_err(|m| ctx.err(Some(d.span()), "source.delimiter", m))?,
    };
    let mut columns = BTreeMap::new();
    for (k, v) in &s.columns {
        if k == "text" && !s.text.is_empty() {
            return Err(ctx.err(
                Some(v.span()),
                "source.columns.text",
                "use either columns.text or [[source.text]], not both",
            ));
        }
        columns.insert(k.clone(), v.get_ref().clone());
    }
    let texts = s
        .text
        .iter()
        .map(|t| Ok((t.get_ref().column.clone(), question(ctx, "source.text.question", &t.get_ref().question)?)))
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let default_question = s.question.as_ref().map(|q| question(ctx, "source.question", q)).transpose()?;
    let mut question_values = BTreeMap::new();
    for (raw, q) in &s.question_values {
        question_values.insert(raw.clone(), question(ctx, "source.question_values", q)?);
    }
    if let Some(df) = &s.date_format {
        let f = df.get_ref();
        if !date_format_valid(f) {
            return Err(ctx.err(
                Some(df.span()),
                "source.date_format",
                format!("{f:?} is not a date format; e.g. \"%d/%m/%Y\", \"%Y-%m-%d\" or \"excel\""),
            ));
        }
    }
    Ok(SourceSettings {
        // a typed name is redacted as one taken from a file is (`name = "pals Mrs X 7954220583"`
        // was written on every record: found by a reader in the twenty-sixth session on issue 9)
        name: s.name.as_deref().map_or_else(|| file_stem(&path), crate::text::redact::scrubbed),
        path,
        format,
        encoding,
        delimiter,
        delimiter_given: s.delimiter.is_some(),
        sheet: s.sheet.clone(),
        header_row: match &s.header_row {
            Some(h) if *h.get_ref() == 0 => {
                return Err(ctx.err(
                    Some(h.span()),
                    "source.header_row",
                    "lines count from 1; the header's line is 1 or more",
                ))
            }
            h => h.as_ref().map(|h| *h.get_ref()),
        },
        date_format: s.date_format.as_ref().map(|d| DateFormat(d.get_ref().clone())).unwrap_or_default(),
        ids_per_file: s.ids_per_file,
        columns,
        texts,
        default_question,
        question_values,
        layout: match &s.layout {
            Some(l) => {
                check_layout(ctx, Some(l.span()), "source.layout", l.get_ref())?;
                Some(l.get_ref().clone())
            }
            None => None,
        },
        date_window: date_window(ctx, "source.date_window", s.date_window.as_ref())?,
        on_invalid: on_invalid(ctx, s)?,
        withheld: s.withheld.clone(),
        carry: match &s.carry {
            None | Some(CarryOption::Every(true)) => Carry::Every,
            Some(CarryOption::Every(false)) => Carry::Nothing,
            Some(CarryOption::Only(headers)) => Carry::Only(headers.clone()),
            Some(CarryOption::Named(n)) => match n.trim().to_ascii_lowercase().as_str() {
                "every" | "all" => Carry::Every,
                "nothing" | "none" => Carry::Nothing,
                _ => {
                    return Err(ctx.err(
                        None,
                        "source.carry",
                        format!(
                            "carry = {n:?}: write true or \"every\" (every column not read), false or \"nothing\", or a list of headers"
                        ),
                    ))
                }
            },
        },
        keep_whole: match &s.keep_whole {
            Some(k) if format != Format::Jsonl => {
                return Err(ctx.err(
                    Some(k.span()),
                    "source.keep_whole",
                    "keep_whole names objects of a JSON source's records; this source is not JSON",
                ))
            }
            Some(k) => k.get_ref().clone(),
            None => Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(text, Path::new("p/demo.toml"), &Overrides::default())
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("[run]\nname = \"x\"\nthreds = 2\n\n[[source]]\npath = \"a.csv\"\n").unwrap_err();
        assert_eq!(err.file, "p/demo.toml");
        assert_eq!(err.line, Some(3), "{err}");
        assert_eq!(err.key.as_deref(), Some("threds"), "{err}");
    }

    /// `[people] max_groups` (5,000 unless set) and `[analysis] max_pairs` (2,000): 0 would stop
    /// every run or publish nothing, so it is refused where it is written.
    /// `keep_whole` is for JSON sources: on another it is refused where it is written (it was
    /// read and did nothing).
    #[test]
    fn keep_whole_is_for_json_sources() {
        let json = parse("[[source]]\npath = \"a.jsonl\"\nkeep_whole = [\"scores\"]\n").unwrap();
        assert_eq!(json.sources[0].keep_whole, ["scores"]);
        let err = parse("[[source]]\npath = \"a.csv\"\nkeep_whole = [\"scores\"]\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("source.keep_whole")), "{err}");
    }

    /// Unset, `max_groups` is 5,000 groups for the default codebook's 61 themes (or fewer) over
    /// a year of months (or fewer), and proportionally fewer for a codebook of more themes or a
    /// run of more months; set, it is what it says whatever the codebook and months.
    #[test]
    fn the_default_group_limit_shrinks_with_the_codebook_and_the_months() {
        let unset = PeopleSettings::default();
        assert_eq!([unset.group_limit(1, 1), unset.group_limit(61, 12)], [5_000, 5_000]);
        assert_eq!([unset.group_limit(122, 12), unset.group_limit(488, 0)], [2_500, 625]);
        // ten years: 5,000 × 13 / 121
        assert_eq!([unset.group_limit(61, 120), unset.group_limit(40, 120)], [537, 537]);
        assert_eq!(unset.group_limit(122, 25), 1_250, "both: 5,000 × 61 / 122 × 13 / 26");
        assert_eq!(unset.group_limit(1_000_000_000, 1_000), 1, "never 0");
        let set = PeopleSettings { max_groups: Some(10_000), ..PeopleSettings::default() };
        assert_eq!([set.group_limit(61, 12), set.group_limit(488, 120)], [10_000, 10_000]);
    }

    #[test]
    fn max_groups_and_max_pairs_are_at_least_one() {
        let unset = parse("[[source]]\npath = \"a.csv\"\n").unwrap();
        assert_eq!(
            (unset.people.group_limit(61, 12), unset.analysis.max_pairs),
            (DEFAULT_MAX_GROUPS, DEFAULT_MAX_PAIRS)
        );
        let read = |s: &Settings, table: &str| {
            if table == "people" {
                s.people.group_limit(488, 120)
            } else {
                s.analysis.max_pairs
            }
        };
        for (table, key) in [("people", "max_groups"), ("analysis", "max_pairs")] {
            let set = parse(&format!("[{table}]\n{key} = 50\n\n[[source]]\npath = \"a.csv\"\n")).unwrap();
            assert_eq!(read(&set, table), 50);
            let err = parse(&format!("[{table}]\n{key} = 0\n\n[[source]]\npath = \"a.csv\"\n")).unwrap_err();
            let full = format!("{table}.{key}");
            assert_eq!((err.line, err.key.as_deref()), (Some(2), Some(full.as_str())), "{err}");
        }
    }

    /// A value of the wrong type (a negative count, a string for a number, a count past
    /// `usize`) names its key and table, not the value (it named the value as the key before).
    #[test]
    fn a_value_of_the_wrong_type_names_its_key_not_the_value() {
        for (value, words) in
            [("-5", "-5"), ("\"abc\"", "abc"), ("1.5", "1.5"), ("99999999999999999999", "99999999999999999999")]
        {
            let err = parse(&format!("[run]\nname = \"x\"\nids_in_memory = {value}\n\n[[source]]\npath = \"a.csv\"\n"))
                .unwrap_err();
            assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("run.ids_in_memory")), "{err}");
            assert!(err.to_string().contains(words), "{err}");
        }
        let err = parse("[[source]]\npath = \"a.csv\"\nheader_row = \"two\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("source.header_row"), "{err}");
    }

    /// With no `HOME` (a timer's environment) the home folder is the password database's, as a
    /// shell finds it: a folder that exists.
    #[cfg(unix)]
    #[test]
    fn the_home_folder_without_home_is_the_password_database_s() {
        let home = password_home().expect("the user has an entry");
        assert!(home.is_absolute() && home.is_dir(), "{}", home.display());
    }

    /// A path from `~/` is from the home folder (it made a folder named `~` beside the
    /// pipeline); `~x` and a `~` further in are names like any other.
    #[test]
    fn a_path_from_the_home_folder_is_read_as_a_shell_reads_it() {
        let Some(home) = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).map(PathBuf::from) else {
            return;
        };
        let s = parse("[run]\nout = \"~/reports/x\"\n[[source]]\npath = \"~/exports/a.csv\"\n").unwrap();
        assert_eq!(s.out, home.join("reports/x"));
        assert_eq!(s.sources[0].path, home.join("exports/a.csv"));
        assert_eq!(join(Path::new("p"), "~"), home);
        assert_eq!(join(Path::new("p"), "~x/a.csv"), Path::new("p/~x/a.csv"));
        assert_eq!(join(Path::new("p"), "a/~/b.csv"), Path::new("p/a/~/b.csv"));
    }

    /// Age bands that overlap, or none, are refused where they are written (they were taken
    /// as given: an age in two bands, or every age in none); bands in any order, or with a gap
    /// (an adult-only baseline), are a choice.
    #[test]
    fn age_bands_that_overlap_or_are_none_are_located() {
        let with = |bands: &str| parse(&format!("[people]\nage_bands = {bands}\n[[source]]\npath = \"a.csv\"\n"));
        for (bands, says) in [
            (r#"["0-17", "15-64", "65+"]"#, "\"0-17\" and \"15-64\" overlap (ages 15-17 would be in both)"),
            (r#"["0-17", "17-64", "65+"]"#, "overlap (age 17 would be in both)"),
            (r#"["0-64", "70+", "65+"]"#, "\"65+\" and \"70+\" overlap (ages 70+ would be in both)"),
            ("[]", "no band given"),
        ] {
            let err = with(bands).unwrap_err();
            assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("people.age_bands")), "{bands}: {err}");
            assert!(err.to_string().contains(says), "{bands}: {err}");
        }
        for fine in [r#"["65+", "0-17", "18-64"]"#, r#"["18-64", "65+"]"#, r#"["0-17", "18-64"]"#] {
            let s = with(fine).unwrap();
            assert_eq!(s.people.age_bands.map(|b| b.len()), Some(fine.matches(',').count() + 1), "{fine}");
        }
    }

    /// Each bound of `[analysis]` is told with its key and value: they were one message for all
    /// four, `under_represented = 2.0` (groups twice their share flagged as under-represented)
    /// was taken, and `round_to = 0` was read as 1.
    #[test]
    fn analysis_bounds_name_their_key() {
        let with = |kv: &str| parse(&format!("[analysis]\n{kv}\n[[source]]\npath = \"a.csv\"\n"));
        for (kv, key) in [
            ("round_to = 0", "analysis.round_to"),
            ("under_represented = 2.0", "analysis.under_represented"),
            ("under_represented = 0.0", "analysis.under_represented"),
            ("over_represented = 1.0", "analysis.over_represented"),
            ("alpha0 = 0.0", "analysis.alpha0"),
            ("weight_cap = 1.0", "analysis.weight_cap"),
        ] {
            let err = with(kv).unwrap_err();
            assert_eq!(err.key.as_deref(), Some(key), "{kv}: {err}");
            assert!(err.to_string().contains("is not allowed"), "{kv}: {err}");
        }
        for kv in ["round_to = 1", "under_represented = 1.0", "over_represented = 1.01", "suppress_max = 0"] {
            assert!(with(kv).is_ok(), "{kv}");
        }
    }

    #[test]
    fn bad_question_is_located() {
        let err =
            parse("[[source]]\npath = \"a.xlsx\"\n\n[[source.text]]\ncolumn = \"Good?\"\nquestion = \"whatever\"\n")
                .unwrap_err();
        assert_eq!(err.line, Some(6), "{err}");
        assert_eq!(err.key.as_deref(), Some("source.text.question"));
        assert!(err.to_string().contains("could_improve"), "{err}");
    }

    #[test]
    fn baselines_are_selected_by_name() {
        let text = "[run]\nbaseline = \"b\"\n[[baseline]]\nname = \"a\"\npath = \"a.csv\"\n[[baseline]]\nname = \"b\"\npath = \"b.csv\"\n[[source]]\npath = \"x.csv\"\n";
        let s = parse(text).unwrap();
        assert_eq!(s.baseline.as_ref().map(|b| b.name.as_str()), Some("b"));
        assert_eq!(s.baselines.len(), 2);
        let o = Overrides { baseline_name: Some("a".to_owned()), ..Overrides::default() };
        let s = Settings::from_toml(text, Path::new("p/demo.toml"), &o).unwrap();
        assert_eq!(s.baseline.map(|b| b.path), Some(PathBuf::from("p/a.csv")));
        let err = parse(&text.replace("baseline = \"b\"", "baseline = \"c\"")).unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("run.baseline")), "{err}");
        // a baseline's areas: from the pipeline, replaced by the command line's for a run
        let areas = text.replace("path = \"b.csv\"", "path = \"b.csv\"\nareas = [\"E06000045\", \"Portsmouth\"]");
        let s = parse(&areas).unwrap();
        assert_eq!(
            s.baseline.as_ref().map(|b| b.areas.clone()),
            Some(vec!["E06000045".to_owned(), "Portsmouth".to_owned()])
        );
        let o = Overrides { baseline_areas: vec!["E06000001".to_owned()], ..Overrides::default() };
        let s = Settings::from_toml(&areas, Path::new("p/demo.toml"), &o).unwrap();
        assert_eq!(s.baseline.map(|b| b.areas), Some(vec!["E06000001".to_owned()]));
        let err = parse(&areas.replace("\"Portsmouth\"", "\" \"")).unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(9), Some("baseline.areas")), "{err}");
        // areas of no baseline
        let none = "[[source]]\npath = \"x.csv\"\n";
        let err = Settings::from_toml(none, Path::new("p/demo.toml"), &o).unwrap_err();
        assert!(err.to_string().contains("the run has none"), "{err}");
    }

    #[test]
    fn two_changes_of_one_name_are_named_at_the_second_s_line() {
        let err = parse("[[source]]\npath = \"a.csv\"\n[[change]]\nname = \"x\"\ndate = \"2025-01-01\"\n[[change]]\nname = \"x\"\ndate = \"2025-02-01\"\n")
            .expect_err("two of one name");
        assert_eq!(err.line, Some(6), "{err}");
        assert!(err.to_string().contains("two changes are named \"x\""), "{err}");
    }

    #[test]
    fn a_raking_dimension_the_run_lacks_is_refused() {
        let err = parse("[analysis]\nraking_dimensions = [\"nosuch\"]\n[[source]]\npath = \"a.csv\"\n").unwrap_err();
        assert!(err.to_string().contains("\"nosuch\" is not one of the run's dimensions"), "{err}");
        assert!(parse("[analysis]\nraking_dimensions = [\"sex\"]\n[[source]]\npath = \"a.csv\"\n").is_ok());
    }

    /// `carry` as the manifest writes it (`"every"`): refused with a parser's message before.
    #[test]
    fn carry_takes_the_manifest_s_words_too() {
        for (written, carry) in
            [("\"every\"", Carry::Every), ("\"nothing\"", Carry::Nothing), ("false", Carry::Nothing)]
        {
            let s = parse(&format!("[[source]]\npath = \"a.csv\"\ncarry = {written}\n")).unwrap();
            assert_eq!(s.sources[0].carry, carry, "{written}");
        }
        let err = parse("[[source]]\npath = \"a.csv\"\ncarry = \"some\"\n").unwrap_err().to_string();
        assert!(err.contains("source.carry") && err.contains("a list of headers"), "{err}");
    }

    #[test]
    fn an_unquoted_date_is_told_to_be_quoted() {
        let err = parse("[[source]]\npath = \"a.csv\"\n[[change]]\nname = \"x\"\ndate = 2025-07-01\n")
            .expect_err("a TOML date");
        assert!(err.to_string().contains("write the date in quotes"), "{err}");
    }

    #[test]
    fn a_dimension_may_not_take_the_month_partition_a_records_column_or_an_sql_word() {
        for (toml, says) in [
            ("[[source]]\npath = \"a.csv\"\n[source.columns]\nmonth = \"Ward\"\n", "month partition"),
            ("[run]\ndimensions = [\"group\"]\n[[source]]\npath = \"a.csv\"\n", "SQL reserved word"),
            ("[run]\ndimensions = [\"themes_n\"]\n[[source]]\npath = \"a.csv\"\n", "a column records/ writes"),
            // a second column of that name in records/, which pyarrow refuses (found by a reader
            // in the twenty-sixth session on issue 9)
            ("[run]\ndimensions = [\"text\"]\n[[source]]\npath = \"a.csv\"\n", "a column records/ writes"),
            ("[run]\ndimensions = [\"record_id\"]\n[[source]]\npath = \"a.csv\"\n", "a column records/ writes"),
            ("[run]\ndimensions = [\"org_level_1\"]\n[[source]]\npath = \"a.csv\"\n", "a column records/ writes"),
            ("[[source]]\npath = \"a.csv\"\n[source.columns]\nx_notes = \"Ward\"\n", "carried column"),
        ] {
            let err = parse(toml).expect_err(toml).to_string();
            assert!(err.contains(says) && err.contains("name it otherwise"), "{toml}: {err}");
        }
        let ok = parse("[run]\ndimensions = [\"ward_group\"]\n[[source]]\npath = \"a.csv\"\n").unwrap();
        assert!(ok.dimensions.contains(&"ward_group".to_owned()));
    }

    #[test]
    fn spc_options_and_changes_are_resolved_and_located() {
        let s = parse(
            "[analysis]\nspc_period = \"week\"\nspc_chart = \"pprime\"\nspc_targets = { \"ACC02:concerns\" = 0.05 }\n[[source]]\npath = \"a.csv\"\n[[change]]\nname = \"triage\"\ndate = \"2025-01-01\"\nwindow_days = 30\nsource = [\"a\"]\n",
        )
        .unwrap();
        assert_eq!((s.analysis.spc_period, s.analysis.spc_chart), (SpcPeriod::Week, SpcChart::Pprime));
        assert_eq!(s.analysis.spc_targets.get(&("ACC02".to_owned(), "concerns".to_owned())), Some(&0.05));
        assert_eq!(s.changes.len(), 1);
        assert_eq!((s.changes[0].window_days, s.changes[0].sources.clone()), (Some(30), vec!["a".to_owned()]));
        let src = "[[source]]\npath = \"a.csv\"\n";
        for (bad, key) in [
            ("[analysis]\nspc_chart = \"c\"\n", "analysis.spc_chart"),
            ("[analysis]\nspc_period = \"day\"\n", "analysis.spc_period"),
            ("[analysis]\nspc_targets = { \"ACC02\" = 0.05 }\n", "analysis.spc_targets"),
            ("[analysis]\nspc_targets = { \"ACC02:mentions\" = 5.0 }\n", "analysis.spc_targets"),
            ("[[change]]\nname = \"x\"\ndate = \"2025-13-01\"\n", "change.date"),
            ("[[change]]\nname = \"x\"\ndate = \"2025-01-01\"\nwindow_days = 0\n", "change.window_days"),
            (
                "[[change]]\nname = \"x\"\ndate = \"2025-01-01\"\n[[change]]\nname = \"x\"\ndate = \"2025-02-01\"\n",
                "change.name",
            ),
        ] {
            let err = parse(&format!("{src}{bad}")).unwrap_err();
            assert_eq!(err.key.as_deref(), Some(key), "{bad}: {err}");
        }
        // a window too long is told so, not to be "at least 1"
        let err = parse(&format!(
            "{src}[[change]]\nname = \"x\"\ndate = \"2025-01-01\"\nwindow_days = 9223372036854775807\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("at most 4294967295") && !err.contains("at least 1"), "{err}");
    }

    #[test]
    fn coder_section_is_resolved_and_checked() {
        let s = parse("[coder]\nmodel = \"m.json\"\nlabel_map = \"map.csv\"\n[[source]]\npath = \"a.csv\"\n").unwrap();
        assert_eq!(s.coder.policy, Policy::Union, "union by default with a model");
        assert_eq!(s.coder.model, Some(PathBuf::from("p/m.json")));
        assert_eq!(parse("[[source]]\npath = \"a.csv\"\n").unwrap().coder.policy, Policy::CodebookOnly);
        let err = parse(
            "[coder]\nmodel = \"m.json\"\nlabel_map = \"x.csv\"\npolicy = \"both\"\n[[source]]\npath = \"a.csv\"\n",
        )
        .unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(4), Some("coder.policy")), "{err}");
        let err = parse("[coder]\npolicy = \"model_only\"\n[[source]]\npath = \"a.csv\"\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("coder.model")), "{err}");
        let err = parse("[coder]\nmodel = \"m.json\"\n[[source]]\npath = \"a.csv\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("coder.label_map"), "{err}");
        let err = parse("[coder]\nmodle = \"m.json\"\n[[source]]\npath = \"a.csv\"\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("modle")), "{err}");
    }

    /// Found trying a pipeline written on Windows: `path = "C:\data\a.csv"` failed with "missing
    /// escaped value"; the message now says what to write.
    #[test]
    fn a_windows_path_in_double_quotes_is_told_how_to_write() {
        let err = parse("[[source]]\npath = \"C:\\data\\a.csv\"\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.to_string().contains("single quotes ('C:\\data\\feedback.csv')"), "{err}");
        let ok = parse("[[source]]\npath = 'C:\\data\\a.csv'\n").unwrap();
        assert_eq!(ok.sources[0].path.file_name().unwrap(), "C:\\data\\a.csv");
    }

    /// A quote as a pipeline's delimiter was taken, and the run then failed on the header with
    /// "no free-text column"; it is now the config error `--delimiter` gives, located.
    #[test]
    fn a_delimiter_is_read_as_the_flag_reads_it() {
        let err = parse("[[source]]\npath = \"a.csv\"\ndelimiter = \"\\\"\"\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("source.delimiter")), "{err}");
        assert!(err.to_string().contains("is not a delimiter"), "{err}");
        for (written, byte) in [("tab", b'\t'), ("\\t", b'\t'), (";", b';'), ("|", b'|')] {
            let ok = parse(&format!("[[source]]\npath = \"a.csv\"\ndelimiter = '{written}'\n")).unwrap();
            assert_eq!((ok.sources[0].delimiter, ok.sources[0].delimiter_given), (byte, true), "{written}");
        }
    }

    #[test]
    fn bad_date_format_is_located() {
        let err = parse("[[source]]\npath = \"a.csv\"\ndate_format = \"dd/mm/yyyy\"\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("source.date_format")), "{err}");
        let err = parse("[[source]]\npath = \"a.csv\"\ndate_format = \"%Q\"\n").unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(parse("[[source]]\npath = \"a.csv\"\ndate_format = \"%d/%m/%Y\"\n").is_ok());
    }

    #[test]
    fn ids_per_file_from_the_source_or_the_command_line() {
        let text = "[[source]]\npath = \"a.csv\"\nids_per_file = true\n[[source]]\npath = \"b.csv\"\n";
        let s = parse(text).unwrap();
        assert_eq!((s.sources[0].ids_per_file, s.sources[1].ids_per_file), (true, false));
        let o = Overrides { ids_per_file: true, ..Overrides::default() };
        let s = Settings::from_toml(text, Path::new("p/demo.toml"), &o).unwrap();
        assert!(s.sources.iter().all(|s| s.ids_per_file));
    }

    #[test]
    fn a_flag_for_a_kind_of_file_no_input_is_is_refused() {
        let text = "[[source]]\npath = \"a.csv\"\n";
        let with = |o: Overrides| Settings::from_toml(text, Path::new("p/demo.toml"), &o);
        let err = with(Overrides { sheet: Some("Data".to_owned()), ..Overrides::default() }).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("--sheet"), "{err}");
        assert!(err.to_string().contains("no input is one (p/a.csv)"), "{err}");
        assert!(with(Overrides { delimiter: Some(b';'), ..Overrides::default() }).is_ok());
        let book = "[[source]]\npath = \"a.xlsx\"\n";
        let o = Overrides { delimiter: Some(b';'), ..Overrides::default() };
        let err = Settings::from_toml(book, Path::new("p/demo.toml"), &o).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("--delimiter"), "{err}");
        let o = Overrides { sheet: Some("Data".to_owned()), header_row: Some(3), ..Overrides::default() };
        assert!(Settings::from_toml(book, Path::new("p/demo.toml"), &o).is_ok());
        let lines = "[[source]]\npath = \"a.jsonl\"\n";
        let o = Overrides { header_row: Some(3), ..Overrides::default() };
        let err = Settings::from_toml(lines, Path::new("p/demo.toml"), &o).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("--header-row"), "{err}");
    }

    #[test]
    fn state_flag_replaces_keep_state_false_and_a_pipeline_naming_both_is_refused() {
        let one_off = "[run]\nkeep_state = false\n[[source]]\npath = \"a.csv\"\n";
        assert_eq!(parse(one_off).unwrap().state, None);
        // found: the demo's `--state s1` kept no state and said nothing
        let o = Overrides { state: Some(PathBuf::from("s1")), ..Overrides::default() };
        let s = Settings::from_toml(one_off, Path::new("p/demo.toml"), &o).unwrap();
        assert_eq!(s.state.as_deref(), Some(Path::new("s1")));
        let o = Overrides { no_state: true, ..Overrides::default() };
        let default = "[[source]]\npath = \"a.csv\"\n";
        assert_eq!(Settings::from_toml(default, Path::new("p/demo.toml"), &o).unwrap().state, None);
        let both = "[run]\nkeep_state = false\nstate = \"s\"\n[[source]]\npath = \"a.csv\"\n";
        let err = parse(both).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("run.keep_state"), "{err}");
        assert!(err.to_string().contains("remove one"), "{err}");
    }

    #[test]
    fn paths_are_relative_to_the_pipeline_and_extras_become_dimensions() {
        let s = parse("[[source]]\npath = \"../data/a.jsonl\"\nquestion = \"conversation\"\n[source.columns]\ntext = \"notes\"\ncommunity_group = \"group\"\nethnicity = \"Ethnic Group\"\n").unwrap();
        assert_eq!(s.sources[0].path, Path::new("data/a.jsonl"));
        assert_eq!(join(Path::new("../x"), "../y/./z"), Path::new("../y/z"));
        assert_eq!(s.sources[0].format, Format::Jsonl);
        assert_eq!(s.dimensions.last().map(String::as_str), Some("community_group"));
        assert_eq!(s.dimensions.len(), CANONICAL_DIMENSIONS.len() + 1);
        assert_eq!(s.out, Path::new("out/demo"));
        assert_eq!(s.codebook, CodebookSource::Builtin);
    }

    #[test]
    fn on_invalid_and_date_window_are_resolved_and_located() {
        let s = parse("[run]\ndate_window = [\"2010-01-01\", \"2020-12-31\"]\n[[source]]\npath = \"a.csv\"\n[source.on_invalid]\nrating = \"quarantine\"\nreceived_date = \"null\"\n[[source]]\npath = \"b.csv\"\ndate_window = [\"1990-01-01\", \"today\"]\n").unwrap();
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!((s.date_window.from, s.date_window.to), (d(2010, 1, 1), d(2020, 12, 31)));
        assert_eq!(s.sources[0].on_invalid.get("rating"), Some(&OnInvalid::Quarantine));
        assert_eq!(s.sources[0].on_invalid.get("received_date"), Some(&OnInvalid::Null));
        assert_eq!(s.sources[0].date_window, None, "the run's window applies");
        let own = s.sources[1].date_window.unwrap();
        assert_eq!((own.from, own.to), (d(1990, 1, 1), chrono::Utc::now().date_naive()));
        let default = parse("[[source]]\npath = \"a.csv\"\n").unwrap().date_window;
        assert_eq!(default.from, d(2000, 1, 1));
        assert_eq!(Some(default.to), chrono::Utc::now().date_naive().succ_opt(), "tomorrow");
        let err = parse("[[source]]\npath = \"a.csv\"\n[source.on_invalid]\nethnicity = \"null\"\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(4), Some("source.on_invalid.ethnicity")), "{err}");
        let err = parse("[[source]]\npath = \"a.csv\"\ndate_window = [\"2001-02-30\", \"today\"]\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("source.date_window")), "{err}");
    }

    #[test]
    fn overrides_replace_sources_and_out() {
        let o = Overrides {
            inputs: vec!["x/y.csv".into()],
            out: Some("o".into()),
            threads: Some(3),
            ..Overrides::default()
        };
        let s = Settings::from_toml("[[source]]\npath = \"a.csv\"\n", Path::new("demo.toml"), &o).unwrap();
        assert_eq!(s.sources.len(), 1);
        assert_eq!(s.sources[0].name, "y");
        assert_eq!(s.out, Path::new("o"));
        assert_eq!(s.threads, 3);
        let err = Settings::from_overrides(&Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("--input"));
    }
}
