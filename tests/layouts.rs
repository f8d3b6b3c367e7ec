//! Export layouts read with no mapping: detection, forcing, questions, `unheard layouts`.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::Array;
use arrow::util::display::array_value_to_string;

use crate::util::{manifest, parquet_files, unheard};
use crate::who::read;

/// Every record of a run, as column → value ("" for null), in partition then file order.
fn records(out: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rows = Vec::new();
    for p in parquet_files(&out.join("records")) {
        let t = read(&p);
        let n = t.values().next().map_or(0, |a| a.len());
        for i in 0..n {
            rows.push(
                t.iter()
                    .map(|(k, a)| {
                        let v = if a.is_null(i) { String::new() } else { array_value_to_string(a, i).unwrap() };
                        (k.clone(), v)
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// The record whose text starts with `start`.
fn by_text<'a>(rows: &'a [BTreeMap<String, String>], start: &str) -> &'a BTreeMap<String, String> {
    rows.iter().find(|r| r["text"].starts_with(start)).unwrap_or_else(|| panic!("a record starts with {start:?}"))
}

const UPLOAD: &str = "date,location_1,location_2,location_3,fft_score,question_1,question_2,sex,gender,age,ethnicity,sexuality,disability,religion,extra_variable_1,extra_variable_2,extra_variable_3
2025-03-04,Trust North,Ward 7,Night team,1,The porter was cheerful,More chairs in reception please,Female,,25-34,White British,,,,ref-1,,
14/03/2025,Trust North,Ward 9,,2,Clean and quiet ward,,Male,,75+,Asian or Asian British,,,,ref-2,,
21/04/2025,Trust South,Clinic 2,Desk,4,Long queue at the desk,Signs to the clinic were confusing,Female,,45-54,Black,,,,,,
";

#[test]
fn upload_template_is_detected_and_two_comments_share_a_response() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("export.csv"), UPLOAD).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "export.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&tmp.path().join("o"));
    assert_eq!(m["inputs"][0]["layout"], "experiencesdashboard-upload");
    assert_eq!(m["counts"]["rows_read"], 3);
    assert_eq!(m["counts"]["records"], 5, "two comments, one, two");
    assert_eq!(m["counts"]["rows_reconcile"], true);
    let carried = m["inputs"][0]["carried_columns"].as_array().unwrap();
    assert_eq!(carried.len(), 3, "only the extra variables are carried: {carried:?}");
    let rows = records(&tmp.path().join("o"));
    assert_eq!(rows.len(), 5);
    let a = by_text(&rows, "The porter");
    let b = by_text(&rows, "More chairs");
    assert_eq!(a["response_id"], b["response_id"], "one response, two records");
    assert_ne!(a["record_id"], b["record_id"]);
    assert_eq!((a["question"].as_str(), b["question"].as_str()), ("nonspecific", "nonspecific"));
    assert_eq!(
        (a["rating"].as_str(), a["org_level_1"].as_str(), a["org_level_2"].as_str(), a["org_level_3"].as_str()),
        ("1", "Trust North", "Ward 7", "Night team")
    );
    assert_eq!((a["sex"].as_str(), a["age_band"].as_str(), a["ethnicity"].as_str()), ("Female", "25-34", "White"));
    assert_eq!(a["x_extra_variable_1"], "ref-1");
    assert_eq!(a["received_date"], "2025-03-04");
    let c = by_text(&rows, "Clean and quiet");
    assert_eq!((c["received_date"].as_str(), c["rating"].as_str()), ("2025-03-14", "2"), "DD/MM/YYYY is read");
    assert_eq!(by_text(&rows, "Long queue")["received_date"], "2025-04-21");
    for r in &rows {
        for dim in ["sex", "gender", "age_band", "ethnicity", "sexuality", "disability", "religion"] {
            assert!(r.contains_key(dim), "records has {dim}");
        }
    }
}

#[test]
fn question_flag_and_pipeline_name_the_trust_questions() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("export.csv"), UPLOAD).unwrap();
    let r = unheard(
        tmp.path(),
        &["run", "--input", "export.csv", "--out", "o", "-q", "--question", "question_1=could_improve"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = records(&tmp.path().join("o"));
    assert_eq!(by_text(&rows, "The porter")["question"], "could_improve");
    assert_eq!(by_text(&rows, "More chairs")["question"], "nonspecific", "question_2 was not named");
    // the same from a pipeline source, with the layout named there
    std::fs::write(
        tmp.path().join("p.toml"),
        "[[source]]\npath = \"export.csv\"\nlayout = \"experiencesdashboard-upload\"\n[source.question_values]\nquestion_1 = \"what_good\"\nquestion_2 = \"could_improve\"\n",
    )
    .unwrap();
    let r = unheard(tmp.path(), &["run", "p.toml", "--out", "p", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = records(&tmp.path().join("p"));
    assert_eq!(by_text(&rows, "The porter")["question"], "what_good");
    assert_eq!(by_text(&rows, "More chairs")["question"], "could_improve");
    // none of these is warned of: each question value met its column
    let m = manifest(&tmp.path().join("p"));
    assert!(m["inputs"][0].get("question_values_unmatched").is_none(), "{}", m["inputs"][0]);
    // found: a typo (`question1`) left every such record nonspecific with nothing said
    let r =
        unheard(tmp.path(), &["run", "--input", "export.csv", "--out", "t", "--question", "question1=could_improve"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("question value \"question1\"") && r.stderr.contains("matched nothing"), "{}", r.stderr);
    assert_eq!(manifest(&tmp.path().join("t"))["inputs"][0]["question_values_unmatched"][0], "question1");
    // a question that is not one
    let r = unheard(tmp.path(), &["run", "--input", "export.csv", "--out", "q", "--question", "question_1=sometimes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("could_improve"), "lists the questions: {}", r.stderr);
}

#[test]
fn dashboard_database_layout_maps_ids_question_values_and_carries_categories() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = "comment_id,date,pt_id,location_1,location_2,location_3,comment_type,comment_txt,fft,sex,gender,age,ethnicity,sexuality,disability,religion,extra_variable_1,extra_variable_2,extra_variable_3,category,super_category,sentiment
101,2025-02-03,7,Trust East,Outpatients,Room 4,question_1,Reception staff smiled at everyone,1,Female,,65-74,White British,,,,,,,Staff manner,Staff,1
102,2025-02-03,7,Trust East,Outpatients,Room 4,question_2,The car park was full,1,Female,,65-74,White British,,,,,,,Parking,Environment,4
103,10/02/2025,8,Trust East,Wards,,comment_1,Meals arrived warm,2,Male,,35-44,Black,,,,,,,Food,Environment,2
";
    std::fs::write(tmp.path().join("db.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "db.csv", "--out", "o", "--question", "question_1=what_good"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("matched nothing"), "a row's question value met: {}", r.stderr);
    let m = manifest(&tmp.path().join("o"));
    assert_eq!(m["inputs"][0]["layout"], "experiencesdashboard-db");
    assert_eq!(m["counts"]["records"], 3);
    let v = unheard(tmp.path(), &["validate", "--input", "db.csv"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    assert!(v.stdout.contains("layout experiencesdashboard-db"), "validate names the layout: {}", v.stdout);
    assert!(v.stdout.contains("x_super_category"), "and the carried columns: {}", v.stdout);
    let rows = records(&tmp.path().join("o"));
    let a = by_text(&rows, "Reception staff");
    let b = by_text(&rows, "The car park");
    let c = by_text(&rows, "Meals arrived");
    assert_eq!((a["record_id"].as_str(), a["response_id"].as_str()), ("101", "7"));
    assert_eq!(b["response_id"], "7");
    assert_eq!(a["question"], "what_good");
    assert_eq!(b["question"], "nonspecific");
    assert_eq!(c["question"], "what_good", "comment_1 is question_1");
    assert_eq!((c["received_date"].as_str(), c["rating"].as_str()), ("2025-02-10", "2"));
    assert_eq!((a["org_level_2"].as_str(), a["org_level_3"].as_str()), ("Outpatients", "Room 4"));
    assert_eq!((c["sex"].as_str(), c["age_band"].as_str(), c["ethnicity"].as_str()), ("Male", "35-44", "Black"));
    assert_eq!(
        (a["x_category"].as_str(), a["x_super_category"].as_str(), a["x_sentiment"].as_str()),
        ("Staff manner", "Staff", "1")
    );
}

#[test]
fn labelled_fft_export_maps_questions_ratings_and_mixed_dates() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = "Comment ID,Trust,Respondent ID,Date,Service type 1,Service type 2,FFT categorical answer,FFT question,FFT answer,Person identifiable info?,Comment sentiment,Not assigned,Invented label one,Invented label two
C1,TRA,R1,31/05/2022,Transport,,1,What was good?,Driver carried my bag to the door,,1,0,1,0
C2,TRA,R1,5/31/2022,Transport,,1,What could we do better?,Ring before arriving,,3,0,0,1
C3,TRB,R2,01/06/2022,Community,Older adults,4,FFT Why?,Nobody called back,,4,0,0,1
C4,TRB,R3,02/06/2022,111,,6,\"Please describe any things about the 111 service that
you were particularly satisfied and/or dissatisfied with\",The call handler stayed calm,,2,0,1,0
C5,TRB,R4,03/06/2022,111,,2,How could we improve?,   ,,,1,0,0
";
    std::fs::write(tmp.path().join("labelled.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "labelled.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 1, "the blank answer is quarantined: {}", r.stderr);
    let m = manifest(&tmp.path().join("o"));
    assert_eq!(m["inputs"][0]["layout"], "fft-labelled");
    assert_eq!(m["counts"]["records"], 4);
    assert_eq!(m["counts"]["quarantine_by_reason"]["empty_text"], 1);
    let carried = m["inputs"][0]["carried_columns"].as_array().unwrap();
    assert!(carried.iter().any(|c| c == "x_comment_sentiment") && carried.iter().any(|c| c == "x_invented_label_two"));
    let rows = records(&tmp.path().join("o"));
    let q = |t: &str| by_text(&rows, t)["question"].clone();
    assert_eq!(
        [q("Driver"), q("Ring before"), q("Nobody called"), q("The call handler")],
        ["what_good", "could_improve", "nonspecific", "nonspecific"]
    );
    let a = by_text(&rows, "Driver");
    assert_eq!((a["record_id"].as_str(), a["response_id"].as_str(), a["rating"].as_str()), ("C1", "R1", "1"));
    assert_eq!(by_text(&rows, "Ring before")["received_date"], "2022-05-31", "m/d/yyyy when it cannot be d/m");
    assert_eq!(a["received_date"], "2022-05-31");
    // the first date that reads one way only is day first: 01/06/2022 is 1 June, and the
    // export writing both orders is said (the real labelled export does: 220 month first)
    assert_eq!(by_text(&rows, "Nobody called")["received_date"], "2022-06-01");
    let warnings = m["inputs"][0]["warnings"].to_string();
    assert!(
        warnings
            .contains("written both day first (1 row, the first, \\\"31/05/2022\\\", at row 2) and month first (1,")
            && warnings.contains("were read day first"),
        "{warnings}"
    );
    let c = by_text(&rows, "Nobody called");
    assert_eq!(
        (c["org_level_1"].as_str(), c["org_level_2"].as_str(), c["org_level_3"].as_str(), c["rating"].as_str()),
        ("TRB", "Community", "Older adults", "4")
    );
    assert_eq!(by_text(&rows, "The call handler")["rating"], "6");
}

const LABELLED_HEADER: &str =
    "Comment ID,Trust,Respondent ID,Date,Service type 1,Service type 2,FFT categorical answer,FFT question,FFT answer";

/// The labelled export written month first, as Excel writes dates in a US locale: its dates
/// that read either way were read day first, silently (1,719 of the real export's 6,378 records
/// misdated by months when its dates were rewritten month first); they now read in the order of
/// the first date that reads only one way.
#[test]
fn labelled_fft_export_written_month_first_reads_every_date_month_first() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = format!(
        "{LABELLED_HEADER}\nC1,TRA,R1,5/31/2022,Transport,,1,What was good?,Driver carried my bag,\nC2,TRA,R2,06/01/2022,Transport,,2,What was good?,Nurse was kind,\nC3,TRA,R3,12/11/2021 14:30,Transport,,2,What was good?,Quick and calm,\n"
    );
    std::fs::write(tmp.path().join("us.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "us.csv", "--out", "o", "--no-state"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "one order, nothing to say: {}", r.stderr);
    let rows = records(&tmp.path().join("o"));
    let date = |t: &str| by_text(&rows, t)["received_date"].clone();
    assert_eq!([date("Driver"), date("Nurse"), date("Quick")], ["2022-05-31", "2022-06-01", "2021-12-11"]);
}

/// The upload template's layout reads `YYYY-MM-DD` or `DD/MM/YYYY`: written month first (a US
/// locale), the dates past the 12th were quarantined with a warning naming `%m/%d/%Y`, but those
/// that read either way were kept, read day first, with nothing said of them.
#[test]
fn upload_template_written_month_first_warns_of_the_dates_kept_day_first() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = "date,location_1,fft_score,question_1\n03/04/2024,Trust,1,Kind nurse\n03/24/2024,Trust,1,Quick visit\n05/06/2024,Trust,2,Clean ward\n";
    std::fs::write(tmp.path().join("upload.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "upload.csv", "--out", "o", "--no-state"]);
    assert_eq!(r.code, 1, "one row quarantined: {}", r.stderr);
    assert!(
        r.stderr.contains("1 date read only month first (the first, \"03/24/2024\", at row 3)")
            && r.stderr
                .contains("the 2 that read either way (the first, \"03/04/2024\", at row 2) were kept, read day first"),
        "{}",
        r.stderr
    );
}

/// Dates that read either way before the first that reads one way only were read as the
/// layout lists them (day first); past it, month first: said, with the row.
#[test]
fn labelled_fft_export_whose_first_batch_tells_no_order_is_warned_of() {
    let tmp = tempfile::tempdir().unwrap();
    // the first batch of a source is 4,096 rows: every date in it reads either way
    let mut csv = format!("{LABELLED_HEADER}\n");
    for i in 0..4_200 {
        let date =
            if i == 4_150 { "5/31/2022".to_owned() } else { format!("0{}/0{}/2022", 1 + i % 9, 1 + (i + 1) % 9) };
        csv += &format!("C{i},TRA,R{i},{date},Transport,,1,What was good?,Kind nurse number {i},\n");
    }
    std::fs::write(tmp.path().join("late.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "late.csv", "--out", "o", "--no-state"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("dates that read either way before row 4152 were read day first")
            && r.stderr.contains("from row 4152, whose date reads only month first, they were read month first"),
        "{}",
        r.stderr
    );
    let rows = records(&tmp.path().join("o"));
    // row 2 (C0, 01/02/2022) was read day first; C4199 (after the choice) month first
    assert_eq!(by_text(&rows, "Kind nurse number 0")["received_date"], "2022-02-01");
    let last = &by_text(&rows, "Kind nurse number 4199")["received_date"];
    assert_eq!(last, "2022-06-07", "06/07/2022 read month first");
}

#[test]
fn layout_is_forced_when_detection_cannot_choose() {
    let tmp = tempfile::tempdir().unwrap();
    // both the upload template's and the database's required columns: ambiguous → canonical
    let csv = "comment_id,date,pt_id,comment_type,comment_txt,fft_score,question_1\n1,2025-01-05,9,question_1,Kind words from the nurse,1,unused\n";
    std::fs::write(tmp.path().join("both.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "both.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 2, "canonical finds no text column");
    assert!(r.stderr.contains("no free-text column"), "{}", r.stderr);
    let r =
        unheard(tmp.path(), &["run", "--input", "both.csv", "--out", "o", "-q", "--layout", "experiencesdashboard-db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&tmp.path().join("o"));
    assert_eq!(m["inputs"][0]["layout"], "experiencesdashboard-db");
    assert_eq!(m["counts"]["records"], 1);
    let rows = records(&tmp.path().join("o"));
    assert_eq!((rows[0]["record_id"].as_str(), rows[0]["text"].as_str()), ("1", "Kind words from the nurse"));
}

#[test]
fn forced_layout_missing_columns_exits_2_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f.csv"), crate::util::canonical_csv(3)).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "--layout", "experiencesdashboard-upload"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("needs the columns \"date\", \"question_1\" which are not in the header"),
        "{}",
        r.stderr
    );
    assert!(!tmp.path().join("o").exists(), "nothing committed");
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "--layout", "nhs-magic"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("fft-labelled") && r.stderr.contains("canonical"), "lists the layouts: {}", r.stderr);
    std::fs::write(tmp.path().join("p.toml"), "[[source]]\npath = \"f.csv\"\nlayout = \"nhs-magic\"\n").unwrap();
    let r = unheard(tmp.path(), &["validate", "p.toml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("line 3") && r.stderr.contains("source.layout"), "names line and key: {}", r.stderr);
    // canonical files stay canonical
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(manifest(&tmp.path().join("o"))["inputs"][0]["layout"], "canonical");
}

#[test]
fn layouts_command_lists_columns_and_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let r = unheard(tmp.path(), &["layouts"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for line in [
        "canonical",
        "experiencesdashboard-upload",
        "experiencesdashboard-db",
        "fft-labelled",
        "fft_score        → rating\n",
        "age              → age_band",
        "location_3       → org_level_3",
        "question_1       → text, question nonspecific unless --question question_1=QUESTION (required)",
        "extra_variable_1 → carried as x_extra_variable_1",
        "comment_id       → record_id (required)",
        "FFT categorical answer → rating (required)",
        "Respondent ID          → response_id (required)",
        "question value \"comment_1\" → nonspecific unless --question question_1=QUESTION",
    ] {
        assert!(r.stdout.contains(line), "lists {line:?}:\n{}", r.stdout);
    }
}

#[test]
fn upload_template_as_a_workbook_with_date_and_number_cells() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let tmp = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let date_fmt = Format::new().set_num_format("dd/mm/yyyy");
    for (r, line) in (0u32..).zip(UPLOAD.lines()) {
        for (c, v) in (0u16..).zip(line.split(',')) {
            if v.is_empty() {
                continue;
            }
            match (r, c) {
                (1, 0) => ws.write_date_with_format(r, c, ExcelDateTime::from_ymd(2025, 3, 4).unwrap(), &date_fmt),
                (1.., 4) => ws.write_number(r, c, v.parse::<f64>().unwrap()),
                _ => ws.write_string(r, c, v),
            }
            .unwrap();
        }
    }
    wb.save(tmp.path().join("upload.xlsx")).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "upload.xlsx", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&tmp.path().join("o"));
    assert_eq!(m["inputs"][0]["layout"], "experiencesdashboard-upload");
    assert_eq!(m["counts"]["records"], 5);
    let rows = records(&tmp.path().join("o"));
    let a = by_text(&rows, "The porter");
    assert_eq!((a["received_date"].as_str(), a["rating"].as_str()), ("2025-03-04", "1"));
    assert_eq!(by_text(&rows, "Clean and quiet")["received_date"], "2025-03-14", "a date typed as text");
}

/// Issue 8's "done means": an export in the experiencesdashboard upload template, with the
/// values trusts really put in it (their own age bands, NHS codes next to words, an FFT score
/// off the scale, "Don't know"), runs with no mapping, loses no comment and leaves under 2% of
/// any demographic unmapped.
#[test]
fn upload_export_as_trusts_write_it_keeps_every_comment_and_maps_its_demographics() {
    let tmp = tempfile::tempdir().unwrap();
    let ages = ["0 - 11", "12-17", "18 - 25", "26-39", "40-64", "Over 65", "65 and over", "Prefer not to say", ""];
    let sex = ["Male", "Female", "M", "F", "1", "2", "Not known"];
    let gender = ["Man", "Woman", "1", "2", "Non-binary", "Prefer not to say"];
    let eth = [
        "White British",
        "A",
        "H",
        "Asian or Asian British - Pakistani",
        "Black African",
        "N",
        "Z",
        "Mixed",
        "Any other ethnic group",
    ];
    let sexuality = ["Heterosexual or Straight", "1", "Gay or Lesbian", "Bisexual", "Prefer not to say", "U"];
    let disability = ["Yes", "No", "Y", "N", "Prefer not to say"];
    let religion =
        ["Christian", "Muslim", "No religion", "None", "Hindu", "C", "M", "Prefer not to say", "Sikh", "Jewish"];
    let scores = ["1", "2", "3", "4", "5", "Don't know", "", "7"];
    let mut csv = String::from(
        "date,location_1,location_2,location_3,fft_score,question_1,question_2,sex,gender,age,ethnicity,sexuality,disability,religion,extra_variable_1,extra_variable_2,extra_variable_3\n",
    );
    let (mut comments, mut sevens) = (0, 0);
    for i in 0..400 {
        let q1 = if i % 9 == 4 { String::new() } else { format!("The staff on ward {} were kind", i % 7) };
        let q2 = if i % 5 == 0 {
            String::new()
        } else {
            "The wait for a bed was far too long, \"hours\" on a trolley".to_owned()
        };
        if q1.is_empty() && q2.is_empty() {
            continue;
        }
        comments += usize::from(!q1.is_empty()) + usize::from(!q2.is_empty());
        sevens += u64::from(scores[i % scores.len()] == "7");
        csv.push_str(&format!(
            "{:02}/{:02}/2025,Trust,Division {},Ward {},{},{},\"{}\",{},{},{},{},{},{},{},Inpatient,,\n",
            1 + i % 28,
            1 + i % 12,
            i % 3,
            i % 7,
            scores[i % scores.len()],
            q1,
            q2.replace('"', "\"\""),
            sex[i % sex.len()],
            gender[i % gender.len()],
            ages[i % ages.len()],
            eth[i % eth.len()],
            sexuality[i % sexuality.len()],
            disability[i % disability.len()],
            religion[i % religion.len()],
        ));
    }
    std::fs::write(tmp.path().join("export.csv"), &csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "export.csv", "--out", "o"]);
    assert_eq!(r.code, 1, "the score 7 is a field issue, nothing more: {}", r.stderr);
    let m = manifest(&tmp.path().join("o"));
    assert_eq!(m["inputs"][0]["layout"], "experiencesdashboard-upload");
    assert_eq!(m["counts"]["records"], comments as u64, "every comment is a record: {}", m["counts"]);
    assert_eq!(m["counts"]["rows_quarantined"], 0, "{}", m["counts"]);
    assert_eq!(m["counts"]["field_issues_by_reason"]["invalid_rating"], sevens, "{}", m["counts"]);
    let shares = m["people"]["unmapped_share"].as_object().expect("unmapped shares per dimension");
    for dim in ["sex", "gender", "age_band", "ethnicity", "sexuality", "disability", "religion"] {
        let share = shares.get(dim).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
        assert!(share < 0.02, "{dim} is {:.1}% unmapped: {}", share * 100.0, m["unmapped_values"]);
    }
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    // the trust's own age bands are the groups, open bands kept open
    let mut bands: Vec<String> = Vec::new();
    for f in parquet_files(&tmp.path().join("o/records")) {
        let rec = read(&f);
        bands.extend((0..rec["age_band"].len()).map(|i| crate::who::str_at(&rec, "age_band", i)));
    }
    bands.sort();
    bands.dedup();
    for b in ["0-11", "12-17", "18-25", "26-39", "40-64", "65+"] {
        assert!(bands.contains(&b.to_owned()), "band {b} among {bands:?}");
    }
}

#[test]
fn a_question_value_no_row_meets_is_warned_of_once_across_sources() {
    // a question column of the trust's own codes: `--question` maps two of them; the third
    // given is in no row of either file, and said once; each met is not
    let tmp = tempfile::tempdir().unwrap();
    let file = |ids: &str, codes: [&str; 2]| {
        format!(
            "record_id,received_date,question,text\n{ids}1,2025-03-04,{},Kind staff\n{ids}2,2025-03-05,{},Long wait\n",
            codes[0], codes[1]
        )
    };
    std::fs::write(tmp.path().join("a.csv"), file("A", ["Q1", "Q1"])).unwrap();
    std::fs::write(tmp.path().join("b.csv"), file("B", ["Q1", "Q2"])).unwrap();
    let args = [
        "run",
        "--input",
        "a.csv",
        "b.csv",
        "--out",
        "o",
        "--question",
        "Q1=what_good",
        "--question",
        "Q2=could_improve",
        "--question",
        "Q9=nonspecific",
    ];
    let r = unheard(tmp.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr.matches("matched nothing").count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("\"Q9\"") && r.stderr.contains("a.csv, b.csv"), "{}", r.stderr);
    let m = manifest(&tmp.path().join("o"));
    assert_eq!(m["counts"]["records"], 4);
    // Q2 is in b.csv only: a.csv's own list names it, but no warning does
    assert_eq!(m["inputs"][0]["question_values_unmatched"], serde_json::json!(["Q2", "Q9"]));
    assert_eq!(m["inputs"][1]["question_values_unmatched"], serde_json::json!(["Q9"]));
    assert_eq!(by_text(&records(&tmp.path().join("o")), "Long wait")["question"], "what_good");
}
