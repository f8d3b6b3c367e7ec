//! Parquet writing with the arrow-rs `parquet` crate, to the BI-safe profile of DESIGN.md:
//! flat columns; plain UTF-8 strings; INT32/INT64/DOUBLE/BOOLEAN/DATE; no embedded Arrow
//! schema; data page V1; PLAIN / RLE_DICTIONARY; Snappy; row groups of up to 1M rows.
//! Files are written under a dot name, then renamed; the commit fsyncs them all.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use parquet::arrow::arrow_writer::{ArrowWriter, ArrowWriterOptions};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;

use crate::table::{Col, ColumnData, Table};

/// Rows per row group.
pub(crate) const ROW_GROUP_ROWS: usize = 1_000_000;

/// Output errors.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output could not be replaced after the run's state was kept.
    #[error(
        "the state was kept, with this run's records, but the output could not be replaced (the next run writes it again from the state): {source}"
    )]
    AfterState {
        /// Why the output could not be replaced.
        #[source]
        source: Box<OutputError>,
    },
    /// File system.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Parquet writer.
    #[error("{path}: cannot write Parquet: {source}")]
    Parquet {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Arrow (building a batch).
    #[error("table {table}: {source}")]
    Arrow {
        /// Table.
        table: String,
        /// Cause.
        #[source]
        source: arrow::error::ArrowError,
    },
    /// An output path that may not be replaced.
    #[error("{role} {path}: {reason}; unheard replaces only a folder an earlier run wrote that holds nothing else: choose a new path (nothing was touched)")]
    Refused {
        /// `output`, or `state` for the state folder.
        role: &'static str,
        /// The output path as given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An output whose folder cannot be made or written (`--out /proc/x`, a read-only disk).
    #[error("{role} {path}: cannot be written there ({at}: {source}); choose a folder you can write to (nothing was touched)")]
    Unwritable {
        /// `output`, or `state` for the state folder.
        role: &'static str,
        /// The output path as given.
        path: PathBuf,
        /// What could not be made: the folder above it, or the lock file beside it.
        at: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Another run writes to the same output.
    #[error("{role} {path}: another unheard run ({holder}) is writing to it; wait for it to finish")]
    Locked {
        /// `output`, or `state` for the state folder.
        role: &'static str,
        /// The output path as given.
        path: PathBuf,
        /// The process holding the lock.
        holder: String,
    },
    /// Manifest.
    #[error("cannot write the manifest: {0}")]
    Json(#[from] serde_json::Error),
}

impl OutputError {
    /// The same error said of the state folder, which is guarded as an output is.
    #[must_use]
    pub fn of_state(self) -> Self {
        match self {
            Self::Refused { path, reason, .. } => Self::Refused { role: "state", path, reason },
            Self::Locked { path, holder, .. } => Self::Locked { role: "state", path, holder },
            Self::Unwritable { path, at, source, .. } => Self::Unwritable { role: "state", path, at, source },
            other => other,
        }
    }
}

/// The column's values as an Arrow array, with its type.
fn to_arrow(data: &ColumnData) -> (DataType, ArrayRef) {
    match data {
        ColumnData::Str(v) => (DataType::Utf8, Arc::new(v.iter().map(Option::as_deref).collect::<StringArray>())),
        ColumnData::Utf8(a) => (DataType::Utf8, Arc::new(a.clone())),
        ColumnData::I32(v) => (DataType::Int32, Arc::new(v.iter().copied().collect::<Int32Array>())),
        ColumnData::I64(v) => (DataType::Int64, Arc::new(v.iter().copied().collect::<Int64Array>())),
        ColumnData::F64(v) => (DataType::Float64, Arc::new(v.iter().copied().collect::<Float64Array>())),
        ColumnData::Bool(v) => (DataType::Boolean, Arc::new(v.iter().copied().collect::<BooleanArray>())),
        ColumnData::Date(v) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let days = v.iter().map(|d| d.map(|d| i32::try_from((d - epoch).num_days()).unwrap_or(i32::MAX)));
            (DataType::Date32, Arc::new(days.collect::<Date32Array>()))
        }
    }
}

/// The Arrow type a column is written as.
fn arrow_type(data: &ColumnData) -> DataType {
    match data {
        ColumnData::Str(_) | ColumnData::Utf8(_) => DataType::Utf8,
        ColumnData::I32(_) => DataType::Int32,
        ColumnData::I64(_) => DataType::Int64,
        ColumnData::F64(_) => DataType::Float64,
        ColumnData::Bool(_) => DataType::Boolean,
        ColumnData::Date(_) => DataType::Date32,
    }
}

/// Writes `table` to `path` (via a dot file, then renamed).
///
/// # Errors
/// I/O or Parquet errors, naming the path.
pub fn write_table(table: &Table, path: &Path) -> Result<(), OutputError> {
    let mut w = TableWriter::create(table, path, ROW_GROUP_ROWS)?;
    w.write(table)?;
    w.finish()?;
    Ok(())
}

/// Columns whose values are (nearly) all different: written PLAIN, since a dictionary would
/// only be built to be dropped (it cost a sixth of the writer's time).
const UNIQUE_COLUMNS: [&str; 10] = [
    "record_id",
    "response_id",
    "text",
    "original_text",
    "matched_words",
    "source_row",
    "key_hi",
    "key_lo",
    "content_hi",
    "content_lo",
];

/// String columns that keep min/max statistics: the ids, where a reader looking one up can skip
/// the row groups that cannot hold it. The other string columns are free text (nobody filters
/// on the smallest comment) or categories (every row group holds nearly every value, so their
/// min/max would skip nothing); their statistics cost 5 % of a run's instructions. Dates and
/// numbers keep theirs.
const STRING_COLUMNS_WITH_STATISTICS: [&str; 2] = ["record_id", "response_id"];

/// Rows per row group of the tables written as a stream (`records`, `record_themes`,
/// `quarantine`, `field_issues`): each open writer holds at most one row group in memory.
pub(crate) const STREAM_ROW_GROUP_ROWS: usize = 131_072;

/// The most a row group's rows may hold, counted as their values' bytes (a string's length, a
/// number's width): an open row group is held in memory until it closes, and one of 131,072
/// complaint letters of 8 KB held 1 GB (a month's partition of FFT comments, about 400 bytes a
/// row, closes at its row count first).
pub(crate) const ROW_GROUP_BYTES: usize = 64 << 20;

/// Rows handed to the Parquet writer at a time, counted from each row group's first row.
///
/// The writer cuts what it is handed into pages from the first row of each call, so rows
/// handed in other portions make other pages: the same rows in other bytes. Handing them over
/// in portions of this many rows from the row group's start (the rest held until more come, or
/// the group closes) makes a file's bytes depend on its rows only (found in the twentieth
/// session on issue 9: two nights over 300,000 records gave a full run's rows, but 10 of its 37
/// files in other bytes, which the README promised they were not; the tests' nights were too
/// small to fill a page).
const WRITE_ROWS: usize = 1024;

/// A Parquet file written batch by batch (under a dot name; [`TableWriter::finish`] renames
/// it, the commit fsyncs it). A row group closes at `row_group_rows` rows, or before the row
/// that would take it past [`ROW_GROUP_BYTES`], and its rows go to the Parquet writer
/// [`WRITE_ROWS`] at a time, so the file's bytes depend on its rows only, never on how they
/// were batched across threads or nights.
pub(crate) struct TableWriter {
    writer: ArrowWriter<File>,
    schema: Arc<Schema>,
    name: String,
    tmp: PathBuf,
    path: PathBuf,
    rows: usize,
    row_group_rows: usize,
    /// [`ROW_GROUP_BYTES`] (smaller in tests).
    row_group_bytes: usize,
    /// Rows and bytes of the row group being written (those pending included).
    group: (usize, usize),
    /// The row group's last rows, fewer than [`WRITE_ROWS`], not yet handed to the writer.
    pending: Option<RecordBatch>,
}

/// Each row's bytes, as [`ROW_GROUP_BYTES`] counts them.
fn row_bytes(arrays: &[ArrayRef], rows: usize) -> Vec<usize> {
    use arrow::array::Array;
    let mut bytes = vec![0usize; rows];
    for a in arrays {
        match a.as_any().downcast_ref::<StringArray>() {
            Some(s) => {
                for (b, w) in bytes.iter_mut().zip(s.value_offsets().windows(2)) {
                    *b += usize::try_from(w[1] - w[0]).unwrap_or(0) + 4;
                }
            }
            None => {
                let width = a.data_type().primitive_width().unwrap_or(1);
                bytes.iter_mut().for_each(|b| *b += width);
            }
        }
    }
    bytes
}

impl TableWriter {
    /// Opens `path` for a table with `table`'s columns (its rows are not written).
    ///
    /// # Errors
    /// The file cannot be created.
    pub(crate) fn create(table: &Table, path: &Path, row_group_rows: usize) -> Result<TableWriter, OutputError> {
        let fields: Vec<Field> = table.columns.iter().map(|c| Field::new(&c.name, arrow_type(&c.data), true)).collect();
        let schema = Arc::new(Schema::new(fields));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("part.parquet");
        let tmp = path.with_file_name(format!(".{name}"));
        let file = File::create(&tmp).map_err(|e| OutputError::Io { path: tmp.clone(), source: e })?;
        let mut properties = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(Compression::SNAPPY)
            .set_dictionary_enabled(true)
            // (row groups are closed here, by rows and bytes: [`TableWriter::write`])
            .set_max_row_group_row_count(None)
            .set_created_by(concat!("unheard ", env!("CARGO_PKG_VERSION")).to_owned());
        for c in table.columns.iter().filter(|c| UNIQUE_COLUMNS.contains(&c.name.as_str())) {
            properties = properties.set_column_dictionary_enabled(ColumnPath::from(c.name.as_str()), false);
        }
        let unfiltered = |c: &&Col| {
            matches!(arrow_type(&c.data), DataType::Utf8) && !STRING_COLUMNS_WITH_STATISTICS.contains(&c.name.as_str())
        };
        for c in table.columns.iter().filter(unfiltered) {
            properties =
                properties.set_column_statistics_enabled(ColumnPath::from(c.name.as_str()), EnabledStatistics::None);
        }
        let properties = properties.build();
        let options = ArrowWriterOptions::new().with_properties(properties).with_skip_arrow_metadata(true);
        let writer = ArrowWriter::try_new_with_options(file, schema.clone(), options)
            .map_err(|e| OutputError::Parquet { path: path.to_path_buf(), source: e })?;
        Ok(TableWriter {
            writer,
            schema,
            name: table.name.clone(),
            tmp,
            path: path.to_path_buf(),
            rows: 0,
            row_group_rows: row_group_rows.max(1),
            row_group_bytes: ROW_GROUP_BYTES,
            group: (0, 0),
            pending: None,
        })
    }

    /// Appends `table`'s rows (its columns must be those the writer was created with).
    ///
    /// # Errors
    /// Columns that do not match, or the file cannot be written.
    pub(crate) fn write(&mut self, table: &Table) -> Result<(), OutputError> {
        if table.rows() == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = table.columns.iter().map(|c| to_arrow(&c.data).1).collect();
        let rows = table.rows();
        let bytes = row_bytes(&arrays, rows);
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| OutputError::Arrow { table: self.name.clone(), source: e })?;
        // the rows in runs that each fill the row group being written, or close it
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let (n, size) = self.group;
            if n > 0 && (n == self.row_group_rows || size + b > self.row_group_bytes) {
                self.hand_over(&batch.slice(start, i - start), true)?;
                start = i;
                self.group = (0, 0);
            }
            self.group.0 += 1;
            self.group.1 += b;
        }
        self.hand_over(&batch.slice(start, rows - start), false)?;
        self.rows += rows;
        Ok(())
    }

    /// Hands `rows`, after those pending, to the Parquet writer [`WRITE_ROWS`] at a time and
    /// keeps the rest pending; `close`: hands over the rest too and closes the row group.
    fn hand_over(&mut self, rows: &RecordBatch, close: bool) -> Result<(), OutputError> {
        let arrow = |e| OutputError::Arrow { table: self.name.clone(), source: e };
        let parquet = |e| OutputError::Parquet { path: self.path.clone(), source: e };
        let mut rows = rows.clone();
        if let Some(pending) = self.pending.take() {
            let head = rows.slice(0, (WRITE_ROWS - pending.num_rows()).min(rows.num_rows()));
            let joined = arrow::compute::concat_batches(&self.schema, [&pending, &head]).map_err(arrow)?;
            rows = rows.slice(head.num_rows(), rows.num_rows() - head.num_rows());
            if joined.num_rows() == WRITE_ROWS || close {
                self.writer.write(&joined).map_err(parquet)?;
            } else {
                self.pending = Some(joined);
            }
        }
        let whole = rows.num_rows() / WRITE_ROWS * WRITE_ROWS;
        for at in (0..whole).step_by(WRITE_ROWS) {
            self.writer.write(&rows.slice(at, WRITE_ROWS)).map_err(parquet)?;
        }
        let rest = rows.slice(whole, rows.num_rows() - whole);
        if close {
            if rest.num_rows() > 0 {
                self.writer.write(&rest).map_err(parquet)?;
            }
            self.writer.flush().map_err(parquet)?;
        } else if rest.num_rows() > 0 {
            // copied (a batch of one and an empty one), so that the batch it is cut from is freed
            let empty = rest.slice(0, 0);
            self.pending = Some(arrow::compute::concat_batches(&self.schema, [&rest, &empty]).map_err(arrow)?);
        }
        Ok(())
    }

    /// Closes the file and gives it its name; returns its rows.
    ///
    /// # Errors
    /// The file cannot be finished.
    pub(crate) fn finish(mut self) -> Result<usize, OutputError> {
        if let Some(rest) = self.pending.take() {
            self.writer.write(&rest).map_err(|e| OutputError::Parquet { path: self.path.clone(), source: e })?;
        }
        // (made durable with the run's other files, before the commit: `output::commit`)
        let file = self.writer.into_inner().map_err(|e| OutputError::Parquet { path: self.path.clone(), source: e })?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| OutputError::Io { path: self.path.clone(), source: e })?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::{TableWriter, ROW_GROUP_BYTES};
    use crate::table::{Col, ColumnData, Table};

    fn letters(from: usize, to: usize) -> Table {
        Table {
            name: "letters".into(),
            grain: "a letter".into(),
            columns: vec![
                Col::new("n", "", ColumnData::I64((from..to).map(|i| Some(i as i64)).collect())),
                Col::new("text", "", ColumnData::strs((from..to).map(|i| Some("x".repeat(50 + i % 100))))),
            ],
        }
    }

    /// The bytes of a file of rows `0..total` of `table`, handed to a [`TableWriter`] in the
    /// pieces that end at `cuts` (then at `total`), row groups closing at `group_rows` rows or
    /// `group_bytes` bytes.
    fn written_in_pieces(
        path: &std::path::Path,
        table: &dyn Fn(usize, usize) -> Table,
        (group_rows, group_bytes): (usize, usize),
        cuts: &[usize],
        total: usize,
    ) -> Vec<u8> {
        let mut w = TableWriter::create(&table(0, 0), path, group_rows).unwrap();
        w.row_group_bytes = group_bytes;
        let mut from = 0;
        for &to in cuts.iter().chain([total].iter()) {
            w.write(&table(from, to)).unwrap();
            from = to;
        }
        assert_eq!(w.finish().unwrap(), total);
        std::fs::read(path).unwrap()
    }

    /// Pages too are cut at the same rows however the rows come: the Parquet writer cuts pages
    /// from the first row of each portion it is handed (found: two nights over 300,000 records
    /// gave a full run's rows in other bytes). 60,000 rows of 50–150 bytes and a column with
    /// gaps fill several pages of each column; handed over in one piece and in a night's and a
    /// run's batches, the file is the same, byte for byte.
    #[test]
    fn pages_are_cut_at_the_same_rows_however_the_rows_come() {
        let rows = |from: usize, to: usize| {
            let mut t = letters(from, to);
            t.columns.push(Col::new(
                "gaps",
                "",
                ColumnData::strs((from..to).map(|i| (i % 7 != 0).then(|| format!("v{}", i % 13)))),
            ));
            t
        };
        let tmp = tempfile::tempdir().unwrap();
        let group = (super::STREAM_ROW_GROUP_ROWS, ROW_GROUP_BYTES);
        let write = |name: &str, cuts: &[usize]| written_in_pieces(&tmp.path().join(name), &rows, group, cuts, 60_000);
        let whole = write("whole.parquet", &[]);
        let reader = parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(whole.clone())).unwrap();
        let meta = parquet::file::reader::FileReader::metadata(&reader);
        // (the text column is more than a page's 1 MiB: several pages, cut somewhere)
        assert!(meta.row_group(0).column(1).uncompressed_size() > 3 << 20);
        assert!(whole == write("batches.parquet", &[4_096, 12_288, 28_672, 59_000]), "a run's batches");
        assert!(whole == write("nights.parquet", &[777, 1_024, 5_000, 30_001, 59_999]), "a night's portions");
    }

    /// Row groups close by rows or by bytes, whichever comes first, at the same rows however the
    /// table is handed over: in one piece, or in pieces of any size (a run's batches, a night's).
    #[test]
    fn row_groups_close_by_bytes_at_the_same_rows_however_the_rows_come() {
        const { assert!(ROW_GROUP_BYTES >= 32 << 20, "a month's partition of comments closes at its row count") };
        let tmp = tempfile::tempdir().unwrap();
        let write = |name: &str, cuts: &[usize]| {
            written_in_pieces(&tmp.path().join(name), &letters, (400, 20_000), cuts, 1_000)
        };
        let whole = write("whole.parquet", &[]);
        assert_eq!(whole, write("pieces.parquet", &[1, 2, 3, 150, 151, 700, 999]));
        let reader = parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(whole)).unwrap();
        let meta = parquet::file::reader::FileReader::metadata(&reader);
        let rows: Vec<i64> =
            meta.row_groups().iter().map(parquet::file::metadata::RowGroupMetaData::num_rows).collect();
        // each row is 8 + 4 + 50..150 bytes: about 180 rows to 20,000 bytes, never 400
        assert!(rows.len() >= 5 && rows.iter().all(|&r| r > 100 && r < 250), "{rows:?}");
        assert_eq!(rows.iter().sum::<i64>(), 1_000);
    }
}
