//! CSV reader: fields split on bytes and decoded (UTF-8, Windows-1252, or either per field in
//! `auto`), with recovery from quotes that never close or close rows too late. A row valid in
//! the encoding as a whole (nearly all) is validated once and its fields are sliced from its
//! text, which reads what decoding each field on its own reads; any other row is decoded field
//! by field. A row on one line without a quote is split at its delimiters in one pass
//! ([`Reader::plain_record`]).
//!
//! The rule for quotes (README, "Nothing lost, nothing silent"): a quoted field may span lines
//! (a multi-line comment). A quote that never closes, or whose next quote is inside a field
//! rather than where a field ends, costs its own row only: that row is quarantined
//! (`malformed_row`, naming the line where the quote opened) and reading resumes on the next
//! line. A quoted field that swallows lines which each read on their own as a complete row of
//! the header's width is not merged in silence: its opening row is quarantined
//! (`quote_spans_rows`) and the swallowed lines are read as rows of their own. A multi-line row
//! that ends with the wrong number of fields is treated the same way (`malformed_row`), so a
//! stray quote never takes good rows with it. One line is at most [`MAX_ROW_BYTES`]
//! (`field_too_long` beyond).

use std::borrow::Cow;

use memchr::{memchr2, memchr3};

use super::{shown, Cell, IngestError, Quarantined, RawRow, ReadItem, ReadNotes, Reason, Table, MAX_ROW_BYTES};
use crate::config::{Encoding, SourceSettings};

/// Reads a CSV file's bytes into a table (every row at once: tests and small files; a run
/// streams with [`CsvRows`]).
///
/// # Errors
/// As [`CsvRows::open`].
pub(crate) fn read(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let mut rows = CsvRows::open(source, Box::new(bytes))?;
    let items = super::all_items(|max| rows.next_items(max))?;
    let headers = rows.headers.clone();
    let (encoding, notes) = rows.finish();
    Ok(Table { headers, items, encoding: Some(encoding), notes, types: None })
}

#[cfg(test)]
thread_local! {
    /// Tests: a lookahead that holds the whole file, for a reference read.
    static WHOLE: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// Tests: every row split by [`scan`] and decoded field by field (no [`Reader::plain_record`],
    /// no [`Reader::as_text`]), for a reference read.
    static FIELD_BY_FIELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Bytes read from the input at a time.
const CHUNK: usize = 1 << 20;

/// A record is read only when this much of the file lies ahead of it in memory (or the file
/// ends sooner): twice the row limit, so that every scan, and the recovery from a quote that
/// never closes, sees exactly what it would see in the whole file.
const LOOKAHEAD: usize = 2 * MAX_ROW_BYTES + 16;

/// A CSV file read as a stream: a window of the file in memory, at least [`LOOKAHEAD`]
/// bytes ahead of the next record, so that memory stays flat whatever the file's size.
pub(crate) struct CsvRows<'a> {
    input: Box<dyn std::io::Read + Send + 'a>,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    line: u64,
    row: u64,
    blanks: u64,
    /// The header's column names.
    pub headers: Vec<String>,
    file: String,
    source: SourceSettings,
    notes: ReadNotes,
    /// [`LOOKAHEAD`] (tests read whole files with a larger one, for a reference).
    lookahead: usize,
    /// Per item of the last [`CsvRows::next_items`]: a row whose bytes hold no control
    /// character (cleaning it would change nothing).
    pub(crate) clean: Vec<bool>,
    /// The file was UTF-16 (read through a transcoder to UTF-8).
    utf16: bool,
    /// The free text is the header's last column, and the only one: a row of more fields is
    /// that text holding the delimiter unquoted (set once the mapping is planned).
    pub(crate) text_last: bool,
}

impl<'a> CsvRows<'a> {
    /// Opens the stream and reads the header.
    ///
    /// # Errors
    /// The input cannot be read, or the header cannot be read.
    pub(crate) fn open(
        source: &SourceSettings,
        input: Box<dyn std::io::Read + Send + 'a>,
    ) -> Result<CsvRows<'a>, IngestError> {
        let mut me = CsvRows {
            input,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            line: 1,
            row: 1,
            blanks: 0,
            headers: Vec::new(),
            file: shown(&source.path),
            source: source.clone(),
            notes: ReadNotes::default(),
            lookahead: LOOKAHEAD,
            clean: Vec::new(),
            utf16: false,
            text_last: false,
        };
        #[cfg(test)]
        if let Some(n) = WHOLE.with(std::cell::Cell::get) {
            me.lookahead = n;
        }
        // the first chunk: a header that lies whole inside it is read from it, so that rows
        // start flowing before the window is filled (the demo's file is read whole otherwise)
        me.top_up(true)?;
        if me.buf.starts_with(b"\xFF\xFE") || me.buf.starts_with(b"\xFE\xFF") {
            // Excel's "Unicode Text" (UTF-16 with its BOM, tab-separated): read as UTF-8, as it
            // streams (it was refused, found trying one)
            let first = std::io::Cursor::new(std::mem::take(&mut me.buf));
            let rest = std::mem::replace(&mut me.input, Box::new(std::io::empty()));
            let utf8 = encoding_rs_io::DecodeReaderBytesBuilder::new()
                .strip_bom(true)
                .build(std::io::Read::chain(first, rest));
            let mut again = CsvRows::open(source, Box::new(utf8))?;
            again.utf16 = true;
            return Ok(again);
        }
        if me.buf.starts_with(b"\xEF\xBB\xBF") {
            me.pos = 3;
        }
        let (pos, line) = (me.pos, me.line);
        // decided when it ends (with a byte to spare) before the chunk does: every byte it was
        // read from lies in the chunk, as in the whole file
        let headers = match me.header(source, false) {
            Ok(headers) if me.eof || me.pos + 1 < me.buf.len() => headers,
            _ => {
                (me.pos, me.line) = (pos, line);
                me.fill()?;
                me.header(source, true)?
            }
        };
        me.headers = headers;
        Ok(me)
    }

    /// Passes over blank lines at `pos` (`fill`: keeping the lookahead in memory).
    fn skip_blank_lines(&mut self, fill: bool) -> Result<(), IngestError> {
        while let Some(n) = line_end_len(&self.buf, self.pos) {
            self.pos += n;
            self.line += 1;
            if fill {
                self.fill()?;
            }
        }
        Ok(())
    }

    /// Reads the header (passing over title lines above `header_row` and blank lines): its
    /// names, with `pos` and `line` after it. `fill`: keep a lookahead in memory while reading
    /// (else read from the window as it is).
    fn header(&mut self, source: &SourceSettings, fill: bool) -> Result<Vec<String>, IngestError> {
        let fail = |message: String| IngestError::Format { path: source.path.clone(), format: "CSV", message };
        let delim = source.delimiter;
        let me = self;
        // the header: on `header_row` when set (title lines above it are passed over), else the
        // first line that is not blank
        while me.line < source.header_row.unwrap_or(1) && me.pos < me.buf.len() {
            let data = &me.buf;
            let mut pos = memchr::memchr2(b'\n', b'\r', &data[me.pos..]).map_or(data.len(), |i| me.pos + i);
            pos += line_end_len(data, pos).unwrap_or(0);
            me.pos = pos;
            me.line += 1;
            if fill {
                me.fill()?;
            }
        }
        me.skip_blank_lines(fill)?;
        // Excel's delimiter line above the header (`sep=;`): its delimiter, unless one was
        // given (found: its header was read as the names "sep=" and "")
        let (mut delim, mut from_sep) = (delim, false);
        if source.header_row.is_none() {
            if let Some((hinted, len)) = sep_line(&me.buf[me.pos..]) {
                from_sep = true;
                if !me.source.delimiter_given {
                    me.source.delimiter = hinted;
                    me.notes.delimiter_detected = Some(shown_delimiter(hinted).to_owned());
                    delim = hinted;
                }
                me.pos += len;
                me.line += 1;
                if fill {
                    me.fill()?;
                }
                me.skip_blank_lines(fill)?;
            }
        }
        if me.pos >= me.buf.len() {
            return Err(fail("the file has no header row".to_owned()));
        }
        // a delimiter no setting gave: the header's when it holds none of the default's
        // (an export saved as "CSV" where the list separator is `;`, or a `|` dump)
        let delim = match (me.source.delimiter_given || from_sep, sniff_delimiter(&me.buf[me.pos..], delim)) {
            (false, Some(found)) => {
                me.source.delimiter = found;
                me.notes.delimiter_detected = Some(shown_delimiter(found).to_owned());
                found
            }
            _ => delim,
        };
        let (data, pos, line) = (&me.buf, me.pos, me.line);
        let mut fields = Vec::new();
        let header = match scan(data, pos, delim, MAX_ROW_BYTES, &mut fields) {
            Scan::Record(r) => {
                if let Some(&(open, _, _)) = r.spans.iter().find(|s| s.2) {
                    return Err(fail(format!(
                        "header: a quote opened on line {} never closes where a field ends",
                        line + line_ends(&data[pos..open])
                    )));
                }
                r
            }
            Scan::Unclosed { at, .. } => {
                return Err(fail(format!(
                    "header: a quote opened on line {} never closes",
                    line + line_ends(&data[pos..at])
                )))
            }
            Scan::TooLong { .. } => return Err(fail(format!("header: line {line} is over {MAX_ROW_BYTES} bytes"))),
        };
        let reader = me.reader();
        let headers: Vec<String> = fields
            .iter()
            .map(|f| f.bytes(data))
            .map(|f| reader.decode(f).map(|(s, _)| s.trim().to_owned()).unwrap_or_else(|_| lossy(f).trim().to_owned()))
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(fail("the file has no header row".to_owned()));
        }
        let next = header.next;
        me.line += line_ends(&me.buf[pos..next]);
        me.pos = next;
        Ok(headers)
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            data: &self.buf,
            delim: self.source.delimiter,
            file: &self.file,
            source: &self.source,
            encoding: self.source.encoding,
            notes: ReadNotes::default(),
            text_last: self.text_last,
        }
    }

    /// Keeps at least [`LOOKAHEAD`] bytes past `pos` in memory, or the rest of the file.
    fn fill(&mut self) -> Result<(), IngestError> {
        if self.eof || self.buf.len() - self.pos >= self.lookahead {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // read twice the lookahead: the bytes kept are moved once per lookahead's worth read
        while !self.eof && self.buf.len() < 2 * self.lookahead {
            self.read_chunk()?;
        }
        Ok(())
    }

    /// Reads one more chunk when `cut` (a row runs past the window's end) or nothing is left
    /// past `pos`, after moving what is left to the window's start.
    fn top_up(&mut self, cut: bool) -> Result<(), IngestError> {
        if self.eof || !(cut || self.pos >= self.buf.len()) {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.read_chunk()
    }

    /// Appends up to [`CHUNK`] bytes of the input to the window; `eof` once it gives none. The
    /// window's room is taken once (growing it by doubling copied and touched twice the memory)
    /// and read into without being zeroed first.
    fn read_chunk(&mut self) -> Result<(), IngestError> {
        use std::io::Read as _;
        if self.buf.capacity() < 2 * self.lookahead + CHUNK {
            self.buf.reserve_exact(2 * self.lookahead + CHUNK - self.buf.len());
        }
        let len = self.buf.len();
        match (&mut self.input).take(CHUNK as u64).read_to_end(&mut self.buf) {
            Ok(n) => self.eof = n == 0,
            Err(e) => {
                // the line where it broke off: past the lines the window holds (the window's
                // first line was named, "past line 1" for a gzip cut at 270 KB)
                let line = self.line + line_ends(&self.buf[self.pos.min(self.buf.len())..]);
                self.buf.truncate(len);
                return Err(IngestError::Format {
                    path: self.source.path.clone(),
                    format: "CSV",
                    message: format!("the file cannot be read past line {line}: {e}"),
                });
            }
        }
        Ok(())
    }

    /// Up to `max` more rows (blank lines included); empty at the end of the file.
    ///
    /// # Errors
    /// The input cannot be read (e.g. a gzip stream that breaks off).
    pub(crate) fn next_items(&mut self, max: usize) -> Result<Vec<ReadItem>, IngestError> {
        let mut items = Vec::with_capacity(max.min(super::stream::BATCH_ROWS));
        let mut clean = Vec::with_capacity(items.capacity());
        let mut notes = std::mem::take(&mut self.notes);
        // why the last pass stopped short of the batch: a row ran past the window's end (read
        // one more chunk), or a row that is not plain lacks its lookahead (fill the window)
        let (mut cut, mut needs_lookahead) = (false, false);
        while items.len() < max {
            if needs_lookahead {
                self.fill()?;
            } else {
                self.top_up(cut)?;
            }
            if self.pos >= self.buf.len() {
                break;
            }
            (cut, needs_lookahead) = (false, false);
            // the records that lie a lookahead or more before the window's end (or all, at
            // the end of the file), and before it the blank lines and plain rows the window
            // shows whole, with one buffer of field slices for all of them
            let mut fields = Vec::new();
            let mut reader = self.reader();
            reader.notes = std::mem::take(&mut notes);
            let (mut pos, mut line, mut row, mut blanks) = (self.pos, self.line, self.row, self.blanks);
            let data = reader.data;
            while items.len() < max && pos < data.len() {
                // short of a lookahead, a blank line or a plain row reads as in the whole file
                // when its line end, and the byte after it, lie in the window
                let mut plain = None;
                if !self.eof && data.len() - pos < self.lookahead {
                    if memchr3(b'"', b'\n', b'\r', &data[pos..]).is_none_or(|k| pos + k + 1 >= data.len()) {
                        cut = true;
                        break;
                    }
                    if line_end_len(data, pos).is_none() {
                        plain = reader.plain_record(pos, row + 1, self.headers.len());
                        if plain.is_none() {
                            needs_lookahead = true;
                            break;
                        }
                    }
                }
                if self.eof && is_dos_end(&data[pos..]) {
                    // DOS's end-of-file mark (Ctrl-Z, 0x1A) after the last line, as old Windows
                    // exports write it: the end of the file, not a row of one field (it was
                    // quarantined as a malformed row, found trying it)
                    pos = data.len();
                    break;
                }
                row += 1;
                if let Some(n) = line_end_len(data, pos) {
                    // blank lines at the very end are the editor's, not the respondent's: held
                    // back until a row follows them
                    blanks += 1;
                    pos += n;
                    line += 1;
                    continue;
                }
                for _ in 0..std::mem::take(&mut blanks) {
                    items.push(ReadItem::Blank);
                    clean.push(true);
                }
                let (item, next) = match plain.or_else(|| reader.plain_record(pos, row, self.headers.len())) {
                    Some(found) => found,
                    None => reader.record(pos, line, row, &self.headers, &mut fields),
                };
                clean.push(matches!(item, ReadItem::Row(_)) && !super::may_hold_controls(content_of(&data[pos..next])));
                items.push(item);
                line += line_ends(&data[pos..next]);
                pos = next;
            }
            notes = reader.notes;
            (self.pos, self.line, self.row, self.blanks) = (pos, line, row, blanks);
        }
        self.notes = notes;
        self.clean = clean;
        Ok(items)
    }

    /// What the stream found: the encoding as read, and the reading notes.
    #[must_use]
    pub(crate) fn finish(self) -> (&'static str, ReadNotes) {
        let encoding = match self.source.encoding {
            _ if self.utf16 => "utf-16 (with its byte order mark; read as UTF-8)",
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Auto if self.notes.fields_decoded_windows_1252 == 0 => "utf-8",
            Encoding::Auto => "utf-8, windows-1252 per field (detected)",
        };
        (encoding, self.notes)
    }
}

struct Reader<'a> {
    data: &'a [u8],
    delim: u8,
    file: &'a str,
    source: &'a SourceSettings,
    encoding: Encoding,
    notes: ReadNotes,
    text_last: bool,
}

/// How a field's bytes were decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoded {
    Utf8,
    Windows1252,
}

impl<'a> Reader<'a> {
    /// The record starting at `pos` when it is the plain kind (one line, no quote, at most
    /// [`MAX_ROW_BYTES`], valid text in the encoding as a whole, the header's `width` of
    /// fields): its cells sliced from the row's text, which is what [`Reader::record`] reads
    /// from it field by field, and where the next record starts. `None` for any other row,
    /// which goes to [`Reader::record`].
    fn plain_record(&self, pos: usize, row: u64, width: usize) -> Option<(ReadItem, usize)> {
        let data = self.data;
        let delim = self.delim;
        if matches!(delim, b'"' | b'\n' | b'\r') {
            return None;
        }
        let end = match memchr3(b'"', b'\n', b'\r', &data[pos..]) {
            None => data.len(),
            Some(k) if data[pos + k] != b'"' => pos + k,
            Some(_) => return None,
        };
        if end - pos > MAX_ROW_BYTES {
            return None;
        }
        let text = self.as_text(&data[pos..end])?;
        let mut cells = Vec::with_capacity(width);
        split_at(text, delim, |field| {
            cells.push(if field.is_empty() { Cell::Empty } else { Cell::Text(crate::record::Str::from(field)) });
        });
        if cells.len() != width {
            return None;
        }
        let next = end + line_end_len(data, end).unwrap_or(0);
        Some((ReadItem::Row(RawRow { row, cells }), next))
    }

    /// `bytes` as text when they are valid in the encoding as a whole (in Windows-1252: when
    /// ASCII, which it reads as UTF-8 does), so that each field cut from them at ASCII bytes
    /// (delimiters, quotes, line ends) is the slice of that text its own decoding gives.
    fn as_text<'b>(&self, bytes: &'b [u8]) -> Option<&'b str> {
        #[cfg(test)]
        if FIELD_BY_FIELD.with(std::cell::Cell::get) {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        (self.encoding != Encoding::Windows1252 || text.is_ascii()).then_some(text)
    }

    /// Reads the record starting at `pos` (on `line`, row `row`); returns it and where the next
    /// record starts. `fields` is scratch space for the record's fields.
    fn record(
        &mut self,
        pos: usize,
        line: u64,
        row: u64,
        headers: &[String],
        fields: &mut Vec<Field>,
    ) -> (ReadItem, usize) {
        let data = self.data;
        let width = headers.len();
        let line_of = |at: usize| line + line_ends(&data[pos..at]);
        match scan(data, pos, self.delim, MAX_ROW_BYTES, fields) {
            Scan::TooLong { next } => {
                let message = format!(
                    "{}: row {row} (line {line}): the line is over {MAX_ROW_BYTES} bytes; it is set aside unread",
                    self.file
                );
                (ReadItem::Bad(self.bad(row, Reason::FieldTooLong, message, Vec::new())), next)
            }
            Scan::Unclosed { at, capped } => {
                let lq = line_of(at);
                let next = after_line(data, at);
                let why = if capped {
                    format!("does not close within {MAX_ROW_BYTES} bytes")
                } else {
                    "never closes".to_owned()
                };
                let message = format!(
                    "{}: row {row} (line {line}): a quote opened on line {lq} {why}; this row is set aside and reading resumes on line {}",
                    self.file,
                    lq + 1
                );
                (ReadItem::Bad(self.bad(row, Reason::MalformedRow, message, self.raw_lines(pos, next))), next)
            }
            Scan::Record(r) => {
                // a multi-line row is kept only when it is a well-formed row whose quoted fields
                // swallow no line that reads as a row of its own
                for &(open, close, stray) in &r.spans {
                    if stray {
                        let (lq, lc) = (line_of(open), line_of(close));
                        let next = after_line(data, open);
                        let message = format!(
                            "{}: row {row} (line {line}): a quote opened on line {lq} never closes where a field ends (the next quote, on line {lc}, is inside a field); this row is set aside and reading resumes on line {}",
                            self.file,
                            lq + 1
                        );
                        let raw = self.raw_lines(pos, next);
                        return (ReadItem::Bad(self.bad(row, Reason::MalformedRow, message, raw)), next);
                    }
                    if width >= 2
                        && swallows_rows(&data[after_line(data, open)..line_stop(data, close)], self.delim, width)
                    {
                        let (lq, lc) = (line_of(open), line_of(close));
                        let next = after_line(data, open);
                        let message = format!(
                            "{}: row {row} (line {line}): a quote opened on line {lq} closes on line {lc}, and the {} line(s) in between each read as a complete row; this row is set aside (check the quote) and lines {}–{lc} are read as rows",
                            self.file,
                            lc - lq,
                            lq + 1
                        );
                        let raw = self.raw_lines(pos, next);
                        return (ReadItem::Bad(self.bad(row, Reason::QuoteSpansRows, message, raw)), next);
                    }
                }
                if let Some(&(open, close, _)) = r.spans.first() {
                    if fields.len() != width {
                        let (lq, lc) = (line_of(open), line_of(close));
                        let next = after_line(data, open);
                        let message = format!(
                            "{}: row {row} (line {line}): a quote opened on line {lq} runs to line {lc} and makes a row of {} fields where the header has {width}; this row is set aside and reading resumes on line {}",
                            self.file,
                            fields.len(),
                            lq + 1
                        );
                        let raw = self.raw_lines(pos, next);
                        return (ReadItem::Bad(self.bad(row, Reason::MalformedRow, message, raw)), next);
                    }
                }
                (self.row_item(fields, pos..r.next, row, line, headers), r.next)
            }
        }
    }

    fn bad(&self, row: u64, reason: Reason, message: String, raw: Vec<(String, String)>) -> Quarantined {
        Quarantined {
            source: self.source.name.clone(),
            file: self.file.to_owned(),
            row,
            column: None,
            reason,
            message,
            raw,
            text_cells: 0,
        }
    }

    /// The raw text of the lines from `from` to `to`, for the quarantine (capped).
    fn raw_lines(&self, from: usize, to: usize) -> Vec<(String, String)> {
        let bytes = &self.data[from..to.min(from + 4096)];
        vec![("line".to_owned(), lossy(bytes).trim_end_matches(['\r', '\n']).to_owned())]
    }

    /// Decodes one field as the source's encoding says.
    fn decode<'b>(&self, bytes: &'b [u8]) -> Result<(Cow<'b, str>, Decoded), String> {
        match self.encoding {
            Encoding::Utf8 => std::str::from_utf8(bytes).map(|s| (Cow::Borrowed(s), Decoded::Utf8)).map_err(|e| {
                format!(
                    "invalid UTF-8 at byte {} (declare encoding = \"windows-1252\" if the file came from Excel)",
                    e.valid_up_to()
                )
            }),
            Encoding::Windows1252 => windows_1252(bytes).map(|s| (s, Decoded::Windows1252)),
            Encoding::Auto => match std::str::from_utf8(bytes) {
                Ok(s) => Ok((Cow::Borrowed(s), Decoded::Utf8)),
                Err(_) => windows_1252(bytes)
                    .map(|s| (s, Decoded::Windows1252))
                    .map_err(|e| format!("neither UTF-8 nor Windows-1252: {e}")),
            },
        }
    }

    /// The row of the record at `at` (its `fields` as [`scan`] found them).
    fn row_item(
        &mut self,
        fields: &[Field],
        at: std::ops::Range<usize>,
        row: u64,
        line: u64,
        headers: &[String],
    ) -> ReadItem {
        let (file, data) = (self.file, self.data);
        // a field past the header's is kept in the quarantine's raw row too, named by its place
        let raw = || -> Vec<(String, String)> {
            let names = headers.iter().cloned().chain((headers.len() + 1..).map(|i| format!("(field {i})")));
            names.zip(fields.iter().map(|f| lossy(f.bytes(data)))).collect()
        };
        // empty fields after the header's last: a delimiter that ends every line (some exports
        // write one), which made every row malformed; the row is read, and noted. Control bytes
        // alone are empty too, as they are in a row's own fields (found by the property test in
        // the twentieth session on issue 9: `,,,,<NUL><ESC>` was malformed, not a blank row)
        let empty = |f: &Field| f.bytes(data).iter().all(|b| b.is_ascii_whitespace() || b.is_ascii_control());
        let fields = match fields.get(headers.len()..) {
            Some(extra) if !extra.is_empty() && extra.iter().all(empty) => {
                self.notes.trailing_empty_fields += 1;
                super::note_row(&mut self.notes.trailing_empty_fields_rows, row);
                &fields[..headers.len()]
            }
            _ => fields,
        };
        // the free text as the last column, holding the delimiter unquoted (a hand-made or
        // hand-edited CSV: "The wait, and the parking, were awful"): its fields are put back
        // together, and the row noted (every such row was `malformed_row`)
        let joined: Vec<Field>;
        let fields = match headers.len().checked_sub(1) {
            Some(last) if self.text_last && fields.len() > headers.len() => {
                let mut text = Vec::new();
                for (i, f) in fields[last..].iter().enumerate() {
                    if i > 0 {
                        text.push(self.delim);
                    }
                    text.extend_from_slice(f.bytes(data));
                }
                self.notes.text_delimiters_unquoted += 1;
                super::note_row(&mut self.notes.text_delimiters_unquoted_rows, row);
                joined = fields[..last]
                    .iter()
                    .map(|f| Field::Built(f.bytes(data).to_vec()))
                    .chain([Field::Built(text)])
                    .collect();
                &joined[..]
            }
            _ => fields,
        };
        if fields.len() != headers.len() {
            let message = format!(
                "{file}: row {row} (line {line}): {} fields where the header has {}",
                fields.len(),
                headers.len()
            );
            return ReadItem::Bad(self.bad(row, Reason::MalformedRow, message, raw()));
        }
        let mut cells = Vec::with_capacity(fields.len());
        let mut windows_1252 = false;
        // the record validated once, its fields sliced from it; a field put together from
        // pieces, or a record not valid as a whole, is decoded field by field
        let whole = self.as_text(&data[at.clone()]);
        for (i, field) in fields.iter().enumerate() {
            let sliced = match (field, whole) {
                (&Field::At(a, b), Some(text)) => text.get(a - at.start..b - at.start),
                _ => None,
            };
            let decoded = match sliced {
                Some(s) => Ok((Cow::Borrowed(s), Decoded::Utf8)),
                None => self.decode(field.bytes(data)),
            };
            match decoded {
                Ok((s, how)) => {
                    if how == Decoded::Windows1252 && self.encoding == Encoding::Auto {
                        self.notes.fields_decoded_windows_1252 += 1;
                        windows_1252 = true;
                    }
                    cells.push(match s {
                        _ if s.is_empty() => Cell::Empty,
                        Cow::Borrowed(s) => Cell::Text(crate::record::Str::from(s)),
                        Cow::Owned(s) => Cell::Text(crate::record::Str::from(s)),
                    });
                }
                Err(why) => {
                    let message = format!("{file}: row {row} (line {line}): column {:?}: {why}", headers[i]);
                    let mut q = self.bad(row, Reason::UndecodableBytes, message, raw());
                    q.column = Some(headers[i].clone());
                    return ReadItem::Bad(q);
                }
            }
        }
        if windows_1252 {
            super::note_row(&mut self.notes.windows_1252_rows, row);
        }
        ReadItem::Row(RawRow { row, cells })
    }
}

/// Bytes Windows-1252 leaves undefined.
const UNDEFINED_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Decodes Windows-1252; the five bytes it leaves undefined are an error.
fn windows_1252(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some(i) = bytes.iter().position(|b| UNDEFINED_1252.contains(b)) {
        return Err(format!("byte 0x{:02X} at {i} is not a Windows-1252 character", bytes[i]));
    }
    Ok(encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0)
}

/// UTF-8 when the bytes are, else Windows-1252 (the baseline's reading too).
pub(crate) fn lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// What one record scan found.
enum Scan {
    /// A record, well-formed or not.
    Record(Record),
    /// The quote opened at byte `at` does not close before the end of the data (`capped`:
    /// before the row limit).
    Unclosed { at: usize, capped: bool },
    /// The first line is over the row limit; the next record starts at `next`.
    TooLong { next: usize },
}

/// One field of a scanned record: where its bytes lie in the data, or the bytes themselves
/// when they were put together (a doubled quote, text after a closing quote).
enum Field {
    At(usize, usize),
    Built(Vec<u8>),
}

impl Field {
    /// The field's bytes (`data`: what it was scanned from).
    fn bytes<'d>(&'d self, data: &'d [u8]) -> &'d [u8] {
        match self {
            Field::At(a, b) => &data[*a..*b],
            Field::Built(v) => v,
        }
    }
}

/// A record's shape (its fields are in the buffer given to [`scan`]).
struct Record {
    /// Where the next record starts.
    next: usize,
    /// Quoted fields that cross a line end: byte offsets of their opening and closing quote,
    /// and whether text follows the closing quote (so it is not where a field ends).
    spans: Vec<(usize, usize, bool)>,
}

/// Scans one record from `start` (RFC 4180, lenient about text after a closing quote on the
/// same line, as spreadsheets are). Lines end with `\n`, `\r\n` or `\r`.
fn scan(data: &[u8], start: usize, delim: u8, cap: usize, fields: &mut Vec<Field>) -> Scan {
    let len = data.len();
    fields.clear();
    let mut spans = Vec::new();
    let mut i = start;
    loop {
        if data.get(i) == Some(&b'"') {
            let open = i;
            i += 1;
            let mut owned: Option<Vec<u8>> = None;
            let mut seg = i;
            let mut crossed = false;
            let field = loop {
                let Some(k) = memchr3(b'"', b'\n', b'\r', &data[i..]) else {
                    return Scan::Unclosed { at: open, capped: false };
                };
                let j = i + k;
                if j - start > cap {
                    if !crossed {
                        return Scan::TooLong { next: after_line(data, start) };
                    }
                    return Scan::Unclosed { at: open, capped: true };
                }
                if data[j] != b'"' {
                    crossed = true;
                    i = j + 1;
                    continue;
                }
                if data.get(j + 1) == Some(&b'"') {
                    owned.get_or_insert_with(Vec::new).extend_from_slice(&data[seg..=j]);
                    i = j + 2;
                    seg = i;
                    continue;
                }
                let mut field = match owned.take() {
                    None => Field::At(seg, j),
                    Some(mut v) => {
                        v.extend_from_slice(&data[seg..j]);
                        Field::Built(v)
                    }
                };
                i = j + 1;
                let stray = i < len && !matches!(data[i], b'\n' | b'\r') && data[i] != delim;
                if crossed {
                    spans.push((open, j, stray));
                }
                if stray {
                    // text after the closing quote: kept, up to the next delimiter or line end
                    let end = memchr3(delim, b'\n', b'\r', &data[i..]).map_or(len, |k| i + k);
                    if end - start > cap {
                        return Scan::TooLong { next: after_line(data, start) };
                    }
                    let mut v = match field {
                        Field::At(a, b) => data[a..b].to_vec(),
                        Field::Built(v) => v,
                    };
                    v.extend_from_slice(&data[i..end]);
                    field = Field::Built(v);
                    i = end;
                }
                break field;
            };
            fields.push(field);
        } else {
            let end = memchr3(delim, b'\n', b'\r', &data[i.min(len)..]).map_or(len, |k| i + k);
            if end - start > cap {
                return Scan::TooLong { next: after_line(data, start) };
            }
            fields.push(Field::At(i.min(len), end));
            i = end;
        }
        if i >= len {
            return Scan::Record(Record { next: len, spans });
        }
        if data[i] == delim {
            i += 1;
            continue;
        }
        let next = i + line_end_len(data, i).unwrap_or(1);
        return Scan::Record(Record { next, spans });
    }
}

/// Calls `field` with each piece of `text` between the ASCII byte `delim`s, in order (as
/// `text.split(delim)`; `memchr` finds the delimiters, which measured 1.6 % fewer instructions
/// in a whole run than `str::split`; a hand-written eight-bytes-at-a-time scan saved 0.6 % more,
/// not worth its bit tricks).
fn split_at<'t>(text: &'t str, delim: u8, mut field: impl FnMut(&'t str)) {
    let mut start = 0;
    for at in memchr::memchr_iter(delim, text.as_bytes()) {
        field(&text[start..at]);
        start = at + 1;
    }
    field(&text[start..]);
}

/// Whether `lines` (the lines a quoted field swallowed, its closing line included) hold at
/// least one line and every non-blank line reads on its own as a row of `width` fields.
fn swallows_rows(lines: &[u8], delim: u8, width: usize) -> bool {
    let mut fields = Vec::new();
    let mut pos = 0;
    let mut any = false;
    while pos < lines.len() {
        let end = memchr2(b'\n', b'\r', &lines[pos..]).map_or(lines.len(), |k| pos + k);
        let line = &lines[pos..end];
        if !line.is_empty() {
            match scan(line, 0, delim, usize::MAX, &mut fields) {
                Scan::Record(r) if fields.len() == width && r.spans.is_empty() => any = true,
                _ => return false,
            }
        }
        pos = end + line_end_len(lines, end).unwrap_or(0);
    }
    any
}

/// Length of the line end at `i` (`\n`, `\r\n` or `\r`), if one is there.
/// Excel's `sep=X` line at `text`'s start (X one ASCII character that can split a line, `\t`
/// spelt as a tab): X and the line's length with its line end.
fn sep_line(text: &[u8]) -> Option<(u8, usize)> {
    let rest = text.strip_prefix(b"sep=").or_else(|| text.strip_prefix(b"SEP="))?;
    let (&d, after) = rest.split_first()?;
    if !d.is_ascii() || matches!(d, b'"' | b'\n' | b'\r') || d.is_ascii_alphanumeric() {
        return None;
    }
    let end = line_end_len(after, 0)?;
    Some((d, 4 + 1 + end))
}

/// The delimiter of a header line (`text` from its start) that holds no `delim` outside quotes:
/// the one of `;`, tab, `|` and `,` it holds most often, when the next line, if any, holds it
/// too (a one-column file whose header has a `;` and whose first comment has none stays one
/// column). `None`: keep `delim`.
pub(crate) fn sniff_delimiter(text: &[u8], delim: u8) -> Option<u8> {
    const CANDIDATES: [u8; 4] = [b';', b'\t', b'|', b','];
    // the bytes of each candidate outside quotes on the line from `text[at..]`, and where it ends
    let count = |at: usize| {
        let (mut counts, mut quoted, mut i) = ([0usize; 4], false, at);
        while let Some(&b) = text.get(i) {
            match b {
                b'"' => quoted = !quoted,
                b'\n' | b'\r' if !quoted => break,
                _ if !quoted => {
                    if let Some(k) = CANDIDATES.iter().position(|&c| c == b) {
                        counts[k] += 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        (counts, i + line_end_len(text, i).unwrap_or(0))
    };
    let (header, next) = count(0);
    let own = CANDIDATES.iter().position(|&c| c == delim);
    if own.is_none_or(|k| header[k] > 0) {
        return None;
    }
    let best = (0..CANDIDATES.len()).filter(|&k| header[k] > 0).max_by_key(|&k| (header[k], usize::MAX - k))?;
    let (following, _) = count(next);
    (next >= text.len() || following[best] > 0).then_some(CANDIDATES[best])
}

/// A delimiter as the manifest names it.
fn shown_delimiter(d: u8) -> &'static str {
    match d {
        b'\t' => "tab",
        b';' => ";",
        b'|' => "|",
        _ => ",",
    }
}

/// Whether `rest`, the last bytes of a file, are DOS's end-of-file mark (one Ctrl-Z, 0x1A),
/// with or without a line end after it.
fn is_dos_end(rest: &[u8]) -> bool {
    matches!(rest, [0x1a] | [0x1a, b'\n'] | [0x1a, b'\r'] | [0x1a, b'\r', b'\n'])
}

fn line_end_len(data: &[u8], i: usize) -> Option<usize> {
    match data.get(i) {
        Some(b'\n') => Some(1),
        Some(b'\r') if data.get(i + 1) == Some(&b'\n') => Some(2),
        Some(b'\r') => Some(1),
        _ => None,
    }
}

/// A record's bytes without the line end that closes it (a field's own line ends lie inside
/// quotes, before the closing one).
fn content_of(record: &[u8]) -> &[u8] {
    let end = record.iter().rposition(|b| !matches!(b, b'\n' | b'\r')).map_or(0, |i| i + 1);
    &record[..end]
}

/// Line ends in `bytes` (`\r\n` counts once).
fn line_ends(bytes: &[u8]) -> u64 {
    let mut n = 0;
    let mut i = 0;
    while let Some(k) = memchr2(b'\n', b'\r', &bytes[i..]) {
        n += 1;
        i += k + line_end_len(bytes, i + k).unwrap_or(1);
        if i >= bytes.len() {
            break;
        }
    }
    n
}

/// Where the line holding byte `at` ends (its line end excluded).
fn line_stop(data: &[u8], at: usize) -> usize {
    memchr2(b'\n', b'\r', &data[at..]).map_or(data.len(), |k| at + k)
}

/// The start of the line after the one holding byte `at`.
fn after_line(data: &[u8], at: usize) -> usize {
    let stop = line_stop(data, at);
    stop + line_end_len(data, stop).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<String> {
        let mut fields = Vec::new();
        match scan(line.as_bytes(), 0, b',', usize::MAX, &mut fields) {
            Scan::Record(_) => {
                fields.iter().map(|f| String::from_utf8_lossy(f.bytes(line.as_bytes())).into_owned()).collect()
            }
            _ => panic!("not a record: {line:?}"),
        }
    }

    #[test]
    fn fields_are_split_as_rfc_4180_says() {
        assert_eq!(fields("a,\"b,c\",\"d \"\"e\"\"\",,f"), ["a", "b,c", "d \"e\"", "", "f"]);
        assert_eq!(fields("a,\"x\"y,z"), ["a", "xy", "z"], "text after a closing quote is kept");
        assert_eq!(fields("a,b\"c,d"), ["a", "b\"c", "d"], "a quote inside a field is literal");
        assert_eq!(fields("a,"), ["a", ""]);
        assert_eq!(fields(""), [""]);
    }

    #[test]
    fn line_ends_of_every_kind() {
        assert_eq!(line_ends(b"a\nb\r\nc\rd"), 3);
        assert_eq!(line_ends(b"a\r\n"), 1);
        assert_eq!(line_ends(b"\r\r\n\n"), 3);
        assert_eq!(after_line(b"ab\r\ncd", 1), 4);
        assert_eq!(after_line(b"ab", 0), 2);
    }

    /// A reader that hands over its bytes a few at a time (odd sizes).
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 = (self.1 * 31 + 7) % 9973 + 1;
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn all_items(source: &SourceSettings, input: Box<dyn std::io::Read + Send + '_>) -> Vec<String> {
        let mut rows = CsvRows::open(source, input).unwrap();
        let mut out = Vec::new();
        loop {
            let batch = rows.next_items(1000).unwrap();
            if batch.is_empty() {
                break;
            }
            out.extend(batch.iter().map(|i| format!("{i:?}")));
        }
        out
    }

    /// A file several windows long, full of what makes recovery look ahead (multi-line
    /// comments, quotes that never close, CRLF line ends, lines over the row limit with and
    /// without quotes, blank lines, Windows-1252 bytes), reads row for row as it does when
    /// held whole, however the input arrives, and as it does decoded field by field.
    #[test]
    fn the_window_reads_what_the_whole_file_holds() {
        let mut data = b"id,text,rating\r\n".to_vec();
        let mut i = 0u64;
        while data.len() < 3 * LOOKAHEAD {
            i += 1;
            let row = match i % 11 {
                0 => format!("{i},\"a comment\r\nover two lines, \"\"quoted\"\"\",2\r\n"),
                3 => format!("{i},\"opens and never closes,3\r\n"),
                5 => "\r\n".to_owned(),
                7 => format!("{i},caf\u{e9} plain text,1\n"),
                _ => format!("{i},the staff were kind and the wait was long {i},4\r\n"),
            };
            data.extend_from_slice(row.as_bytes());
            if i == 20_000 {
                data.extend_from_slice(b"x,\"");
                data.extend(std::iter::repeat_n(b'y', MAX_ROW_BYTES + 10));
                data.extend_from_slice(b"\",1\r\n");
            }
            if i == 30_000 {
                data.extend_from_slice(b"z,");
                data.extend(std::iter::repeat_n(b'z', MAX_ROW_BYTES + 10));
                data.extend_from_slice(b",1\r\n");
            }
            if i.is_multiple_of(13) {
                data.extend_from_slice(format!("{i}w,na").as_bytes());
                data.extend_from_slice(b"\xefve,5\n");
            }
        }
        data.extend_from_slice(b"\r\n\r\n");
        let source = SourceSettings::plain("s", std::path::Path::new("s.csv"), crate::config::Format::Csv);
        WHOLE.with(|w| w.set(Some(1 << 30)));
        let whole = all_items(&source, Box::new(data.as_slice()));
        WHOLE.with(|w| w.set(None));
        assert!(whole.len() > 100_000, "{} rows", whole.len());
        assert_eq!(whole.iter().filter(|r| r.contains("FieldTooLong")).count(), 2, "the long lines are there");
        assert!(whole.iter().any(|r| r.contains("MalformedRow")), "the unclosed quotes are there");
        let streamed = all_items(&source, Box::new(data.as_slice()));
        assert_eq!(streamed.len(), whole.len());
        assert!(streamed == whole, "1 MiB reads");
        let trickled = all_items(&source, Box::new(Trickle(&data, 0)));
        assert!(trickled == whole, "odd small reads");
        FIELD_BY_FIELD.with(|f| f.set(true));
        let field_by_field = all_items(&source, Box::new(data.as_slice()));
        FIELD_BY_FIELD.with(|f| f.set(false));
        assert!(field_by_field == whole, "rows validated once read as field by field");
    }

    /// The header (and the first rows) are read from the first chunk only when they lie whole in
    /// it: a header longer than a chunk, one whose CRLF the chunk's end splits, title lines above
    /// `header_row` and a header whose quote never closes read (or fail) as from the whole file.
    #[test]
    fn a_header_at_or_past_the_first_chunk_s_end_reads_as_in_the_whole_file() {
        let rows = "1,kind staff,4\r\n2,\"a wait\r\nof hours\",1\r\n3,last,2";
        let long = format!("id,{},rating\r\n{rows}", "t".repeat(CHUNK + 10));
        // the header's CR is the chunk's last byte, its LF the next chunk's first
        let split = format!("id,{},rating\r\n{rows}", "t".repeat(CHUNK - 1 - "id,,rating".len()));
        assert_eq!(split.as_bytes()[CHUNK - 1], b'\r');
        let titled = format!("Trust feedback\r\nexported {}\r\nid,text,rating\r\n{rows}", "x".repeat(CHUNK - 40));
        let unclosed = format!("id,\"text,rating\r\n{}", "1,ok,2\r\n".repeat(CHUNK / 4));
        let plain = SourceSettings::plain("s", std::path::Path::new("s.csv"), crate::config::Format::Csv);
        let third = SourceSettings { header_row: Some(3), ..plain.clone() };
        for (data, source) in [(&long, &plain), (&split, &plain), (&titled, &third), (&unclosed, &plain)] {
            let read = |whole: bool| {
                WHOLE.with(|w| w.set(whole.then_some(1 << 30)));
                let read = CsvRows::open(source, Box::new(Trickle(data.as_bytes(), 0))).map(|mut r| {
                    let items: Vec<String> = r.next_items(100).unwrap().iter().map(|i| format!("{i:?}")).collect();
                    (r.headers.clone(), items)
                });
                WHOLE.with(|w| w.set(None));
                read.map_err(|e| e.to_string())
            };
            let (whole, streamed) = (read(true), read(false));
            assert_eq!(streamed, whole);
            if let Ok((headers, items)) = &whole {
                assert_eq!((headers.len(), items.len()), (3, 3));
            }
        }
        assert!(read_err(&unclosed).contains("never closes"), "{}", read_err(&unclosed));
    }

    fn read_err(data: &str) -> String {
        let source = SourceSettings::plain("s", std::path::Path::new("s.csv"), crate::config::Format::Csv);
        CsvRows::open(&source, Box::new(data.as_bytes())).err().map(|e| e.to_string()).unwrap_or_default()
    }

    /// Only a row whose bytes hold no control character is passed as clean; its line end is
    /// not part of it, a line end inside a quoted field is.
    #[test]
    fn rows_are_marked_clean_only_without_control_bytes() {
        let data =
            "id,text\r\n1,plain\r\n2,nul\u{0}here\r\n3,next line \u{85}\r\n4,\"two\nlines\"\r\n\r\n5,caf\u{e9}\n6,last";
        let source = SourceSettings::plain("s", std::path::Path::new("s.csv"), crate::config::Format::Csv);
        let mut rows = CsvRows::open(&source, Box::new(data.as_bytes())).unwrap();
        let items = rows.next_items(100).unwrap();
        assert_eq!(items.len(), 7, "{items:?}");
        assert_eq!(rows.clean, [true, false, false, false, true, true, true]);
        assert!(matches!(items[4], ReadItem::Blank));
        assert_eq!(content_of(b"a,b\r\n"), b"a,b");
        assert_eq!(content_of(b"a,\"b\n\"\n"), b"a,\"b\n\"");
        assert_eq!(content_of(b"\r\n"), b"");
    }

    #[test]
    fn the_delimiter_is_sniffed_only_from_a_header_without_the_default_s() {
        let sniff = |text: &str, delim: u8| sniff_delimiter(text.as_bytes(), delim);
        assert_eq!(sniff("a;b;c\r\n1;2;3\r\n", b','), Some(b';'));
        assert_eq!(sniff("a|b|c\n1|2|3", b','), Some(b'|'));
        assert_eq!(sniff("a;b|c|d\n1|2|3", b','), Some(b'|'), "the most frequent");
        assert_eq!(sniff("a\tb\n1\t2", b','), Some(b'\t'));
        assert_eq!(sniff("a,b,c\n1,2,3", b'\t'), Some(b','), "a .tsv holding commas");
        assert_eq!(sniff("a;b", b','), Some(b';'), "a header alone");
        // the default's in the header: kept, whatever else is there
        assert_eq!(sniff("a,b;c\n1,2", b','), None);
        assert_eq!(sniff("a\tb;c\n1\t2", b'\t'), None);
        // one column: no candidate, or a `;` the next line lacks
        assert_eq!(sniff("text\nfine; thanks", b','), None);
        assert_eq!(sniff("What could we do better; anything else?\nMore parking\n", b','), None);
        // quoted delimiters are not the header's
        assert_eq!(sniff("\"a;b\"\n\"c;d\"", b','), None);
        assert_eq!(sniff("\"a,1\";b\n\"x\";y", b','), Some(b';'), "a comma inside quotes does not count");
    }

    /// Every item, the clean marks and the notes of a whole read of `data`.
    fn read_all(source: &SourceSettings, data: &[u8]) -> (Vec<String>, Vec<bool>, String) {
        let mut rows = CsvRows::open(source, Box::new(data)).unwrap();
        let (mut items, mut clean) = (Vec::new(), Vec::new());
        loop {
            let batch = rows.next_items(7).unwrap();
            if batch.is_empty() {
                break;
            }
            items.extend(batch.iter().map(|i| format!("{i:?}")));
            clean.extend_from_slice(&rows.clean);
        }
        let (encoding, notes) = rows.finish();
        (items, clean, format!("{encoding} {notes:?}"))
    }

    /// A CSV file of `rows` made of `pieces`: plain text, every kind of line end, quotes
    /// (doubled, stray, unclosed), delimiters of every kind, UTF-8 and Windows-1252 bytes, a
    /// byte Windows-1252 leaves undefined, a truncated UTF-8 sequence, control characters.
    fn messy_csv(rows: &[Vec<usize>], delim: u8) -> Vec<u8> {
        const PIECES: [&[u8]; 18] = [
            b"text",
            b"x y",
            b"",
            b"\"",
            b"\"\"",
            b",",
            b";",
            b"\t",
            b"\n",
            b"\r\n",
            b"\r",
            b"caf\xc3\xa9",
            b"caf\xe9 \x96",
            b"\x81",
            b"\xc3",
            b"\x01\x7f",
            b"\xc2\x85",
            b"1",
        ];
        let d = char::from(delim);
        let mut data = format!("id{d}text{d}rating\n").into_bytes();
        for row in rows {
            for &p in row {
                data.extend_from_slice(PIECES[p % PIECES.len()]);
                if p % 3 == 0 {
                    data.push(delim);
                }
            }
            data.extend_from_slice(if row.len() % 2 == 0 { b"\n" } else { b"\r\n" });
        }
        data
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Rows validated once and sliced (plain rows split in one pass, rows with
        /// quotes split by `scan`) read every file, item for item, with the same clean marks,
        /// encoding and notes, as decoding every field on its own does, whatever the
        /// delimiter and encoding.
        #[test]
        fn rows_validated_once_read_as_field_by_field(
            rows in proptest::collection::vec(proptest::collection::vec(0usize..60, 0..12), 1..30),
            delim in proptest::sample::select(vec![b',', b';', b'\t', b'|']),
            encoding in proptest::sample::select(vec![Encoding::Auto, Encoding::Utf8, Encoding::Windows1252]),
        ) {
            let data = messy_csv(&rows, delim);
            let mut source = SourceSettings::plain("s", std::path::Path::new("s.csv"), crate::config::Format::Csv);
            source.delimiter = delim;
            source.encoding = encoding;
            let fast = read_all(&source, &data);
            FIELD_BY_FIELD.with(|f| f.set(true));
            let reference = read_all(&source, &data);
            FIELD_BY_FIELD.with(|f| f.set(false));
            proptest::prop_assert_eq!(fast, reference);
        }
    }

    /// The fast path takes plain rows and only them: a quote, a byte that is not valid in the
    /// encoding, a wrong number of fields or a delimiter that cannot split a line send the row
    /// to the field-by-field path.
    #[test]
    fn only_plain_rows_take_the_fast_path() {
        let mut source = SourceSettings::plain("s", std::path::Path::new("s.csv"), crate::config::Format::Csv);
        let data: &[u8] = b"id,text,rating\n1,caf\xc3\xa9,\n2,\"q\",1\n3,caf\xe9,1\n4,a\n5,x,y,z\n6,last,2";
        let rows = CsvRows::open(&source, Box::new(data)).unwrap();
        let reader = rows.reader();
        let at = |n: &[u8]| data.windows(n.len()).position(|w| w == n).unwrap();
        let plain = |reader: &Reader<'_>, n: &[u8]| {
            reader.plain_record(at(n), 2, 3).map(|(item, next)| (format!("{item:?}"), next))
        };
        let (item, next) = plain(&reader, b"1,").unwrap();
        assert!(item.contains("\"café\"") && item.contains("Empty"), "{item}");
        assert_eq!(next, at(b"2,"));
        assert!(plain(&reader, b"2,").is_none(), "a quote");
        assert!(plain(&reader, b"3,").is_none(), "not UTF-8");
        assert!(plain(&reader, b"4,").is_none(), "too few fields");
        assert!(plain(&reader, b"5,").is_none(), "too many fields");
        assert_eq!(plain(&reader, b"6,").map(|p| p.1), Some(data.len()), "the last line, without a line end");
        source.encoding = Encoding::Windows1252;
        let rows = CsvRows::open(&source, Box::new(data)).unwrap();
        let reader = rows.reader();
        assert!(plain(&reader, b"1,").is_none(), "UTF-8 bytes are other characters in Windows-1252");
        assert!(plain(&reader, b"6,").is_some(), "ASCII reads the same in Windows-1252");
        source.delimiter = b'"';
        let rows = CsvRows::open(&source, Box::new(b"a\"b\n1\"2\n".as_slice())).unwrap();
        assert!(rows.reader().plain_record(4, 2, 2).is_none(), "a quote as the delimiter");
    }

    /// The split finds what `str::split` finds, on every length and
    /// every place of the delimiters, next to bytes that differ from it by one bit (`¬` is
    /// `C2 AC`: `,` with the high bit set).
    #[test]
    fn split_at_splits_as_str_split_does() {
        for delim in [b',', b'\t', b';', b'|', 0x7F, 0x00] {
            let (d, one_off) = (char::from(delim).to_string(), char::from(delim ^ 1).to_string());
            let pieces = [d.as_str(), one_off.as_str(), "a", "\"", "\u{ac}", "\u{e9}", "\u{1F600}"];
            for len in 0..40usize {
                for seed in 0..12usize {
                    let text: String = (0..len).map(|i| pieces[(i * 7 + seed * (i + 3)) % pieces.len()]).collect();
                    let mut got = Vec::new();
                    split_at(&text, delim, |f| got.push(f));
                    let want: Vec<&str> = text.split(char::from(delim)).collect();
                    assert_eq!(got, want, "{text:?} at {delim}");
                }
            }
        }
    }

    #[test]
    fn windows_1252_leaves_five_bytes_undefined() {
        assert_eq!(windows_1252(b"caf\xe9 \x96 \xa3").unwrap(), "café – £");
        assert!(windows_1252(b"a\x81b").is_err());
    }
}
