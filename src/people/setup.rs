//! A run's people set-up, from its settings: the age bands in force, the harmoniser (with its
//! IMD lookup table loaded) and the baseline's populations, checked against both.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::config::Settings;
use crate::people::{
    self,
    baseline::{Baseline, BaselineError},
    harmonise::Harmoniser,
};
use crate::record::Record;

/// The age bands in force, and where they come from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AgeBands {
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

/// Adds the age values `records` are written in (of the dimension read as age), each once, to
/// `ages`: all [`age_bands`] needs of them (a run reads them from its rows before the stream
/// begins, `pipeline::setup::band_sample`; `unheard people` from the records it reads).
pub(crate) fn ages_written<'r>(
    settings: &Settings,
    records: impl IntoIterator<Item = &'r Record>,
    ages: &mut BTreeSet<String>,
) {
    let Some(d) = settings.dimensions.iter().position(|d| people::harmonise::is_age_dimension(d)) else { return };
    for age in records.into_iter().filter_map(|r| r.demographics.get(d).and_then(Option::as_deref)) {
        if !ages.contains(age) {
            ages.insert(age.to_owned());
        }
    }
}

/// The age bands in force: the configured ones; else the baseline's own (when it has age
/// bands); else the bands the records are written in; else the default bands.
/// `ages` are the age values the records are written in ([`ages_written`]).
#[must_use]
pub(crate) fn age_bands(settings: &Settings, baseline: Option<&Baseline>, ages: &BTreeSet<String>) -> AgeBands {
    use people::harmonise::{bands_in, AgeBand, DEFAULT_AGE_BANDS};
    if let Some(b) = &settings.people.age_bands {
        return AgeBands { from: "configured", bands: b.clone() };
    }
    let from_baseline = bands_in(baseline.iter().flat_map(|b| b.age_groups(&settings.dimensions)));
    let from_source = bands_in(ages.iter().map(String::as_str));
    if !from_baseline.is_empty() {
        let merged = merged_bands(&from_baseline, &from_source);
        if merged != from_baseline {
            return AgeBands { from: "baseline_and_source", bands: merged };
        }
        return AgeBands { from: "baseline", bands: from_baseline };
    }
    if !from_source.is_empty() {
        return AgeBands { from: "source", bands: from_source };
    }
    AgeBands { from: "default", bands: DEFAULT_AGE_BANDS.iter().filter_map(|b| AgeBand::parse(b)).collect() }
}

/// The baseline's bands, joined where a band the records are written in straddles two or more
/// of them (a census table's five-year bands and an export's `35-44`: 35-39 and 40-44 become
/// 35-44), so that every record band and every baseline band fits inside one band in force.
/// A record band inside one baseline band, or outside them all, changes nothing.
/// Found in the fifteenth session on issue 9: each such record counted as unmapped, and with
/// every band straddling, the run said no record stated an age.
fn merged_bands(
    baseline: &[people::harmonise::AgeBand],
    records: &[people::harmonise::AgeBand],
) -> Vec<people::harmonise::AgeBand> {
    use people::harmonise::AgeBand;
    let end = |b: &AgeBand| b.hi.unwrap_or(u32::MAX);
    let straddles = |r: &&AgeBand| baseline.iter().filter(|b| r.lo <= end(b) && b.lo <= end(r)).count() >= 2;
    if !records.iter().any(|r| straddles(&r)) {
        return baseline.to_vec();
    }
    let mut all: Vec<&AgeBand> = baseline.iter().chain(records.iter().filter(straddles)).collect();
    all.sort_by_key(|b| (b.lo, end(b)));
    let mut spans: Vec<(u32, u32)> = Vec::new();
    for b in all {
        match spans.last_mut() {
            Some(last) if b.lo <= last.1 => last.1 = last.1.max(end(b)),
            _ => spans.push((b.lo, end(b))),
        }
    }
    spans
        .into_iter()
        .map(|(lo, hi)| {
            // a span that is one of the baseline's bands keeps its label
            baseline.iter().find(|b| b.lo == lo && end(b) == hi).cloned().unwrap_or_else(|| {
                let (label, hi) =
                    if hi == u32::MAX { (format!("{lo}+"), None) } else { (format!("{lo}-{hi}"), Some(hi)) };
                AgeBand { label, lo, hi }
            })
        })
        .collect()
}

/// A warning for records whose age band straddles the bands in force (`off_band`: each such
/// group with its records), with the bands that would hold them: the bands are fixed from the
/// first rows before the stream starts (`band_sample`), so a band first met later — an export's
/// `35-44` beside a census table's `35-39` and `40-44` — counts as unmapped in representation.
/// Ages outside every band in force (children beside an adults' baseline) are no such case.
#[must_use]
pub(crate) fn straddling_bands_warning(
    dimension: &str,
    in_force: &[people::harmonise::AgeBand],
    off_band: &[(String, u64)],
) -> Option<String> {
    let parsed: Vec<(people::harmonise::AgeBand, u64)> =
        off_band.iter().filter_map(|(g, n)| Some((people::harmonise::AgeBand::parse(g)?, *n))).collect();
    let bands: Vec<people::harmonise::AgeBand> = parsed.iter().map(|(b, _)| b.clone()).collect();
    let merged = merged_bands(in_force, &bands);
    if merged == in_force {
        return overlapping_bands_warning(dimension, in_force, &parsed);
    }
    let straddling: Vec<String> = parsed
        .iter()
        .filter(|(b, _)| merged_bands(in_force, std::slice::from_ref(b)) != in_force)
        .map(|(b, n)| format!("{} ({n})", b.label))
        .collect();
    let labels = |bands: &[people::harmonise::AgeBand]| {
        bands.iter().map(|b| format!("{:?}", b.label)).collect::<Vec<_>>().join(", ")
    };
    Some(format!(
        "{dimension}: records in {} straddle the bands in force ({}), which were fixed from the first rows \
         read, before these bands were met: they count as unmapped in representation. To count them, set \
         [people] age_bands = [{}] in the pipeline",
        straddling.join(", "),
        in_force.iter().map(|b| b.label.as_str()).collect::<Vec<_>>().join(", "),
        labels(&merged)
    ))
}

/// A warning for records whose age band overlaps one band in force without lying inside it (an
/// export's `16-24` beside a baseline's `18-24`): they count as missing, and the band they
/// overlap is published with fewer records than it has (found in the twenty-fourth session on
/// issue 9: `18-24` published with no feedback at all, ratio 0, `under_represented`, while 611
/// respondents said `16-24`; nothing was said).
fn overlapping_bands_warning(
    dimension: &str,
    in_force: &[people::harmonise::AgeBand],
    off_band: &[(people::harmonise::AgeBand, u64)],
) -> Option<String> {
    let end = |b: &people::harmonise::AgeBand| b.hi.unwrap_or(u32::MAX);
    let overlapping: Vec<String> = off_band
        .iter()
        .filter_map(|(r, n)| {
            let hit: Vec<&str> =
                in_force.iter().filter(|b| r.lo <= end(b) && b.lo <= end(r)).map(|b| b.label.as_str()).collect();
            (!hit.is_empty()).then(|| format!("{} ({n} records, overlapping {})", r.label, hit.join(", ")))
        })
        .collect();
    if overlapping.is_empty() {
        return None;
    }
    Some(format!(
        "{dimension}: records in {} lie across the edge of the bands in force ({}): they count as missing, and \
         the bands they overlap are published short of them (under-represented where they are not). Give the \
         baseline the records' bands (a census table's single years or five-year bands add up to them), or map \
         the records' values under [people.map.{dimension}]",
        overlapping.join("; "),
        in_force.iter().map(|b| b.label.as_str()).collect::<Vec<_>>().join(", "),
    ))
}

/// The run's harmoniser, with the age bands in force and its IMD lookup table loaded.
///
/// # Errors
/// An unreadable or malformed lookup table.
pub(crate) fn harmoniser(settings: &Settings, bands: &AgeBands) -> Result<Harmoniser, BaselineError> {
    let mut lookup = HashMap::new();
    if let Some(path) = &settings.people.imd_lookup {
        let err = |row: u64, message: String| BaselineError::Row { path: path.clone(), row, message };
        let bytes = crate::files::read(path).map_err(|e| err(1, e.to_string()))?;
        let mut reader = crate::ingest::small_csv(&bytes, false);
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

/// The baseline's populations, its groups harmonised as the records' are, checked: duplicate
/// groups (unless summed) and bands that fit none of the age bands in force are errors naming
/// their lines. `unheard validate` and a run use this one check.
///
/// # Errors
/// A duplicate group, or a band outside the bands in force.
pub(crate) fn baseline_populations(
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

#[cfg(test)]
mod tests {
    use super::merged_bands;
    use crate::people::harmonise::bands_in;

    fn labels(bands: &[crate::people::harmonise::AgeBand]) -> Vec<&str> {
        bands.iter().map(|b| b.label.as_str()).collect()
    }

    /// A census table's five-year bands beside an export's ten-year ones (found in the fifteenth
    /// session on issue 9: every record's band straddled two of the baseline's, so each counted as
    /// unmapped and the run said no record stated an age): joined where a record band straddles,
    /// the baseline's own bands kept where none does.
    #[test]
    fn record_bands_straddling_the_baseline_s_join_them() {
        let census = bands_in(["0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45+"]);
        let export = bands_in(["16-24", "25-34", "35-44", "45+"]);
        assert_eq!(labels(&merged_bands(&census, &export)), ["0-4", "5-9", "10-14", "15-24", "25-34", "35-44", "45+"]);
        // records inside the baseline's bands, or outside them all, change nothing
        assert_eq!(labels(&merged_bands(&census, &bands_in(["35-39", "30-34"]))), labels(&census));
        let adults = bands_in(["18-24", "25-44", "45+"]);
        assert_eq!(labels(&merged_bands(&adults, &bands_in(["0-15", "30-34"]))), ["18-24", "25-44", "45+"]);
        // an open record band takes in every band it overlaps
        assert_eq!(
            labels(&merged_bands(&census, &bands_in(["40+"]))),
            ["0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40+"]
        );
    }

    /// A record band met after the bands were fixed (found in the sixteenth session on issue 9:
    /// an export's `35-44` past its first 4,096 rows beside a census table's five-year bands
    /// counted as unmapped, unsaid): named with its records and the bands that would hold it;
    /// ages outside every band (children beside adults) and no off-band records are no warning.
    #[test]
    fn a_band_straddling_the_bands_in_force_is_named_with_the_bands_that_hold_it() {
        let in_force = bands_in(["18-24", "25-29", "30-34", "35-39", "40-44", "45+"]);
        let off = |groups: &[(&str, u64)]| -> Vec<(String, u64)> {
            groups.iter().map(|(g, n)| ((*g).to_owned(), *n)).collect()
        };
        let w = super::straddling_bands_warning("age_band", &in_force, &off(&[("35-44", 7), ("0-15", 2)])).unwrap();
        assert!(w.starts_with("age_band: records in 35-44 (7) straddle"), "{w}");
        assert!(!w.contains("0-15 ("), "ages outside every band are not named: {w}");
        assert!(w.contains(r#"age_bands = ["18-24", "25-29", "30-34", "35-44", "45+"]"#), "{w}");
        assert_eq!(super::straddling_bands_warning("age_band", &in_force, &off(&[("0-15", 2), ("12", 1)])), None);
        assert_eq!(super::straddling_bands_warning("age_band", &in_force, &[]), None);
    }
}
