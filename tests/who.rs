//! Who is missing, end to end, on data written here (not by `unheard synth`): a group that
//! answered far less often and raised its own concern is flagged, its concern heads
//! `underheard_concerns`, the ratios match an independent recomputation, and no published cell
//! shows a count from 1 to 7.

use std::collections::HashMap;
use std::fs::File;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::util::{unheard, HEADER};

pub(crate) fn read(path: &std::path::Path) -> HashMap<String, ArrayRef> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = reader.schema().clone();
    let batches: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
    let all = arrow::compute::concat_batches(&schema, &batches).unwrap();
    schema.fields().iter().enumerate().map(|(i, f)| (f.name().clone(), all.column(i).clone())).collect()
}

pub(crate) fn str_at(t: &HashMap<String, ArrayRef>, col: &str, i: usize) -> String {
    t[col].as_string::<i32>().value(i).to_owned()
}

fn opt(t: &HashMap<String, ArrayRef>, col: &str, i: usize) -> Option<String> {
    (!t[col].is_null(i)).then(|| str_at(t, col, i))
}

fn f64_at(t: &HashMap<String, ArrayRef>, col: &str, i: usize) -> Option<f64> {
    let a = t[col].as_primitive::<Float64Type>();
    (!a.is_null(i)).then(|| a.value(i))
}

/// Wilson interval, written out again here so the check does not share code with the tool.
fn wilson(x: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let centre = (x + z * z / 2.0) / (n + z * z);
    let half = z / (n + z * z) * (x * (n - x) / n + z * z / 4.0).sqrt();
    (centre - half, centre + half)
}

#[test]
fn planted_under_representation_and_concern_are_found_and_published_safely() {
    // population: 1,000 Asian, 4,000 White, 1,000 Black. Respondents: 40 Asian (rate 4%),
    // 600 White (15%), 140 Black (14%). Asian respondents ask for interpreters.
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = format!("{HEADER}\n");
    let mut id = 0;
    let mut add = |eth: &str, n: usize, improve: &dyn Fn(usize) -> &'static str| {
        for i in 0..n {
            id += 1;
            let month = 1 + i % 6;
            csv.push_str(&format!(
                "R{id},P{id},2025-{month:02}-10,could_improve,\"{}\",2,,,,,,,{eth},,,,,,\n",
                improve(i)
            ));
        }
    };
    add("Asian", 40, &|i| if i % 4 == 3 { "Parking was hard" } else { "I needed an interpreter and none came" });
    add("White British", 600, &|i| {
        ["The wait was too long", "Parking was hard", "Food was cold", "No one called me back"][i % 4]
    });
    add("N", 100, &|i| ["The wait was too long", "Parking was hard"][i % 2]);
    add("Black African", 40, &|_| "Food was cold");
    std::fs::write(tmp.path().join("f.csv"), csv).unwrap();
    std::fs::write(tmp.path().join("b.csv"), "dimension,group,population\nethnicity,Asian or Asian British,1000\nethnicity,White,4000\nethnicity,Black,1000\n").unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--baseline", "b.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = tmp.path().join("o");

    // representation: independent recomputation
    let rep = read(&out.join("representation.parquet"));
    let n = 780.0;
    let mut seen = 0;
    for i in 0..rep["group_name"].len() {
        if str_at(&rep, "period", i) != "all" || str_at(&rep, "dimension", i) != "ethnicity" {
            continue;
        }
        let (x, p) = match str_at(&rep, "group_name", i).as_str() {
            "Asian" => (40.0, 1000.0 / 6000.0),
            "White" => (600.0, 4000.0 / 6000.0),
            "Black" => (140.0, 1000.0 / 6000.0),
            other => panic!("unexpected group {other}"),
        };
        seen += 1;
        let (lo, hi) = wilson(x, n);
        assert!((f64_at(&rep, "ratio", i).unwrap() - x / n / p).abs() < 1e-9);
        assert!((f64_at(&rep, "ratio_low", i).unwrap() - lo / p).abs() < 1e-9);
        assert!((f64_at(&rep, "ratio_high", i).unwrap() - hi / p).abs() < 1e-9);
        let flag = str_at(&rep, "representation_flag", i);
        match str_at(&rep, "group_name", i).as_str() {
            "Asian" => assert_eq!(flag, "under_represented", "40/780 against 1/6: ratio {}", x / n / p),
            "White" => assert_eq!(flag, "above_parity"),
            _ => assert_eq!(flag, "no_evidence", "140/780 against 1/6 is 1.08 and the interval spans 1"),
        }
    }
    assert_eq!(seen, 3);

    // the group's own concern heads its list
    let uc = read(&out.join("underheard_concerns.parquet"));
    let asian: Vec<usize> = (0..uc["group_name"].len()).filter(|&i| str_at(&uc, "group_name", i) == "Asian").collect();
    let top: Vec<String> = asian
        .iter()
        .filter(|&&i| uc["concern_rank"].as_primitive::<Int64Type>().value(i) == 1)
        .map(|&i| str_at(&uc, "theme_code", i))
        .collect();
    // "interpreter" codes both INC01 and the v6 label GEN09 (Equality, Diversity & Inclusion): they tie
    assert!(top.contains(&"INC01".to_owned()), "interpreters head the Asian group's concerns: {top:?}");

    // no published count from 1 to 7, every count a multiple of 5
    for table in ["representation", "theme_by_group", "underheard_concerns", "theme_ranking"] {
        let t = read(&out.join(format!("{table}.parquet")));
        for (name, col) in &t {
            if col.data_type() != &DataType::Int64
                || name.ends_with("rank")
                || name.ends_with("_df")
                || name == "rank_change"
            {
                continue;
            }
            let a = col.as_primitive::<Int64Type>();
            for i in 0..a.len() {
                if !a.is_null(i) {
                    let v = a.value(i);
                    assert!(v == 0 || (v >= 8 && v % 5 == 0), "{table}.{name} publishes {v}");
                }
            }
        }
    }
}

#[test]
fn imd_from_a_lookup_and_overrides_from_the_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("f.csv"),
        "id,date,text,lsoa,eth\nA1,2025-01-01,Parking was hard,E01000001,Romany\nA2,2025-01-01,Parking was hard,E01000002,Martian\nA3,2025-01-01,Parking was hard,E01000003,A\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("lookup.csv"), "key,imd_decile\nE01000001,1\nE01000002,10\n").unwrap();
    std::fs::write(
        tmp.path().join("p.toml"),
        "[run]\nout = \"o\"\n[people]\nimd_lookup = \"lookup.csv\"\n[people.map.ethnicity]\nRomany = \"White\"\n[[source]]\npath = \"f.csv\"\n[source.columns]\nrecord_id = \"id\"\nreceived_date = \"date\"\nimd_key = \"lsoa\"\nethnicity = \"eth\"\n",
    )
    .unwrap();
    let r = unheard(tmp.path(), &["run", "p.toml", "-q"]);
    assert_eq!(r.code, 1, "unmapped values are field issues: {}", r.stderr);
    let recs = read(&tmp.path().join("o/records/month=2025-01/part-0.parquet"));
    let col = |c: &str| (0..3).map(|i| str_at(&recs, c, i)).collect::<Vec<_>>();
    assert_eq!(col("imd_quintile"), ["1", "5", "unmapped"], "deciles 1 and 10 from the lookup; E01000003 is not in it");
    assert_eq!(col("ethnicity"), ["White", "unmapped", "White"]);
    let m = crate::util::manifest(&tmp.path().join("o"));
    assert_eq!(m["unmapped_values"]["ethnicity"]["Martian"], 1);
    assert_eq!(m["unmapped_values"]["imd_quintile"]["E01000003"], 1);
    assert_eq!(m["counts"]["field_issues_by_reason"]["unmapped_value"], 2);
    // the lookup as a spreadsheet saves it (a byte-order mark, `;`): the same deciles (it was
    // "column \"key\" is missing", the mark read as part of the header's first name)
    std::fs::write(tmp.path().join("lookup.csv"), "\u{feff}key;imd_decile\nE01000001;1\nE01000002;10\n").unwrap();
    let r = unheard(tmp.path(), &["run", "p.toml", "-q", "--out", "o2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let again = read(&tmp.path().join("o2/records/month=2025-01/part-0.parquet"));
    assert_eq!((0..3).map(|i| str_at(&again, "imd_quintile", i)).collect::<Vec<_>>(), col("imd_quintile"));
}

/// `cooccurrence` on data written here: the overall pair counts are those of `record_themes`
/// (records carrying both themes, recomputed here) as published, and no published count is 1–7.
#[test]
fn cooccurrence_counts_are_the_records_with_both_themes_published_safely() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f.csv"), crate::util::canonical_csv(900)).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "-q", "--no-state"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    // the themes of every record, from every record_themes partition
    let mut themes: HashMap<String, std::collections::BTreeSet<String>> = HashMap::new();
    for part in std::fs::read_dir(out.join("record_themes")).unwrap() {
        let t = read(&part.unwrap().path().join("part-0.parquet"));
        for i in 0..t["record_id"].len() {
            themes.entry(str_at(&t, "record_id", i)).or_default().insert(str_at(&t, "theme_code", i));
        }
    }
    let both = |a: &str, b: &str| themes.values().filter(|s| s.contains(a) && s.contains(b)).count() as i64;
    let c = read(&out.join("cooccurrence.parquet"));
    let n = c["both_n"].len();
    assert!(n > 0);
    let both_n = c["both_n"].as_primitive::<Int64Type>();
    let mut checked = 0;
    for i in 0..n {
        if !both_n.is_null(i) {
            let v = both_n.value(i);
            assert!(v == 0 || (v >= 10 && v % 5 == 0), "row {i}: {v} is not as published");
        }
        if c["dimension"].is_null(i) {
            let truth = both(&str_at(&c, "theme_a", i), &str_at(&c, "theme_b", i));
            let published = if truth == 0 {
                Some(0)
            } else if truth <= 7 {
                None
            } else {
                Some(((truth as f64) / 5.0).round() as i64 * 5)
            };
            assert_eq!((!both_n.is_null(i)).then(|| both_n.value(i)), published, "pair row {i}: {truth} records");
            checked += 1;
        }
    }
    assert!(checked > 3, "overall rows checked: {checked}");
    // the lift's interval holds it
    for i in 0..n {
        if let (Some(l), Some(lo), Some(hi)) =
            (f64_at(&c, "lift", i), f64_at(&c, "lift_low", i), f64_at(&c, "lift_high", i))
        {
            assert!(lo <= l && l <= hi, "row {i}: {lo} {l} {hi}");
        }
    }
}

/// `quotes` on data written here: no quote names a person, none comes from a cell
/// `theme_by_group` suppresses, none in a rare group holds any redaction, and every evidence
/// span points into its quote.
#[test]
fn quotes_keep_out_names_suppressed_cells_and_redactions_in_rare_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = format!("{HEADER}\n");
    let texts = [
        "The nurse was lovely and kind and explained everything to me very clearly today",
        "Dr Smith was rude to me and did not listen at all when I asked about the waiting time",
        "The wait was far too long, call me on 07700 900123 to talk about the waiting times please",
        "Parking was impossible and far too expensive for visitors to the hospital every time",
    ];
    for i in 0..800 {
        // Black patients: 80 records (a rare group), half of them with a phone number; White
        // British: the rest
        let eth = if i % 20 == 2 || i % 20 == 3 { "Black" } else { "White British" };
        csv.push_str(&format!(
            "R{i},P{i},2025-0{}-10,could_improve,\"{}\",2,,,,,,,{eth},,,,,,\n",
            1 + i % 6,
            texts[i % texts.len()]
        ));
    }
    std::fs::write(tmp.path().join("f.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "-q", "--no-state"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let q = read(&out.join("quotes.parquet"));
    let n = q["text"].len();
    assert!(n > 0);
    let tbg = read(&out.join("theme_by_group.parquet"));
    let cell = |dim: &str, group: &str, theme: &str| -> Option<(Option<i64>, Option<i64>)> {
        let (theme_n, group_n) =
            (tbg["theme_n"].as_primitive::<Int64Type>(), tbg["group_n"].as_primitive::<Int64Type>());
        (0..tbg["theme_n"].len())
            .find(|&i| {
                str_at(&tbg, "period_type", i) == "all"
                    && str_at(&tbg, "dimension", i) == dim
                    && str_at(&tbg, "group_name", i) == group
                    && str_at(&tbg, "theme_code", i) == theme
            })
            .map(|i| ((!theme_n.is_null(i)).then(|| theme_n.value(i)), (!group_n.is_null(i)).then(|| group_n.value(i))))
    };
    let (mut in_groups, mut marked_overall) = (0, 0);
    let (start, end) = (q["evidence_start"].as_primitive::<Int64Type>(), q["evidence_end"].as_primitive::<Int64Type>());
    for i in 0..n {
        let text = str_at(&q, "text", i);
        assert!(!text.contains("[NAME]") && !text.contains("Smith"), "a quote names a person: {text}");
        let span: String =
            text.chars().skip(start.value(i) as usize).take((end.value(i) - start.value(i)) as usize).collect();
        assert!(!span.trim().is_empty(), "row {i}: the span points into the quote");
        marked_overall += usize::from(text.contains('[') && q["dimension"].is_null(i));
        if q["dimension"].is_null(i) {
            continue;
        }
        in_groups += 1;
        let (dim, group, theme) =
            (str_at(&q, "dimension", i), str_at(&q, "group_name", i), str_at(&q, "theme_code", i));
        let (theme_n, group_n) = cell(&dim, &group, &theme).expect("the cell is in theme_by_group");
        assert!(theme_n.is_some_and(|n| n > 0), "{dim}/{group}/{theme}: a quote from a suppressed cell");
        if group_n.is_none_or(|n| n < 100) {
            assert!(!text.contains('['), "{dim}/{group}: a redacted quote in a rare group: {text}");
        }
    }
    assert!(in_groups > 0);
    let black = (0..n).filter(|&i| !q["dimension"].is_null(i) && str_at(&q, "group_name", i) == "Black").count();
    assert!(black > 0, "the rare group is quoted, without its redacted comments");
    // one comment is quoted once in a cell, however many records say the same
    let mut cells = std::collections::HashSet::new();
    for i in 0..n {
        let key =
            (opt(&q, "dimension", i), opt(&q, "group_name", i), str_at(&q, "theme_code", i), str_at(&q, "text", i));
        assert!(cells.insert(key.clone()), "{key:?} is quoted twice");
    }
    // the same phone-number comment may stand for a large group or overall: redaction shown there
    assert!(marked_overall > 0, "the redacted comment is quoted where no rare group is named");
}

/// `report.html` is one self-contained page: every section, every chart with a text
/// alternative, nothing fetched, and a comment's markup shown as text.
#[test]
fn the_report_is_self_contained_and_shows_markup_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = crate::util::markup_csv(6);
    std::fs::write(tmp.path().join("f.csv"), csv).unwrap();
    let r = crate::util::run_with_sample_baseline(tmp.path(), "o", &["--no-state", "--change", "c=2025-04-01"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let html = std::fs::read_to_string(tmp.path().join("o").join("report.html")).expect("report.html in every run");
    for id in ["glance", "missing", "worries", "ranking", "change", "together", "emerging", "methods"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    // markup in comments is text: escaped, never live
    assert!(!html.contains("<script>") && !html.contains("<img"), "a comment's markup is live");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"),
        "the comment is quoted as text"
    );
    // nothing fetched: no address, no external style, script or image
    for needle in ["http://", "https://", "<link", "src=\"", "src='", "href=", "@import", "url("] {
        assert!(!html.contains(needle), "the report fetches {needle}");
    }
    // every chart has a text alternative
    let svgs = html.matches("<svg").count();
    assert!(svgs >= 3, "charts drawn: {svgs}");
    assert_eq!(html.matches("role=\"img\"").count(), svgs);
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    assert!(html.matches("<title>").count() > svgs, "a title per chart besides the page's");
    assert!(html.len() < 3_000_000);
}

/// A small run (three comments, every count suppressed) and a run of no comments: each empty
/// section says why, where the report showed the bare headers of empty tables and the SPC
/// legend with no chart under it (found looking at both in headless Chromium).
#[test]
fn an_empty_section_of_the_report_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = crate::util::canonical_csv(3);
    std::fs::write(tmp.path().join("f.csv"), &csv).unwrap();
    std::fs::write(tmp.path().join("none.csv"), format!("{}\n", crate::util::HEADER)).unwrap();
    for (input, out) in [("f.csv", "small"), ("none.csv", "none")] {
        let r = crate::util::unheard(tmp.path(), &["run", "--input", input, "--out", out, "--no-state", "-q"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let html = std::fs::read_to_string(tmp.path().join(out).join("report.html")).unwrap();
        assert!(!html.contains("<tbody></tbody>"), "{out}: an empty table");
        for why in
            ["concerns can be ranked: no comment", "No SPC chart", "No pair of themes to show", "No words to show"]
        {
            assert!(html.contains(why), "{out}: {why:?} not said");
        }
        assert!(!html.contains("the green line is the centre"), "{out}: the SPC legend without a chart");
        assert!(!html.contains("turns these into codebook entries"), "{out}: a note on terms not shown");
        assert_eq!(html.contains("No comments in this run"), out == "none", "{out}");
    }
}
