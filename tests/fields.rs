//! A bad optional field costs that field, not the comment: `field_issues.parquet`,
//! `[source.on_invalid]`, the date window and exit code 1.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::Command;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::util::{manifest, parquet_files, project, unheard, Run};

type Row = BTreeMap<String, Option<String>>;

/// Every row of a Parquet file (or of every file under a folder), each value cast to text.
fn rows(path: &Path) -> Vec<Row> {
    let files = if path.is_dir() { parquet_files(path) } else { vec![path.to_path_buf()] };
    let mut out = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap()).unwrap().build().unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let schema = batch.schema();
            let cols: Vec<_> =
                batch.columns().iter().map(|c| arrow::compute::cast(c, &DataType::Utf8).unwrap()).collect();
            for i in 0..batch.num_rows() {
                out.push(
                    schema
                        .fields()
                        .iter()
                        .zip(&cols)
                        .map(|(field, c)| {
                            let a = c.as_string::<i32>();
                            (field.name().clone(), (!a.is_null(i)).then(|| a.value(i).to_owned()))
                        })
                        .collect(),
                );
            }
        }
    }
    out
}

fn get<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row.get(col).unwrap_or_else(|| panic!("no column {col} in {row:?}")).as_deref()
}

const TWO_TEXTS: &str = "[run]\nout = \"o\"\n[[source]]\npath = \"f.csv\"\n[source.columns]\nresponse_id = \"response_id\"\n[[source.text]]\ncolumn = \"what_good\"\nquestion = \"what_good\"\n[[source.text]]\ncolumn = \"could_improve\"\nquestion = \"could_improve\"\n";

const FFT: &str = "response_id,received_date,rating,what_good,could_improve\nP1,2025-03-01,7,Kind nurses,Shorter waits please\nP2,2025-03-02,2,Clean ward,Better food\n";

fn run(dir: &Path, csv: &str, pipeline: &str) -> Run {
    std::fs::write(dir.join("f.csv"), csv).unwrap();
    std::fs::write(dir.join("p.toml"), pipeline).unwrap();
    unheard(dir, &["run", "p.toml"])
}

#[test]
fn rating_off_the_scale_keeps_both_comments_and_writes_a_field_issue() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(tmp.path(), FFT, TWO_TEXTS);
    assert_eq!(r.code, 1, "a field issue is exit 1: {}", r.stderr);
    let out = tmp.path().join("o");
    let c = &manifest(&out)["counts"];
    assert_eq!((c["records"].as_u64(), c["rows_quarantined"].as_u64()), (Some(4), Some(0)), "{c}");
    assert_eq!(c["field_issues"], 1);
    assert_eq!(c["field_issues_by_reason"]["invalid_rating"], 1);
    let p1: Vec<Row> = rows(&out.join("records")).into_iter().filter(|r| get(r, "response_id") == Some("P1")).collect();
    assert_eq!(p1.len(), 2, "both comments of the response are kept");
    assert!(p1.iter().all(|r| get(r, "rating").is_none()), "the rating is null: {p1:?}");
    let issues = rows(&out.join("field_issues.parquet"));
    assert_eq!(issues.len(), 1);
    let f = &issues[0];
    for (col, want) in [
        ("source", "f"),
        ("source_file", "f.csv"),
        ("source_row", "2"),
        ("source_column", "rating"),
        ("field", "rating"),
        ("reason", "invalid_rating"),
        ("action", "null"),
        ("raw_value", "7"),
        ("response_id", "P1"),
    ] {
        assert_eq!(get(f, col), Some(want), "{col} in {f:?}");
    }
    assert!(get(f, "message").is_some_and(|m| m.contains("f.csv: row 2: column \"rating\"")), "{f:?}");
    let dict = std::fs::read_to_string(out.join("DATA_DICTIONARY.md")).unwrap();
    assert!(dict.contains("## `field_issues`") && dict.contains("| `reason` | string |"), "{dict}");

    // readers that are not the writer
    let script = project().join("tests/read_outputs.py");
    let py = Command::new("python3").arg(&script).arg(&out).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&py.stdout);
    assert!(py.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&py.stderr));
    assert!(stdout.contains("field_issues: 1 rows"), "{stdout}");
}

#[test]
fn on_invalid_chooses_per_field_and_unknown_keys_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(tmp.path(), FFT, &format!("{TWO_TEXTS}[source.on_invalid]\nrating = \"quarantine\"\n"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let c = &manifest(&tmp.path().join("o"))["counts"];
    assert_eq!((c["records"].as_u64(), c["rows_quarantined"].as_u64()), (Some(2), Some(1)), "{c}");
    assert_eq!(c["quarantine_by_reason"]["invalid_rating"], 1);
    assert_eq!(c["field_issues"], 0);

    // an unreadable date quarantines by default; `received_date = "null"` keeps the record
    let bad_date = "response_id,received_date,rating,what_good,could_improve\nP1,31/02/2025,1,Kind nurses,\n";
    let r = run(tmp.path(), bad_date, TWO_TEXTS);
    assert_eq!(r.code, 1);
    assert_eq!(manifest(&tmp.path().join("o"))["counts"]["quarantine_by_reason"]["invalid_date"], 1);
    let r = run(tmp.path(), bad_date, &format!("{TWO_TEXTS}[source.on_invalid]\nreceived_date = \"null\"\n"));
    assert_eq!(r.code, 1);
    let out = tmp.path().join("o");
    let c = &manifest(&out)["counts"];
    assert_eq!((c["records"].as_u64(), c["rows_quarantined"].as_u64()), (Some(1), Some(0)), "{c}");
    assert_eq!(c["field_issues_by_reason"]["invalid_date"], 1);
    assert!(out.join("records/month=unknown").is_dir(), "the record is kept without a date");

    for (line, want) in
        [("text = \"null\"", "source.on_invalid.text"), ("rating = \"drop\"", "source.on_invalid.rating")]
    {
        let r = run(tmp.path(), FFT, &format!("{TWO_TEXTS}[source.on_invalid]\n{line}\n"));
        assert_eq!(r.code, 2, "{line}: {}", r.stderr);
        assert!(r.stderr.contains(&format!("p.toml: line 14: key `{want}`")), "{line}: {}", r.stderr);
    }
    let r = run(tmp.path(), FFT, &format!("{TWO_TEXTS}[source.on_invalid]\nratng = \"null\"\n"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ratng"), "{}", r.stderr);
}

/// An export whose dates are in another format than the source's (found trying Excel serials,
/// `01/13/2025` and `5 Jan 2025` with `--input`): four rows in five quarantined, the run's only
/// word on it the quarantine's count. Now one warning for the source, on stderr and in the
/// manifest, names the format and what to do; `--date-format` reads them; a stray bad date
/// (under 1 row in 20, or a single one) is no warning.
#[test]
fn dates_in_another_format_are_one_warning_and_date_format_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let csv = |dates: &[&str]| {
        let mut s = "record_id,received_date,text\n".to_owned();
        for (i, date) in dates.iter().enumerate() {
            s.push_str(&format!("A{i},{date},The nurse was kind\n"));
        }
        s
    };
    std::fs::write(d.join("f.csv"), csv(&["45658", "45659.5", "13/01/2025", "2025-01-05", "14/01/2025"])).unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "o", "--no-state"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let said =
        "4 of 5 rows quarantined because their date does not match the date format \"%Y-%m-%d\" (the first at row 2)";
    assert!(r.stderr.contains(said) && r.stderr.contains("--date-format"), "{}", r.stderr);
    let m = manifest(&d.join("o"));
    assert!(m["inputs"][0]["warnings"][0].as_str().unwrap().contains(said), "{}", m["inputs"][0]);
    // and in the report, which an insight lead reads rather than stderr
    let page = std::fs::read_to_string(d.join("o/report.html")).unwrap();
    assert!(
        page.contains("4 of 5 rows quarantined because their date does not match the date format"),
        "the report says it"
    );
    let r = unheard(
        d,
        &["run", "--input", "f.csv", "--out", "o", "--no-state", "--date-format", "excel|%d/%m/%Y|%Y-%m-%d"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&d.join("o"));
    assert_eq!(m["counts"]["records"], 5);
    assert!(m["inputs"][0].get("warnings").is_none(), "{}", m["inputs"][0]);
    assert!(!std::fs::read_to_string(d.join("o/report.html")).unwrap().contains("with care"));
    let bad = unheard(d, &["run", "--input", "f.csv", "--out", "o", "--date-format", "dd/mm/yyyy"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("is not a date format"), "{}", bad.stderr);
    // two bad dates in 41 rows (under 1 in 20), or one in 11 (a stray one), are quarantined
    // rows, not a warning
    let mut dates = vec!["2025-01-02"; 41];
    (dates[7], dates[30]) = ("45658", "45659");
    std::fs::write(d.join("f.csv"), csv(&dates)).unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "o", "--no-state"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let mut dates = vec!["2025-01-02"; 11];
    dates[7] = "45658";
    std::fs::write(d.join("f.csv"), csv(&dates)).unwrap();
    let r = unheard(d, &["run", "--input", "f.csv", "--out", "o", "--no-state"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    assert_eq!(manifest(&d.join("o"))["counts"]["quarantine_by_reason"]["invalid_date"], 1);
    // JSON numbers as YYYYMMDD (found trying it: quarantined whatever `--date-format` said, a
    // number being read only as an Excel serial)
    let jsonl: String = ["20250104", "20250105", "\"2025-01-06\"", "20250107"]
        .iter()
        .enumerate()
        .map(|(i, date)| {
            format!("{{\"record_id\": {i}, \"received_date\": {date}, \"text\": \"The nurse was kind\"}}\n")
        })
        .collect();
    std::fs::write(d.join("f.jsonl"), jsonl).unwrap();
    let r = unheard(d, &["run", "--input", "f.jsonl", "--out", "o", "--no-state"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(manifest(&d.join("o"))["counts"]["quarantine_by_reason"]["invalid_date"], 3);
    let r = unheard(d, &["run", "--input", "f.jsonl", "--out", "o", "--no-state", "--date-format", "%Y%m%d|%Y-%m-%d"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(manifest(&d.join("o"))["counts"]["records"], 4);
}

#[test]
fn dates_outside_the_window_are_field_issues() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = "response_id,received_date,rating,what_good,could_improve\nP1,1999-12-31,1,Kind nurses,\nP2,2025-01-01,1,Kind nurses,\nP3,2999-01-01,1,Kind nurses,\n";
    let issues_of = |pipeline: &str| {
        let r = run(tmp.path(), csv, pipeline);
        let out = tmp.path().join("o");
        let c = manifest(&out)["counts"].clone();
        assert_eq!((c["records"].as_u64(), c["rows_quarantined"].as_u64()), (Some(3), Some(0)), "{c}");
        let rows: Vec<String> = rows(&out.join("field_issues.parquet"))
            .iter()
            .map(|f| {
                assert_eq!(get(f, "reason"), Some("date_out_of_window"));
                get(f, "response_id").unwrap().to_owned()
            })
            .collect();
        (r.code, rows)
    };
    assert_eq!(issues_of(TWO_TEXTS), (1, vec!["P1".to_owned(), "P3".to_owned()]), "default 2000-01-01 to tomorrow");
    let run_window = TWO_TEXTS.replace("[run]\n", "[run]\ndate_window = [\"2025-01-01\", \"2025-01-01\"]\n");
    assert_eq!(issues_of(&run_window).1, ["P1", "P3"]);
    let own =
        run_window.replace("path = \"f.csv\"\n", "path = \"f.csv\"\ndate_window = [\"1990-01-01\", \"tomorrow\"]\n");
    assert_eq!(issues_of(&own).1, ["P3"], "a source's own window wins");
    let with = |w: &str| TWO_TEXTS.replace("[run]\n", &format!("[run]\ndate_window = {w}\n"));
    assert_eq!(issues_of(&with("[\"1990-01-01\", \"3000-01-01\"]")), (0, vec![]), "no issue: exit 0");
    for bad in ["[\"2025-02-01\", \"2025-01-01\"]", "[\"yesterday\", \"today\"]", "[\"2000-01-01\"]"] {
        let r = run(tmp.path(), csv, &with(bad));
        assert_eq!(r.code, 2, "{bad}");
        assert!(r.stderr.contains("line 2: key `run.date_window`"), "{bad}: {}", r.stderr);
    }
}

#[test]
fn field_issues_alone_give_exit_1_and_the_summary_counts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = "response_id,received_date,rating,what_good,could_improve\nP1,2025-03-01,1,Kind nurses,\n";
    let r = run(tmp.path(), clean, TWO_TEXTS);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("0 quarantined, 0 field issues"), "{}", r.stderr);
    let r = run(tmp.path(), &clean.replace(",1,Kind", ",Excellent!!,Kind"), TWO_TEXTS);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("1 records, 0 quarantined, 1 field issue,"), "{}", r.stderr);
}

#[test]
fn jsonl_values_of_the_wrong_type_cost_their_field() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"id": "J1", "date": "2025-01-01", "good": 12345, "better": "Faster replies", "eth": "White", "org_level_1": "Trust"}"#,
        r#"{"id": "J2", "date": "2025-01-01", "good": {"a": 1}, "better": ["x"], "eth": "White"}"#,
        r#"{"id": "J3", "date": "2025-01-01", "good": "Kind staff", "better": "", "eth": {"code": "A"}, "org_level_1": ["T"], "rating": [1]}"#,
        r#"{"id": "J4", "date": "2025-01-01", "good": 7, "better": null}"#,
    ];
    std::fs::write(tmp.path().join("c.jsonl"), lines.join("\n") + "\n").unwrap();
    std::fs::write(
        tmp.path().join("p.toml"),
        "[run]\nout = \"o\"\n[[source]]\npath = \"c.jsonl\"\n[source.columns]\nrecord_id = \"id\"\nreceived_date = \"date\"\nethnicity = \"eth\"\n[[source.text]]\ncolumn = \"good\"\nquestion = \"what_good\"\n[[source.text]]\ncolumn = \"better\"\nquestion = \"could_improve\"\n",
    )
    .unwrap();
    let r = unheard(tmp.path(), &["run", "p.toml", "-q"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let c = &manifest(&out)["counts"];
    assert_eq!(c["records"], 2, "J1's second text and J3's first: {c}");
    assert_eq!(c["rows_quarantined"], 2, "J2 and J4 have no text of the right type: {c}");
    assert_eq!(c["quarantine_by_reason"]["wrong_type"], 2, "{c}");
    assert_eq!(c["text_cells_reconcile"], true);
    assert_eq!(c["rows_reconcile"], true);
    let texts: Vec<String> = rows(&out.join("records")).iter().map(|r| get(r, "text").unwrap().to_owned()).collect();
    assert_eq!(texts, ["Faster replies", "Kind staff"], "a number is never coded as text");
    let issues: Vec<(String, String, String)> = rows(&out.join("field_issues.parquet"))
        .iter()
        .map(|f| {
            (
                get(f, "response_id").unwrap().to_owned(),
                get(f, "field").unwrap().to_owned(),
                format!("{}/{}", get(f, "reason").unwrap(), get(f, "action").unwrap()),
            )
        })
        .collect();
    let want = [
        ("J1", "text", "wrong_type/blank"),
        ("J3", "ethnicity", "wrong_type/null"),
        ("J3", "rating", "wrong_type/null"),
        ("J3", "org_level_1", "wrong_type/null"),
    ];
    for (id, field, what) in want {
        assert!(issues.iter().any(|i| i.0 == id && i.1 == field && i.2 == what), "{id} {field} {what} in {issues:?}");
    }
    assert_eq!(issues.len(), want.len(), "{issues:?}");
}

/// Personal data planted in every column of every format: none of it may reach an output,
/// the manifest or the messages.
#[test]
fn personal_data_in_any_column_of_any_format_is_never_published() {
    use arrow::array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;

    const PLANTED: [&str; 5] = ["943 476 5919", "07700 900123", "jo.bloggs@example.com", "SO14 0YN", "Dr Smith"];
    const NEVER: [&str; 5] = ["943 476 5919", "07700 900123", "jo.bloggs@example.com", "SO14 0YN", "Smith"];
    let headers = [
        "record_id",
        "response_id",
        "received_date",
        "question",
        "text",
        "rating",
        "org_level_1",
        "org_level_2",
        "org_level_3",
        "ethnicity",
        "age_band",
        "sex",
        "note",
    ];
    let clean = |c: &str, n: usize| match c {
        "record_id" => format!("R{n}"),
        "response_id" => format!("P{n}"),
        "received_date" => "2025-02-03".to_owned(),
        "question" => "could_improve".to_owned(),
        "text" => "The wait was long".to_owned(),
        "rating" => "3".to_owned(),
        "ethnicity" => "White British".to_owned(),
        "age_band" => "25-34".to_owned(),
        "sex" => "Female".to_owned(),
        "note" => "ok".to_owned(),
        other => format!("{other} A"),
    };
    // one row per column × planted value, the rest of the row clean
    let mut table: Vec<Vec<String>> = Vec::new();
    for (col, h) in headers.iter().enumerate() {
        for p in PLANTED {
            let n = table.len();
            let mut row: Vec<String> = headers.iter().map(|c| clean(c, n)).collect();
            row[col] = match *h {
                "record_id" | "response_id" => format!("{p} #{n}"),
                "text" => format!("Call me about it: {p}"),
                _ => p.to_owned(),
            };
            table.push(row);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let csv: String =
        std::iter::once(headers.join(",")).chain(table.iter().map(|r| r.join(","))).map(|l| l + "\n").collect();
    std::fs::write(dir.join("f.csv"), csv).unwrap();
    let jsonl: String = table
        .iter()
        .map(|r| {
            let o: serde_json::Map<String, serde_json::Value> =
                headers.iter().zip(r).map(|(h, v)| ((*h).to_owned(), serde_json::Value::from(v.as_str()))).collect();
            serde_json::Value::Object(o).to_string() + "\n"
        })
        .collect();
    std::fs::write(dir.join("f.jsonl"), jsonl).unwrap();
    let columns: Vec<(String, ArrayRef)> = headers
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let a: ArrayRef = Arc::new(StringArray::from(table.iter().map(|r| r[c].clone()).collect::<Vec<_>>()));
            ((*h).to_owned(), a)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(File::create(dir.join("f.parquet")).unwrap(), batch.schema(), None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in table.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, v).unwrap();
        }
    }
    book.save(dir.join("f.xlsx")).unwrap();

    for input in ["f.csv", "f.jsonl", "f.parquet", "f.xlsx"] {
        let out = dir.join(format!("o-{input}"));
        let r = unheard(dir, &["run", "--input", input, "--out", out.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{input}: {}", r.stderr);
        let m = manifest(&out);
        let c = &m["counts"];
        assert_eq!(c["rows_read"], table.len(), "{input}");
        assert_eq!(c["rows_reconcile"], true, "{input}");
        // dates and questions with personal data cannot be used: those rows are quarantined
        assert_eq!(c["rows_quarantined"], 2 * PLANTED.len(), "{input}: {c}");
        assert!(
            c["field_issues_by_reason"]["personal_data"].as_u64() >= Some(5 * PLANTED.len() as u64),
            "{input}: {c}"
        );
        let mut all = format!("{}\n{}\n", r.stdout, r.stderr);
        for path in parquet_files(&out) {
            for row in rows(&path) {
                for v in row.values().flatten() {
                    all.push_str(v);
                    all.push('\n');
                }
            }
        }
        for f in ["manifest.json", "DATA_DICTIONARY.md"] {
            all.push_str(&std::fs::read_to_string(out.join(f)).unwrap());
        }
        for never in NEVER {
            assert!(!all.contains(never), "{input}: {never:?} was published");
        }
        for placeholder in ["[NHS_NUMBER]", "[PHONE]", "[EMAIL]", "[POSTCODE]", "Dr [NAME]"] {
            assert!(all.contains(placeholder), "{input}: {placeholder} shows what was redacted");
        }
        let issues = rows(&out.join("field_issues.parquet"));
        let hashed = issues.iter().filter(|f| get(f, "action") == Some("hashed_id")).count();
        assert_eq!(hashed, 2 * PLANTED.len(), "{input}: every id holding personal data is replaced by a hash");
        let records = rows(&out.join("records"));
        assert_eq!(records.len(), table.len() - 2 * PLANTED.len(), "{input}: every other row keeps its record");
    }
}

#[test]
fn organisation_values_and_questions_follow_their_on_invalid_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "W".repeat(201);
    let csv = format!(
        "response_id,received_date,question,text,org_level_1,org_level_2\nP1,2025-03-01,what_good,Kind staff,Ward\t7,Team\nP2,2025-03-01,what_good,Kind staff,{long},Team\nP3,2025-03-01,banana,Kind staff,Ward,Team\nP4,2025-03-01,could_improve,Shorter waits,Ward 7,Team A\n"
    );
    let base = "[run]\nout = \"o\"\n[[source]]\npath = \"f.csv\"\n[source.columns]\nresponse_id = \"response_id\"\n";
    let r = run(tmp.path(), &csv, base);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let c = &manifest(&out)["counts"];
    assert_eq!((c["records"].as_u64(), c["rows_quarantined"].as_u64()), (Some(3), Some(1)), "{c}");
    assert_eq!(c["quarantine_by_reason"]["unknown_question"], 1, "an unknown question quarantines by default");
    // (a reader that strips control characters itself leaves only the overlong value)
    let invalid = c["field_issues_by_reason"]["invalid_value"].as_u64();
    assert!(invalid == Some(2) || invalid == Some(1), "a tab and 201 characters: {c}");
    let org: BTreeMap<String, Option<String>> = rows(&out.join("records"))
        .iter()
        .map(|r| (get(r, "response_id").unwrap().to_owned(), get(r, "org_level_1").map(str::to_owned)))
        .collect();
    assert!(org["P1"].as_deref().is_none_or(|v| !v.contains('\t')), "no control character is published");
    assert_eq!(org["P2"], None);
    assert_eq!(org["P4"].as_deref(), Some("Ward 7"));

    let chosen = format!("{base}[source.on_invalid]\norg_level_1 = \"quarantine\"\nquestion = \"null\"\n");
    let r = run(tmp.path(), &csv, &chosen);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let c = &manifest(&out)["counts"];
    assert_eq!(c["rows_reconcile"], true);
    assert!(c["records"].as_u64() <= Some(3) && c["rows_quarantined"].as_u64() >= Some(1), "P2 quarantined: {c}");
    assert!(c["quarantine_by_reason"]["invalid_value"].as_u64() >= Some(1), "{c}");
    let issues = rows(&out.join("field_issues.parquet"));
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(
        (get(&issues[0], "reason"), get(&issues[0], "action"), get(&issues[0], "raw_value")),
        (Some("unknown_question"), Some("default_question"), Some("banana"))
    );
    let p3: Vec<Row> = rows(&out.join("records")).into_iter().filter(|r| get(r, "response_id") == Some("P3")).collect();
    assert_eq!(get(&p3[0], "question"), Some("nonspecific"), "the source's default question");
}

#[test]
fn an_unmapped_demographic_is_one_issue_per_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = "response_id,received_date,rating,what_good,could_improve,ethnicity,religion\nP1,2025-03-01,1,Kind nurses,Shorter waits,Martian,Jedi\nP2,2025-03-01,1,Kind nurses,Shorter waits,White British,\nP3,2025-03-01,1,Kind nurses,,Martian,\n";
    let pipeline = TWO_TEXTS.replace(
        "response_id = \"response_id\"\n",
        "response_id = \"response_id\"\nethnicity = \"ethnicity\"\nreligion = \"religion\"\n",
    );
    let r = run(tmp.path(), csv, &pipeline);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let issues: Vec<(String, String, String)> = rows(&out.join("field_issues.parquet"))
        .iter()
        .map(|f| {
            assert_eq!((get(f, "reason"), get(f, "action")), (Some("unmapped_value"), Some("unmapped")));
            (
                get(f, "response_id").unwrap().to_owned(),
                get(f, "source_column").unwrap().to_owned(),
                get(f, "raw_value").unwrap().to_owned(),
            )
        })
        .collect();
    let want = [("P1", "ethnicity", "Martian"), ("P1", "religion", "Jedi"), ("P3", "ethnicity", "Martian")];
    let mut got = issues.clone();
    got.sort();
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned())),
        "P1 has two records but one issue per column"
    );
    let m = manifest(&out);
    assert_eq!(m["counts"]["field_issues_by_reason"]["unmapped_value"], 3);
    assert_eq!(m["inputs"][0]["field_issues"], 3, "per source too");
    assert_eq!(m["unmapped_values"]["ethnicity"]["Martian"], 3, "counted per record as before");
}

#[test]
fn an_overlong_optional_field_costs_the_field_and_an_overlong_text_the_row() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "n".repeat(61);
    let csv = format!(
        "response_id,received_date,rating,what_good,could_improve,note\nP1,2025-03-01,1,Kind nurses,,{long}\nP2,2025-03-01,1,{long},,ok\n"
    );
    let r = run(tmp.path(), &csv, &TWO_TEXTS.replace("[run]\n", "[run]\nmax_field_chars = 60\n"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let c = &manifest(&out)["counts"];
    assert_eq!((c["records"].as_u64(), c["rows_quarantined"].as_u64()), (Some(1), Some(1)), "{c}");
    assert_eq!(c["quarantine_by_reason"]["field_too_long"], 1, "the text of P2: {c}");
    let issues = rows(&out.join("field_issues.parquet"));
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (get(&issues[0], "field"), get(&issues[0], "reason"), get(&issues[0], "response_id")),
        (Some("x_note"), Some("field_too_long"), Some("P1"))
    );
    let recs = rows(&out.join("records"));
    assert_eq!(get(&recs[0], "x_note"), None, "the carried value is null");
}

/// A value with personal data repeated in many rows, among clean values that repeat too (the
/// mapper remembers clean values): every one of its rows is redacted and reported.
#[test]
fn personal_data_repeated_in_a_field_is_redacted_in_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut csv = String::from("record_id,received_date,text,org_level_2,ethnicity\n");
    for n in 0..300 {
        let (org, ethnicity) = if n % 3 == 0 { ("Ward of Dr Smith", "SO14 0YN") } else { ("Ward A", "White British") };
        csv.push_str(&format!("R{n},2025-02-03,The wait was long,{org},{ethnicity}\n"));
    }
    std::fs::write(dir.join("f.csv"), csv).unwrap();
    let out = dir.join("o");
    let r = unheard(dir, &["run", "--input", "f.csv", "--out", out.to_str().unwrap(), "--threads", "2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m = manifest(&out);
    assert_eq!(m["counts"]["field_issues_by_reason"]["personal_data"], 200, "{}", m["counts"]);
    let mut orgs = BTreeMap::<String, usize>::new();
    for row in rows(&out.join("records")) {
        *orgs.entry(row["org_level_2"].clone().unwrap_or_default()).or_default() += 1;
    }
    assert_eq!(orgs.get("Ward A"), Some(&200), "{orgs:?}");
    assert_eq!(orgs.iter().filter(|(k, _)| k.contains("Smith")).count(), 0, "{orgs:?}");
    assert_eq!(orgs.values().sum::<usize>(), 300, "{orgs:?}");
}
