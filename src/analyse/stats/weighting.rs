//! Reweighting theme prevalence to the population (METHODS §2).

use std::fmt;

#[cfg(test)]
use super::wilson;

/// Post-stratified prevalence of one theme on one variable (METHODS §2).
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PostStratified {
    /// Respondent weight per group, w_h = P'_h/(n_h/n) = 1/RR_h (mean 1); `None` for an empty cell.
    pub weights: Vec<Option<f64>>,
    /// Σ x_h / n.
    pub raw_prevalence: f64,
    /// θ̂ = Σ_h P'_h·x_h/n_h.
    pub prevalence: f64,
    /// sqrt(Σ_h P'_h²·p̂_h(1 − p̂_h)/n_h), with P known.
    pub se: f64,
    /// Kish n_eff = (Σw)²/Σw² over respondents.
    pub n_eff: f64,
    /// Design effect n / n_eff.
    pub design_effect: f64,
    /// Wilson interval on θ̂ with n = n_eff, which keeps it within [0, 1].
    pub interval: (f64, f64),
    /// Σ P_h over cells with respondents; P' = P/coverage is the share renormalised over those cells.
    pub coverage: f64,
}

/// Post-stratify one theme on one variable (METHODS §2): n_h respondents and x_h theme mentions per
/// group, against population shares P_h. Empty cells (n_h = 0) are dropped and P is renormalised over
/// the covered cells; `coverage` reports how much population they hold (collapse small cells first).
///
/// Returns `None` for mismatched lengths, x_h > n_h, a negative or non-finite share, no respondents,
/// or zero coverage.
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
pub(crate) fn poststratify(n_h: &[u64], x_h: &[u64], population_share: &[f64], z: f64) -> Option<PostStratified> {
    if n_h.len() != x_h.len() || n_h.len() != population_share.len() {
        return None;
    }
    if n_h.iter().zip(x_h).zip(population_share).any(|((n, x), p)| x > n || !p.is_finite() || *p < 0.0) {
        return None;
    }
    let n = n_h.iter().sum::<u64>() as f64;
    let coverage: f64 = n_h.iter().zip(population_share).filter(|(n, _)| **n > 0).map(|(_, p)| p).sum();
    if n == 0.0 || coverage <= 0.0 {
        return None;
    }
    let (mut prevalence, mut var, mut sum_w, mut sum_w2) = (0.0, 0.0, 0.0, 0.0);
    let mut weights = Vec::with_capacity(n_h.len());
    for ((&nh, &xh), &p) in n_h.iter().zip(x_h).zip(population_share) {
        if nh == 0 {
            weights.push(None);
            continue;
        }
        let (nh, p) = (nh as f64, p / coverage);
        let ph = xh as f64 / nh;
        let w = p * n / nh;
        prevalence += p * ph;
        var += p * p * ph * (1.0 - ph) / nh;
        sum_w += nh * w;
        sum_w2 += nh * w * w;
        weights.push(Some(w));
    }
    let n_eff = sum_w * sum_w / sum_w2;
    let interval = wilson((prevalence * n_eff).min(n_eff), n_eff, z)?;
    Some(PostStratified {
        weights,
        raw_prevalence: x_h.iter().sum::<u64>() as f64 / n,
        prevalence,
        se: var.sqrt(),
        n_eff,
        design_effect: n / n_eff,
        interval,
        coverage,
    })
}

/// Settings for [`rake`] (METHODS §2). Defaults: tolerance 1e-6, 100 cycles, cap 5 on mean-1 weights
/// (anesrake's default).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RakeOptions {
    /// Stop when the largest |weighted share − target| over all margins is below this.
    pub tolerance: f64,
    /// Maximum number of full cycles over the margins.
    pub max_iterations: usize,
    /// Cap on mean-1 weights, applied after each cycle before the convergence check (capped weights are set
    /// to the cap and the rest rescaled to keep the mean at 1); `None`, or a cap ≤ 1, means no cap.
    pub cap: Option<f64>,
}

impl Default for RakeOptions {
    fn default() -> Self {
        RakeOptions { tolerance: 1e-6, max_iterations: 100, cap: Some(5.0) }
    }
}

/// One raking margin: each respondent's category index and the target share of each category.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Margin<'a> {
    /// Category index (0-based) of every respondent; the same respondents, in the same order, for all margins.
    pub category: &'a [usize],
    /// Population share per category; must sum to 1 (±1e-6) over the same eligible population.
    pub targets: &'a [f64],
}

/// Output of [`rake`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RakeResult {
    /// Respondent weights, rescaled to mean 1.
    pub weights: Vec<f64>,
    /// Cycles run (the cycle that met the tolerance, or `max_iterations`).
    pub iterations: usize,
    /// Whether the tolerance was met.
    pub converged: bool,
    /// The largest |weighted share − target| after the last cycle.
    pub max_error: f64,
    /// Kish n_eff = (Σw)²/Σw².
    pub n_eff: f64,
}

/// Why raking could not start. `margin`, `respondent` and `category` are 0-based indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RakeError {
    /// No respondents or no margins.
    Empty,
    /// A margin's category list is not one entry per respondent.
    LengthMismatch {
        /// The offending margin.
        margin: usize,
    },
    /// A respondent's category index has no target.
    CategoryOutOfRange {
        /// The offending margin.
        margin: usize,
        /// The first respondent with an out-of-range category.
        respondent: usize,
    },
    /// Targets are negative, not finite, or do not sum to 1 (±1e-6).
    BadTargets {
        /// The offending margin.
        margin: usize,
    },
    /// A category with a positive target has no respondents: collapse it (METHODS §2).
    EmptyCategory {
        /// The offending margin.
        margin: usize,
        /// The empty category.
        category: usize,
    },
}

impl fmt::Display for RakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RakeError::Empty => write!(f, "raking needs respondents and at least one margin"),
            RakeError::LengthMismatch { margin } => write!(f, "margin {margin}: one category per respondent needed"),
            RakeError::CategoryOutOfRange { margin, respondent } => {
                write!(f, "margin {margin}: respondent {respondent} has a category with no target")
            }
            RakeError::BadTargets { margin } => write!(f, "margin {margin}: targets must be ≥ 0 and sum to 1"),
            RakeError::EmptyCategory { margin, category } => {
                write!(f, "margin {margin}: category {category} has a target but no respondents; collapse it")
            }
        }
    }
}

impl std::error::Error for RakeError {}

fn check_margins(margins: &[Margin<'_>], n: usize) -> Result<(), RakeError> {
    if n == 0 || margins.is_empty() {
        return Err(RakeError::Empty);
    }
    for (m, margin) in margins.iter().enumerate() {
        if margin.category.len() != n {
            return Err(RakeError::LengthMismatch { margin: m });
        }
        let sum: f64 = margin.targets.iter().sum();
        if margin.targets.iter().any(|t| !t.is_finite() || *t < 0.0) || (sum - 1.0).abs() > 1e-6 {
            return Err(RakeError::BadTargets { margin: m });
        }
        let mut seen = vec![false; margin.targets.len()];
        for (i, &c) in margin.category.iter().enumerate() {
            *seen.get_mut(c).ok_or(RakeError::CategoryOutOfRange { margin: m, respondent: i })? = true;
        }
        if let Some(c) = (0..seen.len()).find(|&c| !seen[c] && margin.targets[c] > 0.0) {
            return Err(RakeError::EmptyCategory { margin: m, category: c });
        }
    }
    Ok(())
}

#[cfg(test)]
fn margin_sums(weights: &[f64], margin: &Margin<'_>) -> Vec<f64> {
    let mut sums = vec![0.0; margin.targets.len()];
    for (w, &c) in weights.iter().zip(margin.category) {
        sums[c] += w;
    }
    sums
}

/// Raking by iterative proportional fitting (Deming & Stephan 1940; METHODS §2). Start with w = 1; for
/// each margin in turn set w_i ← w_i·T_{m,c}·Σw/Σ_{j∈c} w_j; after each cycle cap the mean-1 weights at
/// `cap` (if any; see `RakeOptions::cap`), then stop once max |weighted share − target| < `tolerance` or after `max_iterations`.
///
/// Rows with a missing raking variable must be dropped (or imputed) by the caller beforehand.
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
pub(crate) fn rake(margins: &[Margin<'_>], options: &RakeOptions) -> Result<RakeResult, RakeError> {
    let n = margins.first().map_or(0, |m| m.category.len());
    rake_counts(margins, &vec![1.0; n], options)
}

/// [`rake`] over units that each stand for `counts[i]` respondents alike in every margin (the
/// cells of a cross-tabulation): the same weights as raking the respondents one by one, in
/// memory that grows with the cells. `weights[i]` is the weight of each respondent of unit `i`
/// (mean 1 over respondents); `n_eff` counts respondents.
///
/// # Errors
/// As [`rake`]; a unit with a negative or non-finite count is [`RakeError::BadTargets`] of margin 0.
pub(crate) fn rake_counts(
    margins: &[Margin<'_>],
    counts: &[f64],
    options: &RakeOptions,
) -> Result<RakeResult, RakeError> {
    let units = margins.first().map_or(0, |m| m.category.len());
    check_margins(margins, units)?;
    if counts.len() != units {
        return Err(RakeError::LengthMismatch { margin: 0 });
    }
    if counts.iter().any(|c| !c.is_finite() || *c < 0.0) {
        return Err(RakeError::BadTargets { margin: 0 });
    }
    let n: f64 = counts.iter().sum();
    let mut w = vec![1.0; units];
    let total_of = |w: &[f64]| -> f64 { w.iter().zip(counts).map(|(w, c)| w * c).sum() };
    let sums_of = |w: &[f64], margin: &Margin<'_>| -> Vec<f64> {
        let mut sums = vec![0.0; margin.targets.len()];
        for ((w, c), &k) in w.iter().zip(counts).zip(margin.category) {
            sums[k] += w * c;
        }
        sums
    };
    let (mut iterations, mut converged, mut max_error) = (0, false, f64::INFINITY);
    for cycle in 1..=options.max_iterations {
        iterations = cycle;
        for margin in margins {
            let total = total_of(&w);
            let factors: Vec<f64> = sums_of(&w, margin)
                .iter()
                .zip(margin.targets)
                .map(|(s, t)| if *s > 0.0 { t * total / s } else { 1.0 })
                .collect();
            w.iter_mut().zip(margin.category).for_each(|(wi, &c)| *wi *= factors[c]);
        }
        if let Some(cap) = options.cap {
            cap_mean_one(&mut w, counts, cap);
        }
        let total = total_of(&w);
        max_error = margins
            .iter()
            .flat_map(|m| sums_of(&w, m).into_iter().zip(m.targets).map(move |(s, t)| (s / total - t).abs()))
            .fold(0.0, f64::max);
        if max_error < options.tolerance {
            converged = true;
            break;
        }
    }
    let total = total_of(&w);
    if total > 0.0 {
        w.iter_mut().for_each(|wi| *wi *= n / total);
    }
    let (s, s2) = w.iter().zip(counts).fold((0.0, 0.0), |(s, s2), (w, c)| (s + w * c, s2 + w * w * c));
    let n_eff = if s2 > 0.0 { s * s / s2 } else { 0.0 };
    Ok(RakeResult { weights: w, iterations, converged, max_error, n_eff })
}

/// Rescale weights to mean 1 (over respondents: unit `i` stands for `counts[i]`) with none
/// above `cap`: the largest weights are set to `cap` and the rest scaled by one common factor
/// so that the mean stays 1 (the fixed point of trim-and-renormalise). Leaves the weights
/// unchanged if `cap` ≤ 1 or is not finite (no mean-1 solution is capped below 1).
fn cap_mean_one(w: &mut [f64], counts: &[f64], cap: f64) {
    let n: f64 = counts.iter().sum();
    let mut rest: f64 = w.iter().zip(counts).map(|(w, c)| w * c).sum();
    if !(cap.is_finite() && cap > 1.0 && rest > 0.0) {
        return;
    }
    let mut order: Vec<usize> = (0..w.len()).filter(|&i| counts[i] > 0.0).collect();
    order.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
    let mut capped = 0.0;
    for &i in &order {
        let top = w[i];
        let factor = (n - capped * cap) / rest;
        if factor * top <= cap {
            w.iter_mut().for_each(|wi| *wi = (*wi * factor).min(cap));
            return;
        }
        rest -= top * counts[i];
        capped += counts[i];
    }
}

/// Kish effective sample size (Σw)²/Σw² (METHODS §2); `None` when Σw² = 0.
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
pub(crate) fn kish_n_eff(weights: &[f64]) -> Option<f64> {
    let (s, s2) = weights.iter().fold((0.0, 0.0), |(s, s2), w| (s + w, s2 + w * w));
    (s2 > 0.0).then(|| s * s / s2)
}

/// Weighted prevalence Σ_{i: theme} w_i / Σ w_i; `None` for mismatched lengths or Σw = 0.
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
pub(crate) fn weighted_prevalence(weights: &[f64], has_theme: &[bool]) -> Option<f64> {
    let total: f64 = weights.iter().sum();
    let hit: f64 = weights.iter().zip(has_theme).filter(|(_, t)| **t).map(|(w, _)| w).sum();
    (weights.len() == has_theme.len() && total > 0.0).then(|| hit / total)
}

/// Descending ranks with ties sharing the lowest rank (scipy `rankdata(-v, method='min')`):
/// rank_i = 1 + #{j : v_j > v_i}. A NaN is never greater, so it does not push others down.
pub(crate) fn rank_min_desc(values: &[f64]) -> Vec<usize> {
    values.iter().map(|v| 1 + values.iter().filter(|u| *u > v).count()).collect()
}

/// Kendall's τ_b (scipy `kendalltau`): (C − D)/sqrt((n₀ − n_x)(n₀ − n_y)), where n₀ = pairs,
/// n_x / n_y = pairs tied in x / in y. `None` for mismatched lengths, fewer than two items, or a
/// constant vector.
pub(crate) fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (mut score, mut ties_x, mut ties_y, mut pairs) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let (dx, dy) = ((x[i] - x[j]).signum(), (y[i] - y[j]).signum());
            let (tx, ty) = (x[i] == x[j], y[i] == y[j]);
            pairs += 1;
            ties_x += i64::from(tx);
            ties_y += i64::from(ty);
            if !tx && !ty {
                score += if dx == dy { 1 } else { -1 };
            }
        }
    }
    let denom = (((pairs - ties_x) * (pairs - ties_y)) as f64).sqrt();
    (denom > 0.0).then(|| score as f64 / denom)
}

/// Raw versus weighted theme ranking (METHODS §2).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ranking {
    /// Rank by raw prevalence (1 = most common, ties = min).
    pub rank_raw: Vec<usize>,
    /// Rank by weighted prevalence.
    pub rank_weighted: Vec<usize>,
    /// rank_raw − rank_weighted: positive when a theme moves up after weighting.
    pub delta_rank: Vec<i64>,
    /// Kendall's τ_b between the two prevalence vectors; `None` if undefined.
    pub tau_b: Option<f64>,
}

impl Ranking {
    /// Rank both prevalence vectors; `None` when their lengths differ. Call a swap real only when the two
    /// themes' weighted intervals do not overlap; otherwise report "not distinguishable".
    pub(crate) fn new(raw: &[f64], weighted: &[f64]) -> Option<Ranking> {
        if raw.len() != weighted.len() {
            return None;
        }
        let (rank_raw, rank_weighted) = (rank_min_desc(raw), rank_min_desc(weighted));
        let delta_rank = rank_raw.iter().zip(&rank_weighted).map(|(r, w)| *r as i64 - *w as i64).collect();
        Some(Ranking { rank_raw, rank_weighted, delta_rank, tau_b: kendall_tau_b(raw, weighted) })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{close, num, nums, vectors};
    use super::super::Z95;
    use super::*;

    fn counts(v: &serde_json::Value) -> Vec<u64> {
        nums(v).iter().map(|&x| x as u64).collect()
    }

    #[test]
    fn poststratification_vectors() {
        let v = vectors();
        let c = &v["2_weighting_supporting"]["poststratification_one_variable"];
        let ps = poststratify(&counts(&c["n_h"]), &counts(&c["theme_count_h"]), &nums(&c["population_share"]), Z95)
            .expect("defined");
        for (h, want) in nums(&c["weight_per_respondent_h"]).into_iter().enumerate() {
            close(&format!("weight[{h}]"), ps.weights[h].expect("covered"), want);
        }
        close("raw_prevalence", ps.raw_prevalence, num(&c["raw_prevalence"]));
        close("poststratified_prevalence", ps.prevalence, num(&c["poststratified_prevalence"]));
        close("kish_n_eff", ps.n_eff, num(&c["kish_n_eff"]));
        close("design effect", ps.design_effect, 200.0 / ps.n_eff);
        assert_eq!(ps.coverage, 1.0);
        assert!(ps.interval.0 < ps.prevalence && ps.prevalence < ps.interval.1);
    }

    #[test]
    fn poststratification_edge_cases() {
        // Empty cell: dropped, P renormalised over covered cells, coverage reported.
        let ps = poststratify(&[10, 0, 30], &[5, 0, 3], &[0.5, 0.2, 0.3], Z95).expect("defined");
        assert_eq!(ps.weights[1], None);
        assert!((ps.coverage - 0.8).abs() < 1e-15);
        assert!((ps.prevalence - (0.5 / 0.8 * 0.5 + 0.3 / 0.8 * 0.1)).abs() < 1e-15);
        assert!(poststratify(&[0, 0], &[0, 0], &[0.5, 0.5], Z95).is_none());
        assert!(poststratify(&[1, 2], &[2, 0], &[0.5, 0.5], Z95).is_none());
        assert!(poststratify(&[1, 2], &[0, 0], &[0.0, 0.0], Z95).is_none());
    }

    #[test]
    fn raking_vectors() {
        let v = vectors();
        let c = &v["2_weighting_supporting"]["raking_two_margins"];
        let cells: Vec<Vec<f64>> = c["sample_counts_sex_by_age"].as_array().expect("rows").iter().map(nums).collect();
        let themes: Vec<Vec<f64>> = c["theme_counts_sex_by_age"].as_array().expect("rows").iter().map(nums).collect();
        // Expand the sex × age table into respondents (theme mentions first within each cell).
        let (mut sex, mut age, mut theme) = (vec![], vec![], vec![]);
        for (i, row) in cells.iter().enumerate() {
            for (j, &count) in row.iter().enumerate() {
                for k in 0..count as usize {
                    sex.push(i);
                    age.push(j);
                    theme.push((k as f64) < themes[i][j]);
                }
            }
        }
        let (ts, ta) = (nums(&c["targets_sex"]), nums(&c["targets_age"]));
        let margins = [Margin { category: &sex, targets: &ts }, Margin { category: &age, targets: &ta }];
        let opts = RakeOptions { tolerance: num(&c["tolerance"]), max_iterations: 100, cap: None };
        let r = rake(&margins, &opts).expect("rakes");
        assert!(r.converged);
        assert_eq!(r.iterations as f64, num(&c["converged_iterations"]));
        let want: Vec<Vec<f64>> = c["cell_weights"].as_array().expect("rows").iter().map(nums).collect();
        for (k, w) in r.weights.iter().enumerate() {
            close(&format!("cell weight sex {} age {}", sex[k], age[k]), *w, want[sex[k]][age[k]]);
        }
        let raw = theme.iter().filter(|t| **t).count() as f64 / theme.len() as f64;
        close("raw_prevalence", raw, num(&c["raw_prevalence"]));
        close(
            "raked_prevalence",
            weighted_prevalence(&r.weights, &theme).expect("defined"),
            num(&c["raked_prevalence"]),
        );
        let n = r.weights.len() as f64;
        for (m, key) in [(&margins[0], "check_margins_sex"), (&margins[1], "check_margins_age")] {
            for (k, (s, t)) in margin_sums(&r.weights, m).iter().zip(nums(&c[key])).enumerate() {
                close(&format!("{key}[{k}]"), s / n, t);
            }
        }
        close("n_eff", r.n_eff, kish_n_eff(&r.weights).expect("defined"));
    }

    #[test]
    fn raking_errors_and_cap() {
        let cat = [0usize, 0, 1];
        let opts = RakeOptions::default();
        let bad = |t: &[f64], c: &[usize]| rake(&[Margin { category: c, targets: t }], &opts).err();
        assert_eq!(bad(&[0.5, 0.4], &cat), Some(RakeError::BadTargets { margin: 0 }));
        assert_eq!(bad(&[0.5, 0.5], &[0, 2, 1]), Some(RakeError::CategoryOutOfRange { margin: 0, respondent: 1 }));
        assert_eq!(bad(&[0.5, 0.5], &[0, 0, 0]), Some(RakeError::EmptyCategory { margin: 0, category: 1 }));
        assert_eq!(bad(&[0.5, 0.5], &[]), Some(RakeError::Empty));
        // One respondent of ten must carry 90%: a cap of 2 stops convergence but holds.
        let cat: Vec<usize> = (0..10).map(|i| usize::from(i == 0)).collect();
        let r = rake(&[Margin { category: &cat, targets: &[0.1, 0.9] }], &RakeOptions { cap: Some(2.0), ..opts })
            .expect("runs");
        assert!(!r.converged && r.iterations == 100);
        assert!(r.weights.iter().all(|w| *w <= 2.0 + 1e-12), "{:?}", r.weights);
    }

    #[test]
    fn ranking_vectors() {
        let v = vectors();
        let c = &v["2_weighting_supporting"]["ranking_raw_vs_weighted"];
        let (n_h, shares) = (counts(&c["n_h"]), nums(&c["population_share"]));
        let (mut raw, mut weighted) = (vec![], vec![]);
        for (t, row) in c["counts_by_group"].as_array().expect("rows").iter().enumerate() {
            let ps = poststratify(&n_h, &counts(row), &shares, Z95).expect("defined");
            close(&format!("raw_prevalence[{t}]"), ps.raw_prevalence, num(&c["raw_prevalence"][t]));
            close(&format!("poststratified[{t}]"), ps.prevalence, num(&c["poststratified_prevalence"][t]));
            raw.push(ps.raw_prevalence);
            weighted.push(ps.prevalence);
        }
        let r = Ranking::new(&raw, &weighted).expect("same length");
        let as_usize = |k: &str| nums(&c[k]).iter().map(|&x| x as usize).collect::<Vec<_>>();
        assert_eq!(r.rank_raw, as_usize("rank_raw"));
        assert_eq!(r.rank_weighted, as_usize("rank_weighted"));
        assert_eq!(r.delta_rank, vec![0, -1, 1, 0], "communication moves up, staff attitude down");
        close("kendall_tau_b", r.tau_b.expect("defined"), num(&c["kendall_tau_b"]));
    }

    #[test]
    fn ranking_ties_and_tau_edges() {
        assert_eq!(rank_min_desc(&[0.2, 0.5, 0.2, 0.1]), vec![2, 1, 2, 4]);
        // scipy.stats.kendalltau([1,2,2,3],[1,3,2,3]) = 0.8 (hand count: C = 4, D = 0, ties 1 and 1).
        close("tau_b ties", kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 3.0]).expect("defined"), 0.8);
        assert_eq!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(kendall_tau_b(&[1.0], &[1.0]), None);
        assert!(Ranking::new(&[1.0], &[]).is_none());
    }
}
