use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_unheard");

pub(crate) fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub(crate) fn unheard(dir: &Path, args: &[&str]) -> Run {
    let Output { status, stdout, stderr } =
        Command::new(BIN).args(args).current_dir(dir).output().expect("the binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

pub(crate) fn manifest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json is written");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// Every Parquet file under `dir` (skipping dot files, as readers do).
pub(crate) fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub(crate) const HEADER: &str = "record_id,response_id,received_date,question,text,rating,org_level_1,org_level_2,org_level_3,sex,gender,age_band,ethnicity,ethnicity_detail,disability,religion,sexuality,imd_quintile,carer";

/// A small canonical CSV someone else might have written.
pub(crate) fn canonical_csv(rows: usize) -> String {
    let texts = [
        "The nurse was lovely and kind",
        "Waited far too long in the waiting room, over 3 hours",
        "Could not get through on the phone to book an appointment",
        "Parking was impossible and expensive",
        "Food was cold",
        "Nothing, all good",
    ];
    let eth = ["White British", "Asian or Asian British", "Black", "", "Prefer not to say"];
    let mut s = String::from(HEADER);
    s.push('\n');
    for i in 0..rows {
        let q = if i % 2 == 0 { "what_good" } else { "could_improve" };
        s.push_str(&format!(
            "R{i:05},P{:05},2025-{:02}-15,{q},\"{}\",{},Trust,Dir {},Team {},{},,{},{},,No,,,{},\n",
            i / 2,
            1 + i % 12,
            texts[i % texts.len()],
            1 + i % 5,
            i % 3,
            i % 7,
            if i % 2 == 0 { "Female" } else { "Male" },
            ["16-24", "25-34", "75+"][i % 3],
            eth[i % eth.len()],
            1 + i % 5
        ));
    }
    s
}

/// [`canonical_csv`] of `rows` rows whose ids follow the first `skip` rows' (another export's
/// records: a run into the same output carries the first export's, and a row repeating one of
/// their ids is a duplicate).
pub(crate) fn canonical_csv_after(skip: usize, rows: usize) -> String {
    let all = canonical_csv(skip + rows);
    let mut lines = all.lines();
    let header = lines.next().unwrap_or_default();
    std::iter::once(header).chain(lines.skip(skip)).map(|l| format!("{l}\n")).collect()
}

/// An export whose comments carry markup, for the report's tests: 600 comments over `months`
/// months; Asian patients (one in thirty, under-heard against the sample baseline) raise their own
/// concern in a comment that begins with `<script>` and `<img onerror>`, and others' parking
/// comments begin with `<img onerror>`.
pub(crate) fn markup_csv(months: usize) -> String {
    let mut csv = format!("{HEADER}\n");
    for i in 0..600 {
        // the under-heard group's distinctive concern carries markup, so the report quotes it
        let eth = if i % 30 == 0 { "Asian" } else { "White British" };
        let text = match (eth, i % 3) {
            ("Asian", _) => {
                "<script>alert(1)</script><img src=x onerror=alert(2)> I needed an interpreter and none came, so I could not follow"
            }
            (_, 0) => "The nurse was lovely and kind and explained everything clearly to me",
            (_, 1) => "<img src=x onerror=alert(2)> Parking was impossible and far too expensive for visitors",
            _ => "Waited far too long to be seen, over three hours in the waiting room",
        };
        csv.push_str(&format!(
            "R{i},P{i},2025-{:02}-10,could_improve,\"{text}\",2,,,,,,,{eth},,,,,,\n",
            1 + i % months
        ));
    }
    csv
}

/// `unheard run --input f.csv --baseline <the sample baseline> --out OUT -q`, and `extra`, in `dir`.
pub(crate) fn run_with_sample_baseline(dir: &Path, out: &str, extra: &[&str]) -> Run {
    let baseline = project().join("data-samples/population-baseline.csv");
    let mut args =
        vec!["run", "--input", "f.csv", "--baseline", baseline.to_str().unwrap_or_default(), "--out", out, "-q"];
    args.extend_from_slice(extra);
    unheard(dir, &args)
}

/// `text` as UTF-16 with its byte order mark, as Excel's "Unicode Text" saves it (little-endian)
/// or big-endian.
pub(crate) fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut b = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for u in text.encode_utf16() {
        b.extend_from_slice(&if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    b
}

/// A Parquet file read whole, as one batch.
pub(crate) fn table(path: &Path) -> arrow::record_batch::RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<_> = builder.build().unwrap().map(Result::unwrap).collect();
    // a table of no rows has no batches
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

/// A string column's values.
pub(crate) fn strings(batch: &arrow::record_batch::RecordBatch, name: &str) -> Vec<Option<String>> {
    use arrow::array::{Array, AsArray};
    let col = batch.column_by_name(name).unwrap().as_string::<i32>();
    (0..col.len()).map(|i| (!col.is_null(i)).then(|| col.value(i).to_owned())).collect()
}

/// Re-saves a Parquet file as another tool may (polars, pandas with pyarrow types): strings as
/// large strings, 32-bit integers as 64-bit, the Arrow schema embedded.
pub(crate) fn resave_wider(path: &Path) {
    use arrow::datatypes::{DataType, Field, Schema};
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
            .unwrap();
    let read = builder.schema().clone();
    let batches: Vec<arrow::record_batch::RecordBatch> = builder.build().unwrap().map(Result::unwrap).collect();
    let wider = |t: &DataType| match t {
        DataType::Utf8 => DataType::LargeUtf8,
        DataType::Int32 => DataType::Int64,
        other => other.clone(),
    };
    let schema = std::sync::Arc::new(Schema::new(
        read.fields().iter().map(|f| Field::new(f.name(), wider(f.data_type()), true)).collect::<Vec<_>>(),
    ));
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema.clone(), None).unwrap();
    for b in &batches {
        let columns = b
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| arrow::compute::cast(c, f.data_type()).unwrap())
            .collect();
        w.write(&arrow::record_batch::RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
    }
    w.close().unwrap();
}
