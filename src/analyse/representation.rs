//! `representation.parquet`: feedback share against population share per group, with the
//! goodness-of-fit chi-square and the CV of propensities per dimension: the rows, the statistics
//! they call, and the table's columns ([`table`]).

use super::common::*;
use super::stats::{chi_square_gof, disclose_count, propensity_cv, representation, Flag, Published, Z95};
use crate::table::{Col, ColumnData, Table};

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

/// The `representation` table: its columns, their documentation (the data dictionary) and values.
#[must_use]
pub(crate) fn table(rows: &[RepresentationRow]) -> Table {
    Table {
        name: "representation".to_owned(),
        grain: "period × dimension × group: respondents' share of feedback against the population's".to_owned(),
        columns: vec![
            Col::new(
                "period_type",
                "`all`: the whole run (the months add up to it: never sum the two; filter period_type first), or `month`",
                strs(rows, |r| owned(if r.period == "all" { "all" } else { "month" })),
            ),
            Col::new("period", "`all` for the whole run, else the month YYYY-MM", strs(rows, |r| owned(&r.period))),
            Col::new("dimension", "demographic dimension", strs(rows, |r| owned(&r.dimension))),
            Col::new("group_name", "group (stated groups and baseline groups; missing / not_stated / unmapped are in missing_n)", strs(rows, |r| owned(&r.group))),
            Col::new("feedback_n", format!("respondents in the group {PUBLISHED}"), counts(rows, |r| r.feedback_n)),
            Col::new("eligible_n", format!("respondents in the groups the baseline covers: the denominator of feedback_share {PUBLISHED}"), counts(rows, |r| r.stated_n)),
            Col::new("missing_n", format!("respondents with no stated group in the dimension, or one the baseline has no population for (an age outside its bands) {PUBLISHED}"), counts(rows, |r| r.n_missing)),
            Col::new("feedback_share", "feedback_n / eligible_n, both as published", f64s(rows, |r| r.feedback_share)),
            Col::new("population_share", "the group's share of the baseline population", f64s(rows, |r| r.population_share)),
            Col::new("ratio", "feedback_share / population_share", f64s(rows, |r| r.ratio)),
            Col::new("ratio_low", "Wilson 95% interval of feedback_n out of eligible_n (as published) divided by the population share, lower", f64s(rows, |r| r.ratio_low)),
            Col::new("ratio_high", "same, upper", f64s(rows, |r| r.ratio_high)),
            Col::new("representation_flag", "under_represented (upper < 0.8), below_parity (upper < 1), no_evidence, above_parity (lower > 1), over_represented (lower > 1.25), no_baseline, or suppressed", strs(rows, |r| owned(&r.flag))),
            Col::new("is_suppressed", "feedback_n or eligible_n was 1-7: the row's statistics are null", ColumnData::Bool(rows.iter().map(|r| Some(r.suppressed)).collect())),
            Col::new("chi_square", "per dimension: goodness-of-fit chi-square of the published feedback_n of the baseline's groups against the baseline; null when one is suppressed", f64s(rows, |r| r.chi_square)),
            Col::new("chi_square_df", "its degrees of freedom", ColumnData::I64(rows.iter().map(|r| r.chi_square_df).collect())),
            Col::new("chi_square_p", "its p-value", f64s(rows, |r| r.chi_square_p)),
            Col::new("cv_propensity", "per dimension: coefficient of variation of response propensities, from the same published counts (0 = representative; bounds the bias of an unweighted prevalence at cv × 0.5)", f64s(rows, |r| r.cv_propensity)),
            Col::new("cv_contribution", "the group's contribution sqrt(P)(ratio - 1) to cv_propensity; negative when under-represented", f64s(rows, |r| r.cv_contribution)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::common::formulas::wilson95;
    use crate::analyse::stats::testutil::{close, num, vectors};
    use crate::analyse::stats::DisclosureRule;

    /// The flag rule of METHODS §1 with its default thresholds.
    fn flag(lo: f64, hi: f64) -> &'static str {
        if hi < 0.8 {
            "under_represented"
        } else if hi < 1.0 {
            "below_parity"
        } else if lo > 1.25 {
            "over_represented"
        } else if lo > 1.0 {
            "above_parity"
        } else {
            "no_evidence"
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn baseline(pop: &[Option<f64>]) -> DimBaseline {
        DimBaseline { population: pop.to_vec(), unseen: Vec::new() }
    }

    fn open() -> WhoSettings {
        WhoSettings {
            disclosure: DisclosureRule { suppress_max: 0, round_to: 1, suppress_zero: false },
            ..WhoSettings::default()
        }
    }

    /// 60 of 1,000 respondents against a 10% population share (METHODS §1's example): ratio
    /// 0.6, the Wilson interval divided by the share, `under_represented`; the other group and the
    /// dimension's chi-square and CV from their formulas; `not_stated` only in n_missing.
    #[test]
    fn ratio_interval_and_flag_follow_the_formula() {
        let names = names(&["A", "B", "not_stated"]);
        let rows = representation_rows(
            "all",
            "ethnicity",
            &names,
            &[60, 940, 30],
            &baseline(&[Some(10_000.0), Some(90_000.0), None]),
            &WhoSettings::default(),
        );
        assert_eq!(rows.iter().map(|r| r.group.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        for (row, x, share) in [(&rows[0], 60.0, 0.1), (&rows[1], 940.0, 0.9)] {
            let (lo, hi) = wilson95(x, 1000.0);
            let g = &row.group;
            close(&format!("{g} share"), row.feedback_share.expect("share"), x / 1000.0);
            close(&format!("{g} population share"), row.population_share.expect("population"), share);
            close(&format!("{g} ratio"), row.ratio.expect("ratio"), x / 1000.0 / share);
            close(&format!("{g} low"), row.ratio_low.expect("low"), lo / share);
            close(&format!("{g} high"), row.ratio_high.expect("high"), hi / share);
            assert_eq!(row.flag, flag(lo / share, hi / share), "{g}");
            close(
                &format!("{g} cv contribution"),
                row.cv_contribution.expect("c"),
                share.sqrt() * (x / 1000.0 / share - 1.0),
            );
            assert_eq!(
                (row.feedback_n.value, row.stated_n.value, row.n_missing.value),
                (Some(x as u64), Some(1000), Some(30))
            );
        }
        assert_eq!((rows[0].flag.as_str(), rows[1].flag.as_str()), ("under_represented", "above_parity"));
        // the METHODS vector of the same case
        close("A low (vector)", rows[0].ratio_low.expect("low"), 0.4689647268);
        close("A high (vector)", rows[0].ratio_high.expect("high"), 0.7647107479);
        // chi-square against n·P, and CV = sqrt(N/(N-1))·sqrt(Σ P (RR-1)²)
        let chi = (60.0f64 - 100.0).powi(2) / 100.0 + (940.0f64 - 900.0).powi(2) / 900.0;
        let cv = (100_000.0f64 / 99_999.0).sqrt() * (0.1 * 0.4f64.powi(2) + 0.9 * (0.94f64 / 0.9 - 1.0).powi(2)).sqrt();
        for row in &rows {
            close("chi-square", row.chi_square.expect("chi"), chi);
            assert_eq!(row.chi_square_df, Some(1));
            close("cv", row.cv_propensity.expect("cv"), cv);
        }
    }

    /// Every figure comes from the published counts: 62 respondents are published as 60 and the
    /// ratio is 60/1005 over the share; a group of 5 is suppressed (no statistic, flag
    /// `suppressed`) and takes the dimension's chi-square and CV with it.
    #[test]
    fn statistics_come_from_published_counts_and_small_groups_are_suppressed() {
        let names = names(&["A", "B", "C", "missing"]);
        let rows = representation_rows(
            "2025-04",
            "sex",
            &names,
            &[62, 938, 5, 12],
            &baseline(&[Some(10.0), Some(85.0), Some(5.0), None]),
            &WhoSettings::default(),
        );
        let a = &rows[0];
        assert_eq!((a.feedback_n.value, a.stated_n.value, a.n_missing.value), (Some(60), Some(1005), Some(10)));
        let (lo, hi) = wilson95(60.0, 1005.0);
        close("A ratio", a.ratio.expect("ratio"), 60.0 / 1005.0 / 0.1);
        close("A low", a.ratio_low.expect("low"), lo / 0.1);
        close("A high", a.ratio_high.expect("high"), hi / 0.1);
        let c = &rows[2];
        assert!(c.suppressed && c.feedback_n.value.is_none());
        assert_eq!(c.flag, "suppressed");
        assert_eq!(
            (c.feedback_share, c.ratio, c.ratio_low, c.ratio_high, c.cv_contribution),
            (None, None, None, None, None)
        );
        assert!(rows.iter().all(|r| r.chi_square.is_none() && r.cv_propensity.is_none() && r.period == "2025-04"));
    }

    /// METHODS §1 known answers (`1_representation.representation_ratio`), published as they are.
    #[test]
    fn known_answer_vectors_of_representation() {
        let v = vectors();
        let cases = v["1_representation"]["representation_ratio"].as_array().expect("cases");
        for c in cases {
            let (x, n, p) = (num(&c["x"]) as i64, num(&c["n"]) as i64, num(&c["population_share"]));
            let rows = representation_rows(
                "all",
                "d",
                &names(&["g", "others"]),
                &[x, n - x],
                &baseline(&[Some(p * 1000.0), Some((1.0 - p) * 1000.0)]),
                &open(),
            );
            let label = c["label"].as_str().unwrap_or("case");
            close(label, rows[0].ratio.expect("ratio"), num(&c["rr"]));
            close(label, rows[0].ratio_low.expect("low"), num(&c["rr_lower"]));
            close(label, rows[0].ratio_high.expect("high"), num(&c["rr_upper"]));
            assert_eq!(Some(rows[0].flag.as_str()), c["flag"].as_str(), "{label}");
        }
        assert_eq!(cases.len(), 7);
    }

    /// A group with no baseline gets `no_baseline` and no ratio; the table carries each row's
    /// figures into the column named for them.
    #[test]
    fn no_baseline_and_the_table_columns() {
        let names = names(&["A", "B"]);
        let mut rows =
            representation_rows("all", "age", &names, &[40, 60], &baseline(&[None, None]), &WhoSettings::default());
        assert!(rows.iter().all(|r| r.flag == "no_baseline" && r.ratio.is_none()));
        close("share without baseline", rows[0].feedback_share.expect("share"), 0.4);
        rows.extend(representation_rows(
            "all",
            "sex",
            &names,
            &[60, 940],
            &baseline(&[Some(1.0), Some(9.0)]),
            &WhoSettings::default(),
        ));
        let t = table(&rows);
        assert_eq!((t.name.as_str(), t.rows()), ("representation", 4));
        assert_eq!(t.column("ratio"), Some(&ColumnData::F64(rows.iter().map(|r| r.ratio).collect())));
        assert_eq!(t.column("ratio_high"), Some(&ColumnData::F64(rows.iter().map(|r| r.ratio_high).collect())));
        assert_eq!(
            t.column("representation_flag"),
            Some(&ColumnData::Str(rows.iter().map(|r| Some(r.flag.clone())).collect()))
        );
        assert_eq!(t.column("eligible_n"), Some(&ColumnData::I64(vec![Some(100), Some(100), Some(1000), Some(1000)])));
    }
}
