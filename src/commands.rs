//! Commands beyond `run`: evaluation, explanation and demographic values. Thin: they call the library and print.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::code::sentiment::RecordPolarity;
use crate::code::{Coder, Engine};
use crate::config::CodebookSource;
use crate::evaluate::{self, Columns, Metrics};
use crate::messages::Messages;
use crate::output::{write_table, Col, ColumnData, Table};
use crate::pipeline::load_codebook;

/// What `eval` is asked to do.
#[derive(Debug, Clone)]
pub struct EvalRequest {
    /// Codebook TOML (default: the built-in codebook).
    pub codebook: Option<PathBuf>,
    /// Labelled comments, wide layout.
    pub labelled: PathBuf,
    /// Map from theme codes to label columns; needed to score a codebook.
    pub label_map: Option<PathBuf>,
    /// Score this learned model instead of the codebook.
    pub model: Option<PathBuf>,
    /// K-fold cross-validation on the labelled file.
    pub folds: Option<u32>,
    /// Labels left out of a model's scores.
    pub exclude_labels: Vec<String>,
    /// Training options for folds without a model.
    pub learn: LearnRequest,
    /// Where things are in the labelled file (with the rating column; a model does not use it).
    pub columns: Columns,
    /// Write predictions.parquet and metrics.parquet here.
    pub out: Option<PathBuf>,
}

/// What `train` is asked to do.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// Labelled comments (wide layout, or the texts file of the long layout).
    pub labelled: PathBuf,
    /// Long layout: a `record_id,label` CSV.
    pub long_labels: Option<PathBuf>,
    /// Where to write the model.
    pub out: PathBuf,
    /// Where things are in the labelled file.
    pub columns: Columns,
    /// Training options.
    pub learn: LearnRequest,
}

/// The learner's options as asked (checked by [`LearnRequest::options`] when training).
#[derive(Debug, Clone)]
pub struct LearnRequest {
    /// Seed (inner folds, the solver's order).
    pub seed: u64,
    /// Thresholds maximise F-beta on inner folds.
    pub beta: f64,
    /// Inverse regularisation strength of the linear SVM.
    pub c: f64,
    /// Word n-grams from 1 to N.
    pub ngram_max: usize,
    /// Character n-grams inside words, `LO-HI`.
    pub char_ngrams: Option<String>,
    /// Drop terms in fewer training records than this.
    pub min_df: u32,
    /// Weight of the question feature.
    pub question_weight: f32,
    /// Weight of each built-in codebook theme found.
    pub codebook_weight: f32,
    /// Inner folds for the thresholds.
    pub inner_folds: usize,
}

impl LearnRequest {
    /// The training options these flags ask for.
    ///
    /// # Errors
    /// A malformed --char-ngrams or an out-of-range value.
    pub fn options(&self) -> Result<crate::code::model::train::TrainOptions> {
        let char_ngrams = match &self.char_ngrams {
            None => None,
            Some(s) => {
                let (lo, hi) = s.split_once('-').unwrap_or((s, s));
                let (lo, hi): (usize, usize) = (
                    lo.trim().parse().with_context(|| format!("--char-ngrams {s:?}: expected e.g. 3-5"))?,
                    hi.trim().parse().with_context(|| format!("--char-ngrams {s:?}: expected e.g. 3-5"))?,
                );
                anyhow::ensure!(lo >= 1 && lo <= hi, "--char-ngrams {s:?}: expected LO-HI with 1 <= LO <= HI");
                Some((lo, hi))
            }
        };
        // a weight of NaN or infinity trained a model of `null`s that nothing could read, not
        // even `train` onto the same --out (found in the twenty-fourth session on issue 9)
        anyhow::ensure!(self.beta > 0.0 && self.beta.is_finite(), "--beta must be a number above 0");
        anyhow::ensure!(self.c > 0.0 && self.c.is_finite(), "--c must be a number above 0");
        for (flag, w) in [("--question-weight", self.question_weight), ("--codebook-weight", self.codebook_weight)] {
            anyhow::ensure!(w >= 0.0 && w.is_finite(), "{flag} must be a number of 0 or more");
        }
        anyhow::ensure!(self.ngram_max >= 1, "--ngram-max must be at least 1");
        anyhow::ensure!(self.inner_folds >= 2, "--inner-folds must be at least 2");
        Ok(crate::code::model::train::TrainOptions {
            features: crate::code::model::features::FeatureSettings {
                ngram_max: self.ngram_max,
                char_ngrams,
                min_df: self.min_df,
                sublinear_tf: true,
                question_weight: self.question_weight,
                codebook_weight: self.codebook_weight,
            },
            c: self.c,
            beta: self.beta,
            seed: self.seed,
            inner_folds: self.inner_folds,
        })
    }
}

/// What `explain` is asked to do.
#[derive(Debug, Clone)]
pub struct ExplainRequest {
    /// The text to explain (or a record of a past run).
    pub text: Option<String>,
    /// Question the text answers.
    pub question: String,
    /// FFT rating, a sentiment prior.
    pub rating: Option<u8>,
    /// Codebook TOML (default: the built-in codebook).
    pub codebook: Option<PathBuf>,
    /// A record id of a past run.
    pub record: Option<String>,
    /// The output folder of that run.
    pub run: Option<PathBuf>,
}

/// What `people` is asked to do.
#[derive(Debug, Clone)]
pub(crate) struct PeopleRequest {
    /// The run's settings.
    pub settings: crate::config::Settings,
    /// Write the snippet to this file instead of stdout.
    pub snippet: Option<PathBuf>,
}

/// What `archive` is asked to do.
#[derive(Debug, Clone)]
pub(crate) struct ArchiveRequest {
    /// The folder of run folders (or one run folder).
    pub root: PathBuf,
    /// JSON instead of text.
    pub json: bool,
    /// Themes shown.
    pub top: usize,
    /// The reader that counts.
    pub reader: crate::archive::Reader,
}

/// `unheard archive`: the counts recomputed from an archive of runs, printed under the runs'
/// disclosure rule. Exit 1 when some `record_themes` rows join no record, or when two runs hold
/// the same records.
///
/// # Errors
/// No run under the root, or a file that cannot be read.
pub(crate) fn archive(args: &ArchiveRequest, messages: &Messages) -> Result<ExitCode> {
    let archive = crate::archive::discover(&args.root)?;
    let counts = crate::archive::count(&archive, args.reader)?;
    let report = crate::archive::Report::new(&archive, &counts, &archive.rule(), args.top);
    let overlaps = crate::archive::overlaps(&archive)?;
    let mut json = report.json();
    let shared = |o: &crate::archive::Overlap| crate::analyse::stats::disclose_count(o.records, &archive.rule());
    json["overlapping_runs"] = overlaps
        .iter()
        .map(|o| serde_json::json!({ "runs": [o.first, o.second], "records": shared(o).value }))
        .collect();
    messages.out(&if args.json { json.to_string() } else { report.text() });
    let mut code = ExitCode::SUCCESS;
    if counts.orphan_themes > 0 {
        messages
            .warn(&format!("{} record_themes row(s) join no record of their run: not counted", counts.orphan_themes));
        code = ExitCode::from(1);
    }
    let codebooks = archive.codebooks();
    if !codebooks.is_empty() {
        // (found in the twenty-fourth session on issue 9: a GEN01 of one codebook added to
        // another's GEN01, which meant something else, with nothing said)
        let each: Vec<String> = codebooks
            .iter()
            .map(|(c, runs)| {
                let names: Vec<String> = runs.iter().map(|r| crate::ingest::shown(r)).collect();
                format!("{c}: {}", names.join(", "))
            })
            .collect();
        messages.warn(&format!(
            "the runs were coded with {} codebooks ({}): a theme code's counts are added up across them whatever it \
             means in each; count runs of one codebook together",
            codebooks.len(),
            each.join("; ")
        ));
        code = ExitCode::from(1);
    }
    for o in &overlaps {
        messages.warn(&format!(
            "runs {} and {} hold {} of the same records (same source, id, date and text): the archive adds runs up, so these are counted twice; keep one of the two folders in the archive (a run done again, or nightly runs' dated folders: each night's holds every record of its state)",
            o.first.display(),
            o.second.display(),
            shared(o)
        ));
        code = ExitCode::from(1);
    }
    Ok(code)
}

/// `unheard eval`: codes every labelled comment and scores the codes against the labels.
///
/// # Errors
/// Unreadable inputs or outputs.
pub(crate) fn eval(args: &EvalRequest, messages: &Messages) -> Result<ExitCode> {
    // before any work: the folder's two files replace only files unheard wrote
    if let Some(dir) = &args.out {
        for name in EVAL_FILES {
            crate::files::may_replace(&dir.join(name), "eval", "--out", Some(&crate::files::unheard_parquet))?;
        }
    }
    if args.model.is_some() || args.folds.is_some() {
        return eval_model(args, messages);
    }
    let Some(label_map) = &args.label_map else {
        anyhow::bail!("eval needs --label-map to score a codebook, or --model / --folds to score a learned coder");
    };
    let source = args.codebook.clone().map_or(CodebookSource::Builtin, CodebookSource::Path);
    let book = load_codebook(&source)?;
    // a codebook is not trained, so no folds and no respondent column are needed
    let cols = Columns { group: None, ..args.columns.clone() };
    let set = evaluate::read_labelled(&args.labelled, &cols)
        .with_context(|| format!("cannot read {}", args.labelled.display()))?;
    for note in &set.notes {
        messages.warn(note);
    }
    let map = evaluate::read_label_map(label_map)?;
    // the labels the map reaches, in file order
    let labels: Vec<String> = set.labels.iter().filter(|l| map.iter().any(|(_, m)| m == *l)).cloned().collect();
    for (code, label) in &map {
        if !book.themes.iter().any(|t| &t.code == code) {
            anyhow::bail!("{}: theme {code:?} is not in the codebook", label_map.display());
        }
        if !set.labels.contains(label) {
            anyhow::bail!(
                "{}: label {label:?} is not a label column of {}",
                label_map.display(),
                args.labelled.display()
            );
        }
    }
    let label_of: Vec<Vec<usize>> = book
        .themes
        .iter()
        .map(|t| {
            map.iter().filter(|(c, _)| *c == t.code).filter_map(|(_, l)| labels.iter().position(|x| x == l)).collect()
        })
        .collect();
    let truth_index: Vec<usize> = labels.iter().filter_map(|l| set.labels.iter().position(|x| x == l)).collect();
    let truth: Vec<Vec<bool>> = set.y.iter().map(|y| truth_index.iter().map(|&j| y[j]).collect()).collect();
    let engine = Engine::new(book);
    let mut coder = Coder::default();
    let mut pred: Vec<Vec<bool>> = Vec::with_capacity(set.texts.len());
    let mut polarity = Vec::with_capacity(set.texts.len());
    for ((text, q), rating) in set.texts.iter().zip(&set.questions).zip(&set.ratings) {
        let coded = engine.process(text, *q, *rating, &mut coder);
        let mut p = vec![false; labels.len()];
        for t in &coded.themes {
            for &j in &label_of[t.hit.theme as usize] {
                p[j] = true;
            }
        }
        pred.push(p);
        polarity.push((coded.polarity, coded.score));
    }
    let m = evaluate::metrics(&labels, &truth, &pred);
    messages.out(&report(&m));
    messages.out(&sentiment_report(&set.sentiment, &polarity));
    if let Some(dir) = &args.out {
        write_eval(dir, &predictions(&set.ids, &labels, &pred, None), &metrics_table(&m))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// What `eval --out` writes.
const EVAL_FILES: [&str; 2] = ["predictions.parquet", "metrics.parquet"];

/// `eval --out`'s files in `dir`.
fn write_eval(dir: &std::path::Path, predictions: &Table, metrics: &Table) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, table) in EVAL_FILES.iter().zip([predictions, metrics]) {
        write_table(table, &dir.join(name))?;
    }
    Ok(())
}

/// `unheard train`: learns a theme coder (and sentiment) from labelled comments.
///
/// # Errors
/// Unreadable inputs, bad options, or an unwritable model file.
pub(crate) fn train(args: &TrainRequest, messages: &Messages) -> Result<ExitCode> {
    // before any work: a model replaces only a model (`--out` at the labelled file itself had
    // overwritten it)
    crate::files::may_replace(&args.out, "train", "--out", Some(&|p| crate::code::model::Model::load(p).is_ok()))?;
    use crate::code::model::train;
    let started = std::time::Instant::now();
    let opts = args.learn.options()?;
    let cols = args.columns.clone();
    let set = match &args.long_labels {
        None => evaluate::read_labelled(&args.labelled, &cols)
            .with_context(|| format!("cannot read {}", args.labelled.display())),
        Some(long) => evaluate::read_long(&args.labelled, long, &cols)
            .with_context(|| format!("cannot read {} with {}", args.labelled.display(), long.display())),
    }?;
    for note in &set.notes {
        messages.warn(note);
    }
    anyhow::ensure!(!set.texts.is_empty(), "{}: no records", args.labelled.display());
    let analysed = train::analyse(&set.texts, &set.questions, &opts.features);
    let targets = train::Targets { labels: &set.labels, y: &set.y, sentiment: &set.sentiment, groups: &set.groups };
    let rows: Vec<usize> = (0..set.texts.len()).collect();
    let mut model = train::fit(&analysed, &targets, &rows, &opts);
    model.training.file = crate::ingest::shown(&args.labelled);
    model.training.sha256 = crate::code::model::file_sha256(&args.labelled)
        .with_context(|| format!("cannot read {}", args.labelled.display()))?;
    model.training.seconds = started.elapsed().as_secs_f64();
    model.save(&args.out)?;
    messages.done(&format!(
        "unheard: trained {} labels{} on {} records ({} features) in {:.2} s → {}\ninner-fold estimate over {} theme labels: micro-F1 {:.3} (precision {:.3}, recall {:.3}), macro-F1 {:.3} (labels with >= 5 positives); held-out figures: unheard eval --folds 5",
        model.labels.len(),
        if model.sentiment5.is_empty() { "" } else { " and sentiment" },
        set.texts.len(),
        model.space.len(),
        model.training.seconds,
        args.out.display(),
        model.cv.per_label.len(),
        model.cv.micro_f1,
        model.cv.micro_precision,
        model.cv.micro_recall,
        model.cv.macro_f1_support5,
    ));
    Ok(ExitCode::SUCCESS)
}

/// `eval --model` / `eval --folds`.
fn eval_model(args: &EvalRequest, messages: &Messages) -> Result<ExitCode> {
    use crate::code::model::{train, Model};
    let model = args.model.as_ref().map(|p| Model::load(p)).transpose()?;
    let cols = Columns { rating: None, ..args.columns.clone() };
    let set = evaluate::read_labelled(&args.labelled, &cols)
        .with_context(|| format!("cannot read {}", args.labelled.display()))?;
    for note in &set.notes {
        messages.warn(note);
    }
    let targets = train::Targets { labels: &set.labels, y: &set.y, sentiment: &set.sentiment, groups: &set.groups };
    let rows: Vec<usize> = (0..set.texts.len()).collect();
    let started = std::time::Instant::now();
    let (labels, truth, p, how) = match (args.folds, &model) {
        (Some(k), m) => {
            let opts = match m {
                Some(m) => m.training.options.clone(),
                None => args.learn.options()?,
            };
            let by = match args.columns.group.as_deref() {
                Some(g) => format!("respondent ({g:?})"),
                None => "record".to_owned(),
            };
            // each fold is held out once, trained on the others: a fold holding every record
            // trains on none (found: `--folds 5` over 3 records scored 5-fold cross-validation)
            let mut used = vec![0usize; k as usize];
            let mut seen = std::collections::HashSet::new();
            for g in set.groups.iter().filter(|g| seen.insert(g.as_str())) {
                used[train::fold_of(g, k as usize)] += 1;
            }
            if seen.len() < k as usize || used.contains(&seen.len()) {
                anyhow::bail!(
                    "{}: --folds {k} holds each {by} out in one of {k} folds and trains on the others, but the file has {} {}: give fewer folds, or more records",
                    args.labelled.display(),
                    seen.len(),
                    if args.columns.group.is_some() { "respondents" } else { "records" },
                );
            }
            let analysed = train::analyse(&set.texts, &set.questions, &opts.features);
            let p = train::cross_validate(&analysed, &targets, k as usize, &opts);
            (set.labels.clone(), set.y.clone(), p, format!("{k}-fold cross-validation by {by}"))
        }
        (None, Some(m)) => {
            let index: Vec<usize> = m
                .labels
                .iter()
                .map(|l| {
                    set.labels.iter().position(|x| x == l).with_context(|| {
                        format!(
                            "{}: the model's label {l:?} is not a label column of {}",
                            args.model.as_ref().map_or(String::new(), |p| p.display().to_string()),
                            args.labelled.display()
                        )
                    })
                })
                .collect::<Result<_>>()?;
            let truth = set.y.iter().map(|y| index.iter().map(|&j| y[j]).collect()).collect();
            let analysed = train::analyse(&set.texts, &set.questions, &m.space.settings);
            (m.labels.clone(), truth, train::predict(m, &analysed, &rows), "the model".to_owned())
        }
        (None, None) => unreachable!("eval_model is called with --model or --folds"),
    };
    let seconds = started.elapsed().as_secs_f64();
    let keep: Vec<usize> = (0..labels.len()).filter(|&j| !args.exclude_labels.contains(&labels[j])).collect();
    let pick =
        |rows: &[Vec<bool>]| -> Vec<Vec<bool>> { rows.iter().map(|r| keep.iter().map(|&j| r[j]).collect()).collect() };
    let scored: Vec<String> = keep.iter().map(|&j| labels[j].clone()).collect();
    let m = evaluate::metrics(&scored, &pick(&truth), &pick(&p.predicted));
    messages.out(&report(&m));
    messages.out(&format!(
        "scored by {how} over {} labels (left out: {}); {:.2} s",
        scored.len(),
        args.exclude_labels.iter().filter(|l| labels.contains(l)).cloned().collect::<Vec<_>>().join(", "),
        seconds
    ));
    messages.out(&model_sentiment_report(&set.sentiment, &p.sentiment3, &p.sentiment5));
    if let Some(dir) = &args.out {
        write_eval(dir, &predictions(&set.ids, &labels, &p.predicted, Some(&p.scores)), &metrics_table(&m))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn model_sentiment_report(gold: &[Option<u8>], three: &[Option<usize>], five: &[Option<u8>]) -> String {
    use crate::code::model::train::three_class;
    let mut confusion = [[0u64; 3]; 3];
    let (mut n, mut right5) = (0u64, 0u64);
    for ((g, t), f) in gold.iter().zip(three).zip(five) {
        let (Some(g), Some(t)) = (g, t) else { continue };
        n += 1;
        confusion[three_class(*g)][*t] += 1;
        right5 += u64::from(*f == Some(*g));
    }
    if n == 0 {
        return "sentiment: not learned, or no labelled sentiment in the file".to_owned();
    }
    let right: u64 = (0..3).map(|i| confusion[i][i]).sum();
    confusion_report(
        format!(
            "sentiment over {n} labelled records: 3 classes (1-2 positive, 3 neutral, 4-5 negative) accuracy {:.3}; 5 classes accuracy {:.3}",
            right as f64 / n as f64,
            right5 as f64 / n as f64
        ),
        &confusion,
    )
}

/// A headline and a 3-class confusion table (rows labelled, columns predicted).
fn confusion_report(headline: String, confusion: &[[u64; 3]; 3]) -> String {
    let names = ["positive", "neutral", "negative"];
    let mut lines = vec![headline];
    lines.push(format!(
        "{:>14} {:>9} {:>9} {:>9}   (rows: labelled, columns: predicted)",
        "", names[0], names[1], names[2]
    ));
    for (i, row) in confusion.iter().enumerate() {
        lines.push(format!("{:>14} {:>9} {:>9} {:>9}", names[i], row[0], row[1], row[2]));
    }
    lines.join("\n")
}

/// 3 classes: 1–2 positive, 3 neutral, 4–5 negative; a mixed record counts by its score's sign.
fn sentiment_class(p: RecordPolarity, score: f32) -> usize {
    match p {
        RecordPolarity::Positive => 0,
        RecordPolarity::Neutral => 1,
        RecordPolarity::Negative => 2,
        RecordPolarity::Mixed if score > 0.0 => 0,
        RecordPolarity::Mixed if score < 0.0 => 2,
        RecordPolarity::Mixed => 1,
    }
}

fn sentiment_report(gold: &[Option<u8>], pred: &[(RecordPolarity, f32)]) -> String {
    let mut confusion = [[0u64; 3]; 3];
    for (g, &(p, score)) in gold.iter().zip(pred) {
        let Some(g) = g else { continue };
        let g = match g {
            1 | 2 => 0,
            3 => 1,
            _ => 2,
        };
        confusion[g][sentiment_class(p, score)] += 1;
    }
    let n: u64 = confusion.iter().flatten().sum();
    if n == 0 {
        return "sentiment: no labelled sentiment in the file".to_owned();
    }
    let right: u64 = (0..3).map(|i| confusion[i][i]).sum();
    confusion_report(
        format!("sentiment, 3 classes (1-2 positive, 3 neutral, 4-5 negative; mixed by the sign of its score): accuracy {:.3} over {n} labelled records", right as f64 / n as f64),
        &confusion,
    )
}

fn report(m: &Metrics) -> String {
    let mut lines = vec![format!("{:<58} {:>7} {:>9} {:>7} {:>7}", "label", "support", "precision", "recall", "f1")];
    for l in &m.per_label {
        lines.push(format!("{:<58} {:>7} {:>9.3} {:>7.3} {:>7.3}", l.label, l.support, l.precision, l.recall, l.f1));
    }
    lines.push(format!(
        "{:<58} {:>7} {:>9.3} {:>7.3} {:>7.3}",
        "micro",
        m.per_label.iter().map(|l| l.support).sum::<u64>(),
        m.micro_precision,
        m.micro_recall,
        m.micro_f1
    ));
    lines.push(format!("macro F1 {:.3} (labels with support >= 1), {:.3} (support >= 5); exact match {:.3}; Hamming loss {:.4}; {} records", m.macro_f1, m.macro_f1_support5, m.exact_match, m.hamming_loss, m.records));
    lines.join("\n")
}

fn predictions(ids: &[String], labels: &[String], pred: &[Vec<bool>], scores: Option<&[Vec<f32>]>) -> Table {
    let n = ids.len() * labels.len();
    let (mut id, mut label, mut score, mut predicted) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for (i, (r, p)) in ids.iter().zip(pred).enumerate() {
        for (j, (l, &v)) in labels.iter().zip(p).enumerate() {
            id.push(Some(r.clone()));
            label.push(Some(l.clone()));
            score.push(Some(scores.map_or(if v { 1.0 } else { 0.0 }, |s| f64::from(s[i][j]))));
            predicted.push(Some(i32::from(v)));
        }
    }
    Table {
        name: "predictions".to_owned(),
        grain: "record × label".to_owned(),
        columns: vec![
            Col::new("record_id", "record id from the labelled file (or its row number)", ColumnData::Str(id)),
            Col::new("label", "label column", ColumnData::Str(label)),
            Col::new(
                "score",
                "score: a model's margin (predicted when above the label's threshold); a codebook gives 1 or 0",
                ColumnData::F64(score),
            ),
            Col::new("predicted", "1 if the label was predicted", ColumnData::I32(predicted)),
        ],
    }
}

fn metrics_table(m: &Metrics) -> Table {
    let mut label: Vec<Option<String>> = m.per_label.iter().map(|l| Some(l.label.clone())).collect();
    let mut support: Vec<Option<i64>> = m.per_label.iter().map(|l| i64::try_from(l.support).ok()).collect();
    let mut p: Vec<Option<f64>> = m.per_label.iter().map(|l| Some(l.precision)).collect();
    let mut r: Vec<Option<f64>> = m.per_label.iter().map(|l| Some(l.recall)).collect();
    let mut f: Vec<Option<f64>> = m.per_label.iter().map(|l| Some(l.f1)).collect();
    let total: u64 = m.per_label.iter().map(|l| l.support).sum();
    for (name, pv, rv, fv) in [
        ("_micro", Some(m.micro_precision), Some(m.micro_recall), Some(m.micro_f1)),
        ("_macro", None, None, Some(m.macro_f1)),
        ("_macro_support5", None, None, Some(m.macro_f1_support5)),
        ("_exact_match", None, None, Some(m.exact_match)),
        ("_hamming_loss", None, None, Some(m.hamming_loss)),
    ] {
        label.push(Some(name.to_owned()));
        support.push(i64::try_from(total).ok());
        p.push(pv);
        r.push(rv);
        f.push(fv);
    }
    Table {
        name: "metrics".to_owned(),
        grain: "label, then the averages (_micro, _macro, …; exact match and Hamming loss in f1)".to_owned(),
        columns: vec![
            Col::new("label", "label, or an average", ColumnData::Str(label)),
            Col::new("support", "records with the label", ColumnData::I64(support)),
            Col::new("precision", "precision", ColumnData::F64(p)),
            Col::new("recall", "recall", ColumnData::F64(r)),
            Col::new("f1", "F1 (or the named score)", ColumnData::F64(f)),
        ],
    }
}

/// `unheard explain`: why a text got its codes.
///
/// # Errors
/// Unknown question, unreadable codebook, or a record that is not in the run.
pub(crate) fn explain(args: &ExplainRequest, messages: &Messages) -> Result<ExitCode> {
    use std::fmt::Write as _;

    let (codebook, text, question, rating) = match (&args.record, &args.run) {
        (Some(id), Some(run)) => {
            let found = find_record(run, id)?;
            // a run that also coded with a learned model: its themes are not the codebook's, and
            // explain shows the codebook's (found: "themes: none" for a record the model coded)
            if let Some((policy, model)) = &found.coder {
                messages.warn(&format!(
                    "the run coded with policy {policy} and the learned model {model}: the themes the model found (origin model or both in record_themes) are not explained here, only the codebook's"
                ));
            }
            // the run's own codebook, unless another is asked for
            let codebook = match &args.codebook {
                Some(asked) => Some(asked.clone()),
                None => runs_codebook(run, &found, messages)?,
            };
            (codebook, found.text, found.question, found.rating)
        }
        _ => {
            let q = crate::record::Question::parse(&args.question).with_context(|| {
                format!(
                    "unknown question {:?}; expected what_good, could_improve, nonspecific, conversation or complaint",
                    args.question
                )
            })?;
            (args.codebook.clone(), args.text.clone().unwrap_or_default(), q, args.rating)
        }
    };
    let book = load_codebook(&codebook.map_or(CodebookSource::Builtin, CodebookSource::Path))?;
    let engine = Engine::new(book);
    let mut coder = Coder::default();
    let (coded, sentiment) = engine.explain(&text, question, rating, &mut coder);
    let safe = coded.text(&text);
    let tokens = &coder.tokens;
    let mut out = String::new();
    let _ = writeln!(out, "text: {safe}");
    let _ =
        writeln!(out, "question: {question}   rating: {}", rating.map_or_else(|| "-".to_owned(), |r| r.to_string()));
    if coded.redactions.is_empty() {
        let _ = writeln!(out, "redactions: none");
    } else {
        let kinds: Vec<String> = coded
            .redactions
            .iter()
            .map(|r| format!("{} at bytes {}..{}", r.kind.placeholder(), r.start, r.end))
            .collect();
        let _ = writeln!(out, "redactions: {}", kinds.join(", "));
    }
    let toks: Vec<String> = (0..tokens.len())
        .map(|i| {
            let (s, e) = tokens.span(i);
            let (cs, ce) = (crate::text::char_offset(safe, s), crate::text::char_offset(safe, e));
            format!("{}→{}@{cs}..{ce}", &safe[s..e], tokens.stem(i))
        })
        .collect();
    let _ = writeln!(out, "tokens: {}", toks.join(" "));
    match coded.reading {
        Some(r) => {
            let _ = writeln!(out, "non-informative: yes, reads as {} under {question}: never a concern", r.as_str());
        }
        None => {
            let _ = writeln!(out, "non-informative: no");
        }
    }
    let _ = writeln!(out, "clauses:");
    for (i, c) in sentiment.clauses.iter().enumerate() {
        let words = if c.tokens.is_empty() || c.tokens.end > tokens.len() {
            String::new()
        } else {
            let (s, first_end) = tokens.span(c.tokens.start);
            let (last_start, e) = tokens.span(c.tokens.end - 1);
            // a redaction's marker whole: "Call me on [PHONE" was shown, its `]` past the token
            let marker = |a: usize, b: usize| crate::text::redact::in_marker(safe, a, b);
            let s = s - usize::from(marker(s, first_end));
            let e = e + usize::from(marker(last_start, e));
            safe[s..e].to_owned()
        };
        let _ = writeln!(
            out,
            "  {}. {:?} {} {:+.2} ({})",
            i + 1,
            words,
            c.polarity.as_str(),
            c.score,
            if c.reasons.is_empty() { "no sentiment words".to_owned() } else { c.reasons.join("; ") }
        );
    }
    let _ = writeln!(
        out,
        "record: {} (score {:+.2}){}",
        coded.polarity.as_str(),
        coded.score,
        if sentiment.reasons.is_empty() { String::new() } else { format!("; {}", sentiment.reasons.join("; ")) }
    );
    if coded.themes.is_empty() {
        let _ = writeln!(out, "themes: none");
    } else {
        let _ = writeln!(out, "themes:");
    }
    for t in &coded.themes {
        let theme = &engine.book.themes[t.hit.theme as usize];
        let clause = t
            .hit
            .mentions
            .first()
            .and_then(|m| sentiment.clauses.iter().position(|c| c.tokens.contains(&(m.tokens.0 as usize))));
        let _ = writeln!(
            out,
            "  {} {} [{}]\n     rule {:?} matched {:?} at characters {}..{}{}; {} mention(s)\n     polarity {}{}{}",
            theme.code,
            theme.name,
            theme.category,
            t.hit.rule,
            t.hit.matched,
            t.hit.span.0,
            t.hit.span.1,
            if t.hit.mentions.first().is_some_and(|m| m.negated) { " (negated)" } else { "" },
            t.hit.hits,
            t.polarity.as_str(),
            clause.map_or_else(|| " (from the record)".to_owned(), |c| format!(" (clause {})", c + 1)),
            if t.is_concern { "; a concern" } else { "; not a concern" },
        );
    }
    messages.out(out.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// The codebook a past run used, as its manifest names it: `None` for the built-in one. Its
/// path is as the run was given it, so relative to the folder the run started in: found from
/// elsewhere, it was "cannot read codebook" at "line 1". A codebook changed since the run
/// (its sha256 is not the manifest's) is used with a warning saying so.
fn runs_codebook(
    run: &std::path::Path,
    found: &FoundRecord,
    messages: &Messages,
) -> Result<Option<std::path::PathBuf>> {
    let builtin = || load_codebook(&CodebookSource::Builtin).map(|b| b.sha256).unwrap_or_default();
    let Some(path) = &found.codebook else { return Ok(None) };
    if !path.is_file() {
        // the built-in codebook's own text, named by its path in the repository
        if found.codebook_sha.as_deref() == Some(builtin().as_str()) {
            return Ok(None);
        }
        anyhow::bail!(
            "{}: the run's codebook {} is not found from here (the run named it relative to the folder it started in): run explain from that folder, or give --codebook",
            run.display(),
            path.display()
        );
    }
    let now = load_codebook(&CodebookSource::Path(path.clone()))?.sha256;
    if let Some(then) = found.codebook_sha.as_deref().filter(|then| *then != now) {
        messages.warn(&format!(
            "{} has changed since the run (sha256 {} then, {} now): these codes are of the codebook as it is now",
            path.display(),
            &then[..then.len().min(12)],
            &now[..now.len().min(12)]
        ));
    }
    Ok(Some(path.clone()))
}

struct FoundRecord {
    /// The run's coder policy and model, when it used one.
    coder: Option<(String, String)>,
    codebook_sha: Option<String>,
    text: String,
    question: crate::record::Question,
    rating: Option<u8>,
    codebook: Option<std::path::PathBuf>,
}

/// Finds a record in a past run's `records` partitions.
fn find_record(run: &std::path::Path, id: &str) -> Result<FoundRecord> {
    use arrow::array::{Array, AsArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let manifest: serde_json::Value = serde_json::from_str(
        &crate::files::read_to_string(&run.join("manifest.json"))
            .with_context(|| format!("{} is not a run folder (no manifest.json)", run.display()))?,
    )?;
    let codebook = manifest["settings"]["codebook"]["path"].as_str().map(std::path::PathBuf::from);
    let codebook_sha = manifest["codebook"]["sha256"].as_str().map(str::to_owned);
    let coder = &manifest["settings"]["coder"];
    let coder = coder["model"]
        .as_str()
        .map(|model| (coder["policy"].as_str().unwrap_or("union").to_owned(), model.to_owned()))
        .filter(|(policy, _)| policy != "codebook_only");
    let files = manifest["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "records"))
        .and_then(|t| t["files"].as_array())
        .cloned()
        .unwrap_or_default();
    for f in files {
        let path = run.join(f.as_str().unwrap_or_default());
        let file = std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        for batch in ParquetRecordBatchReaderBuilder::try_new(file)?.build()? {
            // (a folder re-saved by another tool may hold large or view strings, other integers:
            // read in the types unheard writes, which panicked)
            let batch = crate::table::as_written(&batch?).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let col = |name: &str| {
                batch.column_by_name(name).with_context(|| format!("{}: no column {name:?}", path.display()))
            };
            let text = |name: &str| {
                col(name)?
                    .as_string_opt::<i32>()
                    .with_context(|| format!("{}: column {name:?} is not text", path.display()))
            };
            let ids = text("record_id")?;
            if let Some(i) = (0..ids.len()).find(|&i| ids.is_valid(i) && ids.value(i) == id) {
                let (texts, questions) = (text("text")?, text("question")?);
                let ratings = arrow::compute::cast(col("rating")?, &arrow::datatypes::DataType::Int32)
                    .with_context(|| format!("{}: column \"rating\" is not a whole number", path.display()))?;
                let ratings = ratings.as_primitive::<arrow::datatypes::Int32Type>();
                let text = if texts.is_valid(i) { texts.value(i).to_owned() } else { String::new() };
                let question =
                    crate::record::Question::parse(if questions.is_valid(i) { questions.value(i) } else { "" })
                        .unwrap_or(crate::record::Question::Nonspecific);
                let rating = (!ratings.is_null(i)).then(|| u8::try_from(ratings.value(i)).ok()).flatten();
                return Ok(FoundRecord { coder, codebook_sha, text, question, rating, codebook });
            }
        }
    }
    anyhow::bail!("record {id:?} is not in {}", run.display())
}

/// First line of a snippet `unheard people` writes: it may replace a file that starts with it.
const SNIPPET_HEADER: &str = "# unheard people: raw values no mapping knows.";

/// `unheard people`: reads the inputs as `run` does, prints each dimension's raw values with
/// their group and count, and writes a `[people.map.<dimension>]` snippet for the unmapped ones.
///
/// # Errors
/// A bad pipeline, input or baseline; a snippet path holding a file this command did not write.
pub(crate) fn people(args: &PeopleRequest, messages: &Messages) -> Result<ExitCode> {
    use crate::people::{baseline::Baseline, UNMAPPED};
    let settings = &args.settings;
    if let Some(path) = &args.snippet {
        let ours = |p: &std::path::Path| crate::files::read(p).is_ok_and(|h| h.starts_with(SNIPPET_HEADER.as_bytes()));
        crate::files::may_replace(path, "people", "--snippet", Some(&ours))?;
    }
    let baseline = settings.baseline.as_ref().map(Baseline::of).transpose()?;
    let ingested = crate::ingest::ingest(settings)?;
    let mut ages = std::collections::BTreeSet::new();
    crate::people::ages_written(settings, &ingested.records, &mut ages);
    let bands = crate::people::age_bands(settings, baseline.as_ref(), &ages);
    let harmoniser = crate::people::harmoniser(settings, &bands)?;
    let raw_values = crate::people::raw_values(&harmoniser, &settings.dimensions, &ingested.records);
    // what is shown is what may be published: personal data redacted, dates of birth as [DOB];
    // a value that needed redacting is no category to map, so it stays out of the snippet
    let values = crate::people::publishable(&raw_values, &settings.dimensions, crate::text::redact::Redactor::shared());
    let mut out = vec![format!("{} records from {} source(s)", ingested.records.len(), settings.sources.len())];
    let mut snippet = vec![
        SNIPPET_HEADER.to_owned(),
        "# Replace each \"unmapped\" with a group, then copy the tables into the pipeline file.".to_owned(),
    ];
    for (d, dim) in settings.dimensions.iter().enumerate() {
        let vals = &values[d];
        if vals.iter().all(|v| v.0.is_none()) {
            continue;
        }
        let mut head = dim.clone();
        if crate::people::harmonise::is_age_dimension(dim) {
            let labels: Vec<&str> = bands.bands.iter().map(|b| b.label.as_str()).collect();
            let from = match bands.from {
                "baseline_and_source" => "baseline, joined where the records' bands straddle its",
                other => other,
            };
            head.push_str(&format!(" (age bands from the {from}: {})", labels.join(", ")));
        }
        out.push(head);
        let mut shown: Vec<(&str, &str, u64)> = Vec::new();
        for (safe, group, n) in vals {
            let safe = safe.as_deref().unwrap_or("");
            match shown.iter_mut().find(|(s, g, _)| *s == safe && *g == group.as_str()) {
                Some(entry) => entry.2 += n,
                None => shown.push((safe, group, *n)),
            }
        }
        for (safe, group, n) in shown {
            let note = if harmoniser.is_off_band(d, group) { "  (outside the bands in force)" } else { "" };
            out.push(format!("  {safe:?} → {group}  {n}{note}"));
        }
        let unmapped: Vec<_> = vals.iter().zip(&raw_values[d]).filter(|(v, _)| v.1 == UNMAPPED).collect();
        if !unmapped.is_empty() {
            snippet.push(String::new());
            snippet.push(format!("[people.map.{dim}]"));
            let mut personal = 0;
            for ((safe, _, n), (raw, _, _)) in unmapped {
                if safe != raw {
                    personal += n;
                    continue;
                }
                snippet.push(format!("{} = \"unmapped\"  # {n} record(s)", toml_string(raw.as_deref().unwrap_or(""))));
            }
            if personal > 0 {
                snippet.push(format!("# {personal} record(s) hold personal data here, not a group: left out"));
            }
        }
    }
    let unmapped_values = snippet.iter().filter(|l| l.ends_with("record(s)")).count();
    let snippet = snippet.join("\n") + "\n";
    match &args.snippet {
        Some(path) => {
            std::fs::write(path, &snippet).with_context(|| format!("cannot write {}", path.display()))?;
            out.push(format!("{unmapped_values} unmapped value(s): snippet written to {}", path.display()));
            messages.out(&out.join("\n"));
        }
        None => {
            out.push(format!("{unmapped_values} unmapped value(s)"));
            messages.out(&out.join("\n"));
            if unmapped_values > 0 {
                messages.out(&format!("\n{snippet}"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A TOML basic string (usable as a quoted key).
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
