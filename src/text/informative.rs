//! Non-informative answers: "nothing", "n/a", "no comment", "-", "all good"…
//!
//! They are flagged, counted and never coded as concerns, and they are read by question:
//! "nothing" under `could_improve` means the person was satisfied; under `what_good` it
//! means they were not.

use crate::record::Question;

use super::Tokens;

/// What a non-informative answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// Nothing to improve / all good: satisfied.
    Satisfied,
    /// Nothing was good: dissatisfied.
    Dissatisfied,
    /// No content at all (n/a, no comment, "-").
    NoContent,
}

impl Reading {
    /// snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reading::Satisfied => "satisfied",
            Reading::Dissatisfied => "dissatisfied",
            Reading::NoContent => "no_content",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Nothing,
    AllGood,
    NoComment,
}

/// Phrases (sequences of normalised words) that make an answer non-informative.
const HEADS: &[(&[&str], Head)] = &[
    (&["nothing"], Head::Nothing),
    (&["none"], Head::Nothing),
    (&["nil"], Head::Nothing),
    (&["no"], Head::Nothing),
    (&["nope"], Head::Nothing),
    (&["not", "really"], Head::Nothing),
    (&["nothing", "to", "improve"], Head::Nothing),
    (&["no", "improvements"], Head::Nothing),
    (&["no", "improvement"], Head::Nothing),
    (&["no", "improvements", "needed"], Head::Nothing),
    (&["can't", "think", "of", "anything"], Head::Nothing),
    (&["cannot", "think", "of", "anything"], Head::Nothing),
    (&["cant", "think", "of", "anything"], Head::Nothing),
    (&["not", "that", "i", "can", "think", "of"], Head::Nothing),
    (&["all", "good"], Head::AllGood),
    (&["all", "fine"], Head::AllGood),
    (&["all", "ok"], Head::AllGood),
    (&["all", "okay"], Head::AllGood),
    (&["everything"], Head::AllGood),
    (&["everything", "was", "good"], Head::AllGood),
    (&["everything", "was", "fine"], Head::AllGood),
    (&["n", "a"], Head::NoComment),
    (&["na"], Head::NoComment),
    (&["not", "applicable"], Head::NoComment),
    (&["no", "comment"], Head::NoComment),
    (&["no", "comments"], Head::NoComment),
    (&["did", "not", "answer"], Head::NoComment),
    (&["didn't", "answer"], Head::NoComment),
    (&["no", "answer"], Head::NoComment),
    (&["don't", "know"], Head::NoComment),
    (&["dont", "know"], Head::NoComment),
    (&["not", "sure"], Head::NoComment),
    (&["unknown"], Head::NoComment),
    (&["x"], Head::NoComment),
];

/// Words that may stand around a head without adding information.
const FILLER: &[&str] = &[
    "thank", "thanks", "you", "really", "at", "all", "so", "far", "much", "very", "just", "cheers", "ty", "that", "i",
    "can", "of", "it", "is", "was", "else", "more",
];

/// Reads a text's tokens (from the analyzer) as a non-informative answer, if it is one.
#[must_use]
pub(crate) fn non_informative(tokens: &Tokens, question: Question) -> Option<Reading> {
    if tokens.is_empty() {
        // only punctuation or emoji: "-", ".", "?", "👍"
        return Some(Reading::NoContent);
    }
    if tokens.len() > 8 {
        return None;
    }
    // a word that is neither in a head nor a filler makes the answer informative
    let known = |w: &str| FILLER.contains(&w) || HEADS.iter().any(|(phrase, _)| phrase.contains(&w));
    if !(0..tokens.len()).all(|i| known(tokens.word(i))) {
        return None;
    }
    let words: Vec<&str> = (0..tokens.len()).map(|i| tokens.word(i)).collect();
    // the longest head found anywhere, with every other word a filler
    let mut best: Option<(usize, Head)> = None;
    for start in 0..words.len() {
        for (phrase, head) in HEADS {
            if words[start..].starts_with(phrase) && best.is_none_or(|(len, _)| phrase.len() > len) {
                let rest = words[..start].iter().chain(&words[start + phrase.len()..]);
                if rest.clone().all(|w| FILLER.contains(w) || HEADS.iter().any(|(p, _)| p.len() == 1 && p[0] == *w)) {
                    best = Some((phrase.len(), *head));
                }
            }
        }
    }
    let (_, head) = best?;
    Some(match (head, question) {
        (Head::NoComment, _) => Reading::NoContent,
        (Head::AllGood, _) => Reading::Satisfied,
        (Head::Nothing, Question::CouldImprove) => Reading::Satisfied,
        (Head::Nothing, Question::WhatGood) => Reading::Dissatisfied,
        (Head::Nothing, _) => Reading::NoContent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Analyzer;

    fn read(text: &str, q: Question) -> Option<Reading> {
        let mut t = Tokens::default();
        Analyzer::english().analyze(text, &mut t);
        non_informative(&t, q)
    }

    #[test]
    fn nothing_is_read_by_question() {
        assert_eq!(read("Nothing", Question::CouldImprove), Some(Reading::Satisfied));
        assert_eq!(read("nothing.", Question::WhatGood), Some(Reading::Dissatisfied));
        assert_eq!(read("Nothing really, thank you!", Question::CouldImprove), Some(Reading::Satisfied));
        assert_eq!(read("None", Question::Nonspecific), Some(Reading::NoContent));
    }

    #[test]
    fn no_content_and_all_good() {
        for t in ["n/a", "N/A", "-", ".", "No comment", "did not answer", "👍"] {
            assert_eq!(read(t, Question::CouldImprove), Some(Reading::NoContent), "{t}");
        }
        assert_eq!(read("All good", Question::CouldImprove), Some(Reading::Satisfied));
        assert_eq!(read("all good thanks", Question::WhatGood), Some(Reading::Satisfied));
    }

    #[test]
    fn informative_answers_are_not_flagged() {
        for t in [
            "Nothing was explained to me",
            "no parking",
            "The nurse was lovely",
            "nothing, the wait was far too long and nobody called me back",
        ] {
            assert_eq!(read(t, Question::CouldImprove), None, "{t}");
        }
    }
}
