//! The pipeline file as written: every field optional, unknown keys rejected.
//!
//! See `pipelines/example-nightly.toml` for every option with its default.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A pipeline file (`pipelines/*.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PipelineOptions {
    /// Run-wide settings.
    #[serde(default)]
    pub run: RunOptions,
    /// The codebook used to code text into themes.
    pub codebook: Option<CodebookOptions>,
    /// Population baselines, selectable by name (`[[baseline]]`).
    #[serde(default, rename = "baseline")]
    pub baselines: Vec<Spanned<BaselineOptions>>,
    /// Input files.
    #[serde(default, rename = "source")]
    pub sources: Vec<Spanned<SourceOptions>>,
    /// Demographic harmonisation.
    #[serde(default)]
    pub people: PeopleOptions,
    /// Statistics and disclosure control.
    #[serde(default)]
    pub analysis: AnalysisOptions,
    /// The learned theme coder.
    pub coder: Option<Spanned<CoderOptions>>,
    /// What the report and its tables show.
    #[serde(default)]
    pub report: ReportOptions,
    /// Service changes to compare before and after (`[[change]]`).
    #[serde(default, rename = "change")]
    pub changes: Vec<Spanned<ChangeOptions>>,
}

/// `[report]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportOptions {
    /// Quotes per theme and group in `quotes` (default 3; 0 for none).
    pub quotes_per_cell: Option<usize>,
    /// The last months `emerging_terms` compares with the months before (default 3).
    pub emerging_months: Option<u32>,
}

/// `[[change]]`: a service change whose before and after are compared (`comparisons`) and at
/// which the SPC limits may be rebased.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeOptions {
    /// Name of the change (unique; written in `comparisons.change_name`).
    pub name: String,
    /// The day the change took effect, `YYYY-MM-DD`; records of that day count as after.
    pub date: Spanned<String>,
    /// Days compared on each side (default: all the data before and after).
    pub window_days: Option<Spanned<i64>>,
    /// Only records of these organisation level 1 values (default: all).
    pub org_level_1: Option<Vec<String>>,
    /// Only records of these organisation level 2 values (default: all).
    pub org_level_2: Option<Vec<String>>,
    /// Only records of these organisation level 3 values (default: all).
    pub org_level_3: Option<Vec<String>>,
    /// Only records of these sources, by name (default: all).
    pub source: Option<Vec<String>>,
}

/// `[coder]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoderOptions {
    /// A model from `unheard train`, relative to the pipeline file.
    pub model: Option<Spanned<String>>,
    /// `union`, `model_only` or `codebook_only` (default: `union` with a model, else `codebook_only`).
    pub policy: Option<Spanned<String>>,
    /// `theme_code,label` CSV mapping the model's labels to the codebook's themes.
    pub label_map: Option<Spanned<String>>,
}

/// `[analysis]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalysisOptions {
    /// Counts from 1 to this are suppressed (default 7).
    pub suppress_max: Option<u64>,
    /// Other counts are rounded to the nearest multiple of this (default 5).
    pub round_to: Option<u64>,
    /// Flag `under_represented` when the ratio's upper bound is below this (default 0.8).
    pub under_represented: Option<f64>,
    /// Flag `over_represented` when the ratio's lower bound is above this (default 1.25).
    pub over_represented: Option<f64>,
    /// Prior strength α0 of the log-odds of distinctive concerns (default 100).
    pub alpha0: Option<f64>,
    /// Cap on raking weights (mean 1; default 5).
    pub weight_cap: Option<f64>,
    /// Dimensions to rake over (default: ethnicity, age_band and sex, where the baseline has them).
    pub raking_dimensions: Option<Vec<String>>,
    /// Period of the SPC charts: `month` (default) or `week` (weeks start on Monday).
    pub spc_period: Option<Spanned<String>>,
    /// SPC chart: `xmr` (default), `p` or `pprime` (Laney p′).
    pub spc_chart: Option<Spanned<String>>,
    /// XmR: leave out moving ranges above 3.267 × their mean before the limits (default true,
    /// as NHSRplotthedots; the Making Data Count spreadsheets use false).
    pub spc_screen_outliers: Option<bool>,
    /// Targets for the assurance icon of `spc_summary`, as a share of records per period:
    /// `{ "ACC02:concerns" = 0.05 }` (theme code, `:`, mentions or concerns).
    pub spc_targets: Option<Spanned<BTreeMap<String, f64>>>,
    /// The most pairs of themes `cooccurrence` publishes: the most frequent (default 2,000, every
    /// pair of the built-in codebook's 61 themes).
    pub max_pairs: Option<Spanned<usize>>,
    /// The most themes a record may carry for `cooccurrence` to be counted (default 64): a
    /// record of more — a term many themes share — withholds the table.
    pub max_record_themes: Option<Spanned<usize>>,
}

/// `[people]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeopleOptions {
    /// Age bands, e.g. `["0-15", "16-24", …, "75+"]`.
    pub age_bands: Option<Spanned<Vec<String>>>,
    /// CSV with columns `key,imd_decile` (e.g. LSOA code → decile); a source maps the key
    /// column as `imd_key`.
    pub imd_lookup: Option<Spanned<String>>,
    /// Per dimension: raw value → group (overrides the built-in mappings).
    #[serde(default)]
    pub map: BTreeMap<String, BTreeMap<String, String>>,
    /// The most groups a dimension may have: past it the run stops (each group costs memory
    /// for every theme and period).
    pub max_groups: Option<Spanned<usize>>,
}

/// `[run]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunOptions {
    /// Run name; default: the pipeline file's stem.
    pub name: Option<String>,
    /// Output folder; default `out/<name>` relative to the working directory.
    pub out: Option<String>,
    /// Worker threads; 0 or absent = all cores.
    pub threads: Option<usize>,
    /// Longest accepted field in characters (default 20,000); longer rows are quarantined.
    pub max_field_chars: Option<usize>,
    /// Record ids (and, apart, responses) held in memory before the rest go to disk in the
    /// output's staging folder (default 1,835,008; at least 4,096).
    pub ids_in_memory: Option<usize>,
    /// Also write the unredacted text (`original_text` in `records`; default false).
    pub keep_original_text: Option<bool>,
    /// Which `[[baseline]]` to use, by name (default: the first).
    pub baseline: Option<Spanned<String>>,
    /// Extra demographic dimensions every source may fill (beyond the canonical ones).
    pub dimensions: Option<Vec<String>>,
    /// The state of nightly runs (the coded records so far), relative to the pipeline file;
    /// default `<out>.state` beside the output folder.
    pub state: Option<String>,
    /// Keep a state (default true); false for a one-off run that codes everything and keeps
    /// nothing beside its outputs.
    pub keep_state: Option<bool>,
    /// Plausible received dates, inclusive: `["2000-01-01", "tomorrow"]` by default; each end
    /// an ISO date, `today` or `tomorrow`. A date outside is a field issue (`date_out_of_window`).
    pub date_window: Option<Spanned<Vec<String>>>,
}

/// `[codebook]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodebookOptions {
    /// Path to the codebook TOML, relative to the pipeline file.
    pub path: Spanned<String>,
}

/// `[baseline]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BaselineOptions {
    /// Path to a `dimension,group,population` CSV, relative to the pipeline file.
    pub path: Spanned<String>,
    /// A name for the baseline (default: the file stem).
    pub name: Option<String>,
    /// Rows of the same (dimension, group) after harmonisation: `"error"` (default) or `"sum"`.
    pub duplicates: Option<Spanned<String>>,
    /// The areas counted (code or name) when the file holds several: a census table's rows.
    pub areas: Option<Spanned<Vec<String>>>,
}

/// `[[source]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceOptions {
    /// Source name written on every record (default: the file stem).
    pub name: Option<String>,
    /// Path to the file, relative to the pipeline file.
    pub path: Spanned<String>,
    /// `csv`, `jsonl`, `parquet` or `xlsx`; default from the extension.
    pub format: Option<Spanned<String>>,
    /// CSV encoding: `auto` (default: each field UTF-8, else Windows-1252), `utf-8`, `windows-1252`.
    pub encoding: Option<Spanned<String>>,
    /// CSV delimiter (one character, default `,`).
    pub delimiter: Option<Spanned<String>>,
    /// XLSX sheet name (default: the first sheet).
    pub sheet: Option<String>,
    /// The line (CSV) or row (XLSX) that holds the header, counting from 1, for exports with
    /// title lines above it (default: the first line that is not blank).
    pub header_row: Option<Spanned<u64>>,
    /// chrono format of the date column, e.g. `%d/%m/%Y`; default ISO `%Y-%m-%d`.
    /// Excel date cells and serial numbers are read whatever the format.
    pub date_format: Option<Spanned<String>>,
    /// Question answered by the `text` column when the source has no question column.
    pub question: Option<Spanned<String>>,
    /// The source's ids are unique only within it (each monthly export numbering its rows from
    /// 1): its record ids are written as `<source>:<id>`.
    #[serde(default)]
    pub ids_per_file: bool,
    /// Map from canonical field or dimension name to the source's column header.
    #[serde(default)]
    pub columns: BTreeMap<String, Spanned<String>>,
    /// Several free-text columns in one row, each answering its own question.
    #[serde(default)]
    pub text: Vec<Spanned<TextColumnOptions>>,
    /// Extra map from raw question values to canonical questions; with a layout, also the
    /// question of its free-text columns by name (`question_1 = "could_improve"`).
    #[serde(default)]
    pub question_values: BTreeMap<String, Spanned<String>>,
    /// Export layout (`unheard layouts`); default: detected from the header.
    pub layout: Option<Spanned<String>>,
    /// This source's plausible received dates (default: `[run] date_window`).
    pub date_window: Option<Spanned<Vec<String>>>,
    /// Per field, what a value that cannot be used costs: `"null"` (the field) or
    /// `"quarantine"` (the row). Fields: received_date, rating, question, org_level_1..3.
    #[serde(default)]
    pub on_invalid: BTreeMap<String, Spanned<String>>,
    /// Columns known to hold personal data about the respondent, withheld without a warning
    /// each night (their headers as written).
    #[serde(default)]
    pub withheld: Vec<String>,
    /// Which of the columns not read go into `records`: `true` (every one, the default),
    /// `false` (none), or a list of headers.
    pub carry: Option<CarryOption>,
    /// JSON: objects in the records (dotted paths) read as one column of their JSON text, as one
    /// of more than 1,000 members is, whatever the export holds.
    pub keep_whole: Option<Spanned<Vec<String>>>,
}

/// `[[source.text]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextColumnOptions {
    /// Column header.
    pub column: String,
    /// Question it answers.
    pub question: Spanned<String>,
}

/// `source.carry`: every column not read, none, or those listed.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum CarryOption {
    /// `true` or `false`.
    Every(bool),
    /// Headers, as written.
    Only(Vec<String>),
    /// `"every"` or `"nothing"`, as the manifest writes them (refused with a parser's message,
    /// "did not match any variant", until the twenty-sixth session on issue 9).
    Named(String),
}
