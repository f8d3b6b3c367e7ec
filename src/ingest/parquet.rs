//! Parquet reader (arrow-rs): any flat schema; values are read as text, dates as dates.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{Cell, IngestError, RawRow, ReadItem, Table};
use crate::config::SourceSettings;

/// Reads Parquet bytes into a table. Row numbers count data rows from 2, as if the
/// column names were row 1.
///
/// # Errors
/// Not a Parquet file, or a nested column that cannot be read as text.
pub fn read(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let fail = |message: String| IngestError::Format { path: source.path.clone(), format: "Parquet", message };
    let data = bytes::Bytes::copy_from_slice(bytes);
    let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| fail(e.to_string()))?;
    let headers: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    let reader = builder.with_batch_size(8192).build().map_err(|e| fail(e.to_string()))?;
    let mut items = Vec::new();
    let mut row: u64 = 1;
    for batch in reader {
        let batch = batch.map_err(|e| fail(e.to_string()))?;
        let columns: Vec<Vec<Cell>> = batch
            .columns()
            .iter()
            .zip(&headers)
            .map(|(c, h)| column_cells(c.as_ref()).map_err(|m| fail(format!("column {h:?}: {m}"))))
            .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            row += 1;
            items.push(ReadItem::Row(RawRow { row, cells: columns.iter().map(|c| c[i].clone()).collect() }));
        }
    }
    Ok(Table { headers, items, encoding: None })
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
            let ts = arrow::compute::cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))
                .map_err(|e| e.to_string())?;
            let a = ts.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            Ok((0..n)
                .map(|i| {
                    if a.is_null(i) {
                        Cell::Empty
                    } else {
                        a.value_as_datetime(i).map_or(Cell::Empty, |d| Cell::Date(d.date()))
                    }
                })
                .collect())
        }
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64 => {
            let f = arrow::compute::cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
            let a = f.as_primitive::<arrow::datatypes::Float64Type>();
            Ok((0..n).map(|i| if a.is_null(i) { Cell::Empty } else { Cell::Number(a.value(i)) }).collect())
        }
        _ => {
            let s = arrow::compute::cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
            let a = s.as_string::<i32>();
            Ok((0..n)
                .map(|i| {
                    if a.is_null(i) || a.value(i).is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(a.value(i).to_owned())
                    }
                })
                .collect())
        }
    }
}
