//! Population baselines: `dimension,group,population` CSV files.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// One row of a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineRow {
    /// Dimension, e.g. `ethnicity`.
    pub dimension: String,
    /// Group, e.g. `Asian`.
    pub group: String,
    /// Population count.
    pub population: f64,
}

/// A population baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// Name.
    pub name: String,
    /// Rows in file order.
    pub rows: Vec<BaselineRow>,
    /// sha256 of the file.
    pub sha256: String,
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
    /// Reads a baseline CSV with header `dimension,group,population` (any column order).
    ///
    /// # Errors
    /// Unreadable file, missing columns, or a population that is not a non-negative number.
    pub fn from_file(name: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let bytes = std::fs::read(path).map_err(|e| BaselineError::Io { path: path.to_path_buf(), source: e })?;
        let sha256 = crate::ingest::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let err = |row: u64, message: String| BaselineError::Row { path: path.to_path_buf(), row, message };
        let mut reader = csv::ReaderBuilder::new().flexible(true).comment(Some(b'#')).from_reader(bytes);
        let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
        let col = |name: &str| {
            headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name)).ok_or_else(|| {
                err(1, format!("column {name:?} is missing; the header must have dimension,group,population"))
            })
        };
        let (d, g, p) = (col("dimension")?, col("group")?, col("population")?);
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let row = i as u64 + 2;
            let rec = rec.map_err(|e| err(row, e.to_string()))?;
            let get = |j: usize| rec.get(j).unwrap_or("").trim().to_owned();
            let pop_raw = get(p);
            let population: f64 = pop_raw
                .replace(',', "")
                .parse()
                .map_err(|_| err(row, format!("column \"population\": {pop_raw:?} is not a number")))?;
            if !(population.is_finite() && population >= 0.0) {
                return Err(err(row, format!("column \"population\": {pop_raw:?} must be zero or more")));
            }
            rows.push(BaselineRow { dimension: get(d), group: get(g), population });
        }
        Ok(Baseline { name: name.to_owned(), rows, sha256 })
    }
}
