//! Properties: no input makes a stage panic, and ingest's counts always reconcile.

use proptest::prelude::*;
use unheard::code::{Codebook, Coder};
use unheard::config::{Overrides, Settings, DEFAULT_CODEBOOK};
use unheard::record::Question;
use unheard::text::{Analyzer, Tokens};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn analyzer_and_coder_never_panic_and_spans_are_in_the_text(text in any::<String>()) {
        let mut tokens = Tokens::default();
        Analyzer::english().analyze(&text, &mut tokens);
        for i in 0..tokens.len() {
            let (s, e) = tokens.span(i);
            prop_assert!(s < e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e));
        }
        let book = Codebook::from_toml(DEFAULT_CODEBOOK, "builtin").unwrap();
        let chars = text.chars().count() as u32;
        for h in book.code(&text, Question::CouldImprove, &mut Coder::default()) {
            prop_assert!(h.span.0 < h.span.1 && h.span.1 <= chars);
            prop_assert!(h.hits >= 1);
        }
    }

    #[test]
    fn ingest_counts_reconcile_on_any_csv(rows in proptest::collection::vec(row(), 0..40), two_texts in any::<bool>()) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.csv");
        let mut csv = String::from("id,date,good,better,rating\n");
        for r in &rows {
            csv.push_str(r);
            csv.push('\n');
        }
        std::fs::write(&path, csv).unwrap();
        let pipeline = if two_texts {
            "[[source]]\npath = \"f.csv\"\n[source.columns]\nresponse_id = \"id\"\nreceived_date = \"date\"\n[[source.text]]\ncolumn = \"good\"\nquestion = \"what_good\"\n[[source.text]]\ncolumn = \"better\"\nquestion = \"could_improve\"\n"
        } else {
            "[[source]]\npath = \"f.csv\"\n[source.columns]\nrecord_id = \"id\"\nreceived_date = \"date\"\ntext = \"good\"\n"
        };
        let settings = Settings::from_toml(pipeline, &tmp.path().join("p.toml"), &Overrides::default()).unwrap();
        let got = unheard::ingest::ingest(&settings).unwrap();
        let s = &got.sources[0];
        prop_assert_eq!(s.rows_read, s.rows_kept + s.rows_quarantined + s.rows_dropped);
        prop_assert_eq!(s.text_cells, s.records + s.blank_text_cells + s.quarantined_text_cells);
        prop_assert_eq!(s.records as usize, got.records.len());
        prop_assert_eq!(s.rows_quarantined as usize, got.quarantine.len());
    }
}

/// A CSV line: sometimes well-formed, sometimes not (bad dates, blanks, quotes, wrong counts).
fn row() -> impl Strategy<Value = String> {
    let id = prop_oneof![Just(String::new()), "[A-Z][0-9]{1,3}"];
    let date =
        prop_oneof![Just("2025-01-31".to_owned()), Just("31/01/2025".to_owned()), Just(String::new()), "[0-9-]{0,10}"];
    let text = prop_oneof![
        Just(String::new()),
        Just("   ".to_owned()),
        "[a-zA-Z ,.!'é😊]{0,40}",
        Just("\"quoted, with comma\"".to_owned())
    ];
    let rating = prop_oneof![Just(String::new()), "[0-9]"];
    let extra = prop_oneof![4 => Just(String::new()), 1 => Just(",extra".to_owned())];
    (id, date, text.clone(), text, rating, extra).prop_map(|(i, d, g, b, r, x)| format!("{i},{d},{g},{b},{r}{x}"))
}

/// A valid workbook and Parquet file to mutate, so random bytes reach past the magic numbers.
fn seeds() -> (Vec<u8>, Vec<u8>) {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("s.csv");
    std::fs::write(&csv, crate::util::canonical_csv(12)).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in crate::util::canonical_csv(6).lines().enumerate() {
        for (c, v) in line.split(',').enumerate() {
            sheet.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    let xlsx = book.save_to_buffer().unwrap();
    let source = unheard::config::SourceSettings::plain("s", &csv, unheard::config::Format::Csv);
    let table = unheard::ingest::read_table(&source, &std::fs::read(&csv).unwrap()).unwrap();
    let cols: Vec<(String, arrow::array::ArrayRef)> = table
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let values: Vec<Option<String>> = table
                .items
                .iter()
                .map(|it| match it {
                    unheard::ingest::ReadItem::Row(r) => r.cells[i].to_text(),
                    _ => None,
                })
                .collect();
            (h.clone(), std::sync::Arc::new(arrow::array::StringArray::from(values)) as arrow::array::ArrayRef)
        })
        .collect();
    let batch = arrow::record_batch::RecordBatch::try_from_iter(cols).unwrap();
    let mut parquet = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut parquet, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    (xlsx, parquet)
}

fn read_as(format: unheard::config::Format, bytes: &[u8]) {
    let source = unheard::config::SourceSettings::plain("f", std::path::Path::new("f"), format);
    // an error is fine; a panic is not
    let _ = unheard::ingest::read_table(&source, bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_reader_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        use unheard::config::Format;
        for format in [Format::Csv, Format::Jsonl, Format::Parquet, Format::Xlsx] {
            read_as(format, &bytes);
        }
        let mut framed = b"PAR1".to_vec();
        framed.extend_from_slice(&bytes);
        framed.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        framed.extend_from_slice(b"PAR1");
        read_as(Format::Parquet, &framed);
    }

    #[test]
    fn no_reader_panics_on_mutated_files(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        use unheard::config::Format;
        thread_local!(static SEEDS: (Vec<u8>, Vec<u8>) = seeds());
        SEEDS.with(|(xlsx, parquet)| {
            for (format, seed) in [(Format::Xlsx, xlsx), (Format::Parquet, parquet)] {
                let mut bytes = seed.clone();
                for (at, b) in &flips {
                    let i = at.index(bytes.len());
                    bytes[i] = *b;
                }
                read_as(format, &bytes);
            }
        });
    }

    #[test]
    fn csv_rows_reconcile_with_any_quotes_encodings_and_line_endings(
        lines in proptest::collection::vec(messy_line(), 0..30),
        ends in proptest::collection::vec(prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..])], 30),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.csv");
        let mut csv = b"id,date,text,rating".to_vec();
        for (line, end) in lines.iter().zip(&ends) {
            csv.extend_from_slice(end);
            csv.extend_from_slice(line);
        }
        std::fs::write(&path, &csv).unwrap();
        let pipeline = "[[source]]\npath = \"f.csv\"\n[source.columns]\nrecord_id = \"id\"\nreceived_date = \"date\"\n";
        let settings = Settings::from_toml(pipeline, &tmp.path().join("p.toml"), &Overrides::default()).unwrap();
        let got = unheard::ingest::ingest(&settings).unwrap();
        let s = &got.sources[0];
        prop_assert_eq!(s.rows_read, s.rows_kept + s.rows_quarantined + s.rows_dropped);
        prop_assert_eq!(s.text_cells, s.records + s.blank_text_cells + s.quarantined_text_cells);
        prop_assert_eq!(s.rows_quarantined as usize, got.quarantine.len());
        // physical lines after the header, up to the last that is not blank
        let body = String::from_utf8_lossy(&csv["id,date,text,rating".len()..]).replace("\r\n", "\n").replace('\r', "\n");
        let mut physical: Vec<&str> = body.split('\n').skip(1).collect();
        while physical.last().is_some_and(|l| l.is_empty()) {
            physical.pop();
        }
        // with no quote anywhere, every line is a row of its own: nothing merged, nothing lost
        if !csv.contains(&b'"') {
            prop_assert_eq!(s.rows_read, physical.len() as u64);
            // dropped: blank lines, and rows of the header's width or more whose every field is
            // blank once control characters go (`,,,` as Excel writes; past the header's last
            // field, empty fields are passed over) — a narrower one is a malformed row
            let blank_field = |f: &str| f.chars().all(|c| c.is_whitespace() || c.is_control() || c == '\u{FFFD}');
            let blank_row = |l: &&&str| {
                let fields: Vec<&str> = l.split(',').collect();
                l.is_empty() || (fields.len() >= 4 && fields.iter().all(|f| blank_field(f)))
            };
            prop_assert_eq!(s.rows_dropped, physical.iter().filter(blank_row).count() as u64);
        }
        prop_assert!(s.rows_read <= physical.len() as u64);
        for r in &got.records {
            prop_assert!(!r.text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')));
            prop_assert!(!r.record_id.chars().any(char::is_control));
        }
    }
}

/// A CSV line (without its line end) of random fields: words in UTF-8 or Windows-1252 bytes,
/// quotes anywhere, control bytes, and sometimes the wrong number of fields.
fn messy_line() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => Just(b"kind staff".to_vec()),
        2 => Just("café – £".as_bytes().to_vec()),
        2 => Just(b"caf\xe9 \x96 \xa3".to_vec()),
        1 => Just(b"\x81".to_vec()),
        2 => Just(b"\"".to_vec()),
        1 => Just(b"\"\"".to_vec()),
        1 => Just(b"\x00\x1b".to_vec()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b",".to_vec()),
        2 => Just(b"2025-01-31".to_vec()),
        1 => Just(b"R1".to_vec()),
    ];
    let field = proptest::collection::vec(piece, 0..4).prop_map(|p| p.concat());
    proptest::collection::vec(field, 0..6).prop_map(|f| f.join(&b","[..]))
}
