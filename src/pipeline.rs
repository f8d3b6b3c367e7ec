//! One run, end to end: ingest → code → people → analyse → output, committed atomically.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use indicatif::ParallelProgressIterator;
use rayon::prelude::*;
use serde::Serialize;

use crate::analyse::{self, AnalyseError};
use crate::code::{Codebook, CodebookError, Coded, Coder, Engine};
use crate::config::{CodebookSource, Settings, DEFAULT_CODEBOOK};
use crate::ingest::{self, IngestError};
use crate::messages::Messages;
use crate::output::manifest::{
    coding_counts, counts, BaselineEntry, CodebookEntry, Coding, DisclosureReport, Manifest, ModelEntry, PeopleReport,
    TableEntry, VERSIONS,
};
use crate::output::tables::{self, Groups};
use crate::output::{write_table, OutputError, OutputLock, Table};
use crate::people::harmonise::Harmoniser;
use crate::people::{
    self,
    baseline::{Baseline, BaselineError},
};
use crate::record::Record;

/// Why a run failed (nothing was committed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Codebook.
    #[error(transparent)]
    Codebook(#[from] CodebookError),
    /// Input.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Baseline.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// Analysis.
    #[error(transparent)]
    Analyse(#[from] AnalyseError),
    /// Output.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Learned coder.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// Thread pool.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Cause.
        message: String,
    },
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The committed output folder.
    pub out: PathBuf,
    /// Sources read.
    pub sources: usize,
    /// Rows read.
    pub rows_read: u64,
    /// Records kept.
    pub records: usize,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Fields that could not be used in kept records (`field_issues.parquet`).
    pub field_issues: u64,
    /// Record × theme pairs.
    pub record_themes: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Loads the codebook a run uses.
///
/// # Errors
/// Unreadable or invalid codebook.
pub fn load_codebook(source: &CodebookSource) -> Result<Codebook, CodebookError> {
    match source {
        CodebookSource::Builtin => Codebook::from_toml(DEFAULT_CODEBOOK, "<builtin nhs-patient-experience.toml>"),
        CodebookSource::Path(p) => Codebook::from_file(p),
    }
}

/// Every file a run reads (an output folder may not hold any of them).
#[must_use]
pub fn input_paths(settings: &Settings) -> Vec<&std::path::Path> {
    let mut paths: Vec<&std::path::Path> = settings.sources.iter().map(|s| s.path.as_path()).collect();
    paths.extend(settings.baselines.iter().map(|b| b.path.as_path()));
    paths.extend(settings.baseline.iter().map(|b| b.path.as_path()));
    if let CodebookSource::Path(p) = &settings.codebook {
        paths.push(p);
    }
    let c = &settings.coder;
    paths.extend(
        [&settings.pipeline, &c.model, &c.label_map, &settings.people.imd_lookup]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path),
    );
    paths
}

/// Loads the run's learned coder, if `[coder]` names one and its policy uses it.
///
/// # Errors
/// An unusable model or label map (each error names its file).
pub fn load_model(
    settings: &Settings,
    book: &Codebook,
) -> Result<Option<crate::model::ThemeModel>, crate::model::ModelError> {
    let c = &settings.coder;
    match (&c.model, &c.label_map) {
        (Some(m), Some(map)) if c.policy != crate::config::Policy::CodebookOnly => {
            crate::model::ThemeModel::load(m, map, book, c.policy).map(Some)
        }
        _ => Ok(None),
    }
}

/// Redacts, codes and reads the sentiment of every record in parallel; the output order is
/// the records' order, whatever the thread count.
#[must_use]
pub fn code_records(engine: &Engine, records: &[Record], messages: &Messages) -> Vec<Coded> {
    let bar = messages.bar("code", records.len() as u64);
    let out = records
        .par_iter()
        .with_min_len(256)
        .progress_with(bar.clone())
        .map_init(Coder::default, |coder, r| engine.process(&r.text, r.question, r.rating, coder))
        .collect();
    bar.finish_and_clear();
    out
}

/// Per dimension: each distinct raw value (`None`: empty) with its group and its records,
/// sorted by raw value.
pub type ValueCounts = Vec<DimValues>;

/// One dimension's distinct raw values with their group and records.
pub type DimValues = Vec<(Option<String>, String, u64)>;

/// Harmonises every record's demographics into groups; also returns, per dimension, each raw
/// value with its group and count.
#[must_use]
pub fn group_records(harmoniser: &Harmoniser, dimensions: &[String], records: &[Record]) -> (Groups, ValueCounts) {
    let per_dim: Vec<(Vec<String>, Vec<u32>, DimValues)> = (0..dimensions.len())
        .into_par_iter()
        .map(|d| {
            // intern raw values first: far fewer distinct values than records (the date only
            // matters for ages given as dates of birth)
            let dated = people::harmonise::is_age_dimension(&dimensions[d]);
            let mut first: HashMap<(Option<&str>, Option<chrono::NaiveDate>), u32> = HashMap::new();
            let raw_ids: Vec<u32> = records
                .iter()
                .map(|r| {
                    let raw = r.demographics.get(d).and_then(Option::as_deref);
                    let n = first.len() as u32;
                    *first.entry((raw, if dated { r.received_date } else { None })).or_insert(n)
                })
                .collect();
            let mut counts = vec![0u64; first.len()];
            for &i in &raw_ids {
                counts[i as usize] += 1;
            }
            let mut raw_values: Vec<(u32, Option<&str>, String)> =
                first.into_iter().map(|((raw, date), id)| (id, raw, harmoniser.group(d, raw, date))).collect();
            raw_values.sort_unstable();
            let mut values: BTreeMap<(Option<&str>, &str), u64> = BTreeMap::new();
            for (id, raw, g) in &raw_values {
                *values.entry((*raw, g.as_str())).or_insert(0) += counts[*id as usize];
            }
            let values = values.into_iter().map(|((raw, g), n)| (raw.map(str::to_owned), g.to_owned(), n)).collect();
            let mut dict: Vec<String> = raw_values.iter().map(|(_, _, g)| g.clone()).collect();
            dict.sort_unstable();
            dict.dedup();
            let remap: Vec<u32> =
                raw_values.iter().map(|(_, _, g)| dict.binary_search(g).unwrap_or(0) as u32).collect();
            (dict, raw_ids.into_iter().map(|i| remap[i as usize]).collect(), values)
        })
        .collect();
    let mut names = Vec::new();
    let mut ids = Vec::new();
    let mut values = Vec::new();
    for (n, i, v) in per_dim {
        names.push(n);
        ids.push(i);
        values.push(v);
    }
    (Groups { dimensions: dimensions.to_vec(), names, ids }, values)
}

/// Per dimension (only those with any): the raw values no mapping knows, with their counts.
#[must_use]
pub fn unmapped_values(dimensions: &[String], values: &ValueCounts) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for (d, vals) in values.iter().enumerate() {
        let mut u: BTreeMap<String, u64> = BTreeMap::new();
        for (raw, _, n) in vals.iter().filter(|v| v.1 == people::UNMAPPED) {
            *u.entry(raw.clone().unwrap_or_default()).or_insert(0) += n;
        }
        if !u.is_empty() {
            out.insert(dimensions[d].clone(), u);
        }
    }
    out
}

/// `values` with each raw value as it may be published (manifest, messages): personal data
/// redacted, and a date in the age dimension (a date of birth) as `[DOB]`.
#[must_use]
pub fn publishable(
    values: &ValueCounts,
    dimensions: &[String],
    redactor: &crate::text::redact::Redactor,
) -> ValueCounts {
    values
        .iter()
        .zip(dimensions)
        .map(|(vals, dim)| {
            let age = people::harmonise::is_age_dimension(dim);
            vals.iter()
                .map(|(raw, g, n)| {
                    let safe = raw.as_deref().map(|r| {
                        if age && people::harmonise::is_date(r) {
                            "[DOB]".to_owned()
                        } else {
                            redactor.redact(r).0.into_owned()
                        }
                    });
                    (safe, g.clone(), *n)
                })
                .collect()
        })
        .collect()
}

/// A dimension is worth a warning above this share of `unmapped` records.
pub const UNMAPPED_WARN_SHARE: f64 = 0.05;

/// Per dimension, the share of records `unmapped`; and a warning for each dimension above
/// [`UNMAPPED_WARN_SHARE`], naming its commonest unmapped values (shortened).
#[must_use]
pub fn unmapped_shares(
    dimensions: &[String],
    values: &ValueCounts,
    records: usize,
) -> (BTreeMap<String, f64>, Vec<String>) {
    let mut shares = BTreeMap::new();
    let mut warnings = Vec::new();
    for (d, vals) in values.iter().enumerate() {
        let mut by_value: BTreeMap<&str, u64> = BTreeMap::new();
        for (raw, _, n) in vals.iter().filter(|v| v.1 == people::UNMAPPED) {
            *by_value.entry(raw.as_deref().unwrap_or("")).or_insert(0) += n;
        }
        let mut unmapped: Vec<(&str, u64)> = by_value.into_iter().collect();
        let total: u64 = unmapped.iter().map(|u| u.1).sum();
        let share = if records == 0 { 0.0 } else { total as f64 / records as f64 };
        shares.insert(dimensions[d].clone(), share);
        if share > UNMAPPED_WARN_SHARE {
            unmapped.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let top: Vec<String> =
                unmapped.iter().take(5).map(|(v, n)| format!("{:?} ({n})", crate::messages::short(v, 24))).collect();
            warnings.push(format!(
                "{:.1}% of records have a {} value no mapping knows (unmapped), e.g. {}; `unheard people` \
                 lists them and writes a [people.map.{}] snippet",
                share * 100.0,
                dimensions[d],
                top.join(", "),
                dimensions[d]
            ));
        }
    }
    (shares, warnings)
}

/// The age bands in force, and where they come from.
#[derive(Debug, Clone, Serialize)]
pub struct AgeBands {
    /// `configured` (`[people] age_bands`), `baseline`, `source` (the values as written) or
    /// `default`.
    pub from: &'static str,
    /// The bands.
    #[serde(serialize_with = "band_labels")]
    pub bands: Vec<people::harmonise::AgeBand>,
}

fn band_labels<S: serde::Serializer>(bands: &[people::harmonise::AgeBand], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(bands.iter().map(|b| b.label.as_str()))
}

/// The age bands in force: the configured ones; else the baseline's own (when it has age
/// bands); else the bands the records are written in; else the default bands.
#[must_use]
pub fn age_bands(settings: &Settings, baseline: Option<&Baseline>, records: &[Record]) -> AgeBands {
    use people::harmonise::{bands_in, is_age_dimension, AgeBand, DEFAULT_AGE_BANDS};
    if let Some(b) = &settings.people.age_bands {
        return AgeBands { from: "configured", bands: b.clone() };
    }
    let from_baseline = bands_in(
        baseline
            .iter()
            .flat_map(|b| b.rows.iter())
            .filter(|r| is_age_dimension(&r.dimension))
            .map(|r| r.group.as_str()),
    );
    if !from_baseline.is_empty() {
        return AgeBands { from: "baseline", bands: from_baseline };
    }
    if let Some(d) = settings.dimensions.iter().position(|d| is_age_dimension(d)) {
        let mut raw: Vec<&str> =
            records.iter().filter_map(|r| r.demographics.get(d).and_then(Option::as_deref)).collect();
        raw.sort_unstable();
        raw.dedup();
        let from_source = bands_in(raw);
        if !from_source.is_empty() {
            return AgeBands { from: "source", bands: from_source };
        }
    }
    AgeBands { from: "default", bands: DEFAULT_AGE_BANDS.iter().filter_map(|b| AgeBand::parse(b)).collect() }
}

/// The run's harmoniser, with the age bands in force and its IMD lookup table loaded.
///
/// # Errors
/// An unreadable or malformed lookup table.
pub fn harmoniser(settings: &Settings, bands: &AgeBands) -> Result<Harmoniser, BaselineError> {
    let mut lookup = HashMap::new();
    if let Some(path) = &settings.people.imd_lookup {
        let err = |row: u64, message: String| BaselineError::Row { path: path.clone(), row, message };
        let bytes = crate::files::read(path).map_err(|e| err(1, e.to_string()))?;
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let headers = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
                .ok_or_else(|| err(1, format!("column {n:?} is missing; the lookup needs key,imd_decile")))
        };
        let (k, v) = (col("key")?, col("imd_decile")?);
        for (i, rec) in reader.records().enumerate() {
            let row = i as u64 + 2;
            let rec = rec.map_err(|e| err(row, e.to_string()))?;
            let decile: u8 = rec
                .get(v)
                .unwrap_or("")
                .trim()
                .parse()
                .ok()
                .filter(|d| (1..=10).contains(d))
                .ok_or_else(|| err(row, "column \"imd_decile\": not a decile from 1 to 10".to_owned()))?;
            lookup.insert(rec.get(k).unwrap_or("").trim().to_owned(), decile);
        }
    }
    Ok(Harmoniser::new(&settings.dimensions, &settings.people.map, bands.bands.clone(), lookup))
}

/// The field issues of a run: ingest's, then an `unmapped_value` per row × demographic column
/// whose group is `unmapped`; in source, row and column order.
fn field_issues(settings: &Settings, ingested: &ingest::Ingested, groups: &Groups) -> Vec<ingest::FieldIssue> {
    let mut out = ingested.field_issues.clone();
    for (d, dim) in groups.dimensions.iter().enumerate() {
        let Some(unmapped) = groups.names[d].iter().position(|g| g == people::UNMAPPED) else { continue };
        let mut last = None;
        for (i, r) in ingested.records.iter().enumerate() {
            // the records of one row are consecutive: one issue per row
            if groups.ids[d].get(i).is_none_or(|&g| g as usize != unmapped) || last == Some(r.origin) {
                continue;
            }
            last = Some(r.origin);
            let src = r.origin.source as usize;
            let file = settings.sources.get(src).map(|s| s.path.display().to_string()).unwrap_or_default();
            let column = ingested
                .dimension_columns
                .get(src)
                .and_then(|c| c.get(d).cloned().flatten())
                .unwrap_or_else(|| dim.clone());
            let value = r.demographics.get(d).cloned().flatten().unwrap_or_default();
            out.push(ingest::FieldIssue {
                message: format!(
                    "{file}: row {}: column {column:?}: {value:?} is not a known {dim} value (group `unmapped`); \
                     map it under [people.map.{dim}]",
                    r.origin.row
                ),
                source: r.source.clone(),
                file,
                row: r.origin.row,
                column,
                field: dim.clone(),
                reason: ingest::Reason::UnmappedValue,
                action: "unmapped",
                value,
                response_id: Some(r.response_id.clone()),
            });
        }
    }
    let order: HashMap<&str, usize> = settings.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    out.sort_by_key(|f| (order.get(f.source.as_str()).copied().unwrap_or(usize::MAX), f.row));
    out
}

/// Runs the pipeline and commits its outputs to `settings.out`.
///
/// # Errors
/// Any fatal error; the previous outputs are then left as they were.
pub fn run(settings: &Settings, messages: &Messages) -> Result<Outcome, RunError> {
    // before anything is read: the output may be replaced, and no other run writes to it
    let lock = OutputLock::acquire(&settings.out, &input_paths(settings))?;
    for w in &lock.warnings {
        messages.warn(w);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .map_err(|e| RunError::Threads { threads: settings.threads, message: e.to_string() })?;
    pool.install(|| run_in_pool(settings, messages, &lock, pool.current_num_threads()))
}

fn run_in_pool(
    settings: &Settings,
    messages: &Messages,
    lock: &OutputLock,
    threads: usize,
) -> Result<Outcome, RunError> {
    let t0 = Instant::now();
    let mut timings = BTreeMap::new();
    let mut lap = {
        let mut last = Instant::now();
        move |name: &'static str, timings: &mut BTreeMap<&'static str, u64>| {
            let now = Instant::now();
            timings.insert(name, u64::try_from((now - last).as_millis()).unwrap_or(u64::MAX));
            last = now;
        }
    };
    let book = load_codebook(&settings.codebook)?;
    let baseline = settings.baseline.as_ref().map(|b| Baseline::from_file(&b.name, &b.path)).transpose()?;
    lap("config", &mut timings);

    let spinner = messages.spinner("ingest");
    let mut ingested = ingest::ingest(settings)?;
    spinner.finish_and_clear();
    lap("ingest", &mut timings);

    let engine = Engine::new(book);
    let model = load_model(settings, &engine.book)?;
    let engine = engine.with_model(model);
    let coded = code_records(&engine, &ingested.records, messages);
    let mut coding = coding_counts(&coded);
    let quarantine = redact_quarantine(&engine, &ingested.quarantine, &mut coding);
    let book = &engine.book;
    lap("code", &mut timings);

    let bands = age_bands(settings, baseline.as_ref(), &ingested.records);
    let harmoniser = harmoniser(settings, &bands)?;
    let (groups, values) = group_records(&harmoniser, &settings.dimensions, &ingested.records);
    let safe_values = publishable(&values, &settings.dimensions, &engine.redactor);
    let unmapped = unmapped_values(&settings.dimensions, &safe_values);
    let (unmapped_share, mut people_warnings) =
        unmapped_shares(&settings.dimensions, &safe_values, ingested.records.len());
    let issues = redact_field_issues(&engine, field_issues(settings, &ingested, &groups));
    for source in &mut ingested.sources {
        source.field_issues = issues.iter().filter(|f| f.source == source.name).count() as u64;
    }
    lap("people", &mut timings);

    let pairs: Vec<(u32, u32, bool)> = coded
        .iter()
        .enumerate()
        .flat_map(|(r, c)| c.themes.iter().map(move |t| (r as u32, u32::from(t.hit.theme), t.is_concern)))
        .collect();
    let who =
        analyse_who(settings, &ingested.records, &groups, baseline.as_ref(), &harmoniser, &pairs, book.themes.len())?;
    lap("analyse", &mut timings);
    people_warnings.extend(who.baseline_warnings.iter().cloned());
    for w in &people_warnings {
        messages.warn(w);
    }

    let staging = lock.stage()?;
    let dir = staging.path().to_path_buf();
    let source_files: Vec<String> = settings.sources.iter().map(|s| s.path.display().to_string()).collect();
    // the two big tables are independent: build them side by side
    let (parts, record_themes) = rayon::join(
        || {
            tables::records(
                &ingested.records,
                &coded,
                &groups,
                &ingested.extra_columns,
                &source_files,
                settings.keep_original_text,
            )
        },
        || tables::record_themes(&ingested.records, &coded, book),
    );
    let singles: Vec<Table> = vec![
        record_themes,
        tables::themes(book),
        tables::representation(&who.representation),
        tables::theme_by_group(&who.theme_by_group, &groups, book),
        tables::underheard_concerns(&who.underheard, &groups, book),
        tables::theme_ranking(&who.ranking, book),
        tables::quarantine(&quarantine),
        tables::field_issues(&issues),
    ];
    let mut entries = Vec::new();
    let mut jobs: Vec<(String, &Table)> = Vec::new();
    for (month, t) in &parts {
        let rel = format!("records/month={month}/part-0.parquet");
        if let Some(p) = dir.join(&rel).parent() {
            std::fs::create_dir_all(p).map_err(|e| OutputError::Io { path: p.to_path_buf(), source: e })?;
        }
        jobs.push((rel, t));
    }
    entries.push(TableEntry {
        name: "records".to_owned(),
        grain: "one piece of free text".to_owned(),
        rows: ingested.records.len(),
        files: jobs.iter().map(|j| j.0.clone()).collect(),
    });
    for t in &singles {
        let rel = format!("{}.parquet", t.name);
        entries.push(TableEntry {
            name: t.name.clone(),
            grain: t.grain.clone(),
            rows: t.rows(),
            files: vec![rel.clone()],
        });
        jobs.push((rel, t));
    }
    // each file is independent: write (and fsync) them in parallel
    jobs.par_iter().try_for_each(|(rel, t)| write_table(t, &dir.join(rel)))?;
    let empty_records =
        tables::records(&[], &[], &groups, &ingested.extra_columns, &source_files, settings.keep_original_text);
    let records_def = parts.first().or(empty_records.first()).map(|(_, t)| t.clone());
    let mut dict_tables: Vec<&Table> = records_def.iter().collect();
    dict_tables.extend(singles.iter());
    write_text(&dir.join("DATA_DICTIONARY.md"), &tables::data_dictionary(&dict_tables))?;

    let who_unused = who.baseline_unused.clone();
    let counts =
        counts(&ingested, &issues, pairs.len() as u64, coded.iter().filter(|c| c.themes.is_empty()).count() as u64);
    lap("output", &mut timings);
    timings.insert("total", u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX));
    let manifest = Manifest {
        unheard_version: env!("CARGO_PKG_VERSION"),
        versions: VERSIONS.into_iter().collect(),
        run: &settings.name,
        threads,
        settings,
        model: settings.coder.model.as_ref().map(|p| ModelEntry {
            path: p.display().to_string(),
            sha256: crate::model::file_sha256(p).unwrap_or_default(),
        }),
        codebook: CodebookEntry::of(book),
        baseline: baseline.as_ref().zip(settings.baseline.as_ref()).map(|(b, s)| BaselineEntry::of(b, s)),
        inputs: &ingested.sources,
        carried_columns: &ingested.extra_columns,
        counts,
        coding,
        unmapped_values: unmapped,
        people: PeopleReport { age_bands: &bands, unmapped_share, warnings: people_warnings },
        baseline_unused: who_unused,
        raking: who.raking.clone(),
        disclosure: DisclosureReport::of(&settings.analysis, &who.theme_by_group, &who.representation),
        tables: entries,
        timings_ms: timings,
    };
    write_text(
        &dir.join("manifest.json"),
        &(serde_json::to_string_pretty(&manifest).map_err(OutputError::Json)? + "\n"),
    )?;
    let committed = staging.commit()?;
    if let Some(w) = &committed.warning {
        messages.warn(w);
    }
    let out = committed.path;
    let c = &manifest.counts;
    Ok(Outcome {
        out,
        sources: settings.sources.len(),
        rows_read: c.rows_read,
        records: ingested.records.len(),
        quarantined: c.rows_quarantined,
        field_issues: c.field_issues,
        record_themes: pairs.len(),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The who-is-missing analysis's rows, plus what of the baseline went unused.
struct Who {
    representation: Vec<analyse::who::RepresentationRow>,
    theme_by_group: Vec<analyse::who::ThemeGroupRow>,
    underheard: Vec<analyse::who::UnderheardRow>,
    ranking: Vec<analyse::who::RankingRow>,
    raking: analyse::who::RakingReport,
    baseline_unused: Vec<String>,
    baseline_warnings: Vec<String>,
}

/// The baseline's populations, its groups harmonised as the records' are, checked: duplicate
/// groups (unless summed) and bands that fit none of the age bands in force are errors naming
/// their lines. `unheard validate` and a run use this one check.
///
/// # Errors
/// A duplicate group, or a band outside the bands in force.
pub fn baseline_populations(
    baseline: &Baseline,
    settings: &crate::config::BaselineSettings,
    dimensions: &[String],
    harmoniser: &Harmoniser,
) -> Result<people::baseline::Populations, BaselineError> {
    let pops = baseline.populations(
        &settings.path,
        dimensions,
        |d, raw| harmoniser.group(d, Some(raw), None),
        settings.sum_duplicates,
    )?;
    // a baseline band that fits no band in force would take a share of the population no
    // record can match: every ratio of the dimension would be off
    for (d, pop) in pops.groups.iter().enumerate() {
        if let Some((g, (_, line))) = pop.iter().find(|(g, _)| harmoniser.is_off_band(d, g)) {
            let bands: Vec<&str> = harmoniser.bands().iter().map(|b| b.label.as_str()).collect();
            return Err(BaselineError::Check {
                path: settings.path.clone(),
                message: format!(
                    "line {line}: {} group {g:?} fits none of the age bands in force ({}): give the \
                     baseline in those bands, or leave [people] age_bands unset to use the baseline's own",
                    dimensions[d],
                    bands.join(", ")
                ),
            });
        }
    }
    Ok(pops)
}

fn analyse_who(
    settings: &Settings,
    records: &[Record],
    groups: &Groups,
    baseline: Option<&Baseline>,
    harmoniser: &Harmoniser,
    pairs: &[(u32, u32, bool)],
    n_themes: usize,
) -> Result<Who, RunError> {
    use analyse::who::{DimBaseline, WhoInput, WhoSettings};
    // periods: all, then each month in order ("unknown" last for undated records)
    let months: Vec<String> = {
        let mut m: Vec<String> = records.iter().map(tables::month_of).collect();
        m.sort_unstable();
        m.dedup();
        m
    };
    let month: Vec<u32> =
        records.iter().map(|r| months.binary_search(&tables::month_of(r)).unwrap_or(0) as u32).collect();
    let mut seen = std::collections::HashSet::new();
    let first: Vec<bool> = records.iter().map(|r| seen.insert((r.source.as_str(), r.response_id.as_str()))).collect();
    let n_groups: Vec<usize> = groups.names.iter().map(Vec::len).collect();
    let counts = analyse::counts::count(&analyse::counts::CountInput {
        month: &month,
        months: months.len(),
        groups: &groups.ids,
        n_groups: &n_groups,
        first_of_response: &first,
        pairs,
        n_themes,
    })?;
    // the baseline's groups go through the same harmonisation as the records'
    let mut unused = Vec::new();
    let mut baseline_warnings = Vec::new();
    let mut baselines: Vec<Option<DimBaseline>> = vec![None; groups.dimensions.len()];
    if let (Some(b), Some(bs)) = (baseline, settings.baseline.as_ref()) {
        let pops = baseline_populations(b, bs, &groups.dimensions, harmoniser)?;
        // the groups records have: stated, and inside the bands in force
        let present: Vec<Vec<(String, u64)>> = (0..groups.dimensions.len())
            .map(|d| {
                let mut n = vec![0u64; groups.names[d].len()];
                for &g in &groups.ids[d] {
                    n[g as usize] += 1;
                }
                groups.names[d]
                    .iter()
                    .zip(n)
                    .filter(|(g, n)| *n > 0 && !analyse::who::is_absent(g) && !harmoniser.is_off_band(d, g))
                    .map(|(g, n)| (g.clone(), n))
                    .collect()
            })
            .collect();
        baseline_warnings = pops.check(&bs.path, &groups.dimensions, &present)?;
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
        disclosure: analyse::stats::DisclosureRule {
            suppress_max: a.suppress_max,
            round_to: a.round_to,
            suppress_zero: false,
        },
        flags: analyse::stats::FlagThresholds { under: a.under_represented, parity: 1.0, over: a.over_represented },
        prior: analyse::stats::Prior::Scaled { alpha0: a.alpha0 },
        weight_cap: a.weight_cap,
    };
    let out = analyse::who::analyse(
        &WhoInput {
            dimensions: &groups.dimensions,
            names: &groups.names,
            ids: &groups.ids,
            counts: &counts,
            periods: &periods,
            baselines: &baselines,
            pairs,
            n_records: records.len(),
            n_themes,
            raking: &a.raking_dimensions,
        },
        &who_settings,
    );
    Ok(Who {
        representation: out.representation,
        theme_by_group: out.theme_by_group,
        underheard: out.underheard,
        ranking: out.ranking,
        raking: out.raking,
        baseline_unused: unused,
        baseline_warnings,
    })
}

/// Field issues quote values: the value and the message are redacted.
fn redact_field_issues(engine: &Engine, mut issues: Vec<ingest::FieldIssue>) -> Vec<ingest::FieldIssue> {
    for f in &mut issues {
        for s in [&mut f.value, &mut f.message] {
            if let (Cow::Owned(safe), _) = engine.redactor.redact(s) {
                *s = safe;
            }
        }
    }
    issues
}

/// Quarantined rows keep their raw fields and quote values in their message, so personal
/// data in them is redacted too.
fn redact_quarantine(engine: &Engine, rows: &[ingest::Quarantined], coding: &mut Coding) -> Vec<ingest::Quarantined> {
    rows.iter()
        .map(|q| {
            let mut q = q.clone();
            if let (Cow::Owned(safe), _) = engine.redactor.redact(&q.message) {
                q.message = safe;
            }
            for (_, value) in &mut q.raw {
                let (safe, found) = engine.redactor.redact(value);
                if !found.is_empty() {
                    for r in &found {
                        *coding.quarantine_redactions.entry(r.kind.as_str()).or_insert(0) += 1;
                    }
                    *value = safe.into_owned();
                }
            }
            q
        })
        .collect()
}

fn write_text(path: &std::path::Path, text: &str) -> Result<(), OutputError> {
    std::fs::write(path, text).map_err(|e| OutputError::Io { path: path.to_path_buf(), source: e })
}
