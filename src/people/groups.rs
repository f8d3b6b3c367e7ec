//! Records to groups: every record's demographics harmonised to one group per dimension, and
//! what the raw values were (counts, the values no mapping knows, the field issues they raise,
//! and the shares worth a warning).

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::config::Settings;
use crate::ingest;
use crate::people::{self, harmonise::Harmoniser};
use crate::record::Record;

/// Demographic groups of the records: per dimension, the group names and each record's id.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    /// Dimension names.
    pub dimensions: Vec<String>,
    /// Per dimension, its group names (sorted).
    pub names: Vec<Vec<String>>,
    /// Per dimension, each record's group id.
    pub ids: Vec<Vec<u32>>,
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

/// The field issues of a run: ingest's, then an `unmapped_value` per row × demographic column
/// whose group is `unmapped`; in source, row and column order.
pub fn field_issues(settings: &Settings, ingested: &ingest::Ingested, groups: &Groups) -> Vec<ingest::FieldIssue> {
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
