//! Representation in feedback compared with the population (METHODS §1).

#[cfg(test)]
use rand::{Rng, SeedableRng};
#[cfg(test)]
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::wilson;

/// Representation flag for one group (METHODS §1, "Flag rule"). `NoEvidence` does **not** mean
/// "adequately represented": publish the interval with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Flag {
    /// RR upper bound below `FlagThresholds::under` (default 0.8).
    UnderRepresented,
    /// RR upper bound below `FlagThresholds::parity` (default 1).
    BelowParity,
    /// The interval straddles parity or sits between the cut-offs.
    NoEvidence,
    /// RR lower bound above `FlagThresholds::parity`.
    AboveParity,
    /// RR lower bound above `FlagThresholds::over` (default 1.25).
    OverRepresented,
    /// The population share is zero or missing, so no ratio exists.
    NoBaseline,
}

impl Flag {
    /// The snake_case name used in outputs, e.g. `"under_represented"`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Flag::UnderRepresented => "under_represented",
            Flag::BelowParity => "below_parity",
            Flag::NoEvidence => "no_evidence",
            Flag::AboveParity => "above_parity",
            Flag::OverRepresented => "over_represented",
            Flag::NoBaseline => "no_baseline",
        }
    }

    /// Classify an RR interval: upper < under → under-represented; upper < parity → below parity;
    /// lower > over → over-represented; lower > parity → above parity; otherwise no evidence (§1).
    pub(crate) fn classify(lower: f64, upper: f64, t: &FlagThresholds) -> Flag {
        if upper < t.under {
            Flag::UnderRepresented
        } else if upper < t.parity {
            Flag::BelowParity
        } else if lower > t.over {
            Flag::OverRepresented
        } else if lower > t.parity {
            Flag::AboveParity
        } else {
            Flag::NoEvidence
        }
    }
}

/// Cut-offs for [`Flag::classify`] (METHODS §1). Defaults: 0.8 (four-fifths rule), 1, 1.25.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlagThresholds {
    /// Upper bound below this → `UnderRepresented`.
    pub under: f64,
    /// Parity: upper bound below → `BelowParity`, lower bound above → `AboveParity`.
    pub parity: f64,
    /// Lower bound above this → `OverRepresented`.
    pub over: f64,
}

impl Default for FlagThresholds {
    fn default() -> Self {
        FlagThresholds { under: 0.8, parity: 1.0, over: 1.25 }
    }
}

/// A ratio with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RatioInterval {
    /// Point estimate.
    pub ratio: f64,
    /// Lower confidence bound.
    pub lower: f64,
    /// Upper confidence bound.
    pub upper: f64,
}

/// One group's representation in feedback (METHODS §1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Representation {
    /// p̂_h = x_h / n, the group's share of feedback.
    pub share: f64,
    /// P_h, the group's population share, when known and positive.
    pub population_share: Option<f64>,
    /// Expected count n·P_h.
    pub expected: Option<f64>,
    /// RR_h = p̂_h / P_h with the Wilson bounds divided by P_h; `None` without a baseline.
    pub ratio: Option<RatioInterval>,
    /// The flag from [`Flag::classify`], or `NoBaseline`.
    pub flag: Flag,
}

/// Representation ratio of x of n respondents against population share P (METHODS §1):
/// RR = (x/n)/P with interval Wilson(x, n)/P, the census share being treated as fixed.
///
/// Returns `None` when n = 0 or x > n. A zero, negative, non-finite or missing `population_share`
/// gives `ratio: None` and `Flag::NoBaseline`. x = 0 gives RR = 0 with upper bound z²/(n+z²)/P.
pub(crate) fn representation(
    x: u64,
    n: u64,
    population_share: Option<f64>,
    z: f64,
    thresholds: &FlagThresholds,
) -> Option<Representation> {
    let (lo, hi) = wilson(x as f64, n as f64, z)?;
    let share = x as f64 / n as f64;
    let p = population_share.filter(|p| p.is_finite() && *p > 0.0);
    let ratio = p.map(|p| RatioInterval { ratio: share / p, lower: lo / p, upper: hi / p });
    let flag = ratio.map_or(Flag::NoBaseline, |r| Flag::classify(r.lower, r.upper, thresholds));
    Some(Representation { share, population_share: p, expected: p.map(|p| n as f64 * p), ratio, flag })
}

/// Which Katz interval was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KatzMethod {
    /// statsmodels `'log'`: counts as observed.
    Log,
    /// statsmodels `'log-adjusted'`: 0.5 added to each count and each n (used when a count is 0).
    LogAdjusted,
}

/// Ratio of two independent proportions with a Katz log interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KatzInterval {
    /// (x₁/n₁)/(x₂/n₂) from the unadjusted counts; `None` when x₂ = 0.
    pub ratio: Option<f64>,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// `LogAdjusted` when x₁ or x₂ is 0, else `Log`.
    pub method: KatzMethod,
}

/// Katz log interval for p₁/p₂ (METHODS §1 and §3): `exp(ln RR ± z·sqrt(1/x₁ − 1/n₁ + 1/x₂ − 1/n₂))`,
/// as statsmodels `confint_proportions_2indep(compare='ratio', method='log')`. When x₁ or x₂ is 0 it
/// switches to `'log-adjusted'`, adding 0.5 to each count and each n in both the ratio and the variance.
///
/// Returns `None` when n₁ or n₂ is 0 or a count exceeds its n.
pub(crate) fn katz_ratio(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> Option<KatzInterval> {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let method = if x1 == 0 || x2 == 0 { KatzMethod::LogAdjusted } else { KatzMethod::Log };
    let add = if method == KatzMethod::LogAdjusted { 0.5 } else { 0.0 };
    let (a1, m1, a2, m2) = (x1 as f64 + add, n1 as f64 + add, x2 as f64 + add, n2 as f64 + add);
    let log_rr = ((a1 / m1) / (a2 / m2)).ln();
    let se = (1.0 / a1 - 1.0 / m1 + 1.0 / a2 - 1.0 / m2).max(0.0).sqrt();
    let ratio = (x2 > 0).then(|| (x1 as f64 / n1 as f64) / (x2 as f64 / n2 as f64));
    Some(KatzInterval { ratio, lower: (log_rr - z * se).exp(), upper: (log_rr + z * se).exp(), method })
}

/// Pearson goodness of fit of feedback counts to population shares (METHODS §1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ChiSquareGof {
    /// χ² = Σ(x_h − nP_h)²/(nP_h).
    pub statistic: f64,
    /// Degrees of freedom K − 1.
    pub df: usize,
    /// Upper-tail χ² probability (scipy `chisquare`).
    pub p_value: f64,
    /// The smallest expected count nP_h.
    pub min_expected: f64,
    /// Cochran's rule holds (every nP_h ≥ 5); if not, merge groups or use [`chi_square_monte_carlo`].
    pub cochran_ok: bool,
    /// Effect size, Cohen's w = sqrt(χ²/n).
    pub cohens_w: f64,
}

/// Expected counts n·P_h, or `None` unless K ≥ 2, n > 0, every P_h > 0 and ΣP_h = 1 (±1e-8), so that
/// the expected counts sum to n as scipy requires.
fn expected_counts(observed: &[u64], shares: &[f64]) -> Option<(f64, Vec<f64>)> {
    let n: u64 = observed.iter().sum();
    let sum: f64 = shares.iter().sum();
    let ok = observed.len() == shares.len() && observed.len() >= 2 && n > 0 && (sum - 1.0).abs() <= 1e-8;
    if !ok || shares.iter().any(|p| !p.is_finite() || *p <= 0.0) {
        return None;
    }
    Some((n as f64, shares.iter().map(|p| n as f64 * p).collect()))
}

fn chi2_stat(observed: impl Iterator<Item = f64>, expected: &[f64]) -> f64 {
    observed.zip(expected).map(|(o, e)| (o - e) * (o - e) / e).sum()
}

/// χ² goodness of fit, `scipy.stats.chisquare(f_obs, f_exp = n·P)` with df = K − 1 (METHODS §1).
///
/// Returns `None` for fewer than two groups, n = 0, mismatched lengths, a non-positive share, or
/// shares that do not sum to 1 (±1e-8).
pub(crate) fn chi_square_gof(observed: &[u64], population_share: &[f64]) -> Option<ChiSquareGof> {
    let (n, expected) = expected_counts(observed, population_share)?;
    let statistic = chi2_stat(observed.iter().map(|&o| o as f64), &expected);
    let df = observed.len() - 1;
    let p_value = ChiSquared::new(df as f64).ok()?.sf(statistic);
    let min_expected = expected.iter().copied().fold(f64::INFINITY, f64::min);
    let cohens_w = (statistic / n).sqrt();
    Some(ChiSquareGof { statistic, df, p_value, min_expected, cochran_ok: min_expected >= 5.0, cohens_w })
}

/// Monte Carlo p-value for the χ² goodness of fit, for when Cochran's rule fails (METHODS §1):
/// `draws` multinomial(n, P) samples from a ChaCha8 generator seeded with `seed`, and
/// p = (1 + #{χ²_sim ≥ χ²_obs})/(draws + 1), as R's `chisq.test(simulate.p.value = TRUE)`.
/// METHODS asks for at least 10,000 draws.
///
/// Returns `None` under the same conditions as [`chi_square_gof`], or when `draws` is 0.
#[cfg(test)] // no table publishes it yet: compiled for its METHODS vector tests only
pub(crate) fn chi_square_monte_carlo(observed: &[u64], population_share: &[f64], draws: u32, seed: u64) -> Option<f64> {
    let (n, expected) = expected_counts(observed, population_share)?;
    if draws == 0 {
        return None;
    }
    let threshold = chi2_stat(observed.iter().map(|&o| o as f64), &expected) * (1.0 - 64.0 * f64::EPSILON);
    let mut cumulative: Vec<f64> = population_share
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p;
            Some(*acc)
        })
        .collect();
    if let Some(last) = cumulative.last_mut() {
        *last = f64::INFINITY; // guard against ΣP rounding just below 1
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counts = vec![0u64; observed.len()];
    let mut hits = 0u64;
    for _ in 0..draws {
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n as u64 {
            let u: f64 = rng.random();
            let k = cumulative.partition_point(|&c| c <= u).min(counts.len() - 1);
            counts[k] += 1;
        }
        if chi2_stat(counts.iter().map(|&c| c as f64), &expected) >= threshold {
            hits += 1;
        }
    }
    Some((1 + hits) as f64 / (draws as f64 + 1.0))
}

/// Response propensities by group: the R-indicator and the coefficient of variation (METHODS §1).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PropensityCv {
    /// ρ_h = x_h / N_h.
    pub rho: Vec<f64>,
    /// ρ̄ = n / N.
    pub rho_bar: f64,
    /// S(ρ) = sqrt(Σ_h N_h(ρ_h − ρ̄)²/(N − 1)).
    pub s_rho: f64,
    /// R = 1 − 2S(ρ) (Schouten, Cobben & Bethlehem 2009); ≈ 1 for feedback, so uninformative.
    pub r_indicator: f64,
    /// CV = S(ρ)/ρ̄ = sqrt(N/(N−1))·sqrt(Σ_h P_h(RR_h − 1)²) ≈ Cohen's w; 0 means representative.
    /// It bounds the bias of an unweighted mean: |ȳ_resp − ȳ_pop| ≤ CV·S(y).
    pub cv: f64,
    /// c_h = sqrt(P_h)(RR_h − 1), negative when under-represented; Σc_h² ≈ CV².
    pub contributions: Vec<f64>,
}

/// R-indicator and CV of response propensities on one variable (METHODS §1), from respondent counts
/// x_h and population counts N_h.
///
/// A baseline of shares or percentages rather than counts of people (populations adding up to
/// fewer than the respondents: `0.81`, `81%`) gives the CV's limit for a large population,
/// sqrt(Σc_h²), without the factor N/(N−1) it cannot know (found trying a baseline of shares,
/// whose CV was left null, unsaid); ρ, S(ρ) and R are then NaN.
///
/// Returns `None` for mismatched or empty inputs, n = 0, or a non-positive or non-finite N_h.
pub(crate) fn propensity_cv(observed: &[u64], population: &[f64]) -> Option<PropensityCv> {
    if observed.is_empty() || observed.len() != population.len() {
        return None;
    }
    if population.iter().any(|nh| !nh.is_finite() || *nh <= 0.0) {
        return None;
    }
    let n = observed.iter().sum::<u64>() as f64;
    let big_n: f64 = population.iter().sum();
    if n <= 0.0 {
        return None;
    }
    let contributions: Vec<f64> = observed
        .iter()
        .zip(population)
        .map(|(&x, nh)| {
            let p = nh / big_n;
            p.sqrt() * ((x as f64 / n) / p - 1.0)
        })
        .collect();
    if big_n < n || big_n <= 1.0 {
        let cv = contributions.iter().map(|c| c * c).sum::<f64>().sqrt();
        let nan = f64::NAN;
        return Some(PropensityCv {
            rho: vec![nan; observed.len()],
            rho_bar: nan,
            s_rho: nan,
            r_indicator: nan,
            cv,
            contributions,
        });
    }
    let rho: Vec<f64> = observed.iter().zip(population).map(|(&x, nh)| x as f64 / nh).collect();
    let rho_bar = n / big_n;
    let ss: f64 = rho.iter().zip(population).map(|(r, nh)| nh * (r - rho_bar).powi(2)).sum();
    let s_rho = (ss / (big_n - 1.0)).sqrt();
    Some(PropensityCv { rho, rho_bar, s_rho, r_indicator: 1.0 - 2.0 * s_rho, cv: s_rho / rho_bar, contributions })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{close, num, nums, vectors};
    use super::super::Z95;
    use super::*;

    #[test]
    fn representation_ratio_vectors() {
        let v = vectors();
        let cases = v["1_representation"]["representation_ratio"].as_array().expect("cases");
        for c in cases {
            let name = c["label"].as_str().unwrap_or("?");
            let (x, n) = (c["x"].as_u64().expect("x"), c["n"].as_u64().expect("n"));
            let r = representation(x, n, Some(num(&c["population_share"])), Z95, &FlagThresholds::default())
                .expect("defined");
            let ri = r.ratio.expect("baseline");
            close(name, r.expected.expect("expected"), num(&c["expected_count"]));
            close(name, ri.ratio, num(&c["rr"]));
            close(name, ri.lower, num(&c["rr_lower"]));
            close(name, ri.upper, num(&c["rr_upper"]));
            assert_eq!(r.flag.as_str(), c["flag"].as_str().expect("flag"), "{name}");
        }
        assert_eq!(cases.len(), 7);
    }

    #[test]
    fn representation_edge_cases() {
        let t = FlagThresholds::default();
        assert_eq!(representation(0, 0, Some(0.1), Z95, &t), None);
        assert_eq!(representation(5, 4, Some(0.1), Z95, &t), None);
        for p in [None, Some(0.0), Some(f64::NAN)] {
            let r = representation(5, 100, p, Z95, &t).expect("defined");
            assert_eq!((r.flag, r.ratio, r.expected), (Flag::NoBaseline, None, None));
        }
        // 0/200 against 3%: upper bound 0.63 still flags (§1).
        let r = representation(0, 200, Some(0.03), Z95, &t).expect("defined");
        assert_eq!(r.flag, Flag::UnderRepresented);
        assert_eq!(Flag::classify(1.3, 2.0, &t), Flag::OverRepresented);
    }

    #[test]
    fn katz_vectors() {
        let v = vectors();
        let cases = v["1_representation"]["katz_ratio_two_samples"].as_array().expect("cases");
        for c in cases {
            let u = |k: &str| c[k].as_u64().expect("count");
            let name = format!("katz {} {}/{}", c["method"], u("x1"), u("n1"));
            let k = katz_ratio(u("x1"), u("n1"), u("x2"), u("n2"), Z95).expect("defined");
            let want = if c["method"] == "log" { KatzMethod::Log } else { KatzMethod::LogAdjusted };
            assert_eq!(k.method, want, "{name}");
            close(&name, k.ratio.expect("ratio"), num(&c["ratio"]));
            close(&name, k.lower, num(&c["lower"]));
            close(&name, k.upper, num(&c["upper"]));
        }
        assert_eq!(cases.len(), 2);
        assert_eq!(katz_ratio(1, 0, 1, 10, Z95), None);
        let k = katz_ratio(3, 10, 0, 10, Z95).expect("adjusted interval exists");
        assert!(k.ratio.is_none() && k.lower > 0.0 && k.lower < 7.0 && 7.0 < k.upper && k.upper.is_finite());
    }

    #[test]
    fn chi_square_and_propensity_vectors() {
        let v = vectors();
        let c = &v["1_representation"]["chisquare_gof_and_R_indicator"];
        let obs: Vec<u64> = nums(&c["observed"]).iter().map(|&x| x as u64).collect();
        let shares = nums(&c["population_share"]);
        let g = chi_square_gof(&obs, &shares).expect("defined");
        close("chi2", g.statistic, num(&c["chi2"]));
        assert_eq!(g.df as f64, num(&c["df"]));
        close("chi2 p", g.p_value, num(&c["p_value"]));
        close("min_expected", g.min_expected, num(&c["min_expected"]));
        assert!(g.cochran_ok);
        close("cohens_w", g.cohens_w, num(&c["cohens_w"]));
        let t = FlagThresholds::default();
        for (i, rr) in nums(&c["rr_by_group"]).into_iter().enumerate() {
            let r = representation(obs[i], 200, Some(shares[i]), Z95, &t).and_then(|r| r.ratio).expect("rr");
            close(&format!("rr_by_group[{i}]"), r.ratio, rr);
        }
        let big_n = num(&c["population_N_assumed"]);
        let n_h: Vec<f64> = shares.iter().map(|p| (p * big_n).round()).collect();
        for (i, (got, want)) in n_h.iter().zip(nums(&c["N_h"])).enumerate() {
            close(&format!("N_h[{i}]"), *got, want);
        }
        let cv = propensity_cv(&obs, &n_h).expect("defined");
        for (i, (got, want)) in cv.rho.iter().zip(nums(&c["rho_h"])).enumerate() {
            close(&format!("rho_h[{i}]"), *got, want);
        }
        close("rho_bar", cv.rho_bar, num(&c["rho_bar"]));
        close("S_rho", cv.s_rho, num(&c["S_rho"]));
        close("R_indicator", cv.r_indicator, num(&c["R_indicator"]));
        close("CV_rho", cv.cv, num(&c["CV_rho"]));
        let sum_c2: f64 = cv.contributions.iter().map(|c| c * c).sum();
        close("sum c_h^2 * N/(N-1)", sum_c2 * big_n / (big_n - 1.0), cv.cv * cv.cv);
        assert!(cv.contributions[0] < 0.0 && cv.contributions[3] > 0.0);
    }

    #[test]
    fn chi_square_edge_cases_and_monte_carlo() {
        assert!(chi_square_gof(&[0, 0], &[0.5, 0.5]).is_none());
        assert!(chi_square_gof(&[3, 4], &[0.5, 0.4]).is_none());
        assert!(chi_square_gof(&[3, 4], &[1.0, 0.0]).is_none());
        assert!(chi_square_gof(&[3], &[1.0]).is_none());
        assert!(propensity_cv(&[1, 2], &[100.0, 0.0]).is_none());
        // shares (or percentages below the respondents) give the large-population limit: the
        // same CV as counts in those proportions, without N/(N−1)
        let counts = propensity_cv(&[300, 700], &[40_000.0, 60_000.0]).expect("counts");
        for shares in [[0.4, 0.6], [40.0, 60.0]] {
            let s = propensity_cv(&[300, 700], &shares).expect("shares");
            let limit = counts.cv * (99_999.0_f64 / 100_000.0).sqrt();
            assert!((s.cv - limit).abs() < 1e-12, "{shares:?}: {} against {limit}", s.cv);
            assert_eq!(s.contributions.len(), 2);
            assert!(s.contributions.iter().zip(&counts.contributions).all(|(a, b)| (a - b).abs() < 1e-12));
        }
        assert!(propensity_cv(&[0, 0], &[100.0, 50.0]).is_none());
        let obs = [12, 4, 5, 175, 4];
        let shares = [0.1, 0.03, 0.03, 0.81, 0.03];
        let a = chi_square_monte_carlo(&obs, &shares, 4000, 7).expect("defined");
        assert_eq!(Some(a), chi_square_monte_carlo(&obs, &shares, 4000, 7), "seeded, so reproducible");
        let asymptotic = chi_square_gof(&obs, &shares).expect("defined").p_value;
        assert!((a - asymptotic).abs() < 0.03, "MC {a} vs asymptotic {asymptotic}");
        assert_eq!(chi_square_monte_carlo(&obs, &shares, 0, 7), None);
    }
}
