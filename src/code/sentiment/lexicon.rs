//! The lexicon: sentiment words and phrases with their weights, intensifiers, negators,
//! contrast markers and cancels, compiled to stems by [`SentimentModel::english`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::SentimentModel;
use crate::text::Analyzer;

/// What a lexicon entry does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
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
pub(super) struct Phrase {
    pub(super) rest: Box<[Box<str>]>,
    pub(super) kind: Kind,
    pub(super) text: &'static str,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Entry {
    pub(super) kind: Option<Kind>,
    pub(super) text: &'static str,
    /// Phrases starting with this stem, longest first.
    pub(super) phrases: Vec<Phrase>,
}

/// FNV-1a: stems are short, so this beats `SipHash` by a wide margin.
#[derive(Default)]
pub(super) struct Fnv(u64);

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

pub(super) type StemMap = HashMap<Box<str>, Entry, BuildHasherDefault<Fnv>>;

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
}

/// The items of a comma-separated lexicon list.
fn items(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.split(',').map(str::trim).filter(|t| !t.is_empty())
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
