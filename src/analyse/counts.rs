//! The grouped counts every statistic starts from, as mergeable counters fed batch by batch:
//! per dimension, month and group, the records, the respondents, and per theme the records
//! that mention it and the records where it is a concern; the run's totals; and the raking
//! cells (records and theme counts per combination of the raking dimensions' groups).
//!
//! Memory grows with months × groups × themes and with the raking cells, never with records.
//! A plain loop over dense arrays: measured against the polars group-by it replaced
//! (README, "Dependencies"), it is the faster by far at every size.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::fingerprints::FingerprintSet;

/// Dense counts for one dimension: `[period][group]` and `[period][group][theme]`, where
/// period 0 is the whole run and period `m + 1` is month `m`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DimCounts {
    /// Records.
    pub records: Vec<Vec<i64>>,
    /// Respondents (first record of each response).
    pub respondents: Vec<Vec<i64>>,
    /// Records mentioning each theme.
    pub mentions: Vec<Vec<Vec<i64>>>,
    /// Records where each theme is a concern.
    pub concerns: Vec<Vec<Vec<i64>>>,
}

/// Counts of one cell: records, respondents, and per theme mentions and concerns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    /// Records.
    pub records: i64,
    /// Respondents.
    pub respondents: i64,
    /// Records mentioning each theme.
    pub mentions: Vec<i64>,
    /// Records where each theme is a concern.
    pub concerns: Vec<i64>,
}

impl Cell {
    pub(crate) fn new(n_themes: usize) -> Cell {
        Cell { mentions: vec![0; n_themes], concerns: vec![0; n_themes], ..Cell::default() }
    }

    pub(crate) fn add_record(&mut self, first: bool, themes: &[(u32, bool)]) {
        self.records += 1;
        self.respondents += i64::from(first);
        for &(t, c) in themes {
            self.mentions[t as usize] += 1;
            self.concerns[t as usize] += i64::from(c);
        }
    }

    fn merge(&mut self, other: &Cell) {
        self.records += other.records;
        self.respondents += other.respondents;
        for (a, b) in self.mentions.iter_mut().zip(&other.mentions) {
            *a += b;
        }
        for (a, b) in self.concerns.iter_mut().zip(&other.concerns) {
            *a += b;
        }
    }
}

/// One batch, one entry per record.
#[derive(Debug, Clone, Copy)]
pub struct BatchCounts<'a> {
    /// Each record's month id.
    pub month: &'a [u32],
    /// Per dimension, each record's group id.
    pub groups: &'a [Vec<u32>],
    /// Whether the record is the first of its response met in the run (counts the respondent
    /// over the run).
    pub first_of_response: &'a [bool],
    /// Whether the record is the first of its response met in its month (counts the respondent
    /// in that month: a person who wrote in two months is a voice in each).
    pub first_in_month: &'a [bool],
    /// Each record's themes: (theme, is_concern), each theme at most once.
    pub themes: &'a [Vec<(u32, bool)>],
}

/// The run's counters.
#[derive(Debug, Clone, Default)]
pub struct Counter {
    n_themes: usize,
    /// `[dimension][month id][group id]`, ids as the batches number them; respondents counted
    /// in their months.
    dims: Vec<Vec<Vec<Cell>>>,
    /// `[dimension][group id]`: respondents over the whole run.
    run_respondents: Vec<Vec<i64>>,
    /// The whole run.
    pub totals: Cell,
    /// Dimensions whose combinations make the raking cells.
    raking: Vec<usize>,
    /// Raking cell (group id per raking dimension) → counts.
    cells: HashMap<Box<[u32]>, Cell, foldhash::fast::FixedState>,
}

/// The counters read in the analysis' order: months and groups sorted.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    /// Per dimension, its counts.
    pub dims: Vec<DimCounts>,
    /// The whole run.
    pub totals: Cell,
    /// Raking cells: per cell, the (sorted) group id of each raking dimension, and its counts;
    /// in the order of their groups.
    pub cells: Vec<(Vec<u32>, Cell)>,
}

impl Counter {
    /// Counters for `dimensions` dimensions and `n_themes` themes; raking cells over the
    /// dimensions `raking` (indices).
    #[must_use]
    pub fn new(dimensions: usize, n_themes: usize, raking: Vec<usize>) -> Counter {
        Counter {
            n_themes,
            dims: vec![Vec::new(); dimensions],
            run_respondents: vec![Vec::new(); dimensions],
            totals: Cell::new(n_themes),
            raking,
            ..Counter::default()
        }
    }

    /// Adds a batch (dimensions in parallel).
    pub fn add(&mut self, b: &BatchCounts<'_>) {
        let n_themes = self.n_themes;
        self.dims.par_iter_mut().zip(&mut self.run_respondents).zip(b.groups).for_each(|((dim, run), groups)| {
            for (r, (&m, &g)) in b.month.iter().zip(groups).enumerate() {
                let (m, g) = (m as usize, g as usize);
                if dim.len() <= m {
                    dim.resize(m + 1, Vec::new());
                }
                let row = &mut dim[m];
                if row.len() <= g {
                    row.resize(g + 1, Cell::new(n_themes));
                }
                row[g].add_record(b.first_in_month[r], &b.themes[r]);
                if b.first_of_response[r] {
                    if run.len() <= g {
                        run.resize(g + 1, 0);
                    }
                    run[g] += 1;
                }
            }
        });
        for (r, themes) in b.themes.iter().enumerate() {
            self.totals.add_record(b.first_of_response[r], themes);
        }
        if !self.raking.is_empty() {
            let mut key = vec![0u32; self.raking.len()];
            for (r, themes) in b.themes.iter().enumerate() {
                for (k, &d) in key.iter_mut().zip(&self.raking) {
                    *k = b.groups[d][r];
                }
                match self.cells.get_mut(key.as_slice()) {
                    Some(c) => c.add_record(b.first_of_response[r], themes),
                    None => {
                        let mut c = Cell::new(n_themes);
                        c.add_record(b.first_of_response[r], themes);
                        self.cells.insert(key.clone().into_boxed_slice(), c);
                    }
                }
            }
        }
    }

    /// The counts with months and groups in their sorted places: `months[id]` is month id's
    /// place among `n_months`, `groups[d][id]` group id's place in dimension `d` among
    /// `n_groups[d]`.
    #[must_use]
    pub fn finish(&self, months: &[u32], n_months: usize, groups: &[Vec<u32>], n_groups: &[usize]) -> Counted {
        let t = self.n_themes;
        let dims = self
            .dims
            .iter()
            .enumerate()
            .map(|(d, by_month)| {
                let n = n_groups[d];
                let periods = n_months + 1;
                let mut c = DimCounts {
                    records: vec![vec![0; n]; periods],
                    respondents: vec![vec![0; n]; periods],
                    mentions: vec![vec![vec![0; t]; n]; periods],
                    concerns: vec![vec![vec![0; t]; n]; periods],
                };
                // respondents: once in each month they wrote in, once over the run
                for (g, &n) in self.run_respondents[d].iter().enumerate() {
                    c.respondents[0][groups[d][g] as usize] += n;
                }
                for (m, row) in by_month.iter().enumerate() {
                    for (g, cell) in row.iter().enumerate() {
                        let g = groups[d][g] as usize;
                        c.respondents[months[m] as usize + 1][g] += cell.respondents;
                        for p in [0, months[m] as usize + 1] {
                            c.records[p][g] += cell.records;
                            for (a, b) in c.mentions[p][g].iter_mut().zip(&cell.mentions) {
                                *a += b;
                            }
                            for (a, b) in c.concerns[p][g].iter_mut().zip(&cell.concerns) {
                                *a += b;
                            }
                        }
                    }
                }
                c
            })
            .collect();
        let mut cells: Vec<(Vec<u32>, Cell)> = self
            .cells
            .iter()
            .map(|(k, c)| (k.iter().zip(&self.raking).map(|(&g, &d)| groups[d][g as usize]).collect(), c.clone()))
            .collect();
        cells.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Counted { dims, totals: self.totals.clone(), cells }
    }
}

/// The responses met so far, for one voice per person: over the run, a response counts once; in
/// a month, once if it has a record of that month. So the counts do not depend on the order the
/// records are met in (a run over a state meets them month by month, one without in file
/// order); only the group a response counts in is that of the record met first, which matters
/// only when one response's records carry different groups.
///
/// 16 bytes a response: its fingerprint (112 bits) with the month it was first met in (16
/// bits); a response met in more months adds one fingerprint for each further month. Both sets
/// keep what passes `[run] ids_in_memory` on disk ([`crate::fingerprints`]).
pub(crate) struct Respondents {
    /// Responses, each with the month it was first met in.
    first: FingerprintSet,
    /// (response, month) for the months after a response's first.
    further: FingerprintSet,
}

impl Respondents {
    /// Responses held in memory up to about `in_memory` (per set), the rest on disk once
    /// [`Respondents::spill_into`] names a folder.
    #[must_use]
    pub(crate) fn new(in_memory: usize) -> Respondents {
        Respondents { first: FingerprintSet::new(in_memory), further: FingerprintSet::new(in_memory) }
    }

    /// Responses past the memory limit go to unnamed temporary files in `folder` from now on.
    pub(crate) fn spill_into(&mut self, folder: &std::path::Path) {
        self.first.spill_into(folder);
        self.further.spill_into(folder);
    }

    /// Responses (and further months of a response) that went to disk.
    #[must_use]
    pub(crate) fn on_disk(&self) -> usize {
        self.first.spilled() + self.further.spilled()
    }

    /// Why responses could not be kept on disk or read back, if they could not.
    #[must_use]
    pub(crate) fn failure(&self) -> Option<&str> {
        self.first.failure().or(self.further.failure())
    }

    /// Meets a record of the response `fingerprint` in month `month`: (first of the response in
    /// the run, first of the response in that month). Month ids past 65,534 share one slot.
    pub(crate) fn meet(&mut self, fingerprint: u128, month: u32) -> (bool, bool) {
        let m = month.min(0xFFFF) as u16;
        match self.first.insert(fingerprint, m) {
            None => (true, true),
            Some(first) if first == m => (false, false),
            Some(_) => (false, self.further.insert(crate::record::fingerprint(&(fingerprint, m)), 0).is_none()),
        }
    }
}

/// Merges raking cells that agree on the dimensions `keep` (positions in the cell key).
#[must_use]
pub fn project(cells: &[(Vec<u32>, Cell)], keep: &[usize]) -> Vec<(Vec<u32>, Cell)> {
    let mut out: std::collections::BTreeMap<Vec<u32>, Cell> = std::collections::BTreeMap::new();
    for (k, c) in cells {
        let key: Vec<u32> = keep.iter().map(|&i| k[i]).collect();
        out.entry(key).and_modify(|x| x.merge(c)).or_insert_with(|| c.clone());
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over the run a response counts once; in a month once if it has a record there; the
    /// same set of firsts in any order (every rotation and the reversal of one sequence).
    #[test]
    fn a_response_counts_once_over_the_run_and_once_in_each_of_its_months() {
        let f = |i: u128| crate::record::fingerprint(&i);
        // (response, month): a in months 0, 2, 2, 0; b in 1; c in 3, 3, 65,540 and 70,000 (one slot)
        let met = [
            (f(1), 0),
            (f(2), 1),
            (f(1), 2),
            (f(3), 3),
            (f(1), 2),
            (f(3), 3),
            (f(1), 0),
            (f(3), 65_540),
            (f(3), 70_000),
        ];
        let mut r = Respondents::new(crate::fingerprints::DEFAULT_IN_MEMORY);
        let firsts: Vec<(bool, bool)> = met.iter().map(|&(x, m)| r.meet(x, m)).collect();
        let over_run = firsts.iter().filter(|x| x.0).count();
        let in_month: Vec<(u128, u32)> =
            met.iter().zip(&firsts).filter(|x| x.1 .1).map(|(&(x, m), _)| (x, m.min(0xFFFF))).collect();
        assert_eq!(over_run, 3);
        assert_eq!(in_month.len(), 5, "{in_month:?}");
        let counted = |order: &[(u128, u32)]| {
            let mut r = Respondents::new(crate::fingerprints::DEFAULT_IN_MEMORY);
            let mut out: Vec<(u128, u32)> =
                order.iter().filter(|&&(x, m)| r.meet(x, m).1).map(|&(x, m)| (x, m.min(0xFFFF))).collect();
            out.sort_unstable();
            out
        };
        let mut expected = in_month.clone();
        expected.sort_unstable();
        let mut order = met.to_vec();
        for _ in 0..order.len() {
            order.rotate_left(1);
            assert_eq!(counted(&order), expected);
        }
        order.reverse();
        assert_eq!(counted(&order), expected);
    }

    #[test]
    fn counts_by_period_group_and_theme_whatever_the_batches() {
        // 4 records in 2 months; one dimension with groups 0,0,1,1; records 0 and 1 are one response
        let month = [0, 0, 1, 1];
        let groups = vec![vec![0, 0, 1, 1]];
        let first = [true, false, true, true];
        let themes = vec![vec![(0, false)], vec![(0, true), (1, true)], vec![(1, false)], vec![(1, true)]];
        let mut whole = Counter::new(1, 2, vec![0]);
        whole.add(&BatchCounts {
            month: &month,
            groups: &groups,
            first_of_response: &first,
            first_in_month: &first,
            themes: &themes,
        });
        // the same records in two batches give the same counts
        let mut split = Counter::new(1, 2, vec![0]);
        for (a, b) in [(0, 3), (3, 4)] {
            let g = vec![groups[0][a..b].to_vec()];
            split.add(&BatchCounts {
                month: &month[a..b],
                groups: &g,
                first_of_response: &first[a..b],
                first_in_month: &first[a..b],
                themes: &themes[a..b],
            });
        }
        let c = whole.finish(&[0, 1], 2, &[vec![0, 1]], &[2]);
        assert_eq!(split.finish(&[0, 1], 2, &[vec![0, 1]], &[2]).dims, c.dims);
        let d = &c.dims[0];
        assert_eq!(d.records, vec![vec![2, 2], vec![2, 0], vec![0, 2]]);
        assert_eq!(d.respondents[0], vec![1, 2]);
        assert_eq!(d.mentions[0], vec![vec![2, 1], vec![0, 2]]);
        assert_eq!(d.concerns[0], vec![vec![1, 1], vec![0, 1]]);
        assert_eq!(d.mentions[2], vec![vec![0, 0], vec![0, 2]], "month 2 only");
        assert_eq!(c.totals.records, 4);
        assert_eq!(c.totals.mentions, vec![2, 3]);
        assert_eq!(c.cells.len(), 2);
        assert_eq!(c.cells[1].1.concerns, vec![0, 1]);
        // months and groups in reverse order: the counts move with them
        let r = whole.finish(&[1, 0], 2, &[vec![1, 0]], &[2]);
        assert_eq!(r.dims[0].records, vec![vec![2, 2], vec![2, 0], vec![0, 2]]);
        assert_eq!(r.cells[0].0, vec![0], "cells sorted by their sorted group ids");
        assert_eq!(r.cells[0].1.records, 2);
    }
}
