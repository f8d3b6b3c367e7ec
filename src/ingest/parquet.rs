//! Parquet reader (arrow-rs): flat columns are read (text as text, numbers as numbers, dates
//! as dates); nested columns (lists, structs, maps) are not read at all, and are listed.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, TimeUnit};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::ChunkReader;

use super::{Cell, IngestError, RawRow, ReadItem, ReadNotes, Table};
use crate::config::SourceSettings;

/// Reads a Parquet file's bytes into a table (every row at once; a run streams with
/// [`ParquetRows`]).
///
/// # Errors
/// As [`ParquetRows::open`] and [`ParquetRows::next_items`].
pub(crate) fn read(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let mut rows = ParquetRows::open(source, bytes::Bytes::copy_from_slice(bytes))?;
    let items = super::all_items(|max| rows.next_items(max))?;
    Ok(Table { headers: rows.headers, items, encoding: None, notes: rows.notes, types: Some(rows.types) })
}

/// A Parquet file read as a stream, one record batch (within a row group) at a time: flat
/// columns are read (text as text, numbers as numbers, dates as dates); nested columns (lists,
/// structs, maps) are not read at all, and are listed.
pub(crate) struct ParquetRows {
    reader: ParquetRecordBatchReader,
    /// Column names of the flat columns.
    pub headers: Vec<String>,
    /// Their Arrow types.
    pub types: Vec<DataType>,
    /// Columns not read.
    pub notes: ReadNotes,
    row: u64,
    path: std::path::PathBuf,
}

impl ParquetRows {
    /// Opens the file (its footer) and plans the columns to read.
    ///
    /// # Errors
    /// Not a Parquet file.
    pub(crate) fn open<T: ChunkReader + 'static>(source: &SourceSettings, data: T) -> Result<ParquetRows, IngestError> {
        let fail = |message: String| IngestError::Format { path: source.path.clone(), format: "Parquet", message };
        let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| fail(e.to_string()))?;
        let mut notes = ReadNotes::default();
        let mut roots = Vec::new();
        let mut headers = Vec::new();
        let mut types = Vec::new();
        for (i, f) in builder.schema().fields().iter().enumerate() {
            if f.data_type().is_nested() {
                notes.columns_not_read.push(format!("{:?} ({})", f.name(), f.data_type()));
            } else {
                roots.push(i);
                headers.push(f.name().clone());
                types.push(f.data_type().clone());
            }
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder.with_projection(mask).with_batch_size(8192).build().map_err(|e| fail(e.to_string()))?;
        Ok(ParquetRows { reader, headers, types, notes, row: 1, path: source.path.clone() })
    }

    /// At least `max` more rows (whole record batches) unless the file ends; empty at its end.
    ///
    /// # Errors
    /// A damaged page or a column that cannot be read as cells.
    pub(crate) fn next_items(&mut self, max: usize) -> Result<Vec<ReadItem>, IngestError> {
        let fail = |message: String| IngestError::Format { path: self.path.clone(), format: "Parquet", message };
        let mut items = Vec::new();
        while items.len() < max {
            let Some(batch) = self.reader.next() else { break };
            let batch = batch.map_err(|e| fail(e.to_string()))?;
            let columns: Vec<Vec<Cell>> = batch
                .columns()
                .iter()
                .zip(&self.headers)
                .map(|(c, h)| column_cells(c.as_ref()).map_err(|m| fail(format!("column {h:?}: {m}"))))
                .collect::<Result<_, _>>()?;
            let mut columns: Vec<std::vec::IntoIter<Cell>> = columns.into_iter().map(Vec::into_iter).collect();
            for _ in 0..batch.num_rows() {
                self.row += 1;
                items.push(ReadItem::Row(RawRow {
                    row: self.row,
                    cells: columns.iter_mut().map(|c| c.next().unwrap_or(Cell::Empty)).collect(),
                }));
            }
        }
        Ok(items)
    }
}

/// Whether a column of this type holds text (or nothing at all).
#[must_use]
pub(crate) fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

/// A 64-bit integer column: numbers, but a whole number past 2^53 (a 64-bit database id) has no
/// exact double and is kept as its digits, as JSON's are (found there: two ids differing by one
/// became one).
fn whole_numbers<T>(array: &dyn Array) -> Vec<Cell>
where
    T: arrow::datatypes::ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    const EXACT: u128 = 1 << 53;
    let a = array.as_primitive::<T>();
    (0..a.len())
        .map(|i| {
            let v: i128 = a.value(i).into();
            if a.is_null(i) {
                Cell::Empty
            } else if v.unsigned_abs() > EXACT {
                Cell::Text(crate::record::Str::from(v.to_string()))
            } else {
                Cell::Number(v as f64)
            }
        })
        .collect()
}

fn column_cells(array: &dyn Array) -> Result<Vec<Cell>, String> {
    let n = array.len();
    match array.data_type() {
        DataType::Date32 => {
            let a = array.as_primitive::<Date32Type>();
            Ok((0..n)
                .map(|i| if a.is_null(i) { Cell::Empty } else { a.value_as_date(i).map_or(Cell::Empty, Cell::Date) })
                .collect())
        }
        DataType::Date64 | DataType::Timestamp(_, _) => {
            // A timestamp with a time zone holds an instant; its date is the date on the clocks
            // of that zone (00:30 on 1 July in Europe/London is 23:30 UTC on 30 June: read as
            // the UTC date, it fell in June, found trying a pandas `tz_localize` export).
            let zone = match array.data_type() {
                DataType::Timestamp(_, Some(tz)) => Some(
                    tz.parse::<arrow::array::timezone::Tz>()
                        .map_err(|e| format!("its time zone {tz:?} is not one this reader knows ({e})"))?,
                ),
                _ => None,
            };
            let ts = arrow::compute::cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))
                .map_err(|e| e.to_string())?;
            let a = ts.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            // on the clocks of its zone; a time of day is kept for a carried column, midnight
            // (a date written as a timestamp, as pandas does) is a date
            let local = |i: usize| match zone {
                Some(tz) => a.value_as_datetime_with_tz(i, tz).map(|d| d.naive_local()),
                None => a.value_as_datetime(i),
            };
            let cell = |t: chrono::NaiveDateTime| {
                if t.time() == chrono::NaiveTime::MIN {
                    Cell::Date(t.date())
                } else {
                    Cell::DateTime(chrono::Timelike::with_nanosecond(&t, 0).unwrap_or(t))
                }
            };
            Ok((0..n).map(|i| if a.is_null(i) { Cell::Empty } else { local(i).map_or(Cell::Empty, cell) }).collect())
        }
        // a whole number past 2^53 (a 64-bit database id) has no exact double: kept as its
        // digits, as JSON's are (found there: two ids differing by one became one)
        DataType::Int64 => Ok(whole_numbers::<arrow::datatypes::Int64Type>(array)),
        DataType::UInt64 => Ok(whole_numbers::<arrow::datatypes::UInt64Type>(array)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::Float32
        | DataType::Float64 => {
            let f = arrow::compute::cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
            let a = f.as_primitive::<arrow::datatypes::Float64Type>();
            // NaN is how some writers (Spark, pandas without its null conversion) leave a number
            // out: empty, as a null is (it was the rating and age "NaN", each a field issue)
            Ok((0..n)
                .map(|i| if a.is_null(i) || a.value(i).is_nan() { Cell::Empty } else { Cell::Number(a.value(i)) })
                .collect())
        }
        _ => {
            let s = arrow::compute::cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
            let a = s.as_string::<i32>();
            Ok((0..n)
                .map(|i| {
                    if a.is_null(i) || a.value(i).is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(crate::record::Str::from(a.value(i)))
                    }
                })
                .collect())
        }
    }
}
