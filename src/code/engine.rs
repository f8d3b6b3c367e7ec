//! The per-record engine: redact, code themes, read sentiment per clause, flag
//! non-informative answers and decide which theme mentions are concerns.
//!
//! A *concern* is a theme mention with negative polarity, or a theme under a
//! `could_improve` question whose mention is not positive, unless the answer is
//! non-informative ("nothing", "n/a"), which is never a concern. (A positive mention under
//! `could_improve` — "keep the lovely staff" — is praise, not a concern: a deliberate
//! narrowing of DESIGN.md's "any theme under could_improve".)

use std::borrow::Cow;

use super::sentiment::{Polarity, RecordPolarity, Sentiment, SentimentModel};
use super::{Codebook, Coder, ThemeHit};
use crate::config::Policy;
use crate::record::Question;
use crate::text::informative::{non_informative, Reading};
use crate::text::redact::{Redaction, Redactor};

/// Everything the engine needs, built once per run.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The codebook.
    pub book: Codebook,
    /// Sentiment lexicon.
    pub sentiment: SentimentModel,
    /// PII redactor.
    pub redactor: &'static Redactor,
    /// A learned model whose themes join the codebook's (see [`crate::config::Policy`]).
    pub model: Option<std::sync::Arc<crate::code::model::ThemeModel>>,
}

/// What assigned a theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The codebook's rules.
    Codebook,
    /// The learned model (no span: the model reads the whole text).
    Model,
    /// Both.
    Both,
}

impl Origin {
    /// Name in outputs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Codebook => "codebook",
            Origin::Model => "model",
            Origin::Both => "both",
        }
    }
}

/// A theme on a record, with its polarity.
#[derive(Debug, Clone, PartialEq)]
pub struct CodedTheme {
    /// The theme and its evidence (spans index the redacted text).
    pub hit: ThemeHit,
    /// Polarity of the clause(s) carrying it: negative if any mention is negative.
    pub polarity: Polarity,
    /// Whether the mention is a concern (see the module docs).
    pub is_concern: bool,
    /// What assigned it.
    pub origin: Origin,
}

/// One record after the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Coded {
    /// The redacted text when redaction changed it (`None`: the original is already safe).
    pub redacted: Option<String>,
    /// What was redacted (spans in the original text).
    pub redactions: Vec<Redaction>,
    /// Themes in codebook order.
    pub themes: Vec<CodedTheme>,
    /// Record polarity.
    pub polarity: RecordPolarity,
    /// Sentiment score (negative below 0).
    pub score: f32,
    /// Set when the answer is non-informative, with how it reads under its question.
    pub reading: Option<Reading>,
    /// Characters of the original (unredacted) text.
    pub chars: usize,
}

impl Coded {
    /// The text as it may be written: redacted.
    #[must_use]
    pub fn text<'a>(&'a self, original: &'a str) -> &'a str {
        self.redacted.as_deref().unwrap_or(original)
    }
}

impl Engine {
    /// An engine with the built-in sentiment lexicon and redactor.
    #[must_use]
    pub fn new(book: Codebook) -> Engine {
        Engine { book, sentiment: SentimentModel::english(), redactor: Redactor::shared(), model: None }
    }

    /// The same engine with a learned model.
    #[must_use]
    pub fn with_model(mut self, model: Option<crate::code::model::ThemeModel>) -> Engine {
        self.model = model.map(std::sync::Arc::new);
        self
    }

    /// Processes one text.
    pub fn process(&self, text: &str, question: Question, rating: Option<u8>, coder: &mut Coder) -> Coded {
        self.run(text, question, rating, coder, false).0
    }

    /// Processes one text and keeps the sentiment's reasons (for `explain`).
    pub fn explain(&self, text: &str, question: Question, rating: Option<u8>, coder: &mut Coder) -> (Coded, Sentiment) {
        self.run(text, question, rating, coder, true)
    }

    fn run(
        &self,
        text: &str,
        question: Question,
        rating: Option<u8>,
        coder: &mut Coder,
        explained: bool,
    ) -> (Coded, Sentiment) {
        let (safe, redactions) = self.redactor.redact(text);
        let mut hits = self.book.code(&safe, question, coder);
        let tokens = &coder.tokens;
        let sentiment = if explained {
            self.sentiment.analyze_explained(&safe, tokens, question, rating)
        } else {
            self.sentiment.analyze(&safe, tokens, question, rating)
        };
        let reading = non_informative(tokens, question);
        let polarity = match reading {
            Some(Reading::Satisfied) => RecordPolarity::Positive,
            Some(Reading::Dissatisfied) => RecordPolarity::Negative,
            Some(Reading::NoContent) => RecordPolarity::Neutral,
            None => sentiment.record,
        };
        let mut origins = vec![Origin::Codebook; hits.len()];
        if let Some(tm) = self.model.as_deref().filter(|m| m.policy != Policy::CodebookOnly) {
            let found: Vec<u16> = hits.iter().map(|h| h.theme).collect();
            let predicted = tm.themes(&safe, question, &found, tokens, reading.is_none(), &mut coder.model);
            for (h, o) in hits.iter().zip(origins.iter_mut()) {
                if predicted.binary_search(&h.theme).is_ok() {
                    *o = Origin::Both;
                }
            }
            if tm.policy == Policy::ModelOnly {
                let keep: Vec<bool> = origins.iter().map(|o| *o == Origin::Both).collect();
                let mut k = keep.iter();
                hits.retain(|_| *k.next().unwrap_or(&false));
                origins.retain(|o| *o == Origin::Both);
            }
            for t in predicted {
                if !found.contains(&t) {
                    hits.push(ThemeHit {
                        theme: t,
                        hits: 0,
                        rule: crate::record::Str::default(),
                        matched: crate::record::Str::default(),
                        span: (0, 0),
                        mentions: smallvec::SmallVec::new(),
                    });
                    origins.push(Origin::Model);
                }
            }
            let mut order: Vec<usize> = (0..hits.len()).collect();
            order.sort_by_key(|&i| hits[i].theme);
            let mut slots: Vec<Option<ThemeHit>> = hits.into_iter().map(Some).collect();
            hits = order.iter().filter_map(|&i| slots[i].take()).collect();
            origins = order.iter().map(|&i| origins[i]).collect();
        }
        let themes = hits
            .into_iter()
            .zip(origins)
            .map(|(hit, origin)| {
                let polarities =
                    hit.mentions.iter().map(|m| sentiment.mention_polarity(m.tokens.0 as usize..m.tokens.1 as usize));
                // a model theme has no mention: it takes the record's polarity
                let mut pol = if hit.mentions.is_empty() {
                    match sentiment.record {
                        RecordPolarity::Positive => Polarity::Positive,
                        RecordPolarity::Negative => Polarity::Negative,
                        RecordPolarity::Neutral | RecordPolarity::Mixed => Polarity::Neutral,
                    }
                } else {
                    Polarity::Neutral
                };
                for p in polarities {
                    if p == Polarity::Negative || (p == Polarity::Positive && pol == Polarity::Neutral) {
                        pol = p;
                    }
                }
                if let Some(r) = reading {
                    pol = match r {
                        Reading::Satisfied => Polarity::Positive,
                        Reading::Dissatisfied => Polarity::Negative,
                        Reading::NoContent => Polarity::Neutral,
                    };
                }
                let is_concern = reading.is_none()
                    && (pol == Polarity::Negative || (question == Question::CouldImprove && pol != Polarity::Positive));
                CodedTheme { hit, polarity: pol, is_concern, origin }
            })
            .collect();
        let redacted = match safe {
            Cow::Borrowed(_) => None,
            Cow::Owned(s) => Some(s),
        };
        let chars = text.chars().count();
        (Coded { redacted, redactions, themes, polarity, score: sentiment.score, reading, chars }, sentiment)
    }
}
