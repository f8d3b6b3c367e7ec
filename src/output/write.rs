//! The run's tables, written into the staging folder: `records` and `record_themes`
//! partitioned by month and `quarantine` and `field_issues` as batches arrive
//! ([`StreamWriter`]), the aggregate tables once the counts are final ([`write_tables`]), and
//! the data dictionary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::manifest::TableEntry;
use super::parquet::{TableWriter, STREAM_ROW_GROUP_ROWS};
use super::{tables, write_table, OutputError, Table};
use crate::analyse::setup::Who;
use crate::analyse::{
    comparisons, cooccurrence, emerging, quotes, ranking, representation, spc, theme_by_group, underheard,
};
use crate::code::Codebook;
use crate::ingest::{FieldIssue, Quarantined};
use crate::people::Groups;

/// A table partitioned by month: one open file per month, written as its rows arrive.
struct Partitioned {
    name: &'static str,
    grain: &'static str,
    dir: PathBuf,
    files: BTreeMap<String, TableWriter>,
}

impl Partitioned {
    fn new(dir: &Path, name: &'static str, grain: &'static str) -> Partitioned {
        Partitioned { name, grain, dir: dir.join(name), files: BTreeMap::new() }
    }

    fn write(&mut self, month: &str, table: &Table) -> Result<(), OutputError> {
        if !self.files.contains_key(month) {
            let folder = self.dir.join(format!("month={month}"));
            std::fs::create_dir_all(&folder).map_err(|e| OutputError::Io { path: folder.clone(), source: e })?;
            let w = TableWriter::create(table, &folder.join("part-0.parquet"), STREAM_ROW_GROUP_ROWS)?;
            self.files.insert(month.to_owned(), w);
        }
        match self.files.get_mut(month) {
            Some(w) => w.write(table),
            None => Ok(()),
        }
    }

    /// Closes every month's file (in parallel: each encodes its last row group); the files in
    /// month order.
    fn finish(self) -> Result<TableEntry, OutputError> {
        let name = self.name;
        let closed: Vec<(String, usize)> = self
            .files
            .into_par_iter()
            .map(|(month, w)| Ok((format!("{name}/month={month}/part-0.parquet"), w.finish()?)))
            .collect::<Result<_, OutputError>>()?;
        let rows = closed.iter().map(|c| c.1).sum();
        let files = closed.into_iter().map(|c| c.0).collect();
        Ok(TableEntry { name: name.to_owned(), grain: self.grain.to_owned(), rows, files })
    }
}

/// The tables that grow with the input, written batch by batch.
pub(crate) struct StreamWriter {
    records: Partitioned,
    record_themes: Partitioned,
    quarantine: TableWriter,
    field_issues: TableWriter,
    /// The state's `keys`, beside `records` (when the run keeps a state).
    keys: Option<Partitioned>,
}

impl StreamWriter {
    /// Opens the streamed tables in `dir`.
    ///
    /// # Errors
    /// A file cannot be created.
    pub(crate) fn create(dir: &Path, state: Option<&Path>) -> Result<StreamWriter, OutputError> {
        let open = |t: Table| TableWriter::create(&t, &dir.join(format!("{}.parquet", t.name)), STREAM_ROW_GROUP_ROWS);
        Ok(StreamWriter {
            records: Partitioned::new(dir, "records", "one piece of free text"),
            record_themes: Partitioned::new(dir, "record_themes", "one theme coded on one record"),
            quarantine: open(tables::quarantine(&[]))?,
            field_issues: open(tables::field_issues(&[]))?,
            keys: state.map(|s| Partitioned::new(s, "keys", "one record of the state")),
        })
    }

    /// Writes rows carried from the state (quarantined rows and field issues of files this run
    /// does not read) before this run's own.
    ///
    /// # Errors
    /// A file cannot be written.
    pub(crate) fn carry(&mut self, quarantine: &Table, field_issues: &Table) -> Result<(), OutputError> {
        self.quarantine.write(quarantine)?;
        self.field_issues.write(field_issues)
    }

    /// A run without records still writes `records` and `record_themes` (and the state's
    /// `keys`): one empty file each under `month=unknown`, so that a reader of the folder (a BI
    /// tool's refresh, DuckDB's `records/*/*.parquet`) finds the tables and their columns, not a
    /// folder that is not there. `batch` holds no records; it gives the columns.
    ///
    /// # Errors
    /// A file cannot be written.
    pub(crate) fn placeholders(
        &mut self,
        batch: &tables::RecordsBatch<'_>,
        book: &Codebook,
    ) -> Result<(), OutputError> {
        if !self.records.files.is_empty() {
            return Ok(());
        }
        let month = "unknown";
        self.records.write(month, &tables::records(batch, month, &[]))?;
        self.record_themes.write(month, &tables::record_themes(batch, &[], book))?;
        if let Some(keys) = &mut self.keys {
            keys.write(month, &tables::keys(batch, &[], &[]))?;
        }
        Ok(())
    }

    /// Writes a batch: its records and their themes into their months' partitions (in month
    /// order), its quarantined rows and field issues
    /// (already redacted).
    ///
    /// # Errors
    /// A file cannot be written.
    pub(crate) fn write(
        &mut self,
        batch: &tables::RecordsBatch<'_>,
        contents: &[u128],
        book: &Codebook,
        quarantine: &[Quarantined],
        field_issues: &[FieldIssue],
    ) -> Result<(), OutputError> {
        let months: Vec<(String, Vec<usize>)> = tables::by_month(batch.records).into_iter().collect();
        // (on the writer's own thread: no pool to share)
        let built: Vec<(Table, Table)> = months
            .iter()
            .map(|(month, idx)| (tables::records(batch, month, idx), tables::record_themes(batch, idx, book)))
            .collect();
        for ((month, idx), (records, themes)) in months.iter().zip(&built) {
            self.records.write(month, records)?;
            self.record_themes.write(month, themes)?;
            if let Some(keys) = &mut self.keys {
                keys.write(month, &tables::keys(batch, contents, idx))?;
            }
        }
        self.quarantine.write(&tables::quarantine(quarantine))?;
        self.field_issues.write(&tables::field_issues(field_issues))?;
        Ok(())
    }

    /// Finishes every streamed file; returns their manifest entries.
    ///
    /// # Errors
    /// A file cannot be finished.
    pub(crate) fn finish(self) -> Result<Vec<TableEntry>, OutputError> {
        let single = |w: TableWriter, t: Table| -> Result<TableEntry, OutputError> {
            Ok(TableEntry {
                rows: w.finish()?,
                files: vec![format!("{}.parquet", t.name)],
                name: t.name,
                grain: t.grain,
            })
        };
        let (records, record_themes) = rayon::join(|| self.records.finish(), || self.record_themes.finish());
        if let Some(keys) = self.keys {
            keys.finish()?;
        }
        Ok(vec![
            records?,
            record_themes?,
            single(self.quarantine, tables::quarantine(&[]))?,
            single(self.field_issues, tables::field_issues(&[]))?,
        ])
    }
}

/// What a run publishes once the counts are final.
pub(crate) struct RunTables<'a> {
    /// The records' demographic groups (names only).
    pub groups: &'a Groups,
    /// Source columns carried into `records`.
    pub extra_columns: &'a [String],
    /// Whether `records` keeps the original (unredacted) text.
    pub keep_original_text: bool,
    /// The codebook.
    pub book: &'a Codebook,
    /// The who-is-missing analysis's rows.
    pub who: &'a Who,
    /// The declared changes.
    pub changes: &'a [crate::config::Change],
    /// The SPC charts' period.
    pub spc_period: crate::config::SpcPeriod,
    /// The quotes.
    pub quotes: &'a [crate::analyse::quotes::QuoteRow],
    /// The emerging terms.
    pub terms: &'a [crate::analyse::emerging::TermRow],
}

/// Writes the aggregate tables of `t` and `DATA_DICTIONARY.md` into `dir`; returns the
/// manifest's entry for each table, after the streamed tables' `streamed` entries.
///
/// # Errors
/// A file cannot be written.
pub(crate) fn write_tables(
    dir: &Path,
    t: &RunTables,
    streamed: Vec<TableEntry>,
) -> Result<Vec<TableEntry>, OutputError> {
    // each table built and written on its own worker; its definition (columns, no rows) kept
    // for the data dictionary, with its rows' count
    let whole = |table: Table| -> Result<(Table, usize), OutputError> {
        write_table(&table, &dir.join(format!("{}.parquet", table.name)))?;
        let rows = table.rows();
        Ok((table, rows))
    };
    let build: [&(dyn Fn() -> Result<(Table, usize), OutputError> + Sync); 11] = [
        &|| whole(tables::themes(t.book)),
        &|| whole(representation::table(&t.who.representation)),
        &|| chunked(dir, &t.who.theme_by_group, |rows| theme_by_group::table(rows, t.groups, t.book)),
        &|| whole(underheard::table(&t.who.underheard, t.groups, t.book)),
        &|| whole(ranking::table(&t.who.ranking, t.book)),
        &|| whole(comparisons::table(&t.who.comparisons, t.changes, t.groups, t.book)),
        &|| whole(spc::table(&t.who.spc, t.changes, t.book, t.spc_period)),
        &|| whole(spc::summary_table(&t.who.spc_summary, t.changes, t.book)),
        &|| chunked(dir, &t.who.cooccurrence, |rows| cooccurrence::table(rows, t.groups, t.book)),
        &|| whole(quotes::table(t.quotes, t.groups, t.book)),
        &|| whole(emerging::table(t.terms)),
    ];
    let (singles, rows): (Vec<Table>, Vec<usize>) =
        build.par_iter().map(|make| make()).collect::<Result<Vec<_>, OutputError>>()?.into_iter().unzip();
    // the entries in the order a reader expects: records, record_themes, themes, the
    // analysis, quarantine, field_issues
    let mut entries = Vec::new();
    let mut streamed = streamed.into_iter();
    entries.extend(streamed.by_ref().take(2));
    for (table, rows) in singles.iter().zip(rows) {
        entries.push(TableEntry {
            name: table.name.clone(),
            grain: table.grain.clone(),
            rows,
            files: vec![format!("{}.parquet", table.name)],
        });
    }
    entries.extend(streamed);
    // the data dictionary, from the tables' definitions
    let batch = tables::RecordsBatch {
        records: &[],
        coded: &[],
        dimensions: &t.groups.dimensions,
        names: &t.groups.names,
        ids: &[],
        extra_columns: t.extra_columns,
        source_files: &[],
        keep_original_text: t.keep_original_text,
    };
    let defs = [tables::records(&batch, "", &[]), tables::record_themes(&batch, &[], t.book)];
    let mut dict_tables: Vec<&Table> = defs.iter().collect();
    dict_tables.push(&singles[0]);
    dict_tables.extend(singles[1..].iter());
    let (q, f) = (tables::quarantine(&[]), tables::field_issues(&[]));
    dict_tables.push(&q);
    dict_tables.push(&f);
    write_text(&dir.join("DATA_DICTIONARY.md"), &tables::data_dictionary(&dict_tables))?;
    Ok(entries)
}

/// Rows of a large aggregate table built as columns and written at a time: `theme_by_group` has
/// a row per period × dimension × group × theme (2.4 million for a dimension of 3,000 community
/// groups over 20,000 records, whose columns, built whole, took the run to 2.3 GB). Row groups
/// close at a count of rows, so the file's rows and row groups do not depend on it (its pages
/// may: the Parquet writer sizes them within each write); a table of fewer rows is written whole.
const CHUNK_ROWS: usize = 65_536;

/// Writes the table `table` makes of `rows`, [`CHUNK_ROWS`] at a time; its definition (no rows)
/// and its rows' count.
///
/// # Errors
/// The file cannot be written.
fn chunked<R>(dir: &Path, rows: &[R], table: impl Fn(&[R]) -> Table) -> Result<(Table, usize), OutputError> {
    let definition = table(&[]);
    let mut w = super::parquet::TableWriter::create(
        &definition,
        &dir.join(format!("{}.parquet", definition.name)),
        super::parquet::ROW_GROUP_ROWS,
    )?;
    for chunk in rows.chunks(CHUNK_ROWS) {
        w.write(&table(chunk))?;
    }
    Ok((definition, w.finish()?))
}

/// Writes `text` to `path`.
///
/// # Errors
/// The file cannot be written.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<(), OutputError> {
    std::fs::write(path, text).map_err(|e| OutputError::Io { path: path.to_path_buf(), source: e })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Col, ColumnData};

    fn table(rows: &[(u32, f64)]) -> Table {
        Table {
            name: "t".to_owned(),
            grain: "one row".to_owned(),
            columns: vec![
                Col::new(
                    "group_name",
                    "a repeated string",
                    ColumnData::strs(rows.iter().map(|r| Some(format!("group {}", r.0 % 3000)))),
                ),
                Col::new("n", "a count", ColumnData::I64(rows.iter().map(|r| Some(i64::from(r.0))).collect())),
                Col::new(
                    "rate",
                    "a rate or null",
                    ColumnData::F64(rows.iter().map(|r| (r.0 % 7 != 0).then_some(r.1)).collect()),
                ),
            ],
        }
    }

    fn read(path: &Path) -> (Vec<arrow::record_batch::RecordBatch>, Vec<usize>) {
        let file = std::fs::File::open(path).unwrap();
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let groups = builder.metadata().row_groups().iter().map(|g| g.num_rows() as usize).collect();
        let batches = builder.with_batch_size(1 << 20).build().unwrap().collect::<Result<Vec<_>, _>>().unwrap();
        (batches, groups)
    }

    /// A table written a chunk of rows at a time holds the rows of the table written whole, in the
    /// same row groups (over a row group's end, 1,000,000 rows, and past a last, short chunk), and
    /// is the same file every time (its pages may break elsewhere than the whole table's: the
    /// Parquet writer sizes them within each write).
    #[test]
    fn a_table_written_in_chunks_is_the_table_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<(u32, f64)> = (0..1_100_003u32).map(|i| (i, f64::from(i % 101) / 101.0)).collect();
        write_table(&table(&rows), &dir.path().join("whole.parquet")).unwrap();
        let chunks = dir.path().join("chunks");
        std::fs::create_dir(&chunks).unwrap();
        let (definition, n) = chunked(&chunks, &rows, table).unwrap();
        assert_eq!((definition.rows(), n), (0, rows.len()));
        let (whole, whole_groups) = read(&dir.path().join("whole.parquet"));
        let (parts, part_groups) = read(&chunks.join("t.parquet"));
        assert_eq!((part_groups.clone(), whole_groups), (vec![1_000_000, 100_003], part_groups));
        let all = |b: &[arrow::record_batch::RecordBatch]| arrow::compute::concat_batches(&b[0].schema(), b).unwrap();
        assert!(all(&whole) == all(&parts), "the chunked file's rows differ");
        let again = dir.path().join("again");
        std::fs::create_dir(&again).unwrap();
        chunked(&again, &rows, table).unwrap();
        assert!(std::fs::read(again.join("t.parquet")).unwrap() == std::fs::read(chunks.join("t.parquet")).unwrap());
    }
}
