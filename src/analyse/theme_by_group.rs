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

/// What group `h` adds to the others' rest for theme `t` (see [`published_rest`]).
fn published_own(names: &[String], records: &[Published], counts: &[Vec<Published>], h: usize, t: usize) -> (u64, u64) {
    if is_absent(&names[h]) {
        return (0, 0);
    }
    counts[h][t].value.zip(records[h].value).unwrap_or((0, 0))
}

/// [`published_rest`] of every group and theme, `[group][theme]`, from one sum per theme less each
/// group's own: the same integers in G × T steps where one call a cell takes G (found: a
/// dimension of 3,000 community groups took 20 s of a 20,000-record run here, G² × T).
#[must_use]
pub(crate) fn published_rests(
    names: &[String],
    records: &[Published],
    counts: &[Vec<Published>],
) -> Vec<Vec<(u64, u64)>> {
    let n_themes = counts.first().map_or(0, Vec::len);
    let totals: Vec<(u64, u64)> = (0..n_themes)
        .map(|t| {
            (0..names.len())
                .map(|h| published_own(names, records, counts, h, t))
                .fold((0, 0), |(b, n), (x, r)| (b + x, n + r))
        })
        .collect();
    (0..names.len())
        .map(|g| {
            (0..n_themes)
                .map(|t| {
                    let (x, r) = published_own(names, records, counts, g, t);
                    (totals[t].0 - x, totals[t].1 - r)
                })
                .collect()
        })
        .collect()
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
    let rests = published_rests(names, records, counts);
    (0..names.len())
        .map(|g| {
            let Some(n_g) = records[g].value.filter(|_| !is_absent(&names[g])) else {
                return vec![None; n_themes];
            };
            let rest = &rests[g];
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
    /// Period (shared by the rows of one: a `String` a row was a sixth of the rows' memory).
    pub period: std::sync::Arc<str>,
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
    let period: std::sync::Arc<str> = period.into();
    let mut rows = Vec::with_capacity(names.len() * c.mentions.first().map_or(0, Vec::len));
    for g in 0..names.len() {
        let group_n = c.records[g];
        for t in 0..c.mentions[g].len() {
            let (theme_n, concern_n) = (c.mentions[g][t], c.concerns[g][t]);
            let suppressed = group_n.suppressed || theme_n.suppressed;
            let st = stats[g][t].filter(|_| !suppressed);
            rows.push(ThemeGroupRow {
                period: period.clone(),
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
pub(crate) fn table(rows: &[ThemeGroupRow], groups: &Groups, book: &Codebook) -> Table {
    let theme = |r: &ThemeGroupRow| &book.themes[r.theme];
    Table {
        name: "theme_by_group".to_owned(),
        grain: "period × dimension × group × theme".to_owned(),
        columns: vec![
            Col::new(
                "period_type",
                "`all`: the whole run (the months add up to it: never sum the two; filter period_type first), or `month`",
                strs(rows, |r| owned(if &*r.period == "all" { "all" } else { "month" })),
            ),
            Col::new("period", "`all` for the whole run, else the month YYYY-MM", strs(rows, |r| owned(&r.period))),
            Col::new("dimension", "demographic dimension", strs(rows, |r| owned(&groups.dimensions[r.dimension]))),
            Col::new(
                "group_name",
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
                "is_suppressed",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::common::formulas::{published, wilson95};
    use crate::analyse::stats::testutil::{close, num, nums, vectors};
    use crate::analyse::stats::DisclosureRule;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Every group's rest from one sum a theme is the rest summed group by group, suppressed cells,
    /// suppressed group sizes and absent groups included.
    #[test]
    fn rests_from_one_sum_a_theme_are_the_rests_group_by_group() {
        let names = names(&["A", "B", "not_stated", "C", "missing", "D"]);
        let records = [40, 212, 30, 5, 90, 1000];
        let mentions = vec![
            vec![12, 3, 8, 0],
            vec![60, 15, 0, 9],
            vec![5, 9, 0, 30],
            vec![2, 5, 1, 0],
            vec![40, 2, 50, 8],
            vec![400, 7, 9, 300],
        ];
        let concerns = vec![vec![0; 4]; 6];
        let c = publish_period(&records, &mentions, &concerns, &WhoSettings::default().disclosure);
        let rests = published_rests(&names, &c.records, &c.mentions);
        assert!(rests.iter().flatten().any(|r| r.0 > 0));
        for (g, row) in rests.iter().enumerate() {
            for (t, rest) in row.iter().enumerate() {
                assert_eq!(*rest, published_rest(&names, &c.records, &c.mentions, g, t), "group {g}, theme {t}");
            }
        }
    }

    /// A group of 1-7 records has every theme count suppressed, its zeros too: published, the
    /// zeros beside the one or two suppressed counts said which themes its few records carry.
    #[test]
    fn a_suppressed_group_publishes_no_theme_count_not_even_0() {
        let rule = WhoSettings::default().disclosure;
        let c = publish_period(
            &[1, 40, 0],
            &[vec![1, 0, 0], vec![12, 0, 3], vec![0, 0, 0]],
            &vec![vec![0, 0, 0]; 3],
            &rule,
        );
        assert!(c.records[0].suppressed);
        assert!(
            c.mentions[0].iter().chain(&c.concerns[0]).all(|p| p.suppressed && p.value.is_none()),
            "{:?}",
            c.mentions[0]
        );
        // a published group keeps its zeros, and a group of none is 0 throughout
        assert_eq!(c.mentions[1].iter().map(|p| p.value).collect::<Vec<_>>(), [Some(10), Some(0), None]);
        assert_eq!(c.mentions[2].iter().map(|p| p.value).collect::<Vec<_>>(), [Some(0); 3]);
    }

    /// Two stated groups and `not_stated`, three themes, under the default disclosure rule: the rate
    /// and its Wilson interval come from the published counts (12 of 40 published as 10 of 40), a
    /// cell of 3 is suppressed with every statistic of its row, a concern count of 6 is
    /// suppressed alone, and the rest of a group is the other stated group only.
    #[test]
    fn rate_interval_and_suppression_of_a_small_cell() {
        let names = names(&["A", "B", "not_stated"]);
        let records = [40, 212, 30];
        let mentions = vec![vec![12, 3, 8], vec![60, 15, 0], vec![5, 9, 0]];
        let concerns = vec![vec![6, 0, 0], vec![20, 0, 0], vec![0, 0, 0]];
        let s = WhoSettings::default();
        let mut c = publish_period(&records, &mentions, &concerns, &s.disclosure);
        c.withheld.insert((2, 0, 1));
        let rows = theme_group_rows("all", 0, &names, &c, &s);
        assert_eq!(rows.len(), 9);
        let row = |g: usize, t: usize| rows.iter().find(|r| r.group == g && r.theme == t).expect("row");

        let a = row(0, 0);
        assert_eq!((a.group_n.value, a.theme_n.value, a.concern_n.value), (Some(40), Some(10), None));
        assert_eq!(published(12), Some(10.0));
        close("rate", a.rate.expect("rate"), 10.0 / 40.0);
        let (lo, hi) = wilson95(10.0, 40.0);
        let ci = a.rate_ci.expect("interval");
        close("rate_low", ci.0, lo);
        close("rate_high", ci.1, hi);
        // the rest is B alone (60 of 210 published), not_stated left out
        close("lift", a.lift.expect("lift").0, (10.0 / 40.0) / (70.0 / 250.0));
        assert!(a.z.is_some() && !a.suppressed);
        // the suppressed concern count hides the concern rate, not the row
        assert_eq!(a.concern_rate, None);
        assert!(a.withheld.is_empty());

        let small = row(0, 1);
        assert!(small.suppressed && small.theme_n.value.is_none());
        assert_eq!(
            (small.rate, small.rate_ci, small.lift, small.z, small.concern_rate),
            (None, None, None, None, None)
        );
        assert_eq!(small.withheld, ["concern_n"]);

        let b = row(1, 0);
        close("B rate", b.rate.expect("rate"), 60.0 / 210.0);
        close("B concern rate", b.concern_rate.expect("concern rate"), 20.0 / 210.0);
        // a zero cell is published: rate 0, the interval's upper bound z²/(n+z²)
        let zero = row(1, 2);
        assert_eq!((zero.theme_n.value, zero.rate, zero.suppressed), (Some(0), Some(0.0), false));
        close("zero upper", zero.rate_ci.expect("interval").1, wilson95(0.0, 210.0).1);
        // not_stated's own cell of 5 is suppressed; its rows are published without comparison
        assert!(row(2, 0).suppressed && row(2, 0).rate.is_none());
        close("not_stated rate", row(2, 1).rate.expect("rate"), 10.0 / 30.0);
        assert_eq!((row(2, 1).lift, row(2, 1).z), (None, None));
    }

    /// METHODS §3 known answers (`3_distinctive_themes`) as mentions of one group against one
    /// rest, published as they are: lift with its interval (the zero-count theme with the
    /// log-adjusted one), z with alpha0 = 100, and the Wilson interval of each rate.
    #[test]
    fn known_answer_vectors_as_mentions() {
        let v = vectors();
        let case = &v["3_distinctive_themes"];
        let y_group = nums(&case["y_group"]);
        let y_rest = nums(&case["y_rest"]);
        let lifts = case["lift"]["rows"].as_array().expect("lift rows");
        let want_z = nums(&case["informative_prior_alpha0_100"]["z"]);
        let n = |x: &[f64]| x.iter().map(|&y| y as i64).collect::<Vec<_>>();
        let mentions = vec![n(&y_group), n(&y_rest)];
        let concerns = vec![vec![0; y_group.len()]; 2];
        let s = WhoSettings {
            disclosure: DisclosureRule { suppress_max: 0, round_to: 1, suppress_zero: false },
            ..WhoSettings::default()
        };
        let c = publish_period(&[40, 600], &mentions, &concerns, &s.disclosure);
        let rows = theme_group_rows("all", 0, &names(&["group", "rest"]), &c, &s);
        for (t, l) in lifts.iter().enumerate() {
            let row = rows.iter().find(|r| r.group == 0 && r.theme == t).expect("row");
            let lift = row.lift.expect("lift");
            close(&format!("lift {t}"), lift.0, num(&l["lift_vs_overall"]));
            close(&format!("lift_low {t}"), lift.1, num(&l["lift_lower"]));
            close(&format!("lift_high {t}"), lift.2, num(&l["lift_upper"]));
            close(&format!("z {t}"), row.z.expect("z"), want_z[t]);
            let (lo, hi) = wilson95(y_group[t], 40.0);
            let ci = row.rate_ci.expect("interval");
            close(&format!("rate_low {t}"), ci.0, lo.max(0.0));
            close(&format!("rate_high {t}"), ci.1, hi);
        }
    }

    /// The table carries each row's figures into the column named for them, with the group's and
    /// the theme's names.
    #[test]
    fn table_columns_carry_the_rows() {
        let names = names(&["A", "B"]);
        let s = WhoSettings::default();
        let c = publish_period(&[40, 600], &[vec![20], vec![100]], &[vec![10], vec![5]], &s.disclosure);
        let rows = theme_group_rows("2025-05", 0, &names, &c, &s);
        let groups = Groups { dimensions: vec!["sex".to_owned()], names: vec![names.clone()] };
        let book = Codebook::from_toml(
            "[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='W1'\nname='waits'\ncategory='access'\nterms=['wait']\n",
            "t.toml",
        )
        .expect("codebook");
        let t = table(&rows, &groups, &book);
        assert_eq!((t.name.as_str(), t.rows()), ("theme_by_group", 2));
        assert_eq!(t.column("group_name"), Some(&ColumnData::Str(vec![Some("A".to_owned()), Some("B".to_owned())])));
        assert_eq!(t.column("period_type"), Some(&ColumnData::Str(vec![Some("month".to_owned()); 2])));
        assert_eq!(t.column("category"), Some(&ColumnData::Str(vec![Some("access".to_owned()); 2])));
        assert_eq!(t.column("rate"), Some(&ColumnData::F64(rows.iter().map(|r| r.rate).collect())));
        assert_eq!(t.column("rate_low"), Some(&ColumnData::F64(rows.iter().map(|r| r.rate_ci.map(|c| c.0)).collect())));
        assert_eq!(t.column("log_odds_z"), Some(&ColumnData::F64(rows.iter().map(|r| r.z).collect())));
        assert_eq!(t.column("concern_n"), Some(&ColumnData::I64(vec![Some(10), None])));
        assert_eq!(t.column("withheld"), Some(&ColumnData::Str(vec![None, None])));
    }
}
