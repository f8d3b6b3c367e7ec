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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use crate::record::Question;
use crate::text::{Analyzer, Tokens};

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

/// What a lexicon entry does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A sentiment word or phrase with its weight.
    Word(f32),
    /// Negates the next sentiment item within a few tokens; `nil` marks "nothing"/"none".
    Negator { nil: bool },
    /// Scales the next sentiment item.
    Modifier(f32),
    /// Starts a new clause.
    Contrast,
    /// Cancels a pending negation without scoring ("not sure", "not only").
    Cancel,
}

#[derive(Debug, Clone)]
struct Phrase {
    rest: Box<[Box<str>]>,
    kind: Kind,
    text: &'static str,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    kind: Option<Kind>,
    text: &'static str,
    /// Phrases starting with this stem, longest first.
    phrases: Vec<Phrase>,
}

/// FNV-1a: stems are short, so this beats `SipHash` by a wide margin.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type StemMap = HashMap<Box<str>, Entry, BuildHasherDefault<Fnv>>;

/// The lexicon compiled to stems. Build once, share across threads.
#[derive(Debug, Clone)]
pub struct SentimentModel {
    map: StemMap,
}

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
    /// The built-in English lexicon, stemmed with [`Analyzer::english`].
    #[must_use]
    pub fn english() -> SentimentModel {
        let analyzer = Analyzer::english();
        let mut map = StemMap::default();
        let mut add = |text: &'static str, kind: Kind| {
            let mut stems = analyzer.stems_of(text);
            for s in &mut stems {
                if s.ends_with("n't") {
                    "not".clone_into(s);
                }
            }
            let Some((first, rest)) = stems.split_first() else { return };
            let entry = map.entry(first.as_str().into()).or_default();
            if rest.is_empty() {
                entry.kind = Some(kind);
                entry.text = text;
            } else {
                let rest = rest.iter().map(|s| s.as_str().into()).collect();
                entry.phrases.push(Phrase { rest, kind, text });
            }
        };
        for &(w, list) in LEXICON {
            items(list).for_each(|text| add(text, Kind::Word(w)));
        }
        for &(m, list) in MODIFIERS {
            items(list).for_each(|text| add(text, Kind::Modifier(m)));
        }
        items(NEGATORS).for_each(|text| add(text, Kind::Negator { nil: items(NIL).any(|n| n == text) }));
        items(CONTRASTS).for_each(|text| add(text, Kind::Contrast));
        items(CANCELS).for_each(|text| add(text, Kind::Cancel));
        // Phrases written with "not" also start with every other negator ("can't fault").
        let not_phrases = map.get("not").map(|e| e.phrases.clone()).unwrap_or_default();
        for (key, entry) in &mut map {
            if &**key != "not" && matches!(entry.kind, Some(Kind::Negator { .. })) {
                entry.phrases.extend(not_phrases.iter().cloned());
            }
        }
        for entry in map.values_mut() {
            entry.phrases.sort_by_key(|p| std::cmp::Reverse(p.rest.len()));
        }
        SentimentModel { map }
    }

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

/// The items of a comma-separated lexicon list.
fn items(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.split(',').map(str::trim).filter(|t| !t.is_empty())
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

/// Sentiment words and short phrases (2–4 words), comma-separated by weight (−2…+2).
/// Phrases may start with "not", which stands for every negator ("can't fault", "no complaints").
const LEXICON: &[(f32, &str)] = &[
    (2.0, "excellent, brilliant, fantastic, amazing, outstanding, superb, wonderful, perfect, fabulous"),
    (2.0, "exceptional, marvellous, faultless, incredible, first class, top notch, above and beyond"),
    (2.0, "second to none, not fault, not be better, not have been better, not thank you enough"),
    (2.0, "not thank them enough, would highly recommend"),
    (1.5, "great, lovely, kind, kindness, friendly, efficient, thorough, reassuring, compassionate"),
    (1.5, "attentive, welcoming, happy, pleased, satisfied, impressed, grateful, thankful, thank, thanks"),
    (1.5, "appreciate, best, fab, pleasant, cheerful, gentle, considerate, recommend, love, pleasure, hero"),
    (1.5, "angel, dedicated, knowledgeable, accommodating, well done, thank you, put me at ease, spot on"),
    (1.5, "went out of their way, more than happy, nothing to improve, nothing could be improved"),
    (1.5, "not do enough, would recommend, would definitely recommend, would like to thank"),
    (1.0, "good, nice, caring, helpful, polite, courteous, respectful, professional, quick, quickly, prompt"),
    (1.0, "promptly, fast, reassured, listened, supportive, clean, comfortable, safe, smooth, easy"),
    (1.0, "organised, punctual, sympathetic, lucky, smile, reliable, competent, skilled, straightforward"),
    (1.0, "at ease, on time, straight away, looked after, kept me informed, took the time, took time"),
    (1.0, "can't think of anything, no complaints, keep up"),
    (0.5, "understanding, calm, explained, satisfactory, reasonable, easily, well, care, call back"),
    (0.5, "called back, not too bad"),
    (0.4, "fine"),
    (0.3, "alright, informed, informative"),
    (0.1, "ok, okay"),
    (-0.3, "need, less, longer, hours"),
    (-0.5, "wait, waiting, queue, worried, anxious, issue, busy, noisy, bumpy, struggled, sooner, quicker"),
    (-0.5, "faster, should, improve, improvement, would be nice, would be good, would be better"),
    (-0.5, "would have been nice, would be helpful, could have been"),
    (-0.8, "rushed"),
    (-1.0, "not enough, slow, late, delay, delays, lost, confusing, confused, distressing, uncomfortable"),
    (-1.0, "waste, difficult, problem, problems, complaint, complain, error, fault, lack, shortage"),
    (-1.0, "stressful, smelly, overcrowded, denied, unclear, inconsistent, unfortunately, sadly, shame"),
    (-1.0, "annoying, chase, wait long, for ages, on hold, could be better, could have been better"),
    (-1.0, "could do better, long time, had to wait, no appointments"),
    (-1.5, "too much trouble, bad, poor, poorly, rude, unhelpful, unprofessional, cancelled, ignored"),
    (-1.5, "dismissed, dismissive, chaotic, chaos, disorganised, frustrating, frustrated, angry, upset"),
    (-1.5, "disappointed, disappointing, unhappy, dirty, uncaring, ridiculous, hopeless, impossible, mistake"),
    (-1.5, "wrong, failed, understaffed, abrupt, patronising, condescending, unfriendly, impatient, careless"),
    (-1.5, "refused, waited hours, long wait, too long, took ages, still waiting, kept waiting, let down"),
    (-1.5, "fobbed off, worse"),
    (-2.0, "terrible, awful, horrible, appalling, disgusting, dreadful, shocking, incompetent, useless"),
    (-2.0, "worst, unacceptable, nightmare, neglect, arrogant"),
];

/// Intensifiers (> 1), downtoners (< 1) and suggestion markers (< 0: "more caring", "better signs").
const MODIFIERS: &[(f32, &str)] = &[
    (1.8, "extremely, exceptionally"),
    (1.7, "incredibly"),
    (1.6, "absolutely"),
    (1.5, "very, totally, completely, highly"),
    (1.4, "really, so, super, truly, too"),
    (1.3, "most"),
    (1.1, "pretty"),
    (0.8, "quite, rather"),
    (0.7, "fairly"),
    (0.6, "a bit, a little, bit, somewhat"),
    (0.5, "slightly"),
    (-0.5, "more, better, would"),
];

/// Negators (every n't form is one too).
const NEGATORS: &str = "not, no, never, nothing, none, nobody, nope, nil, cannot, without, barely, neither, nor, \
    cant, dont, didnt, wont, wasnt, werent, isnt, arent, couldnt, wouldnt, havent, hasnt, doesnt, shouldnt, \
    not a thing, not a great deal, not much, not a lot, not really, n/a";

/// Negators that, alone, answer "could we improve?" with "nothing".
const NIL: &str = "nothing, none, nope, nil, not a thing, not a great deal, not much, not a lot, not really, n/a";

/// Contrast markers: each starts a clause.
const CONTRASTS: &str = "but, however, although, though, except, whereas, yet, apart from, other than, only thing";

/// Phrases that look negated but are not ("not sure", "not only").
const CANCELS: &str = "friends and family, not sure, not only, not just, no doubt, not know, not matter";

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, question: Question, rating: Option<u8>) -> Sentiment {
        let mut tokens = Tokens::default();
        Analyzer::english().analyze(text, &mut tokens);
        SentimentModel::english().analyze_explained(text, &tokens, question, rating)
    }

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
