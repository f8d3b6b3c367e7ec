//! A published table as plain data: its name, what one row is, and its columns (name, one line
//! of documentation, values). The analysis modules define their tables with these, output writes
//! them to Parquet and the data dictionary. It imports no other module of the crate.

use chrono::NaiveDate;

/// Values of one column.
#[derive(Debug, Clone)]
pub enum ColumnData {
    /// UTF-8 strings.
    Str(Vec<Option<String>>),
    /// UTF-8 strings already in Arrow's layout (built from borrowed text: no `String` a value).
    Utf8(arrow::array::StringArray),
    /// 32-bit integers.
    I32(Vec<Option<i32>>),
    /// 64-bit integers.
    I64(Vec<Option<i64>>),
    /// Doubles.
    F64(Vec<Option<f64>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Dates.
    Date(Vec<Option<NaiveDate>>),
}

/// Columns are equal when their values are: strings compare by value whichever way they are held.
impl PartialEq for ColumnData {
    fn eq(&self, other: &ColumnData) -> bool {
        use ColumnData::{Bool, Date, Str, Utf8, F64, I32, I64};
        match (self, other) {
            (Str(a), Str(b)) => a == b,
            (Utf8(a), Utf8(b)) => a == b,
            (Str(s), Utf8(u)) | (Utf8(u), Str(s)) => {
                s.len() == arrow::array::Array::len(u) && s.iter().zip(u.iter()).all(|(a, b)| a.as_deref() == b)
            }
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (F64(a), F64(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            _ => false,
        }
    }
}

impl ColumnData {
    /// A string column from borrowed text.
    pub fn strs<S: AsRef<str>>(values: impl Iterator<Item = Option<S>>) -> ColumnData {
        // straight into Arrow's layout: no `String` a value
        let (n, _) = values.size_hint();
        let mut b = arrow::array::StringBuilder::with_capacity(n, n * 16);
        for v in values {
            match v {
                Some(v) => b.append_value(v.as_ref()),
                None => b.append_null(),
            }
        }
        ColumnData::Utf8(b.finish())
    }

    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Str(v) => v.len(),
            ColumnData::Utf8(a) => arrow::array::Array::len(a),
            ColumnData::I32(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::F64(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Date(v) => v.len(),
        }
    }

    /// The value at `i` as text (strings and integers; `None` for a null or another type).
    #[must_use]
    pub fn text_at(&self, i: usize) -> Option<String> {
        use arrow::array::Array;
        match self {
            ColumnData::Str(v) => v.get(i)?.clone(),
            ColumnData::Utf8(a) => (i < a.len() && !a.is_null(i)).then(|| a.value(i).to_owned()),
            ColumnData::I32(v) => v.get(i).copied().flatten().map(|x| x.to_string()),
            ColumnData::I64(v) => v.get(i).copied().flatten().map(|x| x.to_string()),
            _ => None,
        }
    }

    /// No values.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Parquet/SQL type name for the data dictionary.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            ColumnData::Str(_) | ColumnData::Utf8(_) => "string",
            ColumnData::I32(_) => "int32",
            ColumnData::I64(_) => "int64",
            ColumnData::F64(_) => "double",
            ColumnData::Bool(_) => "boolean",
            ColumnData::Date(_) => "date",
        }
    }
}

/// One column: name, documentation, values.
#[derive(Debug, Clone)]
pub struct Col {
    /// snake_case name.
    pub name: String,
    /// One line for the data dictionary.
    pub doc: String,
    /// Values.
    pub data: ColumnData,
}

impl Col {
    /// A column.
    pub fn new(name: impl Into<String>, doc: impl Into<String>, data: ColumnData) -> Col {
        Col { name: name.into(), doc: doc.into(), data }
    }
}

/// A table to write.
#[derive(Debug, Clone)]
pub struct Table {
    /// Table name (file or folder name).
    pub name: String,
    /// What one row is.
    pub grain: String,
    /// Columns.
    pub columns: Vec<Col>,
}

impl Table {
    /// Rows.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }

    /// The column called `name`, if the table has one.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        self.columns.iter().find(|c| c.name == name).map(|c| &c.data)
    }
}

/// A batch read back from a file unheard wrote, in the types it writes: a file re-saved or
/// compacted by another tool (polars writes large or view strings; pandas, timestamps for dates)
/// holds the same values in wider types, which panicked or were refused as "not a string column"
/// (`explain --run`, `codebook suggest`, `archive`). Other columns are as read.
///
/// # Errors
/// A column that cannot be cast, named.
pub(crate) fn as_written(batch: &arrow::record_batch::RecordBatch) -> Result<arrow::record_batch::RecordBatch, String> {
    use arrow::datatypes::{DataType, Field, Schema};
    let written = |t: &DataType| match t {
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => Some(DataType::Utf8),
        DataType::Date64 | DataType::Timestamp(..) => Some(DataType::Date32),
        _ => None,
    };
    if !batch.schema().fields().iter().any(|f| written(f.data_type()).is_some()) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        let to = written(f.data_type()).unwrap_or_else(|| f.data_type().clone());
        columns.push(arrow::compute::cast(c, &to).map_err(|e| format!("column {}: {e}", f.name()))?);
        fields.push(Field::new(f.name(), to, f.is_nullable()));
    }
    arrow::record_batch::RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)
        .map_err(|e| e.to_string())
}
