//! What a file's first bytes say it is, whatever its name says: an export saved with no
//! extension or another one (`export`, `responses.dat`, `responses.gz`), a workbook renamed
//! `.csv`, or a web system's "Export to Excel" that is tab-separated text or an HTML page
//! named `.xls`. Found trying such files in the twenty-fourth session on issue 9: the first
//! two were "cannot tell the format from the extension", a workbook named `.csv` was read as
//! text (its header a line of binary noise in the error), and the last two were "not a
//! readable XLSX file: Cannot detect file format".

use std::io::Read;
use std::path::Path;

use crate::config::Format;

/// How many bytes are looked at (after gunzip when the file is gzip).
const HEAD: u64 = 8192;

/// What a file holds, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An Office Open XML or OpenDocument workbook (a zip), or an Excel 97–2003 file.
    Workbook,
    /// A zip archive that is not a workbook.
    Zip,
    /// Apache Parquet.
    Parquet,
    /// Text that starts as JSON does (`{` or `[`).
    Json,
    /// An HTML page.
    Html,
    /// Excel 2003's XML spreadsheet.
    XmlSpreadsheet,
    /// A PDF document.
    Pdf,
    /// Other text: delimited rows, presumably.
    Text,
    /// None of those.
    Binary,
}

/// The first bytes of `path`, gunzipped when they are gzip's.
///
/// # Errors
/// The file cannot be opened or read.
pub(crate) fn head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    std::fs::File::open(path)?.take(HEAD).read_to_end(&mut raw)?;
    if !raw.starts_with(&super::GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    let decoder = flate2::read::MultiGzDecoder::new(std::fs::File::open(path)?);
    // a damaged gzip gives what it could: the reader says what is wrong with it
    match decoder.take(HEAD).read_to_end(&mut out) {
        Err(_) if out.is_empty() => Ok(raw),
        _ => Ok(out),
    }
}

/// What `head` (a file's first bytes) is.
pub(crate) fn kind(head: &[u8]) -> Kind {
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    if head.starts_with(b"PK\x03\x04") {
        // a workbook's first entry: `[Content_Types].xml` (Excel, openpyxl), `mimetype`
        // (OpenDocument), or its parts under `xl/`
        let workbook = [&b"[Content_Types].xml"[..], b"mimetype", b"xl/"].iter().any(|n| contains(head, n));
        return if workbook { Kind::Workbook } else { Kind::Zip };
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Kind::Workbook;
    }
    if head.starts_with(b"PAR1") {
        return Kind::Parquet;
    }
    if head.starts_with(b"%PDF") {
        return Kind::Pdf;
    }
    // UTF-16 (Excel's "Unicode Text") is read as text by the CSV reader
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Kind::Text;
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).map_or(&text[..0], |i| &text[i..]);
    if start.starts_with(b"<") {
        let lower = start.to_ascii_lowercase();
        if contains(&lower, b"urn:schemas-microsoft-com:office:spreadsheet") {
            return Kind::XmlSpreadsheet;
        }
        if contains(&lower, b"<html") || contains(&lower, b"<table") || contains(&lower, b"<!doctype html") {
            return Kind::Html;
        }
    }
    if start.starts_with(b"{") || start.starts_with(b"[") {
        return Kind::Json;
    }
    // text holds few control characters; a stray NUL or two is a damaged row, not a binary file
    let controls = text.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)).count();
    if controls * 10 > text.len() {
        Kind::Binary
    } else {
        Kind::Text
    }
}

/// Why a file of this kind is not read, and what to do; `None` for the kinds that are read.
pub(crate) fn refusal(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Html => {
            "an HTML page, not rows a program can read (a web system's \"Export to Excel\" often writes one, named \
             .xls): open it in Excel and save it as .xlsx or CSV"
        }
        Kind::XmlSpreadsheet => "an Excel 2003 XML spreadsheet: open it in Excel and save it as .xlsx or CSV",
        Kind::Pdf => "a PDF document, not an export: export the data as CSV or Excel",
        Kind::Zip => "a zip archive, not a workbook: unzip it and give the files inside",
        Kind::Workbook | Kind::Parquet | Kind::Json | Kind::Text | Kind::Binary => return None,
    })
}

/// What a file named with a document's, an archive's or an image's extension is: not an
/// export, whatever its first bytes (a `.docx` is a zip, as a workbook is).
pub(crate) fn not_an_export(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "doc" | "docx" | "odt" | "rtf" | "pages" => {
            "a word-processor document, not an export: export the data as CSV or Excel"
        }
        "pdf" => "a PDF document, not an export: export the data as CSV or Excel",
        "ppt" | "pptx" | "odp" | "key" => "a presentation, not an export: export the data as CSV or Excel",
        "zip" | "7z" | "rar" | "tar" | "tgz" => "an archive: unpack it and give the files inside",
        "png" | "jpg" | "jpeg" | "gif" | "bmp" | "tif" | "tiff" | "heic" => {
            "an image, not an export: export the data as CSV or Excel"
        }
        "htm" | "html" => "an HTML page, not rows a program can read: open it in Excel and save it as .xlsx or CSV",
        _ => return None,
    })
}

/// The format of a file whose name does not tell it, from its first bytes; else why not.
pub(crate) fn format_of(kind: Kind) -> Result<Format, &'static str> {
    if let Some(why) = refusal(kind) {
        return Err(why);
    }
    match kind {
        Kind::Workbook => Ok(Format::Xlsx),
        Kind::Parquet => Ok(Format::Parquet),
        Kind::Json => Ok(Format::Jsonl),
        Kind::Text => Ok(Format::Csv),
        _ => Err("neither text (CSV, JSON) nor a workbook or Parquet file"),
    }
}

/// The format a file of `declared` format is read as, given its first bytes: a workbook or
/// Parquet file is read as one whatever its name, text named as a workbook is read as CSV;
/// with the warning saying so. Refused: what [`refusal`] names.
pub(crate) fn read_as(declared: Format, kind: Kind) -> Result<(Format, Option<&'static str>), &'static str> {
    if let Some(why) = refusal(kind) {
        return Err(why);
    }
    Ok(match (declared, kind) {
        (Format::Csv | Format::Jsonl, Kind::Workbook) => (Format::Xlsx, Some("a workbook under another name: read as one")),
        (Format::Csv | Format::Jsonl | Format::Xlsx, Kind::Parquet) => {
            (Format::Parquet, Some("a Parquet file under another name: read as one"))
        }
        (Format::Xlsx, Kind::Text) => (
            Format::Csv,
            Some("text, not a workbook (a web system's \"Export to Excel\" often writes tab-separated text named .xls): read as CSV"),
        ),
        _ => (declared, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_tell_the_kind() {
        let cases: [(&[u8], Kind); 14] = [
            (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml", Kind::Workbook),
            (b"PK\x03\x04\x14\x00\x00\x08\x00\x00mimetypeapplication/vnd.oasis", Kind::Workbook),
            (b"PK\x03\x04\x14\x00\x00\x08\x00\x00export-2026-11.csv", Kind::Zip),
            (&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0], Kind::Workbook),
            (b"PAR1\x15\x04", Kind::Parquet),
            (b"%PDF-1.7\n", Kind::Pdf),
            (b"\xEF\xBB\xBF  <!DOCTYPE HTML><html><body><table>", Kind::Html),
            (b"<table border=1><tr><th>Comment</th></tr>", Kind::Html),
            (
                b"<?xml version=\"1.0\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\">",
                Kind::XmlSpreadsheet,
            ),
            (b"\n[{\"id\": 1}]", Kind::Json),
            (b"{\"id\": 1}\n{\"id\": 2}\n", Kind::Json),
            (b"\xFF\xFEi\x00d\x00", Kind::Text),
            (b"id\tcomment\r\n1\tfine\x00\r\n", Kind::Text),
            (b"\x00\x01\x02\x03\x04\x05\x06\x07abc", Kind::Binary),
        ];
        for (bytes, want) in cases {
            assert_eq!(kind(bytes), want, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn a_name_gives_way_to_first_bytes_that_are_sure() {
        assert_eq!(read_as(Format::Csv, Kind::Workbook).unwrap().0, Format::Xlsx);
        assert_eq!(read_as(Format::Xlsx, Kind::Text).unwrap().0, Format::Csv);
        assert_eq!(read_as(Format::Jsonl, Kind::Parquet).unwrap().0, Format::Parquet);
        // text is read as its name says (a .csv starting with `[` stays CSV)
        assert_eq!(read_as(Format::Csv, Kind::Json).unwrap(), (Format::Csv, None));
        assert_eq!(read_as(Format::Jsonl, Kind::Text).unwrap(), (Format::Jsonl, None));
        // a damaged workbook is the workbook reader's to describe
        assert_eq!(read_as(Format::Xlsx, Kind::Binary).unwrap(), (Format::Xlsx, None));
        assert!(read_as(Format::Xlsx, Kind::Html).unwrap_err().contains("HTML page"));
        assert!(read_as(Format::Csv, Kind::Zip).unwrap_err().contains("unzip"));
        assert_eq!(format_of(Kind::Text), Ok(Format::Csv));
        assert!(format_of(Kind::Binary).is_err());
        assert!(not_an_export(Path::new("minutes.DOCX")).is_some_and(|w| w.contains("word-processor")));
        assert_eq!(not_an_export(Path::new("export.dat")), None);
        assert_eq!(not_an_export(Path::new("export")), None);
    }
}
