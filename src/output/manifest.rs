//! The run's manifest (`manifest.json`): what was read, kept, quarantined and coded, the
//! settings and versions in force, what disclosure control held back, and every table written.
//! The types here fix its layout (field order is the JSON's order); the functions build its
//! parts from the stages' results and compute nothing else.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analyse;
use crate::code::{Codebook, Coded};
use crate::config::{AnalysisSettings, BaselineSettings, Settings};
use crate::ingest::{self, SourceReport};
use crate::people::baseline::Baseline;
use crate::people::AgeBands;

#[derive(Debug, Serialize)]
pub(crate) struct Counts {
    pub(crate) rows_read: u64,
    pub(crate) rows_kept: u64,
    pub(crate) rows_quarantined: u64,
    pub(crate) rows_dropped: u64,
    pub(crate) text_cells: u64,
    pub(crate) records: u64,
    pub(crate) blank_text_cells: u64,
    pub(crate) quarantined_text_cells: u64,
    pub(crate) record_themes: u64,
    pub(crate) records_with_no_theme: u64,
    /// rows_read == rows_kept + rows_quarantined + rows_dropped
    pub(crate) rows_reconcile: bool,
    /// text_cells == records + blank_text_cells + quarantined_text_cells
    pub(crate) text_cells_reconcile: bool,
    pub(crate) quarantine_by_reason: BTreeMap<String, u64>,
    /// fields that could not be used in kept records (rows of field_issues)
    pub(crate) field_issues: u64,
    pub(crate) field_issues_by_reason: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Coding {
    /// records by polarity
    pub(crate) polarity: BTreeMap<&'static str, u64>,
    /// non-informative answers by how they read under their question
    pub(crate) non_informative: BTreeMap<&'static str, u64>,
    /// record × theme pairs that are concerns
    pub(crate) concerns: u64,
    /// personal data replaced in the records' text, by type
    pub(crate) redactions: BTreeMap<&'static str, u64>,
    /// records whose text had something redacted
    pub(crate) records_redacted: u64,
    /// personal data replaced in the quarantine's raw fields, by type
    pub(crate) quarantine_redactions: BTreeMap<&'static str, u64>,
}

/// Counts of what disclosure control held back, for the manifest.
#[derive(Debug, Serialize)]
pub(crate) struct DisclosureReport {
    /// counts from 1 to this are suppressed
    pub(crate) suppress_max: u64,
    /// other counts are rounded to a multiple of this
    pub(crate) round_to: u64,
    /// theme_by_group rows with a count suppressed
    pub(crate) theme_by_group_rows_suppressed: u64,
    /// theme_by_group counts withheld so that no suppressed count can be worked back by
    /// differencing (named in the rows' `withheld` column)
    pub(crate) theme_by_group_counts_withheld: u64,
    /// representation rows with a count suppressed
    pub(crate) representation_rows_suppressed: u64,
}

impl DisclosureReport {
    /// What the analysis's rows held back under `analysis`'s rule.
    pub(crate) fn of(
        analysis: &AnalysisSettings,
        theme_by_group: &[analyse::who::ThemeGroupRow],
        representation: &[analyse::who::RepresentationRow],
    ) -> DisclosureReport {
        DisclosureReport {
            suppress_max: analysis.suppress_max,
            round_to: analysis.round_to,
            theme_by_group_rows_suppressed: theme_by_group.iter().filter(|r| r.suppressed).count() as u64,
            theme_by_group_counts_withheld: theme_by_group.iter().map(|r| r.withheld.len() as u64).sum(),
            representation_rows_suppressed: representation.iter().filter(|r| r.suppressed).count() as u64,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct TableEntry {
    pub(crate) name: String,
    pub(crate) grain: String,
    pub(crate) rows: usize,
    pub(crate) files: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ModelEntry {
    pub(crate) path: String,
    pub(crate) sha256: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct CodebookEntry {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) sha256: String,
    pub(crate) themes: usize,
    pub(crate) analyzer: &'static str,
}

impl CodebookEntry {
    /// The codebook a run coded with.
    pub(crate) fn of(book: &Codebook) -> CodebookEntry {
        CodebookEntry {
            name: book.name.clone(),
            version: book.version.clone(),
            sha256: book.sha256.clone(),
            themes: book.themes.len(),
            analyzer: crate::text::ANALYZER_ID,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct BaselineEntry {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) sha256: String,
    pub(crate) rows: usize,
    /// areas the file holds (a census table's), and those counted (empty: all of them)
    pub(crate) areas_in_file: usize,
    pub(crate) areas_counted: Vec<String>,
}

impl BaselineEntry {
    /// The baseline a run compared with, read from `settings.path`.
    pub(crate) fn of(baseline: &Baseline, settings: &BaselineSettings) -> BaselineEntry {
        BaselineEntry {
            name: baseline.name.clone(),
            path: crate::ingest::shown(&settings.path),
            sha256: baseline.sha256.clone(),
            rows: baseline.rows.len(),
            areas_in_file: baseline.areas.met.len(),
            areas_counted: baseline.areas.picked.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct PeopleReport<'a> {
    pub(crate) age_bands: &'a AgeBands,
    /// The most groups a dimension could have in this run: `[people] max_groups`, or unset,
    /// sized by the codebook's themes and the months met.
    pub(crate) group_limit: usize,
    pub(crate) unmapped_share: BTreeMap<String, f64>,
    pub(crate) warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Manifest<'a> {
    pub(crate) unheard_version: &'static str,
    /// the version of the tables' schema (README, "Schema versions")
    pub(crate) schema_version: u32,
    pub(crate) versions: BTreeMap<&'static str, &'static str>,
    pub(crate) run: &'a str,
    pub(crate) threads: usize,
    #[serde(serialize_with = "scrubbed_settings")]
    pub(crate) settings: &'a Settings,
    pub(crate) codebook: CodebookEntry,
    /// the learned model, when the pipeline uses one
    pub(crate) model: Option<ModelEntry>,
    pub(crate) baseline: Option<BaselineEntry>,
    pub(crate) inputs: &'a [SourceReport],
    pub(crate) carried_columns: &'a [String],
    pub(crate) counts: Counts,
    pub(crate) coding: Coding,
    /// raw demographic values no mapping knows, per dimension, with their counts: add them
    /// under [people.map.<dimension>] in the pipeline
    pub(crate) unmapped_values: BTreeMap<String, BTreeMap<String, u64>>,
    /// the age bands in force, the share of each dimension unmapped, and the warnings about
    /// demographics and the baseline (also shown on stderr)
    pub(crate) people: PeopleReport<'a>,
    /// baseline rows whose dimension the run does not have, or whose group maps to nothing
    pub(crate) baseline_unused: Vec<String>,
    /// what raking did for theme_ranking
    pub(crate) raking: analyse::who::RakingReport,
    /// what disclosure control held back from the published tables
    pub(crate) disclosure: DisclosureReport,
    pub(crate) tables: Vec<TableEntry>,
    /// What the run took from its state and kept in it (absent when the run keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<StateReport>,
    /// ids the run kept on disk past `[run] ids_in_memory` (0 and 0 unless a run meets more)
    pub(crate) ids_on_disk: IdsOnDisk,
    /// wall time of each stage in milliseconds (the only part that differs between runs)
    pub(crate) timings_ms: BTreeMap<&'static str, u64>,
}

/// Ids a run kept on disk rather than in memory (`[run] ids_in_memory`).
#[derive(Debug, Default, Serialize)]
pub(crate) struct IdsOnDisk {
    /// record ids (for duplicates)
    pub(crate) record_ids: u64,
    /// responses, and further months of a response (for one voice per person)
    pub(crate) responses: u64,
}

/// Versions of the crates that shape the outputs (checked against Cargo.lock by a test).
pub const VERSIONS: [(&str, &str); 6] = [
    ("arrow", "60.1.0"),
    ("parquet", "60.1.0"),
    ("polars", "0.55.2"),
    ("rust-stemmers", "1.2.0"),
    ("tokenizers", "0.23.2"),
    ("calamine", "0.38.0"),
];

impl Coding {
    /// Adds a batch of codings.
    pub(crate) fn add(&mut self, coded: &[Coded]) {
        let c = self;
        for r in coded {
            *c.polarity.entry(r.polarity.as_str()).or_insert(0) += 1;
            if let Some(reading) = r.reading {
                *c.non_informative.entry(reading.as_str()).or_insert(0) += 1;
            }
            c.concerns += r.themes.iter().filter(|t| t.is_concern).count() as u64;
            if !r.redactions.is_empty() {
                c.records_redacted += 1;
            }
            for red in &r.redactions {
                *c.redactions.entry(red.kind.as_str()).or_insert(0) += 1;
            }
        }
    }
}

/// What taking the state back found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StateReport {
    /// The state folder.
    pub path: String,
    /// `first` (no state yet: every record coded), `incremental` (only new and changed
    /// records coded) or `recoded` (every record coded again: see `recoded_because`).
    pub mode: &'static str,
    /// Why every record was coded again.
    pub recoded_because: Option<String>,
    /// Records the state held before the run.
    pub held: u64,
    /// Records read that the state held as they are (not coded again).
    pub unchanged: u64,
    /// Records read whose content changed since the state took them (coded, in their place).
    pub changed: u64,
    /// Records read that the state did not hold (coded, after the state's).
    pub new: u64,
    /// Records of files read again that are no longer in them.
    pub disappeared: u64,
    /// Of those, dropped (`--prune`).
    pub pruned: u64,
    /// Records of files read again that are no longer in them but, under the same id, in another
    /// of the run's files: moved, so the state's copy is dropped (it was kept beside the new one,
    /// one comment counted twice under one id).
    pub moved: u64,
    /// Records of files this run did not read, kept from the state.
    pub carried: u64,
    /// Quarantined rows and field issues of those files, kept from the state.
    pub carried_quarantine: u64,
    /// Field issues of those files, kept from the state.
    pub carried_field_issues: u64,
    /// Quarantined rows and field issues of those files that this run read again in another
    /// file (the same source, row and fields: an export moved to another folder or renamed),
    /// not carried twice.
    pub read_again_elsewhere: u64,
    /// Records the state holds after the run.
    pub records: u64,
    /// Runs that kept the state, this one included: an output whose `nights` is past its state's
    /// was published by a run that did not keep the state (stopped between the two, or the state
    /// restored from an older copy), and the next run is refused.
    pub nights: u64,
}

/// The version of the published tables' schema: raised when a column is renamed, removed or
/// changes meaning (README, "Schema versions"); written in the manifest and the data dictionary.
pub const SCHEMA_VERSION: u32 = 1;

/// Tallies by reason of the rows quarantined and the field issues, kept as batches pass.
#[derive(Debug, Default)]
pub(crate) struct Tallies {
    pub(crate) quarantine_by_reason: BTreeMap<String, u64>,
    pub(crate) field_issues_by_reason: BTreeMap<String, u64>,
    pub(crate) field_issues: u64,
    pub(crate) record_themes: u64,
    pub(crate) records_with_no_theme: u64,
}

impl Tallies {
    /// Adds a batch's quarantined rows and field issues.
    pub(crate) fn add(&mut self, quarantine: &[ingest::Quarantined], issues: &[ingest::FieldIssue]) {
        for q in quarantine {
            *self.quarantine_by_reason.entry(q.reason.as_str().to_owned()).or_insert(0) += 1;
        }
        for f in issues {
            *self.field_issues_by_reason.entry(f.reason.as_str().to_owned()).or_insert(0) += 1;
        }
        self.field_issues += issues.len() as u64;
    }
}

pub(crate) fn counts(sources: &[SourceReport], tallies: Tallies) -> Counts {
    let sum = |f: fn(&SourceReport) -> u64| sources.iter().map(f).sum::<u64>();
    let c = Counts {
        rows_read: sum(|s| s.rows_read),
        rows_kept: sum(|s| s.rows_kept),
        rows_quarantined: sum(|s| s.rows_quarantined),
        rows_dropped: sum(|s| s.rows_dropped),
        text_cells: sum(|s| s.text_cells),
        records: sum(|s| s.records),
        blank_text_cells: sum(|s| s.blank_text_cells),
        quarantined_text_cells: sum(|s| s.quarantined_text_cells),
        record_themes: tallies.record_themes,
        records_with_no_theme: tallies.records_with_no_theme,
        rows_reconcile: false,
        text_cells_reconcile: false,
        quarantine_by_reason: tallies.quarantine_by_reason,
        field_issues: tallies.field_issues,
        field_issues_by_reason: tallies.field_issues_by_reason,
    };
    Counts {
        rows_reconcile: c.rows_read == c.rows_kept + c.rows_quarantined + c.rows_dropped,
        text_cells_reconcile: c.text_cells == c.records + c.blank_text_cells + c.quarantined_text_cells,
        ..c
    }
}

/// The settings as the run used them, every string in them (and every key) redacted: a value
/// typed on the command line (`--question "Dr X 3906950611=could_improve"`, `--date-format`) was
/// written as typed, where stderr said it redacted (found by a reader in the twenty-sixth session
/// on issue 9). Paths and names redacted before are left as they are.
fn scrubbed_settings<S: serde::Serializer>(settings: &&Settings, s: S) -> Result<S::Ok, S::Error> {
    fn scrub(v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(t) => *t = crate::text::redact::scrubbed(t),
            Value::Array(a) => a.iter_mut().for_each(scrub),
            Value::Object(m) => {
                for (k, mut v) in std::mem::take(m) {
                    scrub(&mut v);
                    m.insert(crate::text::redact::scrubbed(&k), v);
                }
            }
            _ => {}
        }
    }
    let mut v = serde_json::to_value(settings).map_err(serde::ser::Error::custom)?;
    scrub(&mut v);
    serde::Serialize::serialize(&v, s)
}
