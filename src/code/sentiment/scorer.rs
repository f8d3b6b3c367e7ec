//! The scorer: one pass over a text's tokens, closing clauses at punctuation and contrasts,
//! with pending negations and modifiers aged token by token; then the record's score.

use std::ops::Range;

use super::lexicon::{Entry, Kind, Phrase};
use super::{Clause, Polarity, RecordPolarity, Sentiment, SentimentModel};
use crate::record::Question;
use crate::text::Tokens;

/// Tokens a negation reaches.
const NEG_WINDOW: u8 = 3;
/// Tokens an intensifier reaches.
const MOD_WINDOW: u8 = 3;
/// A clause at or beyond ±this is positive / negative.
const CLAUSE_THRESHOLD: f32 = 0.3;
/// A record needs clauses at or beyond ±this on both sides to be mixed.
const MIXED_THRESHOLD: f32 = 0.5;
/// A record at or beyond ±this is positive / negative.
const RECORD_THRESHOLD: f32 = 0.3;
/// A negator that finds nothing to negate ("no one came", "wasn't told").
const ABSENCE: f32 = -0.4;
/// A "could improve" answer with no sentiment words: a suggestion.
const SUGGESTION: f32 = -0.5;
/// "Nothing" / "none" / "no" as the answer to "could we improve?".
const NOTHING_TO_IMPROVE: f32 = 1.0;
/// A suggestion marker ("more", "better"), which also turns the next word into a request.
const SUGGESTION_MARK: f32 = -0.5;

/// Rating prior: 1–2 lean positive, 4–5 lean negative, 3 / 6 / none no lean.
fn rating_prior(rating: Option<u8>) -> f32 {
    match rating {
        Some(1) => 0.6,
        Some(2) => 0.3,
        Some(4) => -0.3,
        Some(5) => -0.6,
        _ => 0.0,
    }
}

impl SentimentModel {
    /// Scores `text` (`tokens` are its analysis); `rating` is the FFT rating used as a prior.
    /// Leaves `reasons` empty (see [`SentimentModel::analyze_explained`]).
    #[must_use]
    pub fn analyze(&self, text: &str, tokens: &Tokens, question: Question, rating: Option<u8>) -> Sentiment {
        self.run(text, tokens, question, rating, false)
    }

    /// As [`SentimentModel::analyze`], also filling `reasons` for the `explain` command.
    #[must_use]
    pub fn analyze_explained(&self, text: &str, tokens: &Tokens, question: Question, rating: Option<u8>) -> Sentiment {
        self.run(text, tokens, question, rating, true)
    }

    fn run(&self, text: &str, tokens: &Tokens, question: Question, rating: Option<u8>, explain: bool) -> Sentiment {
        let n = tokens.len();
        let mut st =
            State { tokens, question, explain, clauses: Vec::new(), cur: Acc::default(), extra: 0.0, evidence: false };
        let mut i = 0;
        while i < n {
            let (start, _) = tokens.span(i);
            let prev_end = if i == 0 { 0 } else { tokens.span(i - 1).1 };
            let gap = text.get(prev_end..start).unwrap_or("");
            let (boundary, emoji) = scan_gap(gap);
            st.cur.emoji += emoji;
            st.cur.excl |= boundary == Gap::Exclaim && i > 0;
            if boundary != Gap::None && i > st.cur.start {
                st.close(i);
            }
            let key = key_of(tokens, i);
            let entry = self.map.get(key);
            let (kind, len, label) = match entry.and_then(|e| match_phrase(e, text, tokens, i)) {
                Some(p) => (Some(p.kind), 1 + p.rest.len(), p.text),
                None => (entry.and_then(|e| e.kind), 1, entry.map_or("", |e| e.text)),
            };
            match kind {
                Some(Kind::Contrast) => {
                    if i > st.cur.start {
                        st.close(i);
                    }
                    if explain {
                        st.cur.reasons.push(format!("contrast '{label}' starts a clause"));
                    }
                }
                Some(Kind::Word(w)) => st.word(w, i, len),
                Some(Kind::Modifier(m)) => {
                    // "couldn't have been more helpful": the comparative intensifies.
                    let m = if st.cur.praise_at == Some(i) { 1.5 } else { m };
                    if m < 0.0 {
                        st.cur.sum += SUGGESTION_MARK;
                        st.cur.evidence = true;
                    }
                    st.cur.modifier = Some((st.cur.modifier.map_or(m, |(p, _)| p * m), MOD_WINDOW + 1));
                    if explain && m < 0.0 {
                        st.cur.reasons.push(format!("{label}: suggestion {SUGGESTION_MARK:+.1}, next praise ×{m:.1}"));
                    } else if explain {
                        st.cur.reasons.push(format!("{label} ×{m:.1}"));
                    }
                }
                Some(Kind::Negator { nil }) => st.negator(i, nil),
                Some(Kind::Cancel) => st.cur.neg = None,
                None if tokens.word(i).ends_with("n't") => st.negator(i, false),
                None => {}
            }
            let end = i + len;
            while i < end {
                st.tick();
                i += 1;
            }
        }
        let tail = n.checked_sub(1).map_or(0, |l| tokens.span(l).1);
        let (boundary, emoji) = scan_gap(text.get(tail..).unwrap_or(""));
        st.cur.excl |= boundary == Gap::Exclaim;
        if n > 0 {
            st.cur.emoji += emoji;
            st.close(n);
        } else {
            st.extra += emoji;
        }
        st.finish(rating)
    }
}

/// The lookup key of token `i`: "not" for every n't form, else the stem.
fn key_of(tokens: &Tokens, i: usize) -> &str {
    if tokens.word(i).ends_with("n't") {
        "not"
    } else {
        tokens.stem(i)
    }
}

/// The longest phrase of `entry` matching at token `i`, not crossing punctuation.
fn match_phrase<'e>(entry: &'e Entry, text: &str, tokens: &Tokens, i: usize) -> Option<&'e Phrase> {
    entry.phrases.iter().find(|p| {
        p.rest.iter().enumerate().all(|(k, stem)| {
            let j = i + 1 + k;
            j < tokens.len()
                && key_of(tokens, j) == &**stem
                && text.get(tokens.span(j - 1).1..tokens.span(j).0).is_some_and(|g| scan_gap(g).0 == Gap::None)
        })
    })
}

/// What the text between two tokens does to clauses (ordered: `!` beats other punctuation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Break,
    Exclaim,
}

/// Emoji read as praise / criticism (the analyzer makes no tokens of them).
const HAPPY: &str = "😊🙂😀😃😄😁👍❤♥😍🥰🙏👏⭐";
const UNHAPPY: &str = "😡😠👎😞😢😭🙁☹😤😒";

/// Clause boundary in the text between two tokens, and the emoji score it holds.
fn scan_gap(gap: &str) -> (Gap, f32) {
    if gap == " " {
        return (Gap::None, 0.0); // most gaps: nothing to scan
    }
    let mut boundary = Gap::None;
    let mut emoji = 0.0;
    let spaced = gap.contains(char::is_whitespace);
    for c in gap.chars() {
        match c {
            '!' => boundary = Gap::Exclaim,
            '.' | '?' | ';' | ',' | ':' | '\n' | '(' | ')' | '–' | '—' => boundary = boundary.max(Gap::Break),
            '-' if spaced => boundary = boundary.max(Gap::Break),
            c if !c.is_ascii() && HAPPY.contains(c) => emoji += 1.0,
            c if !c.is_ascii() && UNHAPPY.contains(c) => emoji -= 1.0,
            _ => {}
        }
    }
    (boundary, emoji)
}

/// A pending negation: the negator's token, tokens left in its window, tokens consumed so far
/// (counting the negator itself) and whether it can answer "nothing".
#[derive(Debug, Clone, Copy)]
struct Neg {
    at: usize,
    left: u8,
    seen: u8,
    nil: bool,
}

/// The clause being built.
#[derive(Debug, Default)]
struct Acc {
    start: usize,
    sum: f32,
    evidence: bool,
    excl: bool,
    emoji: f32,
    neg: Option<Neg>,
    modifier: Option<(f32, u8)>,
    /// A comparative that follows a negator as praise ("could not be more …").
    praise_at: Option<usize>,
    reasons: Vec<String>,
}

struct State<'a> {
    tokens: &'a Tokens,
    question: Question,
    explain: bool,
    clauses: Vec<Clause>,
    cur: Acc,
    /// Emoji in a text without words.
    extra: f32,
    evidence: bool,
}

impl State<'_> {
    /// The words of tokens `r`, for reasons.
    fn words(&self, r: Range<usize>) -> String {
        r.map(|i| self.tokens.word(i)).collect::<Vec<_>>().join(" ")
    }

    /// A sentiment word or phrase of weight `w` at tokens `i..i + len`.
    fn word(&mut self, w: f32, i: usize, len: usize) {
        let mut v = w;
        let mut label = if self.explain { self.words(i..i + len) } else { String::new() };
        if let Some((m, _)) = self.cur.modifier.take() {
            // A suggestion marker turns praise into a request but leaves criticism as it is.
            if m > 0.0 || v > 0.0 {
                v *= m;
                if self.explain {
                    label = format!("{label} {w:+.1} ×{m:.1} =");
                }
            }
        }
        self.cur.evidence = true;
        let answer = self.cur.neg.is_some_and(|n| {
            n.at == self.cur.start
                && v > 0.0
                && self.question != Question::WhatGood
                && matches!(self.tokens.word(n.at), "nothing" | "none" | "nope" | "nil")
        });
        if answer {
            // "Nothing at all, the care was perfect": an answer, then praise.
            self.end_negation();
        }
        if let Some(neg) = self.cur.neg.take() {
            let flipped = if v > 0.0 { -0.8 * v } else { -0.6 * v };
            if self.explain {
                let nw = self.tokens.word(neg.at);
                self.cur.reasons.push(format!("{nw} … {label}: negated {v:+.1} → {flipped:+.1}"));
            }
            v = flipped;
        } else if self.explain {
            self.cur.reasons.push(format!("{label} {v:+.1}"));
        }
        self.cur.sum += v;
    }

    /// A negator at token `i`.
    fn negator(&mut self, i: usize, nil: bool) {
        self.end_negation();
        // "couldn't have been more helpful", "could not be better": praise, not negation.
        let limit = (i + 5).min(self.tokens.len());
        let comparative =
            (i + 2..limit).find(|&j| matches!(self.tokens.stem(j), "more" | "better" | "happier" | "nicer" | "kinder"));
        if let Some(j) = comparative {
            self.cur.praise_at = Some(j);
            self.cur.evidence = true;
            self.cur.sum += 1.0;
            if self.explain {
                self.cur.reasons.push(format!("{} … more: praise +1.0", self.tokens.word(i)));
            }
            return;
        }
        self.cur.neg = Some(Neg { at: i, left: NEG_WINDOW + 1, seen: 0, nil });
    }

    /// One token consumed: age the pending negation and modifier.
    fn tick(&mut self) {
        if let Some((_, left)) = &mut self.cur.modifier {
            *left -= 1;
            if *left == 0 {
                self.cur.modifier = None;
            }
        }
        if let Some(neg) = &mut self.cur.neg {
            neg.left -= 1;
            neg.seen += 1;
            if neg.left == 0 {
                self.end_negation();
            }
        }
    }

    /// A negation that found no sentiment word: "nothing" under `could_improve`, else absence.
    fn end_negation(&mut self) {
        let Some(neg) = self.cur.neg.take() else { return };
        let word = self.tokens.word(neg.at);
        let at_start = neg.at == self.cur.start || (neg.at == self.cur.start + 1 && neg.seen <= 1);
        let improve = self.question == Question::CouldImprove;
        let nil_answer = neg.nil && self.question != Question::WhatGood;
        if at_start && (nil_answer || (improve && neg.seen <= 2)) {
            self.cur.sum += NOTHING_TO_IMPROVE;
            self.cur.evidence = true;
            if self.explain {
                self.cur.reasons.push(format!("'{word}' as an answer: nothing to improve {NOTHING_TO_IMPROVE:+.1}"));
            }
        } else if neg.seen > 1 {
            self.cur.sum += ABSENCE;
            self.cur.evidence = true;
            if self.explain {
                self.cur.reasons.push(format!("'{word}' with nothing to negate: absence {ABSENCE:+.1}"));
            }
        }
    }

    /// Ends the current clause before token `end`.
    fn close(&mut self, end: usize) {
        self.end_negation();
        let mut acc = std::mem::take(&mut self.cur);
        self.cur.start = end;
        let mut score = acc.sum + acc.emoji;
        if acc.emoji != 0.0 && self.explain {
            acc.reasons.push(format!("emoji {:+.1}", acc.emoji));
        }
        if acc.excl && score != 0.0 {
            score *= 1.2;
            if self.explain {
                acc.reasons.push("'!' ×1.2".to_owned());
            }
        }
        self.evidence |= acc.evidence || acc.emoji != 0.0;
        self.clauses.push(Clause { tokens: acc.start..end, score, polarity: polarity(score), reasons: acc.reasons });
    }

    /// Record score and polarity: clauses + question rule + rating prior.
    fn finish(self, rating: Option<u8>) -> Sentiment {
        let mut reasons = Vec::new();
        let mut score = self.clauses.iter().map(|c| c.score).sum::<f32>() + self.extra;
        if self.extra != 0.0 && self.explain {
            reasons.push(format!("emoji {:+.1}", self.extra));
        }
        let has_text = !self.clauses.is_empty() || self.extra != 0.0;
        if self.question == Question::CouldImprove && has_text && !self.evidence {
            score += SUGGESTION;
            if self.explain {
                reasons.push(format!("could_improve without sentiment words: suggestion {SUGGESTION:+.1}"));
            }
        }
        // The rating describes the whole visit: a strong prior for weak text, a small bias for
        // clear text, and weaker under "could improve", where the text is about what went wrong.
        let text_weight = 1.0 / (1.0 + score.abs());
        let question_weight = if self.question == Question::CouldImprove { 0.5 } else { 1.0 };
        let prior = rating_prior(rating) * text_weight * question_weight;
        if has_text && prior != 0.0 {
            score += prior;
            if self.explain {
                reasons.push(format!("rating {}: prior {prior:+.2}", rating.unwrap_or(0)));
            }
        }
        let has_pos = self.clauses.iter().any(|c| c.score >= MIXED_THRESHOLD);
        let has_neg = self.clauses.iter().any(|c| c.score <= -MIXED_THRESHOLD);
        let record = if has_pos && has_neg {
            if self.explain {
                reasons.push("clearly positive and clearly negative clauses: mixed".to_owned());
            }
            RecordPolarity::Mixed
        } else if score >= RECORD_THRESHOLD {
            RecordPolarity::Positive
        } else if score <= -RECORD_THRESHOLD {
            RecordPolarity::Negative
        } else {
            RecordPolarity::Neutral
        };
        Sentiment { clauses: self.clauses, score, record, reasons }
    }
}

fn polarity(score: f32) -> Polarity {
    if score >= CLAUSE_THRESHOLD {
        Polarity::Positive
    } else if score <= -CLAUSE_THRESHOLD {
        Polarity::Negative
    } else {
        Polarity::Neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::tests::run;

    fn record(text: &str) -> RecordPolarity {
        run(text, Question::Nonspecific, None).record
    }

    #[test]
    fn contrast_splits_clauses_and_makes_mixed() {
        let s = run("lovely staff but the wait was awful", Question::Nonspecific, None);
        assert_eq!(s.clauses.len(), 2);
        assert_eq!(s.clauses[0].polarity, Polarity::Positive);
        assert_eq!(s.clauses[1].polarity, Polarity::Negative);
        assert_eq!(s.clauses[1].tokens, 2..7);
        assert_eq!(s.record, RecordPolarity::Mixed);
        assert!(s.clauses[1].reasons.iter().any(|r| r.contains("contrast 'but'")));
        let s = run("Friendly nurses. Apart from that the car park was a nightmare", Question::WhatGood, None);
        assert_eq!(s.clauses.len(), 2);
        assert_eq!(s.record, RecordPolarity::Mixed);
    }

    #[test]
    fn negation() {
        for text in [
            "not rude at all",
            "no problems",
            "nothing to improve",
            "couldn't fault them",
            "can\u{2019}t fault the care",
            "never had a problem",
            "the nurses could not have been more kind",
        ] {
            assert_eq!(record(text), RecordPolarity::Positive, "{text}");
        }
        for text in ["not very helpful", "the doctor didn't listen", "never called back", "no one explained anything"] {
            assert_eq!(record(text), RecordPolarity::Negative, "{text}");
        }
        let s = run("not rude at all", Question::Nonspecific, None);
        assert!(s.clauses[0].reasons.iter().any(|r| r.starts_with("not … rude: negated")), "{:?}", s.clauses);
    }

    #[test]
    fn intensifiers_scale_the_score() {
        let plain = run("the staff were helpful", Question::Nonspecific, None).score;
        let very = run("the staff were very helpful", Question::Nonspecific, None).score;
        let bit = run("the staff were a bit rude", Question::Nonspecific, None).score;
        let rude = run("the staff were rude", Question::Nonspecific, None).score;
        assert!(very > plain && plain > 0.0, "{very} {plain}");
        assert!(rude < bit && bit < 0.0, "{rude} {bit}");
        assert!(run("the staff were helpful!", Question::Nonspecific, None).score > plain);
    }

    #[test]
    fn rating_prior_flips_weak_text_only() {
        assert_eq!(run("ok", Question::Nonspecific, None).record, RecordPolarity::Neutral);
        assert_eq!(run("ok", Question::Nonspecific, Some(1)).record, RecordPolarity::Positive);
        assert_eq!(run("ok", Question::Nonspecific, Some(5)).record, RecordPolarity::Negative);
        assert_eq!(run("ok", Question::Nonspecific, Some(3)).record, RecordPolarity::Neutral);
        assert_eq!(run("excellent care, thank you", Question::Nonspecific, Some(5)).record, RecordPolarity::Positive);
        assert_eq!(run("rude and dismissive staff", Question::Nonspecific, Some(1)).record, RecordPolarity::Negative);
        let s = run("ok", Question::Nonspecific, Some(5));
        assert!(s.reasons.iter().any(|r| r.starts_with("rating 5: prior")));
    }

    #[test]
    fn could_improve_answers() {
        assert_eq!(run("more parking spaces", Question::CouldImprove, None).record, RecordPolarity::Negative);
        assert_eq!(run("Nothing really", Question::CouldImprove, None).record, RecordPolarity::Positive);
        assert_eq!(run("No.", Question::CouldImprove, None).record, RecordPolarity::Positive);
        assert_eq!(
            run("Nothing at all, the care was perfect", Question::CouldImprove, None).record,
            RecordPolarity::Positive
        );
        assert_eq!(run("nothing was good", Question::WhatGood, None).record, RecordPolarity::Negative);
    }

    #[test]
    fn domain_phrases() {
        assert_eq!(record("waited hours and then they lost my referral"), RecordPolarity::Negative);
        assert_eq!(record("on hold for ages, appointment cancelled"), RecordPolarity::Negative);
        assert_eq!(record("the nurse put me at ease and was thorough"), RecordPolarity::Positive);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let empty = run("", Question::Nonspecific, Some(1));
        assert!(empty.clauses.is_empty());
        assert_eq!(empty.record, RecordPolarity::Neutral);
        assert_eq!(empty.clause_of(0), None);
        assert_eq!(empty.mention_polarity(0..1), Polarity::Neutral);
        assert_eq!(run("😊👍", Question::WhatGood, None).record, RecordPolarity::Positive);
        assert_eq!(run("😡", Question::Nonspecific, None).record, RecordPolarity::Negative);
        assert_eq!(run("!!! ... ,,,", Question::CouldImprove, Some(9)).record, RecordPolarity::Neutral);
        let long = "not very good but lovely nurses, ".repeat(5_000);
        let s = run(&long, Question::Nonspecific, Some(2));
        assert_eq!(s.clauses.last().map(|c| c.tokens.end), Some(30_000));
        for text in ["but", "not", "very", "no one", "a bit", "n't", "didn't very", "x".repeat(100).as_str()] {
            let _ = run(text, Question::CouldImprove, Some(4));
        }
    }
}
