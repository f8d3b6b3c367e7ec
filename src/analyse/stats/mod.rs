//! Pure statistics for `unheard`, following `shared/METHODS.md` §0–§6.
//!
//! Every function is a plain computation on numbers: no I/O, no frames, no panics. Undefined
//! results (an empty sample, a missing baseline, a zero denominator) come back as `None`.
//! Each function is checked against the known-answer vectors in
//! `tests/fixtures/methods-vectors.json` to an absolute tolerance of 1e-9.

pub(crate) mod before_after;
pub(crate) mod disclosure;
pub(crate) mod representation;
#[allow(dead_code)] // no table publishes it yet (issue 10 part 3 wires it into the spc tables)
pub(crate) mod spc;
pub(crate) mod themes;
pub(crate) mod weighting;

pub(crate) use disclosure::{disclose_count, DisclosureRule, Published};
pub(crate) use representation::{chi_square_gof, propensity_cv, representation, Flag, FlagThresholds};
pub(crate) use themes::{log_odds_dirichlet, relative_risk_lift, Prior};
pub(crate) use weighting::{rake_counts, rank_min_desc, Margin, RakeOptions, Ranking};

/// Two-sided 95% normal quantile, Φ⁻¹(0.975) (METHODS §0, "z = 1.959963985").
///
/// Held at full double precision (1.959963984540054, as scipy's `norm.ppf(0.975)` and the vectors'
/// `meta.conventions.z`); the 9-decimal value in METHODS is this number rounded. The extra digits matter:
/// a Katz upper bound near 77 moves by 2e-8 between the two.
pub(crate) const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for a proportion x/n (METHODS §1):
/// `(x + z²/2)/(n + z²) ± z/(n + z²)·sqrt(x(n − x)/n + z²/4)`,
/// as statsmodels `proportion_confint(method='wilson')`.
///
/// `x` and `n` are `f64` so the same interval serves weighted data (x = θ̂·n_eff, n = n_eff, §2).
/// Returns `None` when n ≤ 0, x is outside [0, n], or an input is not finite. Bounds are clipped to [0, 1].
pub(crate) fn wilson(x: f64, n: f64, z: f64) -> Option<(f64, f64)> {
    if !(x.is_finite() && n.is_finite() && z.is_finite()) || n <= 0.0 || x < 0.0 || x > n {
        return None;
    }
    let z2 = z * z;
    let centre = (x + z2 / 2.0) / (n + z2);
    let half = z / (n + z2) * (x * (n - x) / n + z2 / 4.0).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

#[cfg(test)]
pub(crate) mod testutil {
    use serde_json::Value;

    /// The known-answer vectors, read from the fixture copied from `shared/methods/vectors.json`.
    pub(crate) fn vectors() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/methods-vectors.json");
        let text = std::fs::read_to_string(path).expect("read methods-vectors.json");
        serde_json::from_str(&text).expect("parse methods-vectors.json")
    }

    /// A JSON number as f64 (panics in tests only).
    pub(crate) fn num(v: &Value) -> f64 {
        v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
    }

    /// A JSON array of numbers.
    pub(crate) fn nums(v: &Value) -> Vec<f64> {
        v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(num).collect()
    }

    /// Assert |got − want| ≤ 1e-9, naming the case on failure.
    pub(crate) fn close(case: &str, got: f64, want: f64) {
        assert!((got - want).abs() <= 1e-9, "{case}: got {got:.12}, expected {want:.12}");
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{close, num, vectors};
    use super::*;

    #[test]
    fn wilson_matches_vectors() {
        let v = vectors();
        let cases = v["1_representation"]["wilson"].as_array().expect("wilson cases");
        for c in cases {
            let name = format!("wilson {}/{}", c["x"], c["n"]);
            let (lo, hi) = wilson(num(&c["x"]), num(&c["n"]), Z95).expect("defined");
            close(&name, lo, num(&c["lower"]));
            close(&name, hi, num(&c["upper"]));
        }
        assert_eq!(cases.len(), 6);
    }

    #[test]
    fn wilson_edge_cases() {
        assert_eq!(wilson(0.0, 0.0, Z95), None);
        assert_eq!(wilson(3.0, 2.0, Z95), None);
        assert_eq!(wilson(-1.0, 2.0, Z95), None);
        assert_eq!(wilson(f64::NAN, 2.0, Z95), None);
        // x = 0: upper bound is z²/(n + z²) (METHODS §1 edge cases).
        let (lo, hi) = wilson(0.0, 200.0, Z95).expect("defined");
        assert_eq!(lo, 0.0);
        assert!((hi - Z95 * Z95 / (200.0 + Z95 * Z95)).abs() < 1e-15);
    }
}
