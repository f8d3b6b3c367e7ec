//! The BI-safe Parquet profile and the schema's naming rule, checked from each file's own
//! metadata, and every output read back by pandas, pyarrow, polars and DuckDB with their default
//! calls (readers that are not the writer).

use std::fs::File;
use std::process::Command;

use parquet::basic::{Encoding, PageType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::util::{canonical_csv, parquet_files, project};

fn outputs() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f.csv"), canonical_csv(500) + "X1,X1,2025-01-01,what_good,,1,,,,,,,,,,,,,\n")
        .unwrap();
    let out = tmp.path().join("o");
    let r = crate::util::run_with_sample_baseline(tmp.path(), out.to_str().unwrap(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    (tmp, out)
}

#[test]
fn every_output_follows_the_profile() {
    let (_tmp, out) = outputs();
    let files = parquet_files(&out);
    assert!(files.len() >= 5);
    for path in files {
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let meta = reader.metadata();
        let file_meta = meta.file_metadata();
        let name = path.display();
        assert!(
            file_meta.key_value_metadata().is_none_or(|kv| kv.iter().all(|k| k.key != "ARROW:schema")),
            "{name}: no embedded Arrow schema"
        );
        for field in file_meta.schema_descr().root_schema().get_fields() {
            assert!(field.is_primitive(), "{name}: column {} is nested", field.name());
        }
        for col in file_meta.schema_descr().columns() {
            let ok = match col.physical_type() {
                Physical::INT32 | Physical::INT64 | Physical::DOUBLE | Physical::BOOLEAN => true,
                Physical::BYTE_ARRAY => {
                    col.logical_type_ref().is_some_and(|l| matches!(l, parquet::basic::LogicalType::String))
                }
                _ => false,
            };
            assert!(
                ok,
                "{name}: column {} has type {:?} / {:?}",
                col.name(),
                col.physical_type(),
                col.logical_type_ref()
            );
            if let Some(parquet::basic::LogicalType::Integer(int)) = col.logical_type_ref() {
                assert!(int.is_signed, "{name}: column {} is unsigned", col.name());
            }
        }
        for (g, rg) in meta.row_groups().iter().enumerate() {
            assert!(rg.num_rows() <= 1_000_000);
            let row_group = reader.get_row_group(g).unwrap();
            for (c, cc) in rg.columns().iter().enumerate() {
                assert_eq!(cc.compression(), parquet::basic::Compression::SNAPPY, "{name}: {}", cc.column_path());
                // min/max where a reader can skip row groups with them: ids, dates, numbers;
                // none on free text and categories (README, "Speed")
                let column = cc.column_path().string();
                let string = cc.column_type() == Physical::BYTE_ARRAY;
                let ids = ["record_id", "response_id"].contains(&column.as_str());
                if rg.num_rows() > 0 {
                    assert_eq!(cc.statistics().is_some(), !string || ids, "{name}: statistics of {column}");
                }
                for e in cc.encodings() {
                    assert!(
                        matches!(e, Encoding::PLAIN | Encoding::RLE | Encoding::RLE_DICTIONARY),
                        "{name}: {} uses {e:?}",
                        cc.column_path()
                    );
                }
                // read the pages themselves: V1 data pages, PLAIN or RLE_DICTIONARY values
                for page in row_group.get_column_page_reader(c).unwrap() {
                    let page = page.unwrap();
                    assert!(
                        matches!(page.page_type(), PageType::DATA_PAGE | PageType::DICTIONARY_PAGE),
                        "{name}: {} has {:?} pages",
                        cc.column_path(),
                        page.page_type()
                    );
                    if page.page_type() == PageType::DATA_PAGE {
                        assert!(
                            matches!(page.encoding(), Encoding::PLAIN | Encoding::RLE_DICTIONARY),
                            "{name}: data pages of {} use {:?}",
                            cc.column_path(),
                            page.encoding()
                        );
                    }
                }
            }
        }
    }
}

use unheard::record::SQL_RESERVED as RESERVED;

/// Integer columns that are not counts (so need not end in `_n`).
const NOT_COUNTS: &[&str] = &[
    "rating",
    "quote_rank",
    "frequency_rank",
    "source_row",
    "evidence_start",
    "evidence_end",
    "raw_rank",
    "weighted_rank",
    "rank_change",
    "concern_rank",
    "chi_square_df",
];

#[test]
fn every_column_follows_the_naming_rule_and_the_schema_is_versioned() {
    let (_tmp, out) = outputs();
    let mut seen = 0;
    for path in parquet_files(&out) {
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        for col in reader.metadata().file_metadata().schema_descr().columns() {
            let name = col.name();
            seen += 1;
            assert!(!RESERVED.contains(&name), "{path:?}: `{name}` is an SQL reserved word");
            assert!(
                !name.ends_with("_lower") && !name.ends_with("_upper"),
                "{path:?}: `{name}`: intervals are _low/_high"
            );
            match col.physical_type() {
                Physical::BOOLEAN => {
                    assert!(name.starts_with("is_"), "{path:?}: yes/no column `{name}` starts with is_")
                }
                Physical::INT64 | Physical::INT32
                    if col.logical_type_ref().is_none_or(|l| !matches!(l, parquet::basic::LogicalType::Date)) =>
                {
                    assert!(name.ends_with("_n") || NOT_COUNTS.contains(&name), "{path:?}: count `{name}` ends in _n");
                }
                _ => {}
            }
            if name.ends_with("_low") {
                let base = name.trim_end_matches("_low");
                let has_high = reader
                    .metadata()
                    .file_metadata()
                    .schema_descr()
                    .columns()
                    .iter()
                    .any(|c| c.name() == format!("{base}_high"));
                assert!(has_high, "{path:?}: `{name}` has its `{base}_high`");
            }
        }
        // the partition key is the folder's, never a column inside the files
        if path.components().any(|c| c.as_os_str().to_string_lossy().starts_with("month=")) {
            let cols = reader.metadata().file_metadata().schema_descr().columns().iter().any(|c| c.name() == "month");
            assert!(!cols, "{path:?} holds `month` inside as well as in its folder name");
        }
    }
    assert!(seen > 100);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["schema_version"], 1);
    let dictionary = std::fs::read_to_string(out.join("DATA_DICTIONARY.md")).unwrap();
    assert!(dictionary.contains("Schema version 1."), "{}", &dictionary[..200]);
}

#[test]
fn pyarrow_and_duckdb_read_every_output() {
    let (_tmp, out) = outputs();
    let script = project().join("tests/read_outputs.py");
    let r = Command::new("python3").arg(&script).arg(&out).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&r.stdout);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        r.status.success(),
        "{script:?} failed (install: python3 -m pip install -r tests/requirements.txt)\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("records: 500 rows"), "{stdout}");
    assert!(stdout.contains("quarantine: 1 rows"), "{stdout}");
    assert!(!stderr.to_lowercase().contains("warning"), "readers warned: {stderr}");
}

/// A run whose every row is set aside (a night's export of blank comments, found trying it):
/// it wrote no `records` or `record_themes` folder, so the readers pointed at the folder (a BI
/// refresh, DuckDB's `records/*/*.parquet`, `pandas.read_parquet`) failed where an earlier night
/// had worked. Now each is an empty file under `month=unknown` with the columns of a run with
/// records, read by every reader as zero rows.
#[test]
fn a_run_without_records_still_writes_the_row_level_tables_columns() {
    let (_full, with) = outputs();
    let tmp = tempfile::tempdir().unwrap();
    let mut blank = canonical_csv(3);
    for text in ["The nurse was lovely and kind", "Waited far too long in the waiting room, over 3 hours"] {
        blank = blank.replace(text, "");
    }
    blank = blank.replace("Could not get through on the phone to book an appointment", " ");
    std::fs::write(tmp.path().join("f.csv"), &blank).unwrap();
    let out = tmp.path().join("o");
    let r = crate::util::run_with_sample_baseline(tmp.path(), out.to_str().unwrap(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((m["counts"]["records"].as_u64(), m["counts"]["rows_quarantined"].as_u64()), (Some(0), Some(3)));
    let columns = |path: &std::path::Path| -> Vec<String> {
        let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
        let fields = reader.metadata().file_metadata().schema_descr().root_schema().get_fields().to_vec();
        fields.iter().map(|f| f.name().to_owned()).collect()
    };
    for table in ["records", "record_themes"] {
        let empty = out.join(table).join("month=unknown/part-0.parquet");
        let reader = SerializedFileReader::new(File::open(&empty).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 0, "{table}");
        let written = parquet_files(&with.join(table));
        assert_eq!(columns(&empty), columns(&written[0]), "{table}: the columns of a run with records");
    }
    let script = project().join("tests/read_outputs.py");
    let r = Command::new("python3").arg(&script).arg(&out).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&r.stderr));
    assert!(stdout.contains("records: 0 rows") && stdout.contains("quarantine: 3 rows"), "{stdout}");
}
