//! Parquet writing with the arrow-rs `parquet` crate, to the BI-safe profile of DESIGN.md:
//! flat columns; plain UTF-8 strings; INT32/INT64/DOUBLE/BOOLEAN/DATE; no embedded Arrow
//! schema; data page V1; PLAIN / RLE_DICTIONARY; Snappy; row groups of up to 1M rows.
//! Files are written under a dot name, fsynced, then renamed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use parquet::arrow::arrow_writer::{ArrowWriter, ArrowWriterOptions};
use parquet::basic::Compression;
use parquet::file::properties::{WriterProperties, WriterVersion};

use crate::table::{ColumnData, Table};

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 1_000_000;

/// Output errors.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
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
    #[error("output {path}: {reason}; unheard replaces only a folder an earlier run wrote that holds nothing else: choose a new path (nothing was touched)")]
    Refused {
        /// The output path as given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another run writes to the same output.
    #[error("output {path}: another unheard run ({holder}) is writing to it; wait for it to finish")]
    Locked {
        /// The output path as given.
        path: PathBuf,
        /// The process holding the lock.
        holder: String,
    },
    /// Manifest.
    #[error("cannot write the manifest: {0}")]
    Json(#[from] serde_json::Error),
}

/// The column's values as an Arrow array, with its type.
fn to_arrow(data: &ColumnData) -> (DataType, ArrayRef) {
    match data {
        ColumnData::Str(v) => (DataType::Utf8, Arc::new(v.iter().map(Option::as_deref).collect::<StringArray>())),
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

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(concat!("unheard ", env!("CARGO_PKG_VERSION")).to_owned())
        .build()
}

/// Writes `table` to `path` (via a dot file, fsynced, then renamed).
///
/// # Errors
/// I/O or Parquet errors, naming the path.
pub fn write_table(table: &Table, path: &Path) -> Result<(), OutputError> {
    let mut fields = Vec::with_capacity(table.columns.len());
    let mut arrays = Vec::with_capacity(table.columns.len());
    for c in &table.columns {
        let (dt, array) = to_arrow(&c.data);
        fields.push(Field::new(&c.name, dt, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = if arrays.is_empty() {
        RecordBatch::new_empty(schema.clone())
    } else {
        RecordBatch::try_new(schema.clone(), arrays)
            .map_err(|e| OutputError::Arrow { table: table.name.clone(), source: e })?
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("part.parquet");
    let tmp = path.with_file_name(format!(".{name}"));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| OutputError::Io { path: p, source: e }
    };
    let pq = |e| OutputError::Parquet { path: path.to_path_buf(), source: e };
    let file = File::create(&tmp).map_err(io(&tmp))?;
    let options = ArrowWriterOptions::new().with_properties(properties()).with_skip_arrow_metadata(true);
    let mut writer = ArrowWriter::try_new_with_options(file, schema, options).map_err(pq)?;
    writer.write(&batch).map_err(pq)?;
    let file = writer.into_inner().map_err(pq)?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}
