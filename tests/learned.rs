//! The learned coder as a user runs it: train on a small synthetic labelled file, evaluate the
//! model and by cross-validation, refuse a model of another analyzer, and code a run with it.

use arrow::array::AsArray;

use crate::util::{canonical_csv, parquet_files, strings, table, unheard};

const HEADER: &str = "Comment ID,Respondent ID,FFT categorical answer,FFT question,FFT answer,Comment sentiment,Not assigned,Parking,Staff manner & personal attributes,Timeliness of care";

/// Synthetic comments (written here, not real ones), with their labels and sentiment.
fn labelled_csv(rows: usize) -> String {
    let texts: [(&str, [u8; 4], u8); 6] = [
        ("Parking was impossible and expensive", [0, 1, 0, 0], 5),
        ("The nurse was lovely and kind", [0, 0, 1, 0], 1),
        ("Waited far too long, over three hours", [0, 0, 0, 1], 5),
        ("Kind staff but the wait was far too long", [0, 0, 1, 1], 3),
        ("No parking spaces and a long wait", [0, 1, 0, 1], 4),
        ("Really caring and kind doctor", [0, 0, 1, 0], 2),
    ];
    let extra = ["", " today", " again", " on Monday", " this time"];
    let mut s = format!("{HEADER}\n");
    for i in 0..rows {
        let (t, y, sent) = texts[i % texts.len()];
        s.push_str(&format!(
            "C{i},P{},{},What was good?,\"{t}{}\",{sent},{},{},{},{}\n",
            i / 3,
            1 + i % 5,
            extra[i % extra.len()],
            y[0],
            y[1],
            y[2],
            y[3]
        ));
    }
    s
}

#[test]
fn train_eval_cross_validate_and_run_with_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("l.csv"), labelled_csv(120)).unwrap();
    let r = unheard(dir, &["train", "--labelled", "l.csv", "--out", "m.json", "--seed", "3"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("trained 4 labels and sentiment on 120 records"), "{}", r.stdout);
    let model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("m.json")).unwrap()).unwrap();
    assert_eq!(model["version"], 1);
    assert_eq!(model["analyzer"], unheard::text::ANALYZER_ID);
    assert_eq!(model["training"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(model["labels"].as_array().unwrap().len(), 4);
    assert!(model["labels"][1]["threshold"].is_number());
    assert!(model["features"]["vocabulary"].as_array().unwrap().len() > 10);

    // the same seed gives the same model (bar the timing); `-q`, as a scheduler runs a
    // retraining, prints nothing (train had no `-q` until the fifteenth session on issue 9)
    let r = unheard(dir, &["train", "--labelled", "l.csv", "--out", "m2.json", "--seed", "3", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""), "train -q says nothing");
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("m2.json")).unwrap()).unwrap();
    assert_eq!(again["labels"], model["labels"]);

    // the model on its own training data
    let r = unheard(dir, &["eval", "--model", "m.json", "--labelled", "l.csv", "--out", "ev"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let metrics = table(&dir.join("ev/metrics.parquet"));
    let labels = strings(&metrics, "label");
    let f1 = metrics.column_by_name("f1").unwrap().as_primitive::<arrow::datatypes::Float64Type>();
    let micro = labels.iter().position(|l| l.as_deref() == Some("_micro")).unwrap();
    assert!(f1.value(micro) > 0.8, "micro-F1 on the training data: {}\n{}", f1.value(micro), r.stdout);
    assert!(!labels.iter().any(|l| l.as_deref() == Some("Not assigned")), "left out of the scores");
    let preds = table(&dir.join("ev/predictions.parquet"));
    assert_eq!(preds.num_rows(), 120 * 4, "record × label");
    assert_eq!(strings(&preds, "record_id")[0].as_deref(), Some("C0"));

    // 3-fold cross-validation by respondent
    let r = unheard(dir, &["eval", "--folds", "3", "--labelled", "l.csv", "--out", "cv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("3-fold cross-validation"), "{}", r.stdout);
    assert!(dir.join("cv/metrics.parquet").exists() && dir.join("cv/predictions.parquet").exists());

    // a model of another analyzer is refused, naming the file
    let text = std::fs::read_to_string(dir.join("m.json")).unwrap();
    std::fs::write(dir.join("other.json"), text.replace(unheard::text::ANALYZER_ID, "some-other-analyzer/9")).unwrap();
    let r = unheard(dir, &["eval", "--model", "other.json", "--labelled", "l.csv"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("other.json") && r.stderr.contains("some-other-analyzer/9"), "{}", r.stderr);
    std::fs::write(dir.join("v9.json"), text.replacen("\"version\":1", "\"version\":9", 1)).unwrap();
    let r = unheard(dir, &["eval", "--model", "v9.json", "--labelled", "l.csv"]);
    assert!(r.code == 2 && r.stderr.contains("v9.json") && r.stderr.contains("version 9"), "{}", r.stderr);

    // a run with the model: its themes are recorded with origin "model"
    std::fs::write(
        dir.join("map.csv"),
        "theme_code,label\nLOC03,Parking\nSTF01,Staff manner & personal attributes\nACC04,Timeliness of care\n",
    )
    .unwrap();
    std::fs::write(dir.join("feedback.csv"), canonical_csv(60)).unwrap();
    std::fs::write(
        dir.join("p.toml"),
        "[run]\nout = \"o\"\n[coder]\nmodel = \"m.json\"\nlabel_map = \"map.csv\"\npolicy = \"union\"\n[[source]]\npath = \"feedback.csv\"\n",
    )
    .unwrap();
    let r = unheard(dir, &["run", "p.toml", "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let parts: Vec<_> = parquet_files(&dir.join("o/record_themes")).iter().map(|p| table(p)).collect();
    let themes = arrow::compute::concat_batches(&parts[0].schema(), &parts).unwrap();
    let origin = strings(&themes, "origin");
    let rule = strings(&themes, "rule");
    assert!(origin.iter().any(|o| o.as_deref() == Some("model")), "{origin:?}");
    for (o, r) in origin.iter().zip(&rule) {
        assert!(matches!(o.as_deref(), Some("codebook" | "model" | "both")));
        assert_eq!(o.as_deref() == Some("model"), r.is_none(), "model-only themes have no rule");
    }
    let m = crate::util::manifest(&dir.join("o"));
    assert_eq!(m["model"]["sha256"].as_str().map(str::len), Some(64), "the manifest records the model's hash");
    // explain shows the codebook's coding: of a run that coded with the model too, it says so
    // (a record the model alone coded was explained as "themes: none" with nothing said)
    let ids = strings(&themes, "record_id");
    let by_model = ids[origin.iter().position(|o| o.as_deref() == Some("model")).unwrap()].clone().unwrap();
    let e = unheard(dir, &["explain", "--record", &by_model, "--run", "o"]);
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert!(
        e.stderr.contains("the run coded with policy union and the learned model m.json")
            && e.stderr.contains("are not explained here, only the codebook's"),
        "{}",
        e.stderr
    );
}

#[test]
fn train_on_the_long_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut texts = String::from("Comment ID,Respondent ID,FFT question,FFT answer,Comment sentiment\n");
    let mut long = String::from("record_id,label\n");
    for i in 0..90 {
        let (t, labels): (&str, &[&str]) = match i % 3 {
            0 => ("Parking was impossible", &["Parking"]),
            1 => ("The nurse was lovely", &["Staff manner"]),
            _ => ("Lovely nurse but nowhere to park", &["Parking", "Staff manner"]),
        };
        texts.push_str(&format!("L{i},P{},What could we do better?,{t} {i},\n", i / 2));
        for l in labels {
            long.push_str(&format!("L{i},{l}\n"));
        }
    }
    std::fs::write(dir.join("texts.csv"), texts).unwrap();
    std::fs::write(dir.join("long.csv"), &long).unwrap();
    let r = unheard(dir, &["train", "--labelled", "texts.csv", "--long-labels", "long.csv", "--out", "m.json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("trained 2 labels"), "{}", r.stdout);
    // the same labels as a spreadsheet in a decimal-comma locale saves them (a byte-order mark,
    // `;`), with an unlabelled record a join left in: the same model, the blank label said, not
    // a label named ""
    let saved = format!("\u{feff}{}L0;\n", long.replace(',', ";"));
    std::fs::write(dir.join("long-excel.csv"), saved).unwrap();
    let r = unheard(dir, &["train", "--labelled", "texts.csv", "--long-labels", "long-excel.csv", "--out", "m3.json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("trained 2 labels"), "{}", r.stdout);
    assert!(
        r.stderr.contains("long-excel.csv: 1 row(s) with a blank label passed over (the first is row"),
        "{}",
        r.stderr
    );
    let labels = |m: &str| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(dir.join(m)).unwrap()).unwrap()["labels"]
            .clone()
    };
    assert_eq!(labels("m3.json"), labels("m.json"), "the same labels, thresholds and weights");
    std::fs::write(dir.join("bad.csv"), "record_id,label\nnope,Parking\n").unwrap();
    let bad = unheard(dir, &["train", "--labelled", "texts.csv", "--long-labels", "bad.csv", "--out", "m2.json"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("record \"nope\" is not in"), "{}", bad.stderr);
}

/// A labelled file of other columns than the defaults' (the NHS labelled export's) is told every
/// column it lacks at once, with the flag that names each and what `""` gives instead: it met
/// three errors in turn, one a run ("Comment ID", then "Comment sentiment", then
/// "Respondent ID"). With those flags set to `""` it trains.
#[test]
fn a_labelled_file_of_other_columns_is_told_every_column_it_lacks_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut csv = String::from("FFT answer,FFT question,Not assigned,Parking\n");
    for i in 0..40 {
        let (t, y) = if i % 2 == 0 { ("Parking was impossible", 1) } else { ("The nurse was lovely", 0) };
        csv.push_str(&format!("{t} {i},What could we do better?,0,{y}\n"));
    }
    std::fs::write(dir.join("mine.csv"), csv).unwrap();
    for verb in [&["train", "--out", "m.json"][..], &["eval", "--folds", "2"][..]] {
        let r = unheard(dir, &[verb, &["--labelled", "mine.csv"]].concat());
        assert_eq!(r.code, 2, "{verb:?}: {}{}", r.stdout, r.stderr);
        for told in [
            "no column of these 3:",
            "\"Comment ID\" (--id-column; \"\" for the row number)",
            "\"Comment sentiment\" (--sentiment-column; \"\" for no sentiment)",
            "\"Respondent ID\" (--group-column; \"\" for the record id)",
            "the header has: \"FFT answer\"",
        ] {
            assert!(r.stderr.contains(told), "{verb:?} says {told:?}: {}", r.stderr);
        }
        assert_eq!(r.stderr.matches("no column").count(), 1, "one error: {}", r.stderr);
    }
    assert!(!dir.join("m.json").exists());
    let unset = ["--id-column", "", "--sentiment-column", "", "--group-column", ""];
    let r = unheard(dir, &[&["train", "--labelled", "mine.csv", "--out", "m.json"][..], &unset].concat());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("trained 2 labels on 40 records"), "{}", r.stdout);
    // one column missing is told as one
    let r = unheard(
        dir,
        &[&["train", "--labelled", "mine.csv", "--out", "m2.json", "--text-column", "Comment"][..], &unset].concat(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no column \"Comment\" (--text-column); the header has"), "{}", r.stderr);
}

/// A labelled file pandas wrote from columns with a blank (floats: `1.0`, `5.0`) or a spreadsheet
/// (`TRUE`/`FALSE`) holds the same labels and sentiment: it was refused as "not 0 or 1".
#[test]
fn labels_and_sentiment_written_as_floats_or_booleans_read_as_the_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain = labelled_csv(60);
    std::fs::write(dir.join("plain.csv"), &plain).unwrap();
    let mut reader = csv::Reader::from_reader(plain.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let sentiment = headers.iter().position(|h| h == "Comment sentiment").unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).unwrap();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.unwrap();
        let cells: Vec<String> = rec
            .iter()
            .enumerate()
            .map(|(j, c)| match (j >= sentiment, i % 2, c) {
                (false, ..) => c.to_owned(),
                (true, 0, _) => format!("{c}.0"),
                (true, _, "1") if j > sentiment => "TRUE".to_owned(),
                (true, _, "0") if j > sentiment => "false".to_owned(),
                _ => c.to_owned(),
            })
            .collect();
        w.write_record(&cells).unwrap();
    }
    let floats = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert!(floats.contains(",1.0,") && floats.contains("TRUE") && floats.contains("false"), "{floats}");
    std::fs::write(dir.join("floats.csv"), floats).unwrap();
    let model = |file: &str, out: &str| -> serde_json::Value {
        let r = unheard(dir, &["train", "--labelled", file, "--out", out, "--seed", "3"]);
        assert_eq!(r.code, 0, "{file}: {}{}", r.stdout, r.stderr);
        let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(out)).unwrap()).unwrap();
        serde_json::json!([m["labels"], m["sentiment5"], m["sentiment3"]])
    };
    assert_eq!(model("floats.csv", "f.json"), model("plain.csv", "p.json"));
    // a value that is no whole number is still refused, naming its row and column
    std::fs::write(dir.join("half.csv"), labelled_csv(3).replacen(",0,1,0,0\n", ",0,0.5,0,0\n", 1)).unwrap();
    let r = unheard(dir, &["train", "--labelled", "half.csv", "--out", "h.json"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("column \"Parking\": \"0.5\" is not 0 or 1"), "{}", r.stderr);
}

/// `eval --folds K` over fewer respondents than K has a fold that trains on nothing (or no fold
/// at all for some): it scored "5-fold cross-validation" over 3 records. It is refused, naming
/// the count; enough respondents are scored, and the summary says what the folds hold.
#[test]
fn cross_validation_over_fewer_respondents_than_folds_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("few.csv"), labelled_csv(9)).unwrap();
    // labelled_csv puts three records to a respondent: 9 records, 3 respondents
    let r = unheard(dir, &["eval", "--folds", "5", "--labelled", "few.csv"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--folds 5 holds each respondent (\"Respondent ID\") out"), "{}", r.stderr);
    assert!(r.stderr.contains("but the file has 3 respondents: give fewer folds"), "{}", r.stderr);
    let r = unheard(dir, &["eval", "--folds", "10", "--labelled", "few.csv", "--group-column", ""]);
    assert_eq!(r.code, 2, "by record, still too few: {}", r.stderr);
    assert!(r.stderr.contains("holds each record out in one of 10 folds"), "{}", r.stderr);
    assert!(r.stderr.contains("the file has 9 records"), "{}", r.stderr);
    std::fs::write(dir.join("enough.csv"), labelled_csv(60)).unwrap();
    let r = unheard(dir, &["eval", "--folds", "5", "--labelled", "enough.csv", "--group-column", ""]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("5-fold cross-validation by record"), "{}", r.stdout);
}

/// `train --out` and `eval --out` write where they are told: over the labelled file itself
/// (a slip of the flag), `train` overwrote it, and `eval` replaced a person's `metrics.parquet`.
/// A model replaces only a model, and eval's files only files unheard wrote; retraining into
/// the same model and scoring into the same folder still work.
#[test]
fn train_and_eval_replace_only_what_unheard_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let labelled = labelled_csv(60);
    std::fs::write(dir.join("l.csv"), &labelled).unwrap();
    let r = unheard(dir, &["train", "--labelled", "l.csv", "--out", "l.csv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("l.csv: exists and was not written by `unheard train`"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("l.csv")).unwrap(), labelled, "the labelled file is intact");
    for _ in 0..2 {
        let r = unheard(dir, &["train", "--labelled", "l.csv", "--out", "m.json.gz"]);
        assert_eq!(r.code, 0, "a model replaces the model it wrote: {}", r.stderr);
    }
    std::fs::create_dir(dir.join("ev")).unwrap();
    std::fs::write(dir.join("ev/metrics.parquet"), "a person's file").unwrap();
    let eval = ["eval", "--labelled", "l.csv", "--model", "m.json.gz", "--out", "ev"];
    let r = unheard(dir, &eval);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("metrics.parquet: exists and was not written by `unheard eval`"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("ev/metrics.parquet")).unwrap(), "a person's file");
    assert!(!dir.join("ev/predictions.parquet").exists(), "refused before anything was written");
    std::fs::remove_file(dir.join("ev/metrics.parquet")).unwrap();
    for _ in 0..2 {
        assert_eq!(unheard(dir, &eval).code, 0, "eval replaces its own files");
    }
}

/// A weight of NaN or infinity trained a model of `null`s, exit 0, that nothing could read —
/// not even `train` onto the same `--out` (found in the twenty-fourth session on issue 9).
#[test]
fn train_refuses_weights_that_are_not_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("l.csv"), labelled_csv(40)).unwrap();
    for (flag, value) in [("--question-weight", "NaN"), ("--c", "inf"), ("--codebook-weight", "inf"), ("--beta", "NaN")]
    {
        let r = unheard(dir, &["train", "--labelled", "l.csv", "--out", "m.json", flag, value]);
        assert_eq!(r.code, 2, "{flag} {value}: {}", r.stderr);
        assert!(r.stderr.contains(flag), "{flag}: {}", r.stderr);
        assert!(!dir.join("m.json").exists(), "{flag}: no model written");
    }
}

/// A labelled file pasted twice under itself, or a label column given twice, skewed every score
/// with nothing said (found trying careless files): `eval` says both.
#[test]
fn eval_says_rows_pasted_twice_and_label_columns_given_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let once = labelled_csv(60);
    let body: String = once.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("twice.csv"), format!("{once}{body}")).unwrap();
    let r = unheard(dir, &["eval", "--folds", "3", "--labelled", "twice.csv"]);
    assert!(r.stderr.contains("60 row(s) repeat the id of an earlier row (60 with the same text"), "{}", r.stderr);
    let doubled = once.replacen("Timeliness of care", "Parking", 1);
    std::fs::write(dir.join("dup.csv"), doubled).unwrap();
    let r = unheard(dir, &["eval", "--folds", "3", "--labelled", "dup.csv"]);
    assert!(r.stderr.contains("label columns of one name: \"Parking\" (2 times)"), "{}", r.stderr);
    // the file as it is says neither
    std::fs::write(dir.join("l.csv"), &once).unwrap();
    let r = unheard(dir, &["eval", "--folds", "3", "--labelled", "l.csv"]);
    assert!(!r.stderr.contains("repeat the id") && !r.stderr.contains("of one name"), "{}", r.stderr);
}
