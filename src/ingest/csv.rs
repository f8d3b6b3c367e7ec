//! CSV reader: UTF-8 (with or without BOM) or Windows-1252, declared or detected.

use std::borrow::Cow;

use super::{shown, Cell, IngestError, Quarantined, RawRow, ReadItem, Reason, Table};
use crate::config::{Encoding, SourceSettings};

/// Reads a CSV file's bytes into a table.
///
/// With `encoding = "auto"` the file is UTF-8 when every byte sequence is valid UTF-8 and
/// Windows-1252 otherwise (every byte is valid Windows-1252, so nothing is lost). With
/// `utf-8` declared, a row with invalid bytes is quarantined as `undecodable_bytes`.
///
/// # Errors
/// The header cannot be read.
pub fn read(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (data, encoding): (Cow<'_, [u8]>, &'static str) = match source.encoding {
        Encoding::Utf8 => (Cow::Borrowed(bytes), "utf-8"),
        Encoding::Auto if std::str::from_utf8(bytes).is_ok() => (Cow::Borrowed(bytes), "utf-8"),
        Encoding::Auto | Encoding::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            let label = if source.encoding == Encoding::Auto { "windows-1252 (detected)" } else { "windows-1252" };
            (Cow::Owned(text.into_owned().into_bytes()), label)
        }
    };
    let file = shown(&source.path);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(source.delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(data.as_ref());
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| IngestError::Format { path: source.path.clone(), format: "CSV", message: e.to_string() })?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(IngestError::Format {
            path: source.path.clone(),
            format: "CSV",
            message: "the file has no header row".to_owned(),
        });
    }
    let mut items = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut row: u64 = 1;
    loop {
        row += 1;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => items.push(to_item(&file, &source.name, &headers, &record, row)),
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                items.push(ReadItem::Bad(Quarantined {
                    source: source.name.clone(),
                    file: file.clone(),
                    row,
                    column: None,
                    reason: Reason::MalformedRow,
                    message: format!("{file}: row {row} (line {line}): {e}"),
                    raw: Vec::new(),
                    text_cells: 0,
                }));
                // the csv reader cannot resume after an I/O error; a parse error it can
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(Table { headers, items, encoding: Some(encoding) })
}

fn to_item(file: &str, source: &str, headers: &[String], record: &csv::ByteRecord, row: u64) -> ReadItem {
    let raw = || -> Vec<(String, String)> {
        headers.iter().cloned().zip(record.iter().map(|f| String::from_utf8_lossy(f).into_owned())).collect()
    };
    if record.len() != headers.len() {
        return ReadItem::Bad(Quarantined {
            source: source.to_owned(),
            file: file.to_owned(),
            row,
            column: None,
            reason: Reason::MalformedRow,
            message: format!("{file}: row {row}: {} fields where the header has {}", record.len(), headers.len()),
            raw: raw(),
            text_cells: 0,
        });
    }
    let mut cells = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        match std::str::from_utf8(field) {
            Ok("") => cells.push(Cell::Empty),
            Ok(s) => cells.push(Cell::Text(s.to_owned())),
            Err(e) => {
                return ReadItem::Bad(Quarantined {
                    source: source.to_owned(),
                    file: file.to_owned(),
                    row,
                    column: Some(headers[i].clone()),
                    reason: Reason::UndecodableBytes,
                    message: format!("{file}: row {row}: column {:?}: invalid UTF-8 at byte {} (declare encoding = \"windows-1252\" if the file came from Excel)", headers[i], e.valid_up_to()),
                    raw: raw(),
                    text_cells: 0,
                })
            }
        }
    }
    ReadItem::Row(RawRow { row, cells })
}
