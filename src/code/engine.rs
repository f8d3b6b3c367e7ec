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
    pub redactor: Redactor,
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
        Engine { book, sentiment: SentimentModel::english(), redactor: Redactor::new() }
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
        let hits = self.book.code(&safe, question, coder);
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
        let themes = hits
            .into_iter()
            .map(|hit| {
                let polarities =
                    hit.mentions.iter().map(|m| sentiment.mention_polarity(m.tokens.0 as usize..m.tokens.1 as usize));
                let mut pol = Polarity::Neutral;
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
                CodedTheme { hit, polarity: pol, is_concern }
            })
            .collect();
        let redacted = match safe {
            Cow::Borrowed(_) => None,
            Cow::Owned(s) => Some(s),
        };
        (Coded { redacted, redactions, themes, polarity, score: sentiment.score, reading }, sentiment)
    }
}
