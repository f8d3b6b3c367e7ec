//! Records to groups: every record's demographics harmonised to one group per dimension, and
//! what the raw values were (counts, the values no mapping knows, the field issues they raise,
//! and the shares worth a warning).

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::config::Settings;
use crate::ingest;
use crate::people::{self, harmonise::Harmoniser};
use crate::record::Record;

/// The run's demographic groups: per dimension, the group names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    /// Dimension names.
    pub dimensions: Vec<String>,
    /// Per dimension, its group names (sorted).
    pub names: Vec<Vec<String>>,
}

/// Per dimension: each distinct raw value (`None`: empty) with its group and its records,
/// sorted by raw value.
pub(crate) type ValueCounts = Vec<DimValues>;

/// One dimension's distinct raw values with their group and records.
pub(crate) type DimValues = Vec<(Option<String>, String, u64)>;

/// Per dimension, each raw value of the records with its group and count (all records at
/// once: `unheard people`; a run groups batch by batch with [`Grouper`]).
#[must_use]
pub(crate) fn raw_values(harmoniser: &Harmoniser, dimensions: &[String], records: &[Record]) -> ValueCounts {
    let mut grouper = Grouper::new(harmoniser, dimensions);
    grouper.group(records);
    grouper.finish().2
}

type Fast = foldhash::fast::FixedState;

/// One dimension's groups as they are met: group ids in first-seen order, and every distinct
/// raw value with its group and records (memory grows with distinct values, not records).
#[derive(Default)]
struct DimGrouper {
    /// An age dimension: a date of birth is grouped by the age on the day of the record.
    dated: bool,
    /// raw value → (group id, records)
    cache: HashMap<String, (u32, u64), Fast>,
    /// the empty value's group and records
    empty: Option<(u32, u64)>,
    /// dates of birth: (raw value, group id) → records
    dob: HashMap<(String, u32), u64, Fast>,
    /// group names by id, first seen first
    names: Vec<String>,
    ids: HashMap<String, u32, Fast>,
}

impl DimGrouper {
    fn id_of(&mut self, name: String) -> u32 {
        if let Some(&id) = self.ids.get(&name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn group(&mut self, h: &Harmoniser, d: usize, raw: Option<&str>, date: Option<chrono::NaiveDate>) -> u32 {
        let Some(raw) = raw else {
            if let Some((id, n)) = &mut self.empty {
                *n += 1;
                return *id;
            }
            let id = self.id_of(h.group(d, None, date));
            self.empty = Some((id, 1));
            return id;
        };
        if let Some((id, n)) = self.cache.get_mut(raw) {
            *n += 1;
            return *id;
        }
        if self.dated && people::harmonise::is_date(raw) {
            let id = self.id_of(h.group(d, Some(raw), date));
            *self.dob.entry((raw.to_owned(), id)).or_insert(0) += 1;
            return id;
        }
        let id = self.id_of(h.group(d, Some(raw), date));
        self.cache.insert(raw.to_owned(), (id, 1));
        id
    }
}

/// Records to groups, batch by batch: each record's demographics harmonised to one group per
/// dimension, as ids that stay fixed for the run (first seen, first numbered);
/// [`Grouper::finish`] gives the sorted names and the ids' places among them.
pub(crate) struct Grouper<'h> {
    harmoniser: &'h Harmoniser,
    dims: Vec<DimGrouper>,
}

impl<'h> Grouper<'h> {
    /// A grouper for the run's dimensions.
    #[must_use]
    pub(crate) fn new(harmoniser: &'h Harmoniser, dimensions: &[String]) -> Grouper<'h> {
        let dims = dimensions
            .iter()
            .map(|d| DimGrouper { dated: people::harmonise::is_age_dimension(d), ..DimGrouper::default() })
            .collect();
        Grouper { harmoniser, dims }
    }

    /// Per dimension, each record's group id (dimensions in parallel).
    pub(crate) fn group(&mut self, records: &[Record]) -> Vec<Vec<u32>> {
        let h = self.harmoniser;
        self.dims
            .par_iter_mut()
            .enumerate()
            .map(|(d, g)| {
                records
                    .iter()
                    .map(|r| g.group(h, d, r.demographics.get(d).and_then(Option::as_deref), r.received_date))
                    .collect()
            })
            .collect()
    }

    /// The first dimension of more than `max` groups, with its groups.
    #[must_use]
    pub(crate) fn crowded(&self, max: usize) -> Option<(usize, usize)> {
        self.dims.iter().position(|g| g.names.len() > max).map(|d| (d, self.dims[d].names.len()))
    }

    /// Per dimension, the names of the groups met so far, by id.
    #[must_use]
    pub(crate) fn names(&self) -> Vec<Vec<String>> {
        self.dims.iter().map(|d| d.names.clone()).collect()
    }

    /// Per dimension: the group names sorted, each id's place among them, and every raw value
    /// with its group and records (sorted by raw value).
    #[must_use]
    pub(crate) fn finish(&self) -> (Vec<Vec<String>>, Vec<Vec<u32>>, ValueCounts) {
        let mut names = Vec::new();
        let mut remaps = Vec::new();
        let mut values = Vec::new();
        for g in &self.dims {
            let mut sorted = g.names.clone();
            sorted.sort_unstable();
            let remap: Vec<u32> = g.names.iter().map(|n| sorted.binary_search(n).unwrap_or(0) as u32).collect();
            let mut v: BTreeMap<(Option<&str>, &str), u64> = BTreeMap::new();
            let name = |id: u32| g.names[id as usize].as_str();
            if let Some((id, n)) = g.empty {
                *v.entry((None, name(id))).or_insert(0) += n;
            }
            for (raw, (id, n)) in &g.cache {
                *v.entry((Some(raw.as_str()), name(*id))).or_insert(0) += n;
            }
            for ((raw, id), n) in &g.dob {
                *v.entry((Some(raw.as_str()), name(*id))).or_insert(0) += n;
            }
            values.push(v.into_iter().map(|((raw, g), n)| (raw.map(str::to_owned), g.to_owned(), n)).collect());
            names.push(sorted);
            remaps.push(remap);
        }
        (names, remaps, values)
    }
}

/// Per dimension (only those with any): the raw values no mapping knows, with their counts.
#[must_use]
pub(crate) fn unmapped_values(dimensions: &[String], values: &ValueCounts) -> BTreeMap<String, BTreeMap<String, u64>> {
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
pub(crate) fn publishable(
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
pub(crate) const UNMAPPED_WARN_SHARE: f64 = 0.05;

/// Per dimension, the share of records `unmapped`; and a warning for each dimension above
/// [`UNMAPPED_WARN_SHARE`], naming its commonest unmapped values (shortened).
#[must_use]
pub(crate) fn unmapped_shares(
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

/// The field issues of a batch of records: ingest's (`issues`), then an `unmapped_value` per
/// row × demographic column whose group is `unmapped`; in source, row and column order.
/// `names` and `ids` are the groups (names by id; per dimension, each record's id).
#[must_use]
pub(crate) fn field_issues(
    settings: &Settings,
    dimension_columns: &[Vec<Option<String>>],
    records: &[Record],
    issues: Vec<ingest::FieldIssue>,
    names: &[Vec<String>],
    ids: &[Vec<u32>],
) -> Vec<ingest::FieldIssue> {
    let mut out = issues;
    for (d, dim) in settings.dimensions.iter().enumerate() {
        let Some(unmapped) = names.get(d).and_then(|n| n.iter().position(|g| g == people::UNMAPPED)) else { continue };
        let mut last = None;
        for (i, r) in records.iter().enumerate() {
            // the records of one row are consecutive: one issue per row
            // (a record carried from a file this run does not read keeps the issues that run found)
            if ids[d].get(i).is_none_or(|&g| g as usize != unmapped)
                || last == Some(r.origin)
                || r.origin.source as usize >= settings.sources.len()
            {
                continue;
            }
            last = Some(r.origin);
            let src = r.origin.source as usize;
            let file = settings.sources.get(src).map(|s| crate::ingest::shown(&s.path)).unwrap_or_default();
            let column =
                dimension_columns.get(src).and_then(|c| c.get(d).cloned().flatten()).unwrap_or_else(|| dim.clone());
            let value = r.demographics.get(d).and_then(Option::as_deref).unwrap_or_default().to_owned();
            out.push(ingest::FieldIssue {
                message: format!(
                    "{file}: row {}: column {column:?}: {value:?} is not a known {dim} value (group `unmapped`); \
                     map it under [people.map.{dim}]",
                    r.origin.row
                ),
                source: r.source.to_string(),
                file,
                row: r.origin.row,
                column,
                field: dim.clone(),
                reason: ingest::Reason::UnmappedValue,
                action: "unmapped",
                value,
                response_id: Some(r.response_id.to_string()),
            });
        }
    }
    let order: HashMap<&str, usize> = settings.sources.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    out.sort_by_key(|f| (order.get(f.source.as_str()).copied().unwrap_or(usize::MAX), f.row));
    out
}
