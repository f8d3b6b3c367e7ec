//! What the published tables share: which groups are absent, the settings and baselines of the
//! analysis, the publishing of counts (disclosure control) every figure is computed from, and
//! the column builders of the tables.

use super::counts::DimCounts;
use super::differencing::PeriodCounts;
use super::stats::{self, DisclosureRule, FlagThresholds, Prior, Published};
use crate::table::ColumnData;

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
    /// The most pairs of themes `cooccurrence` publishes.
    pub max_pairs: usize,
}

impl Default for WhoSettings {
    fn default() -> Self {
        WhoSettings {
            disclosure: DisclosureRule::default(),
            flags: FlagThresholds::default(),
            prior: Prior::default(),
            weight_cap: 5.0,
            max_pairs: crate::config::DEFAULT_MAX_PAIRS,
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

/// The published counts of one dimension in one period (before the differencing guard). In a
/// group whose records are suppressed every theme count is suppressed too, 0 among them: the
/// zeros beside a suppressed count or two said which themes the group's few records carry
/// (found: a month of one record published that respondent's group and themes in
/// `theme_by_group`); no share of such a group is published in any case.
#[must_use]
pub fn publish_period(
    records: &[i64],
    mentions: &[Vec<i64>],
    concerns: &[Vec<i64>],
    rule: &DisclosureRule,
) -> PeriodCounts {
    let records: Vec<Published> = records.iter().map(|&r| publish(r, rule)).collect();
    let each = |m: &[Vec<i64>]| {
        m.iter()
            .enumerate()
            .map(|(g, row)| {
                let few = records.get(g).is_some_and(|r| r.suppressed);
                row.iter().map(|&c| if few { Published::SUPPRESSED } else { publish(c, rule) }).collect()
            })
            .collect()
    };
    PeriodCounts {
        mentions: each(mentions),
        concerns: each(concerns),
        records,
        withheld: std::collections::BTreeSet::new(),
    }
}

/// A share of two published counts (`None` when either is suppressed or the denominator is 0).
pub(crate) fn ratio_of(num: Published, den: Published) -> Option<f64> {
    let d = den.value.filter(|d| *d > 0)?;
    Some(num.value? as f64 / d as f64)
}

// Column builders of the published tables (each module's `table`).

/// What every published count's documentation says of disclosure control.
pub(crate) const PUBLISHED: &str = "(disclosure control: 1-7 suppressed as null, others rounded to the nearest 5)";

/// A string cell.
pub(crate) fn owned<S>(v: S) -> Option<S> {
    Some(v)
}

/// A published count as a cell: null when suppressed.
pub(crate) fn pubn(p: Published) -> Option<i64> {
    p.value.and_then(|v| i64::try_from(v).ok())
}

/// A column of doubles, one per row.
pub(crate) fn f64s<T>(rows: &[T], f: impl Fn(&T) -> Option<f64>) -> ColumnData {
    ColumnData::F64(rows.iter().map(f).collect())
}

/// A column of strings, one per row.
pub(crate) fn strs<'r, T, S: AsRef<str>>(rows: &'r [T], f: impl Fn(&'r T) -> Option<S>) -> ColumnData {
    ColumnData::strs(rows.iter().map(f))
}

/// A column of published counts, one per row.
pub(crate) fn counts<T>(rows: &[T], f: impl Fn(&T) -> Published) -> ColumnData {
    ColumnData::I64(rows.iter().map(|r| pubn(f(r))).collect())
}

/// METHODS formulas written afresh for the tables' unit tests: none of them calls the production
/// statistics, so a test comparing a row with them checks the row against METHODS itself.
#[cfg(test)]
pub(crate) mod formulas {
    use crate::analyse::stats::Z95;

    /// The Wilson interval of x/n (METHODS §1).
    pub(crate) fn wilson95(x: f64, n: f64) -> (f64, f64) {
        let z = Z95;
        let centre = (x + z * z / 2.0) / (n + z * z);
        let half = z / (n + z * z) * (x * (n - x) / n + z * z / 4.0).sqrt();
        (centre - half, centre + half)
    }

    /// A count as published (METHODS §6): 0 stays 0, 1-7 is suppressed (`None`), the rest is
    /// rounded to the nearest 5.
    pub(crate) fn published(n: i64) -> Option<f64> {
        match n {
            0 => Some(0.0),
            1..=7 => None,
            _ => Some((n as f64 / 5.0).round() * 5.0),
        }
    }
}
