//! `underheard_concerns.parquet`: the concerns distinctive to groups flagged under-heard.

use super::common::*;
use super::differencing::PeriodCounts;
use super::stats::Published;
use super::theme_by_group::{group_theme_stats, published_rest};

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
