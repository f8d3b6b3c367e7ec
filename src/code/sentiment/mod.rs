//! Clause-level sentiment: a small, explainable lexicon model compiled to stems.
//!
//! Text is split into clauses at sentence punctuation, commas and contrast markers ("but",
//! "apart from", …). Each clause scores the lexicon words and short phrases it holds, with
//! negation ("not rude", "didn't listen", "couldn't fault"), intensifiers ("very", "a bit")
//! and `!` emphasis. The record adds the FFT rating as a prior and a question rule: under
//! "could we improve?" a comment with no sentiment words is a suggestion and leans negative,
//! while "nothing" / "none" / "no" answers mean there was nothing to improve (positive).
//!
//! One hash lookup per token; no allocation per token; `reasons` are built only by
//! [`SentimentModel::analyze_explained`].

mod lexicon;
mod scorer;

use std::ops::Range;

use lexicon::StemMap;

/// Polarity of one clause (or of a theme mention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Polarity {
    /// Praise.
    Positive,
    /// Criticism or a problem.
    Negative,
    /// Neither.
    Neutral,
}

impl Polarity {
    /// `"positive"`, `"negative"` or `"neutral"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Positive => "positive",
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
        }
    }
}

/// Polarity of a whole record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordPolarity {
    /// Praise overall.
    Positive,
    /// Criticism overall.
    Negative,
    /// No clear leaning.
    Neutral,
    /// Clearly positive and clearly negative clauses.
    Mixed,
}

impl RecordPolarity {
    /// `"positive"`, `"negative"`, `"neutral"` or `"mixed"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RecordPolarity::Positive => "positive",
            RecordPolarity::Negative => "negative",
            RecordPolarity::Neutral => "neutral",
            RecordPolarity::Mixed => "mixed",
        }
    }
}

/// One clause: a run of tokens with its own score.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Token indices covered (clauses tile the record's tokens).
    pub tokens: Range<usize>,
    /// Signed score (positive is praise).
    pub score: f32,
    /// Polarity of `score`.
    pub polarity: Polarity,
    /// Why (only filled by [`SentimentModel::analyze_explained`]).
    pub reasons: Vec<String>,
}

/// Sentiment of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentiment {
    /// Clauses in text order.
    pub clauses: Vec<Clause>,
    /// Record score: clause scores + emoji + question rule + rating prior.
    pub score: f32,
    /// Record polarity.
    pub record: RecordPolarity,
    /// Record-level reasons (only filled by [`SentimentModel::analyze_explained`]).
    pub reasons: Vec<String>,
}

impl Sentiment {
    /// The clause holding token `i` (theme mentions take the polarity of their clause).
    #[must_use]
    pub fn clause_of(&self, token: usize) -> Option<&Clause> {
        let i = self.clauses.partition_point(|c| c.tokens.end <= token);
        self.clauses.get(i).filter(|c| c.tokens.contains(&token))
    }

    /// Polarity of a mention spanning tokens `range`: its clause's polarity, or when that clause
    /// is neutral, the record's leaning (positive / negative; neutral when mixed or neutral).
    #[must_use]
    pub fn mention_polarity(&self, range: Range<usize>) -> Polarity {
        match self.clause_of(range.start).map(|c| c.polarity) {
            Some(p @ (Polarity::Positive | Polarity::Negative)) => p,
            _ => match self.record {
                RecordPolarity::Positive => Polarity::Positive,
                RecordPolarity::Negative => Polarity::Negative,
                RecordPolarity::Neutral | RecordPolarity::Mixed => Polarity::Neutral,
            },
        }
    }
}

/// The lexicon compiled to stems. Build once, share across threads.
#[derive(Debug, Clone)]
pub struct SentimentModel {
    map: StemMap,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Question;
    use crate::text::{Analyzer, Tokens};

    /// A text's sentiment, explained (the scorer's tests use it too).
    pub(super) fn run(text: &str, question: Question, rating: Option<u8>) -> Sentiment {
        let mut tokens = Tokens::default();
        Analyzer::english().analyze(text, &mut tokens);
        SentimentModel::english().analyze_explained(text, &tokens, question, rating)
    }

    #[test]
    fn clause_of_and_mention_polarity() {
        let s = run("lovely staff but the wait was awful", Question::Nonspecific, None);
        assert_eq!(s.clause_of(1).map(|c| c.tokens.clone()), Some(0..2));
        assert_eq!(s.clause_of(4).map(|c| c.tokens.clone()), Some(2..7));
        assert_eq!(s.clause_of(7), None);
        assert_eq!(s.mention_polarity(1..2), Polarity::Positive);
        assert_eq!(s.mention_polarity(4..5), Polarity::Negative);
        // A neutral clause falls back to the record's leaning.
        let s = run("the parking. terrible rude staff", Question::Nonspecific, None);
        assert_eq!(s.clause_of(1).map(|c| c.polarity), Some(Polarity::Neutral));
        assert_eq!(s.mention_polarity(1..2), Polarity::Negative);
    }
}
