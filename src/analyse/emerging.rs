//! `emerging_terms.parquet`: what people write about that the codebook has no theme for — the
//! words and phrases (stemmed 1–3-grams) of the comments no theme codes, how many such comments
//! carry each, and whether it is rising in the last months against the months before.
//!
//! **Counted** while the stream passes, over the comments that no theme codes and that say
//! something (non-informative answers left out): each comment is analysed as the codebook
//! analyses text (the same stems), its distinct 1-, 2- and 3-grams — none made of stop words
//! alone — counted once per comment and per month, with the three of their surface forms met earliest by
//! date and
//! three example records (the smallest hashes of their ids: the same whatever the batches). Memory
//! is bounded: past [`CAP`] distinct terms, those met in a single comment are dropped (lossy
//! counting: a term that later grows is counted from then on, never more than it was).
//!
//! **Rising**: the last `months` months of the data (default 3) against the months before, by
//! the weighted log-odds with an informative Dirichlet prior (METHODS §3, as `underheard_concerns`),
//! from the published counts. The counts go through disclosure control and the differencing
//! guard (the recent and earlier counts add up to the whole).

use std::collections::HashMap;

use rayon::prelude::*;

use super::common::{owned, publish, strs, PUBLISHED};
use super::differencing::{self, Identities, KnownTotals, PeriodCounts};
use super::stats::{log_odds_dirichlet, DisclosureRule, Prior, Published};
use crate::code::Coded;
use crate::record::Record;
use crate::table::{Col, ColumnData, Table};
use crate::text::STOP_WORDS;
use crate::text::{Analyzer, StemCache, Tokens};

/// Distinct terms kept at most while counting.
pub(crate) const CAP: usize = 200_000;

/// The maps the terms are spread over.
const SHARDS: usize = 16;

/// Terms published: at most this many, the most frequent.
const PUBLISHED_TERMS: usize = 1_000;

/// One term's counts.
#[derive(Debug, Clone, Default)]
struct Term {
    /// Comments with the term, per month (`yyyymm`, 0 without a date), sorted.
    months: Vec<(u32, u32)>,
    /// Up to three surface forms: those met earliest by (month, fixed hash of the record id),
    /// in that order, each with where it was first met — the same whatever order the rows come
    /// in (undated comments count as met last).
    surfaces: Vec<(String, (u32, u64))>,
    /// Up to three example records: (hash, id), smallest hashes.
    examples: Vec<(u64, String)>,
}

impl Term {
    fn total(&self) -> u32 {
        self.months.iter().map(|m| m.1).sum()
    }
}

/// The terms of the uncoded comments, fed batch by batch.
#[derive(Debug)]
pub(crate) struct TermCounter {
    analyzer: Analyzer,
    /// The terms, in [`SHARDS`] maps by the term's hash (each filled on a worker of its own).
    shards: Vec<HashMap<String, Term, foldhash::fast::RandomState>>,
    /// Uncoded comments counted, per month.
    comments: Vec<(u32, u32)>,
}

impl Default for TermCounter {
    fn default() -> Self {
        TermCounter { analyzer: Analyzer::english(), shards: vec![HashMap::default(); SHARDS], comments: Vec::new() }
    }
}

fn bump(v: &mut Vec<(u32, u32)>, month: u32) {
    match v.binary_search_by_key(&month, |m| m.0) {
        Ok(i) => v[i].1 += 1,
        Err(i) => v.insert(i, (month, 1)),
    }
}

impl TermCounter {
    /// Adds a batch: the comments no theme codes (and that are not non-informative).
    ///
    /// Each comment's n-grams are found in parallel without a `String` each: the comment's stems
    /// are laid end to end, a space apart, so that an n-gram's stemmed term is one slice of them;
    /// its surface form is a span of the text, spelled out only when a term takes it in.
    pub(crate) fn add(&mut self, records: &[Record], coded: &[Coded]) {
        let analyzer = &self.analyzer;
        let found: Vec<Comment<'_>> = records
            .par_iter()
            .zip(coded)
            .with_min_len(256)
            .filter(|(_, c)| c.themes.is_empty() && c.reading.is_none())
            .map(|(r, c)| {
                thread_local! {
                    static WORK: std::cell::RefCell<(Tokens, StemCache)> = std::cell::RefCell::new(Default::default());
                }
                let text = c.text(&r.text);
                let mut comment = Comment {
                    text,
                    id: r.record_id.as_str(),
                    month: 0,
                    hash: 0,
                    stems: String::new(),
                    grams: Vec::new(),
                };
                WORK.with(|w| {
                    let (tokens, cache) = &mut *w.borrow_mut();
                    analyzer.analyze_cached(text, tokens, cache);
                    comment.gather(tokens);
                });
                comment.month = r.received_date.map_or(0, |d| {
                    u32::try_from(chrono::Datelike::year(&d)).unwrap_or(0) * 100 + chrono::Datelike::month(&d)
                });
                comment.hash = {
                    use std::hash::BuildHasher;
                    foldhash::quality::FixedState::with_seed(11).hash_one(r.record_id.as_str())
                };
                comment
            })
            .collect();
        for c in &found {
            bump(&mut self.comments, c.month);
        }
        // each shard meets its terms in the comments' order, whatever the threads
        let mut per_shard: Vec<Vec<(u32, u32)>> = vec![Vec::new(); SHARDS];
        for (i, c) in found.iter().enumerate() {
            for (k, g) in c.grams.iter().enumerate() {
                per_shard[g.shard as usize].push((i as u32, k as u32));
            }
        }
        self.shards.par_iter_mut().zip(per_shard).for_each(|(terms, grams)| {
            let mut surface = String::new();
            for (i, k) in grams {
                let c = &found[i as usize];
                let g = &c.grams[k as usize];
                let stem = c.term(g);
                if !terms.contains_key(stem) {
                    terms.insert(stem.to_owned(), Term::default());
                }
                let Some(t) = terms.get_mut(stem) else { continue };
                bump(&mut t.months, c.month);
                spell(c.text, g.surface, &mut surface);
                let met = (if c.month == 0 { u32::MAX } else { c.month }, c.hash);
                keep_surface(&mut t.surfaces, &surface, met);
                if t.examples.len() < 3 || t.examples.last().is_some_and(|e| e.0 > c.hash) {
                    let at = t.examples.partition_point(|e| e.0 < c.hash);
                    t.examples.insert(at, (c.hash, c.id.to_owned()));
                    t.examples.truncate(3);
                }
            }
            if terms.len() > CAP / SHARDS {
                terms.retain(|_, t| t.total() > 1);
            }
        });
    }
}

/// Keeps `surface`, met at `met`, among the three spellings met earliest (ties by the spelling):
/// each spelling holds the earliest place it was met, so the three kept are those whose earliest
/// place is earliest, whatever order the comments come in.
fn keep_surface(kept: &mut Vec<(String, (u32, u64))>, surface: &str, met: (u32, u64)) {
    if let Some(i) = kept.iter().position(|s| s.0 == surface) {
        if met >= kept[i].1 {
            return;
        }
        kept.remove(i);
    } else if kept.len() == 3 && kept.last().is_some_and(|last| (last.1, last.0.as_str()) <= (met, surface)) {
        return;
    }
    let at = kept.partition_point(|s| (s.1, s.0.as_str()) < (met, surface));
    kept.insert(at, (surface.to_owned(), met));
    kept.truncate(3);
}

/// One uncoded comment's distinct terms.
struct Comment<'a> {
    text: &'a str,
    id: &'a str,
    /// `yyyymm`, 0 without a date.
    month: u32,
    /// Fixed hash of the id (which examples are kept).
    hash: u64,
    /// The comment's stems, a space apart.
    stems: String,
    /// Its distinct n-grams, by stemmed term.
    grams: Vec<Gram>,
}

/// One n-gram: its term is `stems[term.0..term.1]`, its surface form `text[surface.0..surface.1]`.
struct Gram {
    term: (u32, u32),
    surface: (u32, u32),
    shard: u8,
}

impl Comment<'_> {
    fn term(&self, g: &Gram) -> &str {
        &self.stems[g.term.0 as usize..g.term.1 as usize]
    }

    /// The n-grams of `tokens` (1 to 3 words, not all stop words, none a marker or a number),
    /// each term once: where one comes several times, the smallest surface form stands for it.
    fn gather(&mut self, tokens: &Tokens) {
        let n = tokens.len();
        let mut bounds = Vec::with_capacity(n);
        let mut skip = Vec::with_capacity(n);
        for i in 0..n {
            if i > 0 {
                self.stems.push(' ');
            }
            let s = self.stems.len();
            self.stems.push_str(tokens.stem(i));
            bounds.push((s as u32, self.stems.len() as u32));
            let w = tokens.word(i);
            // a redaction's marker is a word in brackets (`[NAME]` is the token `name`): the
            // check of a `[` in the word never held, and `dr name harrowg` was published (found
            // by a reader in the twenty-sixth session on issue 9)
            let (a, b) = tokens.span(i);
            let marker = crate::text::redact::in_marker(self.text, a, b);
            skip.push((STOP_WORDS.binary_search(&w).is_ok(), marker || w.bytes().all(|b| b.is_ascii_digit())));
        }
        let shard_of = |term: &str| {
            use std::hash::BuildHasher;
            (foldhash::quality::FixedState::with_seed(3).hash_one(term) % SHARDS as u64) as u8
        };
        for len in 1..=3 {
            for start in 0..n.saturating_sub(len - 1) {
                let words = &skip[start..start + len];
                if words.iter().all(|w| w.0) || words.iter().any(|w| w.1) {
                    continue;
                }
                let term = (bounds[start].0, bounds[start + len - 1].1);
                let (s, e) = (tokens.span(start).0, tokens.span(start + len - 1).1);
                let shard = shard_of(&self.stems[term.0 as usize..term.1 as usize]);
                self.grams.push(Gram { term, surface: (s as u32, e as u32), shard });
            }
        }
        let mut grams = std::mem::take(&mut self.grams);
        grams.sort_by(|a, b| self.term(a).cmp(self.term(b)));
        // a term met more than once keeps its smallest surface form
        let (mut spelled, mut best) = (String::new(), String::new());
        grams.dedup_by(|later, kept| {
            if self.term(later) != self.term(kept) {
                return false;
            }
            spell(self.text, kept.surface, &mut best);
            spell(self.text, later.surface, &mut spelled);
            if spelled < best {
                std::mem::swap(kept, later);
            }
            true
        });
        self.grams = grams;
    }
}

/// A surface form as published: the words of `text[span]` a space apart, lowercased.
fn spell(text: &str, span: (u32, u32), out: &mut String) {
    out.clear();
    for (k, w) in text.get(span.0 as usize..span.1 as usize).unwrap_or_default().split_whitespace().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push_str(w);
    }
    if !out.is_ascii() {
        *out = out.to_lowercase();
    } else {
        out.make_ascii_lowercase();
    }
}

/// One row of `emerging_terms`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TermRow {
    pub term: String,
    pub words: usize,
    pub surfaces: String,
    pub uncoded_n: Published,
    pub earlier_n: Published,
    pub recent_n: Published,
    pub z: Option<f64>,
    pub rank: usize,
    pub examples: String,
    pub withheld: bool,
}

/// The published terms: the most frequent (at least 10 comments), each with its counts in the
/// last `months` months and before, and its rising z.
#[must_use]
pub(crate) fn term_rows(c: &TermCounter, months: u32, rule: &DisclosureRule) -> Vec<TermRow> {
    let last = c.comments.iter().map(|m| m.0).filter(|&m| m > 0).max().unwrap_or(0);
    // the first month of the recent window: `months` months back from the last, inclusive
    let first_recent = {
        let (mut y, mut m) = (last / 100, last % 100);
        for _ in 1..months.max(1) {
            if m == 1 {
                (y, m) = (y.saturating_sub(1), 12);
            } else {
                m -= 1;
            }
        }
        y * 100 + m
    };
    let recent = |m: u32| m >= first_recent && m > 0;
    // chosen, ordered and ranked by their published counts, ties by the term: the true counts
    // ordered the rows and their ranks, and chose them (at least 10 comments), so a run of
    // terms published alike told the true counts apart (a published 15 of five terms, their
    // ranks out of alphabetical order, pinned 17, 16, 15, 14, 13: found by an attack in the
    // twenty-fourth session on issue 9)
    let shown = |t: &Term| publish(i64::from(t.total()), rule).value.unwrap_or(0);
    let mut terms: Vec<(&String, &Term, u64)> =
        c.shards.iter().flatten().map(|(s, t)| (s, t, shown(t))).filter(|t| t.2 >= 10).collect();
    terms.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(b.0)));
    terms.truncate(PUBLISHED_TERMS);
    let terms: Vec<(&String, &Term)> = terms.into_iter().map(|(s, t, _)| (s, t)).collect();
    let split = |v: &[(u32, u32)]| -> (i64, i64) {
        v.iter().fold((0, 0), |(e, r), &(m, n)| if recent(m) { (e, r + i64::from(n)) } else { (e + i64::from(n), r) })
    };
    let (earlier_comments, recent_comments) = split(&c.comments);
    let count = |f: &dyn Fn(&Term) -> i64| -> Vec<Vec<Published>> {
        vec![terms.iter().map(|t| publish(f(t.1), rule)).collect()]
    };
    let zeros = vec![vec![publish(0, rule); terms.len()]];
    let period = |records: i64, mentions: Vec<Vec<Published>>| {
        Some(PeriodCounts {
            records: vec![publish(records, rule)],
            mentions,
            concerns: zeros.clone(),
            withheld: std::collections::BTreeSet::new(),
        })
    };
    let mut published = vec![vec![
        period(earlier_comments + recent_comments, count(&|t| i64::from(t.total()))),
        period(earlier_comments, count(&|t| split(&t.months).0)),
        period(recent_comments, count(&|t| split(&t.months).1)),
    ]];
    differencing::withhold(&mut published, &Identities::months(KnownTotals::default(), 2), rule);
    let get = |p: usize| published[0][p].as_ref().map(|x| (x.mentions[0].clone(), x.withheld.clone()));
    let (Some((all, w0)), Some((earlier, w1)), Some((recent_n, w2))) = (get(0), get(1), get(2)) else {
        return Vec::new();
    };
    let value = |p: &Published| p.value.map_or(0.0, |v| v as f64);
    let z = log_odds_dirichlet(
        &recent_n.iter().map(value).collect::<Vec<_>>(),
        &earlier.iter().map(value).collect::<Vec<_>>(),
        Prior::default(),
    );
    let rows = terms
        .iter()
        .enumerate()
        .map(|(k, (term, t))| {
            let withheld = [&w0, &w1, &w2].iter().any(|w| w.contains(&(1, 0, k)));
            let shown = recent_n[k].value.is_some() && earlier[k].value.is_some();
            TermRow {
                term: (*term).clone(),
                words: term.split(' ').count(),
                surfaces: t.surfaces.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join("; "),
                uncoded_n: all[k],
                earlier_n: earlier[k],
                recent_n: recent_n[k],
                z: z.as_ref().and_then(|z| z[k].map(|l| l.z)).filter(|_| shown && last > 0 && earlier_comments > 0),
                rank: 0,
                examples: t.examples.iter().map(|e| e.1.as_str()).collect::<Vec<_>>().join("; "),
                withheld,
            }
        })
        .filter(|r| r.uncoded_n.value.is_some())
        .collect::<Vec<_>>();
    // each row's rank by its published `uncoded_n`: 1 + the rows published above it (ties
    // share the lowest rank, as `theme_ranking`'s do; the rows are in that order)
    let mut rows = rows;
    let mut above: Option<(Published, usize)> = None;
    for (k, r) in rows.iter_mut().enumerate() {
        r.rank = match above {
            Some((n, rank)) if n == r.uncoded_n => rank,
            _ => k + 1,
        };
        above = Some((r.uncoded_n, r.rank));
    }
    rows
}

/// The `emerging_terms` table.
#[must_use]
pub(crate) fn table(rows: &[TermRow]) -> Table {
    let n = |f: fn(&TermRow) -> Published| {
        ColumnData::I64(rows.iter().map(|r| f(r).value.and_then(|v| i64::try_from(v).ok())).collect())
    };
    Table {
        name: "emerging_terms".to_owned(),
        grain: "word or phrase (stemmed 1-3-gram) of the comments no theme codes".to_owned(),
        columns: vec![
            Col::new("term", "the stemmed words, as the codebook's matcher sees them", strs(rows, |r| owned(&r.term))),
            Col::new("words_n", "words in the term (1 to 3)", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.words).ok()).collect())),
            Col::new("surface_forms", "up to three of the respondents' spellings (redacted text), the earliest met by date first, `; `-separated", strs(rows, |r| owned(&r.surfaces))),
            Col::new("uncoded_n", format!("comments no theme codes that carry the term {PUBLISHED}"), n(|r| r.uncoded_n)),
            Col::new("earlier_n", format!("of those, before the last months {PUBLISHED}"), n(|r| r.earlier_n)),
            Col::new("recent_n", format!("of those, in the last months ([report] emerging_months, default 3) {PUBLISHED}"), n(|r| r.recent_n)),
            Col::new("rising_z", "weighted log-odds z of the term, recent against earlier (informative Dirichlet prior, METHODS §3), from the published counts; above 1.96: rising", ColumnData::F64(rows.iter().map(|r| r.z).collect())),
            Col::new("frequency_rank", "1 = carried by the most uncoded comments", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.rank).ok()).collect())),
            Col::new("example_record_ids", "up to three records carrying it (joins records.record_id), `; `-separated", strs(rows, |r| owned(&r.examples))),
            Col::new("is_withheld", "a count of the row withheld against differencing (null like a suppressed count)", ColumnData::Bool(rows.iter().map(|r| Some(r.withheld)).collect())),
        ],
    }
}

/// A codebook snippet of the `top` terms of a run's `emerging_terms` (`unheard codebook
/// suggest`): the rising ones first (z above 1.96, highest first), then the most frequent; a term
/// inside one already suggested is left out. Each becomes a `[[theme]]` to name and place.
///
/// # Errors
/// The table cannot be read.
pub fn suggest(run: &std::path::Path, top: usize) -> Result<String, String> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Float64Type, Int64Type};
    // a folder no run wrote is said as `explain --run` says it (it said only that
    // emerging_terms.parquet was not there)
    if !run.join("manifest.json").is_file() {
        return Err(format!(
            "{} is not a run folder (no manifest.json): give a folder a run wrote (its --out)",
            run.display()
        ));
    }
    let path = run.join("emerging_terms.parquet");
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::build)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut terms: Vec<(String, String, Option<i64>, Option<i64>, Option<i64>, Option<f64>, String)> = Vec::new();
    for b in reader {
        // (a folder re-saved by another tool may hold large or view strings, which panicked)
        let b = b.and_then(|b| crate::table::as_written(&b).map_err(arrow::error::ArrowError::CastError));
        let b = b.map_err(|e| format!("{}: {e}", path.display()))?;
        let col = |n: &str| b.column_by_name(n).ok_or_else(|| format!("{}: no column {n}", path.display()));
        let text =
            |n: &str| col(n)?.as_string_opt::<i32>().ok_or_else(|| format!("{}: {n} is not text", path.display()));
        let (term, surf, ex) = (text("term")?, text("surface_forms")?, text("example_record_ids")?);
        let ints = |n: &str| -> Result<Vec<Option<i64>>, String> {
            let a = col(n)?.as_primitive_opt::<Int64Type>().ok_or_else(|| format!("{n} is not int64"))?;
            Ok((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect())
        };
        let (all, earlier, recent) = (ints("uncoded_n")?, ints("earlier_n")?, ints("recent_n")?);
        let z = col("rising_z")?.as_primitive_opt::<Float64Type>().ok_or("rising_z is not double")?;
        for i in 0..b.num_rows() {
            terms.push((
                term.value(i).to_owned(),
                surf.value(i).split("; ").next().unwrap_or_default().to_owned(),
                all[i],
                earlier[i],
                recent[i],
                (!z.is_null(i)).then(|| z.value(i)),
                ex.value(i).to_owned(),
            ));
        }
    }
    let rising = |t: &(String, String, Option<i64>, Option<i64>, Option<i64>, Option<f64>, String)| {
        t.5.is_some_and(|z| z > 1.96)
    };
    let mut order: Vec<usize> = (0..terms.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&terms[a], &terms[b]);
        rising(y)
            .cmp(&rising(x))
            .then_with(|| if rising(x) { y.5.unwrap_or(0.0).total_cmp(&x.5.unwrap_or(0.0)) } else { y.2.cmp(&x.2) })
            // of the terms of one phrase (the same counts), the longest first
            .then_with(|| y.0.split(' ').count().cmp(&x.0.split(' ').count()))
            .then_with(|| x.0.cmp(&y.0))
    });
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() == top {
            break;
        }
        let inside = |a: &str, b: &str| format!(" {b} ").contains(&format!(" {a} "));
        // a term inside one already chosen, or a piece of the same phrase, says nothing new: the
        // same counts and a word in common, or the same count and the same example records ("follow
        // up was" and "was all arranged" both came, their recent counts rounded apart, 35 and 30:
        // found by a reader in the twenty-sixth session on issue 9)
        let same_phrase = |c: usize| {
            let (a, b) = (&terms[i], &terms[c]);
            let word = a.0.split(' ').any(|w| b.0.split(' ').any(|v| v == w));
            ((a.2, a.3, a.4) == (b.2, b.3, b.4) && word) || (a.2 == b.2 && a.6 == b.6)
        };
        if chosen
            .iter()
            .any(|&c| inside(&terms[i].0, &terms[c].0) || inside(&terms[c].0, &terms[i].0) || same_phrase(c))
        {
            continue;
        }
        chosen.push(i);
    }
    let mut out = format!("# Suggested by `unheard codebook suggest` from {}: what comments no theme codes talk about.\n# Name each theme, put it in a category, widen its terms, and run `unheard codebook check`.\n", path.display());
    let n = |v: Option<i64>| v.map_or_else(|| "suppressed".to_owned(), |v| v.to_string());
    for (k, &i) in chosen.iter().enumerate() {
        let (_, surface, all, earlier, recent, z, ex) = &terms[i];
        let z = z.map_or_else(|| "n/a".to_owned(), |z| format!("{z:.2}"));
        out.push_str(&format!(
            "\n[[theme]]\ncode = \"NEW{:02}\"\nname = \"TODO: {}\"\ncategory = \"TODO\"\ndescription = \"uncoded comments: {} ({} recent, {} before; rising z {z}); e.g. {}\"\nterms = [\"{}\"]\n",
            k + 1,
            surface.replace('"', "'"),
            n(*all),
            n(*recent),
            n(*earlier),
            ex.replace('"', "'"),
            surface.replace('"', "'"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terms of a text as first written: a `String` per n-gram, sorted, one per term.
    fn reference(analyzer: &Analyzer, text: &str) -> Vec<(String, String)> {
        let mut tokens = Tokens::default();
        analyzer.analyze(text, &mut tokens);
        let mut out: Vec<(String, String)> = Vec::new();
        for len in 1..=3 {
            for start in 0..tokens.len().saturating_sub(len - 1) {
                let words: Vec<&str> = (start..start + len).map(|i| tokens.word(i)).collect();
                let marker = |i: usize| {
                    let (a, b) = tokens.span(i);
                    crate::text::redact::in_marker(text, a, b)
                };
                if words.iter().all(|w| STOP_WORDS.contains(w))
                    || (start..start + len).any(marker)
                    || words.iter().any(|w| w.chars().all(|c| c.is_ascii_digit()))
                {
                    continue;
                }
                let stem: Vec<&str> = (start..start + len).map(|i| tokens.stem(i)).collect();
                let (s, e) = (tokens.span(start).0, tokens.span(start + len - 1).1);
                let surface = text.get(s..e).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
                out.push((stem.join(" "), surface.to_lowercase()));
            }
        }
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// A redaction's marker is no word of a term (`dr name harrowg` was published: the check
    /// looked for a `[` in the word, which the tokenizer had left out).
    #[test]
    fn no_term_holds_a_redaction_marker() {
        let analyzer = Analyzer::english();
        let terms = reference(&analyzer, "Dr [NAME] Harrowgate rang [PHONE] about [NHS_NUMBER] name badge");
        assert!(!terms.is_empty());
        for (stem, surface) in &terms {
            assert!(
                !surface.contains("[") && !surface.contains("phone") && !surface.contains("nhs_number"),
                "{stem}: {surface}"
            );
        }
        assert!(terms.iter().any(|(stem, _)| stem == "name badg"), "a word that is no marker stays: {terms:?}");
    }

    #[test]
    fn the_terms_of_a_comment_are_those_a_string_per_n_gram_gives() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS, "STOP_WORDS is searched by halves: it must stay sorted");
        let analyzer = Analyzer::english();
        let texts = [
            "Waiting waiting WAITING for the parking   machine, parking machines broken",
            "The Ärzte were kind; the doctor's café was closed at 10 and [PHONE] rang",
            "the and of it",
            "",
            "Parking PARKING parking. Parked\tparking\nmachine",
            "ÉCOLE école Ecole ecole",
        ];
        let mut tokens = Tokens::default();
        let mut cache = StemCache::default();
        for text in texts {
            let mut c = Comment { text, id: "x", month: 0, hash: 0, stems: String::new(), grams: Vec::new() };
            analyzer.analyze_cached(text, &mut tokens, &mut cache);
            c.gather(&tokens);
            let mut spelled = String::new();
            let got: Vec<(String, String)> = c
                .grams
                .iter()
                .map(|g| {
                    spell(text, g.surface, &mut spelled);
                    (c.term(g).to_owned(), spelled.clone())
                })
                .collect();
            assert_eq!(got, reference(&analyzer, text), "{text:?}");
        }
    }

    /// The rows, their order and their ranks come from the published counts: terms whose true
    /// counts (10 to 18) run against the alphabet are told apart only as their published counts
    /// are, and a term is listed by its published count (found: ranks by the true counts, out of
    /// alphabetical order within a published 15, pinned each of five terms' counts).
    #[test]
    fn terms_are_chosen_ordered_and_ranked_by_their_published_counts() {
        let mut c = TermCounter::default();
        let term = |n: u32, name: &str| Term {
            months: vec![(202_503, n)],
            surfaces: vec![(name.to_owned(), (202_503, 0))],
            examples: Vec::new(),
        };
        let true_counts = [
            ("ka", 10),
            ("kb", 11),
            ("kc", 12),
            ("kd", 13),
            ("ke", 14),
            ("kf", 15),
            ("kg", 16),
            ("kh", 17),
            ("ki", 18),
            ("ja", 8),
            ("jb", 7),
        ];
        for (i, (name, n)) in true_counts.into_iter().enumerate() {
            c.shards[i % SHARDS].insert(name.to_owned(), term(n, name));
        }
        c.comments = vec![(202_503, 400)];
        let rule = DisclosureRule::default();
        let rows = term_rows(&c, 3, &rule);
        let got: Vec<(&str, Option<u64>, usize)> =
            rows.iter().map(|r| (r.term.as_str(), r.uncoded_n.value, r.rank)).collect();
        let want: Vec<(&str, Option<u64>, usize)> = vec![
            ("ki", Some(20), 1),
            ("kd", Some(15), 2),
            ("ke", Some(15), 2),
            ("kf", Some(15), 2),
            ("kg", Some(15), 2),
            ("kh", Some(15), 2),
            // 8 comments are published as 10, so listed; 7 are suppressed
            ("ja", Some(10), 7),
            ("ka", Some(10), 7),
            ("kb", Some(10), 7),
            ("kc", Some(10), 7),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn the_spellings_kept_are_the_same_in_any_order() {
        // (spelling, month, hash): "b" is met in March and again in January
        let met =
            [("b", 202503, 5), ("a", 202502, 9), ("c", 202501, 7), ("b", 202501, 3), ("d", 202504, 1), ("e", 0, 0)];
        let mut orders = vec![met.to_vec()];
        for k in 1..met.len() {
            let mut o = met.to_vec();
            o.rotate_left(k);
            orders.push(o.clone());
            o.reverse();
            orders.push(o);
        }
        for order in orders {
            let mut kept = Vec::new();
            for (s, m, h) in &order {
                keep_surface(&mut kept, s, (if *m == 0 { u32::MAX } else { *m }, *h));
            }
            let got: Vec<&str> = kept.iter().map(|k| k.0.as_str()).collect();
            assert_eq!(got, ["b", "c", "a"], "{order:?}");
        }
    }
}
