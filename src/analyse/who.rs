//! Who is missing: representation against the population, theme rates by group with
//! intervals, the concerns distinctive to under-heard groups, and the theme ranking once every
//! group counts in proportion. Every published count goes through disclosure control.
//!
//! Units: representation counts **respondents** (a response once over the run and once in each
//! month it has a record in: a person who answered two questions is one voice); theme statistics count **comments** (records),
//! as METHODS §0 defines prevalence. Groups `missing`, `not_stated` and `unmapped` are left out
//! of every denominator and published as their own rows with `n_missing`.

pub use super::common::{is_absent, period_view, publish, publish_period, DimBaseline, WhoSettings};
use rayon::prelude::*;

use super::comparisons::{self, ChangeCounts, ChangeInput, ComparisonRow, Span};
use super::cooccurrence::{pair_rows, PairCounts, PairRow};
use super::counts::{project, Cell, DimCounts};
use super::differencing::{self, Identities, KnownTotals, PeriodCounts};
pub use super::ranking::{ranking, RakeMargin, RakingReport, RankingRow};
pub use super::representation::{representation_rows, RepresentationRow};
use super::spc::{self, SpcCounts};
use super::stats::{Flag, Published};
pub use super::theme_by_group::{group_theme_stats, published_rest, theme_group_rows, GroupTheme, ThemeGroupRow};
pub use super::underheard::{underheard_rows, UnderheardRow};
use crate::config::SpcPeriod;

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
    /// The run's totals per `spc` period: published, so the guard counts them as known.
    pub spc: &'a SpcCounts,
    /// Records per pair of themes (`cooccurrence`).
    pub pairs: &'a PairCounts,
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
    /// `cooccurrence`.
    pub(crate) cooccurrence: Vec<PairRow>,
    /// Pairs of themes coded together on a record (`cooccurrence` publishes at most `max_pairs`).
    pub pairs_coded: usize,
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
    let dates = input.changes.dates.or_else(|| Some((input.spc.cells.first()?.0, input.spc.cells.last()?.0)));
    // the months as spans of days (within the records' dates), for the periods that cut them
    let month_n: Vec<i64> =
        (1..=months).map(|p| input.counts.first().map_or(0, |c| period_view(c, p).0.iter().sum())).collect();
    let month_spans: Vec<Span> = input.periods[1..]
        .iter()
        .enumerate()
        .filter_map(|(i, label)| {
            let (first, last) = comparisons::month_days(label)?;
            let (lo, hi) = dates?;
            Some(Span { period: 1 + i, first: first.max(lo), last: last.min(hi), n: month_n[i] })
        })
        .collect();
    // each change's sides are two more periods of every dimension, after the months
    let ch = &input.changes;
    let mut sides: Vec<(Span, bool)> = Vec::new();
    for (k, (change, counted)) in ch.changes.iter().zip(ch.counts).enumerate() {
        let before = months + 1 + 2 * k;
        if !ch.compared.get(k).copied().unwrap_or(false) {
            // not compared: its (empty) sides publish nothing, so they set no sum to guard
            for per in published.iter_mut() {
                per.extend([None, None]);
            }
            continue;
        }
        for (d, per) in published.iter_mut().enumerate() {
            let Some(c) = counted.dims.get(d) else { continue };
            for side in 1..=2 {
                let (records, _, mentions, concerns) = period_view(c, side);
                per.push(Some(publish_period(records, mentions, concerns, &s.disclosure)));
            }
        }
        let (known, sums, spans, filtered) = comparisons::identities(
            change,
            counted,
            before,
            &month_spans,
            input.totals.records,
            dates.unwrap_or((change.date, change.date)),
            &s.disclosure,
        );
        identities.known.extend(known);
        identities.sums.extend(sums);
        sides.extend(spans.into_iter().map(|x| (x, filtered)));
    }
    // spc publishes each period's totals: a month's are the month's; weeks are periods of their
    // own, set against the months and the sides
    let spc_period = |i: usize| match input.spc.period {
        SpcPeriod::Month => {
            let label = input.spc.cells[i].0.format("%Y-%m").to_string();
            input.periods.iter().position(|p| *p == label)
        }
        SpcPeriod::Week => Some(months + 1 + 2 * ch.changes.len() + i),
    };
    let mut weeks = Vec::new();
    for (i, (start, cell)) in input.spc.cells.iter().enumerate() {
        let Some(p) = spc_period(i) else { continue };
        let each = |v: &[i64]| v.iter().map(|&x| publish(x, &s.disclosure)).collect();
        let totals = KnownTotals {
            records: Some(publish(cell.records, &s.disclosure)),
            mentions: each(&cell.mentions),
            concerns: each(&cell.concerns),
        };
        identities.known.insert(p, totals);
        if let (SpcPeriod::Week, Some((lo, hi))) = (input.spc.period, dates) {
            let last = spc::period_end(SpcPeriod::Week, *start);
            weeks.push(Span { period: p, first: (*start).max(lo), last: last.min(hi), n: cell.records });
        }
    }
    for month in &month_spans {
        identities.total_sums.extend(comparisons::containment(&weeks, month, false));
    }
    for (side, filtered) in &sides {
        identities.total_sums.extend(comparisons::containment(&weeks, side, *filtered));
    }
    out.withheld = differencing::withhold(&mut published, &identities, &s.disclosure);
    // themes that travel together, from theme_by_group's published counts of the whole run (their
    // own guard), beside each dimension's rows
    let pairs = || {
        let whole_run: Vec<&PeriodCounts> = published.iter().filter_map(|per| per.first()?.as_ref()).collect();
        (whole_run.len() == input.dimensions.len()).then(|| {
            let totals = identities.known.get(&0).cloned().unwrap_or_default();
            pair_rows(input.pairs, &whole_run, &totals, &s.disclosure, s.max_pairs)
        })
    };
    // each dimension's rows on a worker, kept in dimension order
    let rows = || -> Vec<(Vec<RepresentationRow>, Vec<ThemeGroupRow>, Vec<UnderheardRow>)> {
        input
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
                            .filter(|r| {
                                r.flag == Flag::UnderRepresented.as_str() || r.flag == Flag::BelowParity.as_str()
                            })
                            .filter_map(|r| names.iter().position(|n| *n == r.group).map(|g| (g, r.flag.clone())))
                            .collect();
                        underheard.extend(underheard_rows(d, names, pc, &flagged, s));
                    }
                    representation.extend(rep);
                    theme_by_group.extend(theme_group_rows(period, d, names, pc, s));
                }
                (representation, theme_by_group, underheard)
            })
            .collect()
    };
    let (cooccurrence, per_dimension) = rayon::join(pairs, rows);
    if let Some((rows, withheld, coded)) = cooccurrence {
        out.cooccurrence = rows;
        out.withheld += withheld;
        out.pairs_coded = coded;
    }
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
        .filter(|&k| ch.compared.get(k).copied().unwrap_or(false))
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
    let (rows, mut report) = ranking(input.totals, input.n_themes, &cells, &margins, s);
    // a baseline group no record has is an empty category too: its share was spread over the
    // others unsaid (METHODS §2: it makes raking impossible; found in the twenty-fourth session)
    for (name, _, _) in &margins {
        let Some(d) = input.dimensions.iter().position(|x| x == name) else { continue };
        if let Some(base) = input.baselines[d].as_ref() {
            report.empty_categories.extend(base.unseen.iter().filter(|u| u.1 > 0.0).map(|u| format!("{name}={}", u.0)));
        }
    }
    (rows, report)
}

/// What a person must know of the raking: the baseline groups it could not weight to, and a
/// raking that did not converge (both were in the manifest only, or not at all: found in the
/// twenty-fourth session on issue 9).
#[must_use]
pub(crate) fn raking_warnings(r: &RakingReport) -> Vec<String> {
    let mut out = Vec::new();
    if r.skipped.is_some() {
        return out;
    }
    if !r.empty_categories.is_empty() {
        out.push(format!(
            "raking: no record with every raking dimension stated is in {}: their share of the population is spread \
             over the other groups, so theme_ranking's weighted figures stand for a population without them (merge \
             each into a neighbouring group of the baseline, or rake over fewer dimensions: [analysis] \
             raking_dimensions)",
            r.empty_categories.join(", ")
        ));
    }
    if !r.converged && r.iterations > 0 {
        out.push(format!(
            "raking did not converge in {} iterations: theme_ranking's weighted figures do not meet the baseline's \
             shares (weights capped: [analysis] weight_cap; or rake over fewer dimensions: [analysis] \
             raking_dimensions)",
            r.iterations
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raking that did not converge, or could not weight to a baseline group, is said; one
    /// that was skipped (no baseline to rake over) has its reason in the manifest already.
    #[test]
    fn raking_that_missed_its_margins_is_said() {
        let fine = RakingReport { iterations: 4, converged: true, ..RakingReport::default() };
        assert!(raking_warnings(&fine).is_empty());
        let stuck = RakingReport { iterations: 100, converged: false, ..RakingReport::default() };
        assert!(raking_warnings(&stuck)[0].contains("did not converge in 100 iterations"));
        let empty = RakingReport { empty_categories: vec!["ethnicity=Other".into()], ..fine.clone() };
        assert!(raking_warnings(&empty)[0].contains("ethnicity=Other"));
        let skipped = RakingReport { skipped: Some("no baseline".into()), ..stuck };
        assert!(raking_warnings(&skipped).is_empty());
    }
}
