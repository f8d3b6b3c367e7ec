//! Change over time, end to end (issue 10): a trust's own export (its headers, day-first dates)
//! in which one concern halves from a known date. The change is declared, and `comparisons`,
//! `spc` and `spc_summary` must show it: the drop significant after correction, the series
//! rebased at the change on the improvement side, the under-heard group's own before/after rows
//! with its gap; and a change that cannot be compared is an error naming it.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};

use crate::util::{manifest, project, unheard};
use crate::who::{read, str_at};

/// The export: 24 months from January 2024, `per_month` comments each, in the trust's own
/// layout. Before 2025-01-01 a fifth of the comments complain of the wait; from then a tenth
/// (the other comments keep their shares).
/// Asian patients are 2 % of respondents against 10 % of the population (under-heard).
fn trust_export(per_month: usize) -> String {
    let mut s = String::from(
        "Response ID,Date of response,Why did you give this answer?,Score,Service,Ethnic group,Age group\n",
    );
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let others = [
        "Staff were kind and explained everything",
        "Parking was difficult to find",
        "The food was cold",
        "Lovely clean ward",
        "Nobody rang me back about my results",
    ];
    let mut id = 0;
    for m in 0..24u32 {
        let (year, month) = (2024 + m / 12, 1 + m % 12);
        let wait_share = if year < 2025 { 20 } else { 10 };
        for _ in 0..per_month {
            id += 1;
            let day = 1 + next(28);
            // each other comment keeps its share (10 %); the wait gives way to a plain "fine"
            let roll = next(100);
            let text = if roll < 50 {
                others[(roll / 10) as usize]
            } else if roll < 50 + wait_share {
                "Waited hours to be seen, far too long a wait in A&E"
            } else {
                "Fine"
            };
            let ethnicity = match next(100) {
                0..=1 => "Asian or Asian British",
                2..=9 => "Black or Black British",
                10..=12 => "Mixed",
                13..=15 => "Other ethnic group",
                _ => "White British",
            };
            let age = ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"][next(7) as usize];
            s.push_str(&format!(
                "T{id:06},{day:02}/{month:02}/{year},\"{text}\",{},Emergency Department,{ethnicity},{age}\n",
                1 + next(5)
            ));
        }
    }
    s
}

fn pipeline(change: &str) -> String {
    format!(
        r#"[run]
name = "ed"

[[baseline]]
path = "{baseline}"

[[source]]
name = "ed_fft"
path = "export.csv"
date_format = "%d/%m/%Y"
question = "nonspecific"
[source.columns]
response_id = "Response ID"
received_date = "Date of response"
text = "Why did you give this answer?"
rating = "Score"
org_level_1 = "Service"
ethnicity = "Ethnic group"
age_band = "Age group"

{change}
"#,
        baseline = project().join("data-samples/population-baseline.csv").display()
    )
}

const TRIAGE: &str = "[[change]]\nname = \"new triage\"\ndate = \"2025-01-01\"\n";

fn f64_at(t: &HashMap<String, ArrayRef>, col: &str, i: usize) -> Option<f64> {
    let a = t[col].as_primitive::<Float64Type>();
    (!a.is_null(i)).then(|| a.value(i))
}

fn i64_at(t: &HashMap<String, ArrayRef>, col: &str, i: usize) -> Option<i64> {
    let a = t[col].as_primitive::<Int64Type>();
    (!a.is_null(i)).then(|| a.value(i))
}

fn opt_str(t: &HashMap<String, ArrayRef>, col: &str, i: usize) -> Option<String> {
    let a = t[col].as_string::<i32>();
    (!a.is_null(i)).then(|| a.value(i).to_owned())
}

fn rows(t: &HashMap<String, ArrayRef>) -> usize {
    t.values().next().map_or(0, |a| a.len())
}

/// The theme the waiting complaints are coded with: the one on most `record_themes` rows of a
/// record whose text is the complaint.
fn waiting_theme(out: &Path) -> String {
    let records = read(&out.join("records").join("month=2024-01").join("part-0.parquet"));
    let id = (0..rows(&records))
        .find(|&i| str_at(&records, "text", i).starts_with("Waited hours"))
        .map(|i| str_at(&records, "record_id", i))
        .expect("a waiting comment");
    let themes = read(&out.join("record_themes").join("month=2024-01").join("part-0.parquet"));
    let coded: Vec<String> = (0..rows(&themes))
        .filter(|&i| str_at(&themes, "record_id", i) == id && themes["is_concern"].as_boolean().value(i))
        .map(|i| str_at(&themes, "theme_code", i))
        .collect();
    assert_eq!(coded.len(), 1, "the complaint is one concern: {coded:?}");
    coded[0].clone()
}

#[test]
fn a_halved_concern_is_significant_and_its_chart_shifts_to_improvement_at_the_change() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("export.csv"), trust_export(300)).unwrap();
    std::fs::write(tmp.path().join("ed.toml"), pipeline(TRIAGE)).unwrap();
    let r = unheard(tmp.path(), &["run", "ed.toml", "--out", "o", "-q", "--json"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let wait = waiting_theme(&out);
    let c = read(&out.join("comparisons.parquet"));
    let row = |dim: Option<&str>, group: Option<&str>, measure: &str| {
        (0..rows(&c))
            .find(|&i| {
                str_at(&c, "theme_code", i) == wait
                    && str_at(&c, "measure", i) == measure
                    && opt_str(&c, "dimension", i).as_deref() == dim
                    && opt_str(&c, "group_name", i).as_deref() == group
            })
            .expect("row")
    };
    // overall: the concern's rate halved (about 0.2 → 0.1), significant after BH
    let o = row(None, None, "concerns");
    assert_eq!(str_at(&c, "change_name", o), "new triage");
    let (before, after) = (f64_at(&c, "before_rate", o).unwrap(), f64_at(&c, "after_rate", o).unwrap());
    assert!((0.17..0.23).contains(&before) && (0.08..0.12).contains(&after), "{before} → {after}");
    // the rates are the published counts' ratios, every count rounded to 5
    for (x, n, rate) in [("before_measure_n", "before_n", before), ("after_measure_n", "after_n", after)] {
        let (x, n) = (i64_at(&c, x, o).unwrap(), i64_at(&c, n, o).unwrap());
        assert!(x % 5 == 0 && n % 5 == 0, "published counts are rounded: {x}/{n}");
        assert!((rate - x as f64 / n as f64).abs() < 1e-12);
    }
    let (diff, low, high) =
        (f64_at(&c, "diff", o).unwrap(), f64_at(&c, "diff_low", o).unwrap(), f64_at(&c, "diff_high", o).unwrap());
    assert!(low < diff && diff < high && high < 0.0, "the interval excludes 0: {low} {diff} {high}");
    assert!(f64_at(&c, "q_value", o).unwrap() <= 0.05 && c["is_significant"].as_boolean().value(o));
    assert_eq!(str_at(&c, "test", o), "pooled_z");
    // a theme that did not change is not significant overall
    let unchanged = (0..rows(&c)).filter(|&i| {
        opt_str(&c, "dimension", i).is_none() && str_at(&c, "theme_code", i) != wait && !c["is_significant"].is_null(i)
    });
    assert!(unchanged.clone().count() > 0);
    assert!(
        unchanged.filter(|&i| c["is_significant"].as_boolean().value(i)).count() <= 1,
        "few false alarms among the unchanged themes"
    );
    // the under-heard group's own before/after, with its gap to the rest of its dimension
    let asian = row(Some("ethnicity"), Some("Asian"), "concerns");
    assert_eq!(opt_str(&c, "representation_flag", asian).as_deref(), Some("under_represented"));
    assert!(i64_at(&c, "before_n", asian).is_some() && i64_at(&c, "after_n", asian).is_some());
    if let (Some(g), Some(d), Some(lo), Some(hi)) = (
        f64_at(&c, "gap_diff", asian),
        f64_at(&c, "diff", asian),
        f64_at(&c, "gap_low", asian),
        f64_at(&c, "gap_high", asian),
    ) {
        assert!(lo <= g && g <= hi);
        // the rest: the other stated groups of the dimension with all four counts published
        let (mut bn, mut bx, mut an, mut ax) = (0, 0, 0, 0);
        for i in 0..rows(&c) {
            let group = opt_str(&c, "group_name", i).unwrap_or_default();
            if str_at(&c, "theme_code", i) != wait
                || str_at(&c, "measure", i) != "concerns"
                || opt_str(&c, "dimension", i).as_deref() != Some("ethnicity")
                || ["Asian", "missing", "not_stated", "unmapped"].contains(&group.as_str())
            {
                continue;
            }
            if let (Some(a), Some(b), Some(x), Some(y)) = (
                i64_at(&c, "before_n", i),
                i64_at(&c, "before_measure_n", i),
                i64_at(&c, "after_n", i),
                i64_at(&c, "after_measure_n", i),
            ) {
                (bn, bx, an, ax) = (bn + a, bx + b, an + x, ax + y);
            }
        }
        let rest = ax as f64 / an as f64 - bx as f64 / bn as f64;
        assert!((g - (d - rest)).abs() < 1e-12, "gap {g} = {d} − {rest}");
    } else {
        let show = |c2: &str| i64_at(&c, c2, asian);
        panic!(
            "the under-heard group's gap is published when its counts are: {:?} {:?} {:?} {:?} {:?} {:?}",
            show("before_n"),
            show("before_measure_n"),
            show("after_n"),
            show("after_measure_n"),
            f64_at(&c, "diff", asian),
            opt_str(&c, "withheld", asian)
        );
    }
    let white = row(Some("ethnicity"), Some("White"), "concerns");
    assert_eq!(opt_str(&c, "representation_flag", white), None, "no gap for a group that is not under-heard");
    assert!(c["gap_diff"].is_null(white));

    // spc: the concern's monthly series is rebased at the change, on the improvement side
    let s = read(&out.join("spc_summary.parquet"));
    let series = (0..rows(&s))
        .find(|&i| str_at(&s, "theme_code", i) == wait && str_at(&s, "measure", i) == "concerns")
        .expect("series");
    assert_eq!(opt_str(&s, "rebased_at", series).as_deref(), Some("new triage"));
    assert_eq!(opt_str(&s, "change_label", series).as_deref(), Some("improvement"));
    assert_eq!(opt_str(&s, "change_signal", series).as_deref(), Some("7 Points Below CL"));
    let p = read(&out.join("spc.parquet"));
    let points: Vec<usize> = (0..rows(&p))
        .filter(|&i| str_at(&p, "theme_code", i) == wait && str_at(&p, "measure", i) == "concerns")
        .collect();
    assert_eq!(points.len(), 24);
    // after the change, the centre line is the new level's
    let last = *points.last().unwrap();
    assert_eq!(opt_str(&p, "rebased_at", last).as_deref(), Some("new triage"));
    assert!(f64_at(&p, "centre", last).unwrap() < 0.12 && f64_at(&p, "centre", points[0]).unwrap() > 0.17);
    // without rebasing (no change declared) the same series signals special cause, improvement
    let tmp2 = tempfile::tempdir().unwrap();
    std::fs::write(tmp2.path().join("export.csv"), trust_export(300)).unwrap();
    std::fs::write(tmp2.path().join("ed.toml"), pipeline("")).unwrap();
    let r2 = unheard(tmp2.path(), &["run", "ed.toml", "--out", "o", "-q"]);
    assert!(r2.code == 0 || r2.code == 1, "{}", r2.stderr);
    let p2 = read(&tmp2.path().join("o").join("spc.parquet"));
    let labels: Vec<Option<String>> = (0..rows(&p2))
        .filter(|&i| str_at(&p2, "theme_code", i) == wait && str_at(&p2, "measure", i) == "concerns")
        .map(|i| opt_str(&p2, "point_label", i))
        .collect();
    assert!(labels[12..].iter().all(|l| l.as_deref() == Some("improvement")), "{labels:?}");
    assert!(
        read(&tmp2.path().join("o").join("comparisons.parquet")).values().all(|a| a.is_empty()),
        "no change, no comparison"
    );

    // the --json summary counts them
    let summary: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    assert!(summary["significant_changes"].as_u64().unwrap() >= 1);
    assert_eq!(
        summary["special_causes"].as_u64().unwrap(),
        (0..rows(&p))
            .filter(|&i| !p["is_special_cause"].is_null(i) && p["is_special_cause"].as_boolean().value(i))
            .count() as u64
    );
    assert_eq!(manifest(&out)["settings"]["changes"][0]["name"], "new triage");
}

/// A change without records on both sides (declared before it happens, in a nightly pipeline; or
/// before the records begin; or a window its filters leave empty) used to stop the run, so a
/// nightly pipeline failed every night until the day came. It is now said (a warning, in the
/// report too) and not compared: every table is the bytes of a run without it. A change that is
/// not a change (no date, no such day, no such source) is still an error.
#[test]
fn a_change_without_records_on_both_sides_is_said_and_not_compared_and_a_bad_one_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("export.csv"), trust_export(20)).unwrap();
    std::fs::write(tmp.path().join("ed.toml"), pipeline("")).unwrap();
    let r = unheard(tmp.path(), &["run", "ed.toml", "--out", "none", "-q"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let code = r.code;
    let parquet = |out: &str| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let dir = tmp.path().join(out);
        crate::util::parquet_files(&dir)
            .into_iter()
            .map(|p| (p.strip_prefix(&dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()))
            .collect()
    };
    let not_compared: [(&str, &[&str], &str); 3] = [
        ("", &["--change", "relaunch=2027-03-01"], "change \"relaunch\" (2027-03-01): outside the records' dates"),
        ("", &["--change", "launch=2024-01-01"], "change \"launch\" (2024-01-01): outside the records' dates"),
        (
            "[[change]]\nname = \"short\"\ndate = \"2024-06-15\"\nwindow_days = 1\norg_level_1 = [\"Maternity\"]\n",
            &[],
            "change \"short\" (2024-06-15): no record",
        ),
    ];
    for (i, (toml, flags, needle)) in not_compared.iter().enumerate() {
        std::fs::write(tmp.path().join("ed.toml"), pipeline(toml)).unwrap();
        let out = format!("n{i}");
        let mut args = vec!["run", "ed.toml", "--out", out.as_str(), "-q", "--json"];
        args.extend_from_slice(flags);
        let r = unheard(tmp.path(), &args);
        assert_eq!(r.code, code, "case {i}: exit codes say rows and fields, as without it: {}", r.stderr);
        let summary: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
        let said = summary["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str());
        assert_eq!(said.filter(|w| w.contains(needle) && w.contains("not compared")).count(), 1, "case {i}: {summary}");
        assert!(parquet(&out) == parquet("none"), "case {i}: every table a run without the change's");
        let page = std::fs::read_to_string(tmp.path().join(&out).join("report.html")).unwrap();
        assert!(page.contains("Not compared: "), "case {i}: the report says it");
    }
    // beside a change that is compared, the same rows as without the other
    std::fs::write(tmp.path().join("ed.toml"), pipeline(TRIAGE)).unwrap();
    for (out, flags) in [("one", &[][..]), ("two", &["--change", "relaunch=2027-03-01"][..])] {
        let mut args = vec!["run", "ed.toml", "--out", out, "-q"];
        args.extend_from_slice(flags);
        assert!(matches!(unheard(tmp.path(), &args).code, 0 | 1));
    }
    assert!(parquet("one") == parquet("two"), "a compared change's rows are the same beside one that is not");
    let errors: [(&str, &[&str], &str); 6] = [
        ("", &["--change", "nodate"], "NAME=YYYY-MM-DD"),
        ("", &["--change", "x=2024-02-30"], "not a date"),
        // a two-digit year was the year 25, a signed one 2025, unsaid (twenty-fourth session)
        ("", &["--change", "x=25-06-01"], "four digits of year"),
        ("", &["--change", "x=+002025-01-01"], "four digits of year"),
        ("[[change]]\nname = \"relaunch\"\ndate = \"24-06-01\"\n", &[], "is not a date; write YYYY-MM-DD"),
        (
            "[[change]]\nname = \"pals\"\ndate = \"2024-06-01\"\nsource = [\"pals\"]\n",
            &[],
            "no source is named \"pals\"",
        ),
    ];
    for (i, (toml, flags, needle)) in errors.iter().enumerate() {
        std::fs::write(tmp.path().join("ed.toml"), pipeline(toml)).unwrap();
        let out = format!("o{i}");
        let mut args = vec!["run", "ed.toml", "--out", out.as_str(), "-q"];
        args.extend_from_slice(flags);
        let r = unheard(tmp.path(), &args);
        assert_eq!(r.code, 2, "case {i}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "case {i}: {}", r.stderr);
        assert!(!tmp.path().join(&out).exists(), "case {i}: nothing is published");
    }
    // a --change of a pipeline change's name moves it; the day of the change counts as after
    std::fs::write(tmp.path().join("ed.toml"), pipeline(TRIAGE)).unwrap();
    let r = unheard(tmp.path(), &["run", "ed.toml", "--out", "moved", "-q", "--change", "new triage=2024-07-01"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let c = read(&tmp.path().join("moved").join("comparisons.parquet"));
    let dates = c["change_date"].as_primitive::<arrow::datatypes::Date32Type>();
    assert!(
        !dates.is_empty()
            && (0..dates.len()).all(|i| dates.value_as_date(i).map(|d| d.to_string()).as_deref() == Some("2024-07-01"))
    );
}

#[test]
fn comparisons_and_charts_are_the_same_bytes_whatever_the_threads() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("export.csv"), trust_export(60)).unwrap();
    std::fs::write(tmp.path().join("ed.toml"), pipeline(&format!("{TRIAGE}\n[analysis]\nspc_period = \"week\"\n")))
        .unwrap();
    for (out, threads) in [("one", "1"), ("two", "2")] {
        let r = unheard(tmp.path(), &["run", "ed.toml", "--out", out, "--threads", threads, "-q"]);
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    }
    for table in ["comparisons.parquet", "spc.parquet", "spc_summary.parquet", "theme_by_group.parquet"] {
        let (a, b) = (
            std::fs::read(tmp.path().join("one").join(table)).unwrap(),
            std::fs::read(tmp.path().join("two").join(table)).unwrap(),
        );
        assert!(a == b, "{table} differs between 1 and 2 threads");
    }
    // weekly periods start on Mondays
    let p = read(&tmp.path().join("one").join("spc.parquet"));
    let days = p["period_start"].as_primitive::<arrow::datatypes::Date32Type>();
    assert!((0..days.len())
        .all(|i| days.value_as_date(i).map(|d| chrono::Datelike::weekday(&d)) == Some(chrono::Weekday::Mon)));
    assert!(days.len() > 2 * 100, "a hundred weeks per series");
}

/// Issue 11's done-means on a trust's own export: the report alone says who is missing, what they
/// are worried about in their own redacted words, what changed at the service change, and what
/// new topic is emerging.
#[test]
fn the_report_says_who_is_missing_what_worries_them_what_changed_and_what_is_new() {
    let tmp = tempfile::tempdir().unwrap();
    // Asian patients (under-heard) write about interpreters
    let mut export: String = trust_export(300)
        .lines()
        .map(|line| {
            let mut f: Vec<String> = line.splitn(3, ',').map(str::to_owned).collect();
            if line.contains(",Asian or Asian British,") {
                let rest = f[2].split_once("\",").map(|x| x.1.to_owned()).unwrap_or_default();
                f[2] = format!(
                    "\"I needed an interpreter and none came, so I could not follow what the doctor said\",{rest}"
                );
            }
            f.join(",") + "\n"
        })
        .collect();
    // a new topic no theme codes, in the last two months only
    for (k, month) in [11, 12].into_iter().enumerate() {
        for i in 0..40 {
            export.push_str(&format!(
                "N{k}{i:03},{:02}/{month:02}/2025,\"The hologram kiosk at the entrance kept beeping\",3,Emergency Department,White British,45-54\n",
                1 + i % 27
            ));
        }
    }
    std::fs::write(tmp.path().join("export.csv"), export).unwrap();
    std::fs::write(tmp.path().join("ed.toml"), pipeline(TRIAGE)).unwrap();
    let r = unheard(tmp.path(), &["run", "ed.toml", "--out", "o", "-q", "--no-state"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let out = tmp.path().join("o");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let section = |from: &str, to: &str| -> String {
        let (a, b) = (html.find(&format!("id=\"{from}\"")).unwrap(), html.find(&format!("id=\"{to}\"")).unwrap());
        html[a..b].to_owned()
    };
    // who is missing: the under-heard group named
    assert!(
        section("missing", "worries").contains("Under-heard: Asian (under represented"),
        "{}",
        section("missing", "worries")
    );
    // what worries them, in their own words
    let worries = section("worries", "ranking");
    assert!(worries.contains("ethnicity: Asian") && worries.contains("<blockquote>"), "{worries}");
    // what changed: the waiting concern, a significant fall (a blue mark) at the declared change
    let wait = waiting_theme(&out);
    let change = section("change", "together");
    assert!(change.contains("new triage") && change.contains(&wait), "{wait}");
    assert!(change.contains("fill=\"#0072B2\""), "a significant fall is drawn");
    // what is new: the planted topic among the rising uncoded terms
    assert!(section("emerging", "methods").contains("hologram"), "{}", section("emerging", "methods"));
}
