//! `quotes.parquet`: for each theme, overall and in every group of every dimension, a few
//! representative comments in the respondents' own (redacted) words.
//!
//! **Which comments.** A comment is a candidate for a theme when the codebook coded the theme on
//! it with evidence (a span). Candidates are ranked by a total order, so the choice is the same
//! whatever the batches and threads: first whether it **reads as a quote** (8 to 40 words: not a
//! one-word answer, not a page of notes); then the **strength** of its evidence — how many times
//! the theme's terms matched (`hits_n`, counted up to 3, so that a long comment touching on
//! everything does not win on length); then how **typical** its length is (nearest 20 words);
//! then a fixed hash of its record id (no preference for what came first). The best
//! `quotes_per_cell` are kept per cell while the stream passes.
//!
//! **Which never.** No quote from a cell whose count `theme_by_group` suppresses or withholds
//! (1–7 comments, or pinned against differencing); no comment that names a person (a `[NAME]`
//! marker: a role and a name redacted still point at someone); and in a **rare** group (fewer than
//! [`RARE_GROUP_N`] published comments), no comment with any redaction marker, since a redacted
//! phone or postcode next to a rare group value narrows who wrote it.

use std::collections::HashMap;

use super::common::{is_absent, owned, strs};
use super::theme_by_group::ThemeGroupRow;
use crate::code::{Codebook, Coded};
use crate::people::Groups;
use crate::record::{Question, Record};
use crate::table::{Col, ColumnData, Table};

/// A group with fewer published comments than this is rare: its quotes hold no redaction marker.
pub(crate) const RARE_GROUP_N: u64 = 100;

/// One candidate quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Quote {
    /// The ranking key: readable length first, then more hits (up to 3), then nearer 20 words,
    /// then the id's hash.
    key: Key,
    /// The record.
    pub record_id: String,
    /// The question answered.
    pub question: Question,
    /// The redacted text.
    pub text: String,
    /// Character span of the first match in the text.
    pub span: (u32, u32),
    /// Matches of the theme's terms.
    pub hits: u32,
    /// Whether the text holds any redaction marker.
    marked: bool,
}

/// The ranking key of a quote (smaller is better).
type Key = (bool, std::cmp::Reverse<u32>, u32, u64);

/// The best quotes of one slot's cells, `[group id × themes + theme]`, group ids as the batches
/// number them: twice, of all candidates and of those without any redaction marker (for rare
/// groups); and beside them, the key a candidate must beat to enter each full list, so that most
/// candidates are turned away by one look at a flat array.
#[derive(Debug, Default, Clone)]
struct Slot {
    lists: Vec<[Vec<Quote>; 2]>,
    bar: Vec<[Option<Key>; 2]>,
}

/// The best quotes of each cell. `slots[0]` is the whole run (one group), `slots[1 + d]`
/// dimension `d`.
#[derive(Debug, Default)]
pub(crate) struct QuoteCollector {
    per_cell: usize,
    themes: usize,
    slots: Vec<Slot>,
}

/// The cells' quotes, group ids in their sorted places.
#[derive(Debug, Default)]
pub struct Quotes {
    cells: HashMap<(u16, Option<(u32, u32)>), [Vec<Quote>; 2]>,
}

/// Puts `q` among the best `n` of `list` (sorted by key), once per text: the same words from
/// several records stand once, as the best-ranked of them.
fn keep(list: &mut Vec<Quote>, q: Quote, n: usize) {
    if let Some(same) = list.iter().position(|x| x.text == q.text) {
        if list[same].key <= q.key {
            return;
        }
        list.remove(same);
    }
    if list.len() == n && list.last().is_some_and(|last| last.key <= q.key) {
        return;
    }
    let at = list.partition_point(|x| x.key <= q.key);
    list.insert(at, q);
    list.truncate(n);
}

impl QuoteCollector {
    /// Keeps up to `per_cell` quotes a cell, for `dimensions` dimensions.
    #[must_use]
    pub(crate) fn new(per_cell: usize, dimensions: usize, themes: usize) -> QuoteCollector {
        QuoteCollector { per_cell, themes, slots: vec![Slot::default(); dimensions + 1] }
    }

    /// Adds a batch: its records, their coding and each record's group id per dimension. What
    /// ranks a comment is worked out once per record, in parallel; each dimension's cells are
    /// then filled on a worker of their own, and a quote's strings are copied only when it
    /// enters a cell's best.
    pub(crate) fn add(&mut self, records: &[Record], coded: &[Coded], groups: &[Vec<u32>]) {
        use rayon::prelude::*;
        if self.per_cell == 0 {
            return;
        }
        // per record: (reads as a quote?, distance from 20 words, hash of the id, marked) — or
        // None for a comment that names a person
        let ranked: Vec<Option<(bool, u32, u64, bool)>> = records
            .par_iter()
            .zip(coded)
            .with_min_len(1024)
            .map(|(r, c)| {
                if !c.themes.iter().any(|t| !t.hit.mentions.is_empty()) {
                    return None;
                }
                let text = c.text(&r.text);
                // markers start with `[`: most comments have none to look for
                let bracket = memchr::memchr(b'[', text.as_bytes()).is_some();
                if bracket && text.contains("[NAME]") {
                    return None;
                }
                let marked = c.redacted.is_some() || (bracket && MARKERS.iter().any(|m| text.contains(m)));
                let words = words(text);
                let hash = {
                    use std::hash::BuildHasher;
                    foldhash::quality::FixedState::with_seed(7).hash_one(r.record_id.as_str())
                };
                Some((!(8..=40).contains(&words), words.abs_diff(20), hash, marked))
            })
            .collect();
        let (per_cell, themes) = (self.per_cell, self.themes);
        self.slots.par_iter_mut().enumerate().for_each(|(slot, cells)| {
            for (i, rank) in ranked.iter().enumerate() {
                let Some((long, distance, hash, marked)) = *rank else { continue };
                let g = if slot == 0 { 0 } else { groups[slot - 1][i] as usize };
                if cells.lists.len() < (g + 1) * themes {
                    cells.lists.resize((g + 1) * themes, Default::default());
                    cells.bar.resize((g + 1) * themes, [None; 2]);
                }
                let (r, c) = (&records[i], &coded[i]);
                for t in c.themes.iter().filter(|t| !t.hit.mentions.is_empty()) {
                    let key = (long, std::cmp::Reverse(t.hit.hits.min(3)), distance, hash);
                    let at = g * themes + usize::from(t.hit.theme);
                    let Some(bar) = cells.bar.get_mut(at) else { continue };
                    for (k, list) in cells.lists[at].iter_mut().enumerate() {
                        if (k == 1 && marked) || bar[k].is_some_and(|b| b <= key) {
                            continue;
                        }
                        let q = Quote {
                            key,
                            record_id: r.record_id.to_string(),
                            question: r.question,
                            text: c.text(&r.text).to_owned(),
                            span: t.hit.span,
                            hits: t.hit.hits,
                            marked,
                        };
                        keep(list, q, per_cell);
                        if list.len() == per_cell {
                            bar[k] = list.last().map(|last| last.key);
                        }
                    }
                }
            }
        });
    }

    /// The quotes with group ids in their sorted places (`groups[d][id]`).
    #[must_use]
    pub(crate) fn finish(self, groups: &[Vec<u32>]) -> Quotes {
        let mut cells = HashMap::new();
        let themes = self.themes.max(1);
        for (slot, per_slot) in self.slots.into_iter().enumerate() {
            for (at, lists) in per_slot.lists.into_iter().enumerate() {
                let (g, t) = (at / themes, at % themes);
                let cell = (slot > 0).then(|| {
                    let d = slot - 1;
                    (d as u32, groups[d].get(g).copied().unwrap_or(g as u32))
                });
                if !lists[0].is_empty() {
                    cells.insert((t as u16, cell), lists);
                }
            }
        }
        Quotes { cells }
    }
}

/// Words in `text`, as `split_whitespace` counts them; ASCII text by a plain scan of its bytes
/// (the whitespace of ASCII is tab, line feed, vertical tab, form feed, carriage return, space).
fn words(text: &str) -> u32 {
    if !text.is_ascii() {
        return text.split_whitespace().count() as u32;
    }
    let (mut n, mut within) = (0u32, false);
    for &b in text.as_bytes() {
        let space = matches!(b, 9..=13 | b' ');
        n += u32::from(!space && !within);
        within = !space;
    }
    n
}

/// The redaction markers other than `[NAME]` (a comment with that one is never quoted).
const MARKERS: [&str; 5] = ["[PHONE]", "[EMAIL]", "[POSTCODE]", "[NHS_NUMBER]", "[DOB]"];

/// One row of `quotes`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuoteRow {
    /// Theme index.
    pub theme: usize,
    /// Dimension and group; `None` overall.
    pub group: Option<(usize, usize)>,
    /// 1 = the best.
    pub rank: usize,
    /// The quote.
    pub quote: Quote,
}

/// The rows: every theme overall, then every group of every dimension, each cell's quotes in
/// order — none where `theme_by_group` (period `all`) suppresses or withholds the cell's count,
/// none marked in a rare group, none for the absent groups (missing, not stated, unmapped).
#[must_use]
pub(crate) fn quote_rows(
    quotes: &Quotes,
    tbg: &[ThemeGroupRow],
    names: &[Vec<String>],
    n_themes: usize,
) -> Vec<QuoteRow> {
    let mut published: HashMap<(usize, usize, usize), (bool, Option<u64>)> = HashMap::new();
    for r in tbg.iter().filter(|r| &*r.period == "all") {
        published.insert((r.dimension, r.group, r.theme), (r.theme_n.value.is_some_and(|v| v > 0), r.group_n.value));
    }
    let mut rows = Vec::new();
    let mut push = |theme: usize, group: Option<(usize, usize)>, list: &[Quote]| {
        for (k, q) in list.iter().enumerate() {
            rows.push(QuoteRow { theme, group, rank: k + 1, quote: q.clone() });
        }
    };
    for t in 0..n_themes {
        if let Some(lists) = quotes.cells.get(&(t as u16, None)) {
            push(t, None, &lists[0]);
        }
    }
    for (d, groups) in names.iter().enumerate() {
        for (g, name) in groups.iter().enumerate() {
            if is_absent(name) {
                continue;
            }
            for t in 0..n_themes {
                let Some(&(shown, group_n)) = published.get(&(d, g, t)) else { continue };
                let Some(lists) = quotes.cells.get(&(t as u16, Some((d as u32, g as u32)))) else { continue };
                if !shown {
                    continue;
                }
                let rare = group_n.is_none_or(|n| n < RARE_GROUP_N);
                push(t, Some((d, g)), &lists[usize::from(rare)]);
            }
        }
    }
    rows
}

/// The `quotes` table.
#[must_use]
pub(crate) fn table(rows: &[QuoteRow], groups: &Groups, book: &Codebook) -> Table {
    let theme = |r: &QuoteRow| &book.themes[r.theme];
    Table {
        name: "quotes".to_owned(),
        grain: "representative comment of a theme, overall and per dimension × group".to_owned(),
        columns: vec![
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new("dimension", "demographic dimension; null on the overall rows", strs(rows, |r| r.group.map(|(d, _)| &groups.dimensions[d]))),
            Col::new("group_name", "group within the dimension; null on the overall rows", strs(rows, |r| r.group.map(|(d, g)| &groups.names[d][g]))),
            Col::new("quote_rank", "1 = the most representative: 8-40 words first, then most matches of the theme's terms (up to 3), then nearest 20 words, then a fixed hash of the record id", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.rank).ok()).collect())),
            Col::new("record_id", "the record quoted (joins records.record_id)", strs(rows, |r| owned(&r.quote.record_id))),
            Col::new("question", "the question it answers", strs(rows, |r| owned(r.quote.question.as_str()))),
            Col::new("text", "the comment, personal data redacted (never one naming a person; in a group of fewer than 100 published comments, never one with any redaction)", strs(rows, |r| owned(&r.quote.text))),
            Col::new("evidence_start", "character offset where the theme's first match starts in the text", ColumnData::I64(rows.iter().map(|r| Some(i64::from(r.quote.span.0))).collect())),
            Col::new("evidence_end", "character offset where it ends (exclusive)", ColumnData::I64(rows.iter().map(|r| Some(i64::from(r.quote.span.1))).collect())),
            Col::new("hits_n", "matches of the theme's terms in the comment", ColumnData::I64(rows.iter().map(|r| Some(i64::from(r.quote.hits))).collect())),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(hits: u32, words: u32, hash: u64) -> Quote {
        Quote {
            key: (!(8..=40).contains(&words), std::cmp::Reverse(hits.min(3)), words.abs_diff(20), hash),
            record_id: format!("R{hash}"),
            question: Question::Nonspecific,
            text: format!("text {hash}"),
            span: (0, 1),
            hits,
            marked: false,
        }
    }

    #[test]
    fn words_are_counted_as_split_whitespace_counts_them() {
        for text in [
            "",
            " ",
            "one",
            "  two  words ",
            "tab\tline\nfeed\rcarriage\x0bvertical\x0cform",
            "a\u{a0}b non-breaking space",
            "caf\u{e9} \u{2003}em space",
            "trailing\n",
            "x,y;z - a",
        ] {
            assert_eq!(words(text) as usize, text.split_whitespace().count(), "{text:?}");
        }
    }

    #[test]
    fn the_best_are_kept_whatever_the_order_they_come_in() {
        let all =
            [quote(1, 20, 5), quote(3, 60, 1), quote(2, 19, 9), quote(2, 21, 2), quote(1, 20, 4), quote(9, 12, 7)];
        let best = |order: &[usize]| {
            let mut list = Vec::new();
            for &i in order {
                keep(&mut list, all[i].clone(), 3);
            }
            list.iter().map(|q| q.record_id.clone()).collect::<Vec<_>>()
        };
        // readable first (R1's 60 words are not), then most hits (R7's 9 count as 3), then nearer
        // 20 words, then the hash (R2 before R9, both 1 word from 20)
        assert_eq!(best(&[0, 1, 2, 3, 4, 5]), ["R7", "R2", "R9"]);
        assert_eq!(best(&[5, 4, 3, 2, 1, 0]), ["R7", "R2", "R9"]);
    }
}
