//! Evaluation against labelled comments: per-label precision, recall and F1, micro and
//! macro averages, exact match and Hamming loss; sentiment agreement.
//!
//! The labelled file is read in the wide layout of `../shared/eval/fft-labelled-dev.csv`:
//! one row per comment, a text column, a question column, and one 0/1 column per label from
//! `labels_from` to the last column.

use std::path::{Path, PathBuf};

use crate::config::{Format, SourceSettings};
use crate::ingest::{self, Cell, ReadItem};
use crate::record::Question;

/// Where things are in a labelled file.
#[derive(Debug, Clone)]
pub struct Columns {
    /// Free text.
    pub text: String,
    /// Question (FFT wording or canonical name); unknown wordings count as `nonspecific`.
    pub question: Option<String>,
    /// First label column; it and every column after it is a 0/1 label.
    pub labels_from: String,
    /// Record id (default: the row number).
    pub id: Option<String>,
    /// Sentiment 1 (very positive) … 5 (very negative); blank = unlabelled.
    pub sentiment: Option<String>,
    /// FFT rating.
    pub rating: Option<String>,
    /// Respondent (group) id: folds keep a respondent's records together (default: the record id).
    pub group: Option<String>,
}

/// A labelled set in memory.
#[derive(Debug, Clone, Default)]
pub struct LabelledSet {
    /// Record ids.
    pub ids: Vec<String>,
    /// Texts.
    pub texts: Vec<String>,
    /// Questions.
    pub questions: Vec<Question>,
    /// FFT ratings.
    pub ratings: Vec<Option<u8>>,
    /// Gold sentiment (1–5).
    pub sentiment: Vec<Option<u8>>,
    /// Label names, in file order.
    pub labels: Vec<String>,
    /// Per record, per label.
    pub y: Vec<Vec<bool>>,
    /// Respondent (group) of each record.
    pub groups: Vec<String>,
    /// What reading passed over, for the user (rows of the long layout with a blank label).
    pub notes: Vec<String>,
}

/// Evaluation errors.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Reading.
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    /// A column is missing or a value is bad.
    #[error("{path}: {message}")]
    Data {
        /// File.
        path: PathBuf,
        /// What.
        message: String,
    },
}

fn cell_text(c: Option<&Cell>) -> String {
    c.and_then(Cell::to_text).unwrap_or_default()
}

/// A cell's whole number, as written or as a float column writes it (pandas writes a column of
/// 0/1 with one blank as `1.0`, `0.0`: found refused as "not 0 or 1").
fn whole(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok().filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15)?;
        Some(f as i64)
    })
}

/// Reads a wide labelled CSV.
///
/// # Errors
/// Unreadable file or missing columns; a label cell that is not blank, 0 or 1 names its row.
pub fn read_labelled(path: &Path, cols: &Columns) -> Result<LabelledSet, EvalError> {
    read_set(path, cols, true)
}

/// Reads the long layout: a texts file (id, text, question… columns, no label columns) and a
/// `record_id,label` CSV with one row per record and label; records with no row have no label.
/// Labels are in order of first appearance.
///
/// # Errors
/// Unreadable files, missing columns, or a label row whose id is not in the texts file.
pub fn read_long(texts: &Path, long: &Path, cols: &Columns) -> Result<LabelledSet, EvalError> {
    let mut set = read_set(texts, cols, false)?;
    let err = |message: String| EvalError::Data { path: long.to_path_buf(), message };
    let index: std::collections::HashMap<&str, usize> =
        set.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let bytes = crate::files::read(long).map_err(|e| err(e.to_string()))?;
    let mut reader = ingest::small_csv(&bytes, false);
    let mut pairs = Vec::new();
    let mut blank = (0usize, None);
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| err(format!("row {}: {e}", i + 2)))?;
        let (Some(id), Some(label)) = (rec.get(0).map(str::trim), rec.get(1).map(str::trim)) else {
            return Err(err(format!("row {}: expected record_id,label", i + 2)));
        };
        // a record with no label (an unlabelled comment a join left in): no label, not a label
        // named "" (found: it became one)
        if label.is_empty() {
            blank.0 += 1;
            blank.1.get_or_insert(i + 2);
            continue;
        }
        let r =
            *index.get(id).ok_or_else(|| err(format!("row {}: record {id:?} is not in {}", i + 2, texts.display())))?;
        if !set.labels.iter().any(|l| l == label) {
            set.labels.push(label.to_owned());
        }
        pairs.push((r, set.labels.iter().position(|l| l == label).unwrap_or(0)));
    }
    if let (n, Some(first)) = blank {
        set.notes.push(format!(
            "{}: {n} row(s) with a blank label passed over (the first is row {first}): their records have no label from them",
            long.display()
        ));
    }
    set.y = vec![vec![false; set.labels.len()]; set.ids.len()];
    for (r, j) in pairs {
        set.y[r][j] = true;
    }
    Ok(set)
}

fn read_set(path: &Path, cols: &Columns, wide: bool) -> Result<LabelledSet, EvalError> {
    let source = SourceSettings::plain("labelled", path, Format::Csv);
    let bytes = ingest::read_input(path)?;
    let table = ingest::read_table(&source, &ingest::decompress(path, &bytes)?)?;
    let err = |message: String| EvalError::Data { path: path.to_path_buf(), message };
    // every column asked for, with the flag that names it and what "" gives instead: a file
    // lacking several is told all of them at once (found: a labelled file of other columns met
    // three errors in turn, one a run)
    let wanted: [(Option<&str>, &str, Option<&str>); 7] = [
        (Some(&cols.text), "--text-column", None),
        (cols.question.as_deref(), "--question-column", Some("every text nonspecific")),
        (wide.then_some(cols.labels_from.as_str()), "--labels-from", None),
        (cols.id.as_deref(), "--id-column", Some("the row number")),
        (cols.sentiment.as_deref(), "--sentiment-column", Some("no sentiment")),
        (cols.rating.as_deref(), "--rating-column", Some("no rating")),
        (cols.group.as_deref(), "--group-column", Some("the record id")),
    ];
    let at: Vec<Option<usize>> =
        wanted.iter().map(|(name, ..)| name.and_then(|n| table.headers.iter().position(|h| h == n))).collect();
    let missing: Vec<String> = wanted
        .iter()
        .zip(&at)
        .filter_map(|(&(name, flag, instead), found)| {
            let name = name.filter(|_| found.is_none())?;
            Some(match instead {
                Some(instead) => format!("{name:?} ({flag}; \"\" for {instead})"),
                None => format!("{name:?} ({flag})"),
            })
        })
        .collect();
    if !missing.is_empty() {
        let (what, list) = match missing.as_slice() {
            [one] => ("no column".to_owned(), one.clone()),
            many => (format!("no column of these {}:", many.len()), many.join(", ")),
        };
        return Err(err(format!("{what} {list}; the header has: {}", ingest::header_list(&table.headers))));
    }
    let text = at[0].unwrap_or_default();
    let question = at[1];
    let first_label = if wide { at[2].unwrap_or_default() } else { table.headers.len() };
    let (id, sentiment, rating, group) = (at[3], at[4], at[5], at[6]);
    let mut set = LabelledSet { labels: table.headers[first_label..].to_vec(), ..LabelledSet::default() };
    for item in table.items {
        if matches!(item, ReadItem::Blank) {
            continue;
        }
        let ReadItem::Row(row) = item else {
            return Err(err("a row could not be read (check the file is a well-formed CSV)".to_owned()));
        };
        let get = |i: usize| cell_text(row.cells.get(i));
        set.ids.push(id.map_or_else(|| row.row.to_string(), get));
        set.groups.push(group.map_or_else(|| set.ids[set.ids.len() - 1].clone(), get));
        set.texts.push(get(text));
        set.questions.push(question.map(get).and_then(|q| Question::parse(&q)).unwrap_or(Question::Nonspecific));
        set.ratings.push(rating.map(get).and_then(|r| ingest::parse_rating(r.trim())));
        set.sentiment.push(match sentiment.map(get).map(|s| s.trim().to_owned()).as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                whole(s)
                    .filter(|v| (1..=5).contains(v))
                    .and_then(|v| u8::try_from(v).ok())
                    .ok_or_else(|| err(format!("row {}: sentiment {s:?} is not 1-5", row.row)))?,
            ),
        });
        let mut y = Vec::with_capacity(set.labels.len());
        for (j, label) in set.labels.iter().enumerate() {
            let v = get(first_label + j);
            y.push(match (v.trim(), whole(&v)) {
                ("", _) | (_, Some(0)) => false,
                (_, Some(1)) => true,
                (t, _) if t.eq_ignore_ascii_case("false") => false,
                (t, _) if t.eq_ignore_ascii_case("true") => true,
                (other, _) => return Err(err(format!("row {}: column {label:?}: {other:?} is not 0 or 1", row.row))),
            });
        }
        set.y.push(y);
    }
    // what would skew every score unsaid (found trying careless files: a label column given
    // twice, an export pasted twice under itself)
    let mut seen = std::collections::HashMap::new();
    for l in &set.labels {
        *seen.entry(l.as_str()).or_insert(0usize) += 1;
    }
    let mut twice: Vec<String> =
        seen.iter().filter(|(_, &n)| n > 1).map(|(l, n)| format!("{l:?} ({n} times)")).collect();
    twice.sort();
    if !twice.is_empty() {
        set.notes.push(format!(
            "{}: label columns of one name: {} — each is scored as a label of its own",
            path.display(),
            twice.join(", ")
        ));
    }
    if id.is_some() {
        let mut ids = std::collections::HashSet::new();
        let (mut repeated, mut same_text) = (0usize, 0usize);
        let mut texts_of: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for (i, t) in set.ids.iter().zip(&set.texts) {
            if !ids.insert(i.as_str()) {
                repeated += 1;
                same_text += usize::from(texts_of.get(i.as_str()) == Some(&t.as_str()));
            }
            texts_of.entry(i.as_str()).or_insert(t.as_str());
        }
        if repeated > 0 {
            set.notes.push(format!(
                "{}: {repeated} row(s) repeat the id of an earlier row ({same_text} with the same text: a file pasted twice?) — each is scored as a comment of its own",
                path.display()
            ));
        }
    }
    Ok(set)
}

/// Scores of one label.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelMetrics {
    /// Label.
    pub label: String,
    /// Records with the label.
    pub support: u64,
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// False negatives.
    pub fn_: u64,
    /// tp / (tp + fp), 0 when nothing was predicted.
    pub precision: f64,
    /// tp / (tp + fn), 0 without support.
    pub recall: f64,
    /// Harmonic mean, 0 when both are 0.
    pub f1: f64,
}

/// Scores of a multi-label prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Per label, in the given order.
    pub per_label: Vec<LabelMetrics>,
    /// Micro precision.
    pub micro_precision: f64,
    /// Micro recall.
    pub micro_recall: f64,
    /// Micro F1.
    pub micro_f1: f64,
    /// Mean F1 over labels with support ≥ 1.
    pub macro_f1: f64,
    /// Mean F1 over labels with support ≥ 5.
    pub macro_f1_support5: f64,
    /// Share of records whose predicted label set equals the true one.
    pub exact_match: f64,
    /// Share of record × label cells predicted wrongly.
    pub hamming_loss: f64,
    /// Records.
    pub records: usize,
}

fn prf(tp: u64, fp: u64, fn_: u64) -> (f64, f64, f64) {
    let p = if tp + fp == 0 { 0.0 } else { tp as f64 / (tp + fp) as f64 };
    let r = if tp + fn_ == 0 { 0.0 } else { tp as f64 / (tp + fn_) as f64 };
    let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    (p, r, f)
}

/// Scores `pred` against `truth` (records × labels).
#[must_use]
pub fn metrics(labels: &[String], truth: &[Vec<bool>], pred: &[Vec<bool>]) -> Metrics {
    let mut per_label = Vec::with_capacity(labels.len());
    let (mut tp_all, mut fp_all, mut fn_all) = (0, 0, 0);
    for (j, label) in labels.iter().enumerate() {
        let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
        for (t, p) in truth.iter().zip(pred) {
            match (t[j], p[j]) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => {}
            }
        }
        let (precision, recall, f1) = prf(tp, fp, fn_);
        tp_all += tp;
        fp_all += fp;
        fn_all += fn_;
        per_label.push(LabelMetrics { label: label.clone(), support: tp + fn_, tp, fp, fn_, precision, recall, f1 });
    }
    let (micro_precision, micro_recall, micro_f1) = prf(tp_all, fp_all, fn_all);
    let mean = |min: u64| {
        let f: Vec<f64> = per_label.iter().filter(|m| m.support >= min).map(|m| m.f1).collect();
        if f.is_empty() {
            0.0
        } else {
            f.iter().sum::<f64>() / f.len() as f64
        }
    };
    let n = truth.len();
    let exact = truth.iter().zip(pred).filter(|(t, p)| t == p).count();
    let wrong: usize = truth.iter().zip(pred).map(|(t, p)| t.iter().zip(p).filter(|(a, b)| a != b).count()).sum();
    Metrics {
        micro_precision,
        micro_recall,
        micro_f1,
        macro_f1: mean(1),
        macro_f1_support5: mean(5),
        exact_match: if n == 0 { 0.0 } else { exact as f64 / n as f64 },
        hamming_loss: if n == 0 || labels.is_empty() { 0.0 } else { wrong as f64 / (n * labels.len()) as f64 },
        records: n,
        per_label,
    }
}

/// A map from codebook themes to label columns (`theme_code,label` CSV, many-to-many; the two
/// columns in either order when the header names them).
///
/// # Errors
/// Unreadable file or a row without both fields.
pub fn read_label_map(path: &Path) -> Result<Vec<(String, String)>, EvalError> {
    let err = |message: String| EvalError::Data { path: path.to_path_buf(), message };
    let bytes = crate::files::read(path).map_err(|e| err(e.to_string()))?;
    let mut reader = ingest::small_csv(&bytes, true);
    // `label,theme_code` as written the other way round (found: its labels were looked for as
    // themes, "theme \"Staff\" is not in the codebook")
    let named = |h: &str| {
        let h = h.trim().to_ascii_lowercase();
        if matches!(h.as_str(), "label" | "labels" | "label_column") {
            Some(1)
        } else if matches!(h.as_str(), "theme_code" | "theme" | "code" | "theme code") {
            Some(0)
        } else {
            None
        }
    };
    let (at_theme, at_label) = match reader.headers().map(|h| h.iter().map(named).collect::<Vec<_>>()) {
        Ok(roles) if roles.len() >= 2 && roles[0] == Some(1) && roles[1] == Some(0) => (1, 0),
        _ => (0, 1),
    };
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| err(format!("row {}: {e}", i + 2)))?;
        match (rec.get(at_theme).map(str::trim), rec.get(at_label).map(str::trim)) {
            (Some(t), Some(l)) if !t.is_empty() && !l.is_empty() => out.push((t.to_owned(), l.to_owned())),
            _ => return Err(err(format!("row {}: expected theme_code,label", i + 2))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let labels = vec!["a".to_owned(), "b".to_owned()];
        let truth = vec![vec![true, false], vec![true, true], vec![false, false], vec![false, true]];
        let pred = vec![vec![true, false], vec![false, true], vec![true, false], vec![false, false]];
        let m = metrics(&labels, &truth, &pred);
        // a: tp 1, fp 1, fn 1 -> p .5 r .5 f .5 ; b: tp 1, fp 0, fn 1 -> p 1 r .5 f 2/3
        assert_eq!((m.per_label[0].tp, m.per_label[0].fp, m.per_label[0].fn_), (1, 1, 1));
        assert!((m.per_label[1].f1 - 2.0 / 3.0).abs() < 1e-12);
        // micro: tp 2, fp 1, fn 2 -> p 2/3, r 1/2, f 4/7
        assert!((m.micro_f1 - 4.0 / 7.0).abs() < 1e-12);
        assert!((m.macro_f1 - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert!((m.exact_match - 0.25).abs() < 1e-12);
        assert!((m.hamming_loss - 3.0 / 8.0).abs() < 1e-12);
        assert_eq!(m.macro_f1_support5, 0.0, "no label has 5 positives");
    }
}
