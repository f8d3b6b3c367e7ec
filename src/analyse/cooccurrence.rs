//! `cooccurrence.parquet`: which themes travel together — for each pair of themes coded on the
//! same record, overall and in every group of every dimension (the whole run), how many records
//! carry both, each, and the group's records; the Jaccard index and the lift of the pair with its
//! interval. Every figure comes from published counts, and the pair counts are guarded against
//! differencing like `theme_by_group`'s (the groups of a dimension add up to the published
//! overall row).

use rayon::prelude::*;

use super::common::{owned, publish, strs, PUBLISHED};
use super::differencing::{self, Identities, KnownTotals, PeriodCounts};
use super::stats::{relative_risk_lift, DisclosureRule, Published, Z95};
use crate::code::Codebook;
use crate::people::Groups;
use crate::table::{Col, ColumnData, Table};

/// The index of the pair (a, b), a < b, among the `n` themes' pairs.
fn pair(a: usize, b: usize, n: usize) -> usize {
    a * n - a * (a + 1) / 2 + (b - a - 1)
}

/// Pairs past which a group's counts are kept sparse: 4,096 pairs (91 themes) of `i64` are
/// 32 KB a group, dense; a codebook of 488 themes has 118,828 pairs, 0.95 MB a group held dense
/// (found: 3,000 groups of a column made a dimension took 2.85 GB in pair counts alone, most of
/// them zeros), where a group's records carry a few hundred of them.
const DENSE_PAIRS: usize = 4_096;

/// One group's count per pair: every pair in place when there are few, else only the pairs seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairCells {
    /// Every pair's count, by pair index.
    Dense(Vec<i64>),
    /// The pairs seen, by pair index (a pair not held is 0).
    Sparse(std::collections::HashMap<u32, i64, foldhash::fast::FixedState>),
}

impl PairCells {
    /// Zero counts for `pairs` pairs.
    fn zeros(pairs: usize) -> PairCells {
        if pairs <= DENSE_PAIRS {
            PairCells::Dense(vec![0; pairs])
        } else {
            PairCells::Sparse(std::collections::HashMap::default())
        }
    }

    /// Adds `n` to pair `p`.
    #[inline]
    fn add(&mut self, p: usize, n: i64) {
        match self {
            PairCells::Dense(v) => v[p] += n,
            PairCells::Sparse(m) => *m.entry(p as u32).or_insert(0) += n,
        }
    }

    /// Pair `p`'s count.
    #[must_use]
    pub fn get(&self, p: usize) -> i64 {
        match self {
            PairCells::Dense(v) => v.get(p).copied().unwrap_or(0),
            PairCells::Sparse(m) => m.get(&(p as u32)).copied().unwrap_or(0),
        }
    }

    /// Adds every count of `other` (the same number of pairs).
    fn add_all(&mut self, other: &PairCells) {
        match other {
            PairCells::Dense(v) => v.iter().enumerate().filter(|(_, &n)| n != 0).for_each(|(p, &n)| self.add(p, n)),
            PairCells::Sparse(m) => m.iter().for_each(|(&p, &n)| self.add(p as usize, n)),
        }
    }
}

/// Records carrying each pair of themes, per dimension and group, fed batch by batch.
#[derive(Debug, Clone, Default)]
pub(crate) struct PairCounter {
    n_themes: usize,
    /// `[dimension][group id]`, group ids as the batches number them.
    dims: Vec<Vec<PairCells>>,
    /// The most themes a record may carry while pairs are counted (`[analysis] max_record_themes`).
    max_record_themes: usize,
    /// Records that carried more: once there is one, no pair is counted and the table is withheld.
    crowded: u64,
}

/// The pair counts, groups in their sorted places.
#[derive(Debug, Clone, Default)]
pub struct PairCounts {
    /// Themes.
    pub n_themes: usize,
    /// `[dimension][group]`.
    pub dims: Vec<Vec<PairCells>>,
    /// The whole run.
    pub overall: Option<PairCells>,
    /// Records that carried more than `[analysis] max_record_themes` themes: when any did, the
    /// pairs were not counted and `cooccurrence` has no rows.
    pub crowded: u64,
}

impl PairCounts {
    /// The whole run's count of pair (a, b), a < b.
    fn overall(&self, a: usize, b: usize) -> i64 {
        self.overall.as_ref().map_or(0, |o| o.get(pair(a, b, self.n_themes)))
    }
}

/// The number of pairs of `n` themes.
fn pairs_of(n: usize) -> usize {
    n * n.saturating_sub(1) / 2
}

impl PairCounter {
    /// Counters for `dimensions` dimensions of `n_themes` themes, counting while no record
    /// carries more than `max_record_themes` themes.
    #[must_use]
    pub(crate) fn new(dimensions: usize, n_themes: usize, max_record_themes: usize) -> PairCounter {
        // a pair's index is a u32: past 92,681 themes it would not fit (no record is counted)
        let max_record_themes = if pairs_of(n_themes) > u32::MAX as usize { 1 } else { max_record_themes };
        PairCounter { n_themes, dims: vec![Vec::new(); dimensions], max_record_themes, crowded: 0 }
    }

    /// Adds a batch: each record's group ids per dimension and its themes. A record of more than
    /// `max_record_themes` themes stops the counting: its pairs grow with the square of its
    /// themes (found: a codebook whose 1,000 themes shared the term "staff" took 13 GB and
    /// 165 s on 35,000 comments; 5,000 themes aborted), and leaving only it out would let
    /// `cooccurrence`'s counts, set against `theme_by_group`'s, give away how many such
    /// records a group has.
    pub(crate) fn add(&mut self, groups: &[Vec<u32>], themes: &[Vec<(u32, bool)>]) {
        let max = self.max_record_themes;
        self.crowded += themes.iter().filter(|t| t.len() > max && distinct(t) > max).count() as u64;
        if self.crowded > 0 {
            self.dims = Vec::new();
            return;
        }
        let n = self.n_themes;
        let pairs = pairs_of(n);
        // every (record, pair) of the batch, in record order: one vector, not one per record
        let with_pairs: Vec<(u32, u32)> = themes
            .par_iter()
            .enumerate()
            .with_min_len(1024)
            .filter(|(_, t)| t.len() > 1)
            .flat_map_iter(|(r, t)| {
                let mut ids: smallvec::SmallVec<[usize; 8]> = t.iter().map(|x| x.0 as usize).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut ps: smallvec::SmallVec<[(u32, u32); 16]> = smallvec::SmallVec::new();
                for (i, &a) in ids.iter().enumerate() {
                    for &b in &ids[i + 1..] {
                        ps.push((r as u32, pair(a, b, n) as u32));
                    }
                }
                ps
            })
            .collect();
        self.dims.par_iter_mut().zip(groups).for_each(|(dim, ids)| {
            for &(r, p) in &with_pairs {
                let g = ids[r as usize] as usize;
                if dim.len() <= g {
                    dim.resize(g + 1, PairCells::zeros(pairs));
                }
                dim[g].add(p as usize, 1);
            }
        });
    }

    /// The counts with groups in their sorted places (`groups[d][id]` of `n_groups[d]`).
    #[must_use]
    pub(crate) fn finish(self, groups: &[Vec<u32>], n_groups: &[usize]) -> PairCounts {
        let pairs = pairs_of(self.n_themes);
        let dims: Vec<Vec<PairCells>> = self
            .dims
            .into_iter()
            .enumerate()
            .map(|(d, by_id)| {
                let mut out = vec![PairCells::zeros(pairs); n_groups[d]];
                for (id, row) in by_id.into_iter().enumerate() {
                    if let Some(&g) = groups[d].get(id) {
                        out[g as usize] = row;
                    }
                }
                out
            })
            .collect();
        // every dimension splits the same records: the first one's groups add up to the run
        let overall = dims.first().map(|d| {
            let mut all = PairCells::zeros(pairs);
            d.iter().for_each(|g| all.add_all(g));
            all
        });
        PairCounts { n_themes: self.n_themes, dims, overall, crowded: self.crowded }
    }
}

/// The distinct themes of a record's list.
fn distinct(themes: &[(u32, bool)]) -> usize {
    let mut ids: Vec<u32> = themes.iter().map(|t| t.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// One row of `cooccurrence`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PairRow {
    /// Dimension and group ids; `None` for the overall row.
    pub group: Option<(usize, usize)>,
    /// The two themes, a < b.
    pub themes: (usize, usize),
    /// Records carrying both.
    pub both_n: Published,
    /// Records carrying theme a, and theme b.
    pub theme_n: (Published, Published),
    /// Records of the group (all records for the overall row).
    pub records_n: Published,
    /// |A ∩ B| / |A ∪ B|.
    pub jaccard: Option<f64>,
    /// P(B | A) / P(B) with its interval.
    pub lift: Option<(f64, f64, f64)>,
    /// A count of the row is suppressed or withheld.
    pub suppressed: bool,
    /// The row's pair count withheld against differencing.
    pub withheld: bool,
}

/// The figures of a pair from its published counts: `(jaccard, lift)`, `None` when a count is
/// suppressed. The lift is the rate of B among the records with A over B's rate among all
/// records — METHODS §3's lift of a group against the whole, the group here being the records with
/// A — with its Katz interval mapped to the lift.
fn figures(both: Published, a: Published, b: Published, n: Published) -> (Option<f64>, Option<(f64, f64, f64)>) {
    let (Some(both), Some(a), Some(b), Some(n)) = (both.value, a.value, b.value, n.value) else { return (None, None) };
    let union = (a + b).saturating_sub(both);
    let jaccard = (union > 0).then(|| both as f64 / union as f64);
    let lift = (both <= a.min(b) && a < n && a > 0)
        .then(|| relative_risk_lift(both, a, b - both, n - a, Z95))
        .flatten()
        .and_then(|r| Some((r.lift?, r.lift_lower, r.lift_upper)))
        // at the boundary (every record with B has A) the Katz bounds of the adjusted ratio map
        // to just below the lift, whose own bound it is: the interval holds its estimate
        .map(|(l, lo, hi)| (l, lo.min(l), hi.max(l)));
    (jaccard, lift)
}

/// The rows: every pair coded together at least once in the run — past `max_pairs` such pairs,
/// the `max_pairs` most frequent by their published count, ties in theme order, so that which
/// pairs are published is read from published counts too — overall, and in every group that has
/// it at least once (a group's row left out means 0). Also the withheld counts and the pairs
/// coded together.
/// `theme_counts[d]` are `theme_by_group`'s published counts of the whole run (records and
/// mentions per group), `totals` the run's published totals (`theme_ranking`'s).
#[must_use]
pub(crate) fn pair_rows(
    pairs: &PairCounts,
    theme_counts: &[&PeriodCounts],
    totals: &KnownTotals,
    rule: &DisclosureRule,
    max_pairs: usize,
) -> (Vec<PairRow>, usize, usize) {
    let n = pairs.n_themes;
    if pairs.crowded > 0 {
        return (Vec::new(), 0, 0);
    }
    let mut kept: Vec<(usize, usize)> =
        (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).filter(|&(a, b)| pairs.overall(a, b) > 0).collect();
    let coded = kept.len();
    if coded > max_pairs {
        // a suppressed count (None) ranks below every published one
        kept.sort_by_cached_key(|&(a, b)| (std::cmp::Reverse(publish(pairs.overall(a, b), rule).value), a, b));
        kept.truncate(max_pairs);
        kept.sort_unstable();
    }
    // the pair counts of each dimension, guarded: the groups add up to the published overall row
    let mut published: Vec<Vec<Option<PeriodCounts>>> = pairs
        .dims
        .iter()
        .zip(theme_counts)
        .map(|(dim, themes)| {
            let mentions: Vec<Vec<Published>> =
                dim.iter().map(|g| kept.iter().map(|&(a, b)| publish(g.get(pair(a, b, n)), rule)).collect()).collect();
            let zeros = mentions.iter().map(|m| vec![publish(0, rule); m.len()]).collect();
            vec![Some(PeriodCounts {
                records: themes.records.clone(),
                mentions,
                concerns: zeros,
                withheld: std::collections::BTreeSet::new(),
            })]
        })
        .collect();
    let overall: Vec<Published> = kept.iter().map(|&(a, b)| publish(pairs.overall(a, b), rule)).collect();
    let known = KnownTotals {
        records: totals.records,
        mentions: overall.clone(),
        concerns: vec![publish(0, rule); kept.len()],
    };
    let withheld = differencing::withhold(&mut published, &Identities::months(known, 0), rule);
    let none = Published::SUPPRESSED;
    let mut rows = Vec::new();
    for (k, &(a, b)) in kept.iter().enumerate() {
        let (ta, tb) =
            (totals.mentions.get(a).copied().unwrap_or(none), totals.mentions.get(b).copied().unwrap_or(none));
        let records = totals.records.unwrap_or(none);
        let (jaccard, lift) = figures(overall[k], ta, tb, records);
        let suppressed = [overall[k], ta, tb, records].iter().any(|p| p.value.is_none());
        rows.push(PairRow {
            group: None,
            themes: (a, b),
            both_n: overall[k],
            theme_n: (ta, tb),
            records_n: records,
            jaccard,
            lift,
            suppressed,
            withheld: false,
        });
    }
    for (d, per) in published.iter().enumerate() {
        let Some(Some(c)) = per.first() else { continue };
        let themes = theme_counts[d];
        for g in 0..c.records.len() {
            for (k, &(a, b)) in kept.iter().enumerate() {
                let (both, ta, tb, records) =
                    (c.mentions[g][k], themes.mentions[g][a], themes.mentions[g][b], c.records[g]);
                // a pair the group never has is left out (its 0 would be published as it is)
                if both.value == Some(0) {
                    continue;
                }
                let (jaccard, lift) = figures(both, ta, tb, records);
                rows.push(PairRow {
                    group: Some((d, g)),
                    themes: (a, b),
                    both_n: both,
                    theme_n: (ta, tb),
                    records_n: records,
                    jaccard,
                    lift,
                    suppressed: [both, ta, tb, records].iter().any(|p| p.value.is_none()),
                    withheld: c.withheld.contains(&(1, g, k)),
                });
            }
        }
    }
    (rows, withheld, coded)
}

/// The `cooccurrence` table.
#[must_use]
pub(crate) fn table(rows: &[PairRow], groups: &Groups, book: &Codebook) -> Table {
    let n = |f: fn(&PairRow) -> Published| {
        ColumnData::I64(rows.iter().map(|r| f(r).value.and_then(|v| i64::try_from(v).ok())).collect())
    };
    let lift = |f: fn(&(f64, f64, f64)) -> f64| ColumnData::F64(rows.iter().map(|r| r.lift.as_ref().map(f)).collect());
    Table {
        name: "cooccurrence".to_owned(),
        grain: "pair of themes coded on the same records (the whole run), overall and per dimension × group (a group's row is left out when no record of the group has the pair: both_n is 0)".to_owned(),
        columns: vec![
            Col::new("dimension", "demographic dimension; null on the overall rows", strs(rows, |r| r.group.map(|(d, _)| &groups.dimensions[d]))),
            Col::new("group_name", "group within the dimension; null on the overall rows", strs(rows, |r| r.group.map(|(d, g)| &groups.names[d][g]))),
            Col::new("theme_a", "the first theme's code (codebook order)", strs(rows, |r| owned(&book.themes[r.themes.0].code))),
            Col::new("theme_b", "the second theme's code", strs(rows, |r| owned(&book.themes[r.themes.1].code))),
            Col::new("both_n", format!("records coded with both themes {PUBLISHED}"), n(|r| r.both_n)),
            Col::new("theme_a_n", format!("records coded with theme_a: theme_by_group's theme_n (theme_ranking's raw_n overall) {PUBLISHED}"), n(|r| r.theme_n.0)),
            Col::new("theme_b_n", format!("records coded with theme_b {PUBLISHED}"), n(|r| r.theme_n.1)),
            Col::new("records_n", format!("records of the group (all records on the overall rows) {PUBLISHED}"), n(|r| r.records_n)),
            Col::new("jaccard", "both_n / (theme_a_n + theme_b_n − both_n), from the published counts", ColumnData::F64(rows.iter().map(|r| r.jaccard).collect())),
            Col::new("lift", "the share of theme_a's records that carry theme_b over theme_b's share of all the group's records (1 = independent)", lift(|l| l.0)),
            Col::new("lift_low", "Katz 95% interval of the lift (theme_a's records against the rest, mapped), lower", lift(|l| l.1)),
            Col::new("lift_high", "same, upper", lift(|l| l.2)),
            Col::new("is_suppressed", "a count of the row is null (1-7, or withheld): its figures are null", ColumnData::Bool(rows.iter().map(|r| Some(r.suppressed)).collect())),
            Col::new("is_withheld", "both_n is withheld against differencing (any value, 0 included, may lie behind it)", ColumnData::Bool(rows.iter().map(|r| Some(r.withheld)).collect())),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::common::formulas::published;
    use crate::analyse::stats::testutil::close;

    #[test]
    fn pairs_are_counted_once_per_record_whatever_the_batches() {
        // 3 themes; one dimension with groups 0 and 1
        let groups = vec![vec![0, 0, 1, 1]];
        let themes = vec![
            vec![(0, false), (1, true)],
            vec![(0, false), (1, false), (2, true)],
            vec![(2, false)],
            vec![(1, true), (0, false), (0, true)],
        ];
        let mut whole = PairCounter::new(1, 3, 64);
        whole.add(&groups, &themes);
        let mut split = PairCounter::new(1, 3, 64);
        split.add(&[groups[0][..1].to_vec()], &themes[..1]);
        split.add(&[groups[0][1..].to_vec()], &themes[1..]);
        let (a, b) = (whole.finish(&[vec![0, 1]], &[2]), split.finish(&[vec![0, 1]], &[2]));
        assert_eq!(a.dims, b.dims);
        // pairs (0,1), (0,2), (1,2): group 0 has {0,1} and {0,1,2}; group 1 has {2} and {0,1}
        assert_eq!(a.dims[0][0], PairCells::Dense(vec![2, 1, 1]));
        assert_eq!(a.dims[0][1], PairCells::Dense(vec![1, 0, 0]), "a theme coded twice on a record is one");
        assert_eq!(a.overall, Some(PairCells::Dense(vec![3, 1, 1])));
    }

    #[test]
    fn a_record_of_more_themes_than_the_bound_stops_the_counting_and_the_table() {
        let groups = vec![vec![0, 1, 0]];
        let few = vec![(0, false), (1, false)];
        let many: Vec<(u32, bool)> = (0..5).map(|t| (t, false)).collect();
        // a theme listed twice is one theme: 3 distinct is within a bound of 3
        let repeated = vec![(0, false), (1, false), (2, false), (2, true)];
        let mut within = PairCounter::new(1, 5, 3);
        within.add(&groups, &[few.clone(), repeated.clone(), few.clone()]);
        let counts = within.finish(&[vec![0, 1]], &[2]);
        assert_eq!(counts.crowded, 0);
        assert_eq!(counts.overall.as_ref().map(|o| o.get(pair(0, 1, 5))), Some(3));
        let mut past = PairCounter::new(1, 5, 3);
        past.add(&groups, &[few.clone(), repeated, few.clone()]);
        past.add(&groups, &[few.clone(), many.clone(), many]);
        past.add(&groups, &[few.clone(), few.clone(), few]);
        assert!(past.dims.is_empty(), "the counts are dropped, not held");
        let counts = past.finish(&[vec![0, 1]], &[2]);
        assert_eq!(counts.crowded, 2);
        let rule = DisclosureRule::default();
        let themes = PeriodCounts {
            records: vec![publish(9, &rule)],
            mentions: vec![vec![publish(9, &rule); 5]],
            concerns: vec![vec![publish(0, &rule); 5]],
            withheld: std::collections::BTreeSet::new(),
        };
        let (rows, withheld, coded) = pair_rows(&counts, &[&themes], &KnownTotals::default(), &rule, 2_000);
        assert!(rows.is_empty() && withheld == 0 && coded == 0, "no rows once a record was crowded");
    }

    #[test]
    fn many_themes_count_only_the_pairs_seen_and_the_same_counts() {
        // 120 themes: 7,140 pairs, past DENSE_PAIRS; records of 2-4 themes in 3 groups
        let n = 120;
        assert!(pairs_of(n) > DENSE_PAIRS);
        let themes: Vec<Vec<(u32, bool)>> =
            (0..300u32).map(|r| (0..2 + r % 3).map(|k| ((r * 7 + k * 31) % n as u32, k == 0)).collect()).collect();
        let groups = vec![(0..300u32).map(|r| r % 3).collect::<Vec<u32>>()];
        let mut c = PairCounter::new(1, n, 64);
        c.add(&groups, &themes[..100]);
        c.add(&[groups[0][100..].to_vec()], &themes[100..]);
        let counts = c.finish(&[vec![0, 1, 2]], &[3]);
        // the counts, worked out record by record
        let mut expected = vec![vec![0i64; pairs_of(n)]; 3];
        for (r, t) in themes.iter().enumerate() {
            let mut ids: Vec<usize> = t.iter().map(|x| x.0 as usize).collect();
            ids.sort_unstable();
            ids.dedup();
            for (i, &a) in ids.iter().enumerate() {
                for &b in &ids[i + 1..] {
                    expected[r % 3][pair(a, b, n)] += 1;
                }
            }
        }
        for (g, cells) in counts.dims[0].iter().enumerate() {
            let PairCells::Sparse(held) = cells else { panic!("group {g} held dense") };
            assert!(held.len() <= 300, "only the pairs seen are held: {}", held.len());
            for (p, &e) in expected[g].iter().enumerate() {
                assert_eq!(cells.get(p), e, "group {g}, pair {p}");
            }
        }
        for p in 0..pairs_of(n) {
            let all: i64 = expected.iter().map(|e| e[p]).sum();
            assert_eq!(counts.overall.as_ref().map(|o| o.get(p)), Some(all), "pair {p} overall");
        }
    }

    #[test]
    fn past_max_pairs_the_most_frequent_by_their_published_counts() {
        let rule = DisclosureRule::default();
        let p = |v: i64| publish(v, &rule);
        // 4 themes, pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3); one dimension of one group
        let overall = vec![11, 12, 30, 3, 13, 0];
        let pairs = PairCounts {
            n_themes: 4,
            dims: vec![vec![PairCells::Dense(overall.clone())]],
            overall: Some(PairCells::Dense(overall)),
            crowded: 0,
        };
        let themes = PeriodCounts {
            records: vec![p(100)],
            mentions: vec![vec![p(50); 4]],
            concerns: vec![vec![p(0); 4]],
            withheld: std::collections::BTreeSet::new(),
        };
        let totals = KnownTotals { records: Some(p(100)), mentions: vec![p(50); 4], concerns: vec![p(0); 4] };
        let kept = |max: usize| {
            let (rows, _, coded) = pair_rows(&pairs, &[&themes], &totals, &rule, max);
            let overall: Vec<(usize, usize)> = rows.iter().filter(|r| r.group.is_none()).map(|r| r.themes).collect();
            (overall, coded)
        };
        assert_eq!(kept(10), (vec![(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)], 5), "every pair coded together");
        // 30 and 15 first; 11 and 12 are both published as 10, so theme order, not the raw count,
        // picks (0,1): which pairs are published says nothing the published counts do not; the
        // suppressed (1,2) ranks last
        assert_eq!(kept(3), (vec![(0, 1), (0, 3), (1, 3)], 5));
        assert_eq!(kept(4).0, vec![(0, 1), (0, 2), (0, 3), (1, 3)]);
        assert_eq!(kept(1).0, vec![(0, 3)]);
    }

    #[test]
    fn figures_from_published_counts() {
        let p = |v: i64| publish(v, &DisclosureRule::default());
        // 400 records: A on 100, B on 80, both on 40 → published 40, 100, 80, 400
        let (j, l) = figures(p(40), p(100), p(80), p(400));
        close("jaccard", j.expect("jaccard"), 40.0 / 140.0);
        let (lift, lo, hi) = l.expect("lift");
        close("lift", lift, (40.0 / 100.0) / (80.0 / 400.0));
        assert!(lo < lift && lift < hi);
        // a suppressed count empties the row
        assert_eq!(figures(p(5), p(100), p(80), p(400)), (None, None));
        assert_eq!(published(5), None);
        // rounding: 41 is published as 40, and the figures use 40
        assert_eq!(figures(p(41), p(100), p(80), p(400)).0, j);
    }
}
