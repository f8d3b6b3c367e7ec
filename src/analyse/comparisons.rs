//! `comparisons.parquet`: each declared service change's before and after, per theme and measure
//! (mentions, concerns), overall and in every group of every dimension: the two rates, their
//! difference with the Newcombe interval, the pooled z-test or Fisher's exact test, Benjamini–
//! Hochberg q-values per family, and for under-heard groups the change of their gap to the rest
//! of their dimension (METHODS §4). Every figure comes from the published counts, and the counts
//! are guarded against differencing beside `theme_by_group`'s ([`identities`]).

use chrono::NaiveDate;

use super::common::{is_absent, owned, publish, ratio_of, strs, PUBLISHED};
use super::counts::{BatchCounts, Counted, Counter};
use super::differencing::{KnownTotals, PeriodCounts, PeriodSum};
use super::stats::before_after::{
    benjamini_hochberg, compare_p, difference_of_differences, newcombe_diff, DiffInterval, Test,
};
use super::stats::{DisclosureRule, Published, Z95};
use crate::code::Codebook;
use crate::config::Change;
use crate::people::Groups;
use crate::record::Record;
use crate::table::{Col, ColumnData, Table};

/// Which side of change `c` a record is on: 0 before, 1 after (its day and later); `None` when
/// it has no date, lies outside the change's window or is not among its sources and
/// organisation values.
#[must_use]
pub(crate) fn side(c: &Change, r: &Record) -> Option<u32> {
    let day = r.received_date?;
    if !c.sources.is_empty() && !c.sources.iter().any(|s| *s == *r.source) {
        return None;
    }
    for (level, allowed) in c.org.iter().enumerate() {
        if !allowed.is_empty() && !r.org[level].as_deref().is_some_and(|v| allowed.iter().any(|a| a == v)) {
            return None;
        }
    }
    if let Some(w) = c.window_days {
        let days = (day - c.date).num_days();
        if days < -i64::from(w) || days >= i64::from(w) {
            return None;
        }
    }
    Some(u32::from(day >= c.date))
}

/// The declared changes and what was counted of them, for the analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangeInput<'a> {
    /// The changes.
    pub changes: &'a [Change],
    /// Each change's counts ([`ChangeCounter::finish`]).
    pub counts: &'a [Counted],
    /// The records' first and last day.
    pub dates: Option<(NaiveDate, NaiveDate)>,
    /// Per change: compared (records on both sides; see [`check`]).
    pub compared: &'a [bool],
}

/// The counters of every change: per change, the records of each side counted by dimension,
/// group and theme like the run's months, with one more dimension of a single group (the
/// change's overall counts); and the first and last day of the run's records.
#[derive(Debug, Default)]
pub(crate) struct ChangeCounter {
    changes: Vec<Change>,
    counters: Vec<Counter>,
    /// The first and last date of every record with one.
    pub dates: Option<(NaiveDate, NaiveDate)>,
}

impl ChangeCounter {
    /// Counters for `changes` over `dimensions` dimensions and `n_themes` themes.
    #[must_use]
    pub(crate) fn new(changes: &[Change], dimensions: usize, n_themes: usize) -> ChangeCounter {
        ChangeCounter {
            changes: changes.to_vec(),
            counters: changes.iter().map(|_| Counter::new(dimensions + 1, n_themes, Vec::new())).collect(),
            dates: None,
        }
    }

    /// Adds a batch: `b.month` is ignored (each change sets its own sides).
    pub(crate) fn add(&mut self, records: &[Record], b: &BatchCounts<'_>) {
        for d in records.iter().filter_map(|r| r.received_date) {
            self.dates = Some(self.dates.map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))));
        }
        for (c, counter) in self.changes.iter().zip(&mut self.counters) {
            let picked: Vec<(usize, u32)> =
                records.iter().enumerate().filter_map(|(i, r)| side(c, r).map(|s| (i, s))).collect();
            if picked.is_empty() {
                continue;
            }
            let sides: Vec<u32> = picked.iter().map(|p| p.1).collect();
            let mut groups: Vec<Vec<u32>> = b.groups.iter().map(|g| picked.iter().map(|p| g[p.0]).collect()).collect();
            groups.push(vec![0; picked.len()]);
            let first: Vec<bool> = picked.iter().map(|p| b.first_of_response[p.0]).collect();
            let themes: Vec<Vec<(u32, bool)>> = picked.iter().map(|p| b.themes[p.0].clone()).collect();
            // (no side's respondents are published: the run's first record stands for both)
            counter.add(&BatchCounts {
                month: &sides,
                groups: &groups,
                first_of_response: &first,
                first_in_month: &first,
                themes: &themes,
            });
        }
    }

    /// Each change's counts (periods: both sides, before, after), groups in their sorted places
    /// as [`Counter::finish`] takes them; the last dimension is the change's overall counts.
    #[must_use]
    pub(crate) fn finish(&self, groups: &[Vec<u32>], n_groups: &[usize]) -> Vec<Counted> {
        let mut groups = groups.to_vec();
        groups.push(vec![0]);
        let mut n_groups = n_groups.to_vec();
        n_groups.push(1);
        self.counters.iter().map(|c| c.finish(&[0, 1], 2, &groups, &n_groups)).collect()
    }
}

/// Why a change cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change {name:?} ({date}): {reason}")]
pub struct ChangeError {
    /// The change's name.
    pub name: String,
    /// Its date.
    pub date: NaiveDate,
    /// What is wrong.
    pub reason: String,
}

/// Checks each change against the data: its date within the records' dates, and records on both
/// of its sides. A change that fails is not compared (no rows, no sides for the differencing
/// guard): the run says why and publishes the rest — a change declared before it happens, in a
/// nightly pipeline, is compared once records lie on both sides.
#[must_use]
pub(crate) fn check(
    changes: &[Change],
    counted: &[Counted],
    dates: Option<(NaiveDate, NaiveDate)>,
    suppress_max: u64,
) -> Vec<Option<ChangeError>> {
    let one = |c: &Change, counts: &Counted| -> Result<(), ChangeError> {
        let fail = |reason: String| ChangeError { name: c.name.clone(), date: c.date, reason };
        let Some((first, last)) = dates else {
            return Err(fail("no record has a date to compare".to_owned()));
        };
        if c.date <= first || c.date > last {
            return Err(fail(format!("outside the records' dates ({first} to {last}): one side would be empty")));
        }
        let overall = counts.dims.last().map(|d| (d.records[1][0], d.records[2][0]));
        // a side of 1-7 records is suppressed: its rows would be nulls, and its groups' zeros
        // would say which group the few are in (found: a one-day window at one site published
        // the ethnicity of whoever raised a concern that day)
        let few = |n: i64| n > 0 && n.unsigned_abs() <= suppress_max;
        match overall {
            Some((before, after)) if few(before) || few(after) => Err(fail(format!(
                "too few records {} it (1 to {suppress_max}, a count that is not published; its window and \
                 filters leave too few)",
                if few(before) { "before" } else { "on or after" }
            ))),
            Some((before, after)) if before > 0 && after > 0 => Ok(()),
            Some((0, 0)) if !c.sources.is_empty() || c.org.iter().any(|o| !o.is_empty()) => Err(fail(
                "no record on either side: its filters match none of the records (an organisation value must be \
                 written as the records write it, capitals and all)"
                    .to_owned(),
            )),
            Some((0, _)) | None => Err(fail("no record before it (its window and filters leave none)".to_owned())),
            Some(_) => Err(fail("no record on or after it (its window and filters leave none)".to_owned())),
        }
    };
    changes.iter().zip(counted).map(|(c, counts)| one(c, counts).err()).collect()
}

/// The first and last day of a month label `YYYY-MM` (`None` for `unknown`).
#[must_use]
pub(crate) fn month_days(label: &str) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d").ok()?;
    Some((first, first.checked_add_months(chrono::Months::new(1))?.pred_opt()?))
}

/// A period of the guard spanning days: its index, first and last day, and records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// The guard's period.
    pub period: usize,
    /// First day (within the records' dates).
    pub first: NaiveDate,
    /// Last day.
    pub last: NaiveDate,
    /// Records.
    pub n: i64,
}

/// How `target` sits among the periods of `family` (disjoint, together holding every dated
/// record): it lies within the periods it meets, and, unless it is `filtered` (holds only some of
/// its days' records), it holds those wholly inside it. Each identity is exact when the records
/// add up.
#[must_use]
pub(crate) fn containment(family: &[Span], target: &Span, filtered: bool) -> Vec<PeriodSum> {
    let met: Vec<&Span> = family.iter().filter(|f| f.first <= target.last && f.last >= target.first).collect();
    let inside: Vec<&Span> = met.iter().copied().filter(|f| target.first <= f.first && f.last <= target.last).collect();
    let n = |s: &[&Span]| s.iter().map(|f| f.n).sum::<i64>();
    let periods = |s: &[&Span]| s.iter().map(|f| f.period).collect::<Vec<_>>();
    let mut sums = vec![PeriodSum { whole: periods(&met), parts: vec![target.period], exact: n(&met) == target.n }];
    if !filtered {
        sums.push(PeriodSum { whole: vec![target.period], parts: periods(&inside), exact: n(&inside) == target.n });
    }
    sums
}

/// The guard's periods of change `c` (its sides numbered `before` and `before + 1`) and what an
/// attacker knows of them: the overall counts each side publishes, and the periods that hold
/// them: the run (`all`) holds both sides, and each side sits among the `months` as
/// [`containment`] says. Each is exact when the records add up (a window, a filter or undated
/// records leave some in none). Also returns the sides' spans and whether the change filters.
///
/// `run_n` is all records, `dates` the records' first and last day.
#[must_use]
pub(crate) fn identities(
    c: &Change,
    counts: &Counted,
    before: usize,
    months: &[Span],
    run_n: i64,
    dates: (NaiveDate, NaiveDate),
    rule: &DisclosureRule,
) -> (Vec<(usize, KnownTotals)>, Vec<PeriodSum>, Vec<Span>, bool) {
    let Some(overall) = counts.dims.last() else { return (Vec::new(), Vec::new(), Vec::new(), false) };
    let side_n = [overall.records[1][0], overall.records[2][0]];
    let known = (0..2)
        .map(|s| {
            let per_theme = |m: &[Vec<i64>]| m[0].iter().map(|&x| publish(x, rule)).collect();
            (
                before + s,
                KnownTotals {
                    records: Some(publish(side_n[s], rule)),
                    mentions: per_theme(&overall.mentions[1 + s]),
                    concerns: per_theme(&overall.concerns[1 + s]),
                },
            )
        })
        .collect();
    let mut sums =
        vec![PeriodSum { whole: vec![0], parts: vec![before, before + 1], exact: side_n[0] + side_n[1] == run_n }];
    let filtered = !c.sources.is_empty() || c.org.iter().any(|o| !o.is_empty());
    let window = i64::from(c.window_days.unwrap_or(u32::MAX)).min(1 << 20);
    let sides = [
        Span {
            period: before,
            first: dates.0.max(c.date - chrono::Duration::days(window)),
            last: c.date.pred_opt().unwrap_or(c.date),
            n: side_n[0],
        },
        Span {
            period: before + 1,
            first: c.date,
            last: dates.1.min(c.date + chrono::Duration::days(window - 1)),
            n: side_n[1],
        },
    ];
    for side in &sides {
        sums.extend(containment(months, side, filtered));
    }
    (known, sums, sides.to_vec(), filtered)
}

/// The measure a comparison counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Records mentioning the theme.
    Mentions,
    /// Records where the theme is a concern.
    Concerns,
}

impl Measure {
    /// As published.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Mentions => "mentions",
            Measure::Concerns => "concerns",
        }
    }
}

/// One row of `comparisons`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// Change index.
    pub change: usize,
    /// Theme index.
    pub theme: usize,
    /// Measure.
    pub measure: Measure,
    /// Dimension and group ids; `None` for the overall row.
    pub group: Option<(usize, usize)>,
    /// Records before (the group's, or all).
    pub before_n: Published,
    /// Records before with the measure.
    pub before_x: Published,
    /// Records after.
    pub after_n: Published,
    /// Records after with the measure.
    pub after_x: Published,
    /// after rate − before rate, with the Newcombe interval.
    pub diff: Option<DiffInterval>,
    /// p-value and the test that gave it.
    pub p: Option<(f64, Test)>,
    /// Benjamini–Hochberg q within the family.
    pub q: Option<f64>,
    /// The group's representation flag, when it is under-heard.
    pub flag: Option<String>,
    /// For an under-heard group: its difference minus the rest of its dimension's.
    pub gap: Option<DiffInterval>,
    /// Counts of the row withheld against differencing.
    pub withheld: Vec<&'static str>,
}

impl ComparisonRow {
    /// A row from its four published counts (before n, x; after n, x): the difference with its
    /// interval and the test, `None` when a count is suppressed or a side empty.
    fn new(
        change: usize,
        theme: usize,
        measure: Measure,
        group: Option<(usize, usize)>,
        n: [Published; 4],
    ) -> ComparisonRow {
        let [before_n, before_x, after_n, after_x] = n;
        let (diff, p) = match n.map(|c| c.value) {
            [Some(bn), Some(bx), Some(an), Some(ax)] => (newcombe_diff(ax, an, bx, bn, Z95), compare_p(ax, an, bx, bn)),
            _ => (None, None),
        };
        ComparisonRow {
            change,
            theme,
            measure,
            group,
            before_n,
            before_x,
            after_n,
            after_x,
            diff,
            p,
            q: None,
            flag: None,
            gap: None,
            withheld: Vec::new(),
        }
    }

    /// q ≤ 0.05; `None` without a test.
    #[must_use]
    pub fn significant(&self) -> Option<bool> {
        self.q.map(|q| q <= 0.05)
    }
}

/// The published counts of one change, per dimension (the guard's periods `before`, `after`),
/// and overall.
#[derive(Debug, Clone)]
pub(crate) struct ChangeCounts<'a> {
    /// Per dimension: before and after.
    pub dims: Vec<[&'a PeriodCounts; 2]>,
    /// Overall: before and after.
    pub overall: [&'a KnownTotals; 2],
}

/// The rows of change `change` from its published counts; `flags[d]` the under-heard groups of
/// dimension `d` with their flags. q-values are set per family (change × measure × overall or
/// dimension).
#[must_use]
pub(crate) fn comparison_rows(
    change: usize,
    c: &ChangeCounts<'_>,
    names: &[Vec<String>],
    flags: &[Vec<(usize, String)>],
    n_themes: usize,
) -> Vec<ComparisonRow> {
    let mut rows = Vec::new();
    for measure in [Measure::Mentions, Measure::Concerns] {
        let pick = |p: &PeriodCounts, g: usize, t: usize| match measure {
            Measure::Mentions => p.mentions[g][t],
            Measure::Concerns => p.concerns[g][t],
        };
        let kind = match measure {
            Measure::Mentions => (1u8, "before_measure_n", "after_measure_n"),
            Measure::Concerns => (2u8, "before_measure_n", "after_measure_n"),
        };
        // the overall family
        let mut family: Vec<ComparisonRow> = (0..n_themes)
            .map(|t| {
                let [b, a] = c.overall;
                let x = |k: &KnownTotals| match measure {
                    Measure::Mentions => k.mentions.get(t).copied(),
                    Measure::Concerns => k.concerns.get(t).copied(),
                };
                let none = Published::SUPPRESSED;
                let (b_n, a_n) = (b.records.unwrap_or(none), a.records.unwrap_or(none));
                let (b_x, a_x) = (x(b).unwrap_or(none), x(a).unwrap_or(none));
                ComparisonRow::new(change, t, measure, None, [b_n, b_x, a_n, a_x])
            })
            .collect();
        set_q(&mut family);
        rows.append(&mut family);
        for (d, [before, after]) in c.dims.iter().enumerate() {
            let mut family = Vec::new();
            for t in 0..n_themes {
                for g in 0..names[d].len() {
                    let (b_n, b_x, a_n, a_x) =
                        (before.records[g], pick(before, g, t), after.records[g], pick(after, g, t));
                    let mut row = ComparisonRow::new(change, t, measure, Some((d, g)), [b_n, b_x, a_n, a_x]);
                    let flag = flags[d].iter().find(|f| f.0 == g).map(|f| f.1.clone());
                    let gap = flag.as_ref().and(row.diff).and_then(|own| {
                        // the rest of the dimension: the other stated groups with all four counts published
                        let rest = (0..names[d].len())
                            .filter(|&h| h != g && !is_absent(&names[d][h]))
                            .filter_map(|h| {
                                Some((
                                    before.records[h].value?,
                                    pick(before, h, t).value?,
                                    after.records[h].value?,
                                    pick(after, h, t).value?,
                                ))
                            })
                            .fold((0, 0, 0, 0), |s, x| (s.0 + x.0, s.1 + x.1, s.2 + x.2, s.3 + x.3));
                        let rest = newcombe_diff(rest.3, rest.2, rest.1, rest.0, Z95)?;
                        Some(difference_of_differences(own, rest))
                    });
                    let withheld = [(0u8, 0usize, "before_n", "after_n"), (kind.0, t, kind.1, kind.2)]
                        .into_iter()
                        .flat_map(|(k, th, b, a)| {
                            [(before, b), (after, a)]
                                .into_iter()
                                .filter(move |(p, _)| p.withheld.contains(&(k, g, th)))
                                .map(|x| x.1)
                        })
                        .collect();
                    (row.flag, row.gap, row.withheld) = (flag, gap, withheld);
                    family.push(row);
                }
            }
            set_q(&mut family);
            rows.append(&mut family);
        }
    }
    rows
}

/// Benjamini–Hochberg q-values over the rows of one family that have a p-value.
fn set_q(family: &mut [ComparisonRow]) {
    let tested: Vec<usize> = (0..family.len()).filter(|&i| family[i].p.is_some()).collect();
    let p: Vec<f64> = tested.iter().filter_map(|&i| family[i].p.map(|p| p.0)).collect();
    if let Some(q) = benjamini_hochberg(&p) {
        for (&i, q) in tested.iter().zip(q) {
            family[i].q = Some(q);
        }
    }
}

/// The `comparisons` table.
#[must_use]
pub(crate) fn table(rows: &[ComparisonRow], changes: &[Change], groups: &Groups, book: &Codebook) -> Table {
    let theme = |r: &ComparisonRow| &book.themes[r.theme];
    let diff = |f: fn(&DiffInterval) -> f64| ColumnData::F64(rows.iter().map(|r| r.diff.as_ref().map(f)).collect());
    let gap = |f: fn(&DiffInterval) -> f64| ColumnData::F64(rows.iter().map(|r| r.gap.as_ref().map(f)).collect());
    let n = |f: fn(&ComparisonRow) -> Published| {
        ColumnData::I64(rows.iter().map(|r| f(r).value.and_then(|v| i64::try_from(v).ok())).collect())
    };
    Table {
        name: "comparisons".to_owned(),
        grain: "change × measure × theme, overall and per dimension × group".to_owned(),
        columns: vec![
            Col::new("change_name", "the declared change ([[change]] or --change)", strs(rows, |r| owned(&changes[r.change].name))),
            Col::new(
                "change_date",
                "the day it took effect; records of that day count as after",
                ColumnData::Date(rows.iter().map(|r| Some(changes[r.change].date)).collect()),
            ),
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new(
                "measure",
                "mentions (records coded with the theme) or concerns (records where it is a concern)",
                strs(rows, |r| owned(r.measure.as_str())),
            ),
            Col::new(
                "dimension",
                "demographic dimension; null on the overall rows",
                strs(rows, |r| r.group.map(|(d, _)| &groups.dimensions[d])),
            ),
            Col::new("group_name", "group within the dimension; null on the overall rows", strs(rows, |r| r.group.map(|(d, g)| &groups.names[d][g]))),
            Col::new("before_n", format!("records before the change (in the group) {PUBLISHED}"), n(|r| r.before_n)),
            Col::new("before_measure_n", format!("of those, records with the measure {PUBLISHED}"), n(|r| r.before_x)),
            Col::new("after_n", format!("records on or after the change {PUBLISHED}"), n(|r| r.after_n)),
            Col::new("after_measure_n", format!("of those, records with the measure {PUBLISHED}"), n(|r| r.after_x)),
            Col::new(
                "before_rate",
                "before_measure_n / before_n as published; null when either is suppressed",
                ColumnData::F64(rows.iter().map(|r| ratio_of(r.before_x, r.before_n)).collect()),
            ),
            Col::new(
                "after_rate",
                "after_measure_n / after_n as published; null when either is suppressed",
                ColumnData::F64(rows.iter().map(|r| ratio_of(r.after_x, r.after_n)).collect()),
            ),
            Col::new("diff", "after_rate − before_rate (null when a count is suppressed)", diff(|d| d.diff)),
            Col::new("diff_low", "Newcombe hybrid score 95% interval of diff (method 10), lower", diff(|d| d.lower)),
            Col::new("diff_high", "Newcombe interval of diff, upper", diff(|d| d.upper)),
            Col::new(
                "p_value",
                "two-sided p of no change: see `test`; 1 when both counts are 0",
                ColumnData::F64(rows.iter().map(|r| r.p.map(|p| p.0)).collect()),
            ),
            Col::new(
                "test",
                "pooled_z (two-proportion z-test), or fisher_exact when an expected count of the 2×2 table is below 5",
                strs(rows, |r| r.p.map(|p| p.1.as_str())),
            ),
            Col::new(
                "q_value",
                "Benjamini–Hochberg q within the family: one change × measure × breakdown (overall, or one dimension's groups and themes)",
                ColumnData::F64(rows.iter().map(|r| r.q).collect()),
            ),
            Col::new("is_significant", "q_value ≤ 0.05; null without a test", ColumnData::Bool(rows.iter().map(ComparisonRow::significant).collect())),
            Col::new(
                "representation_flag",
                "the group's flag in `representation` (period all) when it is under-heard: under_represented or below_parity; else null",
                strs(rows, |r| r.flag.as_deref()),
            ),
            Col::new(
                "gap_diff",
                "under-heard groups: the group's diff minus the diff of the rest of its dimension (the other stated groups with all four counts published): did its rate move differently?",
                gap(|d| d.diff),
            ),
            Col::new(
                "gap_low",
                "95% interval of gap_diff by MOVER (Zou & Donner 2008) from the two Newcombe intervals, lower",
                gap(|d| d.lower),
            ),
            Col::new("gap_high", "interval of gap_diff, upper", gap(|d| d.upper)),
            Col::new(
                "withheld",
                "counts of the row withheld against differencing (`before_n`, `before_measure_n`, `after_n`, `after_measure_n`): null like a suppressed count, but any value may lie behind them; null when none",
                strs(rows, |r| (!r.withheld.is_empty()).then(|| r.withheld.join(","))),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::common::formulas::{published, wilson95};
    use crate::analyse::common::publish_period;
    use crate::analyse::stats::testutil::close;

    fn change(date: &str) -> Change {
        Change {
            name: "c".to_owned(),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date"),
            window_days: None,
            org: Default::default(),
            sources: Vec::new(),
        }
    }

    fn record(date: Option<&str>, org: Option<&str>) -> Record {
        Record {
            record_id: "r".into(),
            response_id: "r".into(),
            source: "fft".into(),
            received_date: date.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date")),
            question: crate::record::Question::Nonspecific,
            rating: None,
            text: String::new(),
            org: [org.map(Into::into), None, None],
            demographics: Vec::new(),
            extra: Vec::new(),
            origin: crate::record::RowRef { source: 0, row: 2 },
        }
    }

    #[test]
    fn a_record_s_side_by_its_day_window_and_filters() {
        let mut c = change("2025-06-01");
        assert_eq!(side(&c, &record(Some("2025-05-31"), None)), Some(0));
        assert_eq!(side(&c, &record(Some("2025-06-01"), None)), Some(1), "the change's day counts as after");
        assert_eq!(side(&c, &record(None, None)), None, "no date, no side");
        c.window_days = Some(3);
        assert_eq!(side(&c, &record(Some("2025-05-29"), None)), Some(0));
        assert_eq!(side(&c, &record(Some("2025-05-28"), None)), None, "4 days before, outside a 3-day window");
        assert_eq!(side(&c, &record(Some("2025-06-03"), None)), Some(1));
        assert_eq!(side(&c, &record(Some("2025-06-04"), None)), None);
        c.org[0] = vec!["North".to_owned()];
        assert_eq!(side(&c, &record(Some("2025-06-02"), Some("North"))), Some(1));
        assert_eq!(side(&c, &record(Some("2025-06-02"), Some("South"))), None);
        assert_eq!(side(&c, &record(Some("2025-06-02"), None)), None);
        c.org[0].clear();
        c.sources = vec!["pals".to_owned()];
        assert_eq!(side(&c, &record(Some("2025-06-02"), None)), None, "another source");
    }

    /// Two groups and one theme: the rows' figures from the published counts, checked against
    /// METHODS §4 written afresh (Wilson limits, Newcombe's square-and-add); a suppressed count
    /// empties its row's statistics; the under-heard group's gap is its diff minus the other's.
    #[test]
    fn rows_from_published_counts() {
        let rule = DisclosureRule::default();
        let names = vec![vec!["A".to_owned(), "B".to_owned(), "not_stated".to_owned()]];
        // before: A 200 of which 60 mention, B 300/30; after: A 210/21, B 290/31; not_stated 3/1 both
        let before =
            publish_period(&[200, 300, 3], &[vec![60], vec![30], vec![1]], &[vec![40], vec![12], vec![0]], &rule);
        let after =
            publish_period(&[210, 290, 3], &[vec![21], vec![31], vec![1]], &[vec![9], vec![14], vec![0]], &rule);
        let known = |n: i64, m: i64, c: i64| KnownTotals {
            records: Some(publish(n, &rule)),
            mentions: vec![publish(m, &rule)],
            concerns: vec![publish(c, &rule)],
        };
        let (kb, ka) = (known(503, 91, 52), known(503, 53, 23));
        let c = ChangeCounts { dims: vec![[&before, &after]], overall: [&kb, &ka] };
        let flags = vec![vec![(0usize, "under_represented".to_owned())]];
        let rows = comparison_rows(0, &c, &names, &flags, 1);
        // 2 measures × (1 overall + 3 groups)
        assert_eq!(rows.len(), 8);
        let a = rows.iter().find(|r| r.measure == Measure::Mentions && r.group == Some((0, 0))).expect("A");
        // published: 60 → 60, 200 → 200, 21 → 20, 210 → 210
        assert_eq!((published(21), published(60)), (Some(20.0), Some(60.0)));
        let (pa, pb) = (20.0 / 210.0, 60.0 / 200.0);
        let ((la, ua), (lb, ub)) = (wilson95(20.0, 210.0), wilson95(60.0, 200.0));
        let d = a.diff.expect("diff");
        close("diff", d.diff, pa - pb);
        close("low", d.lower, pa - pb - ((pa - la).powi(2) + (ub - pb).powi(2)).sqrt());
        close("high", d.upper, pa - pb + ((ua - pa).powi(2) + (pb - lb).powi(2)).sqrt());
        assert_eq!(a.p.map(|p| p.1), Some(Test::PooledZ));
        // the gap: A's diff minus B's (not_stated left out of the rest)
        let (rb, ra) = (30.0 / 300.0, 30.0 / 290.0);
        close("gap", a.gap.expect("gap").diff, (pa - pb) - (ra - rb));
        assert_eq!(a.flag.as_deref(), Some("under_represented"));
        let b = rows.iter().find(|r| r.measure == Measure::Mentions && r.group == Some((0, 1))).expect("B");
        assert_eq!((b.gap, b.flag.as_deref()), (None, None), "only under-heard groups have a gap");
        // not_stated's counts of 1-7 are suppressed: no statistic, no q
        let ns = rows.iter().find(|r| r.measure == Measure::Mentions && r.group == Some((0, 2))).expect("not_stated");
        assert_eq!((ns.diff, ns.p, ns.q), (None, None, None));
        // the family's q: two tested rows (A and B), BH over their p
        let p: Vec<f64> = [a, b].iter().map(|r| r.p.expect("p").0).collect();
        let q = benjamini_hochberg(&p).expect("q");
        close("q A", a.q.expect("q"), q[0]);
        close("q B", b.q.expect("q"), q[1]);
        // the overall row uses the overall counts: 91 → 90 of 503 → 505, 53 → 55
        let o = rows.iter().find(|r| r.measure == Measure::Mentions && r.group.is_none()).expect("overall");
        close("overall diff", o.diff.expect("diff").diff, 55.0 / 505.0 - 90.0 / 505.0);
        assert_eq!(o.q, o.p.map(|p| p.0), "a family of one: q = p");
    }

    #[test]
    fn a_change_outside_the_data_or_with_an_empty_side_is_named() {
        let c = change("2025-06-01");
        let mut counter = ChangeCounter::new(std::slice::from_ref(&c), 1, 1);
        let recs = [record(Some("2025-05-02"), None), record(Some("2025-06-03"), None)];
        let groups = vec![vec![0, 0]];
        let themes = vec![vec![(0, true)], vec![]];
        let batch = BatchCounts {
            month: &[0, 0],
            groups: &groups,
            first_of_response: &[true, true],
            first_in_month: &[true, true],
            themes: &themes,
        };
        counter.add(&recs, &batch);
        let counted = counter.finish(&[vec![0]], &[1]);
        assert_eq!(check(std::slice::from_ref(&c), &counted, counter.dates, 0), vec![None]);
        // one record a side is a count the rule suppresses: not compared, said without the count
        let e = check(std::slice::from_ref(&c), &counted, counter.dates, 7).remove(0).expect("too few");
        assert!(e.to_string().contains("too few records before it (1 to 7"), "{e}");
        let d = counted[0].dims.last().expect("overall");
        assert_eq!((d.records[1][0], d.records[2][0], d.concerns[1][0][0]), (1, 1, 1));
        let late = change("2025-07-01");
        let e = check(std::slice::from_ref(&late), &counted, counter.dates, 0).remove(0).expect("outside");
        assert!(e.to_string().contains("\"c\"") && e.to_string().contains("outside"), "{e}");
        let mut windowed = change("2025-06-01");
        windowed.window_days = Some(2);
        let mut counter = ChangeCounter::new(std::slice::from_ref(&windowed), 1, 1);
        counter.add(&recs, &batch);
        let e = check(std::slice::from_ref(&windowed), &counter.finish(&[vec![0]], &[1]), counter.dates, 0)
            .remove(0)
            .expect("empty side");
        assert!(e.to_string().contains("no record before"), "{e}");
    }
}
