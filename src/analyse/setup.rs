//! A run's analysis set-up: the records' periods, counts and baseline populations, in the
//! shape [`who::analyse`] takes, and its rows back.

use crate::analyse::counts::Counted;
use crate::analyse::{self, who, AnalyseError};
use crate::config::Settings;
use crate::people::baseline::{Baseline, BaselineError};
use crate::people::harmonise::Harmoniser;
use crate::people::{baseline_populations, Groups};

/// Why the analysis could not run.
#[derive(Debug, thiserror::Error)]
pub enum WhoError {
    /// Counting failed.
    #[error(transparent)]
    Analyse(#[from] AnalyseError),
    /// The baseline does not fit.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
}

/// The who-is-missing analysis's rows, plus what of the baseline went unused.
pub(crate) struct Who {
    /// Representation of each group against the baseline.
    pub representation: Vec<who::RepresentationRow>,
    /// Each theme in each group.
    pub theme_by_group: Vec<who::ThemeGroupRow>,
    /// Concerns raised most by under-represented groups.
    pub underheard: Vec<who::UnderheardRow>,
    /// Themes ranked, raked to the population.
    pub ranking: Vec<who::RankingRow>,
    /// Each change's before and after.
    pub comparisons: Vec<crate::analyse::comparisons::ComparisonRow>,
    /// Themes coded together.
    pub cooccurrence: Vec<crate::analyse::cooccurrence::PairRow>,
    /// Pairs of themes coded together on a record, published or not.
    pub pairs_coded: usize,
    /// Each theme's SPC series, point by point.
    pub spc: Vec<crate::analyse::spc::SpcRow>,
    /// Each series' icons.
    pub spc_summary: Vec<crate::analyse::spc::SpcSummaryRow>,
    /// What raking did.
    pub raking: who::RakingReport,
    /// Baseline rows the run could not use, each with its line.
    pub baseline_unused: Vec<String>,
    /// Warnings about the baseline against the records' groups.
    pub baseline_warnings: Vec<String>,
}

/// What the counters saw, in the analysis' order.
pub(crate) struct Seen<'a> {
    /// Dimension names.
    pub dimensions: &'a [String],
    /// Per dimension, the group names (sorted).
    pub names: &'a [Vec<String>],
    /// The months (sorted; `unknown` last).
    pub months: &'a [String],
    /// The counts, months and groups sorted.
    pub counted: &'a Counted,
    /// The dimensions (indices) of the raking cells' keys.
    pub cell_dimensions: &'a [usize],
    /// The declared changes and their counts.
    pub changes: crate::analyse::comparisons::ChangeInput<'a>,
    /// The run's counts per `spc` period.
    pub spc: &'a crate::analyse::spc::SpcCounts,
    /// Records per pair of themes.
    pub pairs: &'a crate::analyse::cooccurrence::PairCounts,
}

/// The run's disclosure rule (`[analysis] suppress_max`, `round_to`), for every published table.
#[must_use]
pub(crate) fn disclosure_rule(settings: &Settings) -> analyse::stats::DisclosureRule {
    let a = &settings.analysis;
    analyse::stats::DisclosureRule { suppress_max: a.suppress_max, round_to: a.round_to, suppress_zero: false }
}

/// Sets the baseline's populations (harmonised as the records' groups are) against the
/// counts, and runs the who-is-missing analysis.
///
/// # Errors
/// The baseline does not fit the run's groups and bands.
pub(crate) fn analyse_who(
    settings: &Settings,
    seen: &Seen<'_>,
    baseline: Option<&Baseline>,
    harmoniser: &Harmoniser,
    book: &crate::code::Codebook,
) -> Result<Who, WhoError> {
    let n_themes = book.themes.len();
    use who::{DimBaseline, WhoInput, WhoSettings};
    let groups = Groups { dimensions: seen.dimensions.to_vec(), names: seen.names.to_vec() };
    let counts = &seen.counted.dims;
    let months = seen.months.to_vec();
    // the baseline's groups go through the same harmonisation as the records'
    let mut unused = Vec::new();
    let mut baseline_warnings = Vec::new();
    let mut baselines: Vec<Option<DimBaseline>> = vec![None; groups.dimensions.len()];
    if let (Some(b), Some(bs)) = (baseline, settings.baseline.as_ref()) {
        let pops = baseline_populations(b, bs, &groups.dimensions, harmoniser)?;
        // the groups records have: stated, and inside the bands in force
        let present: Vec<Vec<(String, u64)>> = (0..groups.dimensions.len())
            .map(|d| {
                let n = counts[d].records.first().cloned().unwrap_or_default();
                groups.names[d]
                    .iter()
                    .zip(n.into_iter().map(|n| u64::try_from(n).unwrap_or(0)))
                    .filter(|(g, n)| *n > 0 && !who::is_absent(g) && !harmoniser.is_off_band(d, g))
                    .map(|(g, n)| (g.clone(), n))
                    .collect()
            })
            .collect();
        baseline_warnings = pops.check(&bs.path, &groups.dimensions, &present)?;
        for d in (0..groups.dimensions.len()).filter(|&d| !pops.groups[d].is_empty()) {
            let n = counts[d].records.first().cloned().unwrap_or_default();
            let off_band: Vec<(String, u64)> = groups.names[d]
                .iter()
                .zip(n.into_iter().map(|n| u64::try_from(n).unwrap_or(0)))
                .filter(|(g, n)| *n > 0 && harmoniser.is_off_band(d, g))
                .map(|(g, n)| (g.clone(), n))
                .collect();
            baseline_warnings.extend(crate::people::setup::straddling_bands_warning(
                &groups.dimensions[d],
                harmoniser.bands(),
                &off_band,
            ));
        }
        unused = pops.unused;
        for (d, pop) in pops.groups.into_iter().enumerate() {
            if pop.is_empty() {
                continue;
            }
            let names = &groups.names[d];
            let population = names.iter().map(|n| pop.get(n).map(|p| p.0)).collect();
            let mut unseen = Vec::new();
            for (g, (p, line)) in pop.iter().filter(|(g, _)| !names.contains(g)) {
                if *p > 0.0 {
                    unseen.push((g.clone(), *p));
                } else {
                    unused.push(format!("line {line}: {}={g}: population 0", groups.dimensions[d]));
                }
            }
            baselines[d] = Some(DimBaseline { population, unseen });
        }
    }
    let periods: Vec<String> = std::iter::once("all".to_owned()).chain(months).collect();
    let a = &settings.analysis;
    let who_settings = WhoSettings {
        disclosure: disclosure_rule(settings),
        flags: analyse::stats::FlagThresholds { under: a.under_represented, parity: 1.0, over: a.over_represented },
        prior: analyse::stats::Prior::Scaled { alpha0: a.alpha0 },
        weight_cap: a.weight_cap,
        max_pairs: a.max_pairs,
    };
    let out = who::analyse(
        &WhoInput {
            dimensions: &groups.dimensions,
            names: &groups.names,
            counts,
            periods: &periods,
            baselines: &baselines,
            totals: &seen.counted.totals,
            cells: &seen.counted.cells,
            cell_dimensions: seen.cell_dimensions,
            n_themes,
            raking: &a.raking_dimensions,
            changes: seen.changes,
            spc: seen.spc,
            pairs: seen.pairs,
        },
        &who_settings,
    );
    baseline_warnings.extend(who::raking_warnings(&out.raking));
    let (spc, spc_summary) = crate::analyse::spc::spc_rows(
        seen.spc,
        book,
        &crate::analyse::spc::SpcSettings {
            chart: a.spc_chart,
            screen_outliers: a.spc_screen_outliers,
            changes: &settings.changes,
            targets: &a.spc_targets,
        },
        &who_settings.disclosure,
    );
    Ok(Who {
        spc,
        spc_summary,
        representation: out.representation,
        theme_by_group: out.theme_by_group,
        underheard: out.underheard,
        ranking: out.ranking,
        comparisons: out.comparisons,
        cooccurrence: out.cooccurrence,
        pairs_coded: out.pairs_coded,
        raking: out.raking,
        baseline_unused: unused,
        baseline_warnings,
    })
}
