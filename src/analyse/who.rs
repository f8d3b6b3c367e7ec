//! Who is missing: representation against the population, theme rates by group with
//! intervals, the concerns distinctive to under-heard groups, and the theme ranking once every
//! group counts in proportion. Every published count goes through disclosure control.
//!
//! Units: representation counts **respondents** (the first record of each response: a person
//! who answered two questions is one voice); theme statistics count **comments** (records),
//! as METHODS §0 defines prevalence. Groups `missing`, `not_stated` and `unmapped` are left out
//! of every denominator and published as their own rows with `n_missing`.

use super::counts::DimCounts;
use super::differencing::{self, KnownTotals, PeriodCounts};
use super::stats::{
    self, chi_square_gof, disclose_count, log_odds_dirichlet, propensity_cv, relative_risk_lift, representation,
    wilson, DisclosureRule, Flag, FlagThresholds, Prior, Published, Z95,
};

/// Is a group name one of the absent values?
#[must_use]
pub fn is_absent(group: &str) -> bool {
    matches!(group, crate::people::MISSING | crate::people::NOT_STATED | crate::people::UNMAPPED)
}

/// Analysis settings.
#[derive(Debug, Clone)]
pub struct WhoSettings {
    /// Disclosure rule for published counts.
    pub disclosure: DisclosureRule,
    /// Representation flag thresholds.
    pub flags: FlagThresholds,
    /// Prior for the log-odds of distinctive concerns.
    pub prior: Prior,
    /// Weight cap for raking (mean-1 weights).
    pub weight_cap: f64,
}

impl Default for WhoSettings {
    fn default() -> Self {
        WhoSettings {
            disclosure: DisclosureRule::default(),
            flags: FlagThresholds::default(),
            prior: Prior::default(),
            weight_cap: 5.0,
        }
    }
}

/// A baseline for one dimension, aligned with that dimension's group list.
#[derive(Debug, Clone, PartialEq)]
pub struct DimBaseline {
    /// Population per group id (None: the group is not in the baseline).
    pub population: Vec<Option<f64>>,
    /// Baseline groups with no record at all (name, population): they still get a row.
    pub unseen: Vec<(String, f64)>,
}

/// One row of `representation`.
#[derive(Debug, Clone, PartialEq)]
pub struct RepresentationRow {
    /// Period (`all` or `YYYY-MM`).
    pub period: String,
    /// Dimension.
    pub dimension: String,
    /// Group.
    pub group: String,
    /// Respondents in the group (published).
    pub feedback_n: Published,
    /// Respondents in the groups the baseline covers (all stated groups without a baseline): the
    /// denominator of the shares (published).
    pub stated_n: Published,
    /// Respondents with no stated group, or one the baseline has no population for (published).
    pub n_missing: Published,
    /// Share of stated feedback.
    pub feedback_share: Option<f64>,
    /// Share of the population.
    pub population_share: Option<f64>,
    /// Ratio with interval.
    pub ratio: Option<f64>,
    /// Lower bound.
    pub ratio_low: Option<f64>,
    /// Upper bound.
    pub ratio_high: Option<f64>,
    /// Flag.
    pub flag: String,
    /// Suppressed by disclosure control.
    pub suppressed: bool,
    /// Per dimension: chi-square goodness of fit.
    pub chi_square: Option<f64>,
    /// Its degrees of freedom.
    pub chi_square_df: Option<i64>,
    /// Its p-value.
    pub chi_square_p: Option<f64>,
    /// Coefficient of variation of response propensities (0 = representative).
    pub cv_propensity: Option<f64>,
    /// This group's contribution sqrt(P)(RR−1) to the CV.
    pub cv_contribution: Option<f64>,
}

/// Representation rows for one dimension and period.
#[must_use]
pub fn representation_rows(
    period: &str,
    dimension: &str,
    names: &[String],
    respondents: &[i64],
    base: &DimBaseline,
    s: &WhoSettings,
) -> Vec<RepresentationRow> {
    // where the dimension has a baseline, a group it has no population for (an age outside
    // every band in force) counts as unmapped here
    let with_baseline = base.population.iter().any(Option::is_some);
    let absent = |g: usize| is_absent(&names[g]) || (with_baseline && base.population[g].is_none());
    let stated: Vec<usize> = (0..names.len()).filter(|&g| !absent(g)).collect();
    let n: u64 = stated.iter().map(|&g| respondents[g].max(0) as u64).sum();
    let missing: u64 = (0..names.len()).filter(|&g| absent(g)).map(|g| respondents[g].max(0) as u64).sum();
    // groups in the baseline (seen or not), for the chi-square and CV
    let total_pop: f64 =
        stated.iter().filter_map(|&g| base.population[g]).sum::<f64>() + base.unseen.iter().map(|u| u.1).sum::<f64>();
    let mut obs = Vec::new();
    let mut pop = Vec::new();
    for &g in &stated {
        if let Some(p) = base.population[g] {
            obs.push(respondents[g].max(0) as u64);
            pop.push(p);
        }
    }
    for u in &base.unseen {
        obs.push(0);
        pop.push(u.1);
    }
    // every statistic below is computed from the published (rounded, suppressed) counts (METHODS
    // §6): the eligible total is rounded from its unrounded value, and the chi-square and CV take
    // the groups' published counts, so none of them says more than the counts do; one suppressed
    // group makes the dimension's chi-square and CV null
    let has_baseline = total_pop > 0.0;
    let n_eligible = if has_baseline { obs.iter().sum() } else { n };
    let stated_pub = disclose_count(n_eligible, &s.disclosure);
    let missing_pub = disclose_count(missing, &s.disclosure);
    let obs_pub: Option<Vec<u64>> = obs.iter().map(|&x| disclose_count(x, &s.disclosure).value).collect();
    let shares: Vec<f64> = if has_baseline { pop.iter().map(|p| p / total_pop).collect() } else { Vec::new() };
    let covered: u64 = obs_pub.as_ref().map_or(0, |o| o.iter().sum());
    let gof = obs_pub.as_ref().filter(|_| covered > 0 && shares.len() > 1).and_then(|o| chi_square_gof(o, &shares));
    let cv = obs_pub.as_ref().filter(|_| covered > 0 && pop.len() > 1).and_then(|o| propensity_cv(o, &pop));
    let dim_stats = (
        gof.as_ref().map(|g| g.statistic),
        gof.as_ref().map(|g| g.df as i64),
        gof.as_ref().map(|g| g.p_value),
        cv.as_ref().map(|c| c.cv),
    );
    let row = |group: &str, x: u64, p: Option<f64>, contribution: Option<f64>| {
        let share_p = p.filter(|_| total_pop > 0.0).map(|p| p / total_pop);
        let eligible = !has_baseline || share_p.is_some();
        let published = disclose_count(x, &s.disclosure);
        // a zero count is published (0 stays 0); a suppressed count hides every statistic of its row
        let suppressed = published.suppressed || stated_pub.suppressed;
        let rep = match (published.value, stated_pub.value) {
            (Some(x), Some(n)) if eligible => representation(x, n, share_p, Z95, &s.flags),
            _ => None,
        };
        let gate = |v: Option<f64>| if suppressed { None } else { v };
        RepresentationRow {
            period: period.to_owned(),
            dimension: dimension.to_owned(),
            group: group.to_owned(),
            feedback_n: published,
            stated_n: stated_pub,
            n_missing: missing_pub,
            feedback_share: gate(rep.as_ref().map(|r| r.share)),
            population_share: share_p,
            ratio: gate(rep.as_ref().and_then(|r| r.ratio.map(|x| x.ratio))),
            ratio_low: gate(rep.as_ref().and_then(|r| r.ratio.map(|x| x.lower))),
            ratio_high: gate(rep.as_ref().and_then(|r| r.ratio.map(|x| x.upper))),
            flag: if suppressed {
                "suppressed".to_owned()
            } else {
                rep.map_or(Flag::NoBaseline, |r| r.flag).as_str().to_owned()
            },
            suppressed,
            chi_square: dim_stats.0,
            chi_square_df: dim_stats.1,
            chi_square_p: dim_stats.2,
            cv_propensity: dim_stats.3,
            cv_contribution: gate(contribution),
        }
    };
    let mut rows = Vec::new();
    let mut k = 0;
    for &g in &stated {
        let contribution = base.population[g].and_then(|_| {
            let c = cv.as_ref().map(|c| c.contributions[k]);
            k += 1;
            c
        });
        rows.push(row(&names[g], respondents[g].max(0) as u64, base.population[g], contribution));
    }
    for (i, u) in base.unseen.iter().enumerate() {
        let c = cv.as_ref().map(|c| c.contributions[k + i]);
        rows.push(row(&u.0, 0, Some(u.1), c));
    }
    rows
}

/// Statistics of one theme in one group against the rest of the stated groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupTheme {
    /// Wilson interval of the rate.
    pub rate_ci: Option<(f64, f64)>,
    /// Lift against the overall rate with its interval.
    pub lift: Option<(f64, f64, f64)>,
    /// Weighted log-odds z (informative Dirichlet prior), group vs rest.
    pub z: Option<f64>,
}

/// The rest of group `g` for theme `t`, from published counts only: the other stated groups whose
/// group size and count are both published (a suppressed cell is left out of the numerator and
/// its group out of the denominator). Returns (count, records).
#[must_use]
pub fn published_rest(
    names: &[String],
    records: &[Published],
    counts: &[Vec<Published>],
    g: usize,
    t: usize,
) -> (u64, u64) {
    (0..names.len())
        .filter(|&h| h != g && !is_absent(&names[h]))
        .filter_map(|h| Some((counts[h][t].value?, records[h].value?)))
        .fold((0, 0), |(b, n), (x, r)| (b + x, n + r))
}

/// Per group (stated groups only), per theme: rate interval, lift and log-odds z of `counts`
/// (mentions or concerns) against the rest of the stated groups, all from the **published**
/// counts (METHODS §6): a group's own suppressed cell gives `None`, and the rest is
/// [`published_rest`], so no figure says more than the published counts do.
#[must_use]
pub fn group_theme_stats(
    names: &[String],
    records: &[Published],
    counts: &[Vec<Published>],
    prior: Prior,
) -> Vec<Vec<Option<GroupTheme>>> {
    let n_themes = counts.first().map_or(0, Vec::len);
    (0..names.len())
        .map(|g| {
            let Some(n_g) = records[g].value.filter(|_| !is_absent(&names[g])) else {
                return vec![None; n_themes];
            };
            let rest: Vec<(u64, u64)> = (0..n_themes).map(|t| published_rest(names, records, counts, g, t)).collect();
            let y_group: Vec<f64> = counts[g].iter().map(|c| c.value.unwrap_or(0) as f64).collect();
            let y_rest: Vec<f64> = rest.iter().map(|r| r.0 as f64).collect();
            let z = log_odds_dirichlet(&y_group, &y_rest, prior);
            (0..n_themes)
                .map(|t| {
                    let a = counts[g][t].value?;
                    let (b, n_r) = rest[t];
                    let rl = relative_risk_lift(a, n_g, b, n_r, Z95);
                    Some(GroupTheme {
                        rate_ci: wilson(a as f64, n_g as f64, Z95),
                        lift: rl.and_then(|r| r.lift.map(|l| (l, r.lift_lower, r.lift_upper))),
                        z: z.as_ref().and_then(|z| z[t].map(|lo| lo.z)),
                    })
                })
                .collect()
        })
        .collect()
}

/// Re-export for callers that publish counts.
#[must_use]
pub fn publish(n: i64, rule: &DisclosureRule) -> Published {
    stats::disclose_count(n.max(0) as u64, rule)
}

/// Counts of one dimension for one period, as the statistics want them.
#[must_use]
pub fn period_view(c: &DimCounts, period: usize) -> (&[i64], &[i64], &[Vec<i64>], &[Vec<i64>]) {
    (&c.records[period], &c.respondents[period], &c.mentions[period], &c.concerns[period])
}

/// The published counts of one dimension in one period (before the differencing guard).
#[must_use]
pub fn publish_period(
    records: &[i64],
    mentions: &[Vec<i64>],
    concerns: &[Vec<i64>],
    rule: &DisclosureRule,
) -> PeriodCounts {
    let each = |m: &[Vec<i64>]| m.iter().map(|row| row.iter().map(|&c| publish(c, rule)).collect()).collect();
    PeriodCounts {
        records: records.iter().map(|&r| publish(r, rule)).collect(),
        mentions: each(mentions),
        concerns: each(concerns),
        withheld: std::collections::BTreeSet::new(),
    }
}

/// A share of two published counts (`None` when either is suppressed or the denominator is 0).
fn ratio_of(num: Published, den: Published) -> Option<f64> {
    let d = den.value.filter(|d| *d > 0)?;
    Some(num.value? as f64 / d as f64)
}

/// One row of `theme_by_group`.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeGroupRow {
    /// Period.
    pub period: String,
    /// Dimension index.
    pub dimension: usize,
    /// Group id.
    pub group: usize,
    /// Theme index.
    pub theme: usize,
    /// Records in the group.
    pub group_n: Published,
    /// Records mentioning the theme.
    pub theme_n: Published,
    /// Records where the theme is a concern.
    pub concern_n: Published,
    /// theme_n / group_n.
    pub rate: Option<f64>,
    /// Wilson interval.
    pub rate_ci: Option<(f64, f64)>,
    /// concern_n / group_n.
    pub concern_rate: Option<f64>,
    /// Lift and interval (mentions, group vs rest).
    pub lift: Option<(f64, f64, f64)>,
    /// Log-odds z (mentions, group vs rest).
    pub z: Option<f64>,
    /// Any count of the row suppressed.
    pub suppressed: bool,
    /// The row's counts withheld against differencing (any value may lie behind them).
    pub withheld: Vec<&'static str>,
}

/// `theme_by_group` rows for one dimension and period, from its published counts.
#[must_use]
pub fn theme_group_rows(
    period: &str,
    d: usize,
    names: &[String],
    c: &PeriodCounts,
    s: &WhoSettings,
) -> Vec<ThemeGroupRow> {
    let stats = group_theme_stats(names, &c.records, &c.mentions, s.prior);
    let mut rows = Vec::new();
    for g in 0..names.len() {
        let group_n = c.records[g];
        for t in 0..c.mentions[g].len() {
            let (theme_n, concern_n) = (c.mentions[g][t], c.concerns[g][t]);
            let suppressed = group_n.suppressed || theme_n.suppressed;
            let st = stats[g][t].filter(|_| !suppressed);
            rows.push(ThemeGroupRow {
                period: period.to_owned(),
                dimension: d,
                group: g,
                theme: t,
                group_n,
                theme_n,
                concern_n,
                rate: ratio_of(theme_n, group_n),
                rate_ci: st.and_then(|x| x.rate_ci),
                concern_rate: ratio_of(concern_n, group_n).filter(|_| !suppressed),
                lift: st.and_then(|x| x.lift),
                z: st.and_then(|x| x.z),
                suppressed,
                withheld: [(0u8, 0usize, "group_n"), (1, t, "theme_n"), (2, t, "concern_n")]
                    .into_iter()
                    .filter(|(k, th, _)| c.withheld.contains(&(*k, g, *th)))
                    .map(|x| x.2)
                    .collect(),
            });
        }
    }
    rows
}

/// One row of `underheard_concerns`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnderheardRow {
    /// Dimension index.
    pub dimension: usize,
    /// Group id.
    pub group: usize,
    /// The group's representation flag.
    pub flag: String,
    /// Theme index.
    pub theme: usize,
    /// Records in the group.
    pub group_n: Published,
    /// The group's records where the theme is a concern.
    pub group_concerns: Published,
    /// The rest's records where the theme is a concern: the sum of the other stated groups'
    /// published counts ([`published_rest`]).
    pub rest_concerns: u64,
    /// The rest's records: the sum of the same groups' published sizes.
    pub rest_n: u64,
    /// Log-odds z with the informative Dirichlet prior, group vs rest.
    pub z: Option<f64>,
    /// Lift with interval.
    pub lift: Option<(f64, f64, f64)>,
    /// z ≥ 1.96 and at least 5 group concerns (METHODS §3).
    pub distinctive: bool,
    /// Rank within the group by z (1 = most distinctive).
    pub rank: Option<i64>,
    /// Suppressed by disclosure control.
    pub suppressed: bool,
}

/// The concerns of groups flagged `under_represented` or `below_parity`, ranked by z, from the
/// published concern counts of `theme_by_group` (period `all`): one row per theme whose published
/// count is not 0.
#[must_use]
pub fn underheard_rows(
    d: usize,
    names: &[String],
    c: &PeriodCounts,
    flags: &[(usize, String)],
    s: &WhoSettings,
) -> Vec<UnderheardRow> {
    let stats = group_theme_stats(names, &c.records, &c.concerns, s.prior);
    let n_themes = c.concerns.first().map_or(0, Vec::len);
    let mut out = Vec::new();
    for (g, flag) in flags {
        let g = *g;
        let group_n = c.records[g];
        let mut rows: Vec<UnderheardRow> = (0..n_themes)
            .filter(|&t| c.concerns[g][t].value != Some(0))
            .map(|t| {
                let gc = c.concerns[g][t];
                let (rest_concerns, rest_n) = published_rest(names, &c.records, &c.concerns, g, t);
                let suppressed = group_n.suppressed || gc.suppressed;
                let st = stats[g][t].filter(|_| !suppressed);
                let z = st.and_then(|x| x.z);
                UnderheardRow {
                    dimension: d,
                    group: g,
                    flag: flag.clone(),
                    theme: t,
                    group_n,
                    group_concerns: gc,
                    rest_concerns,
                    rest_n,
                    z,
                    lift: st.and_then(|x| x.lift),
                    distinctive: z.is_some_and(|z| z >= 1.96) && gc.value.is_some_and(|v| v >= 5),
                    rank: None,
                    suppressed,
                }
            })
            .collect();
        // rank by z, descending, ties = min (two themes coded on the same words tie); suppressed
        // rows are not ranked
        let zs: Vec<f64> = rows.iter().filter_map(|r| r.z).collect();
        for r in &mut rows {
            r.rank = r.z.map(|z| 1 + zs.iter().filter(|&&o| o > z + 1e-12).count() as i64);
        }
        rows.sort_by_key(|r| (r.rank.unwrap_or(i64::MAX), r.theme));
        out.extend(rows);
    }
    out
}

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

/// Everything the who-is-missing analysis needs.
#[derive(Debug, Clone, Copy)]
pub struct WhoInput<'a> {
    /// Dimension names.
    pub dimensions: &'a [String],
    /// Per dimension: group names.
    pub names: &'a [Vec<String>],
    /// Per dimension: each record's group id.
    pub ids: &'a [Vec<u32>],
    /// Per dimension: counts.
    pub counts: &'a [DimCounts],
    /// Period labels: `all`, then the months.
    pub periods: &'a [String],
    /// Per dimension: the baseline, if it has one.
    pub baselines: &'a [Option<DimBaseline>],
    /// (record, theme, is_concern).
    pub pairs: &'a [(u32, u32, bool)],
    /// Records.
    pub n_records: usize,
    /// Themes.
    pub n_themes: usize,
    /// Dimensions to rake over.
    pub raking: &'a [String],
}

/// The analysis' rows.
#[derive(Debug, Clone, Default)]
pub struct WhoOutput {
    /// `representation`.
    pub representation: Vec<RepresentationRow>,
    /// `theme_by_group`.
    pub theme_by_group: Vec<ThemeGroupRow>,
    /// `underheard_concerns`.
    pub underheard: Vec<UnderheardRow>,
    /// `theme_ranking`.
    pub ranking: Vec<RankingRow>,
    /// What raking did.
    pub raking: RakingReport,
    /// `theme_by_group` counts withheld against differencing.
    pub withheld: usize,
}

/// Runs every statistic of the who-is-missing analysis.
#[must_use]
pub fn analyse(input: &WhoInput<'_>, s: &WhoSettings) -> WhoOutput {
    let mut out = WhoOutput::default();
    let empty = DimBaseline { population: Vec::new(), unseen: Vec::new() };
    // the published counts of theme_by_group, guarded against differencing before any statistic
    // is computed from them
    let mut published: Vec<Vec<Option<PeriodCounts>>> = input
        .counts
        .iter()
        .map(|c| {
            (0..input.periods.len())
                .map(|p| {
                    let (records, _, mentions, concerns) = period_view(c, p);
                    (p == 0 || records.iter().any(|&r| r != 0))
                        .then(|| publish_period(records, mentions, concerns, &s.disclosure))
                })
                .collect()
        })
        .collect();
    // theme_ranking publishes the run's totals (records_n, raw_n): the guard counts them as known
    let known = input.counts.first().map_or_else(KnownTotals::default, |c| {
        let (records, _, mentions, concerns) = period_view(c, 0);
        let per_theme = |m: &[Vec<i64>]| -> Vec<Published> {
            (0..input.n_themes)
                .map(|t| publish(m.iter().map(|row| row.get(t).copied().unwrap_or(0)).sum(), &s.disclosure))
                .collect()
        };
        KnownTotals {
            records: Some(publish(records.iter().sum(), &s.disclosure)),
            mentions: per_theme(mentions),
            concerns: per_theme(concerns),
        }
    });
    out.withheld = differencing::withhold(&mut published, &known, &s.disclosure);
    for (d, dim) in input.dimensions.iter().enumerate() {
        let names = &input.names[d];
        let c = &input.counts[d];
        let base = input.baselines[d]
            .clone()
            .unwrap_or_else(|| DimBaseline { population: vec![None; names.len()], ..empty.clone() });
        for (p, period) in input.periods.iter().enumerate() {
            let Some(pc) = &published[d][p] else { continue };
            let (_, respondents, _, _) = period_view(c, p);
            let rep = representation_rows(period, dim, names, respondents, &base, s);
            if p == 0 {
                let flagged: Vec<(usize, String)> = rep
                    .iter()
                    .filter(|r| r.flag == Flag::UnderRepresented.as_str() || r.flag == Flag::BelowParity.as_str())
                    .filter_map(|r| names.iter().position(|n| *n == r.group).map(|g| (g, r.flag.clone())))
                    .collect();
                out.underheard.extend(underheard_rows(d, names, pc, &flagged, s));
            }
            out.representation.extend(rep);
            out.theme_by_group.extend(theme_group_rows(period, d, names, pc, s));
        }
    }
    let margins: Vec<(String, &[u32], Vec<Option<f64>>, Vec<String>)> = input
        .raking
        .iter()
        .filter_map(|name| {
            let d = input.dimensions.iter().position(|x| x == name)?;
            let base = input.baselines[d].as_ref()?;
            Some((name.clone(), input.ids[d].as_slice(), base.population.clone(), input.names[d].clone()))
        })
        .collect();
    let (ranking, report) = ranking(input.n_records, input.n_themes, input.pairs, &margins, s);
    out.ranking = ranking;
    out.raking = report;
    out
}
