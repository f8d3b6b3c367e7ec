//! The run's tables, written: every Parquet file of the run folder (records partitioned by
//! month, the rest one file each) and the data dictionary, in the staging folder.

use std::path::Path;

use rayon::prelude::*;

use super::manifest::TableEntry;
use super::{tables, write_table, OutputError, Table};
use crate::analyse::setup::Who;
use crate::analyse::{ranking, representation, theme_by_group, underheard};
use crate::code::{Codebook, Coded};
use crate::ingest::{FieldIssue, Quarantined};
use crate::people::Groups;
use crate::record::Record;

/// What a run publishes, as the stages left it (quarantine and field issues already redacted).
pub(crate) struct RunTables<'a> {
    /// The kept records.
    pub records: &'a [Record],
    /// Each record's coding, in the records' order.
    pub coded: &'a [Coded],
    /// The records' demographic groups.
    pub groups: &'a Groups,
    /// Source columns carried into `records`.
    pub extra_columns: &'a [String],
    /// Each source's file, by source index.
    pub source_files: &'a [String],
    /// Whether `records` keeps the original (unredacted) text.
    pub keep_original_text: bool,
    /// The codebook.
    pub book: &'a Codebook,
    /// The who-is-missing analysis's rows.
    pub who: &'a Who,
    /// Quarantined rows.
    pub quarantine: &'a [Quarantined],
    /// Fields that could not be used in kept records.
    pub field_issues: &'a [FieldIssue],
}

/// Writes every table of `t` and `DATA_DICTIONARY.md` into `dir`; returns the manifest's
/// entry for each table, in the order written.
///
/// # Errors
/// A file cannot be written.
pub(crate) fn write_tables(dir: &Path, t: &RunTables) -> Result<Vec<TableEntry>, OutputError> {
    // the two big tables are independent: build them side by side
    let (parts, record_themes) = rayon::join(
        || tables::records(t.records, t.coded, t.groups, t.extra_columns, t.source_files, t.keep_original_text),
        || tables::record_themes(t.records, t.coded, t.book),
    );
    let singles: Vec<Table> = vec![
        record_themes,
        tables::themes(t.book),
        representation::table(&t.who.representation),
        theme_by_group::table(&t.who.theme_by_group, t.groups, t.book),
        underheard::table(&t.who.underheard, t.groups, t.book),
        ranking::table(&t.who.ranking, t.book),
        tables::quarantine(t.quarantine),
        tables::field_issues(t.field_issues),
    ];
    let mut entries = Vec::new();
    let mut jobs: Vec<(String, &Table)> = Vec::new();
    for (month, part) in &parts {
        let rel = format!("records/month={month}/part-0.parquet");
        if let Some(p) = dir.join(&rel).parent() {
            std::fs::create_dir_all(p).map_err(|e| OutputError::Io { path: p.to_path_buf(), source: e })?;
        }
        jobs.push((rel, part));
    }
    entries.push(TableEntry {
        name: "records".to_owned(),
        grain: "one piece of free text".to_owned(),
        rows: t.records.len(),
        files: jobs.iter().map(|j| j.0.clone()).collect(),
    });
    for table in &singles {
        let rel = format!("{}.parquet", table.name);
        entries.push(TableEntry {
            name: table.name.clone(),
            grain: table.grain.clone(),
            rows: table.rows(),
            files: vec![rel.clone()],
        });
        jobs.push((rel, table));
    }
    // each file is independent: write (and fsync) them in parallel
    jobs.par_iter().try_for_each(|(rel, table)| write_table(table, &dir.join(rel)))?;
    let empty_records = tables::records(&[], &[], t.groups, t.extra_columns, t.source_files, t.keep_original_text);
    let records_def = parts.first().or(empty_records.first()).map(|(_, part)| part.clone());
    let mut dict_tables: Vec<&Table> = records_def.iter().collect();
    dict_tables.extend(singles.iter());
    write_text(&dir.join("DATA_DICTIONARY.md"), &tables::data_dictionary(&dict_tables))?;
    Ok(entries)
}

/// Writes `text` to `path`.
///
/// # Errors
/// The file cannot be written.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<(), OutputError> {
    std::fs::write(path, text).map_err(|e| OutputError::Io { path: path.to_path_buf(), source: e })
}
