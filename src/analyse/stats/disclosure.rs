//! Disclosure control for published counts (METHODS §6; NHS Digital HES/ECDS sub-national method).

use std::fmt;

/// Thresholds for [`disclose_count`]. The default is NHS Digital's: 0 stays 0, 1–7 suppressed, ≥ 8
/// rounded to the nearest 5. ONS research outputs / UK LLC use `suppress_max: 9, suppress_zero: true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisclosureRule {
    /// Counts in 1..=suppress_max are suppressed.
    pub suppress_max: u64,
    /// Round published counts to the nearest multiple of this (0 or 1 = no rounding).
    pub round_to: u64,
    /// Whether 0 is suppressed too (default false: 0 stays 0).
    pub suppress_zero: bool,
}

impl Default for DisclosureRule {
    fn default() -> Self {
        DisclosureRule { suppress_max: 7, round_to: 5, suppress_zero: false }
    }
}

/// A count as published: `value` is `None` exactly when `suppressed` (the `count_pub` / `suppressed`
/// columns of METHODS §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// The rounded count, or `None` when suppressed.
    pub value: Option<u64>,
    /// Whether the count was suppressed.
    pub suppressed: bool,
}

impl Published {
    /// A count published as suppressed (null): under the rule, withheld, or hidden beside one.
    pub const SUPPRESSED: Published = Published { value: None, suppressed: true };

    /// Pass a derived statistic (%, RR, z, lift) through only when this group's count is published:
    /// a ratio times a known share can give the count back (METHODS §6).
    pub fn gate<T>(&self, statistic: T) -> Option<T> {
        (!self.suppressed).then_some(statistic)
    }
}

impl fmt::Display for Published {
    /// The published text: the number, or `*` when suppressed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("*"),
        }
    }
}

/// Apply the disclosure rule to one count (METHODS §6): 0 → 0 (unless `suppress_zero`),
/// 1..=`suppress_max` → suppressed, otherwise rounded to the nearest `round_to`. An exact half rounds
/// up; with the default 5 it cannot occur, since n/5 of an integer never ends in .5 (12 → 10, 13 → 15).
/// Totals are rounded from their unrounded value, so rows need not add up.
pub(crate) fn disclose_count(n: u64, rule: &DisclosureRule) -> Published {
    let suppressed = if n == 0 { rule.suppress_zero } else { n <= rule.suppress_max };
    if suppressed {
        return Published { value: None, suppressed };
    }
    let step = rule.round_to.max(1);
    let value = n.saturating_add(step / 2) / step * step;
    Published { value: Some(value), suppressed }
}

/// A percentage computed from the *rounded* numerator and denominator (METHODS §6), rounded to
/// `decimals` places (half away from zero). `None` when either count is suppressed or the published
/// denominator is 0. For ±0.1 accuracy at one decimal the rounded denominator must be ≥ 4,000.
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
pub(crate) fn disclose_percent(numerator: u64, denominator: u64, rule: &DisclosureRule, decimals: i32) -> Option<f64> {
    let num = disclose_count(numerator, rule).value?;
    let den = disclose_count(denominator, rule).value.filter(|d| *d > 0)?;
    let scale = 10f64.powi(decimals);
    Some((100.0 * num as f64 / den as f64 * scale).round() / scale)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{close, num, vectors};
    use super::*;

    #[test]
    fn disclosure_vectors() {
        let v = vectors();
        let s = &v["6_disclosure_control"];
        let (counts, published) = (s["counts"].as_array().expect("counts"), s["published"].as_array().expect("pub"));
        assert_eq!(counts.len(), published.len());
        let rule = DisclosureRule::default();
        for (c, want) in counts.iter().zip(published) {
            let p = disclose_count(c.as_u64().expect("count"), &rule);
            assert_eq!(Some(p.to_string().as_str()), want.as_str(), "count {c}");
            assert_eq!(p.suppressed, p.value.is_none(), "count {c}");
        }
        let e = &s["percentage_example"];
        let (n, d) = (e["numerator"].as_u64().expect("n"), e["denominator"].as_u64().expect("d"));
        assert_eq!(Some(disclose_count(n, &rule).to_string().as_str()), e["published_numerator"].as_str());
        assert_eq!(Some(disclose_count(d, &rule).to_string().as_str()), e["published_denominator"].as_str());
        let pct = disclose_percent(n, d, &rule, 1).expect("published");
        close("percent from rounded", pct, num(&e["published_percent_1dp_from_rounded"]));
        close("unrounded percent", (100.0 * n as f64 / d as f64 * 1e4).round() / 1e4, num(&e["unrounded_percent"]));
    }

    #[test]
    fn disclosure_rules_and_edges() {
        let rule = DisclosureRule::default();
        assert_eq!(disclose_percent(5, 100, &rule, 1), None);
        assert_eq!(disclose_percent(0, 0, &rule, 1), None);
        assert_eq!(disclose_percent(0, 100, &rule, 1), Some(0.0));
        assert!(!disclose_count(u64::MAX, &rule).suppressed);
        assert_eq!(disclose_count(7, &rule).gate(0.3), None);
        assert_eq!(disclose_count(8, &rule).gate(0.3), Some(0.3));
        let ons = DisclosureRule { suppress_max: 9, round_to: 10, suppress_zero: true };
        assert_eq!(disclose_count(0, &ons).to_string(), "*");
        assert_eq!(disclose_count(15, &ons).value, Some(20), "an exact half rounds up");
        let raw = DisclosureRule { round_to: 0, ..rule };
        assert_eq!(disclose_count(13, &raw).value, Some(13));
    }
}
