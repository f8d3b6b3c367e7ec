//! Differencing guard for `theme_by_group`: no suppressed or rounded count may be worked back out
//! as a total minus the other cells.
//!
//! METHODS §6 rounds totals independently, which avoids the secondary suppression a
//! suppression-only regime needs, but only one total at a time. `theme_by_group` holds many totals
//! that an attacker can set against each other: every dimension splits the same records (so the
//! groups of each dimension add up to one hidden total, per period and per theme), the months add
//! up to `all`, and a theme's records are within its group's (concerns within mentions). With 0
//! published exactly and 1–7 as a range, those identities can pin a suppressed count: on the demo,
//! 352 counts were recovered exactly this way before this guard.
//!
//! The guard plays that attacker on the counts about to be published: every count becomes the
//! interval of true values its published form admits, the identities are propagated to a fixpoint
//! (interval constraint propagation), and any count narrowed to a single value above 0 has its
//! whole block withheld: the counts of that theme (mentions or concerns) in that period, in every
//! dimension and group, or the group sizes of that period. If a withheld block is itself pinned,
//! the block grows to every period, then to both counts of the theme. A withheld count is published
//! as suppressed, so everything derived from it is null too; a block is recognisable as every cell
//! null, and the attacker's interval for it is 0..∞.

use std::collections::{BTreeMap, BTreeSet};

use super::stats::{DisclosureRule, Published};

const UNBOUNDED: i64 = i64::MAX / 4;

/// The published counts of one dimension in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodCounts {
    /// Records per group.
    pub records: Vec<Published>,
    /// Records mentioning each theme, per group.
    pub mentions: Vec<Vec<Published>>,
    /// Records where each theme is a concern, per group.
    pub concerns: Vec<Vec<Published>>,
    /// Counts withheld against differencing, as (kind, group, theme): kind 0 = the group's
    /// records (theme 0), 1 = mentions, 2 = concerns. Published null like a suppressed count, but
    /// any value (0 included) may lie behind them.
    pub withheld: BTreeSet<(u8, usize, usize)>,
}

/// Periods whose records hold those of other periods: `Σ whole = Σ parts` when `exact`, else
/// `Σ whole ≥ Σ parts` (some of their records are in none of the parts: a change's window, its
/// filters, records without a date, a month the change's date cuts).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PeriodSum {
    /// The periods that hold the others (disjoint).
    pub whole: Vec<usize>,
    /// The periods they hold (disjoint).
    pub parts: Vec<usize>,
    /// Whether the parts add up to the whole exactly.
    pub exact: bool,
}

/// What an attacker knows besides the counts: totals published elsewhere, per period, and
/// which periods hold which.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Identities {
    /// Hidden totals published elsewhere, by period.
    pub known: BTreeMap<usize, KnownTotals>,
    /// Periods made of others (the months make up `all`; a change's sides lie within it).
    pub sums: Vec<PeriodSum>,
    /// The same between periods known only by their totals (`spc`'s weeks, against the months
    /// and a change's sides): identities of the hidden totals, not of the groups' counts.
    pub total_sums: Vec<PeriodSum>,
}

impl Identities {
    /// The identities of `theme_by_group` alone: the run's totals `known` (period 0) and the
    /// months (periods 1..=months) adding up to `all`.
    #[must_use]
    pub(crate) fn months(known: KnownTotals, months: usize) -> Identities {
        Identities {
            known: BTreeMap::from([(0, known)]),
            sums: (months > 0)
                .then(|| PeriodSum { whole: vec![0], parts: (1..=months).collect(), exact: true })
                .into_iter()
                .collect(),
            total_sums: Vec::new(),
        }
    }
}

/// Totals of the whole run published elsewhere (`theme_ranking`: `records_n`, and `raw_n` per
/// theme for mentions and concerns): an attacker holding both tables knows the hidden totals of
/// period `all` to within their rounding, so the guard does too.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KnownTotals {
    /// All records.
    pub records: Option<Published>,
    /// Records per theme.
    pub mentions: Vec<Published>,
    /// Records with the theme as a concern, per theme.
    pub concerns: Vec<Published>,
}

/// One count of the table: (period, dimension, kind, group, theme).
type Cell = (usize, usize, u8, usize, usize);

/// A set of counts (iterated only to mark them, so its order does not matter).
type HashSet<T> = std::collections::HashSet<T, foldhash::fast::FixedState>;

/// Intervals with sum and order identities, tightened to a fixpoint.
#[derive(Debug, Default, Clone)]
struct Lattice {
    lo: Vec<i64>,
    hi: Vec<i64>,
    /// The sums `total = Σ terms`, laid end to end: sum r's terms are
    /// `sum_terms[sum_start[r]..sum_start[r + 1]]` (`sum_start` begins with 0).
    sum_terms: Vec<u32>,
    sum_start: Vec<u32>,
    sum_total: Vec<u32>,
    /// The orders of one group: each theme's concerns ≤ its mentions ≤ the group's records, as
    /// (records, first mentions, first concerns, themes) — the themes' counts lie side by side.
    orders: Vec<(u32, u32, u32, u32)>,
    /// The identities each variable takes part in (identity r < the number of sums is a sum,
    /// else an order): `touching[start[v]..start[v + 1]]`, set by [`Lattice::index`].
    start: Vec<u32>,
    touching: Vec<u32>,
}

/// A variable's index as stored (the lattices here hold far fewer than 2^32 variables).
fn v32(v: usize) -> u32 {
    u32::try_from(v).expect("fewer than 2^32 lattice variables")
}

impl Lattice {
    fn var(&mut self, (lo, hi): (i64, i64)) -> usize {
        self.lo.push(lo);
        self.hi.push(hi);
        self.lo.len() - 1
    }

    fn sums(&self) -> usize {
        self.sum_total.len()
    }

    /// Sum `r`: its terms and its total.
    fn sum(&self, r: usize) -> (&[u32], u32) {
        let (a, b) = (self.sum_start[r] as usize, self.sum_start[r + 1] as usize);
        (&self.sum_terms[a..b], self.sum_total[r])
    }

    /// `total = Σ terms`.
    fn add_sum(&mut self, terms: impl IntoIterator<Item = usize>, total: usize) {
        if self.sum_start.is_empty() {
            self.sum_start.push(0);
        }
        self.sum_terms.extend(terms.into_iter().map(v32));
        self.sum_start.push(v32(self.sum_terms.len()));
        self.sum_total.push(v32(total));
    }

    fn tighten(&mut self, v: usize, lo: i64, hi: i64) -> bool {
        let before = (self.lo[v], self.hi[v]);
        self.lo[v] = self.lo[v].max(lo);
        self.hi[v] = self.hi[v].min(hi);
        // the true counts satisfy every identity, so the interval never empties; guard anyway
        if self.lo[v] > self.hi[v] {
            (self.lo[v], self.hi[v]) = before;
            return false;
        }
        before != (self.lo[v], self.hi[v])
    }

    /// `Σ whole = Σ parts` (`exact`), else `Σ whole = Σ parts + something ≥ 0`; a whole of
    /// several counts is summed into a hidden variable first.
    fn holds(&mut self, whole: &[usize], parts: &[usize], exact: bool) {
        let total = match whole {
            [one] => *one,
            _ => {
                let hidden = self.var((0, UNBOUNDED));
                self.add_sum(whole.iter().copied(), hidden);
                hidden
            }
        };
        let slack = (!exact).then(|| self.var((0, UNBOUNDED)));
        self.add_sum(parts.iter().copied().chain(slack), total);
    }

    /// Lists the identities each variable takes part in, once every identity is added.
    fn index(&mut self) {
        let n_vars = self.lo.len();
        if self.sum_start.is_empty() {
            self.sum_start.push(0);
        }
        let n_sums = self.sums();
        let rules_of = |l: &Lattice, each: &mut dyn FnMut(usize, u32)| {
            for r in 0..n_sums {
                let (terms, total) = l.sum(r);
                for &v in terms.iter().chain(std::iter::once(&total)) {
                    each(v as usize, r as u32);
                }
            }
            for (i, &(rec, men, con, themes)) in l.orders.iter().enumerate() {
                let r = (n_sums + i) as u32;
                each(rec as usize, r);
                for t in 0..themes {
                    each((men + t) as usize, r);
                    each((con + t) as usize, r);
                }
            }
        };
        let mut start = vec![0u32; n_vars + 1];
        rules_of(self, &mut |v, _| start[v + 1] += 1);
        for v in 0..n_vars {
            start[v + 1] += start[v];
        }
        let mut fill = start.clone();
        let mut touching = vec![0u32; start[n_vars] as usize];
        rules_of(self, &mut |v, r| {
            touching[fill[v] as usize] = r;
            fill[v] += 1;
        });
        (self.start, self.touching) = (start, touching);
    }

    /// Propagates the identities to a fixpoint with a worklist: an identity is looked at again
    /// only when one of its counts narrowed. Narrowing is monotone, so the fixpoint is the one a
    /// sweep over every identity until nothing changes reaches, in far fewer steps.
    fn solve(&mut self) {
        // the identities are read while the intervals change: take them out for the loop
        let ids = Lattice {
            sum_terms: std::mem::take(&mut self.sum_terms),
            sum_start: std::mem::take(&mut self.sum_start),
            sum_total: std::mem::take(&mut self.sum_total),
            orders: std::mem::take(&mut self.orders),
            start: std::mem::take(&mut self.start),
            touching: std::mem::take(&mut self.touching),
            ..Lattice::default()
        };
        let n_sums = ids.sums();
        let n_rules = n_sums + ids.orders.len();
        let mut queued = vec![true; n_rules];
        let mut queue: std::collections::VecDeque<usize> = (0..n_rules).collect();
        // as many looks as 1,000 sweeps would take: a bound, never reached on real tables
        let mut budget = n_rules.saturating_mul(1000);
        let mut narrowed: Vec<usize> = Vec::new();
        while let Some(r) = queue.pop_front() {
            queued[r] = false;
            if budget == 0 {
                break;
            }
            budget -= 1;
            if r < n_sums {
                let (terms, total) = ids.sum(r);
                self.apply_sum(terms, total as usize, &mut narrowed);
            } else {
                self.apply_orders(ids.orders[r - n_sums], &mut narrowed);
            }
            for v in narrowed.drain(..) {
                for &other in &ids.touching[ids.start[v] as usize..ids.start[v + 1] as usize] {
                    let other = other as usize;
                    if !queued[other] {
                        queued[other] = true;
                        queue.push_back(other);
                    }
                }
            }
        }
        self.sum_terms = ids.sum_terms;
        self.sum_start = ids.sum_start;
        self.sum_total = ids.sum_total;
        self.orders = ids.orders;
        self.start = ids.start;
        self.touching = ids.touching;
    }

    /// `a ≤ b`: a below b's largest value, b above a's smallest. Pushes the counts it narrowed.
    fn apply_le(&mut self, a: usize, b: usize, narrowed: &mut Vec<usize>) {
        let (bhi, alo) = (self.hi[b], self.lo[a]);
        if self.tighten(a, i64::MIN, bhi) {
            narrowed.push(a);
        }
        if self.tighten(b, alo, i64::MAX) {
            narrowed.push(b);
        }
    }

    /// One group's orders, theme by theme: mentions ≤ records, concerns ≤ mentions.
    fn apply_orders(&mut self, (rec, men, con, themes): (u32, u32, u32, u32), narrowed: &mut Vec<usize>) {
        for t in 0..themes {
            let (m, c) = ((men + t) as usize, (con + t) as usize);
            self.apply_le(m, rec as usize, narrowed);
            self.apply_le(c, m, narrowed);
        }
    }

    /// `total = Σ terms`: the total within the terms' sum, each term within the total less the
    /// others. Pushes the counts it narrowed.
    fn apply_sum(&mut self, terms: &[u32], total: usize, narrowed: &mut Vec<usize>) {
        // the terms' smallest sum, how many are unbounded, the others' largest sum: one pass
        let (mut slo, mut open, mut shi) = (0i64, 0usize, 0i64);
        for &t in terms {
            let (lo, hi) = (self.lo[t as usize], self.hi[t as usize]);
            slo += lo;
            if hi >= UNBOUNDED {
                open += 1;
            } else {
                shi += hi;
            }
        }
        if self.tighten(total, slo, if open > 0 { UNBOUNDED } else { shi }) {
            narrowed.push(total);
        }
        let (tlo, thi) = (self.lo[total], self.hi[total]);
        for &t in terms {
            let t = t as usize;
            let own_open = self.hi[t] >= UNBOUNDED;
            // the others' largest sum, or unbounded
            let others_hi = (open - usize::from(own_open) == 0).then(|| shi - if own_open { 0 } else { self.hi[t] });
            let lo = others_hi.map_or(0, |o| tlo - o);
            let hi = if thi >= UNBOUNDED { UNBOUNDED } else { thi - (slo - self.lo[t]) };
            if self.tighten(t, lo, hi) {
                narrowed.push(t);
            }
        }
    }
}

/// The true counts a published count admits: 0 exactly, 1..=suppress_max when suppressed, the
/// values that round to it otherwise; 0..∞ when withheld.
fn domain(p: Published, rule: &DisclosureRule, withheld: bool) -> (i64, i64) {
    if withheld {
        return (0, UNBOUNDED);
    }
    let max = i64::try_from(rule.suppress_max).unwrap_or(UNBOUNDED);
    let step = i64::try_from(rule.round_to.max(1)).unwrap_or(1);
    match p.value.map(|v| i64::try_from(v).unwrap_or(UNBOUNDED)) {
        None if rule.suppress_zero => (0, max),
        None => (1, max),
        Some(0) if !rule.suppress_zero => (0, 0),
        Some(v) => ((v - step / 2).max(max + 1), v + (step - 1) - step / 2),
    }
}

/// Withholds, in `counts[d][p]` (None: the period is not published), every count that the
/// identities of the table pin; returns how many counts were withheld.
pub(crate) fn withhold(counts: &mut [Vec<Option<PeriodCounts>>], known: &Identities, rule: &DisclosureRule) -> usize {
    let mut withheld: HashSet<Cell> = HashSet::default();
    let mut escalated = Escalated::default();
    // the counts do not change until the end: the identities are built once, solved per round
    let mut guard = Guard::build(counts, known, rule);
    loop {
        let pinned = guard.pinned(&withheld);
        let mut grew = false;
        for c in pinned {
            grew |= escalate(c, counts, &mut withheld, &mut escalated);
        }
        if !grew {
            break;
        }
    }
    let hide = Published::SUPPRESSED;
    for &(p, d, kind, g, t) in &withheld {
        let Some(c) = counts.get_mut(d).and_then(|x| x.get_mut(p)).and_then(Option::as_mut) else { continue };
        match kind {
            0 => c.records[g] = hide,
            1 => c.mentions[g][t] = hide,
            _ => c.concerns[g][t] = hide,
        }
        c.withheld.insert((kind, g, t));
    }
    withheld.len()
}

/// Withholds a pinned count, or more when it is withheld already: the same count in every
/// period, then that count of every group and dimension in the period, then in every period, then
/// both counts (mentions and concerns) of the theme. False when nothing grew (cannot happen: those
/// last have no lower bound to be pinned by).
///
/// `done` remembers the wider steps already taken whole: taken again they add nothing, so they
/// are passed over without inserting their cells again (found in the twentieth session on issue
/// 9: 60 changes over ten years spent 35 s re-inserting every period's cells for each pinned
/// count).
fn escalate(c: Cell, counts: &[Vec<Option<PeriodCounts>>], w: &mut HashSet<Cell>, done: &mut Escalated) -> bool {
    let (p, d, kind, g, t) = c;
    let periods = counts.first().map_or(0, Vec::len);
    // every group of every dimension in period p, for this theme
    let cells_of = |p: usize, kind: u8| {
        counts.iter().enumerate().flat_map(move |(d, dim)| {
            let groups = match dim.get(p) {
                Some(Some(pc)) => pc.records.len(),
                _ => 0,
            };
            (0..groups).map(move |g| (p, d, kind, g, t))
        })
    };
    // each step is built only when the one before withheld nothing new
    let mut add = |cells: &mut dyn Iterator<Item = Cell>| cells.fold(false, |grew, x| w.insert(x) | grew);
    add(&mut std::iter::once(c))
        || (done.every_period.insert((d, kind, g, t)) && add(&mut (0..periods).map(|q| (q, d, kind, g, t))))
        || (done.every_group.insert((p, kind, t)) && add(&mut cells_of(p, kind)))
        || (done.everywhere.insert((kind, t)) && add(&mut (0..periods).flat_map(|q| cells_of(q, kind))))
        || (kind > 0
            && done.everywhere.insert((3 - kind, t))
            && add(&mut (0..periods).flat_map(|q| cells_of(q, 3 - kind))))
}

/// The steps of [`escalate`] past the first already taken, by what they cover.
#[derive(Default)]
struct Escalated {
    /// A count of one group in every period: (dimension, kind, group, theme).
    every_period: HashSet<(usize, u8, usize, usize)>,
    /// A count of every group and dimension in one period: (period, kind, theme).
    every_group: HashSet<(usize, u8, usize)>,
    /// A count of every group and dimension in every period: (kind, theme).
    everywhere: HashSet<(u8, usize)>,
}

/// The counts that the identities pin to one value above 0, `w` withheld.
#[cfg(test)]
fn pinned_cells(
    counts: &[Vec<Option<PeriodCounts>>],
    known: &Identities,
    rule: &DisclosureRule,
    w: &HashSet<Cell>,
) -> Vec<Cell> {
    Guard::build(counts, known, rule).pinned(w)
}

/// Where the counts of one dimension in one period lie among the lattice's variables: the
/// records of group g at `start + g`, the mentions of (g, t) at `start + groups + g·themes + t`,
/// the concerns after the mentions, laid out the same way.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    d: usize,
    p: usize,
    groups: usize,
    themes: usize,
}

impl Block {
    fn var(&self, kind: u8, g: usize, t: usize) -> usize {
        match kind {
            0 => self.start + g,
            1 => self.start + self.groups + g * self.themes + t,
            _ => self.start + self.groups * (1 + self.themes) + g * self.themes + t,
        }
    }

    /// The count variable `v` (within this block) as a cell.
    fn cell(&self, v: usize) -> Cell {
        let i = v - self.start;
        if i < self.groups {
            return (self.p, self.d, 0, i, 0);
        }
        let (j, per) = (i - self.groups, self.groups * self.themes);
        let kind = if j < per { 1 } else { 2 };
        let j = j % per;
        (self.p, self.d, kind, j / self.themes, j % self.themes)
    }

    /// Whether `(kind, g, t)` is one of this block's counts.
    fn holds(&self, kind: u8, g: usize, t: usize) -> bool {
        g < self.groups && if kind == 0 { t == 0 } else { kind <= 2 && t < self.themes }
    }
}

/// The attacker's lattice over the counts about to be published: its first variables are the
/// counts (laid out in `blocks`), the rest the hidden totals.
struct Guard {
    l: Lattice,
    /// The counts' blocks, in the order of their variables.
    blocks: Vec<Block>,
    /// `[d][p]` → the block of that dimension and period in `blocks`.
    block_of: Vec<Vec<Option<usize>>>,
    /// How many variables are counts.
    n_cells: usize,
    /// Each variable's interval when nothing is withheld.
    base_lo: Vec<i64>,
    base_hi: Vec<i64>,
}

impl Guard {
    fn build(counts: &[Vec<Option<PeriodCounts>>], known: &Identities, rule: &DisclosureRule) -> Guard {
        let mut l = Lattice::default();
        let shape = |c: &PeriodCounts| (c.records.len(), c.mentions.first().map_or(0, Vec::len));
        let n_cells: usize = counts.iter().flatten().flatten().map(shape).map(|(g, t)| g * (1 + 2 * t)).sum();
        l.lo.reserve(n_cells);
        l.hi.reserve(n_cells);
        let mut blocks: Vec<Block> = Vec::new();
        let hidden_zero = DisclosureRule { suppress_zero: true, ..*rule };
        let block_of: Vec<Vec<Option<usize>>> = counts
            .iter()
            .enumerate()
            .map(|(d, dim)| {
                dim.iter()
                    .enumerate()
                    .map(|(p, c)| {
                        let c = c.as_ref()?;
                        let (groups, themes) = shape(c);
                        blocks.push(Block { start: l.lo.len(), d, p, groups, themes });
                        for &x in &c.records {
                            l.var(domain(x, rule, false));
                        }
                        // (a row shorter than the first holds no records there: 0 exactly)
                        for m in [&c.mentions, &c.concerns] {
                            for g in 0..groups {
                                // a group of suppressed records has its theme counts suppressed,
                                // its zeros too (`common::publish_period`): 0..=suppress_max
                                let few = c.records.get(g).is_some_and(|r| r.suppressed);
                                for t in 0..themes {
                                    let x = m.get(g).and_then(|row| row.get(t));
                                    l.var(match x {
                                        None => (0, 0),
                                        Some(&x) if few && x.suppressed => domain(x, &hidden_zero, false),
                                        Some(&x) => domain(x, rule, false),
                                    });
                                }
                            }
                        }
                        Some(blocks.len() - 1)
                    })
                    .collect()
            })
            .collect();
        // one hidden total per (period, kind, theme), shared by every dimension
        let mut totals: BTreeMap<(usize, u8, usize), usize> = BTreeMap::new();
        let mut total = |l: &mut Lattice, b: (usize, u8, usize)| {
            *totals.entry(b).or_insert_with(|| {
                let published = known.known.get(&b.0).and_then(|k| match b {
                    (_, 0, _) => k.records,
                    (_, 1, t) => k.mentions.get(t).copied(),
                    (_, _, t) => k.concerns.get(t).copied(),
                });
                l.var(published.map_or((0, UNBOUNDED), |p| domain(p, rule, false)))
            })
        };
        let (mut whole_vars, mut part_vars) = (Vec::new(), Vec::new());
        for per in &block_of {
            for (p, b) in per.iter().enumerate() {
                let Some(b) = b.map(|i| blocks[i]) else { continue };
                let t = total(&mut l, (p, 0, 0));
                l.add_sum((0..b.groups).map(|g| b.var(0, g, 0)), t);
                for th in 0..b.themes {
                    let t = total(&mut l, (p, 1, th));
                    l.add_sum((0..b.groups).map(|g| b.var(1, g, th)), t);
                    let t = total(&mut l, (p, 2, th));
                    l.add_sum((0..b.groups).map(|g| b.var(2, g, th)), t);
                }
                if b.themes > 0 {
                    for g in 0..b.groups {
                        let (rec, men, con) = (b.var(0, g, 0), b.var(1, g, 0), b.var(2, g, 0));
                        l.orders.push((v32(rec), v32(men), v32(con), v32(b.themes)));
                    }
                }
            }
            // periods made of others: the months add up to `all`, a change's sides lie within it
            for sum in &known.sums {
                // a period not published holds no record
                let of = |periods: &[usize]| -> Vec<Block> {
                    periods.iter().filter_map(|&p| per.get(p).copied().flatten()).map(|i| blocks[i]).collect()
                };
                let (whole, parts) = (of(&sum.whole), of(&sum.parts));
                let Some(&shape) = whole.first().or(parts.first()) else { continue };
                // (every period of a dimension has the same groups and themes; a count a period
                // lacked would be unknown to the attacker: 0..∞)
                let mut add = |l: &mut Lattice, kind: u8, g: usize, th: usize| {
                    for (blocks, vars) in [(&whole, &mut whole_vars), (&parts, &mut part_vars)] {
                        vars.clear();
                        for b in blocks {
                            vars.push(if b.holds(kind, g, th) { b.var(kind, g, th) } else { l.var((0, UNBOUNDED)) });
                        }
                    }
                    l.holds(&whole_vars, &part_vars, sum.exact);
                };
                for g in 0..shape.groups {
                    add(&mut l, 0, g, 0);
                    for th in 0..shape.themes {
                        add(&mut l, 1, g, th);
                        add(&mut l, 2, g, th);
                    }
                }
            }
        }
        // periods known by their totals: Σ whole = Σ parts (+ what is in none), per kind and theme
        let n_themes = counts.iter().flatten().flatten().next().and_then(|c| c.mentions.first()).map_or(0, Vec::len);
        for sum in &known.total_sums {
            for (kind, themes) in [(0u8, 1), (1, n_themes), (2, n_themes)] {
                for th in 0..themes {
                    let whole: Vec<usize> = sum.whole.iter().map(|&p| total(&mut l, (p, kind, th))).collect();
                    let parts: Vec<usize> = sum.parts.iter().map(|&p| total(&mut l, (p, kind, th))).collect();
                    l.holds(&whole, &parts, sum.exact);
                }
            }
        }
        l.index();
        let (base_lo, base_hi) = (l.lo.clone(), l.hi.clone());
        Guard { l, blocks, block_of, n_cells, base_lo, base_hi }
    }

    /// The count variable `v` as a cell.
    fn cell(&self, v: usize) -> Cell {
        let i = self.blocks.partition_point(|b| b.start <= v);
        self.blocks[i - 1].cell(v)
    }

    /// The counts pinned to one value above 0 when the counts `w` are withheld (0..∞).
    fn pinned(&mut self, w: &HashSet<Cell>) -> Vec<Cell> {
        let l = &mut self.l;
        l.lo.copy_from_slice(&self.base_lo);
        l.hi.copy_from_slice(&self.base_hi);
        for &(p, d, kind, g, t) in w {
            let Some(b) = self.block_of.get(d).and_then(|per| per.get(p)).copied().flatten() else { continue };
            let b = self.blocks[b];
            if b.holds(kind, g, t) {
                let v = b.var(kind, g, t);
                (l.lo[v], l.hi[v]) = (0, UNBOUNDED);
            }
        }
        let initial: Vec<bool> = (0..self.n_cells).map(|v| l.lo[v] < l.hi[v]).collect();
        l.solve();
        let l = &self.l;
        let mut out: Vec<Cell> = (0..self.n_cells)
            .filter(|&v| initial[v] && l.lo[v] == l.hi[v] && l.lo[v] > 0)
            .map(|v| self.cell(v))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::stats::disclose_count;

    fn pc(records: &[u64], mentions: &[&[u64]]) -> PeriodCounts {
        let rule = DisclosureRule::default();
        let p = |v: u64| disclose_count(v, &rule);
        PeriodCounts {
            records: records.iter().map(|&v| p(v)).collect(),
            mentions: mentions.iter().map(|r| r.iter().map(|&v| p(v)).collect()).collect(),
            concerns: mentions.iter().map(|r| r.iter().map(|_| p(0)).collect()).collect(),
            withheld: BTreeSet::new(),
        }
    }

    #[test]
    fn a_suppressed_count_pinned_by_two_dimensions_is_withheld() {
        // theme 0: 7 mentions. Dimension A: one group of 7 (suppressed) and one of 0; dimension B:
        // seven groups of 1 (each suppressed): at least 7 in total, so A's cell is exactly 7.
        let a = pc(&[100, 100], &[&[7, 20], &[0, 20]]);
        let b = pc(&[25; 8], &[&[1, 5], &[1, 5], &[1, 5], &[1, 5], &[1, 5], &[1, 5], &[1, 5], &[0, 5]]);
        let mut counts = vec![vec![Some(a)], vec![Some(b)]];
        let rule = DisclosureRule::default();
        let pinned = pinned_cells(&counts, &Identities::default(), &rule, &HashSet::default());
        assert!(pinned.contains(&(0, 0, 1, 0, 0)), "the attack works on the raw tables: {pinned:?}");
        let n = withhold(&mut counts, &Identities::default(), &rule);
        assert!(n >= 1);
        let c = counts[0][0].as_ref().unwrap();
        assert_eq!(c.mentions[0][0].value, None, "A's cell of theme 0 is withheld");
        assert!(c.withheld.contains(&(1, 0, 0)));
        assert_eq!(c.mentions[1][0].value, Some(0), "a 0 stays");
        assert_eq!(c.records[0].value, Some(100), "the group sizes stay");
        assert_eq!(c.mentions[0][1].value, Some(20), "other themes stay");
    }

    #[test]
    fn large_counts_are_left_alone() {
        let a = pc(&[400, 600], &[&[100, 20], &[150, 35]]);
        let b = pc(&[500, 500], &[&[120, 25], &[130, 30]]);
        let mut counts = vec![vec![Some(a.clone())], vec![Some(b.clone())]];
        let known = Identities::default();
        assert_eq!(withhold(&mut counts, &known, &DisclosureRule::default()), 0);
        assert!(pinned_cells(&counts, &known, &DisclosureRule::default(), &HashSet::default()).is_empty());
        assert_eq!(counts, vec![vec![Some(a)], vec![Some(b)]]);
    }

    /// With nothing withheld, every count's interval (after the identities are propagated) holds
    /// its true value `truth[d][p][g]` (`[records, mentions of theme 0, …]`): the identities are true.
    fn assert_truth_within(
        counts: &[Vec<Option<PeriodCounts>>],
        identities: &Identities,
        truth: &[Vec<Vec<Vec<u64>>>],
    ) {
        let mut guard = Guard::build(counts, identities, &DisclosureRule::default());
        let _ = guard.pinned(&HashSet::default());
        for (v, (p, d, kind, g, t)) in (0..guard.n_cells).map(|v| (v, guard.cell(v))) {
            let value = i64::try_from(truth[d][p][g][if kind == 0 { 0 } else { 1 + t }]).unwrap_or(0);
            if kind < 2 {
                assert!(guard.l.lo[v] <= value && value <= guard.l.hi[v], "count {:?} = {value}", (p, d, kind, g, t));
            }
        }
    }

    /// The counts the guard withheld, as cells.
    fn withheld_cells(counts: &[Vec<Option<PeriodCounts>>]) -> HashSet<Cell> {
        counts
            .iter()
            .enumerate()
            .flat_map(|(d, per)| per.iter().enumerate().map(move |(p, c)| (d, p, c)))
            .filter_map(|(d, p, c)| Some(c.as_ref()?.withheld.iter().map(move |&(k, g, t)| (p, d, k, g, t))))
            .flatten()
            .collect()
    }

    /// Numbers below `n`, from a xorshift generator seeded with `state` (the same every run).
    fn xorshift(mut state: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        }
    }

    /// Small random tables of records with a day, a group per dimension and themes: periods
    /// `all`, three months of 30 days, and the two sides of a change at a random day (with or
    /// without a window), as `comparisons` publishes them beside `theme_by_group`. Returns the
    /// true counts and the published ones, and the identities that hold between the periods.
    #[allow(clippy::type_complexity)]
    fn change_tables(
        next: &mut dyn FnMut(u64) -> u64,
    ) -> (Vec<Vec<Vec<Vec<u64>>>>, Vec<Vec<Option<PeriodCounts>>>, Identities, Vec<(u64, Vec<usize>, Vec<bool>)>) {
        let (dims, themes) = (1 + next(2) as usize, 1 + next(2) as usize);
        let groups: Vec<usize> = (0..dims).map(|_| 1 + next(3) as usize).collect();
        let change = 1 + next(89);
        let window = (next(2) == 0).then(|| 1 + next(40));
        let side = |day: u64| match window {
            Some(w) if day + w < change || day >= change + w => None,
            _ => Some(if day < change { 4 } else { 5 }),
        };
        let records: Vec<(u64, Vec<usize>, Vec<bool>)> = (0..next(60))
            .map(|_| {
                let day = next(90);
                (
                    day,
                    groups.iter().map(|&g| next(g as u64) as usize).collect(),
                    (0..themes).map(|_| next(3) == 0).collect(),
                )
            })
            .collect();
        // truth[d][p][g] = [records, mentions of theme 0, …]
        let truth: Vec<Vec<Vec<Vec<u64>>>> = (0..dims)
            .map(|d| {
                (0..6)
                    .map(|p| {
                        let mut n = vec![vec![0u64; 1 + themes]; groups[d]];
                        for (day, group, mentions) in &records {
                            let month = 1 + (*day / 30) as usize;
                            if p == 0 || p == month || Some(p) == side(*day) {
                                n[group[d]][0] += 1;
                                for (t, &hit) in mentions.iter().enumerate() {
                                    n[group[d]][1 + t] += u64::from(hit);
                                }
                            }
                        }
                        n
                    })
                    .collect()
            })
            .collect();
        let counts = truth
            .iter()
            .map(|per| {
                per.iter()
                    .map(|n| {
                        let rows: Vec<&[u64]> = n.iter().map(|r| &r[1..]).collect();
                        Some(pc(&n.iter().map(|r| r[0]).collect::<Vec<_>>(), &rows))
                    })
                    .collect()
            })
            .collect();
        let mut identities = Identities::months(KnownTotals::default(), 3);
        identities.sums.push(PeriodSum { whole: vec![0], parts: vec![4, 5], exact: window.is_none() });
        // each side lies within the months it meets, and holds the months wholly inside it
        for p in [4, 5] {
            let days: Vec<u64> = (0..90).filter(|&d| side(d) == Some(p)).collect();
            let months = |f: &dyn Fn(u64) -> bool| -> Vec<usize> {
                (1..=3).filter(|&m| (0..30).map(|i| (m as u64 - 1) * 30 + i).any(f)).collect()
            };
            let met = months(&|d| days.contains(&d));
            let inside: Vec<usize> =
                (1..=3).filter(|&m| (0..30).all(|i| days.contains(&((m as u64 - 1) * 30 + i)))).collect();
            identities.sums.push(PeriodSum { whole: met.clone(), parts: vec![p], exact: met == inside });
            identities.sums.push(PeriodSum { whole: vec![p], parts: inside.clone(), exact: met == inside });
        }
        (truth, counts, identities, records)
    }

    #[test]
    fn a_change_s_sides_and_the_months_can_pin_a_count_and_the_guard_withholds_it() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let rule = DisclosureRule::default();
        let (mut only_with_sides, mut withheld_somewhere) = (0, 0);
        for _ in 0..300 {
            let (truth, mut counts, identities, _) = change_tables(&mut next);
            // the identities are true: with nothing withheld, every count's interval holds its value
            assert_truth_within(&counts, &identities, &truth);
            // the attacker who sets the sides against the months pins counts the months alone do not
            let months_only = Identities { sums: identities.sums[..1].to_vec(), ..identities.clone() };
            let alone = pinned_cells(&counts, &months_only, &rule, &HashSet::default());
            let with_sides = pinned_cells(&counts, &identities, &rule, &HashSet::default());
            only_with_sides += usize::from(with_sides.iter().any(|c| !alone.contains(c)));
            // and once the guard has run, nothing is pinned any more
            withheld_somewhere += usize::from(withhold(&mut counts, &identities, &rule) > 0);
            assert!(pinned_cells(&counts, &identities, &rule, &withheld_cells(&counts)).is_empty());
        }
        assert!(only_with_sides > 0, "the sides must add to what an attacker knows");
        assert!(withheld_somewhere > only_with_sides);
    }

    /// The steps `escalate` remembers having taken are passed over without changing what it
    /// withholds: counts escalated again and again (each time a step wider, up to both counts of
    /// the theme everywhere), in random order over tables of several dimensions, periods, groups
    /// and themes, withhold the same cells and say the same "grew" as escalating with no memory
    /// (each step walked from the first, every cell inserted again).
    #[test]
    fn escalating_with_a_memory_of_the_steps_taken_withholds_what_escalating_afresh_does() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut deepest = 0;
        for _ in 0..50 {
            let (dims, periods, themes) = (1 + next(3) as usize, 1 + next(5) as usize, 1 + next(3) as usize);
            let counts: Vec<Vec<Option<PeriodCounts>>> = (0..dims)
                .map(|_| {
                    let groups = 1 + next(4) as usize;
                    (0..periods)
                        .map(|_| {
                            (next(5) > 0).then(|| {
                                let rows: Vec<Vec<u64>> =
                                    (0..groups).map(|_| (0..themes).map(|_| next(9)).collect()).collect();
                                let rows: Vec<&[u64]> = rows.iter().map(Vec::as_slice).collect();
                                pc(&vec![20; groups], &rows)
                            })
                        })
                        .collect()
                })
                .collect();
            let (mut remembered, mut afresh) = (HashSet::default(), HashSet::default());
            let mut escalated = Escalated::default();
            for step in 0..400 {
                // (a few cells, so that each is escalated many times; some outside the table)
                let c = (
                    next(periods as u64) as usize,
                    next(dims as u64) as usize,
                    next(3) as u8,
                    next(3) as usize,
                    next(themes as u64) as usize,
                );
                let grew = escalate(c, &counts, &mut remembered, &mut escalated);
                assert_eq!(grew, escalate(c, &counts, &mut afresh, &mut Escalated::default()), "step {step}");
                assert_eq!(remembered, afresh, "step {step}");
                if !grew {
                    deepest += 1;
                }
            }
        }
        // (every step of some cell was taken: escalating it again grows nothing)
        assert!(deepest > 0);
    }

    /// `spc`'s weekly totals, known to an attacker and set against the months and the change's
    /// sides (as `who` sets them), pin counts the months alone do not; the identities hold the
    /// true counts, and once the guard has run nothing is pinned.
    #[test]
    fn weekly_totals_set_against_the_months_can_pin_a_count_and_the_guard_withholds_it() {
        use crate::analyse::comparisons::{containment, Span};
        let mut next = xorshift(0x853c_49e6_748f_ea9b);
        let rule = DisclosureRule::default();
        let day =
            |d: u64| chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date") + chrono::Duration::days(d as i64);
        let p = |v: u64| crate::analyse::stats::disclose_count(v, &rule);
        let mut only_with_weeks = 0;
        for _ in 0..300 {
            let (truth, mut counts, mut identities, records) = change_tables(&mut next);
            let themes = records.first().map_or(0, |r| r.2.len());
            let n_in = |f: &dyn Fn(u64) -> bool| records.iter().filter(|r| f(r.0)).count() as i64;
            let weeks: Vec<Span> = (0..13u64)
                .map(|w| {
                    let (first, last) = (7 * w, (7 * w + 6).min(89));
                    let hits = |t: usize| records.iter().filter(|r| r.0 / 7 == w && r.2[t]).count() as u64;
                    identities.known.insert(
                        6 + w as usize,
                        KnownTotals {
                            records: Some(p(n_in(&|d| d / 7 == w) as u64)),
                            mentions: (0..themes).map(|t| p(hits(t))).collect(),
                            concerns: vec![p(0); themes],
                        },
                    );
                    Span { period: 6 + w as usize, first: day(first), last: day(last), n: n_in(&|d| d / 7 == w) }
                })
                .collect();
            let months_only = identities.clone();
            for m in 0..3u64 {
                let month = Span {
                    period: 1 + m as usize,
                    first: day(30 * m),
                    last: day(30 * m + 29),
                    n: n_in(&|d| d / 30 == m),
                };
                identities.total_sums.extend(containment(&weeks, &month, false));
            }
            // the truth holds in every interval
            assert_truth_within(&counts, &identities, &truth);
            let alone = pinned_cells(&counts, &months_only, &rule, &HashSet::default());
            let with_weeks = pinned_cells(&counts, &identities, &rule, &HashSet::default());
            only_with_weeks += usize::from(with_weeks.iter().any(|c| !alone.contains(c)));
            withhold(&mut counts, &identities, &rule);
            assert!(pinned_cells(&counts, &identities, &rule, &withheld_cells(&counts)).is_empty());
        }
        assert!(only_with_weeks > 0, "the weeks must add to what an attacker knows");
    }

    /// The fixpoint as the guard first computed it: every identity, swept until nothing changes.
    fn sweep(l: &mut Lattice) {
        let ids = l.clone();
        loop {
            let mut narrowed = Vec::new();
            for r in 0..ids.sums() {
                let (terms, total) = ids.sum(r);
                l.apply_sum(terms, total as usize, &mut narrowed);
            }
            // each order on its own, as pairs a ≤ b
            let pairs = ids.orders.iter().flat_map(|&(rec, men, con, themes)| {
                (0..themes).flat_map(move |t| [(men + t, rec), (con + t, men + t)])
            });
            for (a, b) in pairs {
                let (a, b) = (a as usize, b as usize);
                let (bhi, alo) = (l.hi[b], l.lo[a]);
                if l.tighten(a, i64::MIN, bhi) | l.tighten(b, alo, i64::MAX) {
                    narrowed.push(a);
                }
            }
            if narrowed.is_empty() {
                break;
            }
        }
    }

    #[test]
    fn the_worklist_reaches_the_fixpoint_a_full_sweep_reaches() {
        // small random tables (many suppressed counts, so the identities have work to do)
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut narrowed_somewhere = 0;
        for _ in 0..200 {
            // records with a month, a group in each dimension and the themes they mention, so
            // that the tables are consistent as real ones are (months add up to `all`, every
            // dimension splits the same records)
            let (dims, months, themes) = (1 + next(3) as usize, 1 + next(3) as usize, 1 + next(3) as usize);
            let groups: Vec<usize> = (0..dims).map(|_| 1 + next(4) as usize).collect();
            let records: Vec<(usize, Vec<usize>, Vec<bool>)> = (0..next(80))
                .map(|_| {
                    let month = 1 + next(months as u64) as usize;
                    let group = groups.iter().map(|&g| next(g as u64) as usize).collect();
                    (month, group, (0..themes).map(|_| next(3) == 0).collect())
                })
                .collect();
            let counts: Vec<Vec<Option<PeriodCounts>>> = (0..dims)
                .map(|d| {
                    (0..=months)
                        .map(|p| {
                            let mut n = vec![0u64; groups[d]];
                            let mut m = vec![vec![0u64; themes]; groups[d]];
                            for (month, group, mentions) in &records {
                                if p == 0 || p == *month {
                                    n[group[d]] += 1;
                                    for (t, &hit) in mentions.iter().enumerate() {
                                        m[group[d]][t] += u64::from(hit);
                                    }
                                }
                            }
                            let rows: Vec<&[u64]> = m.iter().map(Vec::as_slice).collect();
                            Some(pc(&n, &rows))
                        })
                        .collect()
                })
                .collect();
            let mut guard =
                Guard::build(&counts, &Identities::months(KnownTotals::default(), months), &DisclosureRule::default());
            let mut reference = guard.l.clone();
            sweep(&mut reference);
            let before = guard.l.lo.clone();
            guard.l.solve();
            assert_eq!((&guard.l.lo, &guard.l.hi), (&reference.lo, &reference.hi));
            narrowed_somewhere += usize::from(before != guard.l.lo);
        }
        assert!(narrowed_somewhere > 20, "the cases exercise the identities: {narrowed_somewhere}");
    }
}
