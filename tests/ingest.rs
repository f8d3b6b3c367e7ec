use crate::util::{manifest, unheard, HEADER};

fn run_pipeline(dir: &std::path::Path, pipeline: &str) -> (i32, serde_json::Value, String) {
    std::fs::write(dir.join("p.toml"), pipeline).unwrap();
    let r = unheard(dir, &["run", "p.toml", "--out", "o", "-q"]);
    let m = if dir.join("o/manifest.json").exists() { manifest(&dir.join("o")) } else { serde_json::Value::Null };
    (r.code, m, r.stderr)
}

#[test]
fn windows_1252_is_detected_and_bom_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(HEADER.as_bytes());
    bytes.extend_from_slice(b"\nR1,P1,2025-01-01,what_good,Caf\xe9 staff were \x93brilliant\x94,1,,,,,,,,,,,,,\n");
    std::fs::write(tmp.path().join("w.csv"), &bytes).unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(HEADER.as_bytes());
    bom.extend_from_slice("\nR2,P2,2025-01-01,what_good,Café staff 😊,1,,,,,,,,,,,,,\n".as_bytes());
    std::fs::write(tmp.path().join("b.csv"), &bom).unwrap();
    let (code, m, err) = run_pipeline(
        tmp.path(),
        "[run]\nkeep_original_text = true\n[[source]]\npath = \"w.csv\"\n[[source]]\npath = \"b.csv\"\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(m["inputs"][0]["encoding"], "windows-1252 (detected)");
    assert_eq!(m["inputs"][1]["encoding"], "utf-8");
    let mapped = m["inputs"][1]["mapped_columns"].as_array().unwrap();
    assert!(
        mapped.iter().any(|p| p[0] == "record_id" && p[1] == "record_id"),
        "the BOM is not part of the first header: {mapped:?}"
    );
}

#[test]
fn declared_utf8_quarantines_undecodable_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(
        b"\nR1,P1,2025-01-01,what_good,fine,1,,,,,,,,,,,,,\nR2,P2,2025-01-01,what_good,caf\xe9,1,,,,,,,,,,,,,\n",
    );
    std::fs::write(tmp.path().join("u.csv"), &bytes).unwrap();
    let (code, m, err) = run_pipeline(tmp.path(), "[[source]]\npath = \"u.csv\"\nencoding = \"utf-8\"\n");
    assert_eq!(code, 1, "{err}");
    assert_eq!(m["counts"]["quarantine_by_reason"]["undecodable_bytes"], 1);
    assert_eq!(m["counts"]["records"], 1);
}

#[test]
fn long_fields_are_quarantined_at_the_configured_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "a".repeat(101);
    std::fs::write(tmp.path().join("l.csv"), format!("{HEADER}\nR1,P1,2025-01-01,what_good,{long},1,,,,,,,,,,,,,\nR2,P2,2025-01-01,what_good,short,1,,,,,,,,,,,,,\n")).unwrap();
    let (code, m, _) = run_pipeline(tmp.path(), "[run]\nmax_field_chars = 100\n[[source]]\npath = \"l.csv\"\n");
    assert_eq!(code, 1);
    assert_eq!(m["counts"]["quarantine_by_reason"]["field_too_long"], 1);
}

#[test]
fn jsonl_conversations_with_blank_and_broken_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"id": "C1", "date": "01/03/2025", "notes": "Attendees said the interpreter never came", "group": "Deaf Club", "attendees": 12}"#,
        "",
        r#"{"id": "C2", "date": "02/03/2025", "notes": "Bus fares are too expensive", "group": "Over-70s Lunch Club"}"#,
        "{not json",
        r#"["an", "array"]"#,
    ];
    std::fs::write(tmp.path().join("c.jsonl"), lines.join("\n") + "\n").unwrap();
    let p = "[[source]]\npath = \"c.jsonl\"\nquestion = \"conversation\"\ndate_format = \"%d/%m/%Y\"\n[source.columns]\nresponse_id = \"id\"\nreceived_date = \"date\"\ntext = \"notes\"\ncommunity_group = \"group\"\n";
    let (code, m, err) = run_pipeline(tmp.path(), p);
    assert_eq!(code, 1, "{err}");
    let c = &m["counts"];
    assert_eq!(
        (c["rows_read"].as_u64(), c["records"].as_u64(), c["rows_quarantined"].as_u64(), c["rows_dropped"].as_u64()),
        (Some(5), Some(2), Some(2), Some(1))
    );
    assert_eq!(c["rows_reconcile"], true);
    assert_eq!(m["carried_columns"][0], "x_attendees");
}

#[test]
fn xlsx_two_text_columns_and_excel_dates() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let tmp = tempfile::tempdir().unwrap();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let headers = ["Response ID", "Date", "What was good?", "What could we do better?", "Ethnic Group"];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let rows = [("A1", "Kind staff", "Shorter waits", "White"), ("A2", "", "Parking", ""), ("A3", "", "", "Asian")];
    for (i, (id, good, better, eth)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *id).unwrap();
        sheet
            .write_datetime_with_format(r, 1, ExcelDateTime::from_ymd(2025, 6, 1 + i as u8).unwrap(), &date_format)
            .unwrap();
        for (c, v) in [(2u16, good), (3, better), (4, eth)] {
            if !v.is_empty() {
                sheet.write_string(r, c, *v).unwrap();
            }
        }
    }
    // a date written as a plain serial number is read as an Excel date too
    sheet.write_string(4, 0, "A4").unwrap();
    sheet.write_number(4, 1, 45809.0).unwrap();
    sheet.write_string(4, 2, "Lovely").unwrap();
    book.save(tmp.path().join("s.xlsx")).unwrap();
    let p = "[[source]]\npath = \"s.xlsx\"\n[source.columns]\nresponse_id = \"Response ID\"\nreceived_date = \"Date\"\nethnicity = \"Ethnic Group\"\n[[source.text]]\ncolumn = \"What was good?\"\nquestion = \"what_good\"\n[[source.text]]\ncolumn = \"What could we do better?\"\nquestion = \"could_improve\"\n";
    let (code, m, err) = run_pipeline(tmp.path(), p);
    assert_eq!(code, 1, "row A3 has no text: {err}");
    let c = &m["counts"];
    assert_eq!(c["rows_read"], 4);
    assert_eq!(c["records"], 4, "A1 gives two records, A2 one, A4 one");
    assert_eq!(c["blank_text_cells"], 2);
    assert_eq!(c["quarantined_text_cells"], 2);
    assert_eq!(c["text_cells_reconcile"], true);
    assert!(
        tmp.path().join("o/records/month=2025-06/part-0.parquet").exists(),
        "dates read from date cells and serials"
    );
}
