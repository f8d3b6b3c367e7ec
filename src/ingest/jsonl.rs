//! JSON Lines reader: one object per line; keys become columns in order of first appearance.

use serde_json::Value;

use super::{shown, Cell, IngestError, Quarantined, RawRow, ReadItem, ReadNotes, Reason, Table, MAX_ROW_BYTES};
use crate::config::SourceSettings;

/// Reads JSONL bytes into a table. A line that is not a JSON object is quarantined
/// (`malformed_row`); a blank line is dropped and counted. Numbers stay numbers and objects or
/// arrays stay structured, so that the mapper can tell free text that is not a string.
///
/// # Errors
/// Never for content; kept fallible for symmetry with the other readers.
pub fn read(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let file = shown(&source.path);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut headers: Vec<String> = Vec::new();
    let mut parsed: Vec<(u64, Result<serde_json::Map<String, Value>, Quarantined>)> = Vec::new();
    // a final newline does not start another (blank) line
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let row = i as u64 + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            if !body.is_empty() {
                parsed.push((row, Ok(serde_json::Map::new())));
            }
            continue;
        }
        let bad = |reason: Reason, message: String| Quarantined {
            source: source.name.clone(),
            file: file.clone(),
            row,
            column: None,
            reason,
            message,
            raw: vec![("line".to_owned(), String::from_utf8_lossy(line).into_owned())],
            text_cells: 0,
        };
        if line.len() > MAX_ROW_BYTES {
            let q = Quarantined {
                source: source.name.clone(),
                file: file.clone(),
                row,
                column: None,
                reason: Reason::FieldTooLong,
                message: format!("{file}: line {row}: over {MAX_ROW_BYTES} bytes; set aside unread"),
                raw: Vec::new(),
                text_cells: 0,
            };
            parsed.push((row, Err(q)));
            continue;
        }
        let item = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(map)) => {
                for k in map.keys() {
                    if !headers.iter().any(|h| h == k) {
                        headers.push(k.clone());
                    }
                }
                Ok(map)
            }
            Ok(_) => Err(bad(Reason::MalformedRow, format!("{file}: line {row}: not a JSON object"))),
            Err(e) if std::str::from_utf8(line).is_err() => {
                Err(bad(Reason::UndecodableBytes, format!("{file}: line {row}: invalid UTF-8: {e}")))
            }
            Err(e) => Err(bad(Reason::MalformedRow, format!("{file}: line {row}: {e}"))),
        };
        parsed.push((row, item));
    }
    // blank lines at the very end are the editor's, not the respondent's: do not count them
    while parsed.last().is_some_and(|(_, item)| item.as_ref().is_ok_and(serde_json::Map::is_empty)) {
        parsed.pop();
    }
    let items = parsed
        .into_iter()
        .map(|(row, item)| match item {
            Ok(map) if map.is_empty() => ReadItem::Blank,
            Ok(map) => ReadItem::Row(RawRow { row, cells: headers.iter().map(|h| cell(map.get(h))).collect() }),
            Err(q) => ReadItem::Bad(q),
        })
        .collect();
    Ok(Table { headers, items, encoding: None, notes: ReadNotes::default(), types: None })
}

fn cell(v: Option<&Value>) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::String(s)) if s.is_empty() => Cell::Empty,
        Some(Value::String(s)) => Cell::Text(s.clone()),
        Some(Value::Number(n)) => n.as_f64().map_or_else(|| Cell::Text(n.to_string()), Cell::Number),
        Some(Value::Bool(b)) => Cell::Bool(*b),
        // an object or array is never a value: the mapper reports it (`wrong_type`)
        Some(other) => Cell::Structured(other.to_string()),
    }
}
