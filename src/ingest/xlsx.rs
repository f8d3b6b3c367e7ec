//! XLSX reader (calamine): the first or a named sheet; the first row (or `header_row`) is the
//! header.

use std::io::Cursor;

use calamine::{Data, Reader};

use super::{Cell, IngestError, RawRow, ReadItem, ReadNotes, Table};
use crate::config::SourceSettings;
use crate::record::Str;

/// Reads a workbook's bytes into a table. Date cells become dates; numbers stay numbers
/// (a number in the date column is read as an Excel serial).
///
/// # Errors
/// Not a workbook, or the named sheet does not exist.
pub(crate) fn read(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let fail = |message: String| IngestError::Format { path: source.path.clone(), format: "XLSX", message };
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| fail(e.to_string()))?;
    let names = book.sheet_names();
    let sheet = match &source.sheet {
        Some(s) => {
            if !names.iter().any(|n| n == s) {
                return Err(fail(format!("no sheet named {s:?}; the workbook has {names:?}")));
            }
            s.clone()
        }
        None => names.first().cloned().ok_or_else(|| fail("the workbook has no sheets".to_owned()))?,
    };
    let range = book.worksheet_range(&sheet).map_err(|e| fail(format!("sheet {sheet:?}: {e}")))?;
    // the header: on `header_row` when set (title rows above it are passed over), else the
    // first row of the sheet's used range
    let start = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
    let skip = source.header_row.map_or(0, |h| h.saturating_sub(start));
    let first_row = start + skip;
    let mut rows = range.rows().skip(usize::try_from(skip).unwrap_or(usize::MAX));
    let headers: Vec<String> = match rows.next() {
        Some(h) => h.iter().map(|c| cell(c).to_text().unwrap_or_default().trim().to_owned()).collect(),
        None => return Err(fail(format!("sheet {sheet:?} is empty"))),
    };
    let mut items = Vec::new();
    for (i, r) in rows.enumerate() {
        let cells: Vec<Cell> = r.iter().map(cell).collect();
        if cells.iter().all(|c| *c == Cell::Empty) {
            // trailing formatted-but-empty rows are common in Excel exports
            items.push(ReadItem::Blank);
            continue;
        }
        items.push(ReadItem::Row(RawRow { row: first_row + 1 + i as u64, cells }));
    }
    // blank rows at the very end are Excel's, not the respondent's: do not count them
    while matches!(items.last(), Some(ReadItem::Blank)) {
        items.pop();
    }
    // the other sheets that look like a table (two rows and two columns or more): not read,
    // and said (an export whose first sheet is a cover note holds its comments on another)
    let mut notes = ReadNotes::default();
    for other in names.iter().filter(|n| **n != sheet) {
        if let Ok(r) = book.worksheet_range(other) {
            let (height, width) = r.get_size();
            if height >= 2 && width >= 2 {
                notes.sheets_not_read.push(format!("{:?} ({height} rows)", crate::text::redact::scrubbed(other)));
            }
        }
    }
    Ok(Table { headers, items, encoding: None, notes, types: None })
}

fn cell(c: &Data) -> Cell {
    match c {
        Data::Empty => Cell::Empty,
        Data::String(s) if s.is_empty() => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(Str::from(s.as_str())),
        Data::Int(n) => Cell::Number(*n as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => {
            let (y, m, day, h, min, s, _) = d.to_ymd_hms_milli();
            match chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(day)) {
                None => Cell::Number(d.as_f64()),
                Some(date) if (h, min, s) == (0, 0, 0) => Cell::Date(date),
                // a time of day is kept for a carried column (the date serves a date field)
                Some(date) => date
                    .and_hms_opt(u32::from(h), u32::from(min), u32::from(s))
                    .map_or(Cell::Date(date), Cell::DateTime),
            }
        }
        Data::Error(e) => Cell::Error(compact_str::format_compact!("{e}")),
    }
}
