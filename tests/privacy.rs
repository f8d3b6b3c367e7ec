//! Personal data planted in the input does not survive into any output; near misses do.

use std::fs::File;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::util::{parquet_files, unheard, HEADER};

const PII: [&str; 9] = [
    "943 476 5919",
    "9434765919",
    "07700 900123",
    "+44 7700 900456",
    "jo.bloggs@example.com",
    "SO14 0YN",
    "12/03/1956",
    "Smith",
    "Okafor",
];

/// Every column name and string value of every Parquet output, plus the text files.
fn all_text(out: &std::path::Path) -> String {
    let mut all = String::new();
    for path in parquet_files(out) {
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        for field in builder.schema().fields() {
            all.push_str(field.name());
            all.push('\n');
        }
        let reader = builder.build().unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for col in batch.columns() {
                if col.data_type() == &DataType::Utf8 {
                    let a = col.as_string::<i32>();
                    for i in 0..a.len() {
                        if !a.is_null(i) {
                            all.push_str(a.value(i));
                            all.push('\n');
                        }
                    }
                }
            }
        }
    }
    for f in ["manifest.json", "DATA_DICTIONARY.md", "report.html"] {
        all.push_str(&std::fs::read_to_string(out.join(f)).unwrap_or_default());
    }
    all
}

/// A PALS case saved under the patient's NHS number (found trying it): the file name was written
/// unredacted as `source` and `source_file` in every table, in the manifest (its inputs, settings
/// and warnings), the report and the state, while the messages redacted it. Now every name taken
/// from a path is written redacted, and the state keeps the canonical path as a digest; a second
/// night reads the same file as the same source.
#[test]
fn personal_data_in_a_file_name_is_redacted_wherever_it_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let rows = [
        "R1,P1,2025-01-02,could_improve,\"The wait was long\",4,,,,,,,,,,,,,",
        "R2,P2,bad-date,what_good,\"Kind staff\",1,,,,,,,,,,,,,",
    ];
    std::fs::write(d.join("pals 943 476 5919.csv"), format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    std::fs::copy(crate::util::project().join("data-samples/population-baseline.csv"), d.join("base 943 476 5919.csv"))
        .unwrap();
    let args = ["run", "--input", "pals 943 476 5919.csv", "--baseline", "base 943 476 5919.csv", "--out", "o", "-q"];
    let r = unheard(d, &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (out, state) = (d.join("o"), d.join("o.state"));
    let mut text = all_text(&out) + &all_text(&state);
    text.push_str(&std::fs::read_to_string(state.join("manifest.json")).unwrap());
    for pii in ["943 476 5919", "9434765919"] {
        assert!(!text.contains(pii), "{pii:?} survived into an output or the state");
    }
    assert!(text.contains("pals [NHS_NUMBER].csv") && text.contains("base [NHS_NUMBER].csv"), "named, redacted");
    let m = crate::util::manifest(&out);
    assert_eq!(m["inputs"][0]["name"], "pals [NHS_NUMBER]");
    let again = crate::util::manifest(&{
        assert_eq!(unheard(d, &args).code, 1);
        out
    });
    assert_eq!((again["state"]["unchanged"].as_u64(), again["state"]["new"].as_u64()), (Some(1), Some(0)));
}

/// An export whose header holds personal data (found trying it: a column headed by a patient's
/// NHS number, another by an email address — a sheet whose first record became its header):
/// values were redacted, but the headers were written as they were, as the carried columns'
/// names (`x_943_476_5919` in `records`, the manifest and the data dictionary), in the raw row
/// of a quarantined row and as a field issue's column. Now headers are written redacted
/// (`x_nhs_number`), and two names that are one once redacted (or two "Notes" columns) no longer
/// lose a value in the raw row's JSON object.
#[test]
fn personal_data_in_a_column_header_is_redacted_wherever_it_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let csv = "record_id,received_date,text,943 476 5919,jo.bloggs@example.com,Notes,Notes\n\
               1,2025-01-02,Lovely staff,a,b,first,second\n\
               2,2025-01-03,,a,b,first,second\n\
               3,2025-01-04,Long wait,a,ring 07700 900123,c,d\n\
               4,2025-01-04,Long wait,a,b\n";
    std::fs::write(d.join("h.csv"), csv).unwrap();
    let r = unheard(d, &["run", "--input", "h.csv", "--out", "o"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (out, state) = (d.join("o"), d.join("o.state"));
    let text = all_text(&out) + &all_text(&state) + &r.stderr + &r.stdout;
    for pii in ["943 476 5919", "943_476_5919", "jo.bloggs", "jo_bloggs", "07700 900123"] {
        assert!(!text.contains(pii), "{pii:?} survived into an output, the state or a message");
    }
    let m = crate::util::manifest(&out);
    assert_eq!(m["carried_columns"], serde_json::json!(["x_nhs_number", "x_email", "x_notes", "x_notes_2"]));
    let q = crate::util::table(&out.join("quarantine.parquet"));
    let raw: Vec<serde_json::Value> =
        crate::util::strings(&q, "raw").iter().map(|v| serde_json::from_str(v.as_deref().unwrap()).unwrap()).collect();
    let empty = raw.iter().find(|r| r["record_id"] == "2").expect("the empty text's row");
    assert_eq!((&empty["Notes"], &empty["Notes (2)"]), (&serde_json::json!("first"), &serde_json::json!("second")));
    assert_eq!((&empty["[NHS_NUMBER]"], &empty["[EMAIL]"]), (&serde_json::json!("a"), &serde_json::json!("b")));
    let f = crate::util::table(&out.join("field_issues.parquet"));
    assert_eq!(crate::util::strings(&f, "source_column"), vec![Some("[EMAIL]".to_owned())], "the redacted value's");
}

/// A survey tool's export (SurveyMonkey's `First Name`, `Last Name`, `Email Address`, `IP
/// Address`; a complaints export's `Date of Birth`, `Address`) ran through its drafted pipeline
/// and published "Jane", "Doe", the IP address and the address in `records` as carried columns,
/// untouched: a whole value that is a name holds no title for redaction to find (found trying one
/// in the fourteenth session on issue 9). A column whose header names personal data about the
/// respondent is not carried; the quarantine's raw row shows `[WITHHELD]` for its values; the
/// manifest lists it and the run says so once.
#[test]
fn columns_a_survey_tool_names_as_personal_data_are_not_carried() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let csv = "Respondent ID,Start Date,IP Address,Email Address,First Name,Last Name,Patient's address,D.O.B.,\
               Custom Data 1,What was good about your experience?,Name of ward\n\
               114226001,01/03/2025 09:12:44,81.2.69.160,jane.doe@example.com,Jane,Doe,12 Acacia Avenue,12/03/1956,\
               cohort A,The nurse was kind,Acacia Ward\n\
               114226002,bad date,81.2.69.161,,Tobias,Quennell,3 Larch Close,04/11/1948,cohort B,Quick,Larch Ward\n";
    std::fs::write(d.join("sm.csv"), csv).unwrap();
    std::fs::write(
        d.join("p.toml"),
        "[[source]]\npath = \"sm.csv\"\ndate_format = \"%d/%m/%Y\"\n[source.columns]\nresponse_id = \"Respondent ID\"\n\
         received_date = \"Start Date\"\n[[source.text]]\ncolumn = \"What was good about your experience?\"\n\
         question = \"what_good\"\n",
    )
    .unwrap();
    let r = unheard(d, &["run", "p.toml", "--out", "o"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (out, state) = (d.join("o"), d.join("o.state"));
    let text = all_text(&out) + &all_text(&state) + &r.stderr + &r.stdout;
    for pii in ["Jane", "Doe", "81.2.69.16", "Acacia Avenue", "1956", "Tobias", "Quennell", "Larch Close", "1948"] {
        assert!(!text.contains(pii), "{pii:?} survived into an output, the state or a message");
    }
    let m = crate::util::manifest(&out);
    assert_eq!(m["carried_columns"], serde_json::json!(["x_custom_data_1", "x_name_of_ward"]), "the others carried");
    assert_eq!(
        m["inputs"][0]["columns_withheld"],
        serde_json::json!(["IP Address", "Email Address", "First Name", "Last Name", "Patient's address", "D.O.B."])
    );
    assert!(r.stderr.contains("6 columns name personal data about the respondent"), "said once: {}", r.stderr);
    let q = crate::util::table(&out.join("quarantine.parquet"));
    let raw: Vec<serde_json::Value> =
        crate::util::strings(&q, "raw").iter().map(|v| serde_json::from_str(v.as_deref().unwrap()).unwrap()).collect();
    assert_eq!(raw.len(), 1, "the bad date's row");
    assert_eq!(
        (&raw[0]["First Name"], &raw[0]["Email Address"]),
        (&serde_json::json!("[WITHHELD]"), &serde_json::json!(""))
    );
    assert_eq!(raw[0]["Name of ward"], "Larch Ward", "a column that only mentions a name is carried, and kept");
    // columns the pipeline lists as known are withheld unsaid (found: a nightly export's columns
    // warned every night, sixteenth session on issue 9); one it does not list is still said
    let toml = std::fs::read_to_string(d.join("p.toml")).unwrap();
    let known =
        "withheld = [\"IP Address\", \"email address\", \"First Name\", \"Last Name\", \"Patient's address\"]\n";
    std::fs::write(d.join("p.toml"), toml.replacen("date_format", &format!("{known}date_format"), 1)).unwrap();
    let r = unheard(d, &["run", "p.toml", "--out", "o2", "--no-state"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("a column names personal data") && r.stderr.contains("\"D.O.B.\""), "{}", r.stderr);
    assert!(!r.stderr.contains("First Name"), "the known columns are not said: {}", r.stderr);
    let all = known.replace("]", ", \"D.O.B.\"]");
    std::fs::write(d.join("p.toml"), toml.replacen("date_format", &format!("{all}date_format"), 1)).unwrap();
    let r = unheard(d, &["run", "p.toml", "--out", "o3", "--no-state"]);
    assert!(!r.stderr.contains("personal data about the respondent"), "{}", r.stderr);
    let m = crate::util::manifest(&d.join("o3"));
    assert_eq!(m["inputs"][0]["columns_withheld"].as_array().map(Vec::len), Some(6), "still withheld, and listed");
}

/// A state kept by a binary from before headers were redacted names such a column by its
/// header, keyed (`x_943_476_5919`). The next night refuses it (its carried columns differ from
/// this run's redacted ones, as README says), and the refusal listed the old name as it was:
/// keyed, the number no longer reads as one to the message's redaction (found trying it).
#[test]
fn a_state_naming_a_column_by_personal_data_is_refused_without_showing_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let csv = "record_id,received_date,text,943 476 5919\n1,2025-01-02,Lovely staff,a\n";
    std::fs::write(d.join("h.csv"), csv).unwrap();
    let first = unheard(d, &["run", "--input", "h.csv", "--out", "o"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // the state as the earlier binary kept it
    let path = d.join("o.state").join("manifest.json");
    let kept = std::fs::read_to_string(&path).unwrap();
    assert!(kept.contains("\"x_nhs_number\""), "{kept}");
    std::fs::write(&path, kept.replace("\"x_nhs_number\"", "\"x_943_476_5919\"")).unwrap();
    let r = unheard(d, &["run", "--input", "h.csv", "--out", "o"]);
    assert_eq!(r.code, 2, "refused: {}", r.stderr);
    assert!(r.stderr.contains("carried columns [x_[NHS_NUMBER]]"), "{}", r.stderr);
    assert!(!r.stderr.contains("943") && !r.stderr.contains("5919"), "{}", r.stderr);
}

#[test]
fn planted_personal_data_is_redacted_everywhere_and_near_misses_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [
        "R1,P1,2025-01-02,could_improve,\"My NHS number is 943 476 5919, call me on 07700 900123\",4,,,,,,,,,,,,,",
        "R2,P2,2025-01-02,what_good,\"Dr Smith and Nurse Okafor were lovely, email jo.bloggs@example.com\",1,,,,,,,,,,,,,",
        "R3,P3,2025-01-02,could_improve,\"I live at SO14 0YN, DOB 12/03/1956, ring +44 7700 900456\",5,,,,,,,,,,,,,",
        "R4,P4,2025-01-02,could_improve,\"Reference 9434765918 was lost and I waited 3 hours at 10:30\",5,,,,,,,,,,,,,",
        // a quarantined row (bad date) keeps its raw fields: they are redacted too
        "R5,P5,not-a-date,could_improve,\"Ring 9434765919 about it\",5,,,,,,,,,,,,,",
    ];
    std::fs::write(tmp.path().join("f.csv"), format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let text = all_text(&out);
    for pii in PII {
        assert!(!text.contains(pii), "{pii:?} survived into an output");
    }
    for placeholder in ["[NHS_NUMBER]", "[PHONE]", "[EMAIL]", "[POSTCODE]", "[DOB]", "Dr [NAME]", "Nurse [NAME]"] {
        assert!(text.contains(placeholder), "{placeholder} is in the outputs");
    }
    assert!(
        text.contains("Reference 9434765918 was lost and I waited 3 hours at 10:30"),
        "a number failing the NHS check digit, times and counts stay"
    );
    let m = crate::util::manifest(&out);
    assert_eq!(m["coding"]["redactions"]["nhs_number"], 1);
    assert_eq!(m["coding"]["redactions"]["phone"], 2);
    assert_eq!(m["coding"]["quarantine_redactions"]["nhs_number"], 1);
}

#[test]
fn keep_original_text_writes_the_original_beside_the_redacted() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("f.csv"),
        format!("{HEADER}\nR1,P1,2025-01-02,could_improve,call 07700 900123,4,,,,,,,,,,,,,\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("p.toml"),
        "[run]\nkeep_original_text = true\nout = \"o\"\n[[source]]\npath = \"f.csv\"\n",
    )
    .unwrap();
    assert_eq!(unheard(tmp.path(), &["run", "p.toml", "-q"]).code, 0);
    let text = all_text(&tmp.path().join("o"));
    assert!(text.contains("call [PHONE]") && text.contains("call 07700 900123"));
}

#[test]
fn explain_shows_contrast_negation_redaction_and_non_informative_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let r = unheard(
        tmp.path(),
        &["explain", "Lovely staff but the wait was awful, ring 07700 900123", "--question", "what_good"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = &r.stdout;
    assert!(o.contains("text: Lovely staff but the wait was awful, ring [PHONE]"), "{o}");
    assert!(o.contains("redactions: [PHONE]"), "{o}");
    assert!(o.contains("record: mixed"), "{o}");
    let block = |code: &str| {
        let lines: Vec<&str> = o.lines().collect();
        let at =
            lines.iter().position(|l| l.starts_with(&format!("  {code} "))).unwrap_or_else(|| panic!("{code} in {o}"));
        lines[at..(at + 3).min(lines.len())].join("\n")
    };
    assert!(block("STF01").contains("polarity positive") && block("STF01").contains("not a concern"), "{o}");
    assert!(block("ACC04").contains("polarity negative") && block("ACC04").contains("a concern"), "{o}");

    let r = unheard(tmp.path(), &["explain", "The receptionist was not rude at all"]);
    assert!(r.stdout.contains("polarity positive"), "negation: {}", r.stdout);

    let r = unheard(tmp.path(), &["explain", "Nothing", "--question", "could_improve"]);
    assert!(
        r.stdout.contains("reads as satisfied")
            && r.stdout.contains("record: positive")
            && !r.stdout.contains("; a concern"),
        "{}",
        r.stdout
    );
    let r = unheard(tmp.path(), &["explain", "Nothing", "--question", "what_good"]);
    assert!(r.stdout.contains("reads as dissatisfied") && r.stdout.contains("record: negative"), "{}", r.stdout);
    // a rating outside the FFT's 1-6 is refused, not explained as a prior (it was: "rating: 9")
    let r = unheard(tmp.path(), &["explain", "ok", "--rating", "9"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("--rating") && r.stderr.contains("1..=6"), "{}", r.stderr);
}

#[test]
fn explain_a_record_of_a_past_run() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("f.csv"),
        format!("{HEADER}\nR1,P1,2025-01-02,could_improve,Parking was impossible,4,,,,,,,,,,,,,\n"),
    )
    .unwrap();
    assert_eq!(unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "-q"]).code, 0);
    let r = unheard(tmp.path(), &["explain", "--record", "R1", "--run", "o"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("question: could_improve   rating: 4") && r.stdout.contains("LOC03"), "{}", r.stdout);
    let missing = unheard(tmp.path(), &["explain", "--record", "nope", "--run", "o"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("record \"nope\" is not in"), "{}", missing.stderr);
}

/// `explain --record --run` as a user meets it later: from another folder, with the codebook
/// edited since, over a folder another tool re-saved. The manifest names the run's codebook as
/// the run was given it (relative to where it started): from elsewhere it failed as "cannot
/// read codebook" at "line 1"; an edited codebook explained today's codes as the run's; and
/// records re-saved with large strings (polars writes them) panicked.
#[test]
fn explain_a_record_from_elsewhere_after_the_codebook_changed_and_the_records_were_resaved() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("books/later")).unwrap();
    let builtin =
        std::fs::read_to_string(crate::util::project().join("pipelines/codebooks/nhs-patient-experience.toml"))
            .unwrap();
    // the trust's own codebook: the built-in one under another version
    let own = builtin.replacen("version = \"1\"", "version = \"trust-2\"", 1);
    assert_ne!(own, builtin);
    std::fs::write(dir.join("books/own.toml"), &own).unwrap();
    std::fs::write(dir.join("p.toml"), "[codebook]\npath = \"books/own.toml\"\n[[source]]\npath = \"f.csv\"\n")
        .unwrap();
    std::fs::write(
        dir.join("f.csv"),
        format!("{HEADER}\nR1,P1,2025-01-02,could_improve,Parking was impossible,4,,,,,,,,,,,,,\n"),
    )
    .unwrap();
    assert_eq!(unheard(dir, &["run", "p.toml", "--out", "o", "-q", "--no-state"]).code, 0);
    let here = unheard(dir, &["explain", "--record", "R1", "--run", "o"]);
    assert_eq!((here.code, here.stderr.as_str()), (0, ""), "where the run started");
    assert!(here.stdout.contains("LOC03"), "{}", here.stdout);

    // from another folder: told where the codebook was named from, and what to do
    let later = dir.join("books/later");
    let away = unheard(&later, &["explain", "--record", "R1", "--run", "../../o"]);
    assert_eq!(away.code, 2, "{}", away.stdout);
    assert!(
        away.stderr.contains("the run's codebook books/own.toml is not found from here")
            && away.stderr.contains("give --codebook")
            && !away.stderr.contains("line 1"),
        "{}",
        away.stderr
    );
    let given = unheard(&later, &["explain", "--record", "R1", "--run", "../../o", "--codebook", "../own.toml"]);
    assert_eq!((given.code, given.stdout.as_str()), (0, here.stdout.as_str()), "{}", given.stderr);

    // the codebook edited since the run: explained, with a warning that it is today's
    std::fs::write(dir.join("books/own.toml"), format!("{own}\n# edited\n")).unwrap();
    let edited = unheard(dir, &["explain", "--record", "R1", "--run", "o"]);
    assert_eq!(edited.code, 0, "{}", edited.stderr);
    assert!(edited.stderr.contains("books/own.toml has changed since the run (sha256 "), "{}", edited.stderr);
    assert!(edited.stderr.contains("these codes are of the codebook as it is now"), "{}", edited.stderr);
    std::fs::write(dir.join("books/own.toml"), &own).unwrap();

    // the records re-saved by another tool: large strings, 64-bit ratings
    for path in crate::util::parquet_files(&dir.join("o/records")) {
        crate::util::resave_wider(&path);
    }
    let resaved = unheard(dir, &["explain", "--record", "R1", "--run", "o"]);
    assert_eq!((resaved.code, resaved.stdout.as_str()), (0, here.stdout.as_str()), "{}", resaved.stderr);
}

/// Personal data in what the user types or names beside the inputs — `--out` and `--state`
/// paths, a change's name, `--carry`'s headers, a workbook's other sheets — was written as given
/// in the manifest (its settings and warnings), in `comparisons` and in the report, while the
/// terminal redacted it (found in the twenty-fourth session on issue 9). Now written redacted
/// wherever it is written.
#[test]
fn personal_data_in_flags_and_sheet_names_is_redacted_wherever_it_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut book = rust_xlsxwriter::Workbook::new();
    let first = book.add_worksheet();
    first.set_name("Responses").unwrap();
    for (c, h) in ["record_id", "received_date", "text", "rating"].iter().enumerate() {
        first.write_string(0, c as u16, *h).unwrap();
    }
    for r in 0..40u32 {
        let date = if r < 20 { "2025-01-05" } else { "2025-02-05" };
        for (c, v) in [format!("R{r}"), date.to_owned(), "The nurse was kind".to_owned()].iter().enumerate() {
            first.write_string(r + 1, c as u16, v).unwrap();
        }
        first.write_number(r + 1, 3, 1.0).unwrap();
    }
    for name in ["Mrs Okafor complaint", "07700 900123"] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            sheet.write_string(r, c, "x").unwrap();
        }
    }
    book.save(d.join("f.xlsx")).unwrap();
    let args = [
        "run",
        "--input",
        "f.xlsx",
        "--out",
        "o jo.bloggs@example.com",
        "--state",
        "st 943 476 5919",
        "--change",
        "Dr Smith left=2025-02-01",
        "--carry",
        "Mrs Okafor notes",
    ];
    let r = unheard(d, &args);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let (out, state) = (d.join("o jo.bloggs@example.com"), d.join("st 943 476 5919"));
    let text = all_text(&out) + &all_text(&state) + &r.stderr;
    assert!(text.contains("Dr [NAME] left") && text.contains("o [EMAIL]"), "the names are written, redacted");
    for pii in ["jo.bloggs", "943 476 5919", "Smith", "Okafor", "07700 900123"] {
        assert!(!text.contains(pii), "{pii:?} survived into an output, the state or a message");
    }
}

/// The report showed the field issues' exact counts: with one dimension's values unmapped, their
/// count was the size of its `unmapped` group, which `theme_by_group` suppresses (found by an
/// attack in the twenty-fourth session on issue 9). Shown under the disclosure rule now.
#[test]
fn the_report_shows_field_issues_under_disclosure_control() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut csv = format!("{HEADER}\n");
    for i in 0..60 {
        let ethnicity = if i < 3 { "Klingon" } else { "White British" };
        csv.push_str(&format!(
            "R{i},P{i},2025-03-{:02},what_good,The nurse was kind,1,Trust,Dir,Team,Female,,25-34,{ethnicity},,No,,,3,\n",
            1 + i % 28
        ));
    }
    std::fs::write(d.join("f.csv"), csv).unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "o", "--no-state", "-q"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let m = crate::util::manifest(&d.join("o"));
    assert_eq!(m["counts"]["field_issues"], 3, "three unmapped values: {}", m["counts"]);
    let page = std::fs::read_to_string(d.join("o/report.html")).unwrap();
    assert!(page.contains("1 to 7 fields could not be used"), "the total under the rule");
    assert!(page.contains("<td>unmapped_value</td><td>1 to 7</td>"), "each reason under the rule");
    assert!(!page.contains("<td>unmapped_value</td><td>3</td>") && !page.contains("; 3 fields"), "no exact count");
}

/// Names a user types into a pipeline, a codebook, a baseline or a flag are written out: the
/// run's name (from the pipeline's file name), a source's, a theme's name and category, a
/// mapped group, a baseline's name and group, a question value, and a value clap refuses. Each
/// was written as typed (in `records`, every table naming a theme or group, the manifest, the
/// report, the summary, stderr), found by a reader in the twenty-sixth session on issue 9.
#[test]
fn names_typed_into_a_pipeline_codebook_baseline_or_flag_are_redacted_wherever_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut csv = "record_id,received_date,text,community_group\n".to_owned();
    for i in 0..40 {
        let who = if i % 2 == 0 { "A" } else { "Walkers" };
        csv.push_str(&format!("R{i},2025-03-{:02},The nurse was kind,{who}\n", 1 + i % 28));
    }
    std::fs::write(d.join("a.csv"), csv).unwrap();
    std::fs::write(
        d.join("base.csv"),
        "dimension,group,population\ncommunity_group,Club of Mrs Ethmap 07700 900321,100\ncommunity_group,Walkers,900\n",
    )
    .unwrap();
    std::fs::write(
        d.join("cb.toml"),
        "[codebook]\nname = \"book of Dr Bookley\"\nversion = \"1\"\n[[theme]]\ncode = \"A01\"\n\
         name = \"Care by Dr Themeworth\"\ncategory = \"Sister Catterall 943 476 5919\"\nterms = [\"nurse\"]\n",
    )
    .unwrap();
    let pipeline = "pals Dr Quixworth 943 476 5919.toml";
    std::fs::write(
        d.join(pipeline),
        "[run]\nout = \"o\"\ndimensions = [\"community_group\"]\n[codebook]\npath = \"cb.toml\"\n[[source]]\nname = \"pals Mrs Sourceby\"\npath = \"a.csv\"\n\
         [[baseline]]\nname = \"Mr Baseley\"\npath = \"base.csv\"\n[people.map.community_group]\n\
         \"A\" = \"Club of Mrs Ethmap 07700 900321\"\n",
    )
    .unwrap();
    let r = unheard(d, &["run", pipeline, "--json", "--question", "Dr Questor=could_improve"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let text = all_text(&d.join("o")) + &all_text(&d.join("o.state")) + &r.stderr + &r.stdout;
    assert!(text.contains("Club of Mrs [NAME] [PHONE]"), "the group is published, redacted");
    let representation = crate::util::table(&d.join("o/representation.parquet"));
    let groups = crate::util::strings(&representation, "group_name");
    assert!(
        groups.contains(&Some("Club of Mrs [NAME] [PHONE]".to_owned())),
        "the map and the baseline agree: {groups:?}"
    );
    for pii in [
        "Quixworth",
        "943 476 5919",
        "Sourceby",
        "Themeworth",
        "Catterall",
        "Ethmap",
        "07700 900321",
        "Baseley",
        "Bookley",
        "Questor",
    ] {
        assert!(!text.contains(pii), "{pii:?} was written");
    }
    let r = unheard(d, &["run", "--input", "a.csv", "--threads", "Dr Threadly 943 476 5919"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Dr [NAME] [NHS_NUMBER]") && !r.stderr.contains("Threadly"), "{}", r.stderr);
}
