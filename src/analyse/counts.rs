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
    /// Whether the record is the first of its response (counts the respondent).
    pub first_of_response: &'a [bool],
    /// Each record's themes: (theme, is_concern), each theme at most once.
    pub themes: &'a [Vec<(u32, bool)>],
}

/// The run's counters.
#[derive(Debug, Clone, Default)]
pub struct Counter {
    n_themes: usize,
    /// `[dimension][month id][group id]`, ids as the batches number them.
    dims: Vec<Vec<Vec<Cell>>>,
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
            totals: Cell::new(n_themes),
            raking,
            ..Counter::default()
        }
    }

    /// Adds a batch (dimensions in parallel).
    pub fn add(&mut self, b: &BatchCounts<'_>) {
        let n_themes = self.n_themes;
        self.dims.par_iter_mut().zip(b.groups).for_each(|(dim, groups)| {
            for (r, (&m, &g)) in b.month.iter().zip(groups).enumerate() {
                let (m, g) = (m as usize, g as usize);
                if dim.len() <= m {
                    dim.resize(m + 1, Vec::new());
                }
                let row = &mut dim[m];
                if row.len() <= g {
                    row.resize(g + 1, Cell::new(n_themes));
                }
                row[g].add_record(b.first_of_response[r], &b.themes[r]);
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
                for (m, row) in by_month.iter().enumerate() {
                    for (g, cell) in row.iter().enumerate() {
                        let g = groups[d][g] as usize;
                        for p in [0, months[m] as usize + 1] {
                            c.records[p][g] += cell.records;
                            c.respondents[p][g] += cell.respondents;
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

    #[test]
    fn counts_by_period_group_and_theme_whatever_the_batches() {
        // 4 records in 2 months; one dimension with groups 0,0,1,1; records 0 and 1 are one response
        let month = [0, 0, 1, 1];
        let groups = vec![vec![0, 0, 1, 1]];
        let first = [true, false, true, true];
        let themes = vec![vec![(0, false)], vec![(0, true), (1, true)], vec![(1, false)], vec![(1, true)]];
        let mut whole = Counter::new(1, 2, vec![0]);
        whole.add(&BatchCounts { month: &month, groups: &groups, first_of_response: &first, themes: &themes });
        // the same records in two batches give the same counts
        let mut split = Counter::new(1, 2, vec![0]);
        for (a, b) in [(0, 3), (3, 4)] {
            let g = vec![groups[0][a..b].to_vec()];
            split.add(&BatchCounts {
                month: &month[a..b],
                groups: &g,
                first_of_response: &first[a..b],
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
