//! Group-distinctive themes: weighted log-odds and lift / relative risk (METHODS §3).

use super::representation::{katz_ratio, KatzMethod};

/// Dirichlet prior for [`log_odds_dirichlet`] (METHODS §3, "The prior").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// α_w = α₀·π_w with π_w the theme's pooled share. The project default is α₀ = 100 (a choice, not a
    /// standard): keep it configurable and write it to the output.
    Scaled {
        /// α₀, the prior's total weight.
        alpha0: f64,
    },
    /// α_w = the theme's pooled count (kornosk/log-odds-ratio's default; shrinks heavily).
    PooledCounts,
    /// The same α for every theme (jmhessel/FightingWords uses 0.01).
    Uniform {
        /// α per theme.
        alpha: f64,
    },
}

impl Default for Prior {
    fn default() -> Self {
        Prior::Scaled { alpha0: 100.0 }
    }
}

/// Weighted log-odds of one theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogOdds {
    /// The prior pseudo-count α_w used.
    pub alpha: f64,
    /// δ_w, the log-odds ratio (natural log).
    pub delta: f64,
    /// σ²_w ≈ 1/(y_w^g + α_w) + 1/(y_w^r + α_w).
    pub variance: f64,
    /// z_w = δ_w/σ_w; descriptive, not adjusted for multiplicity.
    pub z: f64,
}

impl LogOdds {
    /// METHODS §3 flag: z ≥ 1.96 and at least 5 group mentions (`y_group`).
    #[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
    pub(crate) fn is_flagged(&self, y_group: f64) -> bool {
        self.z >= 1.96 && y_group >= 5.0
    }
}

fn valid_counts(y: &[f64]) -> bool {
    y.iter().all(|v| v.is_finite() && *v >= 0.0)
}

/// Weighted log-odds with an informative Dirichlet prior, group versus rest (Monroe, Colaresi & Quinn
/// 2008; METHODS §3):
///
/// `δ_w = ln[(y_w^g+α_w)/(n^g+α₀−y_w^g−α_w)] − ln[(y_w^r+α_w)/(n^r+α₀−y_w^r−α_w)]`,
/// `σ²_w ≈ 1/(y_w^g+α_w) + 1/(y_w^r+α_w)`, `z_w = δ_w/σ_w`, with α₀ = Σ_w α_w and natural logs.
///
/// `y_group` and `y_rest` are mentions per theme (the rest = all other groups, excluding missing).
/// Returns `None` for mismatched lengths, negative counts, no mentions at all, or a non-positive prior;
/// a theme whose δ or z is undefined (e.g. never mentioned under a pooled prior) is `None`.
pub(crate) fn log_odds_dirichlet(y_group: &[f64], y_rest: &[f64], prior: Prior) -> Option<Vec<Option<LogOdds>>> {
    if y_group.len() != y_rest.len() || !valid_counts(y_group) || !valid_counts(y_rest) {
        return None;
    }
    let (n_g, n_r) = (y_group.iter().sum::<f64>(), y_rest.iter().sum::<f64>());
    let pooled = n_g + n_r;
    if pooled <= 0.0 {
        return None;
    }
    let alpha: Vec<f64> = match prior {
        Prior::Scaled { alpha0 } if alpha0 > 0.0 => {
            y_group.iter().zip(y_rest).map(|(g, r)| alpha0 * (g + r) / pooled).collect()
        }
        Prior::PooledCounts => y_group.iter().zip(y_rest).map(|(g, r)| g + r).collect(),
        Prior::Uniform { alpha } if alpha > 0.0 && alpha.is_finite() => vec![alpha; y_group.len()],
        _ => return None,
    };
    let alpha0: f64 = alpha.iter().sum();
    let out = y_group
        .iter()
        .zip(y_rest)
        .zip(&alpha)
        .map(|((&g, &r), &a)| {
            let delta = ((g + a) / (n_g + alpha0 - g - a)).ln() - ((r + a) / (n_r + alpha0 - r - a)).ln();
            let variance = 1.0 / (g + a) + 1.0 / (r + a);
            let z = delta / variance.sqrt();
            z.is_finite().then_some(LogOdds { alpha: a, delta, variance, z })
        })
        .collect();
    Some(out)
}

/// A port of `tidylo::bind_log_odds` with its default empirical-Bayes prior, for comparison only
/// (METHODS §3, "Pitfalls"). `counts[i][w]` is the count of theme w in set i. Each set is compared with
/// the pooled total **including itself**, so results differ from [`log_odds_dirichlet`]:
/// y_wi = n_wi + α_w with α_w = Σ_i n_wi; y_w = Σ_i y_wi; n_i = Σ_w y_wi;
/// δ = ln(y_wi/(n_i − y_wi)) − ln(y_w/(Σ y − y_w)); σ² = 1/y_wi + 1/y_w.
///
/// Returns `None` for ragged or negative input; a cell with an undefined z is `None`.
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
pub(crate) fn tidylo_log_odds<S: AsRef<[f64]>>(counts: &[S]) -> Option<Vec<Vec<Option<LogOdds>>>> {
    let width = counts.first().map_or(0, |s| s.as_ref().len());
    if counts.iter().any(|s| s.as_ref().len() != width || !valid_counts(s.as_ref())) {
        return None;
    }
    let alpha: Vec<f64> = (0..width).map(|w| counts.iter().map(|s| s.as_ref()[w]).sum()).collect();
    // y_w = Σ_i (n_wi + α_w) = α_w + K·α_w for K sets.
    let y_w: Vec<f64> = alpha.iter().map(|a| a * (1.0 + counts.len() as f64)).collect();
    let total: f64 = y_w.iter().sum();
    let out = counts
        .iter()
        .map(|set| {
            let set = set.as_ref();
            let n_i: f64 = set.iter().zip(&alpha).map(|(n, a)| n + a).sum();
            set.iter()
                .zip(&alpha)
                .zip(&y_w)
                .map(|((&n, &a), &yw)| {
                    let y = n + a;
                    let delta = (y / (n_i - y)).ln() - (yw / (total - yw)).ln();
                    let variance = 1.0 / y + 1.0 / yw;
                    let z = delta / variance.sqrt();
                    z.is_finite().then_some(LogOdds { alpha: a, delta, variance, z })
                })
                .collect()
        })
        .collect();
    Some(out)
}

/// Relative risk and lift of one theme for one group (METHODS §3, comment level).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RiskLift {
    /// RR = (a/n_g)/(b/n_r); `None` when b = 0.
    pub rr: Option<f64>,
    /// Katz lower bound.
    pub rr_lower: f64,
    /// Katz upper bound.
    pub rr_upper: f64,
    /// `Log`, or `LogAdjusted` when a or b is 0.
    pub method: KatzMethod,
    /// L = p_g/p_all = RR/(s·RR + 1 − s), s = n_g/(n_g + n_r); `None` when the theme is never mentioned.
    pub lift: Option<f64>,
    /// The RR lower bound mapped through the same monotone formula.
    pub lift_lower: f64,
    /// The RR upper bound mapped through the same monotone formula.
    pub lift_upper: f64,
}

/// Lift from relative risk, L = RR/(s·RR + 1 − s) with s the group's share of comments (METHODS §3).
pub(crate) fn lift_from_rr(rr: f64, s: f64) -> f64 {
    rr / (s * rr + 1.0 - s)
}

/// RR of a theme in the group (a of n_g comments) versus the rest (b of n_r) with a Katz interval
/// (`'log'`, or `'log-adjusted'` when a or b is 0), and lift against the overall rate whose interval is
/// the RR interval mapped through [`lift_from_rr`]. Never put an independent-samples interval on
/// p_g/p_all directly: the numerator is part of the denominator (METHODS §3).
///
/// Returns `None` when n_g or n_r is 0 or a count exceeds its n.
pub(crate) fn relative_risk_lift(a: u64, n_g: u64, b: u64, n_r: u64, z: f64) -> Option<RiskLift> {
    let k = katz_ratio(a, n_g, b, n_r, z)?;
    let s = n_g as f64 / (n_g + n_r) as f64;
    let p_all = (a + b) as f64 / (n_g + n_r) as f64;
    let lift = (p_all > 0.0).then(|| (a as f64 / n_g as f64) / p_all);
    Some(RiskLift {
        rr: k.ratio,
        rr_lower: k.lower,
        rr_upper: k.upper,
        method: k.method,
        lift,
        lift_lower: lift_from_rr(k.lower, s),
        lift_upper: lift_from_rr(k.upper, s),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{close, num, nums, vectors};
    use super::super::Z95;
    use super::*;

    #[test]
    fn log_odds_vectors_all_priors() {
        let v = vectors();
        let s = &v["3_distinctive_themes"];
        let (g, r) = (nums(&s["y_group"]), nums(&s["y_rest"]));
        let cases = [
            ("informative_prior_pooled_counts", Prior::PooledCounts),
            ("informative_prior_alpha0_100", Prior::default()),
            ("uniform_prior_0.01", Prior::Uniform { alpha: num(&s["uniform_prior_0.01"]["alpha_w"]) }),
        ];
        for (key, prior) in cases {
            let c = &s[key];
            let got = log_odds_dirichlet(&g, &r, prior).expect("defined");
            for (w, lo) in got.iter().enumerate() {
                let lo = lo.expect("theme defined");
                let name = format!("{key} theme {}", s["themes"][w]);
                if c["alpha_w"].is_array() {
                    close(&name, lo.alpha, num(&c["alpha_w"][w]));
                }
                close(&name, lo.delta, num(&c["delta"][w]));
                close(&name, lo.variance, num(&c["var"][w]));
                close(&name, lo.z, num(&c["z"][w]));
            }
        }
        let flagged = log_odds_dirichlet(&g, &r, Prior::default()).expect("defined");
        let flags: Vec<bool> = flagged.iter().zip(&g).map(|(lo, y)| lo.is_some_and(|lo| lo.is_flagged(*y))).collect();
        assert_eq!(flags, [false, false, false, true, false, false]);
    }

    #[test]
    fn tidylo_vectors() {
        let v = vectors();
        let s = &v["3_distinctive_themes"];
        let got = tidylo_log_odds(&[nums(&s["y_group"]), nums(&s["y_rest"])]).expect("defined");
        for (i, key) in ["z_group", "z_rest"].into_iter().enumerate() {
            for (w, want) in nums(&s["tidylo_bind_log_odds_default"][key]).into_iter().enumerate() {
                close(&format!("tidylo {key} theme {w}"), got[i][w].expect("defined").z, want);
            }
        }
        // Group-versus-rest and tidylo's group-versus-all differ (4.49 vs 1.69 for interpreter_language).
        let mcq = log_odds_dirichlet(&nums(&s["y_group"]), &nums(&s["y_rest"]), Prior::default()).expect("defined");
        assert!((mcq[3].expect("defined").z - got[0][3].expect("defined").z).abs() > 1.0);
    }

    #[test]
    fn log_odds_edge_cases() {
        assert!(log_odds_dirichlet(&[0.0, 0.0], &[0.0, 0.0], Prior::default()).is_none());
        assert!(log_odds_dirichlet(&[1.0], &[1.0, 2.0], Prior::default()).is_none());
        assert!(log_odds_dirichlet(&[1.0, -1.0], &[1.0, 2.0], Prior::default()).is_none());
        assert!(log_odds_dirichlet(&[1.0, 2.0], &[1.0, 2.0], Prior::Scaled { alpha0: 0.0 }).is_none());
        let got = log_odds_dirichlet(&[3.0, 0.0, 2.0], &[5.0, 0.0, 1.0], Prior::default()).expect("defined");
        assert!(got[0].is_some() && got[1].is_none());
        assert!(tidylo_log_odds(&[vec![1.0, 2.0], vec![1.0]]).is_none());
    }

    #[test]
    fn lift_vectors() {
        let v = vectors();
        let rows = v["3_distinctive_themes"]["lift"]["rows"].as_array().expect("rows");
        for c in rows {
            let name = c["theme"].as_str().unwrap_or("?");
            let u = |k: &str| c[k].as_u64().expect("count");
            let rl = relative_risk_lift(u("x_group"), u("n_group"), u("x_rest"), u("n_rest"), Z95).expect("defined");
            let method = if c["ci_method"] == "log" { KatzMethod::Log } else { KatzMethod::LogAdjusted };
            assert_eq!(rl.method, method, "{name}");
            close(name, rl.rr.expect("rr"), num(&c["rr_vs_rest"]));
            close(name, rl.rr_lower, num(&c["rr_lower"]));
            close(name, rl.rr_upper, num(&c["rr_upper"]));
            close(name, rl.lift.expect("lift"), num(&c["lift_vs_overall"]));
            close(name, rl.lift_lower, num(&c["lift_lower"]));
            close(name, rl.lift_upper, num(&c["lift_upper"]));
        }
        assert_eq!(rows.len(), 6);
        assert!(relative_risk_lift(1, 0, 1, 10, Z95).is_none());
        let none = relative_risk_lift(0, 10, 0, 10, Z95).expect("adjusted interval");
        assert_eq!((none.rr, none.lift), (None, None));
        // b = 0: RR undefined but lift is 1/s, the RR → ∞ limit.
        let only = relative_risk_lift(4, 10, 0, 30, Z95).expect("defined");
        assert_eq!(only.rr, None);
        close("lift with b = 0", only.lift.expect("lift"), 4.0);
    }
}
