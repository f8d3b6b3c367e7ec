//! `underheard_concerns.parquet`: the concerns distinctive to groups flagged under-heard: the
//! rows (log-odds z and lift from [`group_theme_stats`]), and the table's columns ([`table`]).

use super::common::*;
use super::differencing::PeriodCounts;
use super::stats::Published;
use super::theme_by_group::{group_theme_stats, published_rest};
use crate::code::Codebook;
use crate::people::Groups;
use crate::table::{Col, ColumnData, Table};

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

/// The `underheard_concerns` table: its columns, their documentation (the data dictionary) and values.
#[must_use]
pub fn table(rows: &[UnderheardRow], groups: &Groups, book: &Codebook) -> Table {
    let theme = |r: &UnderheardRow| &book.themes[r.theme];
    Table {
        name: "underheard_concerns".to_owned(),
        grain: "dimension × group flagged under_represented or below_parity × theme raised as a concern".to_owned(),
        columns: vec![
            Col::new("dimension", "demographic dimension", strs(rows, |r| owned(&groups.dimensions[r.dimension]))),
            Col::new("group", "the under-heard group", strs(rows, |r| owned(&groups.names[r.dimension][r.group]))),
            Col::new("representation_flag", "the group's flag in representation (period all)", strs(rows, |r| owned(&r.flag))),
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new("group_n", format!("records of the group {PUBLISHED}"), counts(rows, |r| r.group_n)),
            Col::new("group_concerns", format!("the group's records with the theme as a concern {PUBLISHED}"), counts(rows, |r| r.group_concerns)),
            Col::new("rest_concerns", "the other stated groups' records with the theme as a concern: the sum of their published concern_n in theme_by_group (period all), groups with a suppressed cell left out", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.rest_concerns).ok()).collect())),
            Col::new("rest_n", "the records of those same groups: the sum of their published group_n", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.rest_n).ok()).collect())),
            Col::new("log_odds_z", "weighted log-odds z of the concern, group vs rest (informative Dirichlet prior, alpha0 in the manifest), from the published concern_n of every theme in theme_by_group (period all)", f64s(rows, |r| r.z)),
            Col::new("lift", "group_concerns / group_n over (group_concerns + rest_concerns) / (group_n + rest_n)", f64s(rows, |r| r.lift.map(|l| l.0))),
            Col::new("lift_low", "lift interval, lower", f64s(rows, |r| r.lift.map(|l| l.1))),
            Col::new("lift_high", "lift interval, upper", f64s(rows, |r| r.lift.map(|l| l.2))),
            Col::new("distinctive", "log_odds_z >= 1.96 and at least 5 concerns (descriptive, not adjusted for multiplicity)", ColumnData::Bool(rows.iter().map(|r| Some(r.distinctive)).collect())),
            Col::new("rank", "rank of the theme within the group by log_odds_z (1 = most distinctive)", ColumnData::I64(rows.iter().map(|r| r.rank).collect())),
            Col::new("suppressed", "a count was 1-7: statistics null and not ranked", ColumnData::Bool(rows.iter().map(|r| Some(r.suppressed)).collect())),
        ],
    }
}
