//! `theme_ranking.parquet`: raw and raked prevalence of themes and the rank change; what raking did;
//! the table's columns ([`table`]).

use super::common::*;
use super::stats::{self, disclose_count, wilson, DisclosureRule, Published, Z95};
use crate::code::Codebook;
use crate::table::{Col, ColumnData, Table};

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

/// Raw against weighted theme prevalence, raked over `margins` (dimension name, each record's
/// group id, population per group id).
#[must_use]
pub fn ranking(
    n_records: usize,
    n_themes: usize,
    pairs: &[(u32, u32, bool)],
    margins: &[(String, &[u32], Vec<Option<f64>>, Vec<String>)],
    s: &WhoSettings,
) -> (Vec<RankingRow>, RakingReport) {
    let mut report =
        RakingReport { dimensions: margins.iter().map(|m| m.0.clone()).collect(), ..RakingReport::default() };
    // eligible records: every raking dimension has a group with population > 0
    let eligible: Vec<bool> = (0..n_records)
        .map(|r| margins.iter().all(|(_, ids, pop, _)| pop[ids[r] as usize].is_some_and(|p| p > 0.0)))
        .collect();
    // categories seen among eligible records
    let mut cats: Vec<Vec<usize>> = Vec::new();
    let mut targets: Vec<Vec<f64>> = Vec::new();
    for (name, ids, pop, names) in margins {
        let mut seen = vec![false; pop.len()];
        for r in 0..n_records {
            if eligible[r] {
                seen[ids[r] as usize] = true;
            }
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
        cats.push((0..n_records).filter(|&r| eligible[r]).map(|r| idx[ids[r] as usize].unwrap_or(0)).collect());
    }
    let kept: Vec<usize> = (0..n_records).filter(|&r| eligible[r]).collect();
    report.records_raked = kept.len() as u64;
    report.records_dropped = (n_records - kept.len()) as u64;
    let weights = if margins.is_empty() {
        report.skipped = Some("no baseline dimension to rake over".to_owned());
        None
    } else if kept.is_empty() {
        report.skipped = Some("no record has every raking dimension stated".to_owned());
        None
    } else {
        let m: Vec<stats::Margin<'_>> =
            cats.iter().zip(&targets).map(|(c, t)| stats::Margin { category: c, targets: t }).collect();
        match stats::rake(&m, &stats::RakeOptions { cap: Some(s.weight_cap), ..stats::RakeOptions::default() }) {
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
    let raked_n = weights.as_ref().map(|_| disclose_count(kept.len() as u64, rule));
    let n_eff = weights.as_ref().map(|w| round_weighted(w.n_eff, rule));
    report.effective_n = n_eff;
    let mut rows = Vec::new();
    for (measure, concern_only) in [("mentions", false), ("concerns", true)] {
        let mut has = vec![vec![false; n_records]; n_themes];
        let mut raw_count = vec![0i64; n_themes];
        for &(r, t, c) in pairs {
            if !concern_only || c {
                has[t as usize][r as usize] = true;
                raw_count[t as usize] += 1;
            }
        }
        let raw_n: Vec<Published> = raw_count.iter().map(|&c| publish(c, rule)).collect();
        let raw: Vec<Option<f64>> = raw_n.iter().map(|&c| ratio_of(c, records_n)).collect();
        let weighted: Vec<Option<f64>> = (0..n_themes)
            .map(|t| {
                let w = weights.as_ref()?;
                let num: f64 = kept.iter().zip(&w.weights).filter(|(r, _)| has[t][**r]).map(|(_, w)| w).sum();
                let den: f64 = w.weights.iter().sum();
                let raked = raked_n?.value.filter(|n| *n > 0)? as f64;
                (den > 0.0 && !raw_n[t].suppressed).then(|| round_weighted(num / den * kept.len() as f64, rule) / raked)
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

/// The `theme_ranking` table: its columns, their documentation (the data dictionary) and values.
#[must_use]
pub fn table(rows: &[RankingRow], book: &Codebook) -> Table {
    let theme = |r: &RankingRow| &book.themes[r.theme];
    Table {
        name: "theme_ranking".to_owned(),
        grain: "measure (mentions or concerns) × theme: raw against population-weighted prevalence".to_owned(),
        columns: vec![
            Col::new("measure", "mentions (records coded with the theme) or concerns", strs(rows, |r| owned(r.measure))),
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new("raw_n", format!("records {PUBLISHED}"), counts(rows, |r| r.raw_n)),
            Col::new("records_n", format!("all records {PUBLISHED}"), counts(rows, |r| r.records_n)),
            Col::new("raw_prevalence", "raw_n / records_n", f64s(rows, |r| r.raw_prevalence)),
            Col::new("raked_n", format!("records raked {PUBLISHED}"), ColumnData::I64(rows.iter().map(|r| r.raked_n.and_then(pubn)).collect())),
            Col::new(
                "weighted_prevalence",
                "prevalence with records raked to the baseline over the raking dimensions (weights capped): the weighted count of records rounded to the nearest 5, over raked_n",
                f64s(rows, |r| r.weighted_prevalence),
            ),
            Col::new(
                "weighted_low",
                "Wilson 95% interval of weighted_prevalence on effective_n, lower",
                f64s(rows, |r| r.weighted_ci.map(|c| c.0)),
            ),
            Col::new("weighted_high", "same, upper", f64s(rows, |r| r.weighted_ci.map(|c| c.1))),
            Col::new(
                "raw_rank",
                "rank by raw_prevalence among the themes published (1 = most common, ties = min)",
                ColumnData::I64(rows.iter().map(|r| r.raw_rank).collect()),
            ),
            Col::new(
                "weighted_rank",
                "rank by weighted prevalence",
                ColumnData::I64(rows.iter().map(|r| r.weighted_rank).collect()),
            ),
            Col::new(
                "rank_change",
                "raw_rank - weighted_rank: positive when the theme moves up once every group counts in proportion",
                ColumnData::I64(rows.iter().map(|r| r.rank_change).collect()),
            ),
            Col::new("effective_n", "Kish effective sample size of the raked records, rounded to the nearest 5", f64s(rows, |r| r.effective_n)),
            Col::new(
                "suppressed",
                "raw_n was 1-7: prevalences and ranks null",
                ColumnData::Bool(rows.iter().map(|r| Some(r.suppressed)).collect()),
            ),
        ],
    }
}
