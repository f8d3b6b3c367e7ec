//! What a run sets up before its first batch: the codebook, baseline and model, the sources
//! opened, the age bands fixed.

use crate::code::Engine;
use crate::config::Settings;
use crate::ingest::{self};
use crate::people::{age_bands, baseline::Baseline};
use rayon::prelude::*;
use std::collections::BTreeSet;

use super::{load_codebook, load_model, stream::Timings, RunError};

/// The records the age bands in force are read from when neither the pipeline nor the baseline
/// gives them: the first batches of each source, to [`ingest::stream::BATCH_ROWS`] records; or,
/// when the baseline gives them, the bands the records are written in that may join them: the
/// first batch of each source (4,096 records: a band met later and straddling the baseline's
/// counts as unmapped; reading more cost 3 % of a month's run, before its stream starts)
/// (README, "Age bands").
/// Returns their age values as written, each once, read from the rows before they are mapped
/// (found: the sample was every record mapped twice for a folder of small exports, a third of
/// a national month's run in 400 files).
pub(super) fn band_sample(settings: &Settings, baseline: Option<&Baseline>) -> Result<BTreeSet<String>, RunError> {
    use crate::ingest::{stream::Handed, ReadItem};
    use crate::people::harmonise::{bands_in, is_age_dimension};
    let mut ages = BTreeSet::new();
    let Some(d) = settings.dimensions.iter().position(|d| is_age_dimension(d)) else { return Ok(ages) };
    if settings.people.age_bands.is_some() {
        return Ok(ages);
    }
    let from_baseline = baseline.is_some_and(|b| !bands_in(b.age_groups(&settings.dimensions)).is_empty());
    let per_source = if from_baseline { 1 } else { ingest::stream::BATCH_ROWS };
    // each source read on its own, side by side (they were read one after the other while a
    // core stood idle: a month in 400 exports, 6.5 s → 5.95 s)
    let mut alone = settings.clone();
    alone.sources.clear();
    let samples: Vec<Result<BTreeSet<String>, RunError>> = settings
        .sources
        .par_iter()
        .map(|source| {
            let one = Settings { sources: vec![source.clone()], ..alone.clone() };
            let mut ages = BTreeSet::new();
            let mut stream = ingest::Ingest::open(&one)?;
            let mut read = 0;
            while let Some(handed) = stream.reader.next()? {
                let Handed::Items(index, items) = handed else { break };
                for item in &items {
                    let ReadItem::Row(row) = item else { continue };
                    if let Some(age) = stream.dimension_text(index, row, d) {
                        if !ages.contains(age.as_ref()) {
                            ages.insert(age.into_owned());
                        }
                    }
                }
                // the first BATCH_ROWS rows of the source
                read += items.len();
                if read >= per_source {
                    break;
                }
            }
            Ok(ages)
        })
        .collect();
    for sample in samples {
        ages.extend(sample?);
    }
    Ok(ages)
}

/// What a run set up before its first batch.
pub(super) struct SetUp {
    pub(super) engine: Engine,
    pub(super) baseline: Option<Baseline>,
    pub(super) bands: crate::people::AgeBands,
    pub(super) stream: ingest::Ingest,
}

/// The age bands in force: those bands the records themselves gave an earlier run stay those
/// the state's records were harmonised with (unless the pipeline or the baseline sets them);
/// else [`age_bands`] of the rows' ages ([`band_sample`]).
fn bands_in_force(
    settings: &Settings,
    stored_bands: Option<&[String]>,
    baseline: Option<&Baseline>,
) -> Result<crate::people::AgeBands, RunError> {
    let fixed = age_bands(settings, baseline, &BTreeSet::new());
    if let (Some(stored), "source" | "default") = (stored_bands, fixed.from) {
        let bands: Vec<crate::record::AgeBand> =
            stored.iter().filter_map(|b| crate::record::AgeBand::parse(b)).collect();
        if !bands.is_empty() {
            return Ok(crate::people::AgeBands { from: "state", bands });
        }
    }
    Ok(age_bands(settings, baseline, &band_sample(settings, baseline)?))
}

/// Reads the codebook, baseline and model, opens every source and fixes the age bands.
pub(super) fn set_up(
    settings: &Settings,
    stored_bands: Option<&[String]>,
    timings: &mut Timings,
) -> Result<SetUp, RunError> {
    // three jobs side by side: the codebook compiles; the baseline is read and the age bands
    // fixed (which reads the first rows of each source); the sources open (headers read, first
    // rows buffered). The bands were fixed after the other two, on one core, while the other
    // stood idle (the demo's first 40 ms; twenty-first session on issue 9).
    let started = std::time::Instant::now();
    let (coding, stream) = rayon::join(
        || {
            let (engine, people) = rayon::join(
                || -> Result<_, RunError> {
                    let book = load_codebook(&settings.codebook)?;
                    let engine = Engine::new(book);
                    let model = load_model(settings, &engine.book)?;
                    Ok(engine.with_model(model))
                },
                || -> Result<_, RunError> {
                    let baseline = settings.baseline.as_ref().map(Baseline::of).transpose()?;
                    let t = std::time::Instant::now();
                    let bands = bands_in_force(settings, stored_bands, baseline.as_ref())?;
                    Ok((baseline, bands, t.elapsed()))
                },
            );
            Ok::<_, RunError>((engine?, people?))
        },
        || ingest::Ingest::open(settings),
    );
    let (engine, (baseline, bands, banding)) = coding?;
    let stream = stream?;
    let micros = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    *timings.0.entry("config").or_insert(0) += micros(started.elapsed().saturating_sub(banding));
    *timings.0.entry("people").or_insert(0) += micros(banding);
    Ok(SetUp { engine, baseline, bands, stream })
}

/// The dimensions raking runs over (indices, in the pipeline's order, each once).
pub(super) fn raking_dimensions(settings: &Settings) -> Vec<usize> {
    let mut raking: Vec<usize> = Vec::new();
    for name in &settings.analysis.raking_dimensions {
        if let Some(d) = settings.dimensions.iter().position(|x| x == name) {
            if !raking.contains(&d) {
                raking.push(d);
            }
        }
    }
    raking
}
