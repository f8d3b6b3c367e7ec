//! `theme_by_group.parquet`: theme rates by group with intervals, lift and log-odds z against
//! the rest, concerns, and the counts withheld against differencing: the rows, the statistics
//! they call, and the table's columns ([`table`]).

use super::common::*;
use super::differencing::PeriodCounts;
use super::stats::{log_odds_dirichlet, relative_risk_lift, wilson, Prior, Published, Z95};
use crate::code::Codebook;
use crate::people::Groups;
use crate::table::{Col, ColumnData, Table};

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

/// The `theme_by_group` table: its columns, their documentation (the data dictionary) and values.
#[must_use]
pub fn table(rows: &[ThemeGroupRow], groups: &Groups, book: &Codebook) -> Table {
    let theme = |r: &ThemeGroupRow| &book.themes[r.theme];
    Table {
        name: "theme_by_group".to_owned(),
        grain: "period × dimension × group × theme".to_owned(),
        columns: vec![
            Col::new("period", "`all` for the whole run, else the month YYYY-MM", strs(rows, |r| owned(&r.period))),
            Col::new("dimension", "demographic dimension", strs(rows, |r| owned(&groups.dimensions[r.dimension]))),
            Col::new(
                "group",
                "group within the dimension (missing / not_stated / unmapped kept distinct)",
                strs(rows, |r| owned(&groups.names[r.dimension][r.group])),
            ),
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new("category", "theme category", strs(rows, |r| owned(&theme(r).category))),
            Col::new("group_n", format!("records (comments) in the group {PUBLISHED}"), counts(rows, |r| r.group_n)),
            Col::new(
                "theme_n",
                format!("records in the group coded with the theme {PUBLISHED}"),
                counts(rows, |r| r.theme_n),
            ),
            Col::new("rate", "theme_n / group_n, both as published; null when either is suppressed", f64s(rows, |r| r.rate)),
            Col::new("rate_low", "Wilson 95% interval of theme_n out of group_n as published, lower", f64s(rows, |r| r.rate_ci.map(|c| c.0))),
            Col::new("rate_high", "Wilson 95% interval of the rate, upper", f64s(rows, |r| r.rate_ci.map(|c| c.1))),
            Col::new(
                "lift",
                "the group's rate over the stated groups' overall rate, from published counts: the rest is the other stated groups whose group_n and theme_n are published",
                f64s(rows, |r| r.lift.map(|l| l.0)),
            ),
            Col::new(
                "lift_low",
                "lift interval, lower (Katz interval of group vs rest, mapped)",
                f64s(rows, |r| r.lift.map(|l| l.1)),
            ),
            Col::new("lift_high", "lift interval, upper", f64s(rows, |r| r.lift.map(|l| l.2))),
            Col::new(
                "log_odds_z",
                "weighted log-odds z, group vs the rest of the stated groups (informative Dirichlet prior), from the published theme_n of every theme (suppressed cells count 0)",
                f64s(rows, |r| r.z),
            ),
            Col::new(
                "concern_n",
                format!("records in the group where the theme is a concern {PUBLISHED}"),
                counts(rows, |r| r.concern_n),
            ),
            Col::new("concern_rate", "concern_n / group_n, both as published; null when suppressed", f64s(rows, |r| r.concern_rate)),
            Col::new(
                "suppressed",
                "group_n or theme_n is null (1-7, or withheld): the row's statistics are null",
                ColumnData::Bool(rows.iter().map(|r| Some(r.suppressed)).collect()),
            ),
            Col::new(
                "withheld",
                "counts of the row withheld against differencing (`group_n`, `theme_n`, `concern_n`, comma-separated): null like a suppressed count, but any value, 0 included, may lie behind them; null when none",
                strs(rows, |r| (!r.withheld.is_empty()).then(|| r.withheld.join(","))),
            ),
        ],
    }
}
