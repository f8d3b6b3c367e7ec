//! Harmonisation: raw demographic values to standard groups.
//!
//! Built-in mappings: NHS Data Dictionary ethnic category codes (A–Z; Z and 99 not stated) and
//! common free-text forms to the five Census 2021 high-level groups (Asian, Black, Mixed, White,
//! Other — Census 2021 puts Chinese under Asian and Arab under Other), and to the detailed
//! Census 2021 groups for `ethnicity_detail`; ages, dates of birth or bands to configurable age
//! bands; sex and gender; disability; religion; sexuality; IMD decile or quintile to quintile;
//! carer. Every mapping can be overridden in the pipeline file (`[people.map.<dimension>]`).
//! `not_stated`, `missing` and `unmapped` stay distinct.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{MISSING, NOT_STATED, UNMAPPED};

/// An age band `lo..=hi` (`hi = None`: and over).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgeBand {
    /// Label, e.g. `25-34` or `75+`.
    pub label: String,
    /// Lowest age.
    pub lo: u32,
    /// Highest age, `None` for an open band.
    pub hi: Option<u32>,
}

impl AgeBand {
    /// Parses `25-34`, `25 to 34`, `75+`, `75 and over`, `Under 16`, `16 and under`.
    #[must_use]
    pub fn parse(label: &str) -> Option<AgeBand> {
        let s = label.trim().to_ascii_lowercase();
        let nums: Vec<u32> =
            s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect();
        let (lo, hi) = match nums.as_slice() {
            [a, b] if a <= b => (*a, Some(*b)),
            [a] if s.contains('+')
                || s.contains("over")
                || s.contains("plus")
                || s.contains("older")
                || s.contains("above") =>
            {
                (*a, None)
            }
            [a] if s.contains("under") || s.contains("below") || s.contains('<') => {
                if s.starts_with(|c: char| c.is_ascii_digit()) && s.contains("and under") {
                    (0, Some(*a))
                } else {
                    (0, Some(a.checked_sub(1)?))
                }
            }
            _ => return None,
        };
        Some(AgeBand { label: label.trim().to_owned(), lo, hi })
    }

    fn contains(&self, lo: u32, hi: Option<u32>) -> bool {
        lo >= self.lo
            && match (self.hi, hi) {
                (None, _) => true,
                (Some(h), Some(x)) => x <= h,
                (Some(_), None) => false,
            }
    }
}

/// The default age bands (Census-style, adults in ten-year bands).
pub const DEFAULT_AGE_BANDS: [&str; 8] = ["0-15", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"];

/// What a dimension's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ethnicity,
    EthnicityDetail,
    AgeBand,
    Sex,
    Gender,
    Disability,
    Religion,
    Sexuality,
    ImdQuintile,
    Carer,
    Other,
}

fn kind_of(dimension: &str) -> Kind {
    match dimension {
        "ethnicity" => Kind::Ethnicity,
        "ethnicity_detail" => Kind::EthnicityDetail,
        "age_band" => Kind::AgeBand,
        "sex" => Kind::Sex,
        "gender" => Kind::Gender,
        "disability" => Kind::Disability,
        "religion" => Kind::Religion,
        "sexuality" => Kind::Sexuality,
        "imd_quintile" => Kind::ImdQuintile,
        "carer" => Kind::Carer,
        _ => Kind::Other,
    }
}

/// Lowercase, letters and digits only, single spaces.
fn key(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut space = false;
    for c in raw.chars() {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

fn is_not_stated(k: &str) -> bool {
    matches!(
        k,
        "prefer not to say"
            | "not stated"
            | "declined"
            | "declined to answer"
            | "not known"
            | "unknown"
            | "refused"
            | "not disclosed"
            | "prefer not to answer"
            | "dont know"
            | "don t know"
            | "not given"
            | "withheld"
            | "rather not say"
            | "z"
            | "99"
            | "x"
    )
}

/// NHS Data Dictionary ethnic category code → (Census 2021 high-level group, detailed group).
fn ethnic_code(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "a" => ("White", "White: English, Welsh, Scottish, Northern Irish or British"),
        "b" => ("White", "White: Irish"),
        "c" => ("White", "White: Other White"),
        "d" => ("Mixed", "Mixed: White and Black Caribbean"),
        "e" => ("Mixed", "Mixed: White and Black African"),
        "f" => ("Mixed", "Mixed: White and Asian"),
        "g" => ("Mixed", "Mixed: Other Mixed or Multiple ethnic groups"),
        "h" => ("Asian", "Asian: Indian"),
        "j" => ("Asian", "Asian: Pakistani"),
        "k" => ("Asian", "Asian: Bangladeshi"),
        "l" => ("Asian", "Asian: Other Asian"),
        "m" => ("Black", "Black: Caribbean"),
        "n" => ("Black", "Black: African"),
        "p" => ("Black", "Black: Other Black"),
        "r" => ("Asian", "Asian: Chinese"),
        "s" => ("Other", "Other ethnic group: Any other ethnic group"),
        _ => return None,
    })
}

/// Free-text ethnicity → (high-level group, detailed group if the text says which).
fn ethnic_text(k: &str) -> Option<(&'static str, Option<&'static str>)> {
    let detail = |d: &'static str| Some(d);
    Some(match k {
        "white british" | "british" | "english" | "welsh" | "scottish" | "northern irish" | "white english"
        | "white welsh" | "white scottish" => {
            ("White", detail("White: English, Welsh, Scottish, Northern Irish or British"))
        }
        "white irish" | "irish" => ("White", detail("White: Irish")),
        "gypsy or irish traveller" | "irish traveller" | "gypsy" | "traveller" => {
            ("White", detail("White: Gypsy or Irish Traveller"))
        }
        "roma" => ("White", detail("White: Roma")),
        "white other"
        | "other white"
        | "any other white background"
        | "white any other white background"
        | "polish"
        | "portuguese"
        | "romanian"
        | "lithuanian"
        | "italian"
        | "turkish"
        | "kurdish" => ("White", detail("White: Other White")),
        "white" | "white british or irish" => ("White", None),
        "white and black caribbean" | "mixed white and black caribbean" => {
            ("Mixed", detail("Mixed: White and Black Caribbean"))
        }
        "white and black african" | "mixed white and black african" => {
            ("Mixed", detail("Mixed: White and Black African"))
        }
        "white and asian" | "mixed white and asian" => ("Mixed", detail("Mixed: White and Asian")),
        "mixed other" | "any other mixed background" | "mixed asian and black" | "white and arab" => {
            ("Mixed", detail("Mixed: Other Mixed or Multiple ethnic groups"))
        }
        "mixed" | "mixed race" | "dual heritage" | "multiple ethnic groups" | "mixed or multiple ethnic groups" => {
            ("Mixed", None)
        }
        "indian" | "asian indian" | "british indian" => ("Asian", detail("Asian: Indian")),
        "pakistani" | "asian pakistani" | "british pakistani" => ("Asian", detail("Asian: Pakistani")),
        "bangladeshi" | "asian bangladeshi" | "british bangladeshi" => ("Asian", detail("Asian: Bangladeshi")),
        "chinese" | "asian chinese" => ("Asian", detail("Asian: Chinese")),
        "any other asian background"
        | "other asian"
        | "sri lankan"
        | "nepali"
        | "afghan"
        | "filipino"
        | "vietnamese" => ("Asian", detail("Asian: Other Asian")),
        "asian" | "asian or asian british" | "asian british" => ("Asian", None),
        "caribbean" | "black caribbean" | "black british caribbean" => ("Black", detail("Black: Caribbean")),
        "african" | "black african" | "black british african" | "somali" | "nigerian" | "ghanaian" | "eritrean" => {
            ("Black", detail("Black: African"))
        }
        "black"
        | "black british"
        | "black or black british"
        | "black caribbean or african"
        | "any other black background"
        | "other black" => ("Black", None),
        "arab" => ("Other", detail("Other ethnic group: Arab")),
        "any other ethnic group" | "iranian" => ("Other", detail("Other ethnic group: Any other ethnic group")),
        "other" | "other ethnic group" => ("Other", None),
        _ => return None,
    })
}

/// Harmonises the raw values of one run.
#[derive(Debug, Clone)]
pub struct Harmoniser {
    kinds: Vec<Kind>,
    overrides: Vec<HashMap<String, String>>,
    bands: Vec<AgeBand>,
    imd_lookup: HashMap<String, u8>,
}

/// Where a value came from, for the manifest's list of unmapped values.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Unmapped {
    /// Per dimension: raw value → records.
    pub values: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Harmoniser {
    /// A harmoniser for `dimensions`, with per-dimension overrides (raw value → group) and the
    /// age bands to use.
    #[must_use]
    pub fn new(
        dimensions: &[String],
        overrides: &BTreeMap<String, BTreeMap<String, String>>,
        bands: Vec<AgeBand>,
        imd_lookup: HashMap<String, u8>,
    ) -> Harmoniser {
        Harmoniser {
            kinds: dimensions.iter().map(|d| kind_of(d)).collect(),
            overrides: dimensions
                .iter()
                .map(|d| {
                    overrides.get(d).map(|m| m.iter().map(|(k, v)| (key(k), v.clone())).collect()).unwrap_or_default()
                })
                .collect(),
            bands,
            imd_lookup: imd_lookup.into_iter().map(|(k, v)| (key(&k), v)).collect(),
        }
    }

    /// The group of `raw` in dimension `d`; `date` is the record's date (for dates of birth).
    #[must_use]
    pub fn group(&self, d: usize, raw: Option<&str>, date: Option<NaiveDate>) -> String {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return MISSING.to_owned();
        };
        let k = key(raw);
        if let Some(g) = self.overrides.get(d).and_then(|m| m.get(&k)) {
            return g.clone();
        }
        if k.is_empty() || matches!(k.as_str(), "na" | "n a" | "null" | "missing" | "blank") {
            return MISSING.to_owned();
        }
        if is_not_stated(&k) {
            return NOT_STATED.to_owned();
        }
        let kind = self.kinds.get(d).copied().unwrap_or(Kind::Other);
        let found: Option<String> = match kind {
            Kind::Ethnicity => ethnic_code(&k).map(|e| e.0).or_else(|| ethnic_text(&k).map(|e| e.0)).map(str::to_owned),
            Kind::EthnicityDetail => {
                ethnic_code(&k).map(|e| e.1).or_else(|| ethnic_text(&k).and_then(|e| e.1)).map(str::to_owned)
            }
            Kind::AgeBand => self.age_band(raw, &k, date),
            Kind::Sex => match k.as_str() {
                "male" | "m" | "man" | "boy" => Some("Male"),
                "female" | "f" | "woman" | "girl" => Some("Female"),
                "intersex" => Some("Intersex"),
                _ => None,
            }
            .map(str::to_owned),
            Kind::Gender => match k.as_str() {
                "male" | "m" | "man" | "boy" | "trans man" => Some("Man"),
                "female" | "f" | "woman" | "girl" | "trans woman" => Some("Woman"),
                "non binary" | "nonbinary" | "non-binary" | "enby" => Some("Non-binary"),
                "other" | "prefer to self describe" | "self describe" | "in another way" => Some("Other"),
                _ => None,
            }
            .map(str::to_owned),
            Kind::Disability | Kind::Carer => match k.as_str() {
                "yes"
                | "y"
                | "true"
                | "1"
                | "yes limited a lot"
                | "yes limited a little"
                | "yes a lot"
                | "yes a little" => Some("Yes"),
                "no" | "n" | "false" | "0" | "none" => Some("No"),
                _ => None,
            }
            .map(str::to_owned),
            Kind::Religion => match k.as_str() {
                "christian" | "christianity" | "church of england" | "catholic" | "roman catholic" | "methodist"
                | "baptist" | "anglican" | "orthodox" | "protestant" | "c of e" => Some("Christian"),
                "muslim" | "islam" => Some("Muslim"),
                "hindu" | "hinduism" => Some("Hindu"),
                "sikh" | "sikhism" => Some("Sikh"),
                "jewish" | "judaism" => Some("Jewish"),
                "buddhist" | "buddhism" => Some("Buddhist"),
                "no religion" | "none" | "atheist" | "agnostic" | "no religion or belief" | "not religious" => {
                    Some("No religion")
                }
                "other" | "other religion" | "any other religion" | "pagan" | "spiritual" => Some("Other"),
                _ => None,
            }
            .map(str::to_owned),
            Kind::Sexuality => match k.as_str() {
                "heterosexual" | "straight" | "heterosexual or straight" => Some("Heterosexual"),
                "gay or lesbian" | "gay" | "lesbian" | "gay man" | "gay woman" | "homosexual" => Some("Gay or lesbian"),
                "bisexual" | "bi" => Some("Bisexual"),
                "other" | "other sexual orientation" | "pansexual" | "asexual" | "queer" => Some("Other"),
                _ => None,
            }
            .map(str::to_owned),
            Kind::ImdQuintile => self.imd(&k),
            Kind::Other => Some(raw.split_whitespace().collect::<Vec<_>>().join(" ")),
        };
        found.unwrap_or_else(|| UNMAPPED.to_owned())
    }

    fn age_band(&self, raw: &str, k: &str, date: Option<NaiveDate>) -> Option<String> {
        let fit = |lo: u32, hi: Option<u32>| self.bands.iter().find(|b| b.contains(lo, hi)).map(|b| b.label.clone());
        if let Ok(age) = k.parse::<u32>() {
            return (age < 130).then(|| fit(age, Some(age))).flatten();
        }
        // a date of birth: the age on the record's date
        for f in ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"] {
            if let Ok(dob) = NaiveDate::parse_from_str(raw.trim(), f) {
                let on = date?;
                let mut age = on.year() - dob.year();
                if (on.month(), on.day()) < (dob.month(), dob.day()) {
                    age -= 1;
                }
                let age = u32::try_from(age).ok()?;
                return fit(age, Some(age));
            }
        }
        let band = AgeBand::parse(raw)?;
        fit(band.lo, band.hi)
    }

    fn imd(&self, k: &str) -> Option<String> {
        if let Some(&decile) = self.imd_lookup.get(k) {
            return Some(decile.div_ceil(2).to_string());
        }
        let n: u8 = k.trim_start_matches("q").trim_start_matches("quintile ").trim().parse().ok()?;
        (1..=5).contains(&n).then(|| n.to_string())
    }

    /// Quintile from an IMD decile value (1–10).
    #[must_use]
    pub fn quintile_of_decile(raw: &str) -> Option<String> {
        let d: u8 = raw.trim().parse().ok()?;
        (1..=10).contains(&d).then(|| d.div_ceil(2).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(dims: &[&str]) -> Harmoniser {
        let bands = DEFAULT_AGE_BANDS.iter().filter_map(|b| AgeBand::parse(b)).collect();
        let mut over = BTreeMap::new();
        over.insert("ethnicity".to_owned(), BTreeMap::from([("Romany".to_owned(), "White".to_owned())]));
        Harmoniser::new(
            &dims.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>(),
            &over,
            bands,
            HashMap::from([("E01000001".to_owned(), 1u8), ("E01000002".to_owned(), 10u8)]),
        )
    }

    #[test]
    fn ethnicity_codes_and_free_text_to_census_groups() {
        let h = h(&["ethnicity", "ethnicity_detail"]);
        let g = |raw: &str| h.group(0, Some(raw), None);
        for (raw, want) in [
            ("A", "White"),
            ("c", "White"),
            ("D", "Mixed"),
            ("H", "Asian"),
            ("K", "Asian"),
            ("R", "Asian"),
            ("M", "Black"),
            ("N", "Black"),
            ("S", "Other"),
            ("Z", "not_stated"),
            ("99", "not_stated"),
        ] {
            assert_eq!(g(raw), want, "code {raw}");
        }
        for (raw, want) in [
            ("White British", "White"),
            ("Asian or Asian British", "Asian"),
            ("Black African", "Black"),
            ("Mixed race", "Mixed"),
            ("Arab", "Other"),
            ("Chinese", "Asian"),
            ("Prefer not to say", "not_stated"),
            ("Martian", "unmapped"),
            ("Romany", "White"),
        ] {
            assert_eq!(g(raw), want, "{raw}");
        }
        assert_eq!(h.group(0, None, None), "missing");
        assert_eq!(h.group(1, Some("J"), None), "Asian: Pakistani");
        assert_eq!(h.group(1, Some("Gypsy or Irish Traveller"), None), "White: Gypsy or Irish Traveller");
    }

    #[test]
    fn ages_dates_of_birth_and_bands() {
        let h = h(&["age_band"]);
        let on = NaiveDate::from_ymd_opt(2025, 6, 1);
        let g = |raw: &str| h.group(0, Some(raw), on);
        assert_eq!(g("34"), "25-34");
        assert_eq!(g("25 to 34"), "25-34");
        assert_eq!(g("75 and over"), "75+");
        assert_eq!(g("80-84"), "75+");
        assert_eq!(g("Under 16"), "0-15");
        assert_eq!(g("20-29"), "unmapped", "a band that straddles two configured bands");
        assert_eq!(g("1990-06-02"), "25-34", "34 on 2025-06-01: the birthday is the next day");
        assert_eq!(g("1990-06-01"), "35-44");
        assert_eq!(h.group(0, Some("1990-06-01"), None), "unmapped", "a date of birth needs the record's date");
    }

    #[test]
    fn other_dimensions_and_absent_values() {
        let h = h(&["sex", "religion", "imd_quintile", "carer", "community_group"]);
        assert_eq!(h.group(0, Some("F"), None), "Female");
        assert_eq!(h.group(1, Some("None"), None), "No religion", "none is an answer for religion");
        assert_eq!(h.group(1, Some("Church of England"), None), "Christian");
        assert_eq!(h.group(2, Some("3"), None), "3");
        assert_eq!(h.group(2, Some("E01000002"), None), "5", "decile 10 from the lookup is quintile 5");
        assert_eq!(h.group(2, Some("7"), None), "unmapped");
        assert_eq!(h.group(3, Some("Prefer not to say"), None), "not_stated");
        assert_eq!(h.group(4, Some("  Deaf   Club "), None), "Deaf Club");
        assert_eq!(Harmoniser::quintile_of_decile("9").as_deref(), Some("5"));
    }
}
