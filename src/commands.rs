//! Commands beyond `run`: evaluation and explanation. Thin: they call the library and print.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::EvalArgs;
use crate::code::Coder;
use crate::config::CodebookSource;
use crate::evaluate::{self, Columns, Metrics};
use crate::messages::Messages;
use crate::output::{write_table, Col, ColumnData, Table};
use crate::pipeline::load_codebook;

/// `unheard eval`: codes every labelled comment and scores the codes against the labels.
///
/// # Errors
/// Unreadable inputs or outputs.
pub fn eval(args: &EvalArgs, messages: &Messages) -> Result<ExitCode> {
    let source = args.codebook.clone().map_or(CodebookSource::Builtin, CodebookSource::Path);
    let book = load_codebook(&source)?;
    let cols = Columns {
        text: args.text_column.clone(),
        question: Some(args.question_column.clone()),
        labels_from: args.labels_from.clone(),
        id: Some(args.id_column.clone()),
        sentiment: Some(args.sentiment_column.clone()),
        rating: Some(args.rating_column.clone()),
    };
    let set = evaluate::read_labelled(&args.labelled, &cols)
        .with_context(|| format!("cannot read {}", args.labelled.display()))?;
    let map = evaluate::read_label_map(&args.label_map)?;
    // the labels the map reaches, in file order
    let labels: Vec<String> = set.labels.iter().filter(|l| map.iter().any(|(_, m)| m == *l)).cloned().collect();
    for (code, label) in &map {
        if !book.themes.iter().any(|t| &t.code == code) {
            anyhow::bail!("{}: theme {code:?} is not in the codebook", args.label_map.display());
        }
        if !set.labels.contains(label) {
            anyhow::bail!(
                "{}: label {label:?} is not a label column of {}",
                args.label_map.display(),
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
    let mut coder = Coder::default();
    let pred: Vec<Vec<bool>> = set
        .texts
        .iter()
        .zip(&set.questions)
        .map(|(text, q)| {
            let mut p = vec![false; labels.len()];
            for hit in book.code(text, *q, &mut coder) {
                for &j in &label_of[hit.theme as usize] {
                    p[j] = true;
                }
            }
            p
        })
        .collect();
    let m = evaluate::metrics(&labels, &truth, &pred);
    messages.out(&report(&m));
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        write_table(&predictions(&set.ids, &labels, &pred), &dir.join("predictions.parquet"))?;
        write_table(&metrics_table(&m), &dir.join("metrics.parquet"))?;
    }
    Ok(ExitCode::SUCCESS)
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

fn predictions(ids: &[String], labels: &[String], pred: &[Vec<bool>]) -> Table {
    let n = ids.len() * labels.len();
    let (mut id, mut label, mut score, mut predicted) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for (r, p) in ids.iter().zip(pred) {
        for (l, &v) in labels.iter().zip(p) {
            id.push(Some(r.clone()));
            label.push(Some(l.clone()));
            score.push(Some(if v { 1.0 } else { 0.0 }));
            predicted.push(Some(i32::from(v)));
        }
    }
    Table {
        name: "predictions".to_owned(),
        grain: "record × label".to_owned(),
        columns: vec![
            Col::new("record_id", "record id from the labelled file (or its row number)", ColumnData::Str(id)),
            Col::new("label", "label column", ColumnData::Str(label)),
            Col::new("score", "score (a codebook gives 1 or 0)", ColumnData::F64(score)),
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
