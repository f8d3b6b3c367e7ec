//! Before/after comparison: Newcombe interval and Benjamini–Hochberg q-values (METHODS §4).

use super::wilson;

/// A difference of proportions d = p_a − p_b with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DiffInterval {
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
