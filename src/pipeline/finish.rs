//! The end of a run, once every batch is written.

use crate::analyse::comparisons::ChangeInput;
use crate::analyse::setup::{analyse_who, Seen};
use crate::code::Engine;
use crate::config::Settings;
use crate::ingest::{self};
use crate::messages::Messages;
use crate::output::manifest::{
    counts, BaselineEntry, CodebookEntry, DisclosureReport, IdsOnDisk, Manifest, ModelEntry, PeopleReport, StateReport,
    VERSIONS,
};
use crate::output::write::{write_tables, write_text, RunTables, StreamWriter};
use crate::output::OutputError;
use crate::people::{baseline::Baseline, publishable, unmapped_shares, unmapped_values, Groups};

use super::stream::{Tally, Timings};
use super::{FlaggedGroup, Outcome, RunError};

/// What the stream leaves for the end of a run.
pub(super) struct Streamed<'a> {
    pub(super) settings: &'a Settings,
    pub(super) messages: &'a Messages,
    pub(super) engine: &'a Engine,
    pub(super) baseline: Option<Baseline>,
    pub(super) harmoniser: &'a crate::people::harmonise::Harmoniser,
    pub(super) bands: &'a crate::people::AgeBands,
    pub(super) raking: Vec<usize>,
    pub(super) tally: Tally<'a>,
    pub(super) stream: ingest::stream::Mapping,
    pub(super) writer: StreamWriter,
    pub(super) state_report: Option<StateReport>,
    pub(super) staging: crate::output::commit::Staging,
    pub(super) state_staging: Option<crate::output::commit::Staging>,
    pub(super) versions: crate::state::CodingVersions,
    pub(super) extra_columns: Vec<String>,
    pub(super) source_files: super::SourceFiles,
    pub(super) timings: Timings,
    pub(super) t0: std::time::Instant,
    pub(super) threads: usize,
}

/// The end of a run: the counts analysed while the month files close, the aggregate tables, the
/// manifest and the report written, the outputs committed, then the state.
pub(super) fn finish(s: Streamed<'_>) -> Result<Outcome, RunError> {
    let Streamed {
        settings,
        messages,
        engine,
        baseline,
        harmoniser,
        bands,
        raking,
        tally,
        mut stream,
        writer,
        state_report,
        staging,
        state_staging,
        versions,
        extra_columns,
        source_files,
        mut timings,
        t0,
        threads,
    } = s;
    let book = &engine.book;
    let dir = staging.path().to_path_buf();
    for (i, w) in crate::ingest::unmatched_question_values(&stream.sources) {
        stream.sources[i].warnings.push(w);
    }
    for s in &mut stream.sources {
        s.date_warning();
        s.date_order_warning();
        s.duplicate_warning();
        for w in &s.warnings {
            messages.warn(w);
        }
        s.field_issues += tally.unmapped.get(&s.name).copied().unwrap_or(0);
    }
    let ids_on_disk =
        IdsOnDisk { record_ids: stream.ids_on_disk() as u64, responses: tally.respondents.on_disk() as u64 };
    let Tally {
        grouper,
        counter,
        changes,
        spc,
        pairs,
        quotes,
        terms,
        months,
        coding,
        tallies,
        records: n_records,
        files_seen,
        ..
    } = tally;

    let (names, group_places, values) = grouper.finish();
    let (month_labels, month_places) = months.sorted();
    let n_groups: Vec<usize> = names.iter().map(Vec::len).collect();
    let counted = counter.finish(&month_places, month_labels.len(), &group_places, &n_groups);
    let change_counts = changes.finish(&group_places, &n_groups);
    // a change without records on both sides is not compared: said, and the rest published
    let not_compared = crate::analyse::comparisons::check(
        &settings.changes,
        &change_counts,
        changes.dates,
        settings.analysis.suppress_max,
    );
    let compared: Vec<bool> = not_compared.iter().map(Option::is_none).collect();
    let spc_counts = spc.finish();
    let pair_counts = pairs.finish(&group_places, &n_groups);
    let crowded = (pair_counts.crowded > 0).then(|| {
        format!(
            "cooccurrence withheld (no rows): {} record{} carried more than {} themes ([analysis] max_record_themes), \
             whose pairs grow with the square of their themes; a term that many themes share codes them all \
             (`unheard codebook check` lists shared terms)",
            pair_counts.crowded,
            if pair_counts.crowded == 1 { "" } else { "s" },
            settings.analysis.max_record_themes
        )
    });
    let quotes = quotes.finish(&group_places);
    let safe_values = publishable(&values, &settings.dimensions, engine.redactor);
    let unmapped = unmapped_values(&settings.dimensions, &safe_values);
    let (unmapped_share, mut people_warnings) = unmapped_shares(&settings.dimensions, &safe_values, n_records);
    people_warnings.extend(crowded_dimensions(&settings.dimensions, &names, month_labels.len(), book.themes.len()));
    people_warnings.extend(codebook_warnings(book));
    people_warnings.extend(target_warnings(settings, book));
    people_warnings.extend(crowded);
    people_warnings.extend(not_compared.iter().flatten().map(|e| {
        format!("{e}: not compared (no comparisons rows for it); it is compared once records lie on both sides")
    }));
    let seen = Seen {
        dimensions: &settings.dimensions,
        names: &names,
        months: &month_labels,
        counted: &counted,
        cell_dimensions: &raking,
        changes: ChangeInput {
            changes: &settings.changes,
            counts: &change_counts,
            dates: changes.dates,
            compared: &compared,
        },
        spc: &spc_counts,
        pairs: &pair_counts,
    };
    // the month files close (their last row groups encoded) while the counts are analysed
    let ((streamed, closing), (who, analysing)) = rayon::join(
        || {
            let mut t = Timings::default();
            (t.time("output", || writer.finish()), t)
        },
        || {
            let mut t = Timings::default();
            (t.time("analyse", || analyse_who(settings, &seen, baseline.as_ref(), harmoniser, book)), t)
        },
    );
    timings.merge(closing);
    timings.merge(analysing);
    let (who, streamed) = (who?, streamed?);
    people_warnings.extend(who.baseline_warnings.iter().cloned());
    if who.pairs_coded > settings.analysis.max_pairs {
        people_warnings.push(format!(
            "{} pairs of themes were coded together on a record: cooccurrence publishes the {} most frequent \
             ([analysis] max_pairs; a codebook of many themes, or of themes matching the same words)",
            who.pairs_coded, settings.analysis.max_pairs
        ));
    }
    // written to the manifest and the report as to stderr: their personal data redacted (a
    // baseline's file name)
    let people_warnings: Vec<String> = people_warnings.iter().map(|w| crate::text::redact::scrubbed(w)).collect();
    for w in &people_warnings {
        messages.warn(w);
    }
    // the sources' warnings are written to the manifest's inputs as they are to stderr: redacted
    // (a question value typed with `--question` was written as typed there: found by a reader in
    // the twenty-sixth session on issue 9)
    for w in stream.sources.iter_mut().flat_map(|s| s.warnings.iter_mut()) {
        *w = crate::text::redact::scrubbed(w);
    }
    // every warning of the run, in the report too: an insight lead reads the report, not stderr
    let warnings: Vec<String> =
        stream.sources.iter().flat_map(|s| s.warnings.iter()).chain(&people_warnings).cloned().collect();

    let groups = Groups { dimensions: settings.dimensions.clone(), names };
    let quotes = crate::analyse::quotes::quote_rows(&quotes, &who.theme_by_group, &groups.names, book.themes.len());
    let rule = crate::analyse::setup::disclosure_rule(settings);
    let terms = crate::analyse::emerging::term_rows(&terms, settings.emerging_months, &rule);
    let entries = timings.time("output", || -> Result<_, RunError> {
        Ok(write_tables(
            &dir,
            &RunTables {
                groups: &groups,
                extra_columns: &stream.extra_columns,
                keep_original_text: settings.keep_original_text,
                book,
                who: &who,
                changes: &settings.changes,
                spc_period: settings.analysis.spc_period,
                quotes: &quotes,
                terms: &terms,
            },
            streamed,
        )?)
    })?;

    let record_themes = tallies.record_themes;
    let counts = counts(&stream.sources, tallies);
    let mut timings = timings.into_millis();
    timings.insert("total", u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX));
    let manifest = Manifest {
        unheard_version: env!("CARGO_PKG_VERSION"),
        schema_version: crate::output::manifest::SCHEMA_VERSION,
        versions: VERSIONS.into_iter().collect(),
        run: &settings.name,
        threads,
        settings,
        model: settings.coder.model.as_ref().map(|p| ModelEntry {
            path: crate::ingest::shown(p),
            sha256: crate::code::model::file_sha256(p).unwrap_or_default(),
        }),
        codebook: CodebookEntry::of(book),
        baseline: baseline.as_ref().zip(settings.baseline.as_ref()).map(|(b, s)| BaselineEntry::of(b, s)),
        inputs: &stream.sources,
        carried_columns: &stream.extra_columns,
        counts,
        coding,
        unmapped_values: unmapped,
        people: PeopleReport {
            age_bands: bands,
            group_limit: settings.people.group_limit(book.themes.len(), month_labels.len()),
            unmapped_share,
            warnings: people_warnings,
        },
        baseline_unused: who.baseline_unused.clone(),
        raking: who.raking.clone(),
        disclosure: DisclosureReport::of(&settings.analysis, &who.theme_by_group, &who.representation),
        tables: entries,
        state: state_report,
        ids_on_disk,
        timings_ms: timings,
    };
    write_text(
        &dir.join("manifest.json"),
        &(serde_json::to_string_pretty(&manifest).map_err(OutputError::Json)? + "\n"),
    )?;
    // the report a person reads, from the same published rows
    let c = &manifest.counts;
    let page = crate::output::report::report(&crate::output::report::ReportInput {
        run: &settings.name,
        counts: [c.rows_read, c.rows_kept, c.rows_quarantined, c.rows_dropped, c.records, c.field_issues],
        reconcile: c.rows_reconcile,
        quarantine: c.quarantine_by_reason.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        field_issues: c.field_issues_by_reason.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        sources: stream.sources.iter().map(|s| (s.name.clone(), s.path.clone(), s.rows_read)).collect(),
        who: &who,
        groups: &groups,
        book,
        changes: &settings.changes,
        quotes: &quotes,
        terms: &terms,
        warnings: &warnings,
        not_compared: &not_compared.iter().map(|e| e.as_ref().map(|e| e.reason.clone())).collect::<Vec<_>>(),
        rule: &rule,
    });
    write_text(&dir.join("report.html"), &page)?;
    // the state first, then the output: a run stopped or failing between the two leaves the
    // state ahead of the output, which the next night writes again from it. The other way round
    // (as it was until the twenty-sixth session on issue 9, found by a reader filling the state's
    // disk and stopping a run there) left the output ahead of its state: the night's records were
    // published and not kept, and the next night's export dropped them, exit 0.
    let mut state_kept = false;
    let nights = manifest.state.as_ref().map_or(1, |r| r.nights);
    if let Some(state) = state_staging {
        let seen = files_seen.iter().enumerate().filter(|f| *f.1).map(|(i, _)| i);
        let kept = crate::state::StateManifest {
            unheard_version: env!("CARGO_PKG_VERSION").to_owned(),
            unheard_state: crate::state::STATE_FORMAT,
            coding: versions,
            dimensions: settings.dimensions.clone(),
            extra_columns: extra_columns.clone(),
            age_bands: bands.bands.iter().map(|b| b.label.clone()).collect(),
            records: n_records as u64,
            months: month_labels.clone(),
            files: seen.clone().filter_map(|i| source_files.names.get(i).cloned()).collect(),
            canonical_files: seen.clone().filter_map(|i| source_files.canonical.get(i).cloned()).collect(),
            file_sources: seen.clone().filter_map(|i| source_files.sources.get(i).cloned()).collect(),
            file_ids_per_file: seen.filter_map(|i| source_files.ids_per_file.get(i).copied()).collect(),
            nights,
            published: std::collections::BTreeMap::new(),
        };
        let files: Vec<String> = manifest
            .tables
            .iter()
            .filter(|t| ["records", "record_themes", "quarantine", "field_issues"].contains(&t.name.as_str()))
            .flat_map(|t| t.files.iter().cloned())
            .collect();
        crate::state::keep_state(staging.path(), state.path(), &files, &kept)?;
        if let Some(w) = state.commit()?.warning {
            messages.warn(&w);
        }
        state_kept = true;
    }
    let committed =
        staging.commit().map_err(|e| if state_kept { OutputError::AfterState { source: Box::new(e) } } else { e })?;
    if let Some(w) = &committed.warning {
        messages.warn(w);
    }
    let out = committed.path;
    let c = &manifest.counts;
    use crate::analyse::stats::Flag;
    let flagged = who
        .representation
        .iter()
        .filter(|r| r.period == "all")
        .filter_map(|r| {
            let flag = [Flag::UnderRepresented, Flag::BelowParity].into_iter().find(|f| r.flag == f.as_str())?;
            Some(FlaggedGroup { dimension: r.dimension.clone(), group: r.group.clone(), flag: flag.as_str() })
        })
        .collect();
    Ok(Outcome {
        manifest: out.join("manifest.json"),
        out,
        files: committed.files,
        sources: settings.sources.len(),
        rows_read: c.rows_read,
        rows_kept: c.rows_kept,
        rows_dropped: c.rows_dropped,
        records: n_records,
        records_read: c.records,
        quarantined: c.rows_quarantined,
        field_issues: c.field_issues,
        record_themes: usize::try_from(record_themes).unwrap_or(usize::MAX),
        rows_reconcile: c.rows_reconcile,
        flagged,
        significant_changes: who.comparisons.iter().filter(|r| r.significant() == Some(true)).count() as u64,
        special_causes: who.spc.iter().filter(|r| r.point.special_cause()).count() as u64,
        timings_ms: manifest.timings_ms,
        state: manifest.state,
        seconds: t0.elapsed().as_secs_f64(),
        state_of_another_output: false,
    })
}

/// Groups a dimension may have before its run is warned: past it the dimension is most likely a
/// column of many values (a GP practice, a ward, free text) made a dimension, whose groups are
/// too small to publish and whose `theme_by_group` rows (a group × theme × period each) take the
/// run's memory with them (found: 3,000 community groups over 20,000 records gave 2.4 million
/// rows, nearly all suppressed, and a 1.9 GB run).
const MANY_GROUPS: usize = 1_000;

/// What a run (and `validate`) says of its codebook: themes that match exactly the words of an
/// earlier one, and themes that can never be coded (`codebook check`'s errors: a theme whose
/// every term its own excludes veto coded nothing, and neither `validate` nor the run said so;
/// found by a reader in the twenty-sixth session on issue 9).
pub(crate) fn codebook_warnings(book: &crate::code::Codebook) -> Vec<String> {
    // the built-in codebook (or a copy of it, as the demo reads) has none (a test checks it), and
    // its check cost a run 13 million instructions (1 % of the demo's)
    let builtin = book.sha256
        == format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(crate::config::DEFAULT_CODEBOOK.as_bytes()));
    let errors: Vec<String> = (if builtin { Vec::new() } else { book.check() })
        .into_iter()
        .filter(|f| f.severity == crate::code::Severity::Error)
        .map(|f| format!("codebook \"{}\": theme {}: {}", book.name, f.theme.unwrap_or_default(), f.message))
        .collect();
    copied_themes(book).into_iter().chain(errors).collect()
}

/// A warning for each `[analysis] spc_targets` theme the codebook does not have: no chart is
/// drawn against it (passed over unsaid: found by a reader in the twenty-sixth session on issue 9).
pub(crate) fn target_warnings(settings: &Settings, book: &crate::code::Codebook) -> Vec<String> {
    settings
        .analysis
        .spc_targets
        .keys()
        .filter(|(code, _)| !book.themes.iter().any(|t| t.code == *code))
        .map(|(code, measure)| {
            format!(
                "[analysis] spc_targets \"{code}:{measure}\": the codebook \"{}\" has no theme {code}, so no chart has this target",
                book.name
            )
        })
        .collect()
}

/// A warning when themes of the codebook match exactly the words an earlier one matches.
fn copied_themes(book: &crate::code::Codebook) -> Option<String> {
    let copied = book.copied_themes();
    let shown: Vec<String> = copied
        .iter()
        .take(5)
        .map(|&(t, earlier)| format!("{} = {}", book.themes[t].code, book.themes[earlier].code))
        .collect();
    (!copied.is_empty()).then(|| {
        format!(
            "codebook \"{}\": {} theme{} match{} exactly the words of an earlier one ({}{}): every comment coded with one \
             is coded with the other; `unheard codebook check` lists them",
            book.name,
            copied.len(),
            if copied.len() == 1 { "" } else { "s" },
            if copied.len() == 1 { "es" } else { "" },
            shown.join(", "),
            if copied.len() > shown.len() { ", …" } else { "" }
        )
    })
}

fn crowded_dimensions(dimensions: &[String], names: &[Vec<String>], months: usize, themes: usize) -> Vec<String> {
    dimensions
        .iter()
        .zip(names)
        .filter(|(_, n)| n.len() > MANY_GROUPS)
        .map(|(d, n)| {
            format!(
                "dimension {d} has {} groups: theme_by_group holds a row for each group, theme and period (about {} rows \
                 for it), most of them suppressed as too small, and the run's memory grows with them; a column of \
                 this many values (a practice, a ward) may belong in org_level_1..3, or be grouped with \
                 [people.map.{d}]",
                n.len(),
                n.len() * themes * (months + 1)
            )
        })
        .collect()
}
