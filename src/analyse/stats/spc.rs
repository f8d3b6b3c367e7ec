//! Statistical process control: XmR, p and Laney p′ charts with the four Making Data Count rules
//! (METHODS §5).
//!
//! The XmR chart and the rules port NHSRplotthedots 0.2.2 (`R/ptd_spc_standard.R`,
//! `R/ptd_calculate_point_type.R`, `R/ptd_calculate_assurance_type.R`); the p and p′ limits port
//! qicharts2 `qic.p` / `qic.pprime`. Applying the MDC rules to p and p′ charts with per-point limits
//! and a near-limit band of p̄ ± 2σ_i is METHODS' extension, not part of either package.
//!
//! A chart is computed from counts `x` and denominators `n` per period; the plotted value is
//! y = x/n. An XmR chart of plain values passes n = 1 for every period ([`xmr`]). Periods with
//! n = 0 are skipped: they get no value, no limits and no signal, and the rules run over the
//! remaining points as if the skipped period were not there (METHODS §5, "never plot them as 0%").

/// XmR limit multiplier: limits are CL ± 2.66·mR̄ (METHODS §5; the package's `limit`).
pub(crate) const XMR_LIMIT: f64 = 2.66;

/// XmR near-limit multiplier, computed as the package computes `limitclose`: 2·(2.66/3) = 1.77333…
/// (METHODS' "1.7733" is this number rounded; the rounded value misses the vectors by 4e-5).
pub(crate) const XMR_NEAR: f64 = 2.0 * (XMR_LIMIT / 3.0);

/// Moving ranges at or above 3.267·mR̄ are screened out before mR̄ is recomputed (METHODS §5).
pub(crate) const MR_SCREEN: f64 = 3.267;

/// d₂ for moving ranges of two points, dividing mean|Δz| in Laney's σ_z (qicharts2 `qic.pprime`).
const D2: f64 = 1.128;

/// Number of values in a shift or a trend (METHODS §5, "6 or 7?": MDC uses 7). A trend of 7 values
/// is 6 consecutive strict increases (or decreases), as the package's `ptd_seven_point_trend`.
pub(crate) const RUN: usize = 7;

/// Limits from fewer than this many plotted points are trial limits (METHODS §5, package vignette).
pub(crate) const TRIAL_BELOW: usize = 12;

/// Which chart to draw (METHODS §5; XmR is the recommended default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// XmR chart of y = x/n; `screen_outliers` screens moving ranges ≥ 3.267·mR̄ (the package
    /// default, `true`; the MDC Excel tools use `false`).
    Xmr {
        /// Screen large moving ranges before the limits are set.
        screen_outliers: bool,
    },
    /// p-chart: p̄ = Σx/Σn, limits p̄ ± 3σ_i with σ_i = sqrt(p̄(1−p̄)/n_i), clipped to [0, 1].
    P,
    /// Laney p′ chart: limits p̄ ± 3σ_iσ_z with σ_z = mean|Δz|/1.128, z_i = (p_i − p̄)/σ_i.
    LaneyP,
}

impl Method {
    /// The chart's name as published: `xmr`, `p` or `p_prime`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Xmr { .. } => "xmr",
            Method::P => "p",
            Method::LaneyP => "p_prime",
        }
    }
}

/// Which way is better for the measure (for concerns, `Decrease`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Higher values are improvement.
    Increase,
    /// Lower values are improvement.
    Decrease,
    /// Neither: special causes are labelled neutral and there is no assurance.
    Neither,
}

/// The side of a signal: above the centre line / increasing (`High`) or below / decreasing (`Low`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Above the centre line, or an increasing trend.
    High,
    /// Below the centre line, or a decreasing trend.
    Low,
}

/// The Making Data Count rule that labels a point, in the package's order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rule {
    /// Rule 1: beyond a process limit.
    Outside,
    /// Rule 3: one of 7 values each strictly above (or below) the one before.
    Trend,
    /// Rule 4: 2 of 3 consecutive points between the near-limit band and the limit, all 3 on one side.
    TwoInThree,
    /// Rule 2: one of 7 consecutive points on the same side of the centre line.
    Shift,
}

impl Rule {
    /// The rule's name as published: `outside_limits`, `trend`, `two_in_three`, `shift`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Rule::Outside => "outside_limits",
            Rule::Trend => "trend",
            Rule::TwoInThree => "two_in_three",
            Rule::Shift => "shift",
        }
    }
}

/// A special-cause signal on one point: the rule that labels it and the side it points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Signal {
    /// The labelling rule (the first that fires in the order outside, trend, two-in-three, shift).
    pub rule: Rule,
    /// Above the CL or increasing (`High`), below or decreasing (`Low`).
    pub side: Side,
}

impl Signal {
    /// The package's `special_cause_type` text ("Above UCL", "7 Point Trend (Increasing)", …).
    pub(crate) fn package_type(self) -> &'static str {
        match (self.rule, self.side) {
            (Rule::Outside, Side::High) => "Above UCL",
            (Rule::Outside, Side::Low) => "Below LCL",
            (Rule::Trend, Side::High) => "7 Point Trend (Increasing)",
            (Rule::Trend, Side::Low) => "7 Point Trend (Decreasing)",
            (Rule::TwoInThree, Side::High) => "2 in 3 Above CL",
            (Rule::TwoInThree, Side::Low) => "2 in 3 Below CL",
            (Rule::Shift, Side::High) => "7 Points Above CL",
            (Rule::Shift, Side::Low) => "7 Points Below CL",
        }
    }

    /// Improvement when the side matches the improvement direction, concern when it opposes it,
    /// neutral when the direction is `Neither` (the package's `ptd_point_type`).
    pub(crate) fn label(self, direction: Direction) -> PointLabel {
        match (direction, self.side) {
            (Direction::Neither, _) => PointLabel::Neutral,
            (Direction::Increase, Side::High) | (Direction::Decrease, Side::Low) => PointLabel::Improvement,
            _ => PointLabel::Concern,
        }
    }
}

/// The label of a special-cause point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointLabel {
    /// The signal points in the improvement direction.
    Improvement,
    /// The signal points against the improvement direction.
    Concern,
    /// The measure has no improvement direction.
    Neutral,
}

impl PointLabel {
    /// `improvement`, `concern` or `neutral`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PointLabel::Improvement => "improvement",
            PointLabel::Concern => "concern",
            PointLabel::Neutral => "neutral",
        }
    }
}

/// Process limits and the near-limit band for one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limits {
    /// Lower process limit.
    pub lower: f64,
    /// Upper process limit.
    pub upper: f64,
    /// Lower edge of the near-limit band (XmR: CL − 1.7733·mR̄; p, p′: p̄ − 2σ).
    pub near_lower: f64,
    /// Upper edge of the near-limit band.
    pub near_upper: f64,
}

/// One period of a chart, in input order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    /// y = x/n; `None` for a skipped period (n = 0), which has nothing else either.
    pub value: Option<f64>,
    /// Index into [`Chart::segments`].
    pub segment: usize,
    /// The segment's centre line (`None` only for a skipped period).
    pub centre: Option<f64>,
    /// Limits at this point; `None` when the segment has none (one XmR point, p̄ of 0 or 1, …).
    pub limits: Option<Limits>,
    /// sign(y − CL) as the package's `relative_to_mean`: 1, −1, or 0 on the centre line.
    pub relative_to_mean: i8,
    /// Rule 1's test: y > upper or y < lower.
    pub outside_limits: bool,
    /// Between the near-limit band and the limit (never when outside the limits).
    pub close_to_limits: bool,
    /// The special-cause signal, if any rule fires on this point.
    pub signal: Option<Signal>,
}

impl Point {
    /// Whether any of the four rules fires on this point.
    pub(crate) fn special_cause(&self) -> bool {
        self.signal.is_some()
    }

    /// The point's label for an improvement direction; `None` for common cause.
    pub(crate) fn label(&self, direction: Direction) -> Option<PointLabel> {
        self.signal.map(|s| s.label(direction))
    }
}

/// A run of periods sharing one centre line and one set of limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Segment {
    /// First period (input index) of the segment.
    pub start: usize,
    /// One past the last period.
    pub end: usize,
    /// Plotted (not skipped) periods in the segment.
    pub points: usize,
    /// The centre line: mean(y) for XmR, Σx/Σn for p and p′; `None` when no period is plotted.
    pub centre: Option<f64>,
    /// XmR: mR̄ after screening (`None` below 2 points). Laney p′: σ_z. p-chart: `None`.
    pub spread: Option<f64>,
    /// Fewer than 12 plotted points: the limits are trial limits.
    pub trial_limits: bool,
}

/// A computed chart: every input period, and the segments that rebasing cut it into.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart {
    /// The chart drawn.
    pub method: Method,
    /// One per segment, in order; a chart without rebasing has one.
    pub segments: Vec<Segment>,
    /// One per input period.
    pub points: Vec<Point>,
}

/// The centre and the spread that set a segment's limits.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    method: Method,
    centre: Option<f64>,
    /// XmR: mR̄; p: 1; Laney p′: σ_z. `None`: no limits.
    spread: Option<f64>,
}

/// A plotted period: input index, count, denominator and value.
#[derive(Debug, Clone, Copy)]
struct Obs {
    index: usize,
    x: f64,
    n: f64,
    y: f64,
}

/// σ_i = sqrt(p̄(1 − p̄)/n_i), the binomial standard deviation of a p-chart point (qicharts2 `qic.p`).
/// `None` unless 0 < p̄ < 1 and n_i > 0 (METHODS §5: no limits if p̄ is 0 or 1).
pub(crate) fn binomial_sigma(p_bar: f64, n: f64) -> Option<f64> {
    (p_bar > 0.0 && p_bar < 1.0 && n > 0.0 && n.is_finite()).then(|| (p_bar * (1.0 - p_bar) / n).sqrt())
}

/// XmR chart of plain values (every n = 1), without rebasing. See [`chart`].
pub(crate) fn xmr(y: &[f64], screen_outliers: bool) -> Option<Chart> {
    chart(y, &vec![1.0; y.len()], Method::Xmr { screen_outliers }, &[])
}

/// A control chart of y_i = x_i/n_i with the four Making Data Count rules (METHODS §5).
///
/// `rebase_at` lists the periods (input indices, strictly increasing, each in 1..len) where a new
/// segment starts: each segment gets its own centre and limits from its own points, and the rules
/// run within each segment, as the package does per `rebase_group`.
///
/// - XmR: CL = mean(y); mR_i = |y_i − y_{i−1}| over consecutive plotted points; with
///   `screen_outliers`, moving ranges ≥ 3.267·mR̄ are dropped and mR̄ recomputed once; limits
///   CL ± 2.66·mR̄, near band CL ± 2·(2.66/3)·mR̄, not clipped. When every moving range is 0 nothing
///   is screened and the limits collapse onto the CL (the package gives NaN limits there); when
///   screening would leave only zeros, mR̄ stays unscreened (a departure from the package).
/// - p: p̄ = Σx/Σn; limits p̄ ± 3σ_i clipped to [0, 1]; near band p̄ ± 2σ_i, clipped the same way.
/// - Laney p′: as p with σ_i·σ_z; σ_z needs 2 plotted points.
///
/// Periods with n = 0 are skipped. Returns `None` if `x` and `n` differ in length, an input is not
/// finite, an n is negative, for p and p′ an x is outside [0, n], or `rebase_at` is not strictly
/// increasing within 1..len. An empty input gives a chart with no points and one empty segment.
pub(crate) fn chart(x: &[f64], n: &[f64], method: Method, rebase_at: &[usize]) -> Option<Chart> {
    chart_with_gaps(x, n, method, rebase_at, &[])
}

/// [`chart`], with the periods whose value is hidden (`hidden[i]`: a suppressed count, skipped
/// like a period of n = 0): unlike an empty period, a hidden one breaks the runs of the trend,
/// two-in-three and shift rules, whose points must be consecutive (METHODS §5) — its value may
/// break the run. Counted across one, 7 plotted points around a suppressed month far below the
/// centre were a false shift (found in the twenty-fourth session on issue 9).
pub(crate) fn chart_with_gaps(
    x: &[f64],
    n: &[f64],
    method: Method,
    rebase_at: &[usize],
    hidden: &[bool],
) -> Option<Chart> {
    let obs = observations(x, n, method)?;
    if rebase_at.windows(2).any(|w| w[0] >= w[1]) || rebase_at.iter().any(|&r| r == 0 || r >= x.len()) {
        return None;
    }
    let bounds: Vec<usize> = std::iter::once(0).chain(rebase_at.iter().copied()).chain([x.len()]).collect();
    let mut points = vec![
        Point {
            value: None,
            segment: 0,
            centre: None,
            limits: None,
            relative_to_mean: 0,
            outside_limits: false,
            close_to_limits: false,
            signal: None,
        };
        x.len()
    ];
    let mut segments = Vec::with_capacity(bounds.len() - 1);
    for (s, w) in bounds.windows(2).enumerate() {
        let (start, end) = (w[0], w[1]);
        let seg: Vec<Obs> = obs.iter().copied().filter(|o| (start..end).contains(&o.index)).collect();
        let base = baseline(&seg, method);
        // a hidden period between a plotted point and the one before it
        let gaps: Vec<bool> = seg
            .iter()
            .enumerate()
            .map(|(k, o)| {
                let from = if k == 0 { o.index } else { seg[k - 1].index + 1 };
                (from..o.index).any(|i| hidden.get(i).copied().unwrap_or(false))
            })
            .collect();
        for (o, p) in seg.iter().zip(judge(&seg, &base, &gaps)) {
            points[o.index] = Point { segment: s, ..p };
        }
        for p in &mut points[start..end] {
            p.segment = s;
        }
        segments.push(Segment {
            start,
            end,
            points: seg.len(),
            centre: base.centre,
            spread: if method == Method::P { None } else { base.spread },
            trial_limits: seg.len() < TRIAL_BELOW,
        });
    }
    Some(Chart { method, segments, points })
}

/// Whether to rebase at a declared change: the first sustained signal of the periods from `change` on,
/// judged against the centre and limits of the periods before it (METHODS §5: "Rebase only at a known
/// change that is followed by a sustained signal").
///
/// The rule: compute the baseline (centre, and mR̄ or σ_z) from the plotted periods before `change`,
/// freeze it, and judge the plotted periods from `change` on against it as a sequence of their own.
/// The signal is sustained when rule 2 fires there: 7 consecutive points after the change all on one
/// side of the old centre line (a shift; a point exactly on the line breaks it). A lone point beyond
/// the limits, two-in-three or a trend are not a new level and do not rebase. Returns the first such
/// shift as a [`Signal`] with [`Rule::Shift`] and its side (rebase at `change`), or `None` (keep the limits),
/// also when the inputs are invalid as in [`chart`], `change` is not in 1..len, or no period before
/// it is plotted. To test a second change, pass the slices from the previous rebase on.
pub(crate) fn rebase_signal(x: &[f64], n: &[f64], method: Method, change: usize) -> Option<Signal> {
    let obs = observations(x, n, method)?;
    if change == 0 || change >= x.len() {
        return None;
    }
    let (before, after): (Vec<Obs>, Vec<Obs>) = obs.into_iter().partition(|o| o.index < change);
    let base = baseline(&before, method);
    base.centre?;
    let rtm: Vec<i8> = judge(&after, &base, &[]).iter().map(|p| p.relative_to_mean).collect();
    let end = shift_ends(&rtm, &[]).iter().position(|&e| e)?;
    Some(Signal { rule: Rule::Shift, side: side_of(rtm[end]) })
}

/// The Making Data Count variation icon of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variation {
    /// The last point is common cause.
    CommonCause,
    /// The last point signals in the improvement direction.
    SpecialCauseImprovement,
    /// The last point signals against the improvement direction.
    SpecialCauseConcern,
    /// The last point signals and the measure has no improvement direction.
    SpecialCauseNeither,
}

impl Variation {
    /// `common_cause`, `special_cause_improvement`, `special_cause_concern`, `special_cause_neither`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Variation::CommonCause => "common_cause",
            Variation::SpecialCauseImprovement => "special_cause_improvement",
            Variation::SpecialCauseConcern => "special_cause_concern",
            Variation::SpecialCauseNeither => "special_cause_neither",
        }
    }
}

/// The Making Data Count assurance icon of a series against a target (the package's
/// `consistent_pass`, `consistent_fail`, `inconsistent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Assurance {
    /// Everything between the limits meets the target: the process will consistently meet it.
    ConsistentlyPasses,
    /// Nothing between the limits meets the target: the process will consistently miss it.
    ConsistentlyFails,
    /// The target lies within the limits: hit and miss.
    Inconsistent,
}

impl Assurance {
    /// `consistently_passes`, `consistently_fails` or `inconsistent`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Assurance::ConsistentlyPasses => "consistently_passes",
            Assurance::ConsistentlyFails => "consistently_fails",
            Assurance::Inconsistent => "inconsistent",
        }
    }
}

/// The variation and assurance summary of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    /// From the last plotted point's signal.
    pub variation: Variation,
    /// The side of the last point's signal (the MDC icons come in high and low variants).
    pub side: Option<Side>,
    /// Against the target, at the last plotted point's limits; `None` without a target.
    pub assurance: Option<Assurance>,
}

/// The series summary, as the package's icons (`geom_ptd_icon`, `ptd_calculate_assurance_type`):
///
/// - variation is the last plotted point's type: common cause, or special cause labelled improvement,
///   concern or (direction `Neither`) neither — the package's `special_cause_neutral_high/low`, whose
///   side is in `side`;
/// - assurance compares the target with the last plotted point's limits: target > upper means
///   consistently fails when increase is better and consistently passes when decrease is better;
///   target < lower the reverse; otherwise inconsistent. `None` without a target, with direction
///   `Neither`, or when the last point has no limits.
///
/// Returns `None` when no period is plotted.
pub(crate) fn summary(chart: &Chart, direction: Direction, target: Option<f64>) -> Option<Summary> {
    let last = chart.points.iter().rev().find(|p| p.value.is_some())?;
    let variation = match last.label(direction) {
        None => Variation::CommonCause,
        Some(PointLabel::Improvement) => Variation::SpecialCauseImprovement,
        Some(PointLabel::Concern) => Variation::SpecialCauseConcern,
        Some(PointLabel::Neutral) => Variation::SpecialCauseNeither,
    };
    let assurance = match (target.filter(|t| t.is_finite()), last.limits, direction) {
        (None, ..) | (_, None, _) | (_, _, Direction::Neither) => None,
        (Some(t), Some(l), d) => Some(if t > l.upper {
            if d == Direction::Increase {
                Assurance::ConsistentlyFails
            } else {
                Assurance::ConsistentlyPasses
            }
        } else if t < l.lower {
            if d == Direction::Increase {
                Assurance::ConsistentlyPasses
            } else {
                Assurance::ConsistentlyFails
            }
        } else {
            Assurance::Inconsistent
        }),
    };
    Some(Summary { variation, side: last.signal.map(|s| s.side), assurance })
}

/// The plotted periods, or `None` for invalid input (see [`chart`]).
fn observations(x: &[f64], n: &[f64], method: Method) -> Option<Vec<Obs>> {
    if x.len() != n.len() {
        return None;
    }
    let counts = !matches!(method, Method::Xmr { .. });
    let mut obs = Vec::with_capacity(x.len());
    for (index, (&x, &n)) in x.iter().zip(n).enumerate() {
        if !(x.is_finite() && n.is_finite()) || n < 0.0 || (counts && !(0.0..=n).contains(&x)) {
            return None;
        }
        if n > 0.0 {
            obs.push(Obs { index, x, n, y: x / n });
        }
    }
    Some(obs)
}

/// The centre and spread of one segment's plotted periods.
fn baseline(seg: &[Obs], method: Method) -> Baseline {
    let none = Baseline { method, centre: None, spread: None };
    if seg.is_empty() {
        return none;
    }
    match method {
        Method::Xmr { screen_outliers } => {
            let y: Vec<f64> = seg.iter().map(|o| o.y).collect();
            let mr: Vec<f64> = y.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
            let mut amr = mean(&mr);
            if let (true, Some(a)) = (screen_outliers, amr) {
                if a > 0.0 {
                    let kept: Vec<f64> = mr.iter().copied().filter(|&m| m < MR_SCREEN * a).collect();
                    // screening that leaves only zeros would collapse the limits onto the centre
                    // and flag every point off it: kept unscreened (found: weekly counts rounded
                    // to 5 repeat a value, and a few steps between them were all screened)
                    amr = mean(&kept).filter(|&m| m > 0.0).or(amr);
                }
            }
            Baseline { method, centre: mean(&y), spread: amr }
        }
        Method::P | Method::LaneyP => {
            let p_bar = seg.iter().map(|o| o.x).sum::<f64>() / seg.iter().map(|o| o.n).sum::<f64>();
            let spread = if method == Method::P {
                binomial_sigma(p_bar, 1.0).map(|_| 1.0)
            } else {
                let z: Option<Vec<f64>> =
                    seg.iter().map(|o| binomial_sigma(p_bar, o.n).map(|s| (o.y - p_bar) / s)).collect();
                z.and_then(|z| {
                    let dz: Vec<f64> = z.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
                    mean(&dz).map(|m| m / D2)
                })
            };
            Baseline { method, centre: Some(p_bar), spread }
        }
    }
}

/// Limits for a period with denominator `n` under a baseline.
fn limits_at(base: &Baseline, n: f64) -> Option<Limits> {
    let (c, s) = (base.centre?, base.spread?);
    match base.method {
        Method::Xmr { .. } => Some(Limits {
            lower: c - XMR_LIMIT * s,
            upper: c + XMR_LIMIT * s,
            near_lower: c - XMR_NEAR * s,
            near_upper: c + XMR_NEAR * s,
        }),
        Method::P | Method::LaneyP => {
            let sd = binomial_sigma(c, n)? * s;
            Some(Limits {
                lower: (c - 3.0 * sd).max(0.0),
                upper: (c + 3.0 * sd).min(1.0),
                near_lower: (c - 2.0 * sd).max(0.0),
                near_upper: (c + 2.0 * sd).min(1.0),
            })
        }
    }
}

/// The points of a run of plotted periods judged against a baseline, with the rules applied.
fn judge(seg: &[Obs], base: &Baseline, gaps: &[bool]) -> Vec<Point> {
    let mut points: Vec<Point> = seg
        .iter()
        .map(|o| {
            let limits = limits_at(base, o.n);
            let rtm = match base.centre {
                Some(c) if o.y > c => 1,
                Some(c) if o.y < c => -1,
                _ => 0,
            };
            let outside = limits.is_some_and(|l| o.y > l.upper || o.y < l.lower);
            let close = !outside && limits.is_some_and(|l| o.y < l.near_lower || o.y > l.near_upper);
            Point {
                value: Some(o.y),
                segment: 0,
                centre: base.centre,
                limits,
                relative_to_mean: rtm,
                outside_limits: outside,
                close_to_limits: close,
                signal: None,
            }
        })
        .collect();
    let signals = signals(&points, gaps);
    for (p, s) in points.iter_mut().zip(signals) {
        p.signal = s;
    }
    points
}

/// The side of a `relative_to_mean` sign: above for 1, below otherwise (the package's `ifelse`).
fn side_of(sign: i8) -> Side {
    if sign > 0 {
        Side::High
    } else {
        Side::Low
    }
}

/// The four rules over one segment's plotted points, labelled in the package's precedence
/// (`ptd_special_cause_type`): outside, trend, two-in-three, shift.
/// `gaps[i]`: a hidden period lies between point i and the one before (no run crosses it).
fn signals(points: &[Point], gaps: &[bool]) -> Vec<Option<Signal>> {
    let y: Vec<f64> = points.iter().map(|p| p.value.unwrap_or(f64::NAN)).collect();
    let rtm: Vec<i8> = points.iter().map(|p| p.relative_to_mean).collect();
    let close: Vec<bool> = points.iter().map(|p| p.close_to_limits).collect();
    let shift = part_of_run(&shift_ends(&rtm, gaps));
    let trend = part_of_run(&trend_ends(&y, gaps));
    let two = two_in_three(&close, &rtm, gaps);
    let len = y.len();
    (0..len)
        .map(|i| {
            let side = side_of(rtm[i]);
            if points[i].outside_limits {
                // The package labels by relative_to_mean == 1 ("Above UCL") else "Below LCL".
                Some(Signal { rule: Rule::Outside, side })
            } else if trend[i] {
                // The package's direction: the step to the next point if it is also in a trend,
                // else the step from the previous point.
                let step = if i + 1 < len && trend[i + 1] {
                    y[i + 1] - y[i]
                } else if i > 0 {
                    y[i] - y[i - 1]
                } else {
                    0.0
                };
                Some(Signal { rule: Rule::Trend, side: if step > 0.0 { Side::High } else { Side::Low } })
            } else if two[i] && close[i] {
                Some(Signal { rule: Rule::TwoInThree, side })
            } else if shift[i] {
                Some(Signal { rule: Rule::Shift, side })
            } else {
                None
            }
        })
        .collect()
}

/// Points that end a run of 7 on one side of the CL (`ptd_seven_point_one_side_mean`).
fn shift_ends(rtm: &[i8], gaps: &[bool]) -> Vec<bool> {
    (0..rtm.len())
        .map(|i| {
            i + 1 >= RUN
                && rtm[i] != 0
                && rtm[i + 1 - RUN..i].iter().all(|&r| r == rtm[i])
                && !crosses_gap(gaps, i + 1 - RUN, i)
        })
        .collect()
}

/// Whether a hidden period lies inside the window of points `first..=last`.
fn crosses_gap(gaps: &[bool], first: usize, last: usize) -> bool {
    (first + 1..=last).any(|k| gaps.get(k).copied().unwrap_or(false))
}

/// Points that end 7 values each strictly above, or each strictly below, the one before
/// (`ptd_seven_point_trend`: 6 consecutive strict steps; a tie breaks it).
fn trend_ends(y: &[f64], gaps: &[bool]) -> Vec<bool> {
    (0..y.len())
        .map(|i| {
            i + 1 >= RUN && !crosses_gap(gaps, i + 1 - RUN, i) && {
                let w = &y[i + 1 - RUN..=i];
                w.windows(2).all(|s| s[1] > s[0]) || w.windows(2).all(|s| s[1] < s[0])
            }
        })
        .collect()
}

/// Every point of a run whose end is flagged: the end and the 6 points before it
/// (`ptd_part_of_seven_trend`).
fn part_of_run(ends: &[bool]) -> Vec<bool> {
    (0..ends.len()).map(|i| ends[i..ends.len().min(i + RUN)].iter().any(|&e| e)).collect()
}

/// Points in a window of 3 consecutive points with at least 2 close to a limit and all 3 on the
/// same side of the CL (`ptd_two_in_three`; windows do not reach past either end).
fn two_in_three(close: &[bool], rtm: &[i8], gaps: &[bool]) -> Vec<bool> {
    let len = close.len();
    let window = |s: usize| {
        s + 3 <= len
            && !crosses_gap(gaps, s, s + 2)
            && close[s..s + 3].iter().filter(|&&c| c).count() >= 2
            && rtm[s..s + 3].iter().map(|&r| i32::from(r)).sum::<i32>().abs() == 3
    };
    (0..len).map(|i| (i.saturating_sub(2)..=i).any(window)).collect()
}

/// Mean with one correction pass, as R's `mean.default`; `None` for an empty slice.
fn mean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    Some(m + v.iter().map(|x| x - m).sum::<f64>() / n)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{close, num, nums, vectors};
    use super::*;
    use serde_json::Value;

    const XMR: Method = Method::Xmr { screen_outliers: true };

    /// Points that mostly repeat one value (counts rounded to 5 over small weeks): the few steps
    /// between them were all screened as outliers, mR̄ became 0 and every point off the centre
    /// was special cause. Screening that would leave only zeros is not applied.
    #[test]
    fn screening_that_leaves_only_zero_ranges_is_not_applied() {
        let y = [0.25, 0.25, 0.25, 0.25, 0.25, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375, 0.375];
        let c = xmr(&y, true).expect("chart");
        let base = &c.segments[0];
        let spread = base.spread.expect("mR̄");
        assert!((spread - 0.125 / 11.0).abs() < 1e-12, "unscreened mR̄: {spread}");
    }

    /// The chart's only segment, checked against a vector's mean/amr/lpl/upl/nlpl/nupl.
    fn check_xmr_limits(case: &str, c: &Chart, want: &Value) {
        assert_eq!(c.segments.len(), 1, "{case}");
        let seg = c.segments[0];
        close(&format!("{case} mean"), seg.centre.expect("centre"), num(&want["mean"]));
        close(&format!("{case} amr"), seg.spread.expect("amr"), num(&want["amr"]));
        for p in &c.points {
            let l = p.limits.expect("limits");
            close(&format!("{case} lpl"), l.lower, num(&want["lpl"]));
            close(&format!("{case} upl"), l.upper, num(&want["upl"]));
            close(&format!("{case} nlpl"), l.near_lower, num(&want["nlpl"]));
            close(&format!("{case} nupl"), l.near_upper, num(&want["nupl"]));
        }
    }

    /// Per-point results: the package's special_cause_type text, or "Common Cause".
    fn types(c: &Chart) -> Vec<String> {
        c.points.iter().map(|p| p.signal.map_or("Common Cause", |s| s.package_type()).to_string()).collect()
    }

    fn strings(v: &Value) -> Vec<String> {
        v.as_array().expect("array").iter().map(|s| s.as_str().expect("string").to_string()).collect()
    }

    fn bools(v: &Value) -> Vec<bool> {
        v.as_array().expect("array").iter().map(|b| b.as_bool().expect("bool")).collect()
    }

    /// Every case of vectors.json "5_spc"; an unknown key fails, so a case added later is not skipped.
    #[test]
    fn spc_vectors_every_case() {
        let v = vectors();
        let spc = v["5_spc"].as_object().expect("5_spc");
        let mut checked = 0;
        for (key, group) in spc {
            match key.as_str() {
                "constants" => {
                    assert_eq!(num(&group["xmr_limit_multiplier"]), XMR_LIMIT);
                    close("near multiplier", XMR_NEAR, num(&group["near_limit_multiplier"]));
                    assert_eq!(num(&group["moving_range_screen_multiplier"]), MR_SCREEN);
                    checked += 1;
                }
                "xmr_vignette_deviations" => {
                    let y = nums(&group["y"]);
                    for (k, case) in group.as_object().expect("vignette") {
                        let screen = match k.as_str() {
                            "screen_outliers_true" => true,
                            "screen_outliers_false_excel_mdc" => false,
                            "y" | "documented_in_package" | "special_cause_type_screen_true" => continue,
                            other => panic!("unhandled vignette key {other}"),
                        };
                        let c = xmr(&y, screen).expect("chart");
                        check_xmr_limits(k, &c, case);
                        if screen {
                            assert_eq!(types(&c), strings(&group["special_cause_type_screen_true"]), "{k}");
                        }
                        checked += 1;
                    }
                }
                "xmr_package_snapshot_rnorm" => {
                    assert_eq!(group["y15_set_to_10"], Value::Bool(true));
                    for (k, case) in group.as_object().expect("rnorm") {
                        if matches!(k.as_str(), "y" | "y15_set_to_10" | "documented_in_package") {
                            continue;
                        }
                        let mut y = nums(&group["y"]);
                        if k.contains("y15eq10") {
                            y[14] = 10.0; // R's y[15], 1-based
                        }
                        let screen = match (k.ends_with("screen_true"), k.ends_with("screen_false")) {
                            (true, false) => true,
                            (false, true) => false,
                            _ => panic!("unhandled rnorm key {k}"),
                        };
                        check_xmr_limits(k, &xmr(&y, screen).expect("chart"), case);
                        checked += 1;
                    }
                }
                "xmr_designed_series" => {
                    for (k, case) in group.as_object().expect("designed") {
                        let y = nums(&case["y"]);
                        let c = xmr(&y, case["screen_outliers"].as_bool().expect("screen")).expect("chart");
                        check_xmr_limits(k, &c, case);
                        let rtm: Vec<f64> = c.points.iter().map(|p| f64::from(p.relative_to_mean)).collect();
                        assert_eq!(rtm, nums(&case["relative_to_mean"]), "{k} relative_to_mean");
                        let outside: Vec<bool> = c.points.iter().map(|p| p.outside_limits).collect();
                        assert_eq!(outside, bools(&case["outside_limits"]), "{k} outside_limits");
                        let near: Vec<bool> = c.points.iter().map(|p| p.close_to_limits).collect();
                        assert_eq!(near, bools(&case["close_to_limits"]), "{k} close_to_limits");
                        assert_eq!(types(&c), strings(&case["special_cause_type"]), "{k} special_cause_type");
                        checked += 1;
                    }
                }
                "p_chart" => {
                    let (x, n) = (nums(&group["x"]), nums(&group["n"]));
                    let cl = num(&group["cl"]);
                    let p = chart(&x, &n, Method::P, &[]).expect("p chart");
                    close("p cl", p.segments[0].centre.expect("cl"), cl);
                    for (i, pt) in p.points.iter().enumerate() {
                        let name = format!("p chart point {i}");
                        close(&name, pt.value.expect("value"), num(&group["p"][i]));
                        close(&name, binomial_sigma(cl, n[i]).expect("sigma"), num(&group["sigma_i"][i]));
                        let l = pt.limits.expect("limits");
                        close(&name, l.upper, num(&group["ucl"][i]));
                        close(&name, l.lower, num(&group["lcl"][i]));
                        let s = binomial_sigma(pt.centre.expect("cl"), n[i]).expect("sigma");
                        close(&name, l.near_upper, pt.centre.expect("cl") + 2.0 * s);
                        close(&name, l.near_lower, pt.centre.expect("cl") - 2.0 * s);
                    }
                    let outside: Vec<bool> = p.points.iter().map(|p| p.outside_limits).collect();
                    assert_eq!(outside, bools(&group["outside"]), "p outside");
                    assert_eq!(types(&p), strings(&group["special_cause_type_mdc_rules_extension"]), "p types");
                    assert_eq!(p.segments[0].spread, None);
                    checked += 1;

                    let lp = chart(&x, &n, Method::LaneyP, &[]).expect("p' chart");
                    close("laney cl", lp.segments[0].centre.expect("cl"), cl);
                    close("laney sigma_z", lp.segments[0].spread.expect("sigma_z"), num(&group["laney_sigma_z"]));
                    for (i, pt) in lp.points.iter().enumerate() {
                        let l = pt.limits.expect("limits");
                        close(&format!("laney ucl {i}"), l.upper, num(&group["laney_ucl"][i]));
                        close(&format!("laney lcl {i}"), l.lower, num(&group["laney_lcl"][i]));
                    }
                    let outside: Vec<bool> = lp.points.iter().map(|p| p.outside_limits).collect();
                    assert_eq!(outside, bools(&group["laney_outside"]), "laney outside");
                    checked += 1;
                }
                other => panic!("unhandled 5_spc case {other}: add a check for it"),
            }
        }
        // constants 1 + vignette 2 + rnorm 3 + designed 8 + p 1 + p′ 1
        assert_eq!(checked, 16);
    }

    /// A rounded near-limit multiplier would not reproduce the vectors: the exact 2·(2.66/3) matters.
    #[test]
    fn near_multiplier_is_exact() {
        assert!((XMR_NEAR - 1.7733).abs() > 1e-5);
        assert!((XMR_NEAR - 1.773_333_333_333_333).abs() < 1e-15);
    }

    #[test]
    fn empty_one_point_and_flat_series() {
        let empty = xmr(&[], true).expect("chart");
        assert!(empty.points.is_empty());
        assert_eq!(empty.segments.len(), 1);
        assert_eq!(empty.segments[0].centre, None);
        assert_eq!(summary(&empty, Direction::Increase, Some(1.0)), None);

        let one = xmr(&[3.5], true).expect("chart");
        assert_eq!(one.segments[0].centre, Some(3.5));
        assert_eq!(one.segments[0].spread, None);
        assert!(one.segments[0].trial_limits);
        assert_eq!(one.points[0].limits, None);
        assert!(!one.points[0].special_cause());

        for screen in [true, false] {
            let flat = xmr(&[0.25; 15], screen).expect("chart");
            assert_eq!(flat.segments[0].spread, Some(0.0));
            assert!(!flat.segments[0].trial_limits);
            for p in &flat.points {
                assert_eq!(p.limits.map(|l| (l.lower, l.upper)), Some((0.25, 0.25)));
                assert_eq!(p.relative_to_mean, 0);
                assert_eq!(p.signal, None);
            }
        }
    }

    #[test]
    fn trial_limits_below_twelve_points() {
        let y: Vec<f64> = (0..12).map(|i| f64::from(i % 3)).collect();
        assert!(xmr(&y[..11], true).expect("chart").segments[0].trial_limits);
        assert!(!xmr(&y, true).expect("chart").segments[0].trial_limits);
    }

    #[test]
    fn invalid_inputs_are_none() {
        assert_eq!(chart(&[1.0, 2.0], &[1.0], XMR, &[]), None);
        assert_eq!(chart(&[f64::NAN], &[1.0], XMR, &[]), None);
        assert_eq!(chart(&[1.0], &[-1.0], XMR, &[]), None);
        assert_eq!(chart(&[5.0], &[4.0], Method::P, &[]), None);
        assert_eq!(chart(&[-1.0], &[4.0], Method::LaneyP, &[]), None);
        let y = [1.0; 5];
        let ones = [1.0; 5];
        assert_eq!(chart(&y, &ones, XMR, &[0]), None);
        assert_eq!(chart(&y, &ones, XMR, &[5]), None);
        assert_eq!(chart(&y, &ones, XMR, &[3, 2]), None);
        assert_eq!(chart(&y, &ones, XMR, &[2, 2]), None);
        assert!(chart(&y, &ones, XMR, &[2, 3]).is_some());
    }

    /// Periods with n = 0 are skipped: not plotted, no limits, out of p̄, and they do not break a run.
    #[test]
    fn zero_denominator_periods_are_skipped() {
        let x = [20.0, 0.0, 20.0, 10.0, 10.0, 10.0, 0.0, 10.0, 10.0, 10.0, 10.0];
        let n = [100.0, 0.0, 100.0, 100.0, 100.0, 100.0, 0.0, 100.0, 100.0, 100.0, 100.0];
        let c = chart(&x, &n, Method::P, &[]).expect("chart");
        for i in [1, 6] {
            assert_eq!(c.points[i].value, None);
            assert_eq!(c.points[i].limits, None);
            assert_eq!(c.points[i].signal, None);
        }
        assert_eq!(c.segments[0].points, 9);
        close("p-bar without skipped periods", c.segments[0].centre.expect("centre"), 110.0 / 900.0);
        // 7 plotted points below p̄ (indices 3..=10 less the skipped 6): a shift across the gap.
        for i in [3, 4, 5, 7, 8, 9, 10] {
            assert_eq!(c.points[i].signal, Some(Signal { rule: Rule::Shift, side: Side::Low }), "point {i}");
        }
        assert_eq!(c.points[0].signal, None);
        // The XmR chart of the proportions skips the same periods.
        let xm = chart(&x, &n, XMR, &[]).expect("chart");
        assert_eq!(xm.points[1].value, None);
        assert_eq!(xm.segments[0].points, 9);
    }

    #[test]
    fn p_bar_zero_or_one_has_no_limits() {
        let n = [50.0; 8];
        for (x, want) in [([0.0; 8], 0.0), ([50.0; 8], 1.0)] {
            for m in [Method::P, Method::LaneyP] {
                let c = chart(&x, &n, m, &[]).expect("chart");
                assert_eq!(c.segments[0].centre, Some(want));
                assert!(c.points.iter().all(|p| p.limits.is_none() && p.signal.is_none()), "{m:?}");
            }
        }
        // Laney's σ_z needs two points; the p-chart does not.
        assert!(chart(&[5.0], &[20.0], Method::P, &[]).expect("chart").points[0].limits.is_some());
        assert!(chart(&[5.0], &[20.0], Method::LaneyP, &[]).expect("chart").points[0].limits.is_none());
    }

    /// Limits of p are clipped to [0, 1].
    #[test]
    fn p_limits_are_clipped() {
        let c = chart(&[1.0, 0.0, 1.0], &[10.0, 10.0, 10.0], Method::P, &[]).expect("chart");
        let l = c.points[0].limits.expect("limits");
        assert_eq!(l.lower, 0.0);
        assert_eq!(l.near_lower, 0.0);
        assert!(l.upper < 1.0 && l.upper > 2.0 / 30.0);
    }

    /// A suppressed period is off the chart as an empty one is, but breaks the runs: seven
    /// plotted points below the centre around a hidden one are no shift (counted across it, they
    /// were: a false alert, found in the twenty-fourth session on issue 9), and a trend or
    /// two-in-three does not reach across it either. Without the gap, the same points are one.
    #[test]
    fn a_hidden_period_breaks_runs_an_empty_one_does_not() {
        let x = [20.0, 20.0, 20.0, 10.0, 10.0, 10.0, 0.0, 10.0, 10.0, 10.0, 10.0];
        let n = [100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 0.0, 100.0, 100.0, 100.0, 100.0];
        let shift =
            |c: &Chart| (0..x.len()).filter(|&i| c.points[i].signal.is_some_and(|s| s.rule == Rule::Shift)).count();
        let empty = chart(&x, &n, Method::P, &[]).expect("chart");
        assert_eq!(shift(&empty), 7, "an empty period does not break the run");
        let mut hidden = vec![false; x.len()];
        hidden[6] = true;
        let gap = chart_with_gaps(&x, &n, Method::P, &[], &hidden).expect("chart");
        assert_eq!(shift(&gap), 0, "a hidden one does");
        // the limits and centre are the same: the hidden period was off the chart either way
        assert_eq!(gap.segments[0].centre, empty.segments[0].centre);
        // a trend of 7 across the gap is none either
        let y: Vec<f64> = (0..9).map(|i| 0.1 + 0.01 * f64::from(i)).collect();
        let (ny, mut h) = (vec![1.0; 9], vec![false; 9]);
        let trend = |c: &Chart| c.points.iter().any(|p| p.signal.is_some_and(|s| s.rule == Rule::Trend));
        assert!(trend(&chart(&y, &ny, XMR, &[]).expect("chart")));
        h[4] = true;
        let mut yh = y.clone();
        yh[4] = 0.0;
        let mut nh = ny.clone();
        nh[4] = 0.0;
        assert!(!trend(&chart_with_gaps(&yh, &nh, XMR, &[], &h).expect("chart")), "8 points, a gap in the middle");
    }

    fn rules(y: &[f64]) -> Vec<Option<Signal>> {
        xmr(y, true).expect("chart").points.iter().map(|p| p.signal).collect()
    }

    /// A trend is 7 values (6 strict steps); 6 values are not; a tie breaks it.
    #[test]
    fn trend_is_seven_values_and_ties_break_it() {
        let base = [10.0, 12.0, 9.0, 11.0, 10.0, 12.0, 9.0, 11.0];
        let up = [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0];
        let mut y: Vec<f64> = base.to_vec();
        y.extend(up.iter().map(|v| v + 3.0));
        y.extend(base);
        let r = rules(&y);
        for (i, s) in r.iter().enumerate() {
            let in_trend = (8..15).contains(&i);
            assert_eq!(s.map(|s| s.rule) == Some(Rule::Trend), in_trend, "point {i}: {s:?}");
            if in_trend {
                assert_eq!(s.map(|s| s.side), Some(Side::High));
            }
        }
        // Six values: no trend.
        let mut y6: Vec<f64> = base.to_vec();
        y6.extend(up[..6].iter().map(|v| v + 3.0));
        y6.extend(base);
        assert!(rules(&y6).iter().all(|s| s.map(|s| s.rule) != Some(Rule::Trend)));
        // A tie inside the seven breaks it.
        let mut tie: Vec<f64> = base.to_vec();
        tie.extend([8.0, 9.0, 10.0, 10.0, 11.0, 12.0, 13.0]);
        tie.extend(base);
        assert!(rules(&tie).iter().all(|s| s.map(|s| s.rule) != Some(Rule::Trend)));
        // Decreasing.
        let down: Vec<f64> = y.iter().map(|v| -v).collect();
        assert_eq!(rules(&down)[10], Some(Signal { rule: Rule::Trend, side: Side::Low }));
    }

    /// A shift is 7 points on one side; 6 are not; a point on the CL breaks it.
    #[test]
    fn shift_is_seven_points() {
        // mean 0: 7 above, 7 below.
        let mut y = vec![1.0, -1.0, 2.0, 1.0, 3.0, 1.0, 2.0];
        y.extend([-2.0, -1.0, -3.0, -1.0, -2.0, -1.0, -1.0]);
        let r = rules(&y);
        assert!(r[0].is_none(), "{:?}", r[0]); // the -1 at index 1 breaks the first run
        assert!(r[1..7].iter().all(|s| s.is_none()));
        assert!(r[7..].iter().all(|s| *s == Some(Signal { rule: Rule::Shift, side: Side::Low })), "{r:?}");
    }

    /// Points beyond the limits are not close; only the close points of a two-in-three are flagged.
    #[test]
    fn two_in_three_flags_close_points_only() {
        // Noise 19/21 around 20.3 with mR̄ ≈ 2.41: near band ≈ 20.3 ± 4.27, limits ≈ 20.3 ± 6.41.
        let mut y: Vec<f64> = (0..40).map(|i| if i % 2 == 0 { 19.0 } else { 21.0 }).collect();
        y[9] = 26.0; // close above
        y[10] = 21.0; // above the CL, not close
        y[11] = 26.0; // close above
        let c = xmr(&y, true).expect("chart");
        assert!(c.points[9].close_to_limits && c.points[11].close_to_limits && !c.points[10].close_to_limits);
        let r: Vec<Option<Signal>> = c.points.iter().map(|p| p.signal).collect();
        let two = Some(Signal { rule: Rule::TwoInThree, side: Side::High });
        assert_eq!((r[9], r[10], r[11]), (two, None, two));
        assert!(r[..9].iter().chain(&r[12..]).all(|s| s.is_none()), "{r:?}");

        // The middle point below the CL: not all three on one side, no signal.
        let mut y2 = y.clone();
        y2[10] = 19.0;
        let c2 = xmr(&y2, true).expect("chart");
        assert!(c2.points[9].close_to_limits && c2.points[11].close_to_limits);
        assert!(c2.points.iter().all(|p| p.signal.is_none()));

        // One close point and one beyond the limit: the outside point does not count as close.
        let mut y3 = y.clone();
        y3[11] = 40.0;
        let c3 = xmr(&y3, true).expect("chart");
        assert!(c3.points[9].close_to_limits && c3.points[11].outside_limits && !c3.points[11].close_to_limits);
        assert_eq!(c3.points[9].signal, None);
        assert_eq!(c3.points[11].signal, Some(Signal { rule: Rule::Outside, side: Side::High }));
    }

    /// A peak shared by a rising and a falling trend takes the direction of the step after it, as the
    /// package's `sdy` (rules run without limits here, so only trend and shift can fire).
    #[test]
    fn trend_direction_at_a_shared_peak() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0];
        let points: Vec<Point> = y
            .iter()
            .map(|&v| Point {
                value: Some(v),
                segment: 0,
                centre: Some(4.0),
                limits: None,
                relative_to_mean: 0,
                outside_limits: false,
                close_to_limits: false,
                signal: None,
            })
            .collect();
        let sides: Vec<Option<Side>> = signals(&points, &[]).iter().map(|s| s.map(|s| s.side)).collect();
        let want: Vec<Option<Side>> = (0..13).map(|i| Some(if i < 6 { Side::High } else { Side::Low })).collect();
        assert_eq!(sides, want);
    }

    #[test]
    fn labels_follow_direction() {
        let hi = Signal { rule: Rule::Shift, side: Side::High };
        let lo = Signal { rule: Rule::Trend, side: Side::Low };
        assert_eq!(hi.label(Direction::Increase), PointLabel::Improvement);
        assert_eq!(hi.label(Direction::Decrease), PointLabel::Concern);
        assert_eq!(lo.label(Direction::Decrease), PointLabel::Improvement);
        assert_eq!(lo.label(Direction::Increase), PointLabel::Concern);
        assert_eq!(lo.label(Direction::Neither), PointLabel::Neutral);
    }

    /// A step down halfway: 12 points near 0.30, then 12 near 0.15.
    fn step(after: f64) -> (Vec<f64>, Vec<f64>) {
        let wobble = [0.0, 0.01, -0.01, 0.005, -0.005, 0.0, 0.01, -0.01, 0.005, -0.005, 0.01, 0.0];
        let x: Vec<f64> =
            wobble.iter().map(|w| (0.30 + w) * 200.0).chain(wobble.iter().map(|w| (after + w) * 200.0)).collect();
        (x, vec![200.0; 24])
    }

    #[test]
    fn segments_have_their_own_limits_and_rules() {
        let (x, n) = step(0.15);
        for m in [XMR, Method::P, Method::LaneyP] {
            let whole = chart(&x, &n, m, &[]).expect("chart");
            let rebased = chart(&x, &n, m, &[12]).expect("chart");
            assert_eq!(rebased.segments.len(), 2);
            assert_eq!((rebased.segments[1].start, rebased.segments[1].end), (12, 24));
            for (s, range) in [(0, 0..12), (1, 12..24)] {
                let alone = chart(&x[range.clone()], &n[range.clone()], m, &[]).expect("chart");
                assert_eq!(rebased.segments[s].centre, alone.segments[0].centre, "{m:?}");
                assert_eq!(rebased.segments[s].spread, alone.segments[0].spread, "{m:?}");
                for (p, q) in rebased.points[range].iter().zip(&alone.points) {
                    assert_eq!(p.segment, s);
                    assert_eq!((p.limits, p.signal), (q.limits, q.signal), "{m:?}");
                }
            }
            // Without rebasing the step is a special cause; rebased, each half is common cause.
            assert!(whole.points.iter().any(|p| p.special_cause()), "{m:?}");
            assert!(rebased.points.iter().all(|p| !p.special_cause()), "{m:?}");
        }
    }

    #[test]
    fn rebase_only_after_a_sustained_signal() {
        let (x, n) = step(0.15);
        for m in [XMR, Method::P, Method::LaneyP] {
            assert_eq!(rebase_signal(&x, &n, m, 12), Some(Signal { rule: Rule::Shift, side: Side::Low }), "{m:?}");
            // No change: no rebase.
            let (same, _) = step(0.30);
            assert_eq!(rebase_signal(&same, &n, m, 12), None, "{m:?}");
            // One wild point after the change is not sustained.
            let mut spike = same.clone();
            spike[14] = 0.9 * 200.0;
            assert_eq!(rebase_signal(&spike, &n, m, 12), None, "{m:?}");
        }
        // Six points after the change cannot make a shift.
        assert_eq!(rebase_signal(&x[..18], &n[..18], XMR, 12), None);
        assert_eq!(rebase_signal(&x[..19], &n[..19], XMR, 12), Some(Signal { rule: Rule::Shift, side: Side::Low }));
        assert_eq!(rebase_signal(&x, &n, XMR, 0), None);
        assert_eq!(rebase_signal(&x, &n, XMR, 24), None);
    }

    #[test]
    fn summary_variation_and_assurance() {
        let (x, n) = step(0.15);
        let c = chart(&x, &n, XMR, &[]).expect("chart");
        let s = summary(&c, Direction::Decrease, None).expect("summary");
        assert_eq!(s.variation, Variation::SpecialCauseImprovement);
        assert_eq!(s.side, Some(Side::Low));
        assert_eq!(s.assurance, None);
        assert_eq!(summary(&c, Direction::Increase, None).expect("s").variation, Variation::SpecialCauseConcern);
        assert_eq!(summary(&c, Direction::Neither, Some(0.2)).expect("s").variation, Variation::SpecialCauseNeither);
        assert_eq!(summary(&c, Direction::Neither, Some(0.2)).expect("s").assurance, None);

        let r = chart(&x, &n, XMR, &[12]).expect("chart");
        let l = r.points[23].limits.expect("limits");
        let s = |d, t| summary(&r, d, Some(t)).expect("summary");
        assert_eq!(s(Direction::Decrease, 0.5).variation, Variation::CommonCause);
        assert_eq!(s(Direction::Decrease, l.upper + 0.01).assurance, Some(Assurance::ConsistentlyPasses));
        assert_eq!(s(Direction::Increase, l.upper + 0.01).assurance, Some(Assurance::ConsistentlyFails));
        assert_eq!(s(Direction::Decrease, l.lower - 0.01).assurance, Some(Assurance::ConsistentlyFails));
        assert_eq!(s(Direction::Increase, l.lower - 0.01).assurance, Some(Assurance::ConsistentlyPasses));
        assert_eq!(s(Direction::Increase, 0.15).assurance, Some(Assurance::Inconsistent));
        // A skipped last period: the summary reads the last plotted one.
        let mut x2 = x.clone();
        let mut n2 = n.clone();
        x2.push(0.0);
        n2.push(0.0);
        let c2 = chart(&x2, &n2, XMR, &[]).expect("chart");
        assert_eq!(summary(&c2, Direction::Decrease, None).expect("s").variation, Variation::SpecialCauseImprovement);
    }

    #[test]
    fn names() {
        assert_eq!(Method::LaneyP.name(), "p_prime");
        assert_eq!(Rule::TwoInThree.name(), "two_in_three");
        assert_eq!(PointLabel::Concern.name(), "concern");
        assert_eq!(Variation::SpecialCauseNeither.name(), "special_cause_neither");
        assert_eq!(Assurance::Inconsistent.name(), "inconsistent");
    }
}
