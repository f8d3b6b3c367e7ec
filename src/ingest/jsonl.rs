//! JSON Lines reader: one object per line; keys become columns in order of first appearance (a
//! key holding an object, its members by their dotted paths: [`Columns`]).

use std::io::{BufRead, BufReader, Read};

use serde_json::Value;

use super::{shown, Cell, IngestError, Quarantined, RawRow, ReadItem, ReadNotes, Reason, Table, MAX_ROW_BYTES};
use crate::config::SourceSettings;
use crate::record::Str;

/// Reads JSONL bytes into a table (every row at once; a run streams with [`JsonlRows`]), or a
/// JSON array of objects (its elements are the rows).
///
/// # Errors
/// As [`JsonlRows::open`].
pub(crate) fn read(source: &SourceSettings, bytes: &[u8]) -> Result<Table, IngestError> {
    let mut rows = JsonlRows::open(source, &|| Ok(Box::new(bytes)), is_array(bytes))?;
    let items = super::all_items(|max| rows.next_items(max))?;
    Ok(Table { headers: rows.headers, items, encoding: None, notes: ReadNotes::default(), types: None })
}

/// Whether JSON text (after a BOM and white space) opens an array: a `.json` export of one
/// array of objects, not an object per line.
pub(crate) fn is_array(start: &[u8]) -> bool {
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// What is wrong with a file in which no line is an object, when the whole of it is one JSON
/// object (an API's `{"responses": [...]}`, pretty-printed): found failing with "no free-text
/// column (the header has: )". The members holding the records are named, with how to take
/// them out.
fn wrapped(input: Box<dyn Read + Send + '_>) -> Option<String> {
    let mut bytes = Vec::new();
    input.take(1 << 31).read_to_end(&mut bytes).ok()?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(bytes) else { return None };
    let lists: Vec<String> = top
        .iter()
        .filter_map(|(k, v)| match v {
            Value::Array(a) if a.iter().any(Value::is_object) => Some(format!("{k:?} ({} items)", a.len())),
            _ => None,
        })
        .collect();
    let first = top.iter().find(|(_, v)| matches!(v, Value::Array(a) if a.iter().any(Value::is_object)));
    Some(match first {
        Some((k, _)) => format!(
            "one JSON object whose records are in {}: unheard reads JSON Lines (an object per line) or an array of objects; take the array out, e.g. `jq '.{k}' FILE > records.json`",
            lists.join(", ")
        ),
        None => "one JSON object, not records: unheard reads JSON Lines (an object per line) or an array of objects".to_owned(),
    })
}

/// Opens the input (again): JSONL is read twice, once for its keys, once for its rows.
pub(crate) type Reopen<'a> = dyn Fn() -> Result<Box<dyn Read + Send + 'a>, IngestError> + 'a;

/// A JSONL file read as a stream. A line that is not a JSON object is quarantined
/// (`malformed_row`); a blank line is dropped and counted. Numbers stay numbers and objects or
/// arrays stay structured, so that the mapper can tell free text that is not a string. The
/// columns are every key, in order of first appearance in the file: a first pass reads them
/// (memory: the keys only), the second the rows.
pub(crate) struct JsonlRows<'a> {
    lines: Lines<'a>,
    /// What a row is called in messages: a line, or an element of the file's JSON array.
    unit: &'static str,
    /// Every key of the file, in order of first appearance (an object's leaves as dotted paths).
    pub headers: Vec<String>,
    /// Each header's path of keys.
    paths: Vec<Vec<String>>,
    /// Whether a header is an object kept whole (its JSON text the cell).
    whole: Vec<bool>,
    /// The objects kept whole past [`MAX_MEMBERS`] (not those the source names), by their dotted
    /// paths.
    pub kept_whole: Vec<String>,
    /// The objects the source names in `keep_whole` that no record holds.
    pub keep_whole_unmet: Vec<String>,
    blanks: u64,
    file: String,
    source: SourceSettings,
}

/// The lines of a stream, each at most [`MAX_ROW_BYTES`] (a longer one is cut, and flagged);
/// or, for a file of one JSON array, its elements, each as one line ([`Lines::next_element`]).
struct Lines<'a> {
    input: BufReader<Box<dyn Read + Send + 'a>>,
    row: u64,
    done: bool,
    path: std::path::PathBuf,
    /// The scan of a JSON array, when the file is one.
    array: Option<ArrayScan>,
}

/// Where the scan of a file's one JSON array stands.
#[derive(Default)]
struct ArrayScan {
    /// Its `[` is read.
    open: bool,
    /// A `,` is read since the last element.
    comma: bool,
    /// Line and column (from 1, in bytes) of the next byte.
    at: (u64, u64),
    /// Where the last element began.
    start: (u64, u64),
}

impl ArrayScan {
    fn step(&mut self, b: u8) {
        if b == b'\n' {
            self.at = (self.at.0 + 1, 1);
        } else {
            self.at.1 += 1;
        }
    }
}

impl Lines<'_> {
    fn error(&self, message: String) -> IngestError {
        IngestError::Format { path: self.path.clone(), format: "JSON", message }
    }

    fn fill(&mut self) -> Result<&[u8], IngestError> {
        loop {
            match self.input.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(format!("reading stopped after element {}: {e}", self.row))),
            }
        }
        Ok(self.input.buffer())
    }

    /// The next element of the file's JSON array, on one line (line ends outside its strings
    /// made spaces): (element number, too long). The file is read as a stream, an element at a
    /// time (it was read whole: 300,000 records of an API's export took 1.16 GB, twice a CSV's
    /// run). What is not an array of values, or ends inside it, is an error naming its place.
    fn next_element(&mut self, buf: &mut Vec<u8>) -> Result<Option<(u64, bool)>, IngestError> {
        buf.clear();
        if self.done {
            return Ok(None);
        }
        let mut scan = self.array.take().unwrap_or_default();
        let out = self.scan_element(&mut scan, buf);
        self.array = Some(scan);
        out
    }

    fn scan_element(&mut self, scan: &mut ArrayScan, buf: &mut Vec<u8>) -> Result<Option<(u64, bool)>, IngestError> {
        if scan.at == (0, 0) {
            scan.at = (1, 1);
            if self.fill()?.starts_with(b"\xEF\xBB\xBF") {
                self.input.consume(3);
            }
        }
        // white space, the `[`, a `,` between two elements, the `]`
        loop {
            let Some(&b) = self.fill()?.first() else {
                let (l, c) = scan.at;
                let what = if scan.open { "before the array's closing ]" } else { "before a JSON array began" };
                return Err(self.error(format!("the file ends {what} (line {l} column {c}): is it complete?")));
            };
            let (l, c) = scan.at;
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b'[' if !scan.open => scan.open = true,
                b']' if scan.open && (self.row == 0 || !scan.comma) => {
                    self.input.consume(1);
                    scan.step(b);
                    self.done = true;
                    return self.after_the_array(scan);
                }
                b',' if scan.open && self.row > 0 && !scan.comma => scan.comma = true,
                _ if scan.open && (self.row == 0 || scan.comma) => break,
                _ => {
                    let what = if scan.open { "a , or the closing ]" } else { "a JSON array ([)" };
                    return Err(self.error(format!(
                        "a JSON array of objects was expected: {what} at line {l} column {c}, not {:?}",
                        char::from(b)
                    )));
                }
            }
            self.input.consume(1);
            scan.step(b);
        }
        // the element: to the end of its object, array or string, or to what ends a number
        scan.start = scan.at;
        scan.comma = false;
        let (mut depth, mut in_string, mut escaped, mut too_long) = (0u32, false, false, false);
        loop {
            let chunk = self.fill()?;
            if chunk.is_empty() {
                let (l, c) = scan.start;
                return Err(self.error(format!(
                    "the file ends inside element {} of the JSON array (from line {l} column {c}): is it complete?",
                    self.row + 1
                )));
            }
            let mut end = None;
            for (i, &b) in chunk.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(chunk.len());
            if buf.len() + take > MAX_ROW_BYTES {
                too_long = true;
            } else {
                buf.extend(chunk[..take].iter().map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }));
            }
            for &b in &chunk[..take] {
                scan.step(b);
            }
            self.input.consume(take);
            if end.is_some() {
                break;
            }
        }
        self.row += 1;
        Ok(Some((self.row, too_long)))
    }

    /// After the array's `]`: white space only.
    fn after_the_array(&mut self, scan: &mut ArrayScan) -> Result<Option<(u64, bool)>, IngestError> {
        loop {
            let chunk = self.fill()?;
            if chunk.is_empty() {
                return Ok(None);
            }
            let space = chunk.iter().position(|b| !b.is_ascii_whitespace());
            for &b in &chunk[..space.unwrap_or(chunk.len())] {
                scan.step(b);
            }
            if space.is_some() {
                let (l, c) = scan.at;
                return Err(self.error(format!(
                    "a JSON array of objects was expected: more follows its closing ] (line {l} column {c})"
                )));
            }
            let n = chunk.len();
            self.input.consume(n);
        }
    }

    /// The next line without its line end: (line number, bytes, too long).
    fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<Option<(u64, bool)>, IngestError> {
        if self.array.is_some() {
            return self.next_element(buf);
        }
        buf.clear();
        if self.done {
            return Ok(None);
        }
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(IngestError::Format {
                        path: self.path.clone(),
                        format: "JSONL",
                        message: format!("reading stopped after line {}: {e}", self.row),
                    })
                }
            };
            if chunk.is_empty() {
                self.done = true;
                // a final newline does not start another (blank) line
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (take, end) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if buf.len() + take > MAX_ROW_BYTES {
                too_long = true;
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
            self.input.consume(take + usize::from(end));
            if end {
                break;
            }
        }
        self.row += 1;
        if buf.ends_with(b"\r") {
            buf.pop();
        }
        if self.row == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        Ok(Some((self.row, too_long)))
    }
}

impl<'a> JsonlRows<'a> {
    /// Reads the keys of the whole file, then opens it again for its rows.
    ///
    /// # Errors
    /// The input cannot be read.
    pub(crate) fn open(
        source: &SourceSettings,
        reopen: &Reopen<'a>,
        array: bool,
    ) -> Result<JsonlRows<'a>, IngestError> {
        let lines = |input| Lines {
            input: BufReader::with_capacity(1 << 20, input),
            row: 0,
            done: false,
            path: source.path.clone(),
            array: array.then(ArrayScan::default),
        };
        let mut first = lines(reopen()?);
        // objects the pipeline keeps whole, whatever this export holds (a night's export of a
        // few records would otherwise read a column a member where the state's kept one)
        let mut columns = Columns {
            whole: source.keep_whole.iter().map(|p| p.split('.').map(str::to_owned).collect()).collect(),
            ..Columns::default()
        };
        let mut buf = Vec::new();
        // a first line that opens an object and is not one (only `{`, or `{"stories": [`) opens
        // a document: never a line of JSONL (found: an API's records wrapped in an object, one
        // a line, kept only the last, the others quarantined as malformed with nothing said)
        let mut opens_object = None;
        while let Some((_, too_long)) = first.next_line(&mut buf)? {
            if too_long {
                continue;
            }
            if opens_object.is_none() && !buf.iter().all(u8::is_ascii_whitespace) {
                let line = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf).trim_ascii();
                opens_object =
                    Some(line.starts_with(b"{") && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err());
            }
            match serde_json::from_slice::<Entries<Node>>(&buf) {
                Ok(keys) => {
                    if let Err(k) = columns.add_record(keys) {
                        return Err(IngestError::Format {
                            path: source.path.clone(),
                            format: "JSON",
                            message: format!(
                                "its records have more than {MAX_MEMBERS} distinct keys (key {}, {k:?}, at {} {}): \
                                 keys that are values (ids, dates) are not columns; move them into one member \
                                 (`{{\"scores\": {{{k:?}: …}}}}`), which is read as one column of its JSON text",
                                MAX_MEMBERS + 1,
                                if array { "element" } else { "line" },
                                first.row
                            ),
                        });
                    }
                }
                // an element of an array is an object, or the file is not records (found: an
                // array holding a number was read as a row of nothing)
                Err(e) if array => {
                    let (l, c) = first.array.as_ref().map_or((0, 0), |a| a.start);
                    let what = if e.is_syntax() || e.is_eof() { "is not valid JSON" } else { "is not an object" };
                    return Err(IngestError::Format {
                        path: source.path.clone(),
                        format: "JSON",
                        message: format!(
                            "a JSON array of objects was expected: its element {} (line {l} column {c}) {what}",
                            first.row
                        ),
                    });
                }
                Err(_) => {}
            }
        }
        let headers = columns.headers();
        if !array && (headers.is_empty() || opens_object == Some(true)) {
            if let Some(message) = wrapped(reopen()?) {
                return Err(IngestError::Format { path: source.path.clone(), format: "JSON", message });
            }
        }
        Ok(JsonlRows {
            lines: lines(reopen()?),
            unit: if array { "element" } else { "line" },
            headers,
            whole: columns.paths.iter().map(|p| columns.whole.contains(p)).collect(),
            kept_whole: columns.whole.iter().map(|p| p.join(".")).filter(|p| !source.keep_whole.contains(p)).collect(),
            keep_whole_unmet: (source.keep_whole.iter())
                .filter(|k| !columns.seen.contains(&k.split('.').map(str::to_owned).collect::<Vec<_>>()))
                .cloned()
                .collect(),
            paths: columns.paths,
            blanks: 0,
            file: shown(&source.path),
            source: source.clone(),
        })
    }

    /// Up to `max` more rows (blank lines included); empty at the end of the file.
    ///
    /// # Errors
    /// The input cannot be read.
    pub(crate) fn next_items(&mut self, max: usize) -> Result<Vec<ReadItem>, IngestError> {
        let mut items = Vec::new();
        let mut line = Vec::new();
        while items.len() < max {
            let Some((row, too_long)) = self.lines.next_line(&mut line)? else { break };
            if !too_long && line.iter().all(u8::is_ascii_whitespace) {
                // blank lines at the very end are the editor's: held back until a row follows
                self.blanks += 1;
                continue;
            }
            for _ in 0..std::mem::take(&mut self.blanks) {
                items.push(ReadItem::Blank);
            }
            items.push(self.item(row, &line, too_long));
        }
        Ok(items)
    }

    fn item(&self, row: u64, line: &[u8], too_long: bool) -> ReadItem {
        let file = &self.file;
        let bad = |reason: Reason, message: String, raw: Vec<(String, String)>| Quarantined {
            source: self.source.name.clone(),
            file: file.clone(),
            row,
            column: None,
            reason,
            message,
            raw,
            text_cells: 0,
        };
        if too_long {
            let message = format!("{file}: {} {row}: over {MAX_ROW_BYTES} bytes; set aside unread", self.unit);
            return ReadItem::Bad(bad(Reason::FieldTooLong, message, Vec::new()));
        }
        let raw = || vec![("line".to_owned(), String::from_utf8_lossy(line).into_owned())];
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(map)) => {
                let cells = self
                    .paths
                    .iter()
                    .zip(&self.whole)
                    .map(|(p, &whole)| match lookup_map(&map, p) {
                        Some(v @ Value::Object(_)) if whole => Cell::Text(Str::from(v.to_string())),
                        v => cell(v),
                    })
                    .collect();
                ReadItem::Row(RawRow { row, cells })
            }
            Ok(_) => ReadItem::Bad(bad(
                Reason::MalformedRow,
                format!("{file}: {} {row}: not a JSON object", self.unit),
                raw(),
            )),
            Err(e) if std::str::from_utf8(line).is_err() => {
                let message = format!("{file}: {} {row}: invalid UTF-8: {e}", self.unit);
                ReadItem::Bad(bad(Reason::UndecodableBytes, message, raw()))
            }
            Err(e) => ReadItem::Bad(bad(Reason::MalformedRow, format!("{file}: {} {row}: {e}", self.unit), raw())),
        }
    }
}

/// The most members an object nested in the records may have, across the file, before it is kept
/// whole: one column of its JSON text instead of a column per member. Past it the members are
/// values, not fields (ids or dates as keys, `{"scores": {"resp-000123": 4}}`): found taking 4.5 s
/// for 2,000 records and not finishing in 120 s for 20,000 (a column per key in every row, so
/// time and memory grew with the square of the records).
pub(crate) const MAX_MEMBERS: usize = 1_000;

/// The columns of a file of JSON objects, in order of first appearance: a key, or, for a key
/// holding an object, each of its leaves by its dotted path (`answers.comment`,
/// `respondent.ethnicity`), so that an API's nested export maps as a flat one does (found: its
/// comments could not be named at all, "no free-text column (the header has: "answers", …)").
/// An array is a leaf (in a field read, `wrong_type`; carried, its JSON text). A nested object of more than
/// [`MAX_MEMBERS`] members is one leaf, kept whole.
#[derive(Default)]
struct Columns {
    paths: Vec<Vec<String>>,
    seen: std::collections::HashSet<Vec<String>>,
    /// Every member path met under a nested object, and how many members each object has.
    members: std::collections::HashSet<Vec<String>>,
    counts: std::collections::HashMap<Vec<String>, usize>,
    /// The objects kept whole.
    whole: Vec<Vec<String>>,
    /// The records' own keys.
    top: std::collections::HashSet<String>,
}

impl Columns {
    /// Adds one record's keys; `Err` with the key past [`MAX_MEMBERS`] distinct keys of the
    /// records themselves: keys that are values at the top, where no object holds them, a column
    /// each taking time and memory with the square of the records.
    fn add_record(&mut self, keys: Entries<Node>) -> Result<(), String> {
        for (k, node) in keys.0 {
            if !self.top.contains(&k) {
                if self.top.len() == MAX_MEMBERS {
                    return Err(k);
                }
                self.top.insert(k.clone());
            }
            self.add_node(&mut vec![k], &node);
        }
        Ok(())
    }

    fn leaf(&mut self, path: &[String]) {
        if !self.seen.contains(path) {
            self.seen.insert(path.to_vec());
            self.paths.push(path.to_vec());
        }
    }

    fn add_node(&mut self, path: &mut Vec<String>, node: &Node) {
        match node {
            Node::Object(_) if self.whole.iter().any(|w| path.starts_with(w)) => {
                if self.whole.iter().any(|w| w == path) {
                    self.leaf(path);
                }
            }
            Node::Object(entries) => {
                for (k, n) in entries {
                    path.push(k.clone());
                    if path.len() > 1 && !self.members.contains(path.as_slice()) {
                        self.members.insert(path.clone());
                        let parent = path[..path.len() - 1].to_vec();
                        let count = self.counts.entry(parent.clone()).or_default();
                        *count += 1;
                        if *count > MAX_MEMBERS {
                            path.pop();
                            self.keep_whole(parent);
                            return;
                        }
                    }
                    self.add_node(path, n);
                    path.pop();
                }
            }
            // (a value where a kept-whole object is, in some rows, is its column's value)
            Node::Leaf => {
                if !self.whole.iter().any(|w| path.len() > w.len() && path.starts_with(w)) {
                    self.leaf(path);
                }
            }
        }
    }

    /// Replaces an object's leaves by the object, where its first leaf was.
    fn keep_whole(&mut self, object: Vec<String>) {
        let inside = |p: &Vec<String>| p.len() > object.len() && p.starts_with(&object);
        let at = self.paths.iter().position(inside).unwrap_or(self.paths.len());
        self.paths.retain(|p| !inside(p));
        self.seen.retain(|p| !inside(p));
        self.members.retain(|p| !inside(p));
        self.counts.retain(|p, _| !p.starts_with(&object));
        self.whole.retain(|w| !w.starts_with(&object));
        self.whole.push(object.clone());
        if self.seen.insert(object.clone()) {
            self.paths.insert(at.min(self.paths.len()), object);
        }
    }

    fn headers(&self) -> Vec<String> {
        self.paths.iter().map(|p| p.join(".")).collect()
    }
}

/// The value at `path` in an object.
fn lookup_map<'v>(map: &'v serde_json::Map<String, Value>, path: &[String]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    descend(map.get(first)?, rest)
}

fn descend<'v>(mut v: &'v Value, path: &[String]) -> Option<&'v Value> {
    for k in path {
        v = v.as_object()?.get(k)?;
    }
    Some(v)
}

/// A value's shape, read without keeping it: an object's keys (and theirs), else a leaf.
enum Node {
    Leaf,
    Object(Vec<(String, Node)>),
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Node>()? {
                    entries.push(entry);
                }
                Ok(Node::Object(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Node::Leaf)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// An object's entries in file order: with `V` = [`Node`] its keys and its objects' keys, the
/// values skipped unread (the first pass over a JSONL file or a JSON array's elements).
struct Entries<V>(Vec<(String, V)>);

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for Entries<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Entries<V>, D::Error> {
        struct Visit<V>(std::marker::PhantomData<V>);
        impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object (one row)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

fn cell(v: Option<&Value>) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::String(s)) if s.is_empty() => Cell::Empty,
        Some(Value::String(s)) => Cell::Text(Str::from(s.as_str())),
        // a whole number past 2^53 (a 64-bit database id) has no exact double: kept as its
        // digits (found: ids 9007199254740993 and …992 became one, the second row quarantined
        // as a duplicate)
        Some(Value::Number(n))
            if n.as_u64().is_some_and(|v| v > 1 << 53) || n.as_i64().is_some_and(|v| v < -(1 << 53)) =>
        {
            Cell::Text(Str::from(n.to_string()))
        }
        Some(Value::Number(n)) => n.as_f64().map_or_else(|| Cell::Text(Str::from(n.to_string())), Cell::Number),
        Some(Value::Bool(b)) => Cell::Bool(*b),
        // an object or array is never a value: the mapper reports it (`wrong_type`)
        Some(other) => Cell::Structured(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(lines: &[String]) -> Columns {
        let mut columns = Columns::default();
        for line in lines {
            columns.add_record(serde_json::from_str(line).unwrap()).unwrap();
        }
        columns
    }

    #[test]
    fn an_object_of_too_many_members_is_one_column_where_its_first_member_was() {
        // nested two deep, between other columns, with members of members
        let lines: Vec<String> = (0..=MAX_MEMBERS)
            .map(|i| format!(r#"{{"id":{i},"a":{{"x":1,"by_id":{{"r{i}":{{"n":1,"m":2}}}},"y":2}},"z":3}}"#))
            .collect();
        let c = columns(&lines);
        assert_eq!(c.headers(), ["id", "a.x", "a.by_id", "a.y", "z"]);
        assert_eq!(c.whole, [vec!["a".to_owned(), "by_id".to_owned()]]);
        // one member fewer: a column a leaf
        let c = columns(&lines[..MAX_MEMBERS]);
        assert_eq!(c.headers().len(), 4 + 2 * MAX_MEMBERS);
        assert!(c.whole.is_empty());
    }

    /// An object the source names in `keep_whole` is one column however few members it has (a
    /// night's export of a few records read a column a member where the state's had one column),
    /// its value where a row holds one, and no warning is due.
    #[test]
    fn an_object_the_source_keeps_whole_is_one_column_however_few_its_members() {
        let mut source = SourceSettings::plain("s", std::path::Path::new("s.jsonl"), crate::config::Format::Jsonl);
        source.keep_whole = vec!["a.by_id".to_owned(), "gone".to_owned()];
        let text = concat!(
            r#"{"id":1,"a":{"x":1,"by_id":{"r1":{"n":1}},"y":2}}"#,
            "\n",
            r#"{"id":2,"a":{"x":1,"by_id":"none","y":2}}"#,
            "\n"
        );
        let table = read(&source, text.as_bytes()).unwrap();
        assert_eq!(table.headers, ["id", "a.x", "a.by_id", "a.y"]);
        let cells: Vec<Vec<Cell>> = table
            .items
            .into_iter()
            .filter_map(|i| match i {
                ReadItem::Row(r) => Some(r.cells),
                _ => None,
            })
            .collect();
        assert_eq!(cells[0][2], Cell::Text(Str::from(r#"{"r1":{"n":1}}"#)));
        assert_eq!(cells[1][2], Cell::Text(Str::from("none")));
        let rows = JsonlRows::open(&source, &|| Ok(Box::new(text.as_bytes())), false).unwrap();
        assert!(rows.kept_whole.is_empty(), "named, not found: {:?}", rows.kept_whole);
        assert_eq!(rows.keep_whole_unmet, ["gone"], "a name no record holds is told");
    }
}
