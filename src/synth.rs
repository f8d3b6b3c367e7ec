//! Synthetic feedback data for demos, tests and benches.
//!
//! Everything here is invented: the trust, its teams, the people and every phrase. No real patient
//! comment is used. Comments are composed from a small phrase grammar (templates per theme with
//! slot fillers, contrast and negation, intensifiers) and then roughened the way real exports are:
//! misspellings, random case, emoji, stray punctuation, one-word answers, long rambling comments
//! and about 1% of comments carrying fictitious PII (Ofcom drama-range phone numbers, `example.com`
//! addresses, made-up postcodes, staff names, 10-digit numbers with and without a valid NHS
//! mod-11 check digit).
//!
//! Three layouts, chosen by the output file's extension:
//!
//! * `.csv` / `.parquet`: the canonical layout, one record (piece of text) per row;
//! * `.xlsx`: an FFT survey export, one row per response with two free-text columns;
//! * `.jsonl`: community conversation notes, one long facilitator summary per line.
//!
//! The data carries planted truths, written beside the output as `<stem>.truth.csv`
//! (`kind,dimension,group,value,note`):
//!
//! * **under-representation**: response propensity is skewed against the illustrative population
//!   baseline (`DIMS`, published as `data-samples/population-baseline.csv`) so that Asian, Black
//!   and Mixed ethnicities, ages 16-24 and 25-34, IMD quintile 1 and men respond less, and White,
//!   65-74 and 75+ respond more;
//! * **group concerns**: inclusion themes (interpreters INC01, discrimination INC03, digital
//!   exclusion INC04, cost and travel INC05, caring responsibilities INC06, accessibility INC08)
//!   appear in about 28% of the affected group's `could_improve` records and 2% of everyone else's;
//! * **a service change**: waiting-time complaints about MSK Physiotherapy drop from 2025-10-01.
//!
//! Ratings follow the FFT scale: 1 very good, 2 good, 3 neither, 4 poor, 5 very poor, 6 don't know.
//! Output is deterministic: the same `records` and `seed` give byte-identical files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SynthOptions {
    /// Rows to write: records for `.csv`/`.parquet`, responses for `.xlsx`, conversations for `.jsonl`.
    pub records: usize,
    /// Seed for the `ChaCha8` generator; the same seed gives the same bytes.
    pub seed: u64,
}

/// What [`write`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SynthSummary {
    /// Pieces of text written (for `.xlsx`, the non-blank free-text cells).
    pub records: usize,
    /// Data rows written (excluding headers).
    pub rows: usize,
    /// The data file.
    pub path: PathBuf,
    /// The ground-truth file beside it.
    pub truth_path: PathBuf,
}

/// Errors from writing synthetic data; every message names the file, the cause is the `source`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SynthError {
    /// Creating or writing a file failed.
    #[error("{}: cannot write file", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV writer failed.
    #[error("{}: cannot write csv", path.display())]
    Csv {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// Building the Arrow batch or writing Parquet failed.
    #[error("{}: cannot write parquet: {message}", path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The Arrow or Parquet error message.
        message: String,
    },
    /// The XLSX writer failed.
    #[error("{}: cannot write xlsx", path.display())]
    Xlsx {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
    /// Serialising a JSON line failed.
    #[error("{}: cannot write json line", path.display())]
    Json {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The extension is not one of `.csv`, `.jsonl`, `.parquet`, `.xlsx`.
    #[error("{0}: unknown output format (expected .csv, .jsonl, .parquet or .xlsx)")]
    UnknownFormat(String),
}

/// The ground truth's columns: a file that starts with them is one synth wrote (and may replace).
const TRUTH_HEADER: [&str; 5] = ["kind", "dimension", "group", "value", "note"];

/// Whether `path` is a ground truth synth wrote (its header is [`TRUTH_HEADER`]).
#[must_use]
pub(crate) fn is_truth_file(path: &Path) -> bool {
    let head = format!("{}\n", TRUTH_HEADER.join(","));
    let mut buf = vec![0; head.len()];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf)).is_ok()
        && buf == head.as_bytes()
}

/// The format `path` names by its extension (`csv`, `jsonl`, `parquet`, `xlsx`).
///
/// # Errors
/// [`SynthError::UnknownFormat`] for any other extension.
pub(crate) fn format_of(path: &Path) -> Result<String, SynthError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "csv" | "jsonl" | "parquet" | "xlsx" => Ok(ext),
        _ => Err(SynthError::UnknownFormat(path.display().to_string())),
    }
}

/// Writes `opts.records` records to `path`; format chosen from the extension: .csv, .jsonl, .parquet, .xlsx.
/// Also writes the ground truth to `truth_path` (the command's: `<path without extension>.truth.csv`).
///
/// # Errors
///
/// [`SynthError::UnknownFormat`] for any other extension; otherwise the first I/O or writer
/// error, naming the file.
///
/// For `.xlsx` a row is a response (up to two records); for `.jsonl` a row is a conversation.
pub(crate) fn write(path: &Path, truth_path: &Path, opts: &SynthOptions) -> Result<SynthSummary, SynthError> {
    let ext = format_of(path)?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let (records, rows, truth) = match ext.as_str() {
        "csv" | "parquet" => {
            let responses = canonical_responses(&mut rng, opts.records);
            let rows = flatten(&responses);
            if ext == "csv" {
                write_canonical_csv(path, &rows)?;
            } else {
                write_canonical_parquet(path, &rows)?;
            }
            let truth = truth_rows(&rows, ALL_DIMS);
            (rows.len(), rows.len(), truth)
        }
        "xlsx" => {
            let responses = survey_responses(&mut rng, opts.records);
            let records = write_survey_xlsx(path, &responses)?;
            let rows = flatten(&responses);
            let truth = truth_rows(&rows, XLSX_DIMS);
            (records, responses.len(), truth)
        }
        "jsonl" => {
            let truth = write_conversations(path, &mut rng, opts.records)?;
            (opts.records, opts.records, truth)
        }
        _ => return Err(SynthError::UnknownFormat(path.display().to_string())),
    };
    write_csv(truth_path, &TRUTH_HEADER, &truth)?;
    Ok(SynthSummary { records, rows, path: path.to_path_buf(), truth_path: truth_path.to_path_buf() })
}

// ---------------------------------------------------------------------------------------------
// Population, propensity and demographics
// ---------------------------------------------------------------------------------------------

/// One baseline dimension: groups, illustrative population counts and response propensity.
struct Dim {
    name: &'static str,
    groups: &'static [&'static str],
    population: &'static [u32],
    propensity: &'static [f64],
}

const ETHNICITY: usize = 0;
const AGE: usize = 1;
const SEX: usize = 2;
const IMD: usize = 3;
const DISABILITY: usize = 4;
const CARER: usize = 5;
const ALL_DIMS: &[usize] = &[ETHNICITY, AGE, SEX, IMD, DISABILITY, CARER];
const XLSX_DIMS: &[usize] = &[ETHNICITY, AGE, SEX, DISABILITY];

#[rustfmt::skip]
const DIMS: [Dim; 6] = [
    Dim { name: "ethnicity", groups: &["Asian", "Black", "Mixed", "White", "Other"], population: &[50_000, 20_000, 15_000, 405_000, 10_000], propensity: &[0.5, 0.45, 0.55, 1.12, 0.95] },
    Dim { name: "age_band", groups: &["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"], population: &[55_000, 70_000, 65_000, 68_000, 64_000, 52_000, 41_000], propensity: &[0.45, 0.6, 0.9, 1.0, 1.15, 1.5, 1.6] },
    Dim { name: "sex", groups: &["Female", "Male"], population: &[254_000, 246_000], propensity: &[1.3, 0.6] },
    Dim { name: "imd_quintile", groups: &["1", "2", "3", "4", "5"], population: &[110_000, 105_000, 100_000, 95_000, 90_000], propensity: &[0.5, 0.9, 1.1, 1.2, 1.3] },
    Dim { name: "disability", groups: &["Yes", "No"], population: &[92_000, 408_000], propensity: &[1.0, 1.0] },
    Dim { name: "carer", groups: &["Yes", "No"], population: &[45_000, 455_000], propensity: &[1.0, 1.0] },
];

/// Groups planted as under-represented (dimension index, group index).
#[rustfmt::skip]
const UNDER: &[(usize, usize)] = &[(ETHNICITY, 0), (ETHNICITY, 1), (ETHNICITY, 2), (AGE, 0), (AGE, 1), (SEX, 1), (IMD, 0)];
/// Groups planted as over-represented.
#[rustfmt::skip]
const OVER: &[(usize, usize)] = &[(ETHNICITY, 3), (AGE, 5), (AGE, 6)];

/// Planted ratio of feedback share to population share for group `g` of dimension `d`.
fn expected_ratio(d: &Dim, g: usize) -> f64 {
    let total: f64 = d.population.iter().map(|&p| f64::from(p)).sum();
    let mix: f64 = d.population.iter().zip(d.propensity).map(|(&p, &m)| f64::from(p) / total * m).sum();
    d.propensity.get(g).copied().unwrap_or(0.0) / mix
}

/// A respondent's true characteristics (before the export mangles them).
#[derive(Debug, Clone, Copy)]
struct Person {
    /// Group index per dimension; `None` for age means under 16 (outside the baseline).
    group: [Option<usize>; 6],
    religion: usize,
    sexuality: usize,
}

/// Demographic fields as they appear in an export, plus which baseline dimensions were stated.
#[derive(Debug, Clone, Default)]
struct Shown {
    sex: String,
    gender: String,
    age_band: String,
    ethnicity: String,
    ethnicity_detail: String,
    disability: String,
    religion: String,
    sexuality: String,
    imd_quintile: String,
    carer: String,
    stated: [bool; 6],
}

#[rustfmt::skip]
const RELIGIONS: [&str; 8] =
    ["Christian", "Muslim", "Hindu", "Sikh", "Jewish", "Buddhist", "No religion", "Other"];
const SEXUALITIES: [&str; 4] = ["Heterosexual", "Gay or lesbian", "Bisexual", "Other"];
const PNTS: &str = "Prefer not to say";

fn sample_person(rng: &mut ChaCha8Rng) -> Person {
    let mut group = [None; 6];
    for (slot, dim) in group.iter_mut().zip(DIMS.iter()) {
        let w: Vec<f64> = dim.population.iter().zip(dim.propensity).map(|(&p, &m)| f64::from(p) * m).collect();
        *slot = Some(weighted(rng, &w));
    }
    if rng.random_bool(0.02) {
        group[AGE] = None;
    }
    let religion_w: &[f64] = match group[ETHNICITY] {
        Some(0) => &[5.0, 45.0, 25.0, 12.0, 0.5, 2.0, 8.0, 3.0],
        Some(1) => &[65.0, 20.0, 0.0, 0.0, 0.0, 0.0, 12.0, 3.0],
        Some(4) => &[20.0, 30.0, 2.0, 0.0, 0.0, 15.0, 30.0, 5.0],
        _ => &[48.0, 2.0, 0.5, 0.3, 1.0, 1.0, 45.0, 3.0],
    };
    Person { group, religion: weighted(rng, religion_w), sexuality: weighted(rng, &[93.0, 3.0, 3.0, 1.0]) }
}

/// Returns `Some("")` (missing), `Some(PNTS)` (not stated) or `None` (a real value follows).
fn absent(rng: &mut ChaCha8Rng, missing: f64, not_stated: f64) -> Option<&'static str> {
    let r: f64 = rng.random();
    if r < missing {
        Some("")
    } else if r < missing + not_stated {
        Some(PNTS)
    } else {
        None
    }
}

fn show(rng: &mut ChaCha8Rng, p: &Person) -> Shown {
    let mut s = Shown::default();
    let female = p.group[SEX] == Some(0);
    let sex = usize::from(!female) * 2;
    s.sex = if let Some(v) = absent(rng, 0.15, 0.03) {
        v.to_string()
    } else {
        s.stated[SEX] = true;
        ["Female", "F", "Male", "M"][sex + usize::from(rng.random_bool(0.2))].to_string()
    };
    s.gender = match absent(rng, 0.25, 0.04) {
        Some(v) => v.to_string(),
        None if rng.random_bool(0.012) => "Non-binary".to_string(),
        None => ["Female", "Woman", "Male", "Man"][sex + usize::from(rng.random_bool(0.1))].to_string(),
    };
    s.age_band = match absent(rng, 0.16, 0.04) {
        Some(v) => v.to_string(),
        None => match p.group[AGE] {
            None => "Under 16".to_string(),
            Some(a) => {
                s.stated[AGE] = true;
                let band = DIMS[AGE].groups.get(a).copied().unwrap_or("");
                if rng.random_bool(0.04) {
                    if band == "75+" {
                        "75 and over".to_string()
                    } else {
                        band.replace('-', " to ")
                    }
                } else {
                    band.to_string()
                }
            }
        },
    };
    show_ethnicity(rng, p.group[ETHNICITY].unwrap_or(3), &mut s);
    s.disability = yes_no(rng, p.group[DISABILITY], 0.24, 0.05, &mut s.stated[DISABILITY]);
    s.carer = yes_no(rng, p.group[CARER], 0.27, 0.0, &mut s.stated[CARER]);
    s.religion = absent(rng, 0.28, 0.08)
        .map_or_else(|| RELIGIONS.get(p.religion).copied().unwrap_or("Other").into(), Into::into);
    s.sexuality = absent(rng, 0.30, 0.07)
        .map_or_else(|| SEXUALITIES.get(p.sexuality).copied().unwrap_or("Other").into(), Into::into);
    s.imd_quintile = if rng.random_bool(0.18) {
        String::new()
    } else {
        s.stated[IMD] = true;
        (p.group[IMD].unwrap_or(2) + 1).to_string()
    };
    s
}

/// Fills `ethnicity` and `ethnicity_detail`: NHS ethnic category codes mixed with free text.
fn show_ethnicity(rng: &mut ChaCha8Rng, eth: usize, s: &mut Shown) {
    match absent(rng, 0.22, 0.0) {
        Some(v) => s.ethnicity = v.to_string(),
        None if rng.random_bool(0.06) => {
            s.ethnicity = pick(rng, &["Z", "Z", PNTS, "Not stated"]).to_string();
        }
        None => {
            s.stated[ETHNICITY] = true;
            let codes: &[(&str, f64)] = match eth {
                0 => &[("H", 40.0), ("J", 30.0), ("K", 15.0), ("L", 15.0)],
                1 => &[("M", 30.0), ("N", 60.0), ("P", 10.0)],
                2 => &[("D", 30.0), ("E", 20.0), ("F", 30.0), ("G", 20.0)],
                3 => &[("A", 85.0), ("B", 3.0), ("C", 12.0)],
                _ => &[("R", 40.0), ("S", 60.0)],
            };
            let w: Vec<f64> = codes.iter().map(|c| c.1).collect();
            let code = codes.get(weighted(rng, &w)).map_or("S", |c| c.0);
            s.ethnicity = if rng.random_bool(0.65) {
                code.to_string()
            } else {
                pick(rng, ETH_TEXT.get(eth).copied().unwrap_or(&["Other"])).to_string()
            };
            if rng.random_bool(0.3) {
                let detail: &[&str] = match code {
                    "C" => &["Polish", "Romanian", "Portuguese", "Gypsy or Irish Traveller"],
                    "L" => &["Sri Lankan", "Nepali", "Afghan"],
                    "N" => &["Somali", "Nigerian", "Ghanaian", "Eritrean"],
                    "S" => &["Arab", "Kurdish", "Turkish", "Iranian"],
                    "G" => &["Mixed Asian and Black", "White and Arab"],
                    _ => &[],
                };
                s.ethnicity_detail = pick(rng, detail).to_string();
            }
        }
    }
}

#[rustfmt::skip]
const ETH_TEXT: [&[&str]; 5] = [
    &["Asian or Asian British", "Pakistani", "Indian", "Bangladeshi", "Asian"],
    &["Black", "Black British", "Black African", "Black Caribbean"],
    &["Mixed race", "Mixed", "White and Black Caribbean", "Mixed - White and Asian"],
    &["White British", "White", "British", "White Irish", "White other"],
    &["Other", "Chinese", "Arab", "Any other ethnic group"],
];

fn yes_no(rng: &mut ChaCha8Rng, g: Option<usize>, miss: f64, pnts: f64, stated: &mut bool) -> String {
    if let Some(v) = absent(rng, miss, pnts) {
        v.to_string()
    } else {
        *stated = true;
        if g == Some(0) { "Yes" } else { "No" }.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Organisation
// ---------------------------------------------------------------------------------------------

const TRUST: &str = "Wyvern Community Trust";

/// A team (`org_level_3`) with the words its patients use about it.
struct Team {
    name: &'static str,
    directorate: &'static str,
    weight: f64,
    staff: &'static [&'static str],
    service: &'static [&'static str],
    care: &'static [&'static str],
}

const ADULT: &str = "Adult Community";
const CHILD: &str = "Children and Families";
const MH: &str = "Mental Health";
const URGENT: &str = "Urgent Care";
const SPEC: &str = "Specialist Services";
/// The team whose waiting-time complaints drop at [`CHANGE_DATE`].
const CHANGE_TEAM: &str = "MSK Physiotherapy";
const CHANGE_DATE: (i32, u32, u32) = (2025, 10, 1);

#[rustfmt::skip]
const TEAMS: &[Team] = &[
    Team { name: "District Nursing", directorate: ADULT, weight: 10.0, staff: &["the nurse", "the district nurse"], service: &["the district nurses", "the nursing team"], care: &["my leg dressings", "the wound care", "Mum's dressings"] },
    Team { name: "Podiatry", directorate: ADULT, weight: 6.0, staff: &["the podiatrist"], service: &["podiatry", "the foot clinic"], care: &["my feet", "the nail surgery", "my foot ulcer"] },
    Team { name: CHANGE_TEAM, directorate: ADULT, weight: 9.0, staff: &["the physio", "the physiotherapist"], service: &["physio", "the physio department"], care: &["my knee", "the exercises", "my back", "my shoulder"] },
    Team { name: "Community Rehab", directorate: ADULT, weight: 4.0, staff: &["the therapist", "the OT"], service: &["the rehab team"], care: &["getting me back on my feet", "the exercises"] },
    Team { name: "Tissue Viability", directorate: ADULT, weight: 2.0, staff: &["the nurse", "the specialist nurse"], service: &["the clinic"], care: &["my leg ulcer", "my pressure sore"] },
    Team { name: "Continence Service", directorate: ADULT, weight: 2.0, staff: &["the nurse"], service: &["the continence service"], care: &["the pads", "my bladder problems"] },
    Team { name: "Children's Therapy", directorate: CHILD, weight: 5.0, staff: &["the speech therapist", "the therapist", "the OT"], service: &["children's therapy"], care: &["my son's speech", "my daughter's progress"] },
    Team { name: "Health Visiting", directorate: CHILD, weight: 5.0, staff: &["the health visitor"], service: &["the health visiting team"], care: &["the baby's weight checks", "the feeding advice"] },
    Team { name: "School Nursing", directorate: CHILD, weight: 3.0, staff: &["the school nurse"], service: &["school nursing"], care: &["the vaccinations", "my daughter's asthma plan"] },
    Team { name: "Community Paediatrics", directorate: CHILD, weight: 3.0, staff: &["the doctor", "the paediatrician"], service: &["the clinic"], care: &["my son's assessment", "the diagnosis"] },
    Team { name: "Community Mental Health", directorate: MH, weight: 5.0, staff: &["my care coordinator", "the psychiatrist", "the nurse"], service: &["the CMHT", "the mental health team"], care: &["my mental health", "my medication review"] },
    Team { name: "Talking Therapies", directorate: MH, weight: 5.0, staff: &["my therapist", "the counsellor"], service: &["talking therapies", "the service"], care: &["the CBT sessions", "my anxiety"] },
    Team { name: "Learning Disability Team", directorate: MH, weight: 2.0, staff: &["the nurse", "the support worker"], service: &["the LD team"], care: &["my brother's support", "the health check"] },
    Team { name: "Memory Service", directorate: MH, weight: 2.0, staff: &["the nurse", "the doctor"], service: &["the memory clinic"], care: &["Dad's memory assessment", "the diagnosis"] },
    Team { name: "Urgent Treatment Centre", directorate: URGENT, weight: 10.0, staff: &["the nurse", "the doctor", "the receptionist"], service: &["the UTC", "the urgent treatment centre"], care: &["my wrist", "the X-ray", "my son's cut"] },
    Team { name: "Minor Injuries Unit", directorate: URGENT, weight: 5.0, staff: &["the nurse practitioner", "the nurse"], service: &["minor injuries", "the MIU"], care: &["my ankle", "the stitches"] },
    Team { name: "Phlebotomy", directorate: URGENT, weight: 6.0, staff: &["the phlebotomist", "the lady who took my blood"], service: &["the blood clinic"], care: &["my blood test"] },
    Team { name: "Sexual Health", directorate: SPEC, weight: 5.0, staff: &["the nurse", "the doctor"], service: &["the sexual health clinic", "the clinic"], care: &["my results", "the contraception advice"] },
    Team { name: "Community Dental", directorate: SPEC, weight: 4.0, staff: &["the dentist", "the dental nurse"], service: &["the dental clinic"], care: &["my son's teeth", "my filling"] },
    Team { name: "Diabetes Education", directorate: SPEC, weight: 3.0, staff: &["the dietitian", "the educator"], service: &["the diabetes course"], care: &["my sugars", "the course"] },
    Team { name: "Respiratory Service", directorate: SPEC, weight: 3.0, staff: &["the nurse", "the physio"], service: &["the respiratory team"], care: &["my COPD", "my breathing", "the inhaler check"] },
    Team { name: "Audiology", directorate: SPEC, weight: 4.0, staff: &["the audiologist"], service: &["audiology"], care: &["my hearing aids", "the hearing test"] },
];

// ---------------------------------------------------------------------------------------------
// Phrase grammar
// ---------------------------------------------------------------------------------------------

/// A theme's clauses: positive, negative and suggestions. Slots: `{s}` staff member, `{p}` staff
/// in the plural, `{svc}` service, `{care}` what was treated, `{int}` intensifier, `{adj}`/`{nadj}`
/// adjectives, `{long}`/`{weeks}`/`{short}` durations, `{n}` a small count.
struct Theme {
    pos: &'static [&'static str],
    neg: &'static [&'static str],
    sugg: &'static [&'static str],
    /// Weights when choosing a theme for a positive / a negative comment.
    w_pos: f64,
    w_neg: f64,
}

const WAITING: usize = 1;
#[rustfmt::skip]
const THEMES: &[Theme] = &[
    // 0 staff manner
    Theme { w_pos: 30.0, w_neg: 10.0,
        pos: &["{s} was {int}{adj}", "{p} were {int}{adj} and {adj}", "{s} made me feel at ease", "everyone was {int}{adj}", "{s} was {adj} and not rude at all", "{p} were {adj}, nothing was too much trouble", "{s} treated me with respect", "{s} was {int}{adj} with my little one", "never felt rushed"],
        neg: &["{s} was {int}{nadj}", "the receptionist was {int}{nadj}", "felt rushed by {s}", "nobody smiled or said hello", "{s} talked over me", "{p} were {nadj} and seemed fed up"],
        sugg: &["staff could be more friendly", "be more polite on reception", "smile and introduce yourselves", "{p} need to be a bit kinder"] },
    // 1 waiting
    Theme { w_pos: 10.0, w_neg: 18.0,
        pos: &["seen on time", "hardly any wait", "didn't have to wait long", "seen within {short}", "{int}quick and efficient", "no waiting around"],
        neg: &["waited {long} past my appointment time", "the wait was awful", "{int}long wait to be seen", "sat in the waiting room for {long}", "the waiting list is far too long, {weeks}", "had to wait {weeks} to be seen", "{weeks} on the waiting list for {svc}"],
        sugg: &["shorter waiting times", "reduce the waiting list", "tell us if clinics are running late", "see people on time", "the wait to be seen is too long"] },
    // 2 communication
    Theme { w_pos: 12.0, w_neg: 14.0,
        pos: &["everything was explained {int}clearly", "kept me informed all the way through", "{s} explained everything so I understood", "{s} answered all my questions", "{s} listened to me", "I was involved in every decision"],
        neg: &["nobody told me what was happening", "no one explained the results", "different staff told me different things", "I was not kept informed", "{s} didn't listen", "never heard back after {care}"],
        sugg: &["better communication between teams", "explain things more clearly", "let people know what's happening", "keep patients updated", "listen to patients more"] },
    // 3 appointments
    Theme { w_pos: 5.0, w_neg: 12.0,
        pos: &["easy to get an appointment", "the appointment came through quickly", "flexible with appointment times", "got an appointment the same week"],
        neg: &["my appointment was cancelled twice", "the appointment letter arrived after the date", "had to rebook {n} times", "appointments are always at awkward times", "cancelled on the day with no reason"],
        sugg: &["evening and weekend appointments", "more appointments", "don't cancel at short notice", "send reminders before appointments", "let us choose the time"] },
    // 4 phone
    Theme { w_pos: 3.0, w_neg: 12.0,
        pos: &["the phone was answered quickly", "easy to get through on the phone", "they rang me back the same day"],
        neg: &["can never get through on the phone", "phoned {n} times and nobody answered", "on hold for {long}", "the phone line just rings out", "no one returns calls"],
        sugg: &["answer the phone", "more people on the phones", "a call back service", "a direct number for {svc}"] },
    // 5 cleanliness
    Theme { w_pos: 5.0, w_neg: 3.0,
        pos: &["{int}clean and tidy", "spotless clinic", "the room was {int}clean"],
        neg: &["the toilets were dirty", "bins were overflowing", "not very clean", "dust everywhere"],
        sugg: &["clean the toilets more often", "keep the waiting area tidy"] },
    // 6 food & drink
    Theme { w_pos: 1.0, w_neg: 2.0,
        pos: &["the cup of tea was lovely", "they gave me a drink and biscuit"],
        neg: &["the vending machine was empty", "nothing to eat or drink while waiting"],
        sugg: &["a water machine in the waiting room", "a drinks machine that works"] },
    // 7 parking
    Theme { w_pos: 2.0, w_neg: 8.0,
        pos: &["parking was easy", "plenty of parking"],
        neg: &["parking is a nightmare", "couldn't find a space", "had to park miles away", "the parking charges are a rip off"],
        sugg: &["more parking", "more parking spaces", "free parking for patients"] },
    // 8 transport
    Theme { w_pos: 1.0, w_neg: 3.0,
        pos: &["patient transport was on time", "the transport driver was {adj}"],
        neg: &["patient transport was {long} late", "transport never turned up", "got home very late because transport was late"],
        sugg: &["better patient transport", "transport that turns up on time"] },
    // 9 medication
    Theme { w_pos: 3.0, w_neg: 4.0,
        pos: &["my prescription was sorted quickly", "{s} explained my medication clearly"],
        neg: &["my prescription was wrong", "waited days for my medication", "no one reviewed my tablets"],
        sugg: &["sort out prescriptions quicker", "check medication properly"] },
    // 10 discharge
    Theme { w_pos: 2.0, w_neg: 3.0,
        pos: &["discharged with a clear plan", "follow up was all arranged"],
        neg: &["discharged without any follow up", "discharged too soon", "no one told my GP"],
        sugg: &["better follow up after discharge", "a number to ring after discharge"] },
    // 11 environment
    Theme { w_pos: 5.0, w_neg: 6.0,
        pos: &["lovely calm waiting room", "comfortable and bright", "nice toys for the kids"],
        neg: &["the waiting room was too hot", "very cramped waiting area", "nowhere to sit", "it was freezing in there"],
        sugg: &["more chairs", "air con in the waiting room", "something for children to do"] },
    // 12 care and its impact
    Theme { w_pos: 15.0, w_neg: 5.0,
        pos: &["{s} really helped with {care}", "I feel so much better", "{s} was {int}thorough with {care}", "my pain has improved", "{s} really knew what they were doing", "such a difference since they looked at {care}"],
        neg: &["still in pain after {n} sessions", "didn't feel any better", "felt like nothing was done about {care}", "still no progress with {care}"],
        sugg: &["more sessions", "longer appointments", "more time to talk"] },
    // 13 staffing
    Theme { w_pos: 1.0, w_neg: 6.0,
        pos: &["plenty of staff around"],
        neg: &["not enough staff", "staff are clearly overworked", "short staffed again"],
        sugg: &["more staff", "more nurses", "pay the staff more"] },
    // 14 gratitude
    Theme { w_pos: 15.0, w_neg: 0.0,
        pos: &["thank you so much", "keep up the good work", "couldn't ask for better", "can't fault it", "excellent service", "5 stars", "would recommend to anyone", "thanks to all the team", "brilliant as always", "{svc} is a credit to the NHS"],
        neg: &[], sugg: &[] },
];

#[rustfmt::skip]
const INT: &[&str] = &["", "", "", "very ", "very ", "really ", "so ", "extremely ", "absolutely ", "super ", "really really "];
#[rustfmt::skip]
const ADJ: &[&str] = &["lovely", "friendly", "kind", "helpful", "caring", "professional", "polite", "patient", "reassuring", "welcoming", "brilliant", "amazing"];
#[rustfmt::skip]
const NADJ: &[&str] = &["rude", "abrupt", "unhelpful", "short with me", "off-hand", "unfriendly", "uninterested"];
#[rustfmt::skip]
const PLURAL: &[&str] = &["the staff", "the team", "all the staff", "the nurses", "the receptionists"];
#[rustfmt::skip]
const LONG: &[&str] = &["over an hour", "2 hours", "an hour and a half", "nearly 3 hours", "45 minutes", "40 mins", "ages"];
#[rustfmt::skip]
const WEEKS: &[&str] = &["6 weeks", "3 months", "over a year", "8 months", "12 weeks", "months"];
#[rustfmt::skip]
const SHORT: &[&str] = &["5 minutes", "10 mins", "a few minutes", "minutes"];
#[rustfmt::skip]
const COUNT: &[&str] = &["3", "three", "4", "several", "5", "six"];

#[rustfmt::skip]
const ONE_WORD: &[&str] = &["Brilliant", "Ok", "Fine", "Good", "Excellent", "Everything", "Great", "Fab", "All of it", "Very good", "Lovely staff", "Quick", "Friendly", "Helpful", "Amazing", "Perfect", "Good service", "Nice staff", "Efficient", "ok"];
#[rustfmt::skip]
const NOTHING: &[&str] = &["Nothing", "nothing", "Nothing.", "n/a", "N/A", "-", "no comment", "Nothing, all good", "Nothing really", "Nothing at all", "Can't think of anything", "None", "no", "Keep doing what you're doing", "Nothing to improve", "all fine", ".", "Not sure", "nothing it was fine", "NA"];
#[rustfmt::skip]
const NOT_MUCH: &[&str] = &["Not much", "Nothing", "not a lot", "Nothing really", "The nurse was nice I suppose", "Hard to say"];
#[rustfmt::skip]
const EMOJI_POS: &[&str] = &["😊", "👍", "❤️", "🙏", "😀", "👏"];
#[rustfmt::skip]
const EMOJI_NEG: &[&str] = &["😡", "👎", "😞", "🙁"];
#[rustfmt::skip]
const CONNECT: &[&str] = &["then", "on top of that", "to be fair", "anyway", "I have to say", "also", "and", "the other thing is", "and another thing", "after that"];

/// Planted inclusion concerns: theme code, name and clauses that use the codebook's words.
struct Concern {
    code: &'static str,
    name: &'static str,
    dim: usize,
    groups: &'static [usize],
    clauses: &'static [&'static str],
}

#[rustfmt::skip]
const CONCERNS: &[Concern] = &[
    Concern { code: "INC01", name: "language and interpreters", dim: ETHNICITY, groups: &[0, 4], clauses: &[
        "I needed an interpreter but none was booked", "English is not my first language and nobody checked I understood",
        "please send letters in my language", "my son had to translate for me which is not right",
        "ask if we need an interpreter before the appointment", "the interpreter never turned up so the appointment was wasted",
        "leaflets should be translated into other languages", "it would help to have someone who speaks in my language"] },
    Concern { code: "INC03", name: "discrimination and not being believed", dim: ETHNICITY, groups: &[1], clauses: &[
        "I felt the nurse didn't believe me about my pain", "I was dismissed and not taken seriously",
        "felt I was not taken seriously because of my colour", "there was racism from a member of staff on reception",
        "they didn't believe me until my daughter came with me", "my concerns were dismissed again"] },
    Concern { code: "INC04", name: "digital exclusion", dim: AGE, groups: &[6], clauses: &[
        "I have no computer so couldn't fill in the online form", "everything is online now and I don't use the internet",
        "not everyone can use an app, please keep phone booking", "I was told to look on the website but I don't have one",
        "letters are better than email for people my age", "they kept sending me to the app"] },
    Concern { code: "INC05", name: "cost and travel", dim: IMD, groups: &[0], clauses: &[
        "it is two buses to get there and the bus fare adds up", "I couldn't afford the taxi home",
        "hold clinics nearer, I couldn't afford to get there", "the bus fare every week is a lot when money is tight",
        "had to get a taxi because the buses don't go there", "two buses each way with a bad leg"] },
    Concern { code: "INC06", name: "caring responsibilities", dim: CARER, groups: &[0], clauses: &[
        "hard to come in with no childcare", "I look after my mum so appointment times need to be flexible",
        "I had no one to look after my husband while I was here", "childcare is a problem with early appointments",
        "no one to look after the kids so I had to bring them", "I care for my dad and can't leave him for long"] },
    Concern { code: "INC08", name: "accessibility", dim: DISABILITY, groups: &[0], clauses: &[
        "there was no step free access at the front entrance", "the lift was broken and I use a wheelchair",
        "there was no hearing loop at reception", "please send my letters in large print",
        "an easy read leaflet would have helped", "the toilet was not big enough for my wheelchair"] },
];
const CONCERN_RATE: f64 = 0.28;
const BACKGROUND_RATE: f64 = 0.02;
/// Words noise must not mangle, so that planted concerns stay findable.
#[rustfmt::skip]
const PROTECTED: &[&str] = &["interpret", "translat", "language", "believe", "dismiss", "serious", "racism", "online", "app", "website", "computer", "email", "bus", "taxi", "afford", "childcare", "look", "wheelchair", "step", "hearing", "loop", "easy", "read", "large", "print"];

#[rustfmt::skip]
const MISSPELL: &[(&str, &str)] = &[
    ("received", "recieved"), ("appointment", "apointment"), ("doctor", "docter"), ("definitely", "definately"),
    ("receptionist", "receptionest"), ("really", "realy"), ("excellent", "excelent"), ("because", "becuase"),
    ("friendly", "freindly"), ("professional", "proffesional"), ("waiting", "waitting"), ("until", "untill"),
    ("explained", "explaned"), ("brilliant", "brillant"), ("their", "there"), ("nurse", "nuse"), ("minutes", "minuets"),
];

fn pick<'a>(rng: &mut ChaCha8Rng, xs: &[&'a str]) -> &'a str {
    if xs.is_empty() {
        return "";
    }
    xs[rng.random_range(0..xs.len())]
}

/// Index drawn with probability proportional to `w` (0 if all weights are zero).
fn weighted(rng: &mut ChaCha8Rng, w: &[f64]) -> usize {
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return 0;
    }
    let mut r = rng.random::<f64>() * total;
    for (i, x) in w.iter().enumerate() {
        if r < *x {
            return i;
        }
        r -= x;
    }
    w.len().saturating_sub(1)
}

/// Expands the `{slot}`s of a template for a team.
fn fill(rng: &mut ChaCha8Rng, tpl: &str, team: &Team) -> String {
    let mut out = String::with_capacity(tpl.len() + 16);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let word = match &after[..close] {
            "s" => pick(rng, team.staff),
            "p" => pick(rng, PLURAL),
            "svc" => pick(rng, team.service),
            "care" => pick(rng, team.care),
            "int" => pick(rng, INT),
            "adj" => pick(rng, ADJ),
            "nadj" => pick(rng, NADJ),
            "long" => pick(rng, LONG),
            "weeks" => pick(rng, WEEKS),
            "short" => pick(rng, SHORT),
            _ => pick(rng, COUNT),
        };
        out.push_str(word);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Polarity of a clause to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pol {
    Pos,
    Neg,
    Sugg,
}

/// Draws a clause of the given polarity; returns it with its theme index.
fn clause(rng: &mut ChaCha8Rng, pol: Pol, team: &Team, wait_boost: f64) -> (String, usize) {
    let w: Vec<f64> = THEMES
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let base = if pol == Pol::Pos { t.w_pos } else { t.w_neg };
            if i == WAITING && pol != Pol::Pos {
                base * wait_boost
            } else {
                base
            }
        })
        .collect();
    let t = weighted(rng, &w);
    let theme = THEMES.get(t).unwrap_or(&THEMES[0]);
    let list = match pol {
        Pol::Pos => theme.pos,
        Pol::Neg => theme.neg,
        Pol::Sugg => theme.sugg,
    };
    let tpl = pick(rng, list);
    (fill(rng, tpl, team), t)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Joins clauses into sentences with varied separators and a varied ending.
fn join(rng: &mut ChaCha8Rng, clauses: &[String]) -> String {
    let mut out = String::new();
    for (i, c) in clauses.iter().enumerate() {
        if i == 0 {
            out.push_str(&capitalise(c));
            continue;
        }
        match weighted(rng, &[70.0, 10.0, 10.0, 5.0, 5.0]) {
            0 => {
                out.push_str(". ");
                out.push_str(&capitalise(c));
            }
            1 => {
                out.push_str(", ");
                out.push_str(c);
            }
            2 => {
                out.push_str(" and ");
                out.push_str(c);
            }
            3 => {
                out.push_str("! ");
                out.push_str(&capitalise(c));
            }
            _ => {
                out.push_str(" - ");
                out.push_str(c);
            }
        }
    }
    out.push_str(pick(rng, &[".", ".", ".", ".", ".", ".", ".", "", "", "", "!", "!!", "..."]));
    out
}

/// A contrast sentence: something good but something bad (or the other way round).
fn contrast(rng: &mut ChaCha8Rng, team: &Team, wait_boost: f64) -> (String, usize) {
    let (p, _) = clause(rng, Pol::Pos, team, 1.0);
    let (n, t) = clause(rng, Pol::Neg, team, wait_boost);
    let s = match rng.random_range(0..4) {
        0 => format!("{p} but {n}"),
        1 => format!("although {n}, {p}"),
        2 => format!("{p}, shame {n}"),
        _ => format!("{p}, however {n}"),
    };
    (s, t)
}

/// A long rambling comment of many clauses, mixed polarity.
fn ramble(rng: &mut ChaCha8Rng, team: &Team, negative: bool) -> String {
    let target = rng.random_range(400..1950);
    let mut clauses: Vec<String> = Vec::new();
    let mut len = 0;
    for i in 0.. {
        if len > target {
            break;
        }
        let pol = if rng.random_bool(if negative { 0.7 } else { 0.3 }) { Pol::Neg } else { Pol::Pos };
        let (c, _) = clause(rng, pol, team, 1.0);
        if i > 0 && rng.random_bool(0.4) {
            clauses.push(format!("{} {c}", pick(rng, CONNECT)));
        } else {
            clauses.push(c);
        }
        len += clauses.last().map_or(0, |c| c.len() + 2);
    }
    join(rng, &clauses)
}

/// The question a record answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Question {
    WhatGood,
    CouldImprove,
    Nonspecific,
}

impl Question {
    fn as_str(self) -> &'static str {
        match self {
            Question::WhatGood => "what_good",
            Question::CouldImprove => "could_improve",
            Question::Nonspecific => "nonspecific",
        }
    }
}

/// A generated comment with what was planted in it.
#[derive(Debug, Clone, Default)]
struct Comment {
    text: String,
    /// Bit per index into [`CONCERNS`].
    concerns: u8,
    /// Whether a waiting-time complaint was used.
    waiting: bool,
    /// Whether any negative clause, contrast or concern was used.
    negative: bool,
}

/// A comment being composed: its clauses and what has been planted so far.
struct Draft<'t> {
    team: &'t Team,
    wait_boost: f64,
    clauses: Vec<String>,
    out: Comment,
}

impl Draft<'_> {
    /// Adds one clause of polarity `pol`.
    fn add(&mut self, rng: &mut ChaCha8Rng, pol: Pol) {
        let (text, theme) = clause(rng, pol, self.team, self.wait_boost);
        self.out.waiting |= theme == WAITING;
        self.out.negative |= pol != Pol::Pos;
        self.clauses.push(text);
    }

    /// Adds 1..=`weights.len()` clauses, the count drawn from `weights`.
    fn add_some(&mut self, rng: &mut ChaCha8Rng, pol: Pol, weights: &[f64]) {
        for _ in 0..=weighted(rng, weights) {
            self.add(rng, pol);
        }
    }

    /// Adds a good-but-bad contrast clause.
    fn add_contrast(&mut self, rng: &mut ChaCha8Rng) {
        let (text, theme) = contrast(rng, self.team, self.wait_boost);
        self.out.waiting |= theme == WAITING;
        self.out.negative = true;
        self.clauses.push(text);
    }
}

/// Composes a comment for one question of a response.
fn comment(
    rng: &mut ChaCha8Rng,
    question: Question,
    rating: Option<u8>,
    team: &Team,
    person: &Person,
    wait_boost: f64,
) -> Comment {
    let good = matches!(rating, Some(1 | 2));
    let poor = matches!(rating, Some(4 | 5));
    let mut draft = Draft { team, wait_boost, clauses: Vec::new(), out: Comment::default() };
    let roll: f64 = rng.random();
    let canned = match question {
        Question::WhatGood => what_good(rng, &mut draft, roll, good, poor),
        Question::CouldImprove => could_improve(rng, &mut draft, roll, (good, poor), person),
        Question::Nonspecific => {
            if roll < 0.5 {
                draft.add_contrast(rng);
            } else {
                draft.add(rng, if good { Pol::Pos } else { Pol::Neg });
            }
            None
        }
    };
    let mut text = canned.unwrap_or_else(|| join(rng, &draft.clauses));
    if rng.random_bool(0.01) {
        text = add_pii(rng, &text);
    }
    draft.out.text = roughen(rng, text, !draft.out.negative);
    draft.out
}

/// Fills a `what_good` draft; returns a canned answer instead when one is drawn.
fn what_good(rng: &mut ChaCha8Rng, d: &mut Draft<'_>, roll: f64, good: bool, poor: bool) -> Option<String> {
    if poor && roll < 0.4 {
        return Some(pick(rng, NOT_MUCH).to_string());
    }
    if poor && roll < 0.8 || !good && roll < 0.3 {
        d.add_contrast(rng);
    } else if poor {
        d.add(rng, Pol::Neg);
    } else if roll < 0.12 {
        return Some(pick(rng, ONE_WORD).to_string());
    } else if roll < 0.1245 {
        return Some(ramble(rng, d.team, false));
    } else {
        d.add_some(rng, Pol::Pos, &[45.0, 38.0, 12.0, 3.0, 2.0]);
    }
    None
}

/// Fills a `could_improve` draft, planting group concerns; returns a canned answer if drawn.
fn could_improve(
    rng: &mut ChaCha8Rng,
    d: &mut Draft<'_>,
    roll: f64,
    (good, poor): (bool, bool),
    person: &Person,
) -> Option<String> {
    let nothing = if good {
        0.45
    } else if poor {
        0.03
    } else {
        0.25
    };
    let mut canned = None;
    if roll < nothing {
        canned = Some(pick(rng, NOTHING).to_string());
    } else if roll < nothing + 0.004 {
        canned = Some(ramble(rng, d.team, true));
    } else if good && roll > 0.92 {
        d.add(rng, Pol::Pos);
    } else if poor {
        d.add_some(rng, Pol::Neg, &[40.0, 34.0, 14.0, 6.0, 4.0, 2.0]);
        if rng.random_bool(0.4) {
            d.add(rng, Pol::Sugg);
        }
    } else {
        match weighted(rng, &[62.0, 18.0, 12.0, 8.0]) {
            0 => d.add(rng, Pol::Sugg),
            1 => d.add_some(rng, Pol::Sugg, &[0.0, 1.0]),
            2 => {
                d.add(rng, Pol::Neg);
                d.add(rng, Pol::Sugg);
            }
            _ => d.add_contrast(rng),
        }
    }
    // Planted concerns: frequent in the affected group, rare elsewhere.
    for (i, con) in CONCERNS.iter().enumerate() {
        let member = person.group[con.dim].is_some_and(|g| con.groups.contains(&g));
        if rng.random_bool(if member { CONCERN_RATE } else { BACKGROUND_RATE }) {
            d.out.concerns |= 1 << i;
            d.out.negative = true;
            let tpl = pick(rng, con.clauses);
            let text = fill(rng, tpl, d.team);
            let at = rng.random_range(0..=d.clauses.len());
            d.clauses.insert(at, text);
            canned = None;
        }
    }
    canned
}

/// Adds one piece of fictitious PII.
fn add_pii(rng: &mut ChaCha8Rng, s: &str) -> String {
    const NAMES: &[&str] =
        &["Dr Smith", "Nurse Jones", "Dr Patel", "Sister Evans", "a nurse called Claire", "Dr Okafor"];
    let extra = match rng.random_range(0..6) {
        0 => format!("Please call me on 07700 900{:03}", rng.random_range(0..1000)),
        1 => {
            let first = pick(rng, &["jane", "j.bloggs", "sam", "a.khan", "mike"]);
            format!("my email is {first}{}@example.com", rng.random_range(1..99))
        }
        2 => {
            const L: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
            let a = L[rng.random_range(0..L.len())] as char;
            let b = L[rng.random_range(0..L.len())] as char;
            let area = pick(rng, &["SO14", "SO16", "PO4", "BH8", "SP10", "SO31"]);
            format!("I live at {area} {}{a}{b}", rng.random_range(0..10))
        }
        3 => format!("{} was amazing", pick(rng, NAMES)),
        _ => {
            let valid = rng.random_bool(0.5);
            format!("my NHS number is {}", nhs_number(rng, valid))
        }
    };
    if rng.random_bool(0.5) {
        format!("{s} {extra}")
    } else {
        format!("{}. {s}", capitalise(&extra))
    }
}

/// A fictitious 10-digit number in the NHS test range (999...), with a valid or an invalid
/// mod-11 check digit, sometimes spaced 3-3-4.
fn nhs_number(rng: &mut ChaCha8Rng, valid: bool) -> String {
    loop {
        let mut d = [9u32; 10];
        for x in d.iter_mut().take(9).skip(3) {
            *x = rng.random_range(0..10);
        }
        let sum: u32 = d.iter().take(9).zip((2..=10).rev()).map(|(x, w)| x * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        d[9] = if valid { check } else { (check + rng.random_range(1..10)) % 10 };
        let s: String = d.iter().filter_map(|x| char::from_digit(*x, 10)).collect();
        return if rng.random_bool(0.5) { format!("{} {} {}", &s[..3], &s[3..6], &s[6..]) } else { s };
    }
}

/// Real-export noise: misspellings, stray punctuation, random case, emoji.
fn roughen(rng: &mut ChaCha8Rng, mut s: String, positive: bool) -> String {
    if s.len() > 12 && rng.random_bool(0.08) {
        let words: Vec<String> = s
            .split(' ')
            .map(|w| {
                let lower = w.to_lowercase();
                if let Some((_, bad)) =
                    MISSPELL.iter().find(|(good, _)| lower.trim_matches(|c: char| !c.is_alphabetic()) == *good)
                {
                    if rng.random_bool(0.6) {
                        return w.to_lowercase().replace(lower.trim_matches(|c: char| !c.is_alphabetic()), bad);
                    }
                }
                let protected = PROTECTED.iter().any(|p| lower.contains(p));
                if w.len() >= 5 && w.is_ascii() && !protected && rng.random_bool(0.05) {
                    let mut b = w.as_bytes().to_vec();
                    let i = rng.random_range(1..b.len() - 2);
                    b.swap(i, i + 1);
                    return String::from_utf8(b).unwrap_or_else(|_| w.to_string());
                }
                w.to_string()
            })
            .collect();
        s = words.join(" ");
    }
    if rng.random_bool(0.04) {
        s = match rng.random_range(0..5) {
            0 => format!(" {s}"),
            1 => format!("{s}  "),
            2 => s.replacen(' ', "  ", 2),
            3 => format!("{s}!!!"),
            _ => format!("{s} ."),
        };
    }
    match weighted(rng, &[90.0, 3.0, 7.0]) {
        1 => s = s.to_uppercase(),
        2 => s = s.to_lowercase(),
        _ => {}
    }
    if rng.random_bool(0.04) {
        let e = pick(rng, if positive { EMOJI_POS } else { EMOJI_NEG });
        s = if rng.random_bool(0.8) { format!("{s} {e}") } else { format!("{s}{e}{e}") };
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Responses (FFT survey) and canonical records
// ---------------------------------------------------------------------------------------------

/// One FFT response: who, when, where, the rating and up to two comments.
#[derive(Debug, Clone)]
struct Response {
    date: NaiveDate,
    team: usize,
    rating: Option<u8>,
    person: Person,
    shown: Shown,
    comments: Vec<(Question, Comment)>,
}

const START: (i32, u32, u32) = (2025, 4, 1);
const DAYS: i64 = 365;

fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn random_date(rng: &mut ChaCha8Rng) -> NaiveDate {
    loop {
        let d = ymd(START) + Duration::days(rng.random_range(0..DAYS));
        let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        if !weekend || rng.random_bool(0.35) {
            return d;
        }
    }
}

/// Generates a response with the given questions answered.
fn response(rng: &mut ChaCha8Rng, questions: &[Question]) -> Response {
    let date = random_date(rng);
    let tw: Vec<f64> = TEAMS.iter().map(|t| t.weight).collect();
    let team = weighted(rng, &tw);
    let rating = match weighted(rng, &[62.0, 20.0, 6.0, 4.0, 5.0, 1.0, 2.0]) {
        6 => None,
        i => u8::try_from(i + 1).ok(),
    };
    let person = sample_person(rng);
    let shown = show(rng, &person);
    let t = TEAMS.get(team).unwrap_or(&TEAMS[0]);
    let wait_boost = match (t.name == CHANGE_TEAM, date < ymd(CHANGE_DATE)) {
        (true, true) => 4.0,
        (true, false) => 0.4,
        _ => 1.0,
    };
    let comments = questions.iter().map(|&q| (q, comment(rng, q, rating, t, &person, wait_boost))).collect();
    Response { date, team, rating, person, shown, comments }
}

/// Canonical layout: responses until exactly `records` records exist, sorted by date.
fn canonical_responses(rng: &mut ChaCha8Rng, records: usize) -> Vec<Response> {
    let mut out = Vec::new();
    let mut left = records;
    while left > 0 {
        let qs: &[Question] = match weighted(rng, &[3.0, 68.0, 15.0, 14.0]) {
            0 => &[Question::Nonspecific],
            1 if left >= 2 => &[Question::WhatGood, Question::CouldImprove],
            1 | 2 => &[Question::WhatGood],
            _ => &[Question::CouldImprove],
        };
        left -= qs.len();
        out.push(response(rng, qs));
    }
    out.sort_by_key(|r| r.date);
    out
}

/// Survey layout: `rows` responses; either free-text answer may be blank.
fn survey_responses(rng: &mut ChaCha8Rng, rows: usize) -> Vec<Response> {
    let mut out: Vec<Response> = (0..rows)
        .map(|_| {
            let qs: &[Question] = match weighted(rng, &[70.0, 15.0, 12.0, 3.0]) {
                0 => &[Question::WhatGood, Question::CouldImprove],
                1 => &[Question::WhatGood],
                2 => &[Question::CouldImprove],
                _ => &[],
            };
            response(rng, qs)
        })
        .collect();
    out.sort_by_key(|r| r.date);
    out
}

/// A canonical row, borrowing from its response.
struct Row<'a> {
    record_id: String,
    response_id: String,
    resp: &'a Response,
    question: Question,
    comment: &'a Comment,
}

fn flatten(responses: &[Response]) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    for (i, resp) in responses.iter().enumerate() {
        for (q, c) in &resp.comments {
            rows.push(Row {
                record_id: format!("S{:07}", rows.len() + 1),
                response_id: format!("{}", 100_001 + i),
                resp,
                question: *q,
                comment: c,
            });
        }
    }
    rows
}

#[rustfmt::skip]
const CANONICAL_HEADER: [&str; 19] = [
    "record_id", "response_id", "received_date", "question", "text", "rating", "org_level_1",
    "org_level_2", "org_level_3", "sex", "gender", "age_band", "ethnicity", "ethnicity_detail",
    "disability", "religion", "sexuality", "imd_quintile", "carer",
];

fn canonical_fields(row: &Row<'_>) -> [String; 19] {
    let r = row.resp;
    let s = &r.shown;
    let team = TEAMS.get(r.team).unwrap_or(&TEAMS[0]);
    [
        row.record_id.clone(),
        row.response_id.clone(),
        r.date.format("%Y-%m-%d").to_string(),
        row.question.as_str().to_string(),
        row.comment.text.clone(),
        r.rating.map(|x| x.to_string()).unwrap_or_default(),
        TRUST.to_string(),
        team.directorate.to_string(),
        team.name.to_string(),
        s.sex.clone(),
        s.gender.clone(),
        s.age_band.clone(),
        s.ethnicity.clone(),
        s.ethnicity_detail.clone(),
        s.disability.clone(),
        s.religion.clone(),
        s.sexuality.clone(),
        s.imd_quintile.clone(),
        s.carer.clone(),
    ]
}

fn write_csv<R: AsRef<[String]>>(path: &Path, header: &[&str], rows: &[R]) -> Result<(), SynthError> {
    let csv_err = |source| SynthError::Csv { path: path.to_path_buf(), source };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record(header).map_err(csv_err)?;
    for r in rows {
        w.write_record(r.as_ref()).map_err(csv_err)?;
    }
    w.flush().map_err(|source| SynthError::Io { path: path.to_path_buf(), source })
}

fn write_canonical_csv(path: &Path, rows: &[Row<'_>]) -> Result<(), SynthError> {
    let fields: Vec<[String; 19]> = rows.iter().map(canonical_fields).collect();
    write_csv(path, &CANONICAL_HEADER, &fields)
}

fn write_canonical_parquet(path: &Path, rows: &[Row<'_>]) -> Result<(), SynthError> {
    use arrow::array::{ArrayRef, Date32Array, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::arrow_writer::{ArrowWriter, ArrowWriterOptions};
    use parquet::basic::Compression;
    use parquet::file::properties::{WriterProperties, WriterVersion};

    let err = |e: &dyn std::fmt::Display| SynthError::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let fields: Vec<[String; 19]> = rows.iter().map(canonical_fields).collect();
    let epoch = ymd((1970, 1, 1));
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(19);
    let mut schema = Vec::with_capacity(19);
    for (i, name) in CANONICAL_HEADER.iter().enumerate() {
        let (array, dtype, nullable): (ArrayRef, DataType, bool) = match *name {
            "received_date" => {
                let days = rows.iter().map(|r| i32::try_from((r.resp.date - epoch).num_days()).ok());
                (Arc::new(days.collect::<Date32Array>()), DataType::Date32, false)
            }
            "rating" => {
                let v = rows.iter().map(|r| r.resp.rating.map(i32::from));
                (Arc::new(v.collect::<Int32Array>()), DataType::Int32, true)
            }
            _ => {
                let required = i <= 8;
                let v = fields.iter().map(|f| f.get(i).filter(|s| required || !s.is_empty()).map(String::as_str));
                (Arc::new(v.collect::<StringArray>()), DataType::Utf8, !required)
            }
        };
        columns.push(array);
        schema.push(Field::new(*name, dtype, nullable));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(schema)), columns).map_err(|e| err(&e))?;
    let props = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .build();
    let options = ArrowWriterOptions::new().with_properties(props).with_skip_arrow_metadata(true);
    let file = File::create(path).map_err(|source| SynthError::Io { path: path.to_path_buf(), source })?;
    let mut w = ArrowWriter::try_new_with_options(file, batch.schema(), options).map_err(|e| err(&e))?;
    w.write(&batch).map_err(|e| err(&e))?;
    w.close().map_err(|e| err(&e))?;
    Ok(())
}

/// Writes the FFT survey export; returns how many free-text cells are non-blank.
fn write_survey_xlsx(path: &Path, responses: &[Response]) -> Result<usize, SynthError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let err = |source| SynthError::Xlsx { path: path.to_path_buf(), source };
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2026, 4, 1).map_err(err)?;
    wb.set_properties(&DocProperties::new().set_title("FFT survey export (synthetic)").set_creation_datetime(&created));
    let ws = wb.add_worksheet();
    ws.set_name("FFT Responses").map_err(err)?;
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("dd/mm/yyyy");
    let header = [
        "Response ID",
        "Date Received",
        "Service",
        "Team",
        "Overall how was your experience (1-5)",
        "What was good?",
        "What could we do better?",
        "Gender",
        "Age",
        "Ethnic Group",
        "Disability",
    ];
    for (c, h) in (0u16..).zip(header) {
        ws.write_string_with_format(0, c, h, &bold).map_err(err)?;
    }
    let mut records = 0;
    for (row, r) in (1u32..).zip(responses) {
        let team = TEAMS.get(r.team).unwrap_or(&TEAMS[0]);
        ws.write_number(row, 0, f64::from(200_000 + row)).map_err(err)?;
        let d = ExcelDateTime::from_ymd(
            u16::try_from(r.date.year()).unwrap_or(2025),
            u8::try_from(r.date.month()).unwrap_or(1),
            u8::try_from(r.date.day()).unwrap_or(1),
        )
        .map_err(err)?;
        ws.write_date_with_format(row, 1, &d, &date_fmt).map_err(err)?;
        ws.write_string(row, 2, team.directorate).map_err(err)?;
        ws.write_string(row, 3, team.name).map_err(err)?;
        if let Some(x) = r.rating {
            ws.write_number(row, 4, f64::from(x)).map_err(err)?;
        }
        for (q, c) in &r.comments {
            let col = if *q == Question::WhatGood { 5 } else { 6 };
            ws.write_string(row, col, &c.text).map_err(err)?;
            records += 1;
        }
        let s = &r.shown;
        let gender = if s.gender.is_empty() { &s.sex } else { &s.gender };
        for (col, v) in [(7, gender), (8, &s.age_band), (9, &s.ethnicity), (10, &s.disability)] {
            if !v.is_empty() {
                ws.write_string(row, col, v).map_err(err)?;
            }
        }
    }
    ws.set_column_width(5, 50).map_err(err)?;
    ws.set_column_width(6, 50).map_err(err)?;
    wb.save(path).map_err(err)?;
    Ok(records)
}

// ---------------------------------------------------------------------------------------------
// Community conversations
// ---------------------------------------------------------------------------------------------

/// A community group, its usual language and the concerns (indices into [`CONCERNS`]) it raises.
struct Group {
    name: &'static str,
    language: &'static str,
    venue: &'static str,
    concerns: &'static [usize],
}

#[rustfmt::skip]
const GROUPS: &[Group] = &[
    Group { name: "Northside Somali Women's Group", language: "Somali", venue: "Northside Community Centre", concerns: &[0, 4] },
    Group { name: "Deaf Club", language: "BSL", venue: "Deaf Centre, Quay Street", concerns: &[5, 0] },
    Group { name: "Traveller Liaison Forum", language: "English", venue: "Meadow Lane site office", concerns: &[2, 1] },
    Group { name: "Over-70s Lunch Club", language: "English", venue: "St Mark's Church Hall", concerns: &[2, 3] },
    Group { name: "Young Carers Forum", language: "English", venue: "Eastgate Youth Hub", concerns: &[4] },
    Group { name: "Eastgate Polish Association", language: "Polish", venue: "Eastgate Library", concerns: &[0] },
    Group { name: "Riverside Bangladeshi Elders", language: "Bengali", venue: "Riverside Mosque community room", concerns: &[0, 2] },
    Group { name: "Roma Families Drop-in", language: "Romanian", venue: "The Old Fire Station", concerns: &[0, 3] },
    Group { name: "Hillside Tenants' Association", language: "English", venue: "Hillside Estate community flat", concerns: &[3] },
    Group { name: "Sunrise Urdu Speakers' Circle", language: "Urdu", venue: "Sunrise Family Centre", concerns: &[0] },
    Group { name: "Caribbean Elders Network", language: "English", venue: "Windrush Hall", concerns: &[1] },
    Group { name: "Wheel Power Disability Forum", language: "English", venue: "Online (video call)", concerns: &[5] },
];

#[rustfmt::skip]
const OPENERS: &[&str] = &[
    "Session held with {n} attendees at {venue}.", "We met the group at {venue}; {n} people came.",
    "Informal listening session at {venue} with {n} attendees, notes written up afterwards.",
];
#[rustfmt::skip]
const SAYERS: &[&str] = &[
    "Several attendees said", "One woman told us", "A man said", "People agreed that", "A parent said",
    "Two people mentioned that", "One person felt strongly that", "Someone added that", "Most of the group said", "Another attendee told us",
];
#[rustfmt::skip]
const CLOSERS: &[&str] = &[
    "Actions: feed back to the service leads and return in three months.",
    "The group asked to hear what changes are made as a result.",
    "We thanked everyone for their time; refreshments were provided.",
    "Follow-up: share these notes with the patient experience team.",
];

/// One line of the conversations file, fields in output order.
#[derive(serde::Serialize)]
struct Conversation<'a> {
    #[serde(rename = "conversation_id")]
    id: String,
    date: String,
    community_group: &'a str,
    venue: &'a str,
    language: &'a str,
    facilitator_notes: &'a str,
    attendees: u32,
}

#[rustfmt::skip]
const FRAMING: &[&str] = &[
    "There was a long discussion about waiting times.", "Most people had used {svc} in the last year.",
    "The mood was positive overall, with some strong frustrations.", "A few people said they had given up complaining because nothing changes.",
    "People were keen to help design better information.", "Several people did not know {svc} existed until recently.",
    "Older members spoke more than younger ones; we will try a separate session.", "Some attendees were worried about giving feedback in case it affected their care.",
];

fn reported(rng: &mut ChaCha8Rng, said: &str) -> String {
    format!("{} \"{said}\".", pick(rng, SAYERS))
}

/// Writes `n` conversation notes as JSON lines; returns the truth rows.
fn write_conversations(path: &Path, rng: &mut ChaCha8Rng, n: usize) -> Result<Vec<Vec<String>>, SynthError> {
    let io = |source| SynthError::Io { path: path.to_path_buf(), source };
    let mut w = BufWriter::new(File::create(path).map_err(io)?);
    let mut notes: Vec<(NaiveDate, usize, String, u32)> = Vec::with_capacity(n);
    for i in 0..n {
        let g = i % GROUPS.len();
        let group = &GROUPS[g];
        let team = &TEAMS[weighted(rng, &TEAMS.iter().map(|t| t.weight).collect::<Vec<_>>())];
        let attendees: u32 = rng.random_range(4..40);
        let target = if rng.random_bool(0.7) { rng.random_range(300..1400) } else { rng.random_range(1400..2900) };
        let mut text = pick(rng, OPENERS).replace("{n}", &attendees.to_string()).replace("{venue}", group.venue);
        if group.language != "English" {
            text.push(' ');
            text.push_str(group.language);
            text.push_str(" interpretation was provided.");
        }
        text.push_str(" Discussion covered experiences of ");
        text.push_str(pick(rng, team.service));
        text.push('.');
        let closer = pick(rng, CLOSERS);
        let limit = 3000 - closer.len() - 1;
        let mut used: Vec<String> = Vec::new();
        for k in 0..200 {
            if text.len() >= target {
                break;
            }
            let s = if k < 2 || rng.random_bool(0.2) {
                let ci = group.concerns[k % group.concerns.len()];
                let tpl = pick(rng, CONCERNS[ci].clauses);
                let c = fill(rng, tpl, team);
                reported(rng, &c)
            } else if rng.random_bool(0.15) {
                let tpl = pick(rng, FRAMING);
                fill(rng, tpl, team)
            } else {
                let pol = if rng.random_bool(0.45) { Pol::Pos } else { Pol::Neg };
                let c = clause(rng, pol, team, 1.0).0;
                reported(rng, &c)
            };
            let quote = s.split('"').nth(1).unwrap_or(&s).to_string();
            if used.contains(&quote) || text.len() + s.len() + 1 > limit {
                continue;
            }
            used.push(quote);
            text.push(' ');
            text.push_str(&s);
        }
        text.push(' ');
        text.push_str(closer);
        notes.push((random_date(rng), g, text, attendees));
    }
    notes.sort_by_key(|x| x.0);
    for (i, (date, g, text, attendees)) in notes.iter().enumerate() {
        let group = &GROUPS[*g];
        let line = Conversation {
            id: format!("CONV-{:04}", i + 1),
            date: date.format("%d/%m/%Y").to_string(),
            community_group: group.name,
            venue: group.venue,
            language: group.language,
            facilitator_notes: text,
            attendees: *attendees,
        };
        serde_json::to_writer(&mut w, &line).map_err(|source| SynthError::Json { path: path.to_path_buf(), source })?;
        w.write_all(b"\n").map_err(io)?;
    }
    w.flush().map_err(io)?;
    let mut truth = Vec::new();
    for g in GROUPS {
        for &ci in g.concerns {
            let c = &CONCERNS[ci];
            truth.push(vec![
                "planted_concern".into(),
                "community_group".into(),
                g.name.into(),
                c.code.into(),
                format!("{}: raised in every conversation with this group", c.name),
            ]);
        }
    }
    Ok(truth)
}

// ---------------------------------------------------------------------------------------------
// Ground truth
// ---------------------------------------------------------------------------------------------

/// Ground-truth rows for record-level layouts, with rates observed in this very file.
fn truth_rows(rows: &[Row<'_>], dims: &[usize]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for &d in dims {
        let dim = &DIMS[d];
        let mut counts = vec![0u32; dim.groups.len()];
        for r in rows.iter().filter(|r| r.resp.shown.stated[d]) {
            if let Some(g) = r.resp.person.group[d] {
                if let Some(c) = counts.get_mut(g) {
                    *c += 1;
                }
            }
        }
        let total: u32 = counts.iter().sum();
        let pop_total: f64 = dim.population.iter().map(|&p| f64::from(p)).sum();
        for (g, group) in dim.groups.iter().enumerate() {
            let ratio = expected_ratio(dim, g);
            let kind = if UNDER.contains(&(d, g)) {
                "under_represented"
            } else if OVER.contains(&(d, g)) {
                "over_represented"
            } else {
                continue;
            };
            let pop_share = f64::from(dim.population[g]) / pop_total;
            let observed = if total == 0 { 0.0 } else { f64::from(counts[g]) / f64::from(total) / pop_share };
            out.push(vec![
                kind.into(), dim.name.into(), (*group).into(), format!("{ratio:.2}"),
                format!("feedback share / population share, planted; observed in this file {observed:.2} over {total} records with a stated value"),
            ]);
        }
    }
    for (i, c) in CONCERNS.iter().enumerate() {
        if !dims.contains(&c.dim) {
            continue;
        }
        let (member, other) = rates(
            rows.iter().filter(|r| r.question == Question::CouldImprove && r.resp.shown.stated[c.dim]),
            |r| r.resp.person.group[c.dim].is_some_and(|g| c.groups.contains(&g)),
            |r| r.comment.concerns & (1 << i) != 0,
        );
        for &g in c.groups {
            out.push(vec![
                "planted_concern".into(),
                DIMS[c.dim].name.into(),
                DIMS[c.dim].groups[g].into(),
                c.code.into(),
                format!("{}: in {member:.1}% of the group's could_improve records, {other:.1}% of others'", c.name),
            ]);
        }
    }
    let change = ymd(CHANGE_DATE);
    let (before, after) = rates(
        rows.iter().filter(|r| {
            r.question == Question::CouldImprove && TEAMS.get(r.resp.team).is_some_and(|t| t.name == CHANGE_TEAM)
        }),
        |r| r.resp.date < change,
        |r| r.comment.waiting,
    );
    out.push(vec![
        "service_change".into(),
        "org_level_3".into(),
        CHANGE_TEAM.into(),
        change.format("%Y-%m-%d").to_string(),
        format!(
            "waiting-time complaints drop: {before:.1}% of could_improve records before, {after:.1}% from this date"
        ),
    ]);
    out
}

/// Percentage of rows with `hit` among rows in `a`, and among the rest.
fn rates<'r, 'a: 'r>(
    rows: impl Iterator<Item = &'r Row<'a>>,
    in_a: impl Fn(&Row<'a>) -> bool,
    hit: impl Fn(&Row<'a>) -> bool,
) -> (f64, f64) {
    let mut n = [[0u32; 2]; 2];
    for r in rows {
        n[usize::from(!in_a(r))][usize::from(hit(r))] += 1;
    }
    let pct = |[miss, hit]: [u32; 2]| {
        if miss + hit == 0 {
            0.0
        } else {
            100.0 * f64::from(hit) / f64::from(miss + hit)
        }
    };
    (pct(n[0]), pct(n[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("unheard-synth-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir.join(name)
    }

    fn read(p: &Path) -> Vec<u8> {
        std::fs::read(p).unwrap_or_else(|e| panic!("{} is written: {e}", p.display()))
    }

    #[test]
    fn same_seed_same_bytes_different_seed_different() {
        let opts = SynthOptions { records: 400, seed: 42 };
        let (a, b, c) = (tmp("a.csv"), tmp("b.csv"), tmp("c.csv"));
        write(&a, &a.with_extension("truth.csv"), &opts).expect("write a");
        write(&b, &b.with_extension("truth.csv"), &opts).expect("write b");
        write(&c, &c.with_extension("truth.csv"), &SynthOptions { seed: 43, ..opts }).expect("write c");
        assert!(!read(&a).is_empty());
        assert_eq!(read(&a), read(&b), "same seed must give identical csv bytes");
        assert_eq!(read(&a.with_extension("truth.csv")), read(&b.with_extension("truth.csv")));
        assert_ne!(read(&a), read(&c), "a different seed must change the data");
    }

    #[test]
    fn sample_population_baseline_is_the_planted_population() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples/population-baseline.csv");
        let text = std::fs::read_to_string(path).expect("data-samples/population-baseline.csv");
        let mut want = vec!["dimension,group,population".to_owned()];
        for dim in &DIMS {
            for (group, population) in dim.groups.iter().zip(dim.population) {
                want.push(format!("{},{group},{population}", dim.name));
            }
        }
        assert_eq!(text.lines().collect::<Vec<_>>(), want);
    }

    #[test]
    fn record_count_and_truth_file() {
        let p = tmp("count.csv");
        let s = write(&p, &p.with_extension("truth.csv"), &SynthOptions { records: 777, seed: 1 }).expect("write");
        assert_eq!((s.records, s.rows), (777, 777));
        let mut r = csv::Reader::from_path(&p).expect("read back");
        assert_eq!(r.headers().expect("header").len(), 19);
        assert_eq!(r.records().count(), 777);
        let truth = String::from_utf8(read(&s.truth_path)).unwrap_or_default();
        assert!(truth.starts_with("kind,dimension,group,value,note"));
        assert!(truth.contains("under_represented,ethnicity,Asian"));
        assert!(truth.contains("planted_concern,imd_quintile,1,INC05"));
        assert!(truth.contains("service_change,org_level_3,MSK Physiotherapy,2025-10-01"));
    }

    #[test]
    fn planted_concern_words_cluster_in_their_group() {
        let p = tmp("concern.csv");
        write(&p, &p.with_extension("truth.csv"), &SynthOptions { records: 6000, seed: 5 }).expect("write");
        let mut r = csv::Reader::from_path(&p).expect("read back");
        let (mut hit, mut n, mut other_hit, mut other_n) = (0.0, 0.0, 0.0, 0.0);
        for rec in r.records().flatten() {
            if rec.get(3) != Some("could_improve") || rec.get(17).is_none_or(str::is_empty) {
                continue;
            }
            let text = rec.get(4).unwrap_or("").to_lowercase();
            let found = ["bus fare", "two buses", "taxi", "afford"].iter().any(|w| text.contains(w));
            if rec.get(17) == Some("1") {
                n += 1.0;
                hit += f64::from(u8::from(found));
            } else {
                other_n += 1.0;
                other_hit += f64::from(u8::from(found));
            }
        }
        let (rate, other) = (hit / n, other_hit / other_n);
        assert!(rate > 0.18 && rate < 0.4, "imd 1 rate {rate}");
        assert!(other < 0.04, "others' rate {other}");
    }

    #[test]
    fn other_layouts_and_unknown_extension() {
        let x = write(&tmp("s.xlsx"), &tmp("s.truth.csv"), &SynthOptions { records: 50, seed: 7 }).expect("xlsx");
        assert_eq!(x.rows, 50);
        assert!(x.records <= 100 && x.records > 50);
        let j = tmp("c.jsonl");
        write(&j, &j.with_extension("truth.csv"), &SynthOptions { records: 5, seed: 11 }).expect("jsonl");
        let body = String::from_utf8(read(&j)).unwrap_or_default();
        assert_eq!(body.lines().count(), 5);
        for line in body.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json line");
            let len = v["facilitator_notes"].as_str().map_or(0, |s| s.chars().count());
            assert!((300..=3000).contains(&len), "notes length {len}");
        }
        assert!(matches!(
            write(&tmp("x.txt"), &tmp("x.truth.csv"), &SynthOptions { records: 1, seed: 1 }),
            Err(SynthError::UnknownFormat(_))
        ));
    }

    #[test]
    fn parquet_reads_back() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let p = tmp("p.parquet");
        write(&p, &p.with_extension("truth.csv"), &SynthOptions { records: 300, seed: 9 }).expect("parquet");
        let file = File::open(&p).expect("open");
        let reader = SerializedFileReader::new(file).expect("parquet reader");
        let meta = reader.metadata().file_metadata();
        assert_eq!(meta.num_rows(), 300);
        assert_eq!(meta.schema_descr().num_columns(), 19);
    }

    #[test]
    fn nhs_numbers_check_digit() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for valid in [true, false] {
            for _ in 0..50 {
                let s: Vec<u32> = nhs_number(&mut rng, valid).chars().filter_map(|c| c.to_digit(10)).collect();
                let sum: u32 = s.iter().take(9).zip((2..=10).rev()).map(|(x, w)| x * w).sum();
                let check = (11 - sum % 11) % 11;
                assert_eq!(check == s[9], valid);
            }
        }
    }
}
