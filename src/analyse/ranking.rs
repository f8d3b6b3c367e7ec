//! `theme_ranking.parquet`: raw and raked prevalence of themes and the rank change; what raking did;
//! the table's columns ([`table`]).

use super::common::*;
use super::counts::Cell;
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
            // a theme nobody raised has no rank: ranked among the published themes, themes of 0
            // came first in a small run whose every raised theme was suppressed (1 to 7 is more
            // than 0; found in the twenty-fourth session on issue 9)
            let k = shown.iter().position(|&x| x == t).filter(|_| raw_n[t].value != Some(0));
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
pub(crate) fn table(rows: &[RankingRow], book: &Codebook) -> Table {
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
                "rank by raw_prevalence among the themes published (1 = most common, ties = min); null for a theme of raw_n 0 (none raised it) or suppressed",
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
                "is_suppressed",
                "raw_n was 1-7: prevalences and ranks null",
                ColumnData::Bool(rows.iter().map(|r| Some(r.suppressed)).collect()),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::common::formulas::{published, wilson95};
    use crate::analyse::stats::testutil::close;

    /// A tiny raked case, one margin with equal population shares: A has 10 records, B 30,
    /// `not_stated` 5 (left out of raking, counted raw). Theme 0 is in 8 of A's and 3 of B's
    /// records, theme 1 in 1 of A's, 15 of B's (concerns) and every `not_stated` one, theme 2 in
    /// 3 of B's. The only place [`ranking`] is called, so a change of its inputs changes one line.
    fn tiny(rule: DisclosureRule) -> (Vec<RankingRow>, RakingReport) {
        let mut ids = vec![0u32; 10];
        ids.extend([1u32; 30]);
        ids.extend([2u32; 5]);
        let mut pairs: Vec<(u32, u32, bool)> = Vec::new();
        pairs.extend((0..8).map(|r| (r, 0, false)));
        pairs.extend((10..13).map(|r| (r, 0, false)));
        pairs.push((9, 1, false));
        pairs.extend((10..25).map(|r| (r, 1, true)));
        pairs.extend((40..45).map(|r| (r, 1, false)));
        pairs.extend((30..33).map(|r| (r, 2, false)));
        let names = vec!["A".to_owned(), "B".to_owned(), "not_stated".to_owned()];
        // the records counted as a run counts them: raking cells over the one dimension
        let mut themes = vec![Vec::new(); 45];
        for &(r, t, c) in &pairs {
            themes[r as usize].push((t, c));
        }
        let mut counter = super::super::counts::Counter::new(1, 3, vec![0]);
        counter.add(&super::super::counts::BatchCounts {
            month: &[0; 45],
            groups: &[ids],
            first_of_response: &[true; 45],
            first_in_month: &[true; 45],
            themes: &themes,
        });
        let counted = counter.finish(&[0], 1, &[vec![0, 1, 2]], &[3]);
        let margins = [("sex".to_owned(), vec![Some(50.0), Some(50.0), None], names)];
        let s = WhoSettings { disclosure: rule, ..WhoSettings::default() };
        ranking(&counted.totals, 3, &counted.cells, &margins, &s)
    }

    fn row<'a>(rows: &'a [RankingRow], measure: &str, theme: usize) -> &'a RankingRow {
        rows.iter().find(|r| r.measure == measure && r.theme == theme).expect("row")
    }

    /// Without disclosure control: the raw prevalence counts every record; the weighted one is
    /// the post-stratified Σ_h P_h·x_h/n_h of METHODS §2 over the raked records (weights 2 for A's,
    /// 2/3 for B's); the ranks swap; Kish n_eff = (Σw)²/Σw² = 30; Kendall's tau-b = 1/3.
    #[test]
    fn raw_against_weighted_prevalence_on_a_tiny_raked_case() {
        let (rows, report) = tiny(DisclosureRule { suppress_max: 0, round_to: 1, suppress_zero: false });
        assert_eq!(rows.len(), 6);
        assert_eq!((report.records_raked, report.records_dropped, report.converged), (40, 5, true));
        let w = [2.0f64, 2.0 / 3.0];
        let n_eff = (10.0 * w[0] + 30.0 * w[1]).powi(2) / (10.0 * w[0] * w[0] + 30.0 * w[1] * w[1]);
        close("n_eff", n_eff, 30.0);
        close("report n_eff", report.effective_n.expect("n_eff"), n_eff);
        let post = |a: f64, b: f64| 0.5 * a / 10.0 + 0.5 * b / 30.0;
        for (measure, t, raw, a, b) in [
            ("mentions", 0, 11.0, 8.0, 3.0),
            ("mentions", 1, 21.0, 1.0, 15.0),
            ("mentions", 2, 3.0, 0.0, 3.0),
            ("concerns", 1, 15.0, 0.0, 15.0),
            ("concerns", 0, 0.0, 0.0, 0.0),
        ] {
            let r = row(&rows, measure, t);
            let case = format!("{measure} {t}");
            assert_eq!(
                (r.raw_n.value, r.records_n.value, r.raked_n.and_then(|n| n.value)),
                (Some(raw as u64), Some(45), Some(40))
            );
            close(&format!("{case} raw"), r.raw_prevalence.expect("raw"), raw / 45.0);
            let p = post(a, b);
            close(&format!("{case} weighted"), r.weighted_prevalence.expect("weighted"), p);
            let (lo, hi) = wilson95(p * 30.0, 30.0);
            let ci = r.weighted_ci.expect("interval");
            close(&format!("{case} low"), ci.0, lo.max(0.0));
            close(&format!("{case} high"), ci.1, hi);
            assert_eq!(r.effective_n, Some(30.0));
        }
        // theme 1 is the commonest raw (21/45), theme 0 once A counts as much as B (0.45 > 0.30)
        let ranks = |t: usize| {
            let r = row(&rows, "mentions", t);
            (r.raw_rank, r.weighted_rank, r.rank_change)
        };
        assert_eq!(ranks(0), (Some(2), Some(1), Some(1)));
        assert_eq!(ranks(1), (Some(1), Some(2), Some(-1)));
        assert_eq!(ranks(2), (Some(3), Some(3), Some(0)));
        close("tau-b", report.kendall_tau_b.expect("tau"), 1.0 / 3.0);
    }

    /// Under the default rule every figure comes from published counts: raw_n 11 is published 10
    /// over 45 records; the weighted count 18 is rounded like a count to 20, over 40 raked; a theme
    /// of 3 records is suppressed, with no prevalence and no rank.
    #[test]
    fn published_figures_and_a_suppressed_theme() {
        let (rows, _) = tiny(DisclosureRule::default());
        let t0 = row(&rows, "mentions", 0);
        assert_eq!((published(11), published(18), published(12)), (Some(10.0), Some(20.0), Some(10.0)));
        close("raw 0", t0.raw_prevalence.expect("raw"), 10.0 / 45.0);
        close("weighted 0", t0.weighted_prevalence.expect("weighted"), 20.0 / 40.0);
        close("weighted 1", row(&rows, "mentions", 1).weighted_prevalence.expect("weighted"), 10.0 / 40.0);
        let t2 = row(&rows, "mentions", 2);
        assert!(t2.suppressed && t2.raw_n.value.is_none());
        assert_eq!((t2.raw_prevalence, t2.weighted_prevalence, t2.weighted_ci), (None, None, None));
        assert_eq!((t2.raw_rank, t2.weighted_rank, t2.rank_change), (None, None, None));
        assert_eq!((t0.raw_rank, t0.weighted_rank), (Some(2), Some(1)));
        // a theme nobody raised has no rank either (it ranked first where every raised theme
        // was suppressed)
        let zeros: Vec<&RankingRow> = rows.iter().filter(|r| r.raw_n.value == Some(0)).collect();
        assert!(!zeros.is_empty(), "the fixture has a theme of 0");
        assert!(zeros.iter().all(|r| (r.raw_rank, r.weighted_rank, r.rank_change) == (None, None, None)));
    }

    /// The table carries each row's figures into the column named for them.
    #[test]
    fn table_columns_carry_the_rows() {
        let (rows, _) = tiny(DisclosureRule::default());
        let book = Codebook::from_toml(
            "[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='W1'\nname='w'\ncategory='c'\nterms=['wait']\n[[theme]]\ncode='S1'\nname='s'\ncategory='c'\nterms=['rude']\n[[theme]]\ncode='P1'\nname='p'\ncategory='c'\nterms=['parking']\n",
            "t.toml",
        )
        .expect("codebook");
        let t = table(&rows, &book);
        assert_eq!((t.name.as_str(), t.rows()), ("theme_ranking", 6));
        assert_eq!(t.column("raw_prevalence"), Some(&ColumnData::F64(rows.iter().map(|r| r.raw_prevalence).collect())));
        assert_eq!(
            t.column("weighted_prevalence"),
            Some(&ColumnData::F64(rows.iter().map(|r| r.weighted_prevalence).collect()))
        );
        assert_eq!(t.column("rank_change"), Some(&ColumnData::I64(rows.iter().map(|r| r.rank_change).collect())));
        let codes: Vec<Option<String>> = rows.iter().map(|r| Some(["W1", "S1", "P1"][r.theme].to_owned())).collect();
        assert_eq!(t.column("theme_code"), Some(&ColumnData::Str(codes)));
        assert_eq!(
            t.column("raw_n"),
            Some(&ColumnData::I64(vec![Some(10), Some(20), None, Some(0), Some(15), Some(0)]))
        );
    }
}
