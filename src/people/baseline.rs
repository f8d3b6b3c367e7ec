//! Population baselines: `dimension,group,population` CSV files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One row of a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct BaselineRow {
    /// Dimension, e.g. `ethnicity`.
    pub dimension: String,
    /// Group, e.g. `Asian`.
    pub group: String,
    /// Population count.
    pub population: f64,
    /// Line in the file (header = 1).
    pub line: u64,
}

/// A population baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Baseline {
    /// Name.
    pub name: String,
    /// Rows in file order.
    pub rows: Vec<BaselineRow>,
    /// sha256 of the file.
    pub sha256: String,
    /// Rows of one group are added up whatever the pipeline says: a census download's rows
    /// (one an area, and the detailed groups of one broad group).
    pub summed: bool,
    /// The areas the rows belong to, when the file says (a census table's, an `area` column).
    pub areas: Areas,
}

/// The areas of a baseline whose rows name one (a census table's every local authority): the
/// ones met, and the ones counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Areas {
    /// Every area met, as its cells say it (`E06000045 Southampton`), once each, in file order.
    pub met: Vec<String>,
    /// The areas asked for (`[[baseline]] areas`, `--baseline-area`): only their rows are
    /// counted. Empty: every area's rows are.
    pub picked: Vec<String>,
}

/// The header names of a plain baseline's area column (by [`crate::ingest::column_key`]), and
/// of a census bulk table's.
const AREA_COLUMNS: [&str; 7] =
    ["area", "area_code", "area_name", "geography", "geography_code", "local_authority", "local_authority_code"];

/// The positions of the area columns among `headers` (named as [`AREA_COLUMNS`] are).
fn area_columns<'h>(headers: impl IntoIterator<Item = &'h str>) -> Vec<usize> {
    headers
        .into_iter()
        .enumerate()
        .filter(|(_, h)| AREA_COLUMNS.contains(&crate::ingest::column_key(h).as_str()))
        .map(|(j, _)| j)
        .collect()
}

/// Picks the rows of the areas asked for, and notes every area met.
struct AreaFilter<'a> {
    picked: &'a [String],
    /// Per area asked for: whether some row had it.
    found: Vec<bool>,
    met: Vec<String>,
    seen: std::collections::HashSet<String>,
}

impl<'a> AreaFilter<'a> {
    fn new(picked: &'a [String]) -> AreaFilter<'a> {
        AreaFilter { picked, found: vec![false; picked.len()], met: Vec::new(), seen: Default::default() }
    }

    /// Whether a row whose area cells are `cells` is counted (every row is, none asked for).
    fn keeps<'c>(&mut self, cells: impl Iterator<Item = &'c str>) -> bool {
        let cells: Vec<&str> = cells.map(str::trim).filter(|c| !c.is_empty()).collect();
        if !cells.is_empty() {
            let label = cells.join(" ");
            if !self.seen.contains(&label) {
                self.seen.insert(label.clone());
                self.met.push(label);
            }
        }
        if self.picked.is_empty() {
            return true;
        }
        let mut keep = false;
        for (i, p) in self.picked.iter().enumerate() {
            if cells.iter().any(|c| c.eq_ignore_ascii_case(p.trim())) {
                self.found[i] = true;
                keep = true;
            }
        }
        keep
    }

    /// The areas met and counted; an area asked for that no row has is an error.
    fn finish(self, path: &Path, columns: bool) -> Result<Areas, BaselineError> {
        if !self.picked.is_empty() {
            let check = |message: String| BaselineError::Check { path: path.to_path_buf(), message };
            if !columns {
                return Err(check(format!(
                    "areas {:?} are asked for, but the baseline has no area column (a census table's, or one \
                     named area, area_code or geography): remove `areas` and --baseline-area, or give the file \
                     of every area",
                    self.picked
                )));
            }
            if let Some(i) = self.found.iter().position(|f| !f) {
                let shown: Vec<&str> = self.met.iter().take(5).map(String::as_str).collect();
                let more =
                    if self.met.len() > shown.len() { format!(" (of {})", self.met.len()) } else { String::new() };
                return Err(check(format!(
                    "area {:?} is in no row; the file's areas are {}{more}: give an area's code or name as written",
                    self.picked[i],
                    shown.join(", ")
                )));
            }
        }
        Ok(Areas { met: self.met, picked: self.picked.to_vec() })
    }
}

/// A header cell as a census download names it: trimmed, past the byte-order mark that starts
/// each file of several joined with `cat`.
fn header_name(h: &str) -> &str {
    h.trim().trim_start_matches('\u{feff}').trim()
}

/// The columns of a census download (ONS's "create a custom dataset" CSV): the
/// area's code and name, the variable's code and name, then `Observation`.
struct Census {
    /// The variable's column (`Ethnic group (20 categories)`): its values are the groups.
    label: usize,
    /// Its code column (`Ethnic group (20 categories) Code`): a negative code is no group
    /// (`-8`, "Does not apply").
    code: usize,
    /// `Observation`.
    count: usize,
    /// The dimension: the variable's name without its categories (`Ethnic group`).
    dimension: String,
}

impl Census {
    /// The census layout's columns in `headers`, if they are one.
    fn of<'h>(headers: impl IntoIterator<Item = &'h str>) -> Option<Census> {
        let headers: Vec<&str> = headers.into_iter().map(header_name).collect();
        let count = headers.iter().position(|h| {
            h.eq_ignore_ascii_case("observation")
                || h.eq_ignore_ascii_case("observations")
                || h.eq_ignore_ascii_case("count")
        })?;
        let (label, code) = (count.checked_sub(1)?, count.checked_sub(2)?);
        let name = headers[label];
        let coded = headers[code].strip_suffix("Code").or_else(|| headers[code].strip_suffix("code"))?.trim();
        if !coded.eq_ignore_ascii_case(name) || name.is_empty() {
            return None;
        }
        // `Ethnic group (20 categories)`, `Age (18 categories)`: the categories are not the name
        let dimension = name.split(" (").next().unwrap_or(name).trim().to_owned();
        Some(Census { label, code, count, dimension })
    }
}

/// The columns of a census bulk table (Nomis' "bulk download" CSVs of the 2021 census, as the
/// build steps below take them): `date`, `geography`, `geography code`, then one column a
/// category, named `<variable>: <category>` (`Ethnic group: Asian, Asian British or Asian
/// Welsh`), a detailed category beside its broad one (`…: Asian, Asian British or Asian Welsh:
/// Bangladeshi`), the total first (`Ethnic group: Total: All usual residents`), each possibly
/// followed by `; measures: Value` (or `Percent`). Each row is an area.
#[derive(Debug, PartialEq)]
struct Wide {
    /// The columns counted: (column, dimension, group). Only the finest categories are (a broad
    /// group's column beside its detailed ones would count its people twice); totals and "Does not
    /// apply" are not.
    columns: Vec<(usize, String, String)>,
}

impl Wide {
    /// The bulk layout's columns in `headers`, if they are one: at least two categories of one
    /// variable past a total.
    fn of<'h>(headers: impl IntoIterator<Item = &'h str>) -> Option<Wide> {
        let headers: Vec<&str> = headers.into_iter().map(header_name).collect();
        fn measure<'a>(h: &'a str, m: &str) -> Option<&'a str> {
            let at = h.len().checked_sub(m.len())?;
            (h.is_char_boundary(at) && h[at..].eq_ignore_ascii_case(m)).then(|| h[..at].trim_end())
        }
        // the counts, else (a download of percentages only) the shares, which read as well
        let values: Vec<(usize, &str)> =
            headers.iter().enumerate().filter_map(|(i, h)| Some((i, measure(h, "; measures: Value")?))).collect();
        let values = if values.is_empty() {
            let shares: Vec<(usize, &str)> =
                headers.iter().enumerate().filter_map(|(i, h)| Some((i, measure(h, "; measures: Percent")?))).collect();
            if shares.is_empty() {
                headers.iter().copied().enumerate().collect()
            } else {
                shares
            }
        } else {
            values
        };
        let split: Vec<(usize, &str, &str)> = values
            .iter()
            .filter_map(|&(i, h)| {
                let (variable, category) = h.split_once(": ")?;
                let (variable, category) = (variable.trim(), category.trim());
                (!variable.is_empty() && !category.is_empty()).then_some((i, variable, category))
            })
            .collect();
        // the total is a variable's first column (`Total: All usual residents`, `All persons`;
        // `All other sexual orientations`, further on, is a category); "Does not apply" anywhere
        let total = |at: usize| {
            let (_, v, c) = split[at];
            let first = c.split(": ").next().unwrap_or(c).trim().to_ascii_lowercase();
            let leads = split[..at].iter().all(|&(_, w, _)| w != v);
            (leads && (first == "total" || first.starts_with("all "))) || first == "does not apply"
        };
        let columns: Vec<(usize, String, String)> = (0..split.len())
            .filter(|&at| !total(at))
            .map(|at| &split[at])
            // a broad group whose detailed groups are columns too
            .filter(|&&(_, v, c)| {
                !split
                    .iter()
                    .any(|&(_, w, d)| w == v && d.len() > c.len() && d.starts_with(c) && d[c.len()..].starts_with(": "))
            })
            .map(|&(i, v, c)| (i, v.split(" (").next().unwrap_or(v).trim().to_owned(), c.to_owned()))
            .collect();
        let totals = (0..split.len()).filter(|&at| total(at)).count();
        (columns.len() >= 2 && totals >= 1).then_some(Wide { columns })
    }
}

/// Baseline errors, naming file, row and column.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Cannot read the file.
    #[error("{path}: cannot read baseline: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The rows, once harmonised, do not fit the records.
    #[error("{path}: {message}")]
    Check {
        /// File.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// Bad content.
    #[error("{path}: row {row}: {message}")]
    Row {
        /// File.
        path: PathBuf,
        /// Row (header = 1).
        row: u64,
        /// What is wrong.
        message: String,
    },
}

impl Baseline {
    /// A baseline file read whole, every area counted.
    #[cfg(test)]
    pub(crate) fn from_file(name: &str, path: &Path) -> Result<Baseline, BaselineError> {
        Baseline::of_areas(name, path, &[])
    }

    /// The baseline `settings` names, only its areas' rows counted when it names some.
    ///
    /// # Errors
    /// As [`Baseline::of_areas`].
    pub(crate) fn of(settings: &crate::config::BaselineSettings) -> Result<Baseline, BaselineError> {
        let mut baseline = Baseline::of_areas(&settings.name, &settings.path, &settings.areas)?;
        // a group is written out (`representation`, the report, the summary): redacted, as the
        // records' values it is matched with are (found by a reader in the twenty-sixth session
        // on issue 9)
        for r in &mut baseline.rows {
            if let std::borrow::Cow::Owned(safe) = crate::text::redact::Redactor::shared().redact(&r.group).0 {
                r.group = safe;
            }
        }
        // a baseline of a header alone (an export truncated, a template saved unfilled) compared
        // no group with a population and said nothing (found trying careless inputs in the
        // twenty-first session on issue 9)
        if baseline.rows.is_empty() {
            return Err(BaselineError::Row {
                path: settings.path.clone(),
                row: 2,
                message: "the baseline holds no rows, only its header: give a row per dimension and group \
                          (dimension,group,population), or leave --baseline out"
                    .to_owned(),
            });
        }
        Ok(baseline)
    }

    /// Reads a baseline CSV with header `dimension,group,population` (any column order), or a
    /// census table as it comes; only the rows of `areas` (codes or names) when some are named.
    ///
    /// # Errors
    /// Unreadable file, missing columns, a population that is not a non-negative number; an
    /// area asked for that no row has, or areas asked for of a file that names none.
    fn of_areas(name: &str, path: &Path, areas: &[String]) -> Result<Baseline, BaselineError> {
        let bytes = crate::files::read(path).map_err(|e| BaselineError::Io { path: path.to_path_buf(), source: e })?;
        let sha256 = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let err = |row: u64, message: String| BaselineError::Row { path: path.to_path_buf(), row, message };
        if bytes.starts_with(b"PK\x03\x04") {
            return Err(err(
                1,
                "this is a workbook (XLSX or another zip), not a CSV: save its sheet as CSV".to_owned(),
            ));
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        // not UTF-8: Windows-1252, as Excel saves "CSV" (a group written "Other – any")
        let text = crate::ingest::csv::lossy(bytes);
        let bytes = text.as_bytes();
        // a baseline saved where the list separator is `;` reads as the inputs do
        // (from the header: past the comment and blank lines above it)
        let mut header = bytes;
        while matches!(header.first(), Some(b'#' | b'\n' | b'\r')) {
            header = header.iter().position(|&c| c == b'\n').map_or(&[][..], |n| &header[n + 1..]);
        }
        let delimiter = crate::ingest::csv::sniff_delimiter(header, b',').unwrap_or(b',');
        let mut reader =
            csv::ReaderBuilder::new().flexible(true).comment(Some(b'#')).delimiter(delimiter).from_reader(bytes);
        let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
        let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let mut census = None;
        let number = |raw: &str, row: u64, column: &str| -> Result<f64, BaselineError> {
            // a count, or a share: `0.81`, `81%` (a census table's percentages) — only shares
            // are used (the CV's N/(N−1) aside: see `propensity_cv`)
            let population: f64 = raw
                .replace(',', "")
                .trim_end_matches('%')
                .trim()
                .parse()
                .map_err(|_| err(row, format!("column {column:?}: {raw:?} is not a number")))?;
            if !(population.is_finite() && population >= 0.0) {
                return Err(err(row, format!("column {column:?}: {raw:?} must be zero or more")));
            }
            Ok(population)
        };
        let (d, g, p) = match (col("dimension"), col("group"), col("population")) {
            (Some(d), Some(g), Some(p)) => (d, g, p),
            (None, None, None) if Census::of(headers.iter()).is_none() && Wide::of(headers.iter()).is_some() => {
                let mut filter = AreaFilter::new(areas);
                let rows = Baseline::wide(&mut reader, &headers, bytes, &err, &number, &mut filter)?;
                let areas = filter.finish(path, true)?;
                return Ok(Baseline { name: name.to_owned(), rows, sha256, summed: true, areas });
            }
            (d, g, _) => match Census::of(headers.iter()) {
                Some(c) => {
                    let at = (c.label, c.label, c.count);
                    census = Some(c);
                    at
                }
                None => {
                    let name = if d.is_none() {
                        "dimension"
                    } else if g.is_none() {
                        "group"
                    } else {
                        "population"
                    };
                    return Err(err(
                        1,
                        format!(
                            "column {name:?} is missing; the header must have dimension,group,population, or be a \
                             census download's (an area's code and name, the variable's code and name, Observation) \
                             or a census bulk table's (a column a category after a total: `Ethnic group: Total: All usual \
                             residents`, `Ethnic group: White`…)"
                        ),
                    ));
                }
            },
        };
        // a census download's area is every column before the variable's code; a plain
        // baseline's, a column named for it
        let area_at: Vec<usize> = match &census {
            Some(c) => (0..c.code).collect(),
            None => area_columns(headers.iter()),
        };
        let mut filter = AreaFilter::new(areas);
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| err(i as u64 + 2, e.to_string()))?;
            let row = rec.position().map_or(i as u64 + 2, |p| line_at(bytes, p.byte()));
            let get = |j: usize| rec.get(j).unwrap_or("").trim().to_owned();
            if let Some(c) = &mut census {
                // downloads of several variables joined with `cat`: each one's header starts its rows
                if let Some(next) = Census::of(rec.iter()).filter(|n| (n.label, n.count) == (c.label, c.count)) {
                    *c = next;
                    continue;
                }
                if get(c.code).parse::<i64>().is_ok_and(|code| code < 0) {
                    continue;
                }
            }
            if !filter.keeps(area_at.iter().map(|&j| rec.get(j).unwrap_or(""))) {
                continue;
            }
            let population = number(&get(p), row, "population")?;
            let dimension = census.as_ref().map_or_else(|| get(d), |c| c.dimension.clone());
            rows.push(BaselineRow { dimension, group: get(g), population, line: row });
        }
        let areas = filter.finish(path, !area_at.is_empty())?;
        Ok(Baseline { name: name.to_owned(), rows, sha256, summed: census.is_some(), areas })
    }
}

impl Baseline {
    /// The rows of a census bulk table ([`Wide`]): a row per area and category counted, every
    /// area's added up (`summed`). Tables of several variables joined with `cat` are read as
    /// the one baseline of their dimensions (each one's header starts its rows).
    fn wide(
        reader: &mut csv::Reader<&[u8]>,
        headers: &csv::StringRecord,
        bytes: &[u8],
        err: &dyn Fn(u64, String) -> BaselineError,
        number: &dyn Fn(&str, u64, &str) -> Result<f64, BaselineError>,
        filter: &mut AreaFilter<'_>,
    ) -> Result<Vec<BaselineRow>, BaselineError> {
        let mut wide = Wide::of(headers.iter());
        let mut names: Vec<String> = headers.iter().map(|h| header_name(h).to_owned()).collect();
        // `geography` and `geography code`: the row's area
        let mut areas = area_columns(names.iter().map(String::as_str));
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| err(i as u64 + 2, e.to_string()))?;
            let row = rec.position().map_or(i as u64 + 2, |p| line_at(bytes, p.byte()));
            if let Some(next) = Wide::of(rec.iter()) {
                wide = Some(next);
                names = rec.iter().map(|h| header_name(h).to_owned()).collect();
                areas = area_columns(names.iter().map(String::as_str));
                continue;
            }
            let Some(w) = &wide else { continue };
            if !filter.keeps(areas.iter().map(|&j| rec.get(j).unwrap_or(""))) {
                continue;
            }
            for (j, dimension, group) in &w.columns {
                let raw = rec.get(*j).unwrap_or("").trim();
                let column = names.get(*j).map_or("", String::as_str);
                if raw.is_empty() {
                    return Err(err(
                        row,
                        format!("column {column:?} is empty; a bulk table has a count in every column"),
                    ));
                }
                let population = number(raw, row, column)?;
                rows.push(BaselineRow { dimension: dimension.clone(), group: group.clone(), population, line: row });
            }
        }
        Ok(rows)
    }

    /// The groups of the rows whose dimension names the run's age dimension (by
    /// [`dimension_of`]): the baseline's own age bands.
    pub(crate) fn age_groups<'b>(&'b self, dimensions: &'b [String]) -> impl Iterator<Item = &'b str> + 'b {
        self.rows
            .iter()
            .filter(|r| {
                dimension_of(&r.dimension, dimensions)
                    .is_some_and(|d| super::harmonise::is_age_dimension(&dimensions[d]))
            })
            .map(|r| r.group.as_str())
    }
}

/// The run dimension a baseline's `dimension` value names: as written, in any case and
/// punctuation (`Ethnicity`, `Age band`), or in a census table's words (`Ethnic group`, `Age`,
/// `Religion or belief`, `Sexual orientation`: found unused, each with a warning, beside a run
/// whose dimensions they are).
fn dimension_of(raw: &str, dimensions: &[String]) -> Option<usize> {
    if let Some(d) = dimensions.iter().position(|x| x == raw) {
        return Some(d);
    }
    let k = crate::ingest::column_key(raw);
    let name = match k.as_str() {
        "ethnic_group" | "ethnic_groups" | "ethnic_origin" | "ethnic_category" | "ethnicity_group" => "ethnicity",
        "ethnic_group_detailed" | "ethnicity_detailed" | "detailed_ethnic_group" => "ethnicity_detail",
        "age" | "age_group" | "age_groups" | "age_bands" | "age_range" => "age_band",
        "religion_or_belief" | "religious_belief" | "religion_belief" => "religion",
        "sexual_orientation" => "sexuality",
        "gender_identity" => "gender",
        "disability_status" | "disabled" => "disability",
        "unpaid_care" | "provision_of_unpaid_care" | "unpaid_carer" | "carer_status" => "carer",
        "imd" | "imd_quintiles" | "deprivation_quintile" | "imd_quintile_group" => "imd_quintile",
        other => other,
    };
    dimensions.iter().position(|x| x == name)
}

/// The line (from 1) of the record that starts at or after `byte`: the reader's position of a
/// record can be that of the comment or blank lines before it.
fn line_at(bytes: &[u8], byte: u64) -> u64 {
    let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    loop {
        let rest = &bytes[at..];
        let skip = rest.first().is_some_and(|&c| c == b'#' || c == b'\n' || c == b'\r');
        match rest.iter().position(|&c| c == b'\n') {
            Some(n) if skip => at += n + 1,
            _ => break,
        }
    }
    1 + bytes[..at].iter().filter(|&&c| c == b'\n').count() as u64
}

/// A baseline's populations per run dimension, after harmonisation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Populations {
    /// Per run dimension: group → (population, first line of the file).
    pub groups: Vec<BTreeMap<String, (f64, u64)>>,
    /// Rows that could not be used, each with why.
    pub unused: Vec<String>,
    /// Per run dimension: the rows whose group maps to no group (`unmapped`), as written.
    pub unmapped: Vec<Vec<String>>,
    /// Baseline dimensions the run does not have.
    pub other_dimensions: Vec<String>,
    /// The areas whose populations were added up, when the file holds several and none were
    /// picked.
    pub areas_summed: Vec<String>,
}

impl Baseline {
    /// Harmonises every row's group (`group(d, raw)`) into the run's `dimensions`. Two rows
    /// that land on the same (dimension, group) are an error naming both lines, unless
    /// `sum_duplicates`.
    ///
    /// # Errors
    /// [`BaselineError::Check`] for a duplicate.
    pub(crate) fn populations(
        &self,
        path: &Path,
        dimensions: &[String],
        group: impl Fn(usize, &str) -> String,
        sum_duplicates: bool,
    ) -> Result<Populations, BaselineError> {
        let sum_duplicates = sum_duplicates || self.summed;
        let mut out = Populations {
            groups: vec![BTreeMap::new(); dimensions.len()],
            unmapped: vec![Vec::new(); dimensions.len()],
            ..Populations::default()
        };
        if self.areas.picked.is_empty() && self.areas.met.len() > 1 {
            out.areas_summed = self.areas.met.clone();
        }
        for row in &self.rows {
            let Some(d) = dimension_of(&row.dimension, dimensions) else {
                if !out.other_dimensions.contains(&row.dimension) {
                    out.other_dimensions.push(row.dimension.clone());
                }
                out.unused.push(format!(
                    "line {}: {}={}: the run has no dimension {:?}",
                    row.line, row.dimension, row.group, row.dimension
                ));
                continue;
            };
            let g = group(d, &row.group);
            if g == super::UNMAPPED {
                out.unmapped[d].push(row.group.clone());
            }
            if matches!(g.as_str(), super::MISSING | super::NOT_STATED | super::UNMAPPED) {
                out.unused.push(format!("line {}: {}={}: the group maps to {g}", row.line, row.dimension, row.group));
                continue;
            }
            // two different age bands inside one band in force (a census table's 35-39 and 40-44
            // in 35-44) are that band's population, not one group written twice
            let spelled = |line: u64| self.rows.iter().find(|r| r.line == line).map_or("", |r| r.group.as_str());
            let joined = |first: u64| {
                let band = |raw: &str| crate::record::AgeBand::parse(raw).map(|b| b.label);
                super::harmonise::is_age_dimension(&dimensions[d])
                    && band(spelled(first)).is_some_and(|a| band(&row.group).is_some_and(|b| a != b))
            };
            match out.groups[d].get_mut(&g) {
                Some((pop, first)) if sum_duplicates || joined(*first) => *pop += row.population,
                Some((_, first)) => {
                    let first_raw = spelled(*first);
                    return Err(BaselineError::Check {
                        path: path.to_path_buf(),
                        message: format!(
                            "lines {first} and {} are both {} group {g:?} (written {first_raw:?} and {:?}): remove \
                             one, or add them up with duplicates = \"sum\" under [[baseline]] in the pipeline",
                            row.line, row.dimension, row.group
                        ),
                    });
                }
                None => {
                    out.groups[d].insert(g, (row.population, row.line));
                }
            }
        }
        Ok(out)
    }
}

impl Populations {
    /// Checks the populations against the records' groups: `present[d]` lists (group, records)
    /// for every group of dimension `d` that some record has (absent groups and ages outside
    /// every band left out by the caller). A dimension the baseline has must give each such
    /// group a population above zero. Returns warnings for baseline dimensions no record has.
    ///
    /// # Errors
    /// [`BaselineError::Check`] naming the first group with no or a zero population.
    pub(crate) fn check(
        &self,
        path: &Path,
        dimensions: &[String],
        present: &[Vec<(String, u64)>],
    ) -> Result<Vec<String>, BaselineError> {
        let mut warnings = Vec::new();
        if !self.areas_summed.is_empty() {
            // (found: a census bulk table, as step 1 of the README takes it, holds every local
            // authority of England and Wales; the run compared a trust's patients with both nations)
            let shown: Vec<&str> = self.areas_summed.iter().take(3).map(String::as_str).collect();
            let more = if self.areas_summed.len() > shown.len() { ", …" } else { "" };
            warnings.push(format!(
                "baseline {}: the populations of its {} areas are added up ({}{more}): if the service serves \
                 fewer, name them with areas = [\"…\"] under [[baseline]] or --baseline-area",
                path.display(),
                self.areas_summed.len(),
                shown.join(", ")
            ));
        }
        for d in &self.other_dimensions {
            warnings.push(format!(
                "baseline {}: dimension {d:?} is not one of the run's dimensions: no record has it, its rows are unused",
                path.display()
            ));
        }
        for (d, pops) in self.groups.iter().enumerate() {
            let dim = &dimensions[d];
            let unmapped = self.unmapped.get(d).map_or(&[][..], Vec::as_slice);
            if pops.is_empty() && !unmapped.is_empty() && !present[d].is_empty() {
                // every row of the dimension unmapped: the dimension left representation and the
                // raking, unsaid, where one such row beside a good one stops the run (found in the
                // twenty-fourth session on issue 9: `Females`, `Males`)
                let (g, n) = &present[d][0];
                return Err(BaselineError::Check {
                    path: path.to_path_buf(),
                    message: format!(
                        "none of its {dim} rows names a group the run knows ({}), so no {dim} group has a \
                         population — {n} record(s) are {dim} {g:?}: write the groups as the records' are, or map \
                         them under [people.map.{dim}] (see `unheard people`)",
                        unmapped.iter().map(|u| format!("{u:?}")).collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            if pops.is_empty() {
                continue;
            }
            if present[d].is_empty() {
                warnings.push(format!(
                    "baseline {}: no record has a stated {dim}, so its {dim} rows are unused",
                    path.display()
                ));
            }
            for (g, n) in &present[d] {
                let map = format!(
                    "or map the records' value to a group the baseline has under [people.map.{dim}] (see `unheard \
                     people`)"
                );
                match pops.get(g) {
                    None => {
                        return Err(BaselineError::Check {
                            path: path.to_path_buf(),
                            message: format!(
                                "no population for {dim} group {g:?}, which {n} record(s) have: add a row \
                                 \"{dim},{g},<population>\", {map}"
                            ),
                        })
                    }
                    Some((p, line)) if *p <= 0.0 => {
                        return Err(BaselineError::Check {
                            path: path.to_path_buf(),
                            message: format!(
                                "line {line}: {dim} group {g:?} has population {p}, but {n} record(s) have it: give \
                                 its population, {map}"
                            ),
                        })
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(text: &str) -> (tempfile::TempDir, PathBuf, Baseline) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.csv");
        std::fs::write(&path, text).unwrap();
        let b = Baseline::from_file("b", &path).unwrap();
        (dir, path, b)
    }

    fn trim(_: usize, raw: &str) -> String {
        match raw {
            "White British" => "White".to_owned(),
            "?" => crate::people::UNMAPPED.to_owned(),
            other => other.to_owned(),
        }
    }

    /// A baseline saved where the list separator is `;` (found trying one: "column
    /// \"dimension\" is missing", the header read as one column), past a comment holding `;`.
    #[test]
    fn a_baseline_saved_with_semicolons_reads_as_with_commas() {
        let comma =
            "# ONS 2021; mid-year\n\ndimension,group,population\nethnicity,White,\"1,200\"\nethnicity,Asian,2\n";
        let (_d, _p, a) = baseline(comma);
        let (_d, _p, b) = baseline(&comma.replace(',', ";").replace("\"1;200\"", "1200"));
        let rows = |b: &Baseline| {
            b.rows.iter().map(|r| (r.dimension.clone(), r.group.clone(), r.population, r.line)).collect::<Vec<_>>()
        };
        assert_eq!(rows(&a), rows(&b));
        assert_eq!(rows(&a)[0], ("ethnicity".to_owned(), "White".to_owned(), 1200.0, 4));
        // a comment with `;` above a comma header leaves the comma
        let (_d, _p, c) = baseline("# a; b; c\ndimension,group,population\nsex,Male,5\n");
        assert_eq!(rows(&c), [("sex".to_owned(), "Male".to_owned(), 5.0, 3)]);
        // a census table's percentages (once "is not a number"): read as shares
        let (_d, _p, pct) = baseline("dimension,group,population\nsex,Male,49.2%\nsex,Female, 50.8 %\n");
        assert_eq!(pct.rows.iter().map(|r| r.population).collect::<Vec<_>>(), [49.2, 50.8]);
    }

    /// Excel's "CSV" in Windows-1252 (found trying one: "CSV parse error … invalid utf-8"),
    /// and a workbook given as the baseline, named as such.
    #[test]
    fn a_windows_1252_baseline_is_decoded_and_a_workbook_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.csv");
        std::fs::write(&path, b"dimension,group,population\nethnicity,Other \x96 any,7\n").unwrap();
        let b = Baseline::from_file("b", &path).unwrap();
        assert_eq!(b.rows[0].group, "Other \u{2013} any");
        std::fs::write(&path, b"PK\x03\x04\x14\x00rest of a zip").unwrap();
        let e = Baseline::from_file("b", &path).unwrap_err().to_string();
        assert!(e.contains("workbook") && e.contains("b.csv"), "{e}");
    }

    /// A census download as it comes (ONS's "create a custom dataset" CSV: the
    /// area's code and name, the variable's code and name, `Observation`; found refused with
    /// "column \"dimension\" is missing" in the fourteenth session on issue 9), for two areas,
    /// and a second variable's download joined to it with `cat` (its byte-order mark leading its
    /// header): read as the rows of the two dimensions, each area's and each detailed group's
    /// rows added up, "Does not apply" (code -8) no group.
    #[test]
    fn a_census_download_of_two_areas_and_two_variables_reads_as_their_dimensions() {
        let ethnic = "\u{feff}\"Lower tier local authorities Code\",\"Lower tier local authorities\",\"Ethnic group (20 categories) Code\",\"Ethnic group (20 categories)\",\"Observation\"\n\
             \"E06000045\",\"Southampton\",-8,\"Does not apply\",0\n\
             \"E06000045\",\"Southampton\",3,\"Asian, Asian British or Asian Welsh: Indian\",8200\n\
             \"E06000045\",\"Southampton\",13,\"White British\",185000\n\
             \"E06000044\",\"Portsmouth\",3,\"Asian, Asian British or Asian Welsh: Indian\",4100\n\
             \"E06000044\",\"Portsmouth\",13,\"White British\",170000\n";
        let sex = "\u{feff}\"Lower tier local authorities Code\",\"Lower tier local authorities\",\"Sex (2 categories) Code\",\"Sex (2 categories)\",\"Observation\"\n\
             \"E06000045\",\"Southampton\",1,\"Female\",\"125,000\"\n\
             \"E06000044\",\"Portsmouth\",1,\"Female\",104000\n";
        let (_d, path, b) = baseline(&format!("{ethnic}{sex}"));
        assert!(b.summed);
        let rows: Vec<(&str, &str, f64, u64)> =
            b.rows.iter().map(|r| (r.dimension.as_str(), r.group.as_str(), r.population, r.line)).collect();
        assert_eq!(rows.len(), 6, "{rows:?}");
        assert_eq!(rows[0], ("Ethnic group", "Asian, Asian British or Asian Welsh: Indian", 8200.0, 3));
        assert_eq!(rows[5], ("Sex", "Female", 104_000.0, 9));
        let dims = ["ethnicity".to_owned(), "sex".to_owned()];
        let group = |_: usize, raw: &str| if raw.starts_with("Asian") { "Asian".to_owned() } else { trim(0, raw) };
        let pops = b.populations(&path, &dims, group, false).unwrap();
        assert_eq!(pops.groups[0].get("Asian").map(|g| g.0), Some(12_300.0));
        assert_eq!(pops.groups[0].get("White").map(|g| g.0), Some(355_000.0));
        assert_eq!(pops.groups[1].get("Female").map(|g| g.0), Some(229_000.0));
        assert!(pops.unused.is_empty(), "{:?}", pops.unused);
        // a header that is neither is named as both
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.csv");
        std::fs::write(&p, "Area,Group,Observation\nE1,Female,3\n").unwrap();
        let e = Baseline::from_file("b", &p).unwrap_err().to_string();
        assert!(e.contains("\"dimension\" is missing") && e.contains("census download"), "{e}");
    }

    /// The areas a trust serves, picked from a census table of every area (found in the sixteenth
    /// session on issue 9: Nomis' bulk tables, which step 1 of the README takes, hold every local
    /// authority of England and Wales, and the run compared a trust's patients with both nations,
    /// unsaid): by code or name, in any case, in each layout that names areas; every area met is
    /// noted, summing several unpicked is a warning, an area no row has and areas asked of a
    /// file without any are errors.
    #[test]
    fn a_census_table_s_areas_are_picked_by_code_or_name() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let picked = |p: &Path, areas: &[&str]| {
            let areas: Vec<String> = areas.iter().map(|a| (*a).to_owned()).collect();
            Baseline::of_areas("b", p, &areas)
        };
        let total = |b: &Baseline, group: &str| -> f64 {
            b.rows.iter().filter(|r| r.group == group).map(|r| r.population).sum()
        };
        let bulk = write(
            "bulk.csv",
            "date,geography,geography code,Sex: All persons,Sex: Female,Sex: Male\n\
             2021,Southampton,E06000045,250,130,120\n2021,Portsmouth,E06000044,200,90,110\n\
             2021,Hartlepool,E06000001,100,45,55\n",
        );
        let all = Baseline::from_file("b", &bulk).unwrap();
        assert_eq!(total(&all, "Female"), 265.0);
        assert_eq!(all.areas.met, ["Southampton E06000045", "Portsmouth E06000044", "Hartlepool E06000001"]);
        let two = picked(&bulk, &["e06000045", " Portsmouth "]).unwrap();
        assert_eq!((total(&two, "Female"), total(&two, "Male")), (220.0, 230.0));
        assert_eq!(two.areas.met.len(), 3, "every area met is noted, counted or not");
        // a code and a name of one area count it once
        assert_eq!(total(&picked(&bulk, &["E06000045", "Southampton"]).unwrap(), "Female"), 130.0);
        let e = picked(&bulk, &["E06000046"]).unwrap_err().to_string();
        assert!(e.contains("\"E06000046\" is in no row") && e.contains("Hartlepool E06000001"), "{e}");
        // summed unpicked: a warning naming how many, silenced by picking
        let dims = ["sex".to_owned()];
        let sex = |_: usize, raw: &str| raw.to_owned();
        let present = [vec![("Female".to_owned(), 1)]];
        let warned = all.populations(&bulk, &dims, sex, false).unwrap().check(&bulk, &dims, &present).unwrap();
        assert!(
            warned.iter().any(|w| w.contains("its 3 areas are added up") && w.contains("--baseline-area")),
            "{warned:?}"
        );
        let quiet = two.populations(&bulk, &dims, sex, false).unwrap().check(&bulk, &dims, &present).unwrap();
        assert!(quiet.is_empty(), "{quiet:?}");
        // a census download's area is the columns before the variable's code
        let download = write(
            "download.csv",
            "\"Lower tier local authorities Code\",\"Lower tier local authorities\",\"Sex (2 categories) Code\",\"Sex (2 categories)\",\"Observation\"\n\
             E06000045,Southampton,1,Female,130\nE06000044,Portsmouth,1,Female,90\n",
        );
        assert_eq!(total(&picked(&download, &["portsmouth"]).unwrap(), "Female"), 90.0);
        // a plain baseline with an area column
        let plain = write("plain.csv", "area,dimension,group,population\nA1,sex,Female,5\nA2,sex,Female,7\n");
        assert_eq!(total(&picked(&plain, &["A2"]).unwrap(), "Female"), 7.0);
        // areas asked of a file that names none
        let none = write("none.csv", "dimension,group,population\nsex,Female,5\n");
        let e = picked(&none, &["A2"]).unwrap_err().to_string();
        assert!(e.contains("no area column"), "{e}");
        assert!(Baseline::from_file("b", &none).unwrap().areas.met.is_empty());
    }

    /// A census bulk table as Nomis lays it out (README's build step 1 takes these; found read as
    /// "column \"dimension\" is missing" in the fifteenth session on issue 9): a column a
    /// category, a broad group beside its detailed ones, a total first, two areas; a second
    /// table joined with `cat`, its columns suffixed `; measures: Value` beside `Percent` ones.
    /// Only the finest categories count (a broad column beside its detailed ones would count its
    /// people twice), the areas added up.
    #[test]
    fn a_census_bulk_table_counts_its_finest_categories_once() {
        let ethnic = "date,geography,geography code,Ethnic group: Total: All usual residents,\
             \"Ethnic group: Asian, Asian British or Asian Welsh\",\
             \"Ethnic group: Asian, Asian British or Asian Welsh: Bangladeshi\",\
             \"Ethnic group: Asian, Asian British or Asian Welsh: Indian\",\
             Ethnic group: White,\"Ethnic group: White: English, Welsh, Scottish, Northern Irish or British\",\
             Ethnic group: White: Irish,Ethnic group: Other ethnic group\n\
             2021,Southampton,E06000045,\"1,000\",300,100,200,690,600,90,10\n\
             2021,Portsmouth,E06000044,500,50,20,30,440,400,40,10\n";
        let sex =
            "\u{feff}date,geography,geography code,Sex: All persons; measures: Value,Sex: Female; measures: Value,\
             Sex: Male; measures: Value,Sex: Female; measures: Percent,Sex: Male; measures: Percent\n\
             2021,Southampton,E06000045,1000,510,490,51.0,49.0\n";
        let (_d, path, b) = baseline(&format!("{ethnic}{sex}"));
        assert!(b.summed);
        let rows: Vec<(&str, &str, f64, u64)> =
            b.rows.iter().map(|r| (r.dimension.as_str(), r.group.as_str(), r.population, r.line)).collect();
        assert_eq!(rows.len(), 2 * 5 + 2, "{rows:?}");
        assert_eq!(rows[0], ("Ethnic group", "Asian, Asian British or Asian Welsh: Bangladeshi", 100.0, 2));
        assert!(!rows.iter().any(|r| r.1 == "White" || r.1.starts_with("Total")), "{rows:?}");
        assert_eq!(rows[11], ("Sex", "Male", 490.0, 5));
        let dims = ["ethnicity".to_owned(), "sex".to_owned()];
        let group =
            |_: usize, raw: &str| raw.split(':').next().unwrap_or(raw).split(',').next().unwrap_or(raw).to_owned();
        let pops = b.populations(&path, &dims, group, false).unwrap();
        let pop = |d: usize, g: &str| pops.groups[d].get(g).map(|g| g.0);
        assert_eq!(pop(0, "Asian"), Some(350.0));
        assert_eq!(pop(0, "White"), Some(1130.0), "the broad White column is not added to its detailed ones");
        assert_eq!(pop(0, "Other ethnic group"), Some(20.0), "a broad group with no detailed columns counts");
        assert_eq!((pop(1, "Female"), pop(1, "Male")), (Some(510.0), Some(490.0)), "the percentages are not counts");
        // `All other sexual orientations`, past the total, is a category, not a total
        let so = "date,geography,Sexual orientation: Total: All usual residents aged 16 years and over,\
             Sexual orientation: Straight or Heterosexual,Sexual orientation: All other sexual orientations,\
             Sexual orientation: All other sexual orientations: Pansexual,Sexual orientation: Does not apply\n\
             2021,X,30,25,5,5,0\n";
        let (_d, _p, b) = baseline(so);
        let groups: Vec<&str> = b.rows.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(groups, ["Straight or Heterosexual", "All other sexual orientations: Pansexual"]);
        // a bulk table with a count missing is named by row and column
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.csv");
        std::fs::write(&p, "date,geography,Sex: All persons,Sex: Female,Sex: Male\n2021,X,10,,5\n").unwrap();
        let e = Baseline::from_file("b", &p).unwrap_err().to_string();
        assert!(e.contains("row 2") && e.contains("\"Sex: Female\" is empty"), "{e}");
    }

    #[test]
    fn lines_count_comments_and_blank_lines() {
        let (_d, _p, b) =
            baseline("dimension,group,population\n# note\n\nethnicity,White,1\r\n#x\nethnicity,Asian,2\n");
        assert_eq!(b.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [4, 6]);
    }

    #[test]
    fn duplicates_after_harmonisation_name_both_lines_or_are_summed() {
        let text =
            "dimension,group,population\nethnicity,White,100\nethnicity,?,5\nethnicity,White British,30\nsex,Male,1\n";
        let (_d, path, b) = baseline(text);
        let dims = ["ethnicity".to_owned()];
        let err = b.populations(&path, &dims, trim, false).unwrap_err().to_string();
        assert!(err.contains("lines 2 and 4") && err.contains("\"White British\""), "{err}");
        let p = b.populations(&path, &dims, trim, true).unwrap();
        assert_eq!(p.groups[0]["White"], (130.0, 2));
        assert_eq!(p.unused.len(), 2, "the unmapped row and the sex row: {:?}", p.unused);
        assert_eq!(p.other_dimensions, ["sex"]);
        // a census table's words name the run's dimensions, in any case
        let dims: Vec<String> = ["ethnicity", "age_band", "religion", "sexuality"].map(str::to_owned).to_vec();
        for (raw, d) in [
            ("Ethnicity", 0),
            ("Ethnic group", 0),
            ("AGE BAND", 1),
            ("Age", 1),
            ("Religion or belief", 2),
            ("Sexual orientation", 3),
        ] {
            assert_eq!(dimension_of(raw, &dims), Some(d), "{raw}");
        }
        assert_eq!(dimension_of("Ethnic", &dims), None);
    }

    #[test]
    fn groups_in_the_records_need_a_population() {
        let (_d, path, b) = baseline("dimension,group,population\nethnicity,White,100\nethnicity,Asian,0\n");
        let dims = ["ethnicity".to_owned(), "religion".to_owned()];
        let p = b.populations(&path, &dims, trim, false).unwrap();
        let present = |g: &[&str]| vec![g.iter().map(|g| ((*g).to_owned(), 3)).collect::<Vec<_>>(), Vec::new()];
        assert!(p.check(&path, &dims, &present(&["White"])).unwrap().is_empty());
        let zero = p.check(&path, &dims, &present(&["Asian", "White"])).unwrap_err().to_string();
        assert!(zero.contains("line 3") && zero.contains("population 0"), "{zero}");
        let gap = p.check(&path, &dims, &present(&["Black"])).unwrap_err().to_string();
        assert!(gap.contains("no population for ethnicity group \"Black\""), "{gap}");
        let none = p.check(&path, &dims, &[Vec::new(), Vec::new()]).unwrap();
        assert_eq!(none.len(), 1, "no record has an ethnicity: {none:?}");
    }
}
