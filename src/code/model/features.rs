//! Features from the project's analyzer: stemmed word n-grams weighted by TF-IDF with
//! sublinear tf (1 + ln tf) and L2-normalised, then the question as a one-hot feature and the
//! built-in codebook's themes as binary features, each scaled by its own weight.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::record::Question;
use crate::text::Tokens;

/// How text becomes features (stored in the model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSettings {
    /// Word n-grams from 1 to this (over stems).
    pub ngram_max: usize,
    /// Character n-grams (within words, with `<` `>` marking the word's edges) from
    /// `char_ngrams.0` to `char_ngrams.1`; `None` = none.
    #[serde(default)]
    pub char_ngrams: Option<(usize, usize)>,
    /// Terms in fewer training records than this are dropped.
    pub min_df: u32,
    /// tf becomes 1 + ln tf.
    pub sublinear_tf: bool,
    /// Weight of the question's one-hot feature (0 = none).
    pub question_weight: f32,
    /// Weight of each codebook theme found in the text (0 = none).
    pub codebook_weight: f32,
}

impl Default for FeatureSettings {
    fn default() -> Self {
        FeatureSettings {
            ngram_max: 2,
            char_ngrams: None,
            min_df: 2,
            sublinear_tf: true,
            question_weight: 0.5,
            codebook_weight: 0.5,
        }
    }
}

/// Calls `f` with every term of the tokens: stems, then stem n-grams joined by a space, then
/// character n-grams prefixed with `#`. `buf` is scratch space.
pub(crate) fn for_each_term(tokens: &Tokens, settings: &FeatureSettings, buf: &mut String, mut f: impl FnMut(&str)) {
    let n = tokens.len();
    for i in 0..n {
        f(tokens.stem(i));
    }
    for len in 2..=settings.ngram_max {
        for i in 0..n.saturating_sub(len - 1) {
            buf.clear();
            for k in 0..len {
                if k > 0 {
                    buf.push(' ');
                }
                buf.push_str(tokens.stem(i + k));
            }
            f(buf);
        }
    }
    if let Some((lo, hi)) = settings.char_ngrams {
        let mut chars: Vec<char> = Vec::new();
        for i in 0..n {
            chars.clear();
            chars.push('<');
            chars.extend(tokens.word(i).chars());
            chars.push('>');
            for len in lo..=hi {
                for s in 0..chars.len().saturating_sub(len - 1) {
                    buf.clear();
                    buf.push('#');
                    buf.extend(&chars[s..s + len]);
                    f(buf);
                }
            }
        }
    }
}

/// `ln((1 + n) / (1 + df)) + 1`, as scikit-learn's smoothed idf.
#[must_use]
pub(crate) fn idf(n: usize, df: u32) -> f32 {
    (((1 + n) as f64 / (1 + df as usize) as f64).ln() + 1.0) as f32
}

/// The feature space of a model: vocabulary with idf, then the questions, then the codebook's
/// themes.
#[derive(Debug, Clone)]
pub struct Space {
    /// Settings.
    pub settings: FeatureSettings,
    /// Term → feature index.
    pub vocab: HashMap<String, u32, foldhash::fast::FixedState>,
    /// idf per term feature.
    pub idf: Vec<f32>,
    /// Codebook themes used as features (index in the built-in codebook).
    pub themes: usize,
}

impl Space {
    /// Builds the space from terms and their idf, in index order.
    #[must_use]
    pub fn new(settings: FeatureSettings, terms: &[(String, f32)], themes: usize) -> Space {
        let mut vocab = HashMap::with_capacity_and_hasher(terms.len(), foldhash::fast::FixedState::default());
        for (i, (t, _)) in terms.iter().enumerate() {
            vocab.insert(t.clone(), i as u32);
        }
        Space { settings, vocab, idf: terms.iter().map(|(_, w)| *w).collect(), themes }
    }

    /// Total features.
    #[must_use]
    pub fn len(&self) -> usize {
        self.idf.len() + Question::ALL.len() + self.themes
    }

    /// No features at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sparse feature row of an analysed text, sorted by index.
    pub fn row(
        &self,
        tokens: &Tokens,
        question: Question,
        themes: &[u16],
        buf: &mut String,
        out: &mut Vec<(u32, f32)>,
    ) {
        out.clear();
        for_each_term(tokens, &self.settings, buf, |t| {
            if let Some(&i) = self.vocab.get(t) {
                out.push((i, 1.0));
            }
        });
        weigh(out, &self.idf, self.settings.sublinear_tf);
        self.extras(question, themes, out);
    }

    /// Appends the question and codebook features.
    pub fn extras(&self, question: Question, themes: &[u16], out: &mut Vec<(u32, f32)>) {
        let base = self.idf.len() as u32;
        if self.settings.question_weight > 0.0 {
            let q = Question::ALL.iter().position(|x| *x == question).unwrap_or(0) as u32;
            out.push((base + q, self.settings.question_weight));
        }
        if self.settings.codebook_weight > 0.0 {
            let base = base + Question::ALL.len() as u32;
            let start = out.len();
            for &t in themes {
                if usize::from(t) < self.themes {
                    out.push((base + u32::from(t), self.settings.codebook_weight));
                }
            }
            out[start..].sort_unstable_by_key(|p| p.0);
            out.dedup_by_key(|p| p.0);
        }
    }
}

/// Turns (index, 1.0) term occurrences into sorted, merged TF-IDF, L2-normalised.
pub(crate) fn weigh(row: &mut Vec<(u32, f32)>, idf: &[f32], sublinear: bool) {
    row.sort_unstable_by_key(|p| p.0);
    let mut w = 0;
    for r in 0..row.len() {
        if w > 0 && row[w - 1].0 == row[r].0 {
            row[w - 1].1 += row[r].1;
        } else {
            row[w] = row[r];
            w += 1;
        }
    }
    row.truncate(w);
    let mut norm = 0f32;
    for p in row.iter_mut() {
        let tf = if sublinear { 1.0 + p.1.ln() } else { p.1 };
        p.1 = tf * idf[p.0 as usize];
        norm += p.1 * p.1;
    }
    if norm > 0.0 {
        let inv = 1.0 / norm.sqrt();
        for p in row.iter_mut() {
            p.1 *= inv;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Analyzer;

    #[test]
    fn unigrams_bigrams_tfidf_and_extras() {
        let mut t = Tokens::default();
        Analyzer::english().analyze("Waiting waiting room", &mut t);
        let s = FeatureSettings::default();
        let mut terms = Vec::new();
        for_each_term(&t, &s, &mut String::new(), |x| terms.push(x.to_owned()));
        assert_eq!(terms, ["wait", "wait", "room", "wait wait", "wait room"]);
        let vocab = vec![("room".to_owned(), 2.0), ("wait".to_owned(), 1.0), ("wait room".to_owned(), 1.0)];
        let space = Space::new(s, &vocab, 4);
        let mut row = Vec::new();
        space.row(&t, Question::CouldImprove, &[2, 2], &mut String::new(), &mut row);
        // wait: (1 + ln 2) * 1, room: 2, wait room: 1; normalised; then question 1, theme 2
        let norm = ((1.0f32 + 2f32.ln()).powi(2) + 4.0 + 1.0).sqrt();
        assert_eq!(row.len(), 5);
        assert_eq!(row[0].0, 0);
        assert!((row[0].1 - 2.0 / norm).abs() < 1e-6);
        assert!((row[1].1 - (1.0 + 2f32.ln()) / norm).abs() < 1e-6);
        assert_eq!(row[3], (3 + 1, 0.5), "could_improve is the second question");
        assert_eq!(row[4], (3 + 5 + 2, 0.5), "a theme found twice is one feature");
        let text_norm: f32 = row[..3].iter().map(|p| p.1 * p.1).sum();
        assert!((text_norm - 1.0).abs() < 1e-5);
    }

    #[test]
    fn char_ngrams_mark_word_edges() {
        let mut t = Tokens::default();
        Analyzer::english().analyze("ok", &mut t);
        let s = FeatureSettings { ngram_max: 1, char_ngrams: Some((2, 3)), ..FeatureSettings::default() };
        let mut terms = Vec::new();
        for_each_term(&t, &s, &mut String::new(), |x| terms.push(x.to_owned()));
        assert_eq!(terms, ["ok", "#<o", "#ok", "#k>", "#<ok", "#ok>"]);
    }
}
