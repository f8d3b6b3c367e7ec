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
pub(crate) fn table(rows: &[UnderheardRow], groups: &Groups, book: &Codebook) -> Table {
    let theme = |r: &UnderheardRow| &book.themes[r.theme];
    Table {
        name: "underheard_concerns".to_owned(),
        grain: "dimension × group flagged under_represented or below_parity × theme raised as a concern".to_owned(),
        columns: vec![
            Col::new("dimension", "demographic dimension", strs(rows, |r| owned(&groups.dimensions[r.dimension]))),
            Col::new("group_name", "the under-heard group", strs(rows, |r| owned(&groups.names[r.dimension][r.group]))),
            Col::new("representation_flag", "the group's flag in representation (period all)", strs(rows, |r| owned(&r.flag))),
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new("group_n", format!("records of the group {PUBLISHED}"), counts(rows, |r| r.group_n)),
            Col::new("group_concerns_n", format!("the group's records with the theme as a concern {PUBLISHED}"), counts(rows, |r| r.group_concerns)),
            Col::new("rest_concerns_n", "the other stated groups' records with the theme as a concern: the sum of their published concern_n in theme_by_group (period all), groups with a suppressed cell left out", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.rest_concerns).ok()).collect())),
            Col::new("rest_n", "the records of those same groups: the sum of their published group_n", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.rest_n).ok()).collect())),
            Col::new("log_odds_z", "weighted log-odds z of the concern, group vs rest (informative Dirichlet prior, alpha0 in the manifest), from the published concern_n of every theme in theme_by_group (period all)", f64s(rows, |r| r.z)),
            Col::new("lift", "group_concerns_n / group_n over (group_concerns_n + rest_concerns_n) / (group_n + rest_n)", f64s(rows, |r| r.lift.map(|l| l.0))),
            Col::new("lift_low", "lift interval, lower", f64s(rows, |r| r.lift.map(|l| l.1))),
            Col::new("lift_high", "lift interval, upper", f64s(rows, |r| r.lift.map(|l| l.2))),
            Col::new("is_distinctive", "log_odds_z >= 1.96 and at least 5 concerns (descriptive, not adjusted for multiplicity)", ColumnData::Bool(rows.iter().map(|r| Some(r.distinctive)).collect())),
            Col::new("concern_rank", "rank of the theme within the group by log_odds_z (1 = most distinctive)", ColumnData::I64(rows.iter().map(|r| r.rank).collect())),
            Col::new("is_suppressed", "a count was 1-7: statistics null and not ranked", ColumnData::Bool(rows.iter().map(|r| Some(r.suppressed)).collect())),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::common::formulas::published;
    use crate::analyse::stats::testutil::{close, num, nums, vectors};
    use crate::analyse::stats::{DisclosureRule, Prior, Z95};

    /// Weighted log-odds z with the informative Dirichlet prior α_w = α₀·π_w (METHODS §3, Monroe et
    /// al. 2008), from the formula: n^g and n^r are the total concerns of group and rest.
    fn monroe_z(y_g: &[f64], y_r: &[f64], alpha0: f64) -> Vec<f64> {
        let n_g: f64 = y_g.iter().sum();
        let n_r: f64 = y_r.iter().sum();
        (0..y_g.len())
            .map(|w| {
                let a_w = alpha0 * (y_g[w] + y_r[w]) / (n_g + n_r);
                let delta = ((y_g[w] + a_w) / (n_g + alpha0 - y_g[w] - a_w)).ln()
                    - ((y_r[w] + a_w) / (n_r + alpha0 - y_r[w] - a_w)).ln();
                delta / (1.0 / (y_g[w] + a_w) + 1.0 / (y_r[w] + a_w)).sqrt()
            })
            .collect()
    }

    /// Lift against the overall rate, p_g / p_all, with the Katz log interval of RR (a, b > 0)
    /// mapped through L = RR/(s·RR + 1 − s), s = n_g/(n_g + n_r) (METHODS §3).
    fn lift(a: f64, n_g: f64, b: f64, n_r: f64) -> (f64, f64, f64) {
        let point = (a / n_g) / ((a + b) / (n_g + n_r));
        let rr = (a / n_g) / (b / n_r);
        let se = (1.0 / a - 1.0 / n_g + 1.0 / b - 1.0 / n_r).sqrt();
        let s = n_g / (n_g + n_r);
        let map = |x: f64| x / (s * x + 1.0 - s);
        (point, map(rr * (-Z95 * se).exp()), map(rr * (Z95 * se).exp()))
    }

    fn counts(records: &[i64], concerns: &[Vec<i64>], rule: &DisclosureRule) -> PeriodCounts {
        let mentions = concerns.to_vec();
        publish_period(records, &mentions, concerns, rule)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A hand-made dimension under the default disclosure rule: the published z and lift of the
    /// flagged group equal the METHODS §3 formulas computed here from the published counts: the
    /// group's rounded counts, the rest the other stated groups whose cell is published
    /// (`not_stated` and the suppressed cell left out).
    #[test]
    fn log_odds_z_and_lift_match_the_formulas_on_published_counts() {
        let names = names(&["A", "B", "C", "not_stated"]);
        let records = [40, 300, 262, 50];
        let concerns = vec![vec![20, 9, 3, 12], vec![150, 2, 30, 40], vec![101, 8, 25, 33], vec![40, 40, 40, 40]];
        let s = WhoSettings::default();
        let c = counts(&records, &concerns, &s.disclosure);
        let rows = underheard_rows(0, &names, &c, &[(0, "under_represented".to_owned())], &s);

        // published: A's records 40 and concerns 20, 10, *, 10; B's 300 and 150, *, 30, 40;
        // C's 260 and 100, 10, 25, 35
        let p = |g: usize, t: usize| published(concerns[g][t]);
        let y_g: Vec<f64> = (0..4).map(|t| p(0, t).unwrap_or(0.0)).collect();
        assert_eq!(y_g, [20.0, 10.0, 0.0, 10.0]);
        let rest = |t: usize| -> (f64, f64) {
            [1, 2]
                .iter()
                .filter_map(|&h| Some((p(h, t)?, published(records[h])?)))
                .fold((0.0, 0.0), |a, x| (a.0 + x.0, a.1 + x.1))
        };
        let y_r: Vec<f64> = (0..4).map(|t| rest(t).0).collect();
        assert_eq!(y_r, [250.0, 10.0, 55.0, 75.0]);
        let z = monroe_z(&y_g, &y_r, 100.0);

        // theme 2 is suppressed in the group: its row is published with null statistics
        assert_eq!(rows.len(), 4);
        for t in [0usize, 1, 3] {
            let row = rows.iter().find(|r| r.theme == t).expect("row of the theme");
            let (b, n_r) = rest(t);
            assert_eq!((row.rest_concerns as f64, row.rest_n as f64), (b, n_r), "theme {t}: rest");
            assert_eq!(row.group_concerns.value, Some(y_g[t] as u64));
            assert_eq!(row.group_n.value, Some(40));
            close(&format!("theme {t} z"), row.z.expect("z"), z[t]);
            let (l, lo, hi) = lift(y_g[t], 40.0, b, n_r);
            let got = row.lift.expect("lift");
            close(&format!("theme {t} lift"), got.0, l);
            close(&format!("theme {t} lift_low"), got.1, lo);
            close(&format!("theme {t} lift_high"), got.2, hi);
            assert!(!row.suppressed);
            assert_eq!(row.flag, "under_represented");
        }
        let hidden = rows.iter().find(|r| r.theme == 2).expect("suppressed row");
        assert!(hidden.suppressed);
        assert_eq!((hidden.z, hidden.lift, hidden.rank, hidden.distinctive), (None, None, None, false));
        // ranked by z, descending; the suppressed row last, unranked
        let mut by_z = [0usize, 1, 3];
        by_z.sort_by(|a, b| z[*b].total_cmp(&z[*a]));
        let order: Vec<usize> = rows.iter().map(|r| r.theme).collect();
        assert_eq!(order, [by_z[0], by_z[1], by_z[2], 2]);
        assert_eq!(rows.iter().map(|r| r.rank).collect::<Vec<_>>(), [Some(1), Some(2), Some(3), None]);
        for r in &rows[..3] {
            assert_eq!(r.distinctive, z[r.theme] >= 1.96 && y_g[r.theme] >= 5.0, "theme {}", r.theme);
        }
        // theme 1 (10 of 40 against 10 of 260) is the distinctive one
        assert!(rows[0].theme == 1 && rows[0].distinctive);
    }

    /// METHODS §3 known answers (`3_distinctive_themes`): one group against one rest, published
    /// as they are (no disclosure control): z under each of the three priors, and lift with its
    /// interval; the zero-count theme has no row.
    #[test]
    fn known_answer_vectors_of_distinctive_themes() {
        let v = vectors();
        let case = &v["3_distinctive_themes"];
        let y_group = nums(&case["y_group"]);
        let y_rest = nums(&case["y_rest"]);
        let lifts = case["lift"]["rows"].as_array().expect("lift rows");
        let (n_g, n_r) = (num(&lifts[0]["n_group"]) as i64, num(&lifts[0]["n_rest"]) as i64);
        let concerns = vec![y_group.iter().map(|&x| x as i64).collect(), y_rest.iter().map(|&x| x as i64).collect()];
        let open = DisclosureRule { suppress_max: 0, round_to: 1, suppress_zero: false };
        let names = names(&["group", "rest"]);
        for (key, prior) in [
            ("informative_prior_alpha0_100", Prior::Scaled { alpha0: 100.0 }),
            ("informative_prior_pooled_counts", Prior::PooledCounts),
            ("uniform_prior_0.01", Prior::Uniform { alpha: 0.01 }),
        ] {
            let s = WhoSettings { disclosure: open, prior, ..WhoSettings::default() };
            let c = counts(&[n_g, n_r], &concerns, &s.disclosure);
            let rows = underheard_rows(0, &names, &c, &[(0, "below_parity".to_owned())], &s);
            let want_z = nums(&case[key]["z"]);
            let zero = y_group.iter().filter(|&&y| y == 0.0).count();
            assert_eq!(rows.len(), y_group.len() - zero, "{key}: one row per theme with a concern");
            for row in &rows {
                let t = row.theme;
                assert!(y_group[t] > 0.0);
                close(&format!("{key} z {t}"), row.z.expect("z"), want_z[t]);
                let l = row.lift.expect("lift");
                close(&format!("lift {t}"), l.0, num(&lifts[t]["lift_vs_overall"]));
                close(&format!("lift_low {t}"), l.1, num(&lifts[t]["lift_lower"]));
                close(&format!("lift_high {t}"), l.2, num(&lifts[t]["lift_upper"]));
                let rank = 1 + want_z.iter().enumerate().filter(|(u, z)| y_group[*u] > 0.0 && **z > want_z[t]).count();
                assert_eq!(row.rank, Some(rank as i64), "{key} rank {t}");
            }
        }
        // the METHODS example: interpreter_language, z = 4.49 with alpha0 = 100, is the one flagged
        let themes = case["themes"].as_array().expect("themes");
        let s = WhoSettings { disclosure: open, ..WhoSettings::default() };
        let c = counts(&[n_g, n_r], &concerns, &s.disclosure);
        let rows = underheard_rows(0, &names, &c, &[(0, "below_parity".to_owned())], &s);
        let flagged: Vec<&str> =
            rows.iter().filter(|r| r.distinctive).filter_map(|r| themes[r.theme].as_str()).collect();
        assert_eq!(flagged, ["interpreter_language"]);
    }

    /// The table carries each row's figures into the column named for them.
    #[test]
    fn table_columns_carry_the_rows() {
        let names = names(&["A", "B"]);
        let s = WhoSettings::default();
        let c = counts(&[40, 600], &[vec![20, 10], vec![100, 5]], &s.disclosure);
        let rows = underheard_rows(0, &names, &c, &[(0, "below_parity".to_owned())], &s);
        let groups = Groups { dimensions: vec!["sex".to_owned()], names: vec![names.clone()] };
        let book = Codebook::from_toml(
            "[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='W1'\nname='waits'\ncategory='c'\nterms=['wait']\n[[theme]]\ncode='S1'\nname='staff'\ncategory='c'\nterms=['rude']\n",
            "t.toml",
        )
        .expect("codebook");
        let t = table(&rows, &groups, &book);
        assert_eq!((t.name.as_str(), t.rows()), ("underheard_concerns", 2));
        assert_eq!(t.column("log_odds_z"), Some(&ColumnData::F64(rows.iter().map(|r| r.z).collect())));
        assert_eq!(t.column("lift"), Some(&ColumnData::F64(rows.iter().map(|r| r.lift.map(|l| l.0)).collect())));
        let codes: Vec<Option<String>> = rows.iter().map(|r| Some(["W1", "S1"][r.theme].to_owned())).collect();
        assert_eq!(t.column("theme_code"), Some(&ColumnData::Str(codes)));
        assert_eq!(t.column("group_name"), Some(&ColumnData::Str(vec![Some("A".to_owned()); 2])));
        assert_eq!(
            t.column("rest_concerns_n"),
            Some(&ColumnData::I64(rows.iter().map(|r| Some(r.rest_concerns as i64)).collect()))
        );
    }
}
