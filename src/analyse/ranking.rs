//! `theme_ranking.parquet`: raw and raked prevalence of themes and the rank change; what raking did.

use super::common::*;
use super::counts::Cell;
use super::stats::{self, disclose_count, wilson, DisclosureRule, Published, Z95};

/// One row of `theme_ranking`.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingRow {
    /// `mentions` or `concerns`.
    pub measure: &'static str,
    /// Theme index.
    pub theme: usize,
    /// Records with the theme (published).
    pub raw_n: Published,
    /// All records (published): the denominator of the raw prevalence.
    pub records_n: Published,
    /// Raw prevalence, raw_n / records_n.
    pub raw_prevalence: Option<f64>,
    /// Records raked (published): the denominator of the weighted prevalence.
    pub raked_n: Option<Published>,
    /// Weighted prevalence: the weighted count (in records) rounded like a count, over raked_n.
    pub weighted_prevalence: Option<f64>,
    /// Wilson interval on the published weighted prevalence and effective_n.
    pub weighted_ci: Option<(f64, f64)>,
    /// Raw rank (1 = most common; ties = min).
    pub raw_rank: Option<i64>,
    /// Weighted rank.
    pub weighted_rank: Option<i64>,
    /// raw_rank − weighted_rank (positive: moves up once every group counts in proportion).
    pub rank_change: Option<i64>,
    /// Kish effective sample size of the weighted records, rounded like a count.
    pub effective_n: Option<f64>,
    /// Suppressed.
    pub suppressed: bool,
}

/// A weighted count rounded to the rule's step, as a count would be (METHODS §6): a weighted
/// figure then pins no count more precisely than the rounding.
fn round_weighted(x: f64, rule: &DisclosureRule) -> f64 {
    let step = rule.round_to.max(1) as f64;
    (x / step).round() * step
}

/// What raking did, for the manifest.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RakingReport {
    /// Dimensions raked over.
    pub dimensions: Vec<String>,
    /// Records raked (every raking dimension stated and in the baseline).
    pub records_raked: u64,
    /// Records left out (a raking dimension missing, not stated, unmapped or not in the baseline).
    pub records_dropped: u64,
    /// Baseline groups with no record, dropped from their margin (targets renormalised).
    pub empty_categories: Vec<String>,
    /// Cycles run.
    pub iterations: usize,
    /// Whether raking converged.
    pub converged: bool,
    /// Kish n_eff.
    pub effective_n: Option<f64>,
    /// Kendall's tau-b between raw and weighted prevalence (mentions).
    pub kendall_tau_b: Option<f64>,
    /// Why raking was not done, if it was not.
    pub skipped: Option<String>,
}

/// A cell's records per theme: mentions, or concerns.
fn counts_of(c: &Cell, concerns: bool) -> &[i64] {
    if concerns {
        &c.concerns
    } else {
        &c.mentions
    }
}

/// One raking margin: the dimension's name, each group's population (by group id) and the
/// group names.
pub type RakeMargin = (String, Vec<Option<f64>>, Vec<String>);

/// Raw against weighted theme prevalence, raked over `margins`. `cells` are the records
/// cross-classified by the margins' groups (per cell, one group id per margin, in the
/// margins' order) with their theme counts; `totals` the whole run's counts. Raking the cells
/// with their record counts gives each record the weight raking them one by one would.
#[must_use]
pub fn ranking(
    totals: &Cell,
    n_themes: usize,
    cells: &[(Vec<u32>, Cell)],
    margins: &[RakeMargin],
    s: &WhoSettings,
) -> (Vec<RankingRow>, RakingReport) {
    let n_records = usize::try_from(totals.records).unwrap_or(0);
    let mut report =
        RakingReport { dimensions: margins.iter().map(|m| m.0.clone()).collect(), ..RakingReport::default() };
    // eligible cells: every raking dimension has a group with population > 0
    let eligible: Vec<&(Vec<u32>, Cell)> = cells
        .iter()
        .filter(|(k, c)| {
            c.records > 0 && margins.iter().zip(k).all(|((_, pop, _), &g)| pop[g as usize].is_some_and(|p| p > 0.0))
        })
        .collect();
    // categories seen among eligible records
    let mut cats: Vec<Vec<usize>> = Vec::new();
    let mut targets: Vec<Vec<f64>> = Vec::new();
    for (m, (name, pop, names)) in margins.iter().enumerate() {
        let mut seen = vec![false; pop.len()];
        for (k, _) in &eligible {
            seen[k[m] as usize] = true;
        }
        let idx: Vec<Option<usize>> = {
            let mut k = 0;
            (0..pop.len())
                .map(|g| {
                    if seen[g] && pop[g].is_some_and(|p| p > 0.0) {
                        k += 1;
                        Some(k - 1)
                    } else {
                        if pop[g].is_some_and(|p| p > 0.0) {
                            report.empty_categories.push(format!("{name}={}", names[g]));
                        }
                        None
                    }
                })
                .collect()
        };
        let t: Vec<f64> = (0..pop.len()).filter(|&g| idx[g].is_some()).map(|g| pop[g].unwrap_or(0.0)).collect();
        let sum: f64 = t.iter().sum();
        targets.push(t.iter().map(|x| x / sum).collect());
        cats.push(eligible.iter().map(|(k, _)| idx[k[m] as usize].unwrap_or(0)).collect());
    }
    let counts: Vec<f64> = eligible.iter().map(|(_, c)| c.records as f64).collect();
    let kept: i64 = eligible.iter().map(|(_, c)| c.records).sum();
    report.records_raked = u64::try_from(kept).unwrap_or(0);
    report.records_dropped = (n_records as u64).saturating_sub(report.records_raked);
    let weights = if margins.is_empty() {
        report.skipped = Some("no baseline dimension to rake over".to_owned());
        None
    } else if eligible.is_empty() {
        report.skipped = Some("no record has every raking dimension stated".to_owned());
        None
    } else {
        let m: Vec<stats::Margin<'_>> =
            cats.iter().zip(&targets).map(|(c, t)| stats::Margin { category: c, targets: t }).collect();
        let options = stats::RakeOptions { cap: Some(s.weight_cap), ..stats::RakeOptions::default() };
        match stats::rake_counts(&m, &counts, &options) {
            Ok(r) => {
                report.iterations = r.iterations;
                report.converged = r.converged;
                report.effective_n = Some(r.n_eff);
                Some(r)
            }
            Err(e) => {
                report.skipped = Some(format!("raking failed: {e:?}"));
                None
            }
        }
    };
    // every published figure comes from published counts: the raw prevalence from the rounded
    // count and the rounded number of records, the weighted one from the weighted count rounded
    // like a count over the rounded number of records raked, the interval from those and the
    // rounded effective n, the ranks and Kendall's tau from those prevalences
    let rule = &s.disclosure;
    let records_n = disclose_count(n_records as u64, rule);
    let raked_n = weights.as_ref().map(|_| disclose_count(report.records_raked, rule));
    let n_eff = weights.as_ref().map(|w| round_weighted(w.n_eff, rule));
    report.effective_n = n_eff;
    let mut rows = Vec::new();
    for (measure, concern_only) in [("mentions", false), ("concerns", true)] {
        let raw_count = counts_of(totals, concern_only);
        let raw_n: Vec<Published> =
            (0..n_themes).map(|t| publish(raw_count.get(t).copied().unwrap_or(0), rule)).collect();
        let raw: Vec<Option<f64>> = raw_n.iter().map(|&c| ratio_of(c, records_n)).collect();
        let weighted: Vec<Option<f64>> = (0..n_themes)
            .map(|t| {
                let w = weights.as_ref()?;
                let num: f64 = eligible
                    .iter()
                    .zip(&w.weights)
                    .map(|((_, c), w)| w * counts_of(c, concern_only).get(t).copied().unwrap_or(0) as f64)
                    .sum();
                let den: f64 = eligible.iter().zip(&w.weights).map(|((_, c), w)| w * c.records as f64).sum();
                let raked = raked_n?.value.filter(|n| *n > 0)? as f64;
                (den > 0.0 && !raw_n[t].suppressed).then(|| round_weighted(num / den * kept as f64, rule) / raked)
            })
            .collect();
        // ranks over the published themes only
        let shown: Vec<usize> = (0..n_themes).filter(|&t| raw[t].is_some()).collect();
        let raw_shown: Vec<f64> = shown.iter().filter_map(|&t| raw[t]).collect();
        let weighted_shown: Option<Vec<f64>> = shown.iter().map(|&t| weighted[t]).collect();
        let ranks = weighted_shown.as_ref().and_then(|wv| stats::Ranking::new(&raw_shown, wv));
        if measure == "mentions" {
            report.kendall_tau_b = ranks.as_ref().and_then(|r| r.tau_b);
        }
        let raw_rank = stats::rank_min_desc(&raw_shown);
        for t in 0..n_themes {
            let k = shown.iter().position(|&x| x == t);
            let wp = weighted[t];
            rows.push(RankingRow {
                measure,
                theme: t,
                raw_n: raw_n[t],
                records_n,
                raw_prevalence: raw[t],
                raked_n,
                weighted_prevalence: wp,
                weighted_ci: wp.zip(n_eff).and_then(|(p, n)| wilson(p * n, n, Z95)),
                raw_rank: k.map(|k| raw_rank[k] as i64),
                weighted_rank: k.zip(ranks.as_ref()).map(|(k, r)| r.rank_weighted[k] as i64),
                rank_change: k.zip(ranks.as_ref()).map(|(k, r)| r.delta_rank[k]),
                effective_n: n_eff,
                suppressed: raw_n[t].suppressed,
            });
        }
    }
    (rows, report)
}
