//! Training: analyse every text once with the pipeline's own engine (redaction, analyzer,
//! built-in codebook), build the vocabulary from the training rows only, train one linear
//! scorer per label, choose each label's threshold on out-of-fold margins of inner folds, and
//! learn sentiment (5 and 3 classes) from the rows that have it.
//!
//! Folds are by group (respondent): `fold = first 8 bytes of sha256(group) as a big-endian
//! u64 % k`, so one respondent's comments never straddle folds. Inner folds hash the seed with
//! the group, so they too keep respondents together.

use std::collections::HashMap;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::features::{for_each_term, idf, weigh, FeatureSettings, Space};
use super::solver::{train_binary, Csr, Linear, SolverOptions};
use super::{CodebookRef, Model, TrainingInfo};
use crate::code::{Codebook, Coder, Engine};
use crate::config::DEFAULT_CODEBOOK;
use crate::record::Question;

/// Training settings (stored in the model, so that `eval --model … --folds` can repeat them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Features.
    pub features: FeatureSettings,
    /// Inverse regularisation strength of the linear SVM.
    pub c: f64,
    /// Thresholds maximise F-beta (beta > 1 favours recall).
    pub beta: f64,
    /// Seed (inner folds and the solver's visiting order).
    pub seed: u64,
    /// Inner folds for thresholds.
    pub inner_folds: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { features: FeatureSettings::default(), c: 0.5, beta: 1.0, seed: 1, inner_folds: 3 }
    }
}

/// One analysed text.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Term ids (into [`Analysed::terms`]), with repeats.
    pub terms: Vec<u32>,
    /// Question.
    pub question: Question,
    /// Built-in codebook themes found.
    pub themes: Vec<u16>,
    /// Not a non-informative answer ("nothing", "n/a"…).
    pub informative: bool,
}

/// Every text of a labelled set, analysed once.
#[derive(Debug, Clone)]
pub struct Analysed {
    /// Documents.
    pub docs: Vec<Doc>,
    /// Distinct terms.
    pub terms: Vec<String>,
    /// The codebook whose themes were found.
    pub codebook: CodebookRef,
}

/// The built-in codebook.
///
/// # Panics
/// Never: the built-in codebook is tested.
#[must_use]
pub fn builtin_codebook() -> Codebook {
    Codebook::from_toml(DEFAULT_CODEBOOK, "<builtin nhs-patient-experience.toml>")
        .expect("the built-in codebook is valid")
}

/// The reference to a codebook stored in a model.
#[must_use]
pub fn codebook_ref(book: &Codebook) -> CodebookRef {
    CodebookRef {
        name: book.name.clone(),
        version: book.version.clone(),
        sha256: book.sha256.clone(),
        themes: book.themes.iter().map(|t| t.code.clone()).collect(),
    }
}

/// Analyses texts as `run` does: redaction, the analyzer, the built-in codebook.
#[must_use]
pub fn analyse(texts: &[String], questions: &[Question], settings: &FeatureSettings) -> Analysed {
    let engine = Engine::new(builtin_codebook());
    let per_doc: Vec<(Vec<String>, Question, Vec<u16>, bool)> = texts
        .par_iter()
        .zip(questions.par_iter())
        .with_min_len(64)
        .map_init(
            || (Coder::default(), String::new()),
            |(coder, buf), (text, &q)| {
                let coded = engine.process(text, q, None, coder);
                let mut terms = Vec::new();
                for_each_term(&coder.tokens, settings, buf, |t| terms.push(t.to_owned()));
                (terms, q, coded.themes.iter().map(|t| t.hit.theme).collect(), coded.reading.is_none())
            },
        )
        .collect();
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut terms = Vec::new();
    let docs = per_doc
        .into_iter()
        .map(|(ts, question, themes, informative)| Doc {
            terms: ts
                .into_iter()
                .map(|t| {
                    let n = terms.len() as u32;
                    *ids.entry(t).or_insert_with_key(|k| {
                        terms.push(k.clone());
                        n
                    })
                })
                .collect(),
            question,
            themes,
            informative,
        })
        .collect();
    Analysed { docs, terms, codebook: codebook_ref(&engine.book) }
}

/// The respondent fold of a group: first 8 bytes of sha256(group) as a big-endian u64, mod k.
#[must_use]
pub fn fold_of(group: &str, k: usize) -> usize {
    let d = Sha256::digest(group.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(b) % k as u64) as usize
}

fn inner_fold(group: &str, seed: u64, k: usize) -> usize {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(group.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(b) % k as u64) as usize
}

/// Targets of training: per record, per label; sentiment 1–5 where known.
#[derive(Debug, Clone)]
pub struct Targets<'a> {
    /// Label names.
    pub labels: &'a [String],
    /// Per record, per label.
    pub y: &'a [Vec<bool>],
    /// Sentiment 1 (very positive) … 5 (very negative), per record.
    pub sentiment: &'a [Option<u8>],
    /// Respondent (group) of each record.
    pub groups: &'a [String],
}

/// A fitted vocabulary and its design matrix.
struct Fitted {
    space: Space,
    /// global term id → feature (u32::MAX: not in the vocabulary)
    local: Vec<u32>,
}

fn fit_space(a: &Analysed, rows: &[usize], settings: &FeatureSettings) -> Fitted {
    let mut df = vec![0u32; a.terms.len()];
    let mut seen = vec![u32::MAX; a.terms.len()];
    for (r, &i) in rows.iter().enumerate() {
        for &t in &a.docs[i].terms {
            if seen[t as usize] != r as u32 {
                seen[t as usize] = r as u32;
                df[t as usize] += 1;
            }
        }
    }
    let mut kept: Vec<u32> = (0..a.terms.len() as u32).filter(|&t| df[t as usize] >= settings.min_df).collect();
    kept.sort_unstable_by(|&x, &y| a.terms[x as usize].cmp(&a.terms[y as usize]));
    let mut local = vec![u32::MAX; a.terms.len()];
    let mut vocab = Vec::with_capacity(kept.len());
    for (i, &t) in kept.iter().enumerate() {
        local[t as usize] = i as u32;
        vocab.push((a.terms[t as usize].clone(), idf(rows.len(), df[t as usize])));
    }
    Fitted { space: Space::new(settings.clone(), &vocab, a.codebook.themes.len()), local }
}

fn design(a: &Analysed, rows: &[usize], f: &Fitted) -> Csr {
    let mut x = Csr::new(f.space.len());
    let mut row = Vec::new();
    for &i in rows {
        let d = &a.docs[i];
        row.clear();
        for &t in &d.terms {
            let l = f.local[t as usize];
            if l != u32::MAX {
                row.push((l, 1.0));
            }
        }
        weigh(&mut row, &f.space.idf, f.space.settings.sublinear_tf);
        f.space.extras(d.question, &d.themes, &mut row);
        x.push(&row);
    }
    x
}

fn train_heads(x: &Csr, targets: &[Vec<bool>], opts: &TrainOptions, salt: u64) -> Vec<Linear> {
    let solver = SolverOptions { c: opts.c, ..SolverOptions::default() };
    targets
        .par_iter()
        .enumerate()
        .map(|(j, y)| train_binary(x, y, &solver, opts.seed ^ salt ^ (j as u64).wrapping_mul(0x9E37_79B9)))
        .collect()
}

fn columns(y: &[Vec<bool>], rows: &[usize], labels: usize) -> Vec<Vec<bool>> {
    (0..labels).map(|j| rows.iter().map(|&i| y[i][j]).collect()).collect()
}

/// 1–2 positive, 3 neutral, 4–5 negative.
#[must_use]
pub fn three_class(s: u8) -> usize {
    match s {
        1 | 2 => 0,
        3 => 1,
        _ => 2,
    }
}

/// Labels with fewer out-of-fold positives than this keep the threshold 0.
pub const MIN_POSITIVES_FOR_THRESHOLD: usize = 10;

/// The threshold on the margin that maximises F-beta over these scored examples; above every
/// score when the label has no positives.
#[must_use]
pub fn best_threshold(scored: &mut [(f32, bool)], beta: f64) -> f32 {
    scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let total = scored.iter().filter(|s| s.1).count() as f64;
    let top = scored.first().map_or(0.0, |s| s.0);
    if total == 0.0 {
        return top.max(0.0) + 1.0;
    }
    if total < MIN_POSITIVES_FOR_THRESHOLD as f64 {
        // too few positives to tune on: a threshold set by one or two margins lets in
        // hundreds of false positives; keep the SVM's own boundary
        return 0.0;
    }
    let b2 = beta * beta;
    let (mut tp, mut fp) = (0f64, 0f64);
    let (mut best, mut threshold) = (-1f64, top + 1.0);
    for i in 0..scored.len() {
        if scored[i].1 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        if i + 1 < scored.len() && scored[i + 1].0 == scored[i].0 {
            continue;
        }
        let f = (1.0 + b2) * tp / ((1.0 + b2) * tp + b2 * (total - tp) + fp);
        if f > best {
            best = f;
            threshold = if i + 1 < scored.len() { 0.5 * (scored[i].0 + scored[i + 1].0) } else { scored[i].0 - 1.0 };
        }
    }
    threshold
}

/// Margins of the label heads of a fitted space on some rows.
fn margins(x: &Csr, heads: &[Linear]) -> Vec<Vec<f32>> {
    (0..x.rows())
        .map(|r| {
            let (idx, val) = x.row(r);
            heads.iter().map(|h| h.margin(idx, val)).collect()
        })
        .collect()
}

/// Trains a model on `rows` of an analysed set.
#[must_use]
pub fn fit(a: &Analysed, t: &Targets<'_>, rows: &[usize], opts: &TrainOptions) -> Model {
    let started = Instant::now();
    let l = t.labels.len();
    // thresholds from out-of-fold margins of inner folds
    let k = opts.inner_folds.max(2);
    let inner: Vec<usize> = rows.iter().map(|&i| inner_fold(&t.groups[i], opts.seed, k)).collect();
    let mut scored: Vec<Vec<(f32, bool)>> = vec![Vec::with_capacity(rows.len()); l];
    let position: HashMap<usize, usize> = rows.iter().enumerate().map(|(r, &i)| (i, r)).collect();
    let mut oof: Vec<Option<Vec<f32>>> = vec![None; rows.len()];
    for f in 0..k {
        let train: Vec<usize> = rows.iter().zip(&inner).filter(|(_, &g)| g != f).map(|(&i, _)| i).collect();
        let test: Vec<usize> = rows.iter().zip(&inner).filter(|(_, &g)| g == f).map(|(&i, _)| i).collect();
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let fitted = fit_space(a, &train, &opts.features);
        let x = design(a, &train, &fitted);
        let heads = train_heads(&x, &columns(t.y, &train, l), opts, f as u64 + 1);
        let m = margins(&design(a, &test, &fitted), &heads);
        for (r, &i) in test.iter().enumerate() {
            for j in 0..l {
                scored[j].push((m[r][j], t.y[i][j]));
            }
            oof[position[&i]] = Some(m[r].clone());
        }
    }
    let thresholds: Vec<f32> = scored.iter_mut().map(|s| best_threshold(s, opts.beta)).collect();
    // the final model on every row
    let fitted = fit_space(a, rows, &opts.features);
    let x = design(a, rows, &fitted);
    let heads = train_heads(&x, &columns(t.y, rows, l), opts, 0);
    let positives = (0..l).map(|j| rows.iter().filter(|&&i| t.y[i][j]).count() as u64).collect();
    let (s5, s3) = sentiment_heads(&x, rows, t.sentiment, opts);
    let mut model = Model::new(
        t.labels.to_vec(),
        thresholds,
        positives,
        fitted.space,
        a.codebook.clone(),
        TrainingInfo {
            file: String::new(),
            sha256: String::new(),
            records: rows.len(),
            options: opts.clone(),
            seconds: started.elapsed().as_secs_f64(),
        },
        heads,
        s5,
        s3,
    );
    // out-of-fold scores of the inner folds, for the model file
    let (mut truth, mut pred) = (Vec::new(), Vec::new());
    let mut p = Vec::new();
    for (r, m) in oof.iter().enumerate() {
        if let Some(m) = m {
            model.decide(m, a.docs[rows[r]].informative, &mut p);
            truth.push(t.y[rows[r]].clone());
            pred.push(p.clone());
        }
    }
    model.cv = summarize(t.labels, &truth, &pred, &DEFAULT_EXCLUDED.map(str::to_owned));
    model.cv.method = format!(
        "out-of-fold on {k} inner respondent folds of the training file; thresholds were chosen on these same margins, so slightly optimistic (use `unheard eval --folds` for held-out figures)"
    );
    model
}

/// Labels that are not themes, left out of the averages by default.
pub const DEFAULT_EXCLUDED: [&str; 2] = ["Not assigned", "Labelling not possible"];

/// Scores predictions over the labels not excluded.
#[must_use]
pub fn summarize(labels: &[String], truth: &[Vec<bool>], pred: &[Vec<bool>], excluded: &[String]) -> super::CvSummary {
    let keep: Vec<usize> = (0..labels.len()).filter(|&j| !excluded.contains(&labels[j])).collect();
    let pick =
        |rows: &[Vec<bool>]| -> Vec<Vec<bool>> { rows.iter().map(|r| keep.iter().map(|&j| r[j]).collect()).collect() };
    let names: Vec<String> = keep.iter().map(|&j| labels[j].clone()).collect();
    let m = crate::evaluate::metrics(&names, &pick(truth), &pick(pred));
    super::CvSummary {
        method: String::new(),
        excluded_labels: excluded.iter().filter(|e| labels.contains(e)).cloned().collect(),
        micro_f1: m.micro_f1,
        micro_precision: m.micro_precision,
        micro_recall: m.micro_recall,
        macro_f1_support5: m.macro_f1_support5,
        sentiment3_accuracy: None,
        sentiment5_accuracy: None,
        per_label: m.per_label.iter().map(|l| (l.label.clone(), l.support, l.f1)).collect(),
    }
}

fn sentiment_heads(
    x: &Csr,
    rows: &[usize],
    sentiment: &[Option<u8>],
    opts: &TrainOptions,
) -> (Vec<Linear>, Vec<Linear>) {
    let have: Vec<usize> = (0..rows.len()).filter(|&r| sentiment[rows[r]].is_some()).collect();
    if have.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut sub = Csr::new(x.cols);
    let mut row = Vec::new();
    for &r in &have {
        let (idx, val) = x.row(r);
        row.clear();
        row.extend(idx.iter().copied().zip(val.iter().copied()));
        sub.push(&row);
    }
    let gold: Vec<u8> = have.iter().filter_map(|&r| sentiment[rows[r]]).collect();
    let five: Vec<Vec<bool>> = (1..=5u8).map(|c| gold.iter().map(|&g| g == c).collect()).collect();
    let three: Vec<Vec<bool>> = (0..3).map(|c| gold.iter().map(|&g| three_class(g) == c).collect()).collect();
    let mut heads = train_heads(&sub, &[five, three].concat(), opts, 99);
    let s3 = heads.split_off(5);
    (heads, s3)
}

/// Predictions of a model on analysed records.
#[derive(Debug, Clone, Default)]
pub struct Predictions {
    /// Margins, per record per label.
    pub scores: Vec<Vec<f32>>,
    /// Predicted labels, per record per label.
    pub predicted: Vec<Vec<bool>>,
    /// Sentiment 1–5 (None without a sentiment head).
    pub sentiment5: Vec<Option<u8>>,
    /// Sentiment class 0 positive, 1 neutral, 2 negative.
    pub sentiment3: Vec<Option<usize>>,
}

/// Predicts `rows` of an analysed set.
#[must_use]
pub fn predict(model: &Model, a: &Analysed, rows: &[usize]) -> Predictions {
    let local: Vec<u32> =
        a.terms.iter().map(|t| model.space.vocab.get(t.as_str()).copied().unwrap_or(u32::MAX)).collect();
    let themes: Vec<Option<u16>> = a
        .codebook
        .themes
        .iter()
        .map(|c| model.codebook.themes.iter().position(|m| m == c).and_then(|p| u16::try_from(p).ok()))
        .collect();
    let out: Vec<(Vec<f32>, Vec<bool>, Option<u8>, Option<usize>)> = rows
        .par_iter()
        .map(|&i| {
            let d = &a.docs[i];
            let mut row: Vec<(u32, f32)> = d
                .terms
                .iter()
                .filter_map(|&t| (local[t as usize] != u32::MAX).then_some((local[t as usize], 1.0)))
                .collect();
            weigh(&mut row, &model.space.idf, model.space.settings.sublinear_tf);
            let th: Vec<u16> = d.themes.iter().filter_map(|&t| themes[usize::from(t)]).collect();
            model.space.extras(d.question, &th, &mut row);
            let mut scores = Vec::new();
            model.scores(&row, &mut scores);
            let mut p = Vec::new();
            model.decide(&scores, d.informative, &mut p);
            let s5 = Model::classify(&model.sentiment5, &row).map(|c| c as u8 + 1);
            let s3 = Model::classify(&model.sentiment3, &row);
            (scores, p, s5, s3)
        })
        .collect();
    let mut p = Predictions::default();
    for (s, y, a5, a3) in out {
        p.scores.push(s);
        p.predicted.push(y);
        p.sentiment5.push(a5);
        p.sentiment3.push(a3);
    }
    p
}

/// K-fold cross-validation by respondent: train on K−1 folds, predict the held-out fold;
/// returns the predictions of every record, in record order.
#[must_use]
pub fn cross_validate(a: &Analysed, t: &Targets<'_>, k: usize, opts: &TrainOptions) -> Predictions {
    let n = a.docs.len();
    let fold: Vec<usize> = t.groups.iter().map(|g| fold_of(g, k)).collect();
    let mut out = Predictions {
        scores: vec![Vec::new(); n],
        predicted: vec![Vec::new(); n],
        sentiment5: vec![None; n],
        sentiment3: vec![None; n],
    };
    for f in 0..k {
        let train: Vec<usize> = (0..n).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..n).filter(|&i| fold[i] == f).collect();
        if test.is_empty() {
            continue;
        }
        let model = fit(a, t, &train, opts);
        let p = predict(&model, a, &test);
        for (r, &i) in test.iter().enumerate() {
            out.scores[i].clone_from(&p.scores[r]);
            out.predicted[i].clone_from(&p.predicted[r]);
            out.sentiment5[i] = p.sentiment5[r];
            out.sentiment3[i] = p.sentiment3[r];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<String>, Vec<Question>, Vec<Vec<bool>>, Vec<Option<u8>>, Vec<String>) {
        let phrases = [
            ("the parking was awful and expensive", [true, false]),
            ("lovely kind nurse, very caring", [false, true]),
            ("no parking spaces at all", [true, false]),
            ("the nurse was kind and caring to me", [false, true]),
            ("parking costs too much, kind staff though", [true, true]),
        ];
        let (mut texts, mut qs, mut y, mut s, mut g) = (vec![], vec![], vec![], vec![], vec![]);
        for i in 0..60 {
            let (p, l) = phrases[i % phrases.len()];
            texts.push(format!("{p} {}", ["today", "yesterday", "again", ""][i % 4]));
            qs.push(Question::Nonspecific);
            y.push(l.to_vec());
            s.push(Some(if l[0] && !l[1] { 5 } else { 1 }));
            g.push(format!("R{}", i / 2));
        }
        (texts, qs, y, s, g)
    }

    #[test]
    fn learns_a_toy_set_deterministically() {
        let (texts, qs, y, s, g) = toy();
        let labels = vec!["Parking".to_owned(), "Staff".to_owned()];
        let a = analyse(&texts, &qs, &FeatureSettings::default());
        let t = Targets { labels: &labels, y: &y, sentiment: &s, groups: &g };
        let rows: Vec<usize> = (0..texts.len()).collect();
        let opts = TrainOptions::default();
        let m = fit(&a, &t, &rows, &opts);
        let p = predict(&m, &a, &rows);
        assert_eq!(p.predicted, y, "a separable set is learned");
        assert_eq!(p.sentiment5[0], Some(5));
        assert_eq!(p.sentiment3[1], Some(0));
        let again = fit(&a, &t, &rows, &opts);
        assert_eq!(again.heads, m.heads, "same seed, same model");
        assert_eq!(again.thresholds, m.thresholds);
        let cv = cross_validate(&a, &t, 3, &opts);
        let right = cv.predicted.iter().zip(&y).filter(|(p, y)| p == y).count();
        assert!(right >= 50, "held-out folds are mostly right: {right}/60");
    }

    #[test]
    fn thresholds_maximise_f_beta() {
        let mut s = vec![(2.0, true), (1.0, true), (0.5, false), (0.0, true), (-1.0, false), (-2.0, false)];
        s.extend((0..MIN_POSITIVES_FOR_THRESHOLD).map(|i| (10.0 + i as f32, true)));
        // F1 with the 10 sure positives on top: top 12 -> 24/25; top 14 -> 26/27 (best)
        assert!((best_threshold(&mut s, 1.0) - (-0.5)).abs() < 1e-6);
        // beta 0.5 favours precision: top 2 (p 1, r 2/3) wins
        assert!((best_threshold(&mut s, 3.0) - (-0.5)).abs() < 1e-6);
        let mut high = vec![(2.0, true), (1.0, false), (0.9, false), (0.8, false), (0.7, true)];
        high.extend((0..MIN_POSITIVES_FOR_THRESHOLD).map(|i| (10.0 + i as f32, true)));
        assert!((best_threshold(&mut high, 0.5) - 1.5).abs() < 1e-6, "beta below 1 favours precision");
        let mut few = vec![(-0.9, true), (-1.0, false)];
        assert_eq!(best_threshold(&mut few, 1.0), 0.0, "too few positives to tune");
        let mut none = vec![(0.3, false), (-1.0, false)];
        assert!(best_threshold(&mut none, 1.0) > 0.3);
    }

    #[test]
    fn at_least_one_label_for_informative_records() {
        let (texts, qs, y, s, g) = toy();
        let labels = vec!["Parking".to_owned(), "Staff".to_owned()];
        let a = analyse(&texts, &qs, &FeatureSettings::default());
        let t = Targets { labels: &labels, y: &y, sentiment: &s, groups: &g };
        let mut m = fit(&a, &t, &(0..texts.len()).collect::<Vec<_>>(), &TrainOptions::default());
        m.thresholds = vec![100.0, 100.0];
        let mut out = Vec::new();
        m.decide(&[0.5, 2.0], true, &mut out);
        assert_eq!(out, [false, true], "the label nearest its threshold");
        m.decide(&[0.5, 2.0], false, &mut out);
        assert_eq!(out, [false, false], "a non-informative answer may have none");
    }

    #[test]
    fn folds_follow_the_published_definition() {
        // sha256("") = e3b0c442 98fc1c14 …
        assert_eq!(fold_of("", 5), (0xe3b0_c442_98fc_1c14u64 % 5) as usize);
        assert_eq!(fold_of("R1", 1), 0);
    }
}
