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
