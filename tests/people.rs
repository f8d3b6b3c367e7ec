//! Demographics as trusts write them: age bands in force, NHS Data Dictionary codes, the
//! unmapped warning, `unheard people`, and the checks on a baseline. Data written here.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{manifest, parquet_files, unheard, HEADER};
use crate::who::{read, str_at};

/// One canonical row; `demo` = (sex, gender, age_band, ethnicity, disability, religion, sexuality).
fn row(i: usize, demo: [&str; 7]) -> String {
    let [sex, gender, age, eth, dis, rel, sx] = demo;
    let text = ["The nurse was kind", "The wait was far too long", "Parking was hard", "Food was cold"][i % 4];
    format!(
        "R{i},P{i},2025-0{}-10,could_improve,{text},2,,,,{sex},{gender},{age},{eth},,{dis},{rel},{sx},,\n",
        1 + i % 3
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Distinct values of `col` over every records partition.
fn record_values(out: &Path, col: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for f in parquet_files(&out.join("records")) {
        let t = read(&f);
        for i in 0..t[col].len() {
            set.insert(str_at(&t, col, i));
        }
    }
    set
}

/// Distinct groups of `dimension` in a who table.
fn table_groups(out: &Path, table: &str, dimension: &str) -> BTreeSet<String> {
    let t = read(&out.join(format!("{table}.parquet")));
    (0..t["group_name"].len())
        .filter(|&i| str_at(&t, "dimension", i) == dimension)
        .map(|i| str_at(&t, "group_name", i))
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_baseline_in_other_bands_gives_exactly_those_age_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let ages = ["18-24", "25 - 44", "45-64", "65+", "Over 65", "30", "70", "17", "65 and over", "50"];
    let mut csv = format!("{HEADER}\n");
    for i in 0..400 {
        csv.push_str(&row(i, ["", "", ages[i % ages.len()], "", "", "", ""]));
    }
    write(tmp.path(), "f.csv", &csv);
    write(
        tmp.path(),
        "b.csv",
        "dimension,group,population\nage_band,18-24,1000\nage_band,25-44,3000\nage_band,45-64,3000\nage_band,65+,2000\n",
    );
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--baseline", "b.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = tmp.path().join("o");
    assert_eq!(table_groups(&out, "representation", "age_band"), set(&["18-24", "25-44", "45-64", "65+"]));
    assert_eq!(
        record_values(&out, "age_band"),
        set(&["18-24", "25-44", "45-64", "65+", "17"]),
        "an age outside every band keeps its own name"
    );
    assert!(table_groups(&out, "theme_by_group", "age_band").contains("17"), "and has its theme statistics");
    let m = manifest(&out);
    assert_eq!(m["people"]["age_bands"]["from"], "baseline");
    assert_eq!(m["people"]["age_bands"]["bands"], serde_json::json!(["18-24", "25-44", "45-64", "65+"]));
    assert!(m["unmapped_values"].get("age_band").is_none(), "{}", m["unmapped_values"]);
    // the 40 records aged 17 are unmapped for representation: in n_missing, not in the shares
    let rep = read(&out.join("representation.parquet"));
    let i = (0..rep["group_name"].len())
        .find(|&i| str_at(&rep, "period", i) == "all" && str_at(&rep, "group_name", i) == "65+")
        .unwrap();
    let n = |c: &str| rep[c].as_any().downcast_ref::<arrow::array::Int64Array>().unwrap().value(i);
    assert_eq!(n("missing_n"), 40);
    assert_eq!(n("eligible_n"), 360);
    assert_eq!(n("feedback_n"), 160, "65+, Over 65, 70 and 65 and over: 4 of every 10 records");
}

#[test]
fn trust_bands_come_out_as_written_without_a_baseline_age() {
    let tmp = tempfile::tempdir().unwrap();
    let ages = ["0 - 11", "12-25", "26-39", "40-64", "Over 65", "30", "7"];
    let mut csv = format!("{HEADER}\n");
    for i in 0..70 {
        csv.push_str(&row(i, ["", "", ages[i % ages.len()], "", "", "", ""]));
    }
    write(tmp.path(), "f.csv", &csv);
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = tmp.path().join("o");
    let bands = set(&["0-11", "12-25", "26-39", "40-64", "65+"]);
    assert_eq!(record_values(&out, "age_band"), bands);
    assert_eq!(table_groups(&out, "theme_by_group", "age_band"), bands);
    assert_eq!(manifest(&out)["people"]["age_bands"]["from"], "source");
}

#[test]
fn coded_demographics_leave_under_two_percent_unmapped() {
    let tmp = tempfile::tempdir().unwrap();
    let sex = ["1", "2", "M", "F", "9"];
    let gender = ["1", "2", "9", "X", "3", "4", "Z"];
    let dis = ["Y", "N", "NN", "01", "ZZ", "1", "2", "XX", "09"];
    let rel = ["C", "G", "L", "M", "C22", "D", "I", "N", "F", "B", "K", "Z"];
    let sx = ["1", "2", "3", "4", "U", "Z", "9"];
    let eth = ["A", "CA", "H", "N", "Z", "99", "R"];
    let mut csv = format!("{HEADER}\n");
    for i in 0..500 {
        let d = [
            sex[i % sex.len()],
            gender[i % gender.len()],
            "",
            eth[i % eth.len()],
            dis[i % dis.len()],
            rel[i % rel.len()],
            sx[i % sx.len()],
        ];
        csv.push_str(&row(i, d));
    }
    // a few values nobody could know
    for i in 500..505 {
        csv.push_str(&row(i, ["", "", "", "", "", "Q7", ""]));
    }
    write(tmp.path(), "f.csv", &csv);
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o"]);
    assert_eq!(r.code, 1, "unmapped values are field issues: {}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let out = tmp.path().join("o");
    let m = manifest(&out);
    for dim in ["sex", "gender", "ethnicity", "disability", "religion", "sexuality"] {
        let share = m["people"]["unmapped_share"][dim].as_f64().unwrap();
        assert!(share < 0.02, "{dim}: {share}");
    }
    assert!(m["people"]["unmapped_share"]["religion"].as_f64().unwrap() > 0.0, "Q7 is not a code");
    assert_eq!(
        record_values(&out, "sexuality"),
        set(&["Heterosexual", "Gay or lesbian", "Bisexual", "Other", "not_stated", "missing"])
    );
    assert_eq!(
        record_values(&out, "religion"),
        set(&[
            "Christian",
            "Muslim",
            "No religion",
            "Hindu",
            "Sikh",
            "Jewish",
            "Buddhist",
            "Other",
            "not_stated",
            "missing",
            "unmapped"
        ])
    );
    assert_eq!(record_values(&out, "disability"), set(&["Yes", "No", "not_stated", "missing"]));
    assert_eq!(record_values(&out, "gender"), set(&["Man", "Woman", "Non-binary", "Other", "not_stated", "missing"]));
}

#[test]
fn a_dimension_more_than_five_percent_unmapped_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = format!("{HEADER}\n");
    for i in 0..100 {
        let rel = if i % 10 == 0 { "Jedi" } else { "Christian" };
        let sx = if i == 0 { "Martian" } else { "Bisexual" };
        csv.push_str(&row(i, ["", "", "", "", "", rel, sx]));
    }
    write(tmp.path(), "f.csv", &csv);
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o"]);
    assert_eq!(r.code, 1, "unmapped values are field issues: {}", r.stderr);
    let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{}", r.stderr);
    assert!(warnings[0].contains("10.0%") && warnings[0].contains("religion") && warnings[0].contains("\"Jedi\" (10)"));
    let m = manifest(&tmp.path().join("o"));
    let listed = m["people"]["warnings"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "1% of sexuality is under the threshold: {listed:?}");
    assert!(listed[0].as_str().unwrap().contains("religion"));
}

#[test]
fn people_lists_each_value_and_writes_a_snippet_that_maps_them() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = format!("{HEADER}\n");
    for i in 0..20 {
        // the third is CSV-quoted: the value is Church of "Latter" Days
        let rel = ["C", "Jedi", "\"Church of \"\"Latter\"\" Days\"", ""][i % 4];
        csv.push_str(&row(i, ["", "", ["26-39", "Over 65"][i % 2], "", "", rel, ""]));
    }
    write(tmp.path(), "f.csv", &csv);
    let r = unheard(tmp.path(), &["people", "--input", "f.csv", "--snippet", "s.toml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for line in ["\"C\" → Christian  5", "\"Jedi\" → unmapped  5", "\"\" → missing  5", "\"Over 65\" → 65+  10"]
    {
        assert!(r.stdout.contains(line), "{line:?} in\n{}", r.stdout);
    }
    assert!(r.stdout.contains("age bands from the source: 26-39, 65+"), "{}", r.stdout);
    let snippet = std::fs::read_to_string(tmp.path().join("s.toml")).unwrap();
    let parsed: toml::Table = snippet.parse().expect("the snippet is TOML");
    let map = &parsed["people"]["map"]["religion"];
    assert_eq!(map["Jedi"].as_str(), Some("unmapped"));
    assert_eq!(map["Church of \"Latter\" Days"].as_str(), Some("unmapped"));
    assert!(parsed["people"]["map"].get("age_band").is_none());

    // edited and pasted into a pipeline, it maps the values
    let edited = snippet.replace("= \"unmapped\"", "= \"Other\"");
    write(tmp.path(), "p.toml", &format!("[run]\nout = \"o\"\n[[source]]\npath = \"f.csv\"\n\n{edited}"));
    let r = unheard(tmp.path(), &["run", "p.toml", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(manifest(&tmp.path().join("o"))["unmapped_values"].get("religion").is_none());
    let r = unheard(tmp.path(), &["people", "p.toml", "--snippet", "s.toml"]);
    assert_eq!(r.code, 0, "its own snippet may be replaced: {}", r.stderr);
    assert!(r.stdout.contains("0 unmapped value(s)"), "{}", r.stdout);

    // a file it did not write is never replaced
    write(tmp.path(), "notes.txt", "mine\n");
    let r = unheard(tmp.path(), &["people", "--input", "f.csv", "--snippet", "notes.txt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("notes.txt") && r.stderr.contains("not written by"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(), "mine\n");
}

fn ethnicity_csv(dir: &Path) {
    let mut csv = format!("{HEADER}\n");
    for i in 0..60 {
        csv.push_str(&row(i, ["", "", "", ["White British", "Asian", "Black African"][i % 3], "", "", ""]));
    }
    write(dir, "f.csv", &csv);
}

#[test]
fn duplicate_baseline_rows_are_an_error_unless_summed() {
    let tmp = tempfile::tempdir().unwrap();
    ethnicity_csv(tmp.path());
    write(
        tmp.path(),
        "b.csv",
        "dimension,group,population\n# a comment line\nethnicity,White,100\nethnicity,Asian,50\nethnicity,White British,30\nethnicity,Black,20\n",
    );
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--baseline", "b.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("lines 3 and 5") && r.stderr.contains("\"White British\""), "{}", r.stderr);
    assert!(!tmp.path().join("o").exists());
    write(tmp.path(), "p.toml", "[run]\nout = \"o\"\n[[baseline]]\npath = \"b.csv\"\n[[source]]\npath = \"f.csv\"\n");
    let r = unheard(tmp.path(), &["validate", "p.toml"]);
    assert_eq!(r.code, 2, "validate checks duplicates too: {}", r.stdout);
    assert!(r.stderr.contains("lines 3 and 5"), "{}", r.stderr);

    write(
        tmp.path(),
        "p.toml",
        "[run]\nout = \"o\"\n[[baseline]]\npath = \"b.csv\"\nduplicates = \"sum\"\n[[source]]\npath = \"f.csv\"\n",
    );
    let r = unheard(tmp.path(), &["run", "p.toml", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = read(&tmp.path().join("o/representation.parquet"));
    let i = (0..rep["group_name"].len())
        .find(|&i| str_at(&rep, "period", i) == "all" && str_at(&rep, "group_name", i) == "White")
        .unwrap();
    let share = rep["population_share"].as_any().downcast_ref::<arrow::array::Float64Array>().unwrap().value(i);
    assert!((share - 130.0 / 200.0).abs() < 1e-12, "{share}");

    write(
        tmp.path(),
        "p.toml",
        "[run]\nout = \"o\"\n[[baseline]]\npath = \"b.csv\"\nduplicates = \"add\"\n[[source]]\npath = \"f.csv\"\n",
    );
    let r = unheard(tmp.path(), &["run", "p.toml", "-q"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("duplicates"), "{}", r.stderr);
}

#[test]
fn a_zero_or_missing_population_for_a_group_in_the_records_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    ethnicity_csv(tmp.path());
    write(
        tmp.path(),
        "zero.csv",
        "dimension,group,population\nethnicity,White,100\nethnicity,Asian,0\nethnicity,Black,20\n",
    );
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--baseline", "zero.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("line 3") && r.stderr.contains("\"Asian\" has population 0"), "{}", r.stderr);
    write(tmp.path(), "gap.csv", "dimension,group,population\nethnicity,White,100\nethnicity,Asian,50\n");
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--baseline", "gap.csv", "--out", "o", "-q"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no population for ethnicity group \"Black\", which 20 record(s) have"), "{}", r.stderr);
    assert!(!tmp.path().join("o").exists());
}

#[test]
fn a_baseline_dimension_no_record_has_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    ethnicity_csv(tmp.path());
    write(
        tmp.path(),
        "b.csv",
        "dimension,group,population\nethnicity,White,100\nethnicity,Asian,50\nethnicity,Black,20\nreligion,Christian,90\nshoe_size,9,10\n",
    );
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--baseline", "b.csv", "--out", "o"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("warning: ") && r.stderr.contains("no record has a stated religion"), "{}", r.stderr);
    assert!(r.stderr.contains("\"shoe_size\""), "{}", r.stderr);
    let w = manifest(&tmp.path().join("o"))["people"]["warnings"].to_string();
    assert!(w.contains("religion") && w.contains("shoe_size"), "{w}");
}

#[test]
fn unmapped_values_are_redacted_where_they_are_published() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = format!("{HEADER}\n");
    for i in 0..20 {
        let rel = if i % 4 == 0 { "me@example.org" } else { "Muslim" };
        csv.push_str(&row(i, ["", "", "", "", "", rel, ""]));
    }
    write(tmp.path(), "f.csv", &csv);
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o"]);
    assert_eq!(r.code, 1, "unmapped values are field issues: {}", r.stderr);
    assert!(r.stderr.contains("\"[EMAIL]\" (5)"), "{}", r.stderr);
    let text = std::fs::read_to_string(tmp.path().join("o/manifest.json")).unwrap();
    assert!(!text.contains("example.org") && text.contains("[EMAIL]"), "{text}");
    assert!(!r.stderr.contains("example.org"));
}

/// `unheard people` shows what may be published: a date of birth in the age column is `[DOB]`,
/// personal data typed into a demographic column is redacted (the snippet offers the redacted
/// value, which is what a mapping would meet).
#[test]
fn people_shows_no_personal_data_and_leaves_it_out_of_the_snippet() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = format!("{HEADER}\n");
    for i in 0..40 {
        let (age, rel) = match i % 4 {
            0 => ("1984-07-21", "Muslim"),
            1 => ("34", "call 07700 900123"),
            2 => ("25-34", "Pastafarian"),
            _ => ("40", "Christian"),
        };
        csv.push_str(&row(i, ["Female", "", age, "White", "", rel, ""]));
    }
    write(tmp.path(), "f.csv", &csv);
    let r = unheard(tmp.path(), &["people", "--input", "f.csv", "--snippet", "map.toml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let snippet = std::fs::read_to_string(tmp.path().join("map.toml")).unwrap();
    for shown in [&r.stdout, &r.stderr, &snippet] {
        assert!(!shown.contains("1984") && !shown.contains("900123"), "personal data shown: {shown}");
    }
    assert!(r.stdout.contains("\"[DOB]\""), "{}", r.stdout);
    assert!(snippet.contains("\"Pastafarian\" = \"unmapped\""), "{snippet}");
    // redacted at ingest: the placeholder is what a mapping would meet
    assert!(snippet.contains("\"call [PHONE]\" = \"unmapped\""), "{snippet}");
}
