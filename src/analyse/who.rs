//! Who is missing: representation against the population, theme rates by group with
//! intervals, the concerns distinctive to under-heard groups, and the theme ranking once every
//! group counts in proportion. Every published count goes through disclosure control.
//!
//! Units: representation counts **respondents** (the first record of each response: a person
//! who answered two questions is one voice); theme statistics count **comments** (records),
//! as METHODS §0 defines prevalence. Groups `missing`, `not_stated` and `unmapped` are left out
//! of every denominator and published as their own rows with `n_missing`.

pub use super::common::{is_absent, period_view, publish, publish_period, DimBaseline, WhoSettings};
use rayon::prelude::*;

use super::comparisons::{self, ChangeCounts, ChangeInput, ComparisonRow};
use super::counts::{project, Cell, DimCounts};
use super::differencing::{self, Identities, KnownTotals, PeriodCounts};
pub use super::ranking::{ranking, RakeMargin, RakingReport, RankingRow};
pub use super::representation::{representation_rows, RepresentationRow};
use super::stats::{Flag, Published};
pub use super::theme_by_group::{group_theme_stats, published_rest, theme_group_rows, GroupTheme, ThemeGroupRow};
pub use super::underheard::{underheard_rows, UnderheardRow};

/// Everything the who-is-missing analysis needs.
#[derive(Debug, Clone, Copy)]
pub struct WhoInput<'a> {
    /// Dimension names.
    pub dimensions: &'a [String],
    /// Per dimension: group names.
    pub names: &'a [Vec<String>],
    /// Per dimension: counts.
    pub counts: &'a [DimCounts],
    /// Period labels: `all`, then the months.
    pub periods: &'a [String],
    /// Per dimension: the baseline, if it has one.
    pub baselines: &'a [Option<DimBaseline>],
    /// The whole run's counts.
    pub totals: &'a Cell,
    /// Raking cells: per cell, the group id of each dimension of `cell_dimensions`.
    pub cells: &'a [(Vec<u32>, Cell)],
    /// The dimensions (indices) of the cells' keys.
    pub cell_dimensions: &'a [usize],
    /// Themes.
    pub n_themes: usize,
    /// Dimensions to rake over.
    pub raking: &'a [String],
    /// Declared changes and their counts (`comparisons`).
    pub changes: ChangeInput<'a>,
    /// Whether the months' overall counts are published (`spc` by month): the guard counts
    /// them as known.
    pub monthly_totals_published: bool,
}

/// The analysis' rows.
#[derive(Debug, Clone, Default)]
pub struct WhoOutput {
    /// `representation`.
    pub representation: Vec<RepresentationRow>,
    /// `theme_by_group`.
    pub theme_by_group: Vec<ThemeGroupRow>,
    /// `underheard_concerns`.
    pub underheard: Vec<UnderheardRow>,
    /// `theme_ranking`.
    pub ranking: Vec<RankingRow>,
    /// What raking did.
    pub raking: RakingReport,
    /// `comparisons`.
    pub comparisons: Vec<ComparisonRow>,
    /// `theme_by_group` and `comparisons` counts withheld against differencing.
    pub withheld: usize,
}

/// Runs every statistic of the who-is-missing analysis: the group tables and the ranking side
/// by side (neither reads the other).
#[must_use]
pub fn analyse(input: &WhoInput<'_>, s: &WhoSettings) -> WhoOutput {
    let (mut out, (ranking, raking)) = rayon::join(|| group_tables(input, s), || ranked(input, s));
    out.ranking = ranking;
    out.raking = raking;
    out
}

/// `representation`, `theme_by_group` and `underheard_concerns`, from the published counts.
fn group_tables(input: &WhoInput<'_>, s: &WhoSettings) -> WhoOutput {
    let mut out = WhoOutput::default();
    let empty = DimBaseline { population: Vec::new(), unseen: Vec::new() };
    // the published counts of theme_by_group, guarded against differencing before any statistic
    // is computed from them
    let mut published: Vec<Vec<Option<PeriodCounts>>> = input
        .counts
        .iter()
        .map(|c| {
            (0..input.periods.len())
                .map(|p| {
                    let (records, _, mentions, concerns) = period_view(c, p);
                    (p == 0 || records.iter().any(|&r| r != 0))
                        .then(|| publish_period(records, mentions, concerns, &s.disclosure))
                })
                .collect()
        })
        .collect();
    // theme_ranking publishes the run's totals (records_n, raw_n): the guard counts them as known
    let known = input.counts.first().map_or_else(KnownTotals::default, |c| {
        let (records, _, mentions, concerns) = period_view(c, 0);
        let per_theme = |m: &[Vec<i64>]| -> Vec<Published> {
            (0..input.n_themes)
                .map(|t| publish(m.iter().map(|row| row.get(t).copied().unwrap_or(0)).sum(), &s.disclosure))
                .collect()
        };
        KnownTotals {
            records: Some(publish(records.iter().sum(), &s.disclosure)),
            mentions: per_theme(mentions),
            concerns: per_theme(concerns),
        }
    });
    let months = input.periods.len() - 1;
    let mut identities = Identities::months(known, months);
    let month_totals: Vec<(i64, Vec<i64>, Vec<i64>)> = (1..=months)
        .map(|p| {
            input.counts.first().map_or_else(Default::default, |c| {
                let (records, _, mentions, concerns) = period_view(c, p);
                let per_theme = |m: &[Vec<i64>]| (0..input.n_themes).map(|t| m.iter().map(|g| g[t]).sum()).collect();
                (records.iter().sum(), per_theme(mentions), per_theme(concerns))
            })
        })
        .collect();
    if input.monthly_totals_published {
        for (i, (n, m, c)) in month_totals.iter().enumerate() {
            let each = |v: &[i64]| v.iter().map(|&x| publish(x, &s.disclosure)).collect();
            identities.known.insert(
                1 + i,
                KnownTotals { records: Some(publish(*n, &s.disclosure)), mentions: each(m), concerns: each(c) },
            );
        }
    }
    // each change's sides are two more periods of every dimension, after the months
    let ch = &input.changes;
    let month_n: Vec<i64> = month_totals.iter().map(|t| t.0).collect();
    for (k, (change, counted)) in ch.changes.iter().zip(ch.counts).enumerate() {
        let before = months + 1 + 2 * k;
        for (d, per) in published.iter_mut().enumerate() {
            let Some(c) = counted.dims.get(d) else { continue };
            for side in 1..=2 {
                let (records, _, mentions, concerns) = period_view(c, side);
                per.push(Some(publish_period(records, mentions, concerns, &s.disclosure)));
            }
        }
        let dates = ch.dates.unwrap_or((change.date, change.date));
        let (known, sums) = comparisons::identities(
            change,
            counted,
            before,
            &input.periods[1..],
            &month_n,
            input.totals.records,
            dates,
            &s.disclosure,
        );
        identities.known.extend(known);
        identities.sums.extend(sums);
    }
    out.withheld = differencing::withhold(&mut published, &identities, &s.disclosure);
    // each dimension's rows on a worker, kept in dimension order
    let per_dimension: Vec<(Vec<RepresentationRow>, Vec<ThemeGroupRow>, Vec<UnderheardRow>)> = input
        .dimensions
        .par_iter()
        .enumerate()
        .map(|(d, dim)| {
            let (mut representation, mut theme_by_group, mut underheard) = (Vec::new(), Vec::new(), Vec::new());
            let names = &input.names[d];
            let c = &input.counts[d];
            let base = input.baselines[d]
                .clone()
                .unwrap_or_else(|| DimBaseline { population: vec![None; names.len()], ..empty.clone() });
            theme_by_group.reserve(names.len() * input.periods.len() * input.n_themes);
            for (p, period) in input.periods.iter().enumerate() {
                let Some(pc) = &published[d][p] else { continue };
                let (_, respondents, _, _) = period_view(c, p);
                let rep = representation_rows(period, dim, names, respondents, &base, s);
                if p == 0 {
                    let flagged: Vec<(usize, String)> = rep
                        .iter()
                        .filter(|r| r.flag == Flag::UnderRepresented.as_str() || r.flag == Flag::BelowParity.as_str())
                        .filter_map(|r| names.iter().position(|n| *n == r.group).map(|g| (g, r.flag.clone())))
                        .collect();
                    underheard.extend(underheard_rows(d, names, pc, &flagged, s));
                }
                representation.extend(rep);
                theme_by_group.extend(theme_group_rows(period, d, names, pc, s));
            }
            (representation, theme_by_group, underheard)
        })
        .collect();
    out.theme_by_group.reserve(per_dimension.iter().map(|d| d.1.len()).sum());
    for (representation, theme_by_group, underheard) in per_dimension {
        out.representation.extend(representation);
        out.theme_by_group.extend(theme_by_group);
        out.underheard.extend(underheard);
    }
    // the groups each change's gap is measured for: those under-heard over the whole run
    let flags: Vec<Vec<(usize, String)>> = input
        .dimensions
        .iter()
        .enumerate()
        .map(|(d, dim)| {
            out.representation
                .iter()
                .filter(|r| r.period == "all" && &r.dimension == dim)
                .filter(|r| r.flag == Flag::UnderRepresented.as_str() || r.flag == Flag::BelowParity.as_str())
                .filter_map(|r| input.names[d].iter().position(|n| *n == r.group).map(|g| (g, r.flag.clone())))
                .collect()
        })
        .collect();
    let none = KnownTotals::default();
    out.comparisons = (0..ch.changes.len())
        .into_par_iter()
        .flat_map_iter(|k| {
            let before = months + 1 + 2 * k;
            let sides = |d: usize| -> Option<[&PeriodCounts; 2]> {
                Some([published[d].get(before)?.as_ref()?, published[d].get(before + 1)?.as_ref()?])
            };
            let known = |p: usize| identities.known.get(&p).unwrap_or(&none);
            let c = ChangeCounts {
                dims: (0..input.dimensions.len()).filter_map(sides).collect(),
                overall: [known(before), known(before + 1)],
            };
            comparisons::comparison_rows(k, &c, input.names, &flags, input.n_themes)
        })
        .collect();
    out
}

/// `theme_ranking`: the raking margins (the raking dimensions with a baseline, and the cells
/// merged over them), then the ranking.
fn ranked(input: &WhoInput<'_>, s: &WhoSettings) -> (Vec<RankingRow>, RakingReport) {
    let (keep, margins): (Vec<usize>, Vec<RakeMargin>) = input
        .raking
        .iter()
        .filter_map(|name| {
            let d = input.dimensions.iter().position(|x| x == name)?;
            let k = input.cell_dimensions.iter().position(|&x| x == d)?;
            let base = input.baselines[d].as_ref()?;
            Some((k, (name.clone(), base.population.clone(), input.names[d].clone())))
        })
        .unzip();
    let cells = project(input.cells, &keep);
    ranking(input.totals, input.n_themes, &cells, &margins, s)
}
