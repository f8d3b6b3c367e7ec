//! `spc.parquet` and `spc_summary.parquet`: each theme's share of records per month (or week),
//! for mentions and for concerns, on a statistical process control chart with the Making Data
//! Count rules (METHODS §5, [`stats::spc`](super::stats::spc)); limits rebased at a declared
//! change when the points after it shift; and per series the MDC variation and assurance icons.
//!
//! The counts are the whole run's (every record with a date), published under disclosure
//! control; the chart is drawn from the published counts, and a period whose count is
//! suppressed is left off the chart (its row stays, with null figures). The differencing guard
//! counts these totals as known ([`SpcInput`]).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::common::{owned, publish, strs, PUBLISHED};
use super::comparisons::Measure;
use super::counts::{BatchCounts, Cell};
use super::stats::spc::{self, Chart, Direction, Method, Point, Signal, Summary};
use super::stats::{DisclosureRule, Published};
use crate::code::{Codebook, Improvement};
use crate::config::{Change, SpcChart, SpcPeriod};
use crate::record::Record;
use crate::table::{Col, ColumnData, Table};

/// The first day of the period holding `day`: the 1st of its month, or the Monday of its week.
#[must_use]
pub(crate) fn period_start(period: SpcPeriod, day: NaiveDate) -> NaiveDate {
    match period {
        SpcPeriod::Month => day.with_day(1).unwrap_or(day),
        SpcPeriod::Week => day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday())),
    }
}

/// The last day of the period starting on `start`.
#[must_use]
pub(crate) fn period_end(period: SpcPeriod, start: NaiveDate) -> NaiveDate {
    match period {
        SpcPeriod::Month => {
            start.checked_add_months(chrono::Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(start)
        }
        SpcPeriod::Week => start + chrono::Duration::days(6),
    }
}

/// The run's counts per period (records with a date), fed batch by batch.
#[derive(Debug, Clone)]
pub(crate) struct SpcCounter {
    period: SpcPeriod,
    n_themes: usize,
    cells: BTreeMap<NaiveDate, Cell>,
}

impl SpcCounter {
    /// Counters by `period` for `n_themes` themes.
    #[must_use]
    pub(crate) fn new(period: SpcPeriod, n_themes: usize) -> SpcCounter {
        SpcCounter { period, n_themes, cells: BTreeMap::new() }
    }

    /// Adds a batch (`b.groups` and `b.month` are not read).
    pub(crate) fn add(&mut self, records: &[Record], b: &BatchCounts<'_>) {
        let mut last: Option<(NaiveDate, NaiveDate)> = None;
        for (i, r) in records.iter().enumerate() {
            let Some(day) = r.received_date else { continue };
            let start = match last {
                // records mostly come in date order: the period of the last day met
                Some((d, s)) if d == day => s,
                _ => period_start(self.period, day),
            };
            last = Some((day, start));
            let n_themes = self.n_themes;
            self.cells
                .entry(start)
                .or_insert_with(|| Cell::new(n_themes))
                .add_record(b.first_of_response[i], &b.themes[i]);
        }
    }

    /// The periods in order, with their counts.
    #[must_use]
    pub(crate) fn finish(self) -> SpcCounts {
        SpcCounts { period: self.period, cells: self.cells.into_iter().collect() }
    }
}

/// The run's counts per period, in order.
#[derive(Debug, Clone)]
pub struct SpcCounts {
    /// Month or week.
    pub period: SpcPeriod,
    /// (first day, counts) per period.
    pub cells: Vec<(NaiveDate, Cell)>,
}

impl Default for SpcCounts {
    fn default() -> Self {
        SpcCounts { period: SpcPeriod::Month, cells: Vec::new() }
    }
}

/// What the charts are drawn with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpcSettings<'a> {
    /// The chart.
    pub chart: SpcChart,
    /// XmR: screen moving-range outliers.
    pub screen_outliers: bool,
    /// Declared changes (limits may be rebased at them).
    pub changes: &'a [Change],
    /// Targets per (theme code, measure), for the assurance icon.
    pub targets: &'a BTreeMap<(String, String), f64>,
}

/// One period of one series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpcRow {
    /// Theme index.
    pub theme: usize,
    /// Measure.
    pub measure: Measure,
    /// The chart's name.
    pub chart: &'static str,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Periods the point covers (p and p′ merge a period too small for its limits into the next).
    pub periods: usize,
    /// Records in the period.
    pub n: Published,
    /// Of those, records with the measure.
    pub x: Published,
    /// The point as charted (value `None` when a count is suppressed).
    pub point: Point,
    /// Limits from fewer than 12 points.
    pub trial_limits: bool,
    /// The change at which this point's limits were rebased (index), if any.
    pub rebased_at: Option<usize>,
    /// The label direction.
    pub direction: Direction,
}

/// One series' summary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpcSummaryRow {
    /// Theme index.
    pub theme: usize,
    /// Measure.
    pub measure: Measure,
    /// The chart's name.
    pub chart: &'static str,
    /// Periods plotted.
    pub points: usize,
    /// First and last period charted.
    pub span: Option<(NaiveDate, NaiveDate)>,
    /// The last segment's centre line.
    pub centre: Option<f64>,
    /// The icons (`None` when nothing is plotted).
    pub summary: Option<Summary>,
    /// The changes the limits were rebased at, with the shift that justified each.
    pub rebases: Vec<(usize, Signal)>,
    /// The label direction.
    pub direction: Direction,
    /// The target, if one is set.
    pub target: Option<f64>,
}

/// The direction in which a theme's measure improves: fewer concerns always; mentions as the
/// codebook says.
fn direction(book: &Codebook, theme: usize, measure: Measure) -> Direction {
    match (measure, book.themes[theme].improvement) {
        (Measure::Concerns, _) | (Measure::Mentions, Improvement::Decrease) => Direction::Decrease,
        (Measure::Mentions, Improvement::Increase) => Direction::Increase,
    }
}

/// Every series' rows and summary, from the published counts.
#[must_use]
pub(crate) fn spc_rows(
    counts: &SpcCounts,
    book: &Codebook,
    s: &SpcSettings<'_>,
    rule: &DisclosureRule,
) -> (Vec<SpcRow>, Vec<SpcSummaryRow>) {
    let method = match s.chart {
        SpcChart::Xmr => Method::Xmr { screen_outliers: s.screen_outliers },
        SpcChart::P => Method::P,
        SpcChart::Pprime => Method::LaneyP,
    };
    let starts: Vec<NaiveDate> = counts.cells.iter().map(|c| c.0).collect();
    let n: Vec<Published> = counts.cells.iter().map(|c| publish(c.1.records, rule)).collect();
    let (mut rows, mut summaries) = (Vec::new(), Vec::new());
    for measure in [Measure::Mentions, Measure::Concerns] {
        for theme in 0..book.themes.len() {
            // in a period of suppressed records the theme's count is suppressed, 0 too: the
            // zeros of a month of one record said which themes that record carried
            let x: Vec<Published> = counts
                .cells
                .iter()
                .zip(&n)
                .map(|(c, records)| {
                    let v = match measure {
                        Measure::Mentions => c.1.mentions[theme],
                        Measure::Concerns => c.1.concerns[theme],
                    };
                    if records.suppressed {
                        Published::SUPPRESSED
                    } else {
                        publish(v, rule)
                    }
                })
                .collect();
            // p and p′: a period too small for its limits (n·p̄ below 5) goes in with the next
            let groups = match method {
                Method::P | Method::LaneyP => merge_small(&x, &n),
                Method::Xmr { .. } => (0..n.len()).map(|i| i..i + 1).collect(),
            };
            let sum = |v: &[Published]| -> Published {
                v.iter()
                    .try_fold(0u64, |acc, p| Some(acc + p.value?))
                    .map_or(Published::SUPPRESSED, |total| Published { value: Some(total), suppressed: false })
            };
            let series: Vec<(NaiveDate, Published, Published, usize)> =
                groups.iter().map(|g| (starts[g.start], sum(&x[g.clone()]), sum(&n[g.clone()]), g.len())).collect();
            let days: Vec<NaiveDate> = series.iter().map(|p| p.0).collect();
            // a period with a suppressed count is off the chart (n = 0 skips it)
            let (xs, ns): (Vec<f64>, Vec<f64>) = series
                .iter()
                .map(|(_, x, n, _)| match (x.value, n.value) {
                    (Some(x), Some(n)) => (x as f64, n as f64),
                    _ => (0.0, 0.0),
                })
                .unzip();
            // each change's first period: the first that starts on or after its day; rebase at
            // it only when the points after it shift (each from the last rebase on)
            let mut at: Vec<(usize, usize)> = s
                .changes
                .iter()
                .enumerate()
                .filter_map(|(k, c)| Some((days.iter().position(|&d| d >= c.date)?, k)))
                .filter(|&(i, _)| i > 0)
                .collect();
            at.sort_unstable();
            at.dedup_by_key(|x| x.0);
            let mut rebases: Vec<(usize, usize, Signal)> = Vec::new();
            let mut from = 0;
            for &(i, k) in &at {
                if let Some(signal) = spc::rebase_signal(&xs[from..], &ns[from..], method, i - from) {
                    rebases.push((i, k, signal));
                    from = i;
                }
            }
            let cuts: Vec<usize> = rebases.iter().map(|r| r.0).collect();
            // a suppressed period is off the chart and breaks its runs (its value may)
            let hidden: Vec<bool> = series.iter().map(|(_, x, n, _)| x.value.is_none() || n.value.is_none()).collect();
            let Some(chart) = spc::chart_with_gaps(&xs, &ns, method, &cuts, &hidden) else { continue };
            let dir = direction(book, theme, measure);
            let target = s.targets.get(&(book.themes[theme].code.clone(), measure.as_str().to_owned())).copied();
            summaries.push(summary_row(&chart, theme, measure, &days, &rebases, dir, target));
            for (i, p) in chart.points.iter().enumerate() {
                let segment = chart.segments.get(p.segment);
                rows.push(SpcRow {
                    theme,
                    measure,
                    chart: method.name(),
                    period_start: series[i].0,
                    periods: series[i].3,
                    n: series[i].2,
                    x: series[i].1,
                    point: *p,
                    trial_limits: segment.is_some_and(|s| s.trial_limits),
                    rebased_at: p.segment.checked_sub(1).and_then(|r| rebases.get(r)).map(|r| r.1),
                    direction: dir,
                });
            }
        }
    }
    (rows, summaries)
}

/// The runs of consecutive periods a p or p′ chart plots as one point: a period whose published
/// records n and the series' p̄ give n·p̄ below 5 goes in with the next (METHODS §5: "aggregate
/// periods when n_i·p̄ is below about 5"), and a short run left at the end with the one before.
/// p̄ is Σx/Σn over the periods whose counts are published.
fn merge_small(x: &[Published], n: &[Published]) -> Vec<std::ops::Range<usize>> {
    let (sx, sn) = x
        .iter()
        .zip(n)
        .filter_map(|(x, n)| Some((x.value?, n.value?)))
        .fold((0u64, 0u64), |s, v| (s.0 + v.0, s.1 + v.1));
    let p_bar = if sn == 0 { 0.0 } else { sx as f64 / sn as f64 };
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut from, mut size) = (0, 0u64);
    for (i, ni) in n.iter().enumerate() {
        size += ni.value.unwrap_or(0);
        if size as f64 * p_bar >= 5.0 || p_bar == 0.0 {
            out.push(from..i + 1);
            (from, size) = (i + 1, 0);
        }
    }
    if from < n.len() {
        match out.last_mut() {
            Some(last) => last.end = n.len(),
            None => out.push(from..n.len()),
        }
    }
    out
}

fn summary_row(
    chart: &Chart,
    theme: usize,
    measure: Measure,
    starts: &[NaiveDate],
    rebases: &[(usize, usize, Signal)],
    direction: Direction,
    target: Option<f64>,
) -> SpcSummaryRow {
    let plotted: Vec<usize> = (0..chart.points.len()).filter(|&i| chart.points[i].value.is_some()).collect();
    SpcSummaryRow {
        theme,
        measure,
        chart: chart.method.name(),
        points: plotted.len(),
        span: plotted.first().zip(plotted.last()).map(|(&a, &b)| (starts[a], starts[b])),
        centre: chart.segments.last().and_then(|s| s.centre),
        summary: spc::summary(chart, direction, target),
        rebases: rebases.iter().map(|r| (r.1, r.2)).collect(),
        direction,
        target,
    }
}

fn f64s<T>(rows: &[T], f: impl Fn(&T) -> Option<f64>) -> ColumnData {
    ColumnData::F64(rows.iter().map(f).collect())
}

/// The `spc` table.
#[must_use]
pub(crate) fn table(rows: &[SpcRow], changes: &[Change], book: &Codebook, period: SpcPeriod) -> Table {
    let theme = |r: &SpcRow| &book.themes[r.theme];
    let limit = |f: fn(&spc::Limits) -> f64| f64s(rows, move |r| r.point.limits.as_ref().map(f));
    let count = |f: fn(&SpcRow) -> Published| {
        ColumnData::I64(rows.iter().map(|r| f(r).value.and_then(|v| i64::try_from(v).ok())).collect())
    };
    let unit = match period {
        SpcPeriod::Month => "month",
        SpcPeriod::Week => "week (Monday to Sunday)",
    };
    Table {
        name: "spc".to_owned(),
        grain: format!("theme × measure × {unit}"),
        columns: vec![
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new("measure", "mentions or concerns: the share of the period's records coded with the theme, or with it as a concern", strs(rows, |r| owned(r.measure.as_str()))),
            Col::new("chart", "xmr (XmR of the proportions, Making Data Count's default), p or p_prime (Laney)", strs(rows, |r| owned(r.chart))),
            Col::new("period_start", format!("first day of the {unit}"), ColumnData::Date(rows.iter().map(|r| Some(r.period_start)).collect())),
            Col::new("periods_n", "periods the point covers: 1, or more on a p or p′ chart where a period too small for its limits (n·p̄ below 5) went in with the next, its published counts summed", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.periods).ok()).collect())),
            Col::new("records_n", format!("records in the period with a date {PUBLISHED}"), count(|r| r.n)),
            Col::new("measure_n", format!("of those, records with the measure {PUBLISHED}"), count(|r| r.x)),
            Col::new("proportion", "measure_n / records_n as published; null when either is suppressed (the period is then off the chart)", f64s(rows, |r| r.point.value)),
            Col::new("centre", "centre line of the point's segment (mean of the proportions for XmR; Σx/Σn for p, p′)", f64s(rows, |r| r.point.value.and(r.point.centre))),
            Col::new("limit_low", "lower process limit (XmR: centre − 2.66 mR̄; p: − 3σ; p′: − 3σσ_z)", limit(|l| l.lower)),
            Col::new("limit_high", "upper process limit", limit(|l| l.upper)),
            Col::new("near_limit_low", "lower edge of the near-limit band (2/3 of the way to the limit)", limit(|l| l.near_lower)),
            Col::new("near_limit_high", "upper edge of the near-limit band", limit(|l| l.near_upper)),
            Col::new("is_special_cause", "a Making Data Count rule fires on the point; null off the chart", ColumnData::Bool(rows.iter().map(|r| r.point.value.map(|_| r.point.special_cause())).collect())),
            Col::new("rule", "the rule that labels it, by precedence: outside_limits, trend (7 rising or falling), two_in_three (near a limit), shift (7 on one side); null for common cause", strs(rows, |r| r.point.signal.map(|s| s.rule.name()))),
            Col::new("point_label", "improvement, concern or neutral by the direction of the signal and the theme's improvement direction (fewer concerns is improvement); null for common cause", strs(rows, |r| r.point.label(r.direction).map(|l| l.name()))),
            Col::new("is_trial_limits", "the segment's limits come from fewer than 12 points", ColumnData::Bool(rows.iter().map(|r| Some(r.trial_limits)).collect())),
            Col::new("rebased_at", "the declared change at which the limits of this point's segment were rebased (the points after it shifted); null before any", strs(rows, |r| r.rebased_at.map(|k| &changes[k].name))),
        ],
    }
}

/// The last rebase of a series.
fn last_rebase(r: &SpcSummaryRow) -> Option<&(usize, Signal)> {
    r.rebases.last()
}

/// The `spc_summary` table.
#[must_use]
pub(crate) fn summary_table(rows: &[SpcSummaryRow], changes: &[Change], book: &Codebook) -> Table {
    let theme = |r: &SpcSummaryRow| &book.themes[r.theme];
    Table {
        name: "spc_summary".to_owned(),
        grain: "theme × measure".to_owned(),
        columns: vec![
            Col::new("theme_code", "theme code", strs(rows, |r| owned(&theme(r).code))),
            Col::new("theme_name", "theme name", strs(rows, |r| owned(&theme(r).name))),
            Col::new("measure", "mentions or concerns", strs(rows, |r| owned(r.measure.as_str()))),
            Col::new("chart", "xmr, p or p_prime", strs(rows, |r| owned(r.chart))),
            Col::new("improvement", "which way is better: decrease (concerns, and most themes' mentions) or increase", strs(rows, |r| owned(match r.direction { Direction::Increase => "increase", Direction::Decrease => "decrease", Direction::Neither => "neither" }))),
            Col::new("points_n", "periods on the chart (counts published)", ColumnData::I64(rows.iter().map(|r| i64::try_from(r.points).ok()).collect())),
            Col::new("first_period", "first period on the chart", ColumnData::Date(rows.iter().map(|r| r.span.map(|s| s.0)).collect())),
            Col::new("last_period", "last period on the chart", ColumnData::Date(rows.iter().map(|r| r.span.map(|s| s.1)).collect())),
            Col::new("centre", "centre line of the last segment", ColumnData::F64(rows.iter().map(|r| r.centre).collect())),
            Col::new("variation", "Making Data Count variation icon, from the last point: common_cause, special_cause_improvement, special_cause_concern or special_cause_neither", strs(rows, |r| r.summary.map(|s| s.variation.name()))),
            Col::new("target", "the target set for the series ([analysis] spc_targets); null without one", ColumnData::F64(rows.iter().map(|r| r.target).collect())),
            Col::new("assurance", "Making Data Count assurance icon against the target at the last point's limits: consistently_passes, consistently_fails or inconsistent; null without a target", strs(rows, |r| r.summary.and_then(|s| s.assurance).map(|a| a.name()))),
            Col::new("rebased_at", "the last declared change the limits were rebased at (7 points after it on one side of the old centre line); null when none", strs(rows, |r| last_rebase(r).map(|x| &changes[x.0].name))),
            Col::new("change_signal", "the signal that justified that rebase, as Making Data Count labels it (e.g. `7 Points Below CL`)", strs(rows, |r| last_rebase(r).map(|x| x.1.package_type()))),
            Col::new("change_label", "improvement or concern: which way the series moved at that change", strs(rows, |r| last_rebase(r).map(|x| x.1.label(r.direction).name()))),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn periods_start_on_the_first_and_on_monday() {
        assert_eq!(period_start(SpcPeriod::Month, day("2025-02-17")), day("2025-02-01"));
        assert_eq!(period_end(SpcPeriod::Month, day("2024-02-01")), day("2024-02-29"));
        // 2025-06-01 is a Sunday: its week began on Monday 26 May
        assert_eq!(period_start(SpcPeriod::Week, day("2025-06-01")), day("2025-05-26"));
        assert_eq!(period_start(SpcPeriod::Week, day("2025-05-26")), day("2025-05-26"));
        assert_eq!(period_end(SpcPeriod::Week, day("2025-05-26")), day("2025-06-01"));
    }

    #[test]
    fn p_charts_merge_periods_too_small_for_their_limits() {
        let rule = DisclosureRule { suppress_max: 0, round_to: 1, suppress_zero: false };
        let p = |v: u64| publish(v as i64, &rule);
        // p̄ = 20/400 = 0.05: n·p̄ ≥ 5 needs 100 records; months of 40, 60, 150, 30, 20, 100
        let n: Vec<Published> = [40, 60, 150, 30, 20, 100].into_iter().map(p).collect();
        let x: Vec<Published> = [2, 3, 7, 2, 1, 5].into_iter().map(p).collect();
        assert_eq!(merge_small(&x, &n), vec![0..2, 2..3, 3..6]);
        // a short run at the end goes in with the one before
        let n2: Vec<Published> = [200, 10].into_iter().map(p).collect();
        assert_eq!(merge_small(&[p(10), p(1)], &n2), vec![0..2]);
        // nothing to merge when every period is large enough
        let big: Vec<Published> = [500, 600].into_iter().map(p).collect();
        assert_eq!(merge_small(&[p(50), p(60)], &big), vec![0..1, 1..2]);
    }

    fn book() -> Codebook {
        Codebook::from_toml(
            "[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='W1'\nname='waits'\ncategory='access'\nterms=['wait']\n[[theme]]\ncode='K1'\nname='kind'\ncategory='staff'\nterms=['kind']\nimprovement='increase'\n",
            "t.toml",
        )
        .expect("codebook")
    }

    /// 24 months of 400 records; theme 0's concerns halve from month 13, when a change is declared:
    /// the series is rebased there on a shift below the old centre line, labelled improvement; the
    /// counts are published (rounded to 5) and the chart drawn from them.
    #[test]
    fn a_halved_concern_rebases_at_its_change_as_an_improvement() {
        let book = book();
        let cells: Vec<(NaiveDate, Cell)> = (0..24)
            .map(|m| {
                let start = day("2024-01-01").checked_add_months(chrono::Months::new(m)).expect("month");
                let concerns = if m < 12 { 80 + (m as i64 % 3) * 5 } else { 40 + (m as i64 % 2) * 5 };
                let cell = Cell {
                    records: 400,
                    respondents: 400,
                    mentions: vec![concerns + 10, 50],
                    concerns: vec![concerns, 3],
                };
                (start, cell)
            })
            .collect();
        let counts = SpcCounts { period: SpcPeriod::Month, cells };
        let change = Change {
            name: "triage".to_owned(),
            date: day("2025-01-01"),
            window_days: None,
            org: Default::default(),
            sources: Vec::new(),
        };
        let targets = BTreeMap::from([(("W1".to_owned(), "concerns".to_owned()), 0.05)]);
        let s = SpcSettings {
            chart: SpcChart::Xmr,
            screen_outliers: true,
            changes: std::slice::from_ref(&change),
            targets: &targets,
        };
        let (rows, summaries) = spc_rows(&counts, &book, &s, &DisclosureRule::default());
        assert_eq!(rows.len(), 2 * 2 * 24);
        let w1 = summaries.iter().find(|r| r.theme == 0 && r.measure == Measure::Concerns).expect("series");
        assert_eq!(w1.rebases.len(), 1, "{w1:?}");
        let (k, signal) = w1.rebases[0];
        assert_eq!((k, signal.rule, signal.label(w1.direction)), (0, spc::Rule::Shift, spc::PointLabel::Improvement));
        let after = rows
            .iter()
            .find(|r| r.theme == 0 && r.measure == Measure::Concerns && r.period_start == day("2025-03-01"))
            .expect("row");
        assert_eq!(after.rebased_at, Some(0));
        // the rebased segment's centre is the mean of the published proportions after the change
        let published: Vec<f64> = (12..24).map(|m| (if m % 2 == 0 { 40.0 } else { 45.0 }) / 400.0).collect();
        let mean = published.iter().sum::<f64>() / 12.0;
        assert!((after.point.centre.expect("centre") - mean).abs() < 1e-12);
        // the target of 5 % lies below the new lower limit? then decrease-is-better consistently fails
        assert!(w1.summary.expect("summary").assurance.is_some());
        // a theme whose concerns are suppressed every month (3) has no point on the chart
        let k1 = rows.iter().filter(|r| r.theme == 1 && r.measure == Measure::Concerns);
        assert!(k1.clone().all(|r| r.point.value.is_none() && r.x.value.is_none()));
        // more mentions of K1 is better: its direction is increase
        assert_eq!(
            summaries.iter().find(|r| r.theme == 1 && r.measure == Measure::Mentions).expect("k1").direction,
            Direction::Increase
        );
    }
}
