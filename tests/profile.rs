//! The BI-safe Parquet profile, checked from each file's own metadata, and every output
//! read back by pyarrow and DuckDB (readers that are not the writer).

use std::fs::File;
use std::process::Command;

use parquet::basic::{Encoding, PageType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::util::{canonical_csv, parquet_files, project, unheard};

fn outputs() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("f.csv"), canonical_csv(500) + "X1,X1,2025-01-01,what_good,,1,,,,,,,,,,,,,\n")
        .unwrap();
    let out = tmp.path().join("o");
    let r = unheard(
        tmp.path(),
        &[
            "run",
            "--input",
            "f.csv",
            "--baseline",
            project().join("data-samples/population-baseline.csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ],
    );
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
