//! Matching: a text's tokens walked through the trie from every position, further segments
//! found within their gaps, excludes vetoing overlapping includes, negators marking mentions.

use super::{Codebook, Coder, Elem, Mention, Negation, ThemeHit};
use crate::record::Question;
use crate::text::{char_offset, StemCache, Tokens};

/// Is this normalised word a negator?
#[must_use]
pub fn is_negator(word: &str) -> bool {
    matches!(
        word,
        "no" | "not"
            | "never"
            | "nothing"
            | "none"
            | "nobody"
            | "noone"
            | "without"
            | "hardly"
            | "neither"
            | "nor"
            | "cannot"
    ) || word.ends_with("n't")
        || matches!(
            word,
            "dont"
                | "didnt"
                | "cant"
                | "wasnt"
                | "werent"
                | "couldnt"
                | "wouldnt"
                | "wont"
                | "isnt"
                | "arent"
                | "doesnt"
                | "hasnt"
                | "havent"
        )
}

/// Words met before with their elements under one codebook: a per-thread memo by the
/// [`StemCache`]'s slots, so bounded like it and started again with it.
#[derive(Debug, Default, Clone)]
pub(super) struct WordMemo {
    /// The codebook the memo holds elements of (its id; 0: none yet).
    book: u64,
    /// The stem cache's generation the slots belong to.
    generation: u64,
    /// slot -> its elements in `elems` (`UNKNOWN`: not met yet)
    spans: Vec<(u32, u32)>,
    elems: Vec<Elem>,
}

const UNKNOWN: (u32, u32) = (u32::MAX, u32::MAX);

impl WordMemo {
    /// Starts again unless the memo is of codebook `book` and of the slots of `stems`.
    fn renew(&mut self, book: u64, stems: &StemCache) {
        if (self.book, self.generation) != (book, stems.generation()) {
            self.spans.clear();
            self.elems.clear();
            (self.book, self.generation) = (book, stems.generation());
        }
    }

    /// The elements of the word in `slot`; on a miss, `fill` appends them.
    fn get_or_insert(&mut self, slot: u32, fill: impl FnOnce(&mut Vec<Elem>)) -> &[Elem] {
        let slot = slot as usize;
        if self.spans.len() <= slot {
            self.spans.resize(slot + 1, UNKNOWN);
        }
        if self.spans[slot] == UNKNOWN {
            let s = self.elems.len();
            fill(&mut self.elems);
            self.spans[slot] = (s as u32, self.elems.len() as u32);
        }
        let (s, e) = self.spans[slot];
        &self.elems[s as usize..e as usize]
    }
}

/// Is there a negator among the `window` tokens before token `at`, in the same sentence?
/// A sentence's end (`.`, `!`, `?`, `;`, a line break) stops the look back: in "Any
/// complaints? No. Pain was unbearable" the "No" answers the question, it does not negate "pain".
fn negated_before(text: &str, tokens: &Tokens, at: usize, window: usize) -> bool {
    for i in (at.saturating_sub(window)..at).rev() {
        let gap = text.get(tokens.span(i).1..tokens.span(i + 1).0).unwrap_or("");
        if gap.contains(['.', '!', '?', ';', '\n', '…']) {
            return false;
        }
        if is_negator(tokens.word(i)) {
            return true;
        }
    }
    false
}

impl Codebook {
    /// The elements of a word (normalised) with stem `stem`: its stem id, if the codebook knows
    /// it, then the prefixes it starts with.
    fn word_elems(&self, word: &str, stem: &str, out: &mut Vec<Elem>) {
        if let Some(&id) = self.vocab.get(stem) {
            out.push(Elem::Stem(id));
        }
        if let Some(candidates) = word.as_bytes().first().map(|&b| &self.prefix_index[usize::from(b)]) {
            for &p in candidates {
                if word.starts_with(self.prefixes[p as usize].as_str()) {
                    out.push(Elem::Prefix(p));
                }
            }
        }
    }

    /// Does token `pos` carry element `e`?
    fn has(elems: &[(u32, Elem)], starts: &[u32], pos: usize, e: Elem) -> bool {
        match (starts.get(pos), starts.get(pos + 1)) {
            (Some(&a), Some(&b)) => elems[a as usize..b as usize].iter().any(|&(_, x)| x == e),
            _ => false,
        }
    }

    /// Codes one text. Themes come out in codebook order; `coder.tokens` holds the text's
    /// tokens afterwards.
    pub fn code(&self, text: &str, question: Question, coder: &mut Coder) -> Vec<ThemeHit> {
        let Coder { tokens, stems, memo, elems, starts, found, frontier, next, .. } = coder;
        self.analyzer.analyze_cached(text, tokens, stems);
        // elements of each token: its stem id (if the codebook knows it) and prefix matches
        elems.clear();
        starts.clear();
        memo.renew(self.id, stems);
        for (i, &slot) in stems.slots().iter().enumerate() {
            starts.push(elems.len() as u32);
            let pos = i as u32;
            let known = memo.get_or_insert(slot, |out| self.word_elems(tokens.word(i), tokens.stem(i), out));
            elems.extend(known.iter().map(|&e| (pos, e)));
        }
        starts.push(elems.len() as u32);
        // walk the trie from every token position
        found.clear();
        let mut start_idx = 0;
        while start_idx < elems.len() {
            let start = elems[start_idx].0;
            frontier.clear();
            frontier.push(0);
            let mut pos = start;
            let mut k = start_idx;
            loop {
                next.clear();
                while k < elems.len() && elems[k].0 == pos {
                    let e = elems[k].1;
                    for &node in frontier.iter() {
                        if let Some(n) = self.child(node, e) {
                            next.push(n);
                            for &p in self.accepts(n) {
                                if let Some(end) = self.extend(p, pos + 1, elems, starts) {
                                    found.push((p, start, end));
                                }
                            }
                        }
                    }
                    k += 1;
                }
                if next.is_empty() || k >= elems.len() || elems[k].0 != pos + 1 {
                    break;
                }
                std::mem::swap(frontier, next);
                pos += 1;
            }
            while start_idx < elems.len() && elems[start_idx].0 == start {
                start_idx += 1;
            }
        }
        let ascii = text.is_ascii();
        // exclusions veto overlapping includes of the same theme
        let mut hits: Vec<ThemeHit> = Vec::new();
        found.sort_unstable_by_key(|&(p, s, e)| (self.patterns[p as usize].theme, s, std::cmp::Reverse(e), p));
        for &(p, s, e) in found.iter() {
            let pat = &self.patterns[p as usize];
            if pat.exclude || pat.max_words.is_some_and(|m| tokens.len() > m) {
                continue;
            }
            let theme = &self.themes[pat.theme as usize];
            if !theme.questions.is_empty() && !theme.questions.contains(&question) {
                continue;
            }
            if self.has_excludes
                && found.iter().any(|&(q, qs, qe)| {
                    let qp = &self.patterns[q as usize];
                    qp.exclude && qp.theme == pat.theme && qs < e && s < qe
                })
            {
                continue;
            }
            let negated = negated_before(text, tokens, s as usize, self.negation_window);
            if negated && theme.negation == Negation::Exclude {
                continue;
            }
            let mention = Mention { tokens: (s, e), negated };
            let (bs, _) = tokens.span(s as usize);
            let (_, be) = tokens.span(e as usize - 1);
            let words = &text[bs..be];
            match hits.last_mut() {
                Some(h) if h.theme == pat.theme => {
                    // two rules matching the same words are one mention
                    if h.mentions.iter().any(|m| m.tokens.0 < e && s < m.tokens.1) {
                        continue;
                    }
                    h.hits += 1;
                    h.matched.push_str("; ");
                    h.matched.push_str(words);
                    h.mentions.push(mention);
                }
                _ => {
                    // in ASCII text a byte offset is a character offset
                    let (cs, ce) = if ascii { (bs, be) } else { (char_offset(text, bs), char_offset(text, be)) };
                    hits.push(ThemeHit {
                        theme: pat.theme,
                        hits: 1,
                        rule: pat.term.as_str().into(),
                        matched: words.into(),
                        span: (cs as u32, ce as u32),
                        mentions: smallvec::smallvec![mention],
                    });
                }
            }
        }
        hits
    }

    /// Matches the further segments of pattern `p` from token `pos`; returns the end.
    fn extend(&self, p: u32, mut pos: u32, elems: &[(u32, Elem)], starts: &[u32]) -> Option<u32> {
        let n = starts.len().saturating_sub(1);
        for (gap, seg) in &self.patterns[p as usize].rest {
            let found = (pos as usize..=(pos as usize + gap)).find(|&q| {
                q + seg.len() <= n && seg.iter().enumerate().all(|(j, &e)| Codebook::has(elems, starts, q + j, e))
            })?;
            pos = (found + seg.len()) as u32;
        }
        Some(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Improvement;

    const BOOK: &str = r#"
[codebook]
name = "test"
version = "1"

[[theme]]
code = "WAIT01"
name = "Waiting"
category = "Access"
terms = ["wait", "waiting times", "took ages", "delay*"]
exclude = ["waiting room"]

[[theme]]
code = "STF01"
name = "Staff manner"
category = "Staff"
terms = ["rude", "friendly", "lovely staff"]

[[theme]]
code = "IMP01"
name = "Improvement only"
category = "Other"
terms = ["parking"]
questions = ["could_improve"]
"#;

    fn code(text: &str, q: Question) -> Vec<(String, u32, String, (u32, u32))> {
        let book = Codebook::from_toml(BOOK, "test.toml").unwrap();
        book.code(text, q, &mut Coder::default())
            .into_iter()
            .map(|h| (book.themes[h.theme as usize].code.clone(), h.hits, h.matched.to_string(), h.span))
            .collect()
    }

    #[test]
    fn multi_label_with_evidence() {
        let got = code("Lovely staff but the WAIT was long 😡 and delays", Question::Nonspecific);
        assert_eq!(
            got,
            vec![
                ("WAIT01".to_owned(), 2, "WAIT; delays".to_owned(), (21, 25)),
                ("STF01".to_owned(), 1, "Lovely staff".to_owned(), (0, 12)),
            ]
        );
    }
    #[test]
    fn phrases_need_consecutive_stems_and_excludes_veto() {
        assert_eq!(code("sat in the waiting room", Question::Nonspecific), vec![]);
        let got = code("waiting times were long", Question::Nonspecific);
        assert_eq!(
            (got[0].1, got[0].2.as_str()),
            (1, "waiting times"),
            "`wait` and `waiting times` on the same words are one mention, the longer: {got:?}"
        );
        assert_eq!(code("lovely nice staff", Question::Nonspecific).len(), 0, "a phrase needs its stems in a row");
    }
    #[test]
    fn gaps_allow_words_in_between() {
        let book = Codebook::from_toml("[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='W1'\nname='w'\ncategory='c'\nterms=['wait ~3 hours']\n", "t").unwrap();
        let n = |t: &str| book.code(t, Question::Nonspecific, &mut Coder::default()).len();
        assert_eq!(n("waited nearly four long hours"), 1);
        assert_eq!(n("waited hours"), 1);
        assert_eq!(n("waited for a very long six hours"), 0, "more than 3 words between");
        assert_eq!(n("hours of waiting"), 0, "order matters");
    }
    #[test]
    fn negation_marks_or_excludes() {
        let book = Codebook::from_toml("[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='P1'\nname='p'\ncategory='c'\nterms=['pain']\nnegation='exclude'\n[[theme]]\ncode='S1'\nname='s'\ncategory='c'\nterms=['rude']\nimprovement='decrease'\n", "t").unwrap();
        let hits = book.code(
            "I was not in pain and the staff were not rude at all",
            Question::Nonspecific,
            &mut Coder::default(),
        );
        assert_eq!(hits.len(), 1, "the negated pain match is excluded: {hits:?}");
        assert_eq!(book.themes[hits[0].theme as usize].code, "S1");
        assert!(hits[0].mentions[0].negated);
        let hits = book.code("rude receptionist", Question::Nonspecific, &mut Coder::default());
        assert!(!hits[0].mentions[0].negated);
        assert_eq!(book.themes[1].improvement, Improvement::Decrease);
        // a negator in the sentence before does not reach across its end
        let codes = |t: &str| book.code(t, Question::Nonspecific, &mut Coder::default()).len();
        assert_eq!(codes("Any complaints? No. Pain was unbearable"), 1, "the No answers the question");
        assert_eq!(codes("Nothing to add!\nPain all night"), 1);
        assert_eq!(codes("no; pain all night"), 1);
        assert_eq!(codes("no real pain"), 0, "within the sentence it still negates");
    }
    #[test]
    fn short_terms_count_only_in_short_answers() {
        let book = Codebook::from_toml("[codebook]\nname='t'\nversion='1'\nshort_answer_words=4\n[[theme]]\ncode='G1'\nname='g'\ncategory='c'\nshort_terms=['nothing']\n", "t").unwrap();
        let n = |t: &str| book.code(t, Question::CouldImprove, &mut Coder::default()).len();
        assert_eq!(n("Nothing, all good"), 1);
        assert_eq!(n("nothing was explained to me at all"), 0);
    }
    #[test]
    fn one_coder_serves_several_codebooks() {
        let wait = Codebook::from_toml(BOOK, "test.toml").unwrap();
        let other = Codebook::from_toml("[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='W1'\nname='w'\ncategory='c'\nterms=['delay*', 'staff']\n", "t").unwrap();
        let text = "Lovely staff but the WAIT was long and delays";
        let fresh = |book: &Codebook| book.code(text, Question::Nonspecific, &mut Coder::default());
        let mut shared = Coder::default();
        for _ in 0..2 {
            for book in [&wait, &other, &wait.clone()] {
                assert_eq!(book.code(text, Question::Nonspecific, &mut shared), fresh(book));
            }
        }
        assert_ne!(fresh(&wait), fresh(&other), "the two codebooks find different themes in the text");
    }

    #[test]
    fn question_scope() {
        assert!(code("parking was hard", Question::WhatGood).is_empty());
        assert_eq!(code("parking was hard", Question::CouldImprove).len(), 1);
    }
}
