//! What the codebook misses (issue 11, part 4): a topic planted in the last two months of
//! comments no theme codes comes first among the rising `emerging_terms`, and `unheard codebook
//! suggest` turns it into a codebook snippet that loads.

use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;

use crate::util::{unheard, HEADER};
use crate::who::{read, str_at};

#[test]
fn a_planted_topic_rises_first_and_becomes_a_codebook_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let coded = ["The nurse was lovely and kind", "Waited far too long to be seen", "Parking was impossible"];
    let uncoded = [
        "I went there on a Tuesday with my cousin",
        "We came over by ferry from the island",
        "It was my second visit this year",
    ];
    let mut csv = format!("{HEADER}\n");
    let mut id = 0;
    for month in 1..=12 {
        for i in 0..200 {
            id += 1;
            let text = if month >= 11 && i % 7 == 0 {
                "The hologram kiosk at the entrance kept beeping"
            } else if i % 2 == 0 {
                coded[i % 3]
            } else {
                uncoded[i % 3]
            };
            csv.push_str(&format!(
                "R{id},P{id},2025-{month:02}-{:02},could_improve,\"{text}\",3,,,,,,,,,,,,,\n",
                1 + i % 27
            ));
        }
    }
    std::fs::write(tmp.path().join("f.csv"), csv).unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--out", "o", "-q", "--no-state"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let t = read(&tmp.path().join("o").join("emerging_terms.parquet"));
    let z = t["rising_z"].as_primitive::<Float64Type>();
    let mut rising: Vec<(f64, String)> =
        (0..z.len()).filter(|&i| !z.is_null(i)).map(|i| (z.value(i), str_at(&t, "surface_forms", i))).collect();
    rising.sort_by(|a, b| b.0.total_cmp(&a.0));
    let planted = ["hologram", "kiosk", "beeping", "entrance"];
    assert!(planted.iter().any(|w| rising[0].1.contains(w)), "the planted topic rises first: {:?}", &rising[..5]);
    assert!(rising[0].0 > 1.96);
    // the stable uncoded comments do not rise
    let ferry = rising.iter().find(|r| r.1.contains("ferry")).expect("ferry is counted");
    assert!(ferry.0 < 1.96, "a steady topic is not rising: {ferry:?}");
    // the suggestion names it, and loads as a codebook
    let s = unheard(tmp.path(), &["codebook", "suggest", "o", "--top", "3"]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let first = s.stdout.split("[[theme]]").nth(1).expect("a theme is suggested");
    assert!(planted.iter().any(|w| first.contains(w)), "{}", s.stdout);
    std::fs::write(
        tmp.path().join("book.toml"),
        format!("[codebook]\nname = \"suggested\"\nversion = \"1\"\n{}", s.stdout),
    )
    .unwrap();
    let check = unheard(tmp.path(), &["codebook", "check", "book.toml"]);
    assert!(check.code == 0 || check.code == 1, "the snippet is a codebook: {} {}", check.stdout, check.stderr);
    // the table re-saved by another tool (large strings: it panicked) suggests the same
    crate::util::resave_wider(&tmp.path().join("o/emerging_terms.parquet"));
    let again = unheard(tmp.path(), &["codebook", "suggest", "o", "--top", "3"]);
    assert_eq!((again.code, again.stdout.as_str()), (0, s.stdout.as_str()), "{}", again.stderr);
    // a folder no run wrote (the data's folder, given by mistake) is said to be one
    let s = unheard(tmp.path(), &["codebook", "suggest", "."]);
    assert_eq!(s.code, 2, "{}", s.stderr);
    assert!(s.stderr.contains(". is not a run folder (no manifest.json)"), "{}", s.stderr);
}

/// Found on the real labelled export, which is not in date order: a nightly chain (which meets
/// the state's records month by month) and one run over the file met a term's spellings in other
/// orders, and `surface_forms` kept "the first met" — the same data gave two tables. The spellings
/// kept are now the three met earliest by date (then by a fixed hash of the record id), in that
/// order, whatever order the rows come in.
#[test]
fn surface_forms_do_not_depend_on_the_order_of_the_rows() {
    let tmp = tempfile::tempdir().unwrap();
    // one term (stem "beep") spelled five ways over the months, among other uncoded words
    let spellings = ["beeps", "beeped", "beeping", "BEEP", "Beepings"];
    let mut rows = Vec::new();
    for month in 1..=10u32 {
        for i in 0..30usize {
            let word = spellings[(month as usize + i) % spellings.len()];
            rows.push(format!(
                "R{month}-{i},P{month}-{i},2025-{month:02}-{:02},nonspecific,\"The {word} of the ferry crossing\",3,,,,,,,,,,,,,",
                1 + i % 27
            ));
        }
    }
    let run = |name: &str, rows: &[String]| {
        std::fs::write(tmp.path().join(format!("{name}.csv")), format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
        let r = unheard(tmp.path(), &["run", "--input", &format!("{name}.csv"), "--out", name, "-q", "--no-state"]);
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
        std::fs::read(tmp.path().join(name).join("emerging_terms.parquet")).unwrap()
    };
    let in_order = run("sorted", &rows);
    let mut shuffled = rows.clone();
    shuffled.reverse();
    shuffled.rotate_left(97);
    assert_eq!(in_order, run("shuffled", &shuffled), "emerging_terms depends on the order of the rows");
    let t = read(&tmp.path().join("sorted").join("emerging_terms.parquet"));
    let at = (0..t["term"].len()).find(|&i| str_at(&t, "term", i) == "beep").expect("the term is counted");
    // January's rows carry spellings 1, 2, 3 … in row order: the earliest by date come first
    assert_eq!(str_at(&t, "surface_forms", at).split("; ").count(), 3);
}

/// Pieces of one phrase, their recent counts rounded apart (35 and 30), were suggested as two
/// themes on the demo ("follow up was", "was all arranged": the same 80 comments, the same
/// examples; found by a reader in the twenty-sixth session on issue 9): one is suggested.
#[test]
fn pieces_of_one_phrase_are_one_suggestion_on_the_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    let r = unheard(&crate::util::project(), &["run", "-q", "--out", out.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let s = unheard(tmp.path(), &["codebook", "suggest", "d", "--top", "10"]);
    let terms: Vec<&str> = s.stdout.lines().filter(|l| l.starts_with("terms = ")).collect();
    assert!(terms.iter().any(|t| t.contains("follow up was")), "{terms:?}");
    assert!(!terms.iter().any(|t| t.contains("all arranged")), "{terms:?}");
    assert_eq!(terms.len(), 10);
}
