//! `unheard archive`: the counts recomputed from the run folders of two runs of synthetic data.
//! The two readers (polars, arrow) give the same counts, those counts match DuckDB's own
//! group-by over the same files, the month is the partition folder's whatever the files hold,
//! `record_themes` may be one file (runs before issue 9) or partitioned by month, and what the command prints follows the
//! disclosure rule.

use std::path::Path;
use std::process::Command;

use unheard::archive::{count_arrow, count_polars, discover, ArchiveCounts};

use crate::util::{manifest, unheard};

/// Two runs of synthetic data under `dir/runs`.
fn two_runs(dir: &Path) {
    for (seed, records) in [("1", "2500"), ("2", "1800")] {
        let csv = format!("in-{seed}.csv");
        let r = unheard(dir, &["synth", "--records", records, "--seed", seed, "--out", &csv]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out = format!("runs/run-{seed}");
        let r = unheard(dir, &["run", "--input", &csv, "--out", &out, "-q"]);
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    }
}

fn both(root: &Path) -> ArchiveCounts {
    let archive = discover(root).expect("the archive is found");
    let polars = count_polars(&archive).expect("polars counts");
    let arrow = count_arrow(&archive).expect("arrow counts");
    assert_eq!(polars, arrow, "the two readers count the same");
    polars
}

fn python(script: &str, args: &[&str]) -> serde_json::Value {
    let r = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3 runs");
    assert!(
        r.status.success(),
        "python failed (install: python3 -m pip install -r tests/requirements.txt)\n{}",
        String::from_utf8_lossy(&r.stderr)
    );
    serde_json::from_slice(&r.stdout).expect("python prints JSON")
}

const DUCKDB: &str = r#"
import duckdb, json, sys
root = sys.argv[1]
con = duckdb.connect()
R = f"read_parquet('{root}/*/records/*/*.parquet', filename = true, hive_partitioning = false)"
T = f"read_parquet('{root}/*/record_themes/*/*.parquet', filename = true, hive_partitioning = false)"
rr = f"""SELECT regexp_extract(filename, '/([^/]+)/records/', 1) AS run,
  regexp_extract(filename, 'month=([^/]+)/', 1) AS m, record_id, source, response_id, ethnicity FROM {R}"""
groups = con.sql(f"""SELECT m, ethnicity, count(*),
  count(DISTINCT run || chr(31) || source || chr(31) || response_id) FROM ({rr}) GROUP BY ALL""").fetchall()
themes = con.sql(f"""SELECT m, ethnicity, theme_code, count(*), count(*) FILTER (WHERE is_concern)
  FROM (SELECT regexp_extract(filename, '/([^/]+)/record_themes', 1) AS run, record_id, theme_code, is_concern FROM {T})
  JOIN ({rr}) USING (run, record_id) GROUP BY ALL""").fetchall()
print(json.dumps({"groups": groups, "themes": themes}))
"#;

#[test]
fn archive_counts_agree_between_readers_and_with_duckdb() {
    let tmp = tempfile::tempdir().unwrap();
    two_runs(tmp.path());
    let root = tmp.path().join("runs");
    let counts = both(&root);
    assert_eq!(counts.runs, 2);
    assert_eq!(counts.orphan_themes, 0);
    let runs = ["run-1", "run-2"].map(|r| manifest(&root.join(r)));
    let sum = |key: &str| runs.iter().map(|m| m["counts"][key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(counts.records(), sum("records"));
    assert_eq!(counts.theme_totals().values().map(|c| c.mentions).sum::<u64>(), sum("record_themes"));
    assert!(counts.respondents() < counts.records(), "synthetic responses hold two texts");

    let duck = python(DUCKDB, &[root.to_str().unwrap()]);
    let groups = duck["groups"].as_array().unwrap();
    assert_eq!(groups.len(), counts.groups.keys().filter(|k| k.1 == "ethnicity").count());
    for g in groups {
        let key = (g[0].as_str().unwrap().to_owned(), "ethnicity".to_owned(), g[1].as_str().unwrap().to_owned());
        let c = counts.groups[&key];
        assert_eq!((c.records, c.respondents), (g[2].as_u64().unwrap(), g[3].as_u64().unwrap()), "{key:?}");
    }
    let themes = duck["themes"].as_array().unwrap();
    assert_eq!(themes.len(), counts.themes.keys().filter(|k| k.1 == "ethnicity").count());
    for t in themes {
        let s = |i: usize| t[i].as_str().unwrap().to_owned();
        let key = (s(0), "ethnicity".to_owned(), s(1), s(2));
        let c = counts.themes[&key];
        assert_eq!((c.mentions, c.concerns), (t[3].as_u64().unwrap(), t[4].as_u64().unwrap()), "{key:?}");
    }
}

const RELAYOUT: &str = r#"
import pyarrow as pa, pyarrow.parquet as pq, pathlib, sys
run = pathlib.Path(sys.argv[1])
for i, f in enumerate(sorted(run.glob("records/*/*.parquet"))):
    t = pq.read_table(f)
    # the first file says a wrong month inside (as runs before schema 1 wrote it); the others
    # hold no month column, as unheard writes them now
    if i == 0:
        t = t.append_column("month", pa.array(["1999-12"] * t.num_rows))
    pq.write_table(t, f)
# record_themes as runs before issue 9 wrote it: one file, no partitions
import shutil
parts = sorted(run.glob("record_themes/*/*.parquet"))
themes = pa.concat_tables([pq.read_table(f) for f in parts])
shutil.rmtree(run / "record_themes")
pq.write_table(themes, run / "record_themes.parquet")
print("{}")
"#;

#[test]
fn month_from_the_folder_and_record_themes_in_one_file() {
    let tmp = tempfile::tempdir().unwrap();
    two_runs(tmp.path());
    let root = tmp.path().join("runs");
    let before = both(&root);
    python(RELAYOUT, &[root.join("run-2").to_str().unwrap()]);
    assert!(root.join("run-2/record_themes.parquet").is_file());
    assert!(!root.join("run-2/record_themes").exists());
    assert_eq!(both(&root), before, "same counts: months from folder names, record_themes in one file");
    // an archive re-saved by another tool (polars writes large strings): the same counts, where
    // the arrow reader refused it as "not a string column"
    for f in crate::util::parquet_files(&root.join("run-1")) {
        crate::util::resave_wider(&f);
    }
    assert_eq!(both(&root), before, "same counts from files re-saved in wider types");
    // one run folder is an archive of one run
    let one = both(&root.join("run-1"));
    assert_eq!(one.runs, 1);
    assert!(one.records() < before.records());
}

/// A count as the disclosure rule publishes it (0 stays, 1–7 suppressed, else nearest 5),
/// written out here so the check does not share code with the tool.
fn published(n: u64) -> Option<u64> {
    match n {
        0 => Some(0),
        1..=7 => None,
        _ => Some((n + 2) / 5 * 5),
    }
}

#[test]
fn archive_command_prints_disclosed_counts() {
    let tmp = tempfile::tempdir().unwrap();
    two_runs(tmp.path());
    let counts = both(&tmp.path().join("runs"));
    let polars = unheard(tmp.path(), &["archive", "runs", "--json", "--top", "100"]);
    assert_eq!(polars.code, 0, "{}", polars.stderr);
    let arrow = unheard(tmp.path(), &["archive", "runs", "--json", "--top", "100", "--reader", "arrow"]);
    assert_eq!(arrow.stdout, polars.stdout, "both readers print the same");
    let j: serde_json::Value = serde_json::from_str(&polars.stdout).unwrap();
    assert_eq!(j["runs"], 2);
    assert_eq!(j["records"].as_u64(), published(counts.records()));
    assert_eq!(j["respondents"].as_u64(), published(counts.respondents()));
    let months = j["months"].as_array().unwrap();
    assert_eq!(months.len(), counts.months.len());
    for m in months {
        let raw = counts.months[m["month"].as_str().unwrap()];
        assert_eq!(m["records"].as_u64(), published(raw.records), "{m}");
    }
    let totals = counts.theme_totals();
    let themes = j["top_themes"].as_array().unwrap();
    assert_eq!(themes.len(), totals.len().min(100));
    let mut small = 0;
    for t in themes {
        let raw = totals[t["theme_code"].as_str().unwrap()];
        assert_eq!(t["mentions"].as_u64(), published(raw.mentions), "{t}");
        assert_eq!(t["concerns"].as_u64(), published(raw.concerns), "{t}");
        small += usize::from(t["concerns"].is_null());
    }
    let raw_small = totals.values().filter(|c| (1..=7).contains(&c.concerns)).count();
    assert_eq!(small, raw_small, "every concern count from 1 to 7 is suppressed");
    let text = unheard(tmp.path(), &["archive", "runs"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("2 runs"), "{}", text.stdout);
    let records = published(counts.records()).unwrap();
    assert!(text.stdout.contains(&format!("records {records},")), "{}", text.stdout);
}

#[test]
fn archive_without_runs_fails_naming_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let r = unheard(tmp.path(), &["archive", "empty"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("empty") && r.stderr.contains("no run folder"), "{}", r.stderr);
}

/// A run folder that lost its `manifest.json` (its records copied without it) was passed over:
/// the archive counted the other runs and said nothing of its records. It is now an error naming
/// the folder; a folder that is no run at all (notes beside the runs) is still passed over.
#[test]
fn a_run_folder_without_its_manifest_is_an_error_not_a_silent_gap() {
    let tmp = tempfile::tempdir().unwrap();
    two_runs(tmp.path());
    let runs = tmp.path().join("runs");
    std::fs::create_dir(runs.join("notes")).unwrap();
    std::fs::write(runs.join("notes/minutes.txt"), "not a run").unwrap();
    assert_eq!(discover(&runs).expect("notes beside the runs are passed over").runs.len(), 2);
    std::fs::remove_file(runs.join("run-2/manifest.json")).unwrap();
    let r = unheard(tmp.path(), &["archive", "runs"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("run-2") && r.stderr.contains("without its manifest.json"), "{}", r.stderr);
}

#[test]
fn runs_holding_the_same_records_are_said_to_overlap() {
    // found: the same export run into two folders (a run done again, or nightly runs' dated
    // folders, each holding every record of its state) was added up twice with nothing said
    let tmp = tempfile::tempdir().unwrap();
    two_runs(tmp.path());
    // the first 300 lines of run-1's export, under the same source name, in a folder of its own
    let head: String = std::fs::read_to_string(tmp.path().join("in-1.csv"))
        .unwrap()
        .lines()
        .take(301)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::create_dir(tmp.path().join("part")).unwrap();
    std::fs::write(tmp.path().join("part/in-1.csv"), head).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "part/in-1.csv", "--out", "runs/run-3", "-q"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let part = manifest(&tmp.path().join("runs/run-3"))["counts"]["records"].as_u64().unwrap();
    let archive = discover(&tmp.path().join("runs")).unwrap();
    let found = unheard::archive::overlaps(&archive).unwrap();
    assert_eq!(found.len(), 1, "run-2 (another source) shares nothing: {found:?}");
    assert!(found[0].first.ends_with("run-1") && found[0].second.ends_with("run-3"), "{found:?}");
    assert_eq!(found[0].records, part, "every record of the part is in run-1");
    let r = unheard(tmp.path(), &["archive", "runs", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("run-1") && r.stderr.contains("run-3") && r.stderr.contains("counted twice"),
        "{}",
        r.stderr
    );
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["overlapping_runs"][0]["records"].as_u64(), published(part), "{j}");
}

/// Runs coded with different codebooks: a theme code was added up across them whatever it meant
/// in each, with nothing said; a state folder given as the archive was "no list of dimensions at
/// settings.dimensions" (found in the twenty-fourth session on issue 9).
#[test]
fn runs_of_different_codebooks_are_said_and_a_state_is_not_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    two_runs(tmp.path());
    let r = unheard(tmp.path(), &["archive", "runs"]);
    assert!(!r.stderr.contains("codebooks"), "one codebook: {}", r.stderr);
    std::fs::write(
        tmp.path().join("other.toml"),
        "[codebook]\nname = \"other\"\nversion = \"1\"\n[[theme]]\ncode = \"GEN01\"\nname = \"Something else\"\ncategory = \"c\"\nterms = [\"wait*\"]\n",
    )
    .unwrap();
    let r =
        unheard(tmp.path(), &["run", "--input", "in-2.csv", "--out", "runs/run-3", "--codebook", "other.toml", "-q"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let r = unheard(tmp.path(), &["archive", "runs"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("coded with 2 codebooks") && r.stderr.contains("other 1 ("), "{}", r.stderr);
    let r = unheard(tmp.path(), &["archive", "runs/run-1.state"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("the state of nightly runs, not a run"), "{}", r.stderr);
}
