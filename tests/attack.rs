//! Disclosure that cannot be undone (issue 8, deliverable 9): the attacker.
//!
//! The demo pipeline is run into a temporary folder and each published aggregate table is read
//! back on its own, as someone holding only that file would. The attacker knows the disclosure rule
//! (from the manifest): a published count v admits every true count that rounds to v (v ± 2 for
//! rounding to 5, never below suppress_max + 1), 0 is exact and a null count is 1..=suppress_max.
//!
//! 1. **Ratios.** For every rate, share, ratio and Wilson bound it searches the true numerators and
//!    denominators that the rounding admits and keeps those that reproduce the figure to 1e-12. A
//!    figure that the published counts themselves reproduce tells nothing beyond them (it may have
//!    been computed from them); otherwise, when a single candidate survives where the rounding
//!    admits several, the count is pinned. Any figure left beside a suppressed count leaks too.
//! 2. **Figures of many counts** (lift and its interval, log-odds z, chi-square, CV and its
//!    contributions, weighted prevalence and its interval, effective n, ranks) are recomputed here,
//!    independently of the tool, from the published counts alone; a figure that does not match
//!    carries information the counts do not, and fails.
//! 3. **Differencing.** Every published count becomes an interval and every identity the attacker
//!    knows becomes a constraint: the groups of each dimension add up to the same total in every
//!    dimension (records, mentions and concerns per theme; respondents with `n_missing`), the
//!    eligible respondents are the covered groups, the months add up to `all` (records) or cover
//!    it (respondents: a person counts in each month they wrote in), a theme's records are
//!    within its group's. A count listed in `withheld` may be anything. The intervals are tightened
//!    to a fixpoint; a count narrowed to one value above 0 where the rounding admitted several (a
//!    suppressed count recovered as a total minus the others) fails.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::util::{manifest, project, unheard};
use crate::who::read;

type Table = HashMap<String, ArrayRef>;
const Z: f64 = 1.959_963_984_540_054;
const ABSENT: [&str; 3] = ["missing", "not_stated", "unmapped"];

fn col_i64(t: &Table, c: &str) -> Option<Vec<Option<i64>>> {
    let a = t.get(c)?;
    if a.data_type() != &DataType::Int64 {
        return None;
    }
    let a = a.as_primitive::<Int64Type>();
    Some((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect())
}

fn col_f64(t: &Table, c: &str) -> Vec<Option<f64>> {
    let a = t[c].as_primitive::<Float64Type>();
    (0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))).collect()
}

fn col_str(t: &Table, c: &str) -> Vec<String> {
    let a = t[c].as_string::<i32>();
    (0..a.len()).map(|i| a.value(i).to_owned()).collect()
}

/// The disclosure rule as published in the manifest.
#[derive(Clone, Copy)]
struct Rule {
    max: i64,
    step: i64,
}

impl Rule {
    /// The true counts a published value admits (rounding half up, as NHS Digital's rule).
    fn domain(self, v: Option<i64>) -> (i64, i64) {
        match v {
            None => (1, self.max),
            Some(0) => (0, 0),
            Some(v) => ((v - self.step / 2).max(self.max + 1), v + (self.step - 1) - self.step / 2),
        }
    }
}

fn same(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

fn wilson(x: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 || x < 0.0 || x > n {
        return None;
    }
    let z2 = Z * Z;
    let centre = (x + z2 / 2.0) / (n + z2);
    let half = Z / (n + z2) * (x * (n - x) / n + z2 / 4.0).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Lift of a/n_g against the pooled rate, with the Katz interval of a/n_g vs b/n_r mapped to it.
fn lift(a: f64, ng: f64, b: f64, nr: f64) -> Option<(Option<f64>, f64, f64)> {
    if ng <= 0.0 || nr <= 0.0 || a > ng || b > nr {
        return None;
    }
    let add = if a == 0.0 || b == 0.0 { 0.5 } else { 0.0 };
    let (a1, m1, a2, m2) = (a + add, ng + add, b + add, nr + add);
    let log_rr = ((a1 / m1) / (a2 / m2)).ln();
    let se = (1.0 / a1 - 1.0 / m1 + 1.0 / a2 - 1.0 / m2).max(0.0).sqrt();
    let s = ng / (ng + nr);
    let map = |rr: f64| rr / (s * rr + 1.0 - s);
    let point = (a + b > 0.0).then(|| (a / ng) / ((a + b) / (ng + nr)));
    Some((point, map((log_rr - Z * se).exp()), map((log_rr + Z * se).exp())))
}

/// Weighted log-odds z with the informative Dirichlet prior α_w = α0·(pooled share of w).
fn log_odds_z(g: &[f64], r: &[f64], alpha0: f64) -> Vec<Option<f64>> {
    let (ng, nr) = (g.iter().sum::<f64>(), r.iter().sum::<f64>());
    if ng + nr <= 0.0 {
        return vec![None; g.len()];
    }
    g.iter()
        .zip(r)
        .map(|(&y, &q)| {
            let a = alpha0 * (y + q) / (ng + nr);
            let delta = ((y + a) / (ng + alpha0 - y - a)).ln() - ((q + a) / (nr + alpha0 - q - a)).ln();
            let z = delta / (1.0 / (y + a) + 1.0 / (q + a)).sqrt();
            z.is_finite().then_some(z)
        })
        .collect()
}

/// What the attack found.
#[derive(Default)]
struct Findings {
    /// (table, count column, cell key) of counts pinned by a figure.
    pinned: BTreeMap<(String, String, String), i64>,
    /// Published rounded cells attacked, per table.
    rounded_cells: BTreeMap<String, std::collections::BTreeSet<(String, String)>>,
    /// Figures not explained by the published counts (table.column → how many).
    unexplained: BTreeMap<String, usize>,
    /// Figures published beside a suppressed count.
    beside_suppressed: BTreeMap<String, usize>,
    /// Counts recovered by differencing: (table, cell) → (published, recovered).
    differenced: Vec<String>,
    /// Suppressed counts narrowed by differencing (not to one value).
    narrowed: usize,
    /// A first example of each kind, for the message.
    examples: Vec<String>,
}

impl Findings {
    fn example(&mut self, s: String) {
        if self.examples.len() < 12 {
            self.examples.push(s);
        }
    }

    fn unexplained(&mut self, what: &str, detail: String) {
        let n = self.unexplained.entry(what.to_owned()).or_default();
        *n += 1;
        if *n == 1 {
            self.example(format!("{what} not computed from the published counts: {detail}"));
        }
    }

    fn beside_suppressed(&mut self, what: &str, detail: String) {
        let n = self.beside_suppressed.entry(what.to_owned()).or_default();
        *n += 1;
        if *n == 1 {
            self.example(format!("{what} published beside a suppressed count: {detail}"));
        }
    }

    fn clean(&self) -> bool {
        self.pinned.is_empty()
            && self.unexplained.is_empty()
            && self.beside_suppressed.is_empty()
            && self.differenced.is_empty()
    }
}

/// One ratio figure of two counts: `f(numerator, denominator)`.
struct Ratio<'a> {
    table: &'a str,
    figure: &'a str,
    num: (&'a str, String, Option<i64>),
    den: (&'a str, String, Option<i64>),
    value: Option<f64>,
    f: &'a dyn Fn(f64, f64) -> Option<f64>,
}

/// Attack 1 on one figure.
fn attack_ratio(rule: Rule, r: &Ratio<'_>, out: &mut Findings) {
    let Some(value) = r.value else { return };
    let what = format!("{}.{}", r.table, r.figure);
    let (Some(vn), Some(vd)) = (r.num.2, r.den.2) else {
        out.beside_suppressed(&what, format!("{} = {value}", r.num.1));
        return;
    };
    if (r.f)(vn as f64, vd as f64).is_some_and(|x| same(x, value, 1e-12)) {
        return; // the published counts reproduce it: it says nothing more than they do
    }
    out.unexplained(&what, format!("{} = {value} with counts {vn}/{vd}", r.num.1));
    let ((nlo, nhi), (dlo, dhi)) = (rule.domain(r.num.2), rule.domain(r.den.2));
    let mut xs = Vec::new();
    let mut ns = Vec::new();
    for n in dlo.max(1)..=dhi {
        for x in nlo..=nhi.min(n) {
            if (r.f)(x as f64, n as f64).is_some_and(|y| same(y, value, 1e-12)) {
                xs.push(x);
                ns.push(n);
            }
        }
    }
    xs.dedup();
    ns.sort_unstable();
    ns.dedup();
    for ((col, key, _), found, (lo, hi)) in [(&r.num, &xs, (nlo, nhi)), (&r.den, &ns, (dlo, dhi))] {
        if found.len() == 1 && hi > lo {
            out.pinned.insert((r.table.to_owned(), (*col).to_owned(), key.clone()), found[0]);
        }
    }
}

/// Interval constraint propagation over the identities an attacker knows (attack 3).
#[derive(Default)]
struct Lattice {
    lo: Vec<i64>,
    hi: Vec<i64>,
    /// Per variable: (table, cell) when it is a published count.
    name: Vec<Option<(String, String)>>,
    /// Σ terms = total.
    sums: Vec<(Vec<usize>, usize)>,
    /// a ≤ b.
    le: Vec<(usize, usize)>,
}

const UNBOUNDED: i64 = i64::MAX / 4;

impl Lattice {
    fn var(&mut self, (lo, hi): (i64, i64), name: Option<(String, String)>) -> usize {
        self.lo.push(lo);
        self.hi.push(hi);
        self.name.push(name);
        self.lo.len() - 1
    }

    fn hidden(&mut self) -> usize {
        self.var((0, UNBOUNDED), None)
    }

    fn tighten(&mut self, v: usize, lo: i64, hi: i64) -> bool {
        let mut changed = false;
        if lo > self.lo[v] {
            self.lo[v] = lo;
            changed = true;
        }
        if hi < self.hi[v] {
            self.hi[v] = hi;
            changed = true;
        }
        assert!(self.lo[v] <= self.hi[v], "the attacker's identities contradict the table at {:?}", self.name[v]);
        changed
    }

    fn solve(&mut self) {
        for _ in 0..200 {
            let mut changed = false;
            for i in 0..self.sums.len() {
                let total = self.sums[i].1;
                let terms = &self.sums[i].0;
                let slo: i64 = terms.iter().map(|&t| self.lo[t]).sum();
                let open = terms.iter().filter(|&&t| self.hi[t] >= UNBOUNDED).count();
                let shi: i64 = terms.iter().map(|&t| self.hi[t]).filter(|&h| h < UNBOUNDED).sum();
                changed |= self.tighten(total, slo, if open > 0 { UNBOUNDED } else { shi });
                let (tlo, thi) = (self.lo[total], self.hi[total]);
                for k in 0..self.sums[i].0.len() {
                    let t = self.sums[i].0[k];
                    let own_open = usize::from(self.hi[t] >= UNBOUNDED);
                    // the others' largest sum, or unbounded
                    let others_hi = (open - own_open == 0).then(|| shi - if own_open == 1 { 0 } else { self.hi[t] });
                    let lo = others_hi.map_or(0, |o| tlo - o);
                    let hi = if thi >= UNBOUNDED { UNBOUNDED } else { thi - (slo - self.lo[t]) };
                    changed |= self.tighten(t, lo, hi);
                }
            }
            for i in 0..self.le.len() {
                let (a, b) = self.le[i];
                let (ahi, blo) = (self.hi[b], self.lo[a]);
                changed |= self.tighten(a, i64::MIN, ahi);
                changed |= self.tighten(b, blo, i64::MAX);
            }
            if !changed {
                return;
            }
        }
    }
}

/// Attack 3's verdict on the published variables.
impl Lattice {
    /// The counts of period `all` and of the months, cell by cell: entries are (the count's name
    /// without its period, whether the period is `all`, its variable).
    fn by_cell(entries: impl Iterator<Item = (String, bool, usize)>) -> Vec<(usize, Vec<usize>)> {
        let mut months: BTreeMap<String, (Option<usize>, Vec<usize>)> = BTreeMap::new();
        for (key, is_all, v) in entries {
            let e = months.entry(key).or_default();
            if is_all {
                e.0 = Some(v);
            } else {
                e.1.push(v);
            }
        }
        months.into_values().filter_map(|(all, parts)| Some((all?, parts))).collect()
    }

    /// Respondents: a person counts once in `all` (in the group of the record met first) and once
    /// in each month they wrote in (in that month's first record's group), so each cell's months
    /// add up to its `all` or more. Equality held only while a respondent counted in the month of
    /// their first record alone; a person whose answers fall in two months makes it false, and a
    /// month may even exceed `all` in a group when one response's rows carry different groups:
    /// the attacker's identities must hold for the true counts.
    fn months_cover(&mut self, entries: impl Iterator<Item = (String, bool, usize)>) {
        for (all, parts) in Lattice::by_cell(entries) {
            let sum = self.hidden();
            self.sums.push((parts, sum));
            self.le.push((all, sum));
        }
    }

    /// Records: each count of period `all` is the sum of the same count over the months.
    fn months_add_up(&mut self, entries: impl Iterator<Item = (String, bool, usize)>) {
        for (all, parts) in Lattice::by_cell(entries) {
            self.sums.push((parts, all));
        }
    }
}

fn differencing_verdict(l: &Lattice, initial: &[(i64, i64)], out: &mut Findings) {
    for (v, name) in l.name.iter().enumerate() {
        let Some((table, cell)) = name else { continue };
        let (lo0, hi0) = initial[v];
        // a withheld count recovered as 0 is no disclosure: 0 is published as 0
        if hi0 > lo0 && l.lo[v] == l.hi[v] && l.lo[v] > 0 {
            out.differenced.push(format!("{table} {cell}: admitted {lo0}..={hi0}, recovered {}", l.lo[v]));
        } else if lo0 >= 1 && hi0 <= 7 && (l.lo[v], l.hi[v]) != (lo0, hi0) {
            out.narrowed += 1;
        }
    }
}

/// `theme_by_group`, with the run's totals that `theme_ranking` publishes (`records_n`, `raw_n`)
/// as the hidden totals of period `all`: an attacker may hold both files.
fn theme_by_group(t: &Table, ranking: &Table, rule: Rule, alpha0: f64, out: &mut Findings) {
    let (period, dim, group, theme) =
        (col_str(t, "period"), col_str(t, "dimension"), col_str(t, "group_name"), col_str(t, "theme_code"));
    let (gn, tn, cn) =
        (col_i64(t, "group_n").unwrap(), col_i64(t, "theme_n").unwrap(), col_i64(t, "concern_n").unwrap());
    let (rate, rate_low, rate_high, concern_rate) =
        (col_f64(t, "rate"), col_f64(t, "rate_low"), col_f64(t, "rate_high"), col_f64(t, "concern_rate"));
    let (lift_p, lift_lo, lift_hi, zs) =
        (col_f64(t, "lift"), col_f64(t, "lift_low"), col_f64(t, "lift_high"), col_f64(t, "log_odds_z"));
    let rows = period.len();
    let gkey = |i: usize| format!("{}/{}/{}", period[i], dim[i], group[i]);
    let tkey = |i: usize| format!("{}/{}/{}/{}", period[i], dim[i], group[i], theme[i]);
    let cells = out.rounded_cells.entry("theme_by_group".to_owned()).or_default();
    for i in 0..rows {
        for (c, v, k) in [("group_n", gn[i], gkey(i)), ("theme_n", tn[i], tkey(i)), ("concern_n", cn[i], tkey(i))] {
            if v.is_some_and(|v| v > 0) {
                cells.insert((c.to_owned(), k));
            }
        }
    }
    // attack 1
    let share = |x: f64, n: f64| (n > 0.0).then(|| x / n);
    let low = |x: f64, n: f64| wilson(x, n).map(|w| w.0);
    let high = |x: f64, n: f64| wilson(x, n).map(|w| w.1);
    for i in 0..rows {
        let den = ("group_n", gkey(i), gn[i]);
        for (figure, num, value, f) in [
            ("rate", ("theme_n", tkey(i), tn[i]), rate[i], &share as &dyn Fn(f64, f64) -> Option<f64>),
            ("rate_low", ("theme_n", tkey(i), tn[i]), rate_low[i], &low),
            ("rate_high", ("theme_n", tkey(i), tn[i]), rate_high[i], &high),
            ("concern_rate", ("concern_n", tkey(i), cn[i]), concern_rate[i], &share),
        ] {
            let r = Ratio { table: "theme_by_group", figure, num, den: den.clone(), value, f };
            attack_ratio(rule, &r, out);
        }
    }
    // attack 2: lift and z of each stated group against the rest of the stated groups, from the
    // published counts (a suppressed cell is left out of the rest)
    let mut by: BTreeMap<(&str, &str), BTreeMap<&str, BTreeMap<&str, usize>>> = BTreeMap::new();
    for i in 0..rows {
        by.entry((&period[i], &dim[i])).or_default().entry(&group[i]).or_default().insert(&theme[i], i);
    }
    for ((p, d), groups) in &by {
        let stated: Vec<(&str, &BTreeMap<&str, usize>)> =
            groups.iter().filter(|(g, _)| !ABSENT.contains(g)).map(|(g, m)| (*g, m)).collect();
        for (g, themes) in groups {
            let absent = ABSENT.contains(g);
            let codes: Vec<&str> = themes.keys().copied().collect();
            let mut yg = Vec::new();
            let mut yr = Vec::new();
            let mut rest_n = Vec::new();
            for code in &codes {
                let i = themes[code];
                yg.push(tn[i].unwrap_or(0) as f64);
                let (mut b, mut nr) = (0i64, 0i64);
                for (h, cells) in &stated {
                    if h == g {
                        continue;
                    }
                    let j = cells[code];
                    if let (Some(x), Some(n)) = (tn[j], gn[j]) {
                        b += x;
                        nr += n;
                    }
                }
                yr.push(b as f64);
                rest_n.push(nr as f64);
            }
            let z = log_odds_z(&yg, &yr, alpha0);
            for (k, code) in codes.iter().enumerate() {
                let i = themes[code];
                let published = [lift_p[i], lift_lo[i], lift_hi[i], zs[i]];
                if published.iter().all(Option::is_none) {
                    continue;
                }
                let what = |c: &str| format!("theme_by_group.{c}");
                let (Some(a), Some(ng)) = (tn[i], gn[i]) else {
                    out.beside_suppressed(&what("lift/log_odds_z"), format!("{p} {d} {g} {code}"));
                    continue;
                };
                if absent {
                    out.unexplained(&what("lift/log_odds_z"), format!("{p} {d} {g} is not a stated group"));
                    continue;
                }
                let l = lift(a as f64, ng as f64, yr[k], rest_n[k]);
                let want = [l.and_then(|l| l.0), l.map(|l| l.1), l.map(|l| l.2), z[k]];
                for ((c, got), want) in ["lift", "lift_low", "lift_high", "log_odds_z"].iter().zip(published).zip(want)
                {
                    if let Some(got) = got {
                        if !want.is_some_and(|w| same(w, got, 1e-9)) {
                            out.unexplained(&what(c), format!("{p} {d} {g} {code}: {got} (from the counts: {want:?})"));
                        }
                    }
                }
            }
        }
    }
    // attack 3. A count the row lists in `withheld` may be any value, 0 included.
    let withheld_col: Vec<Option<String>> = match t.get("withheld") {
        Some(a) => {
            let a = a.as_string::<i32>();
            (0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i).to_owned())).collect()
        }
        None => vec![None; rows],
    };
    let n_withheld: usize = withheld_col.iter().flatten().map(|w| w.split(',').count()).sum();
    eprintln!("theme_by_group: {n_withheld} counts withheld against differencing");
    let mut l = Lattice::default();
    let mut ids: HashMap<(String, String), usize> = HashMap::new();
    let mut var = |l: &mut Lattice, c: &str, key: String, v: Option<i64>, i: usize| {
        let withheld = withheld_col[i].as_ref().is_some_and(|w| w.split(',').any(|x| x == c));
        assert!(!withheld || v.is_none(), "a withheld count is null");
        // a theme count of a group whose records are suppressed is suppressed, 0 too
        let hidden_zero = c != "group_n" && gn[i].is_none() && v.is_none();
        let d = if withheld {
            (0, UNBOUNDED)
        } else if hidden_zero {
            (0, rule.max)
        } else {
            rule.domain(v)
        };
        *ids.entry((c.to_owned(), key.clone()))
            .or_insert_with(|| l.var(d, Some(("theme_by_group".to_owned(), format!("{c} {key}")))))
    };
    let mut cell = Vec::with_capacity(rows);
    for i in 0..rows {
        let g = var(&mut l, "group_n", gkey(i), gn[i], i);
        let m = var(&mut l, "theme_n", tkey(i), tn[i], i);
        let c = var(&mut l, "concern_n", tkey(i), cn[i], i);
        l.le.push((m, g));
        l.le.push((c, m));
        cell.push((g, m, c));
    }
    // groups of every dimension add up to one total per period (and per theme)
    let mut totals: HashMap<(String, String, usize), usize> = HashMap::new();
    let mut members: BTreeMap<(String, String, String, usize), Vec<usize>> = BTreeMap::new();
    let mut seen_group: std::collections::HashSet<usize> = std::collections::HashSet::new();
    for i in 0..rows {
        let (g, m, c) = cell[i];
        if seen_group.insert(g) {
            members.entry((period[i].clone(), dim[i].clone(), String::new(), 0)).or_default().push(g);
        }
        members.entry((period[i].clone(), dim[i].clone(), theme[i].clone(), 1)).or_default().push(m);
        members.entry((period[i].clone(), dim[i].clone(), theme[i].clone(), 2)).or_default().push(c);
    }
    let mut known: HashMap<(String, usize), Option<i64>> = HashMap::new();
    {
        let (measure, code, raw_n) =
            (col_str(ranking, "measure"), col_str(ranking, "theme_code"), col_i64(ranking, "raw_n").unwrap());
        for i in 0..measure.len() {
            known.insert((code[i].clone(), if measure[i] == "mentions" { 1 } else { 2 }), raw_n[i]);
        }
        if let Some(records) = col_i64(ranking, "records_n").and_then(|r| r.first().copied()) {
            known.insert((String::new(), 0), records);
        }
    }
    for ((p, _, th, kind), terms) in members {
        let total =
            *totals.entry((p.clone(), th.clone(), kind)).or_insert_with(|| match known.get(&(th.clone(), kind)) {
                Some(&v) if p == "all" => l.var(rule.domain(v), None),
                _ => l.hidden(),
            });
        l.sums.push((terms, total));
    }
    // the months add up to `all`
    l.months_add_up(ids.iter().map(|((c, key), &v)| {
        let (p, rest) = key.split_once('/').unwrap();
        (format!("{c} {rest}"), p == "all", v)
    }));
    let initial: Vec<(i64, i64)> = l.lo.iter().copied().zip(l.hi.iter().copied()).collect();
    l.solve();
    differencing_verdict(&l, &initial, out);
}

fn representation(t: &Table, rule: Rule, out: &mut Findings) {
    let (period, dim, group) = (col_str(t, "period"), col_str(t, "dimension"), col_str(t, "group_name"));
    let (fb, el, miss) =
        (col_i64(t, "feedback_n").unwrap(), col_i64(t, "eligible_n").unwrap(), col_i64(t, "missing_n").unwrap());
    let (share, pop, ratio, rlo, rhi) = (
        col_f64(t, "feedback_share"),
        col_f64(t, "population_share"),
        col_f64(t, "ratio"),
        col_f64(t, "ratio_low"),
        col_f64(t, "ratio_high"),
    );
    let (chi, cv, contrib) = (col_f64(t, "chi_square"), col_f64(t, "cv_propensity"), col_f64(t, "cv_contribution"));
    let rows = period.len();
    let gkey = |i: usize| format!("{}/{}/{}", period[i], dim[i], group[i]);
    let dkey = |i: usize| format!("{}/{}", period[i], dim[i]);
    let cells = out.rounded_cells.entry("representation".to_owned()).or_default();
    for i in 0..rows {
        for (c, v, k) in
            [("feedback_n", fb[i], gkey(i)), ("eligible_n", el[i], dkey(i)), ("missing_n", miss[i], dkey(i))]
        {
            if v.is_some_and(|v| v > 0) {
                cells.insert((c.to_owned(), k));
            }
        }
    }
    // attack 1
    for i in 0..rows {
        let p = pop[i];
        let per_p = |v: Option<f64>| p.filter(|p| *p > 0.0).and_then(|p| v.map(|v| v / p));
        let sh = |x: f64, n: f64| (n > 0.0).then(|| x / n);
        let ra = |x: f64, n: f64| per_p((n > 0.0).then(|| x / n));
        let lo = |x: f64, n: f64| per_p(wilson(x, n).map(|w| w.0));
        let hi = |x: f64, n: f64| per_p(wilson(x, n).map(|w| w.1));
        for (figure, value, f) in [
            ("feedback_share", share[i], &sh as &dyn Fn(f64, f64) -> Option<f64>),
            ("ratio", ratio[i], &ra),
            ("ratio_low", rlo[i], &lo),
            ("ratio_high", rhi[i], &hi),
        ] {
            let r = Ratio {
                table: "representation",
                figure,
                num: ("feedback_n", gkey(i), fb[i]),
                den: ("eligible_n", dkey(i), el[i]),
                value,
                f,
            };
            attack_ratio(rule, &r, out);
        }
    }
    // attack 2: chi-square and CV of the covered groups' published counts
    let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..rows {
        by.entry(dkey(i)).or_default().push(i);
    }
    for (key, idx) in &by {
        let covered: Vec<usize> = idx.iter().copied().filter(|&i| pop[i].is_some()).collect();
        let obs: Option<Vec<f64>> = covered.iter().map(|&i| fb[i].map(|v| v as f64)).collect();
        let n: f64 = obs.iter().flatten().sum();
        let ok = obs.is_some() && n > 0.0 && covered.len() >= 2;
        let obs = obs.unwrap_or_default();
        let want_chi = ok.then(|| {
            covered
                .iter()
                .zip(&obs)
                .map(|(&i, o)| (o - n * pop[i].unwrap()).powi(2) / (n * pop[i].unwrap()))
                .sum::<f64>()
        });
        let want_cv = ok.then(|| {
            covered
                .iter()
                .zip(&obs)
                .map(|(&i, o)| pop[i].unwrap() * (o / n / pop[i].unwrap() - 1.0).powi(2))
                .sum::<f64>()
                .sqrt()
        });
        for &i in idx {
            if let Some(got) = chi[i] {
                if !want_chi.is_some_and(|w| same(w, got, 1e-9)) {
                    out.unexplained(
                        "representation.chi_square",
                        format!("{key}: {got} (from the counts: {want_chi:?})"),
                    );
                }
            }
            if let Some(got) = cv[i] {
                // sqrt(N/(N-1)) with N the population: within 1e-5 for any N above 50,000
                if !want_cv.is_some_and(|w| same(w, got, 1e-5)) {
                    out.unexplained(
                        "representation.cv_propensity",
                        format!("{key}: {got} (from the counts: {want_cv:?})"),
                    );
                }
            }
            if let Some(got) = contrib[i] {
                let k = covered.iter().position(|&j| j == i);
                let want = k.filter(|_| ok).map(|k| pop[i].unwrap().sqrt() * (obs[k] / n / pop[i].unwrap() - 1.0));
                if fb[i].is_none() {
                    out.beside_suppressed("representation.cv_contribution", gkey(i));
                } else if !want.is_some_and(|w| same(w, got, 1e-9)) {
                    out.unexplained(
                        "representation.cv_contribution",
                        format!("{}: {got} (from the counts: {want:?})", gkey(i)),
                    );
                }
            }
        }
    }
    // attack 3: groups + n_missing = respondents in every dimension; eligible = covered groups;
    // the months cover `all` (a respondent counts in each month they wrote in)
    let mut l = Lattice::default();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut var = |l: &mut Lattice, key: String, v: Option<i64>| {
        *ids.entry(key.clone()).or_insert_with(|| l.var(rule.domain(v), Some(("representation".to_owned(), key))))
    };
    let mut respondents: HashMap<String, usize> = HashMap::new();
    for (key, idx) in &by {
        let i0 = idx[0];
        let e = var(&mut l, format!("eligible_n {key}"), el[i0]);
        let m = var(&mut l, format!("n_missing {key}"), miss[i0]);
        let groups: Vec<usize> = idx.iter().map(|&i| var(&mut l, format!("feedback_n {}", gkey(i)), fb[i])).collect();
        let covered: Vec<usize> = idx.iter().zip(&groups).filter(|(&i, _)| pop[i].is_some()).map(|(_, &v)| v).collect();
        // without a baseline, eligible_n is every stated group
        l.sums.push((if covered.is_empty() { groups.clone() } else { covered }, e));
        let total = *respondents.entry(period[i0].clone()).or_insert_with(|| l.hidden());
        let mut all = groups;
        all.push(m);
        l.sums.push((all, total));
    }
    l.months_cover(ids.iter().map(|(key, &v)| {
        let (c, rest) = key.split_once(' ').unwrap();
        let (p, rest) = rest.split_once('/').unwrap();
        (format!("{c} {rest}"), p == "all", v)
    }));
    let initial: Vec<(i64, i64)> = l.lo.iter().copied().zip(l.hi.iter().copied()).collect();
    l.solve();
    differencing_verdict(&l, &initial, out);
}

fn underheard(t: &Table, by_group: &Table, alpha0: f64, out: &mut Findings) {
    let (dim, group, theme) = (col_str(t, "dimension"), col_str(t, "group_name"), col_str(t, "theme_code"));
    let (gn, gc, rc) = (
        col_i64(t, "group_n").unwrap(),
        col_i64(t, "group_concerns_n").unwrap(),
        col_i64(t, "rest_concerns_n").unwrap(),
    );
    let rest_n = col_i64(t, "rest_n");
    let (lp, llo, lhi, zs) =
        (col_f64(t, "lift"), col_f64(t, "lift_low"), col_f64(t, "lift_high"), col_f64(t, "log_odds_z"));
    // theme_by_group, period all: the published concern counts every z is computed from
    let (bp, bd, bg, bt) = (
        col_str(by_group, "period"),
        col_str(by_group, "dimension"),
        col_str(by_group, "group_name"),
        col_str(by_group, "theme_code"),
    );
    let (bgn, bcn) = (col_i64(by_group, "group_n").unwrap(), col_i64(by_group, "concern_n").unwrap());
    let mut cells: BTreeMap<&str, BTreeMap<&str, BTreeMap<&str, usize>>> = BTreeMap::new();
    for i in 0..bp.len() {
        if bp[i] == "all" {
            cells.entry(&bd[i]).or_default().entry(&bg[i]).or_default().insert(&bt[i], i);
        }
    }
    for i in 0..dim.len() {
        let published = [lp[i], llo[i], lhi[i], zs[i]];
        if published.iter().all(Option::is_none) {
            continue;
        }
        let key = format!("{} {} {}", dim[i], group[i], theme[i]);
        let (Some(a), Some(ng)) = (gc[i], gn[i]) else {
            out.beside_suppressed("underheard_concerns.lift/log_odds_z", key);
            continue;
        };
        let groups = &cells[dim[i].as_str()];
        let codes: Vec<&str> = groups[group[i].as_str()].keys().copied().collect();
        let rest = |code: &str| {
            let (mut b, mut nr) = (0i64, 0i64);
            for (h, m) in groups {
                if *h == group[i] || ABSENT.contains(h) {
                    continue;
                }
                if let (Some(x), Some(n)) = (bcn[m[code]], bgn[m[code]]) {
                    b += x;
                    nr += n;
                }
            }
            (b, nr)
        };
        let yg: Vec<f64> = codes.iter().map(|c| bcn[groups[group[i].as_str()][c]].unwrap_or(0) as f64).collect();
        let yr: Vec<f64> = codes.iter().map(|c| rest(c).0 as f64).collect();
        let k = codes.iter().position(|c| *c == theme[i]).unwrap();
        let z = log_odds_z(&yg, &yr, alpha0)[k];
        let (b, nr) = rest(&theme[i]);
        if rc[i] != Some(b) {
            out.unexplained(
                "underheard_concerns.rest_concerns",
                format!("{key}: {:?}, the other groups publish {b}", rc[i]),
            );
        }
        let Some(rest_n) = rest_n.as_ref().map(|r| r[i]) else {
            out.unexplained("underheard_concerns.lift", format!("{key}: the rest's records are not published"));
            continue;
        };
        if rest_n != Some(nr) {
            out.unexplained("underheard_concerns.rest_n", format!("{key}: {rest_n:?}, the other groups publish {nr}"));
        }
        let l = lift(a as f64, ng as f64, rc[i].unwrap_or(0) as f64, rest_n.unwrap_or(0) as f64);
        let want = [l.and_then(|l| l.0), l.map(|l| l.1), l.map(|l| l.2), z];
        for ((c, got), want) in ["lift", "lift_low", "lift_high", "log_odds_z"].iter().zip(published).zip(want) {
            if let Some(got) = got {
                if !want.is_some_and(|w| same(w, got, 1e-9)) {
                    out.unexplained(
                        &format!("underheard_concerns.{c}"),
                        format!("{key}: {got} (from the counts: {want:?})"),
                    );
                }
            }
        }
    }
}

fn theme_ranking(t: &Table, rule: Rule, out: &mut Findings) {
    let (measure, theme) = (col_str(t, "measure"), col_str(t, "theme_code"));
    let raw_n = col_i64(t, "raw_n").unwrap();
    let (raw, wp, wlo, whi, neff) = (
        col_f64(t, "raw_prevalence"),
        col_f64(t, "weighted_prevalence"),
        col_f64(t, "weighted_low"),
        col_f64(t, "weighted_high"),
        col_f64(t, "effective_n"),
    );
    let (records_n, raked_n) = (col_i64(t, "records_n"), col_i64(t, "raked_n"));
    let (raw_rank, w_rank) = (col_i64(t, "raw_rank").unwrap(), col_i64(t, "weighted_rank").unwrap());
    let step = rule.step as f64;
    for i in 0..measure.len() {
        let key = format!("{} {}", measure[i], theme[i]);
        if let Some(got) = raw[i] {
            match (raw_n[i], records_n.as_ref().and_then(|r| r[i])) {
                (None, _) => out.beside_suppressed("theme_ranking.raw_prevalence", key.clone()),
                (Some(x), Some(n)) if n > 0 && same(x as f64 / n as f64, got, 1e-12) => {}
                (x, n) => {
                    out.unexplained("theme_ranking.raw_prevalence", format!("{key}: {got} with counts {x:?}/{n:?}"))
                }
            }
        }
        if raw_n[i].is_none() && (wp[i].is_some() || wlo[i].is_some()) {
            out.beside_suppressed("theme_ranking.weighted_prevalence", key.clone());
        }
        // a weighted figure is a weighted count rounded like a count, over the published raked records
        if let Some(got) = wp[i] {
            let n = raked_n.as_ref().and_then(|r| r[i]).unwrap_or(0) as f64;
            let count = got * n;
            if n <= 0.0 || (count / step - (count / step).round()).abs() > 1e-6 {
                out.unexplained(
                    "theme_ranking.weighted_prevalence",
                    format!("{key}: {got} × raked_n {n} is not a rounded count"),
                );
            }
        }
        if let Some(got) = neff[i] {
            if (got / step - (got / step).round()).abs() > 1e-9 {
                out.unexplained("theme_ranking.effective_n", format!("{key}: {got} is not rounded to {step}"));
            }
        }
        for (c, got, k) in [("weighted_low", wlo[i], 0), ("weighted_high", whi[i], 1)] {
            if let Some(got) = got {
                let want =
                    wp[i].zip(neff[i]).and_then(|(p, n)| wilson(p * n, n)).map(|w| if k == 0 { w.0 } else { w.1 });
                if !want.is_some_and(|w| same(w, got, 1e-9)) {
                    out.unexplained(
                        &format!("theme_ranking.{c}"),
                        format!("{key}: {got} (from the published figures: {want:?})"),
                    );
                }
            }
        }
    }
    // ranks: from the published prevalences (ties share the lowest rank); a suppressed theme has none
    for (c, ranks, values) in [("raw_rank", &raw_rank, &raw), ("weighted_rank", &w_rank, &wp)] {
        for i in 0..measure.len() {
            let Some(got) = ranks[i] else { continue };
            // (a theme published as 0 has no rank: nobody raised it)
            let want = values[i].filter(|_| raw_n[i] != Some(0)).map(|v| {
                1 + (0..measure.len()).filter(|&j| measure[j] == measure[i] && values[j].is_some_and(|u| u > v)).count()
                    as i64
            });
            if want != Some(got) {
                out.unexplained(
                    &format!("theme_ranking.{c}"),
                    format!("{} {}: {got} (from the published prevalences: {want:?})", measure[i], theme[i]),
                );
            }
        }
    }
}

/// `emerging_terms`: its rows, their order and `frequency_rank` tell nothing the published
/// `uncoded_n` does not — ranks from the published counts (ties share the lowest), terms of one
/// published count in the terms' order. (Ranked by the true counts, a run of terms published
/// alike, ranked out of alphabetical order, pinned each one's count.)
fn emerging_terms(t: &Table, out: &mut Findings) {
    let (term, n, rank) = (col_str(t, "term"), col_i64(t, "uncoded_n").unwrap(), col_i64(t, "frequency_rank").unwrap());
    for i in 0..term.len() {
        let want = n[i].map(|v| 1 + n.iter().filter(|u| u.is_some_and(|u| u > v)).count() as i64);
        if rank[i] != want {
            out.unexplained(
                "emerging_terms.frequency_rank",
                format!("{}: {:?} (from the published uncoded_n: {want:?})", term[i], rank[i]),
            );
        }
        if i > 0 && n[i] == n[i - 1] && term[i] < term[i - 1] {
            out.unexplained(
                "emerging_terms (row order)",
                format!(
                    "{} after {}, both published {:?}: ordered by something unpublished",
                    term[i],
                    term[i - 1],
                    n[i]
                ),
            );
        }
    }
}

/// Runs the attack on every aggregate table of a run folder; panics with what it found.
fn attack(out_dir: &std::path::Path) {
    let m = manifest(out_dir);
    let a = &m["settings"]["analysis"];
    let rule = Rule { max: a["suppress_max"].as_i64().unwrap(), step: a["round_to"].as_i64().unwrap() };
    let alpha0 = a["alpha0"].as_f64().unwrap();
    assert_eq!((rule.max, rule.step), (7, 5), "the run is under NHS Digital's rule");
    let mut f = Findings::default();
    let tbg = read(&out_dir.join("theme_by_group.parquet"));
    let ranking = read(&out_dir.join("theme_ranking.parquet"));
    theme_by_group(&tbg, &ranking, rule, alpha0, &mut f);
    representation(&read(&out_dir.join("representation.parquet")), rule, &mut f);
    underheard(&read(&out_dir.join("underheard_concerns.parquet")), &tbg, alpha0, &mut f);
    theme_ranking(&ranking, rule, &mut f);
    emerging_terms(&read(&out_dir.join("emerging_terms.parquet")), &mut f);

    let mut report = String::new();
    for (table, cells) in &f.rounded_cells {
        let pinned = f.pinned.keys().filter(|k| &k.0 == table).count();
        report.push_str(&format!("{table}: {pinned} of {} rounded counts pinned by a figure\n", cells.len()));
    }
    report.push_str(&format!("figures not computed from the published counts: {:?}\n", f.unexplained));
    report.push_str(&format!("figures beside a suppressed count: {:?}\n", f.beside_suppressed));
    report.push_str(&format!(
        "counts recovered by differencing: {} (suppressed counts narrowed but not recovered: {})\n",
        f.differenced.len(),
        f.narrowed
    ));
    for d in f.differenced.iter().take(5) {
        report.push_str(&format!("  {d}\n"));
    }
    for e in &f.examples {
        report.push_str(&format!("  e.g. {e}\n"));
    }
    eprintln!("{report}");
    assert!(f.rounded_cells.values().map(|c| c.len()).sum::<usize>() > 100, "the attack had cells to attack");
    assert!(f.clean(), "the published tables give counts back:\n{report}");
}

#[test]
fn no_published_figure_of_the_demo_gives_back_a_count() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("demo");
    let r = unheard(&project(), &["run", "--out", out_dir.to_str().unwrap(), "-q"]);
    assert!(r.code == 0 || r.code == 1, "demo run: {}", r.stderr);
    attack(&out_dir);
}

#[test]
fn no_published_figure_of_a_small_run_gives_back_a_count() {
    // 300 records over a year: most cells are small, so suppression and differencing are the rule
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f.csv"), crate::util::canonical_csv(300)).unwrap();
    std::fs::write(
        tmp.path().join("b.csv"),
        "dimension,group,population\nethnicity,White,800000\nethnicity,Asian,120000\nethnicity,Black,50000\nethnicity,Mixed,20000\nsex,Female,510000\nsex,Male,490000\nage_band,16-24,150000\nage_band,25-34,180000\nage_band,75+,90000\n",
    )
    .unwrap();
    let r = unheard(tmp.path(), &["run", "--input", "f.csv", "--baseline", "b.csv", "--out", "o", "-q"]);
    assert!(r.code == 0 || r.code == 1, "run: {}", r.stderr);
    attack(&tmp.path().join("o"));
}
