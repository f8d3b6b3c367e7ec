//! Before/after comparison: Newcombe interval, the pooled z-test or Fisher's exact test, and
//! Benjamini–Hochberg q-values (METHODS §4).

use statrs::distribution::{Discrete, Hypergeometric};
use statrs::function::erf::erfc;

use super::wilson;

/// A difference of proportions d = p_a − p_b with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffInterval {
    /// d = p_a − p_b (after minus before).
    pub diff: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// Newcombe hybrid score interval for p_a − p_b (Newcombe 1998, method 10; METHODS §4), from the Wilson
/// limits (l, u) of each period:
/// `L = d − sqrt((p_a−l_a)² + (u_b−p_b)²)`, `U = d + sqrt((u_a−p_a)² + (p_b−l_b)²)`,
/// as statsmodels `confint_proportions_2indep(x_a, n_a, x_b, n_b, compare='diff', method='newcomb')`.
///
/// Defined even when both counts are 0. Returns `None` when n_a or n_b is 0 or a count exceeds its n.
pub(crate) fn newcombe_diff(x_a: u64, n_a: u64, x_b: u64, n_b: u64, z: f64) -> Option<DiffInterval> {
    let (l_a, u_a) = wilson(x_a as f64, n_a as f64, z)?;
    let (l_b, u_b) = wilson(x_b as f64, n_b as f64, z)?;
    let (p_a, p_b) = (x_a as f64 / n_a as f64, x_b as f64 / n_b as f64);
    let diff = p_a - p_b;
    Some(DiffInterval {
        diff,
        lower: diff - ((p_a - l_a).powi(2) + (u_b - p_b).powi(2)).sqrt(),
        upper: diff + ((u_a - p_a).powi(2) + (p_b - l_b).powi(2)).sqrt(),
    })
}

/// Which test gave a p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// Pooled two-proportion z-test (statsmodels `proportions_ztest`).
    PooledZ,
    /// Fisher's exact test, two-sided (scipy `fisher_exact`).
    FisherExact,
}

impl Test {
    /// The name published in `comparisons.test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Test::PooledZ => "pooled_z",
            Test::FisherExact => "fisher_exact",
        }
    }
}

/// Two-sided p-value of the pooled z-test of x_a/n_a against x_b/n_b:
/// z = (p_a − p_b)/sqrt(p̄(1 − p̄)(1/n_a + 1/n_b)). Both counts 0 (or both all): z is undefined
/// and p = 1 by convention (METHODS §4 edge cases). `None` when an n is 0 or a count exceeds it.
pub(crate) fn pooled_z_p(x_a: u64, n_a: u64, x_b: u64, n_b: u64) -> Option<f64> {
    if n_a == 0 || n_b == 0 || x_a > n_a || x_b > n_b {
        return None;
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled = (x_a + x_b) as f64 / (na + nb);
    let var = pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb);
    if var <= 0.0 {
        return Some(1.0);
    }
    let z = (x_a as f64 / na - x_b as f64 / nb) / var.sqrt();
    Some(erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0))
}

/// Two-sided p-value of Fisher's exact test on the 2×2 table (x_a, n_a − x_a; x_b, n_b − x_b), as
/// scipy's `fisher_exact`: the probability, with the margins fixed, of every table no more likely
/// than the one observed (within a relative 1e-7). `None` when an n is 0 or a count exceeds it.
pub(crate) fn fisher_exact_p(x_a: u64, n_a: u64, x_b: u64, n_b: u64) -> Option<f64> {
    if n_a == 0 || n_b == 0 || x_a > n_a || x_b > n_b {
        return None;
    }
    let (total, successes) = (n_a + n_b, x_a + x_b);
    let h = Hypergeometric::new(total, successes, n_a).ok()?;
    let lo = n_a.saturating_sub(total - successes);
    let hi = successes.min(n_a);
    let observed = h.ln_pmf(x_a);
    let p: f64 = (lo..=hi).map(|x| h.ln_pmf(x)).filter(|&l| l <= observed + 1e-7).map(f64::exp).sum();
    Some(p.min(1.0))
}

/// The p-value of a before/after comparison by the output's one rule (METHODS §4, "fix one rule
/// per output"): Fisher's exact test when an expected count of the 2×2 table is below 5, else
/// the pooled z-test.
pub(crate) fn compare_p(x_a: u64, n_a: u64, x_b: u64, n_b: u64) -> Option<(f64, Test)> {
    if n_a == 0 || n_b == 0 || x_a > n_a || x_b > n_b {
        return None;
    }
    let total = (n_a + n_b) as f64;
    let (with, without) = ((x_a + x_b) as f64, (n_a + n_b - x_a - x_b) as f64);
    let smallest = [n_a as f64 * with, n_a as f64 * without, n_b as f64 * with, n_b as f64 * without]
        .into_iter()
        .fold(f64::INFINITY, f64::min)
        / total;
    if smallest < 5.0 {
        Some((fisher_exact_p(x_a, n_a, x_b, n_b)?, Test::FisherExact))
    } else {
        Some((pooled_z_p(x_a, n_a, x_b, n_b)?, Test::PooledZ))
    }
}

/// The change of one group's difference against another's (the "gap change"): D = d_1 − d_2 of
/// two independent differences with their intervals, and its interval by the method of variance
/// estimates recovery (MOVER; Zou & Donner 2008, Newcombe 2013):
/// `L = D − sqrt((d_1 − l_1)² + (u_2 − d_2)²)`, `U = D + sqrt((u_1 − d_1)² + (d_2 − l_2)²)`.
pub(crate) fn difference_of_differences(one: DiffInterval, two: DiffInterval) -> DiffInterval {
    let diff = one.diff - two.diff;
    DiffInterval {
        diff,
        lower: diff - ((one.diff - one.lower).powi(2) + (two.upper - two.diff).powi(2)).sqrt(),
        upper: diff + ((one.upper - one.diff).powi(2) + (two.diff - two.lower).powi(2)).sqrt(),
    }
}

/// Benjamini–Hochberg q-values (METHODS §4), as statsmodels `multipletests(method='fdr_bh')`: sort p
/// ascending, q_(i) = min_{j ≥ i} m·p_(j)/j, capped at 1, returned in the input order. Flag q ≤ 0.05.
/// Apply it to one family (one change × one breakdown).
///
/// Returns `None` if any p is NaN or outside [0, 1]; an empty input gives an empty vector.
pub(crate) fn benjamini_hochberg(p: &[f64]) -> Option<Vec<f64>> {
    if p.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return None;
    }
    let m = p.len() as f64;
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![0.0; p.len()];
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(m * p[i] / (rank + 1) as f64);
        q[i] = running;
    }
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{close, num, nums, vectors};
    use super::super::Z95;
    use super::*;

    #[test]
    fn newcombe_vectors() {
        let v = vectors();
        let s = &v["4_before_after"];
        let mut cases: Vec<(String, &serde_json::Value)> = s["themes"]
            .as_array()
            .expect("themes")
            .iter()
            .map(|c| (c["theme"].as_str().unwrap_or("?").to_string(), c))
            .collect();
        cases.push(("edge_both_zero".to_string(), &s["edge_both_zero"]));
        for (name, c) in &cases {
            let u = |k: &str| c[k].as_u64().expect("count");
            let d = newcombe_diff(u("x_after"), u("n_after"), u("x_before"), u("n_before"), Z95).expect("defined");
            let diff = if c["diff"].is_number() { &c["diff"] } else { &c["diff_after_minus_before"] };
            close(name, d.diff, num(diff));
            close(name, d.lower, num(&c["newcombe_lower"]));
            close(name, d.upper, num(&c["newcombe_upper"]));
        }
        assert_eq!(cases.len(), 7);
        assert_eq!(newcombe_diff(0, 0, 1, 10, Z95), None);
        assert_eq!(newcombe_diff(11, 10, 1, 10, Z95), None);
    }

    #[test]
    fn z_and_fisher_vectors() {
        let v = vectors();
        let themes = v["4_before_after"]["themes"].as_array().expect("themes");
        for c in themes {
            let name = c["theme"].as_str().unwrap_or("?");
            let u = |k: &str| c[k].as_u64().expect("count");
            let (xa, na, xb, nb) = (u("x_after"), u("n_after"), u("x_before"), u("n_before"));
            close(name, pooled_z_p(xa, na, xb, nb).expect("z"), num(&c["p_two_sided"]));
            close(name, fisher_exact_p(xa, na, xb, nb).expect("fisher"), num(&c["fisher_exact_p"]));
            // the same in the other direction: a two-sided test does not care which is after
            close(name, fisher_exact_p(xb, nb, xa, na).expect("fisher"), num(&c["fisher_exact_p"]));
            // the output's rule: Fisher only where an expected count is below 5 (cleanliness: 0 and 3)
            let (_, test) = compare_p(xa, na, xb, nb).expect("defined");
            let expected_small = name == "cleanliness";
            assert_eq!(test == Test::FisherExact, expected_small, "{name}: {test:?}");
        }
        assert_eq!(themes.len(), 6);
        // both zero: z undefined, p = 1 by convention; Fisher gives 1 too
        let e = &v["4_before_after"]["edge_both_zero"];
        let u = |k: &str| e[k].as_u64().expect("count");
        assert_eq!(pooled_z_p(u("x_after"), u("n_after"), u("x_before"), u("n_before")), Some(1.0));
        assert_eq!(compare_p(0, 380, 0, 400), Some((1.0, Test::FisherExact)));
        assert_eq!(pooled_z_p(1, 0, 1, 10), None);
        assert_eq!(fisher_exact_p(11, 10, 1, 10), None);
        // scipy.stats.fisher_exact([[1, 9], [11, 3]]).pvalue (two-sided, a small table)
        close("small fisher", fisher_exact_p(1, 10, 11, 14).expect("fisher"), 0.002_759_456_185_220_083_6);
    }

    #[test]
    fn the_gap_change_of_equal_differences_is_zero_and_its_interval_adds_both() {
        let a = DiffInterval { diff: -0.1, lower: -0.15, upper: -0.04 };
        let b = DiffInterval { diff: -0.1, lower: -0.13, upper: -0.06 };
        let g = difference_of_differences(a, b);
        assert!((g.diff - 0.0).abs() < 1e-15);
        // L = 0 − sqrt(0.05² + 0.04²), U = 0 + sqrt(0.06² + 0.03²)
        close("gap lower", g.lower, -(0.05f64.powi(2) + 0.04f64.powi(2)).sqrt());
        close("gap upper", g.upper, (0.06f64.powi(2) + 0.03f64.powi(2)).sqrt());
        // a difference minus nothing is itself
        let zero = DiffInterval { diff: 0.0, lower: 0.0, upper: 0.0 };
        let same = difference_of_differences(a, zero);
        close("minus nothing", same.diff, a.diff);
        close("minus nothing lower", same.lower, a.lower);
        close("minus nothing upper", same.upper, a.upper);
    }

    #[test]
    fn bh_vectors() {
        let v = vectors();
        let s = &v["4_before_after"]["bh_standalone"];
        let q = benjamini_hochberg(&nums(&s["p"])).expect("valid p");
        let reject = s["reject_at_q_0.05"].as_array().expect("flags");
        for (i, want) in nums(&s["p_adj"]).into_iter().enumerate() {
            close(&format!("bh_standalone q[{i}]"), q[i], want);
            assert_eq!(Some(q[i] <= 0.05), reject[i].as_bool(), "bh_standalone reject[{i}]");
        }
        // The per-theme family in the same section: p_two_sided → p_bh_adjusted.
        let themes = v["4_before_after"]["themes"].as_array().expect("themes");
        let p: Vec<f64> = themes.iter().map(|c| num(&c["p_two_sided"])).collect();
        let q = benjamini_hochberg(&p).expect("valid p");
        for (c, q) in themes.iter().zip(q) {
            close(c["theme"].as_str().unwrap_or("?"), q, num(&c["p_bh_adjusted"]));
        }
    }

    #[test]
    fn bh_edges() {
        assert_eq!(benjamini_hochberg(&[]), Some(vec![]));
        assert_eq!(benjamini_hochberg(&[0.5, f64::NAN]), None);
        assert_eq!(benjamini_hochberg(&[1.2]), None);
        assert_eq!(benjamini_hochberg(&[0.9, 1.0]), Some(vec![1.0, 1.0]));
    }
}
