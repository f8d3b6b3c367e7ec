//! Harmonisation: raw demographic values to standard groups.
//!
//! Built-in mappings: NHS Data Dictionary codes per dimension (ethnic category, person stated
//! gender and gender identity, sexual orientation, religious or other belief system affiliation,
//! disability; see `fn code` and README "Demographic codes") and common free-text forms — to the
//! five Census 2021 high-level ethnic groups (Chinese under Asian, Arab under Other) and the
//! detailed ones for `ethnicity_detail`; ages, dates of birth or bands to the age bands in force
//! (a value outside every band keeps its own name); sex and gender; disability; religion;
//! sexuality; IMD decile or quintile to quintile; carer. Every mapping can be overridden in the
//! pipeline file (`[people.map.<dimension>]`). `not_stated`, `missing` and `unmapped` stay
//! distinct.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};

use super::{MISSING, NOT_STATED, UNMAPPED};

pub(crate) use crate::record::AgeBand;

/// The distinct bands among raw values (ages and dates of birth are not bands), sorted by their
/// lowest age: a source's own bands as written, normalised.
#[must_use]
pub(crate) fn bands_in<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<AgeBand> {
    let mut out: Vec<AgeBand> = values.into_iter().filter_map(AgeBand::parse).collect();
    out.sort_by_key(|b| (b.lo, b.hi.is_none(), b.hi));
    out.dedup();
    out
}

/// The default age bands (Census-style, adults in ten-year bands).
pub(crate) const DEFAULT_AGE_BANDS: [&str; 8] = ["0-15", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"];

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

/// How dates of birth are written.
const DOB_FORMATS: [&str; 3] = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"];

/// Is `raw` a date (in an age column: a date of birth)?
#[must_use]
pub(crate) fn is_date(raw: &str) -> bool {
    DOB_FORMATS.iter().any(|f| NaiveDate::parse_from_str(raw.trim(), f).is_ok())
}

/// Is this the dimension of age bands?
#[must_use]
pub(crate) fn is_age_dimension(dimension: &str) -> bool {
    kind_of(dimension) == Kind::AgeBand
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
/// A whole number written as a decimal (`67.0`, `3.00`) as its digits: pandas writes an integer
/// column that holds a blank as floats, and Excel's number cells can read the same way (found:
/// ages and IMD deciles of a CSV written by pandas were all `unmapped`).
fn whole_number(raw: &str) -> Option<&str> {
    let (int, frac) = raw.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && digits(frac) && frac.bytes().all(|b| b == b'0')).then_some(int)
}

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
            | "not sure"
            | "unsure"
            | "not answered"
    )
}

/// The coded values of one dimension: NHS Data Dictionary national and default codes, the
/// older one-digit "not applicable" / "not known" pair, and one-letter initials that are
/// unambiguous within the dimension. README "Demographic codes" lists each table with its
/// source. Checked before any wording; `k` is the value's [`key`].
fn code(kind: Kind, k: &str) -> Option<&'static str> {
    Some(match (kind, k) {
        // PERSON STATED GENDER CODE / PERSON PHENOTYPIC SEX: 1 male, 2 female, 9 indeterminate
        // (PERSON GENDER CODE: 9 not specified), X not known; PERSON GENDER CODE: 0 not known
        (Kind::Sex, "1" | "m") => "Male",
        (Kind::Sex, "2" | "f") => "Female",
        (Kind::Sex | Kind::Gender, "9") => NOT_STATED,
        (Kind::Sex | Kind::Gender, "0" | "u") => MISSING,
        // GENDER IDENTITY CODE: 1 male (including trans man), 2 female (including trans woman),
        // 3 non-binary, 4 other (not listed), Z not stated, X not known
        (Kind::Gender, "1" | "m") => "Man",
        (Kind::Gender, "2" | "f") => "Woman",
        (Kind::Gender, "3") => "Non-binary",
        (Kind::Gender, "4") => "Other",
        // SEXUAL ORIENTATION CODE (DCB2094): 1 heterosexual or straight, 2 gay or lesbian,
        // 3 bisexual, 4 other sexual orientation not listed, U asked and does not know or is not
        // sure, Z not stated, 9 not known (not recorded)
        (Kind::Sexuality, "1" | "h") => "Heterosexual",
        (Kind::Sexuality, "2" | "g" | "l") => "Gay or lesbian",
        (Kind::Sexuality, "3" | "b") => "Bisexual",
        (Kind::Sexuality, "4") => "Other",
        (Kind::Sexuality, "u") => NOT_STATED,
        (Kind::Sexuality, "9") => MISSING,
        // DISABILITY CODE: 01–10 a type of disability, XX other (not listed), NN no disability,
        // ZZ not stated
        (Kind::Disability, "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "xx") => "Yes",
        (Kind::Disability, "nn") => "No",
        // yes / no answers: Y/N, 1 yes / 2 no, 1 / 0; 8 not applicable, 9 not known
        (Kind::Disability | Kind::Carer, "y" | "1") => "Yes",
        (Kind::Disability | Kind::Carer, "n" | "2" | "0") => "No",
        (Kind::Disability | Kind::Carer, "8" | "9" | "98") => MISSING,
        // RELIGIOUS OR OTHER BELIEF SYSTEM AFFILIATION GROUP CODE (A–N) and the detailed
        // RELIGIOUS OR OTHER BELIEF SYSTEM AFFILIATION CODE (its letter, then digits)
        (Kind::Religion, _) if religion_code(k).is_some() => return religion_code(k),
        // ETHNIC CATEGORY: Z not stated, 99 not known; 9 "not given", the withdrawn default
        (Kind::Ethnicity | Kind::EthnicityDetail, "9") => NOT_STATED,
        (Kind::Ethnicity | Kind::EthnicityDetail, _) if k.len() == 2 && k.starts_with('z') => NOT_STATED,
        // any dimension
        (_, "z" | "zz") => NOT_STATED,
        (_, "x") => MISSING,
        (Kind::AgeBand | Kind::ImdQuintile, "99") => return None, // an age of 99; not an IMD value
        (_, "99") => MISSING,
        _ => return None,
    })
}

/// RELIGIOUS OR OTHER BELIEF SYSTEM AFFILIATION GROUP CODE → Census 2021 religion group; the
/// detailed codes (e.g. `C22` Church of England) by their letter.
fn religion_code(k: &str) -> Option<&'static str> {
    let mut chars = k.chars();
    let letter = chars.next()?;
    let rest = chars.as_str();
    if !(rest.is_empty() || (rest.len() <= 3 && rest.chars().all(|c| c.is_ascii_digit()))) {
        return None;
    }
    Some(match letter {
        'a' | 'e' | 'h' | 'j' | 'k' => "Other", // Baha'i, Jain, Pagan, Zoroastrian, Other
        'b' => "Buddhist",
        'c' => "Christian",
        'd' => "Hindu",
        'f' => "Jewish",
        'g' => "Muslim",
        'i' => "Sikh",
        'l' => "No religion",
        'm' => NOT_STATED, // declines to disclose
        'n' => MISSING,    // patient religion unknown
        'z' if rest.is_empty() => NOT_STATED,
        'x' if rest.is_empty() => MISSING,
        _ => return None,
    })
}

/// NHS Data Dictionary ethnic category code → (Census 2021 high-level group, detailed group).
/// The national code is the first character; a second character is for local use (`CA`, `C2`).
fn ethnic_code(code: &str) -> Option<(&'static str, &'static str)> {
    let code = match code.as_bytes() {
        [c] | [c, b'a'..=b'z' | b'0'..=b'9'] => *c,
        _ => return None,
    };
    Some(match code {
        b'a' => ("White", "White: English, Welsh, Scottish, Northern Irish or British"),
        b'b' => ("White", "White: Irish"),
        b'c' => ("White", "White: Other White"),
        b'd' => ("Mixed", "Mixed: White and Black Caribbean"),
        b'e' => ("Mixed", "Mixed: White and Black African"),
        b'f' => ("Mixed", "Mixed: White and Asian"),
        b'g' => ("Mixed", "Mixed: Other Mixed or Multiple ethnic groups"),
        b'h' => ("Asian", "Asian: Indian"),
        b'j' => ("Asian", "Asian: Pakistani"),
        b'k' => ("Asian", "Asian: Bangladeshi"),
        b'l' => ("Asian", "Asian: Other Asian"),
        b'm' => ("Black", "Black: Caribbean"),
        b'n' => ("Black", "Black: African"),
        b'p' => ("Black", "Black: Other Black"),
        b'r' => ("Asian", "Asian: Chinese"),
        b's' => ("Other", "Other ethnic group: Any other ethnic group"),
        _ => return None,
    })
}

/// Free-text ethnicity → (high-level group, detailed group if the text says which). Besides
/// the words of one group, the two-part wordings of the 2001 and 2011 classifications that NHS
/// systems export ("Asian or Asian British - Pakistani", "White: Irish", "Other Ethnic Groups -
/// Chinese") are read as their second part, or as the first part's group when the second part
/// names nothing more precise.
fn ethnic_text(k: &str) -> Option<(&'static str, Option<&'static str>)> {
    const HEADINGS: &[(&str, &str)] = &[
        ("asian asian british or asian welsh", "Asian"),
        ("asian or asian british", "Asian"),
        ("asian british", "Asian"),
        ("black black british black welsh caribbean or african", "Black"),
        ("black black british caribbean or african", "Black"),
        ("black or african or caribbean or black british", "Black"),
        ("black african caribbean or black british", "Black"),
        // the 2011 census heading as exports write it: "Black/African/Caribbean/Black British"
        ("black african caribbean black british", "Black"),
        ("black or black british", "Black"),
        ("black british", "Black"),
        ("mixed or multiple ethnic groups", "Mixed"),
        ("mixed", "Mixed"),
        ("other ethnic groups", "Other"),
        ("other ethnic group", "Other"),
        ("white", "White"),
        ("asian", "Asian"),
    ];
    ethnic_words(k).or_else(|| {
        HEADINGS.iter().find_map(|(heading, group)| {
            // a heading alone is its group (the 2021 census's "Black, Black British, Black
            // Welsh, Caribbean or African" in a baseline, found unmapped)
            match k.strip_prefix(heading)? {
                "" => Some((*group, None)),
                rest => Some(ethnic_words(rest.strip_prefix(' ')?).unwrap_or((group, None))),
            }
        })
    })
}

fn ethnic_words(k: &str) -> Option<(&'static str, Option<&'static str>)> {
    let detail = |d: &'static str| Some(d);
    Some(match k {
        "white british" | "british" | "english" | "welsh" | "scottish" | "northern irish" | "white english"
        | "white welsh" | "white scottish" => {
            ("White", detail("White: English, Welsh, Scottish, Northern Irish or British"))
        }
        "white irish" | "irish" => ("White", detail("White: Irish")),
        "gypsy or irish traveller"
        | "gypsy traveller or irish traveller"
        | "gypsy or traveller"
        | "irish traveller"
        | "gypsy"
        | "traveller" => ("White", detail("White: Gypsy or Irish Traveller")),
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
        "mixed other" | "other mixed" | "any other mixed background" | "mixed asian and black" | "white and arab" => {
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
        | "vietnamese"
        | "japanese"
        | "kashmiri" => ("Asian", detail("Asian: Other Asian")),
        "asian" | "asian or asian british" | "asian british" | "british asian" => ("Asian", None),
        "caribbean" | "black caribbean" | "black british caribbean" => ("Black", detail("Black: Caribbean")),
        "african" | "black african" | "black british african" | "somali" | "nigerian" | "ghanaian" | "eritrean" => {
            ("Black", detail("Black: African"))
        }
        "black"
        | "black british"
        | "black or black british"
        | "black black british"
        | "black caribbean or african"
        | "any other black background"
        | "other black" => ("Black", None),
        "arab" => ("Other", detail("Other ethnic group: Arab")),
        "any other ethnic group" | "iranian" | "latin american" => {
            ("Other", detail("Other ethnic group: Any other ethnic group"))
        }
        "other" | "other ethnic group" => ("Other", None),
        _ => return None,
    })
}

/// Harmonises the raw values of one run.
#[derive(Debug, Clone)]
pub(crate) struct Harmoniser {
    kinds: Vec<Kind>,
    overrides: Vec<HashMap<String, String>>,
    bands: Vec<AgeBand>,
    imd_lookup: HashMap<String, u8>,
}

impl Harmoniser {
    /// A harmoniser for `dimensions`, with per-dimension overrides (raw value → group) and the
    /// age bands to use.
    #[must_use]
    pub(crate) fn new(
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
    pub(crate) fn group(&self, d: usize, raw: Option<&str>, date: Option<NaiveDate>) -> String {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return MISSING.to_owned();
        };
        let kind = self.kinds.get(d).copied().unwrap_or(Kind::Other);
        // (a dimension of the trust's own keeps its values as written)
        let raw = if kind == Kind::Other { raw } else { whole_number(raw).unwrap_or(raw) };
        let k = key(raw);
        if let Some(g) = self.overrides.get(d).and_then(|m| m.get(&k)) {
            return g.clone();
        }
        if let Some(g) = code(kind, &k) {
            return g.to_owned();
        }
        if k.is_empty() || matches!(k.as_str(), "na" | "n a" | "null" | "missing" | "blank" | "not recorded") {
            return MISSING.to_owned();
        }
        if is_not_stated(&k) {
            return NOT_STATED.to_owned();
        }
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
                "male" | "m" | "man" | "boy" | "trans man" | "male including trans man" => Some("Man"),
                "female" | "f" | "woman" | "girl" | "trans woman" | "female including trans woman" => Some("Woman"),
                "non binary" | "nonbinary" | "non-binary" | "enby" => Some("Non-binary"),
                "other" | "other not listed" | "prefer to self describe" | "self describe" | "in another way" => {
                    Some("Other")
                }
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
                // the census's words (TS038, TS039), with their detailed categories after them
                k if k.starts_with("disabled under the equality act") => Some("Yes"),
                k if k.starts_with("not disabled under the equality act") => Some("No"),
                "provides no unpaid care" => Some("No"),
                k if k.starts_with("provides ") && k.ends_with("unpaid care a week") => Some("Yes"),
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
                "no religion"
                | "none"
                | "atheist"
                | "agnostic"
                | "humanist"
                | "no religion or belief"
                | "not religious" => Some("No religion"),
                "other" | "other religion" | "any other religion" | "pagan" | "spiritual" | "bahai" | "baha i"
                | "jain" | "zoroastrian" | "rastafarian" => Some("Other"),
                _ => None,
            }
            .map(str::to_owned),
            Kind::Sexuality => match k.as_str() {
                "heterosexual" | "straight" | "heterosexual or straight" | "straight or heterosexual" => {
                    Some("Heterosexual")
                }
                "gay or lesbian" | "lesbian or gay" | "gay" | "lesbian" | "gay man" | "gay woman" | "homosexual" => {
                    Some("Gay or lesbian")
                }
                "bisexual" | "bi" => Some("Bisexual"),
                "other"
                | "other sexual orientation"
                | "other sexual orientation not listed"
                | "pansexual"
                | "asexual"
                | "queer" => Some("Other"),
                // the census's (TS077), with its detailed categories after it
                k if k.starts_with("all other sexual orientations") => Some("Other"),
                _ => None,
            }
            .map(str::to_owned),
            Kind::ImdQuintile => self.imd(&k),
            Kind::Other => Some(raw.split_whitespace().collect::<Vec<_>>().join(" ")),
        };
        found.unwrap_or_else(|| UNMAPPED.to_owned())
    }

    /// An age, a date of birth or a band, in the band in force that holds it; a value that
    /// fits no band in force keeps its own name (the age, or the band normalised), so it stays
    /// a group of its own (see [`Harmoniser::is_off_band`]).
    fn age_band(&self, raw: &str, k: &str, date: Option<NaiveDate>) -> Option<String> {
        // a date of birth: the age on the record's date
        for f in DOB_FORMATS {
            if let Ok(dob) = NaiveDate::parse_from_str(raw.trim(), f) {
                let on = date?;
                let mut age = on.year() - dob.year();
                if (on.month(), on.day()) < (dob.month(), dob.day()) {
                    age -= 1;
                }
                let age = u32::try_from(age).ok().filter(|a| *a < 130)?;
                return Some(self.place(age, Some(age)).unwrap_or_else(|| age.to_string()));
            }
        }
        // a negative number is no age (the key drops its sign: "-3" was the age 3)
        if raw.trim_start().strip_prefix('-').is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        {
            return None;
        }
        // a band before a number: "65+" is an open band, never the age 65
        if let Some(band) = AgeBand::parse(raw) {
            return Some(self.place(band.lo, band.hi).unwrap_or(band.label));
        }
        let age: u32 = k.strip_suffix(" years").unwrap_or(k).parse().ok().filter(|a| *a < 130)?;
        Some(self.place(age, Some(age)).unwrap_or_else(|| age.to_string()))
    }

    /// The band in force with exactly these ages, else the narrowest band that holds them.
    fn place(&self, lo: u32, hi: Option<u32>) -> Option<String> {
        self.bands
            .iter()
            .find(|b| b.lo == lo && b.hi == hi)
            .or_else(|| self.bands.iter().filter(|b| b.contains(lo, hi)).min_by_key(|b| (b.width(), b.lo)))
            .map(|b| b.label.clone())
    }

    /// The age bands in force.
    #[must_use]
    pub(crate) fn bands(&self) -> &[AgeBand] {
        &self.bands
    }

    /// Is `group` of dimension `d` an age outside every band in force? Such a group is kept
    /// by name for theme statistics and counts as `unmapped` for representation.
    #[must_use]
    pub(crate) fn is_off_band(&self, d: usize, group: &str) -> bool {
        self.kinds.get(d) == Some(&Kind::AgeBand)
            && !matches!(group, MISSING | NOT_STATED | UNMAPPED)
            && !self.bands.iter().any(|b| b.label == group)
    }

    fn imd(&self, k: &str) -> Option<String> {
        if let Some(&decile) = self.imd_lookup.get(k) {
            return Some(decile.div_ceil(2).to_string());
        }
        let n: u8 = k.trim_start_matches("q").trim_start_matches("quintile ").trim().parse().ok()?;
        (1..=5).contains(&n).then(|| n.to_string())
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
            ("99", "missing"),
            ("9", "not_stated"),
            ("CA", "White"),
            ("H1", "Asian"),
            ("ZZ", "not_stated"),
            ("Asian or Asian British - Pakistani", "Asian"),
            ("Asian or Asian British: Any other Asian background", "Asian"),
            ("Black or Black British - African", "Black"),
            ("White - British", "White"),
            ("White: Irish", "White"),
            ("Mixed - White and Asian", "Mixed"),
            ("Other Ethnic Groups - Chinese", "Asian"),
            ("Other Ethnic Groups - Any other ethnic group", "Other"),
            ("Black, Black British, Caribbean or African - Somali", "Black"),
            ("Whitewash", "unmapped"),
            // the 2021 census's five headings alone, as an ONS table (a baseline) writes them
            ("Asian, Asian British or Asian Welsh", "Asian"),
            ("Black, Black British, Black Welsh, Caribbean or African", "Black"),
            ("Black, Black British, Caribbean or African", "Black"),
            ("Mixed or Multiple ethnic groups", "Mixed"),
            ("White", "White"),
            ("Other ethnic group", "Other"),
            ("Black or African or Caribbean or Black British", "Black"),
            ("Blackpool", "unmapped"),
            // wordings found unmapped by a reader in the twenty-fourth session on issue 9
            ("Black/African/Caribbean/Black British", "Black"),
            ("Black/ Black British", "Black"),
            ("British Asian", "Asian"),
            ("Gypsy, Traveller or Irish Traveller", "White"),
            ("Japanese", "Asian"),
            ("Kashmiri", "Asian"),
            ("Latin American", "Other"),
            ("Other mixed", "Mixed"),
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
        assert_eq!(g("34.0"), "25-34", "pandas writes an integer column holding a blank as floats");
        assert_eq!(g("34.5"), "unmapped");
        assert_eq!([g("-3"), g("- 34"), g("-1990-06-01")], ["unmapped"; 3], "a negative number is no age");
        assert_eq!([g("130"), g("129")], ["unmapped", "75+"]);
        assert_eq!(g("25 to 34"), "25-34");
        assert_eq!(g("75 and over"), "75+");
        assert_eq!(g("80-84"), "75+");
        assert_eq!(g("Under 16"), "0-15");
        assert_eq!(g("20-29"), "20-29", "a band that straddles two bands in force keeps its own name");
        assert!(h.is_off_band(0, "20-29"));
        assert!(!h.is_off_band(0, "25-34"));
        assert!(!h.is_off_band(0, "unmapped"));
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
        // whole numbers written as decimals (pandas' integer columns holding a blank)
        assert_eq!(h.group(2, Some("3.0"), None), "3");
        assert_eq!(h.group(3, Some("1.00"), None), "Yes");
        assert_eq!(h.group(2, Some("3.5"), None), "unmapped");
        assert_eq!(h.group(4, Some("3.0"), None), "3.0", "a trust's own dimension keeps its values as written");
        assert_eq!(crate::record::quintile_of_decile("9").as_deref(), Some("5"));
    }

    fn bands(labels: &[&str]) -> Harmoniser {
        Harmoniser::new(
            &["age_band".to_owned()],
            &BTreeMap::new(),
            labels.iter().filter_map(|b| AgeBand::parse(b)).collect(),
            HashMap::new(),
        )
    }

    #[test]
    fn band_labels_are_normalised() {
        let label = |s: &str| AgeBand::parse(s).map(|b| b.label);
        assert_eq!(label("18 - 25").as_deref(), Some("18-25"));
        assert_eq!(label("Over 65").as_deref(), Some("65+"));
        assert_eq!(label("65 and over").as_deref(), Some("65+"));
        assert_eq!(label("65+").as_deref(), Some("65+"));
        assert_eq!(label("Under 16").as_deref(), Some("0-15"));
        assert_eq!(label("16 and under").as_deref(), Some("0-16"));
        assert_eq!(label("25 to 34").as_deref(), Some("25-34"));
        assert_eq!(label("0 - 11").as_deref(), Some("0-11"));
        // the ONS wording of a census table (`Aged 15 years and under` was read as under 15)
        for (raw, want) in [
            ("Aged 4 years and under", "0-4"),
            ("Aged 15 years and under", "0-15"),
            ("Aged 16 to 24 years", "16-24"),
            ("Aged 85 years and over", "85+"),
            ("Aged under 16", "0-15"),
            ("15 or younger", "0-15"),
            ("younger than 16", "0-15"),
            ("<=15", "0-15"),
            ("<16", "0-15"),
        ] {
            assert_eq!(label(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(label("34"), None, "an age is not a band");
        assert_eq!(label("1990-06-02"), None, "a date of birth is not a band");
        assert_eq!(label("34-25"), None);
        let found: Vec<String> = bands_in(["Over 65", "26-39", "0 - 11", "65 and over", "abc", "12-25"])
            .into_iter()
            .map(|b| b.label)
            .collect();
        assert_eq!(found, ["0-11", "12-25", "26-39", "65+"]);
    }

    #[test]
    fn an_open_band_is_never_a_closed_one() {
        let h = bands(&["18-24", "25-44", "45-64", "65+"]);
        let g = |raw: &str| h.group(0, Some(raw), NaiveDate::from_ymd_opt(2025, 6, 1));
        assert_eq!(g("65+"), "65+", "not the age 65");
        assert_eq!(g("Over 65"), "65+");
        assert_eq!(g("65 and over"), "65+");
        assert_eq!(g("75+"), "65+", "an open band inside an open band");
        assert_eq!(g("25 - 44"), "25-44");
        assert_eq!(g("30-34"), "25-44", "a narrower band inside a band in force");
        assert_eq!(g("64"), "45-64");
        assert_eq!(g("99"), "65+", "99 is an age here, not a not-known code");
        assert_eq!(g("1960-01-01"), "65+");
        assert_eq!(g("17"), "17", "an age outside every band keeps its own name");
        assert_eq!(g("Under 16"), "0-15");
        assert!(h.is_off_band(0, "17") && h.is_off_band(0, "0-15"));
        assert_eq!(g("60+"), "60+", "an open band is never squeezed into 45-64");
        assert_eq!(g("x"), "missing");
        assert_eq!(g("Z"), "not_stated");
        assert_eq!(g("old"), "unmapped");
    }

    #[test]
    fn trust_bands_come_out_as_written() {
        let h = bands(&["0 - 11", "12-25", "26-39", "40-64", "Over 65"]);
        let g = |raw: &str| h.group(0, Some(raw), None);
        assert_eq!(g("0 - 11"), "0-11");
        assert_eq!(g("26-39"), "26-39");
        assert_eq!(g("Over 65"), "65+");
        assert_eq!(g("30"), "26-39");
        assert_eq!(g("7"), "0-11");
    }

    #[test]
    fn gender_and_sex_codes() {
        let h = h(&["gender", "sex"]);
        for (raw, want) in [
            ("1", "Man"),
            ("2", "Woman"),
            ("3", "Non-binary"),
            ("4", "Other"),
            ("9", "not_stated"),
            ("X", "missing"),
            ("Z", "not_stated"),
            ("0", "missing"),
            ("M", "Man"),
            ("f", "Woman"),
            ("Female (including trans woman)", "Woman"),
        ] {
            assert_eq!(h.group(0, Some(raw), None), want, "gender {raw}");
        }
        for (raw, want) in
            [("1", "Male"), ("2", "Female"), ("9", "not_stated"), ("X", "missing"), ("0", "missing"), ("M", "Male")]
        {
            assert_eq!(h.group(1, Some(raw), None), want, "sex {raw}");
        }
    }

    /// The census's own categories, as a bulk table's columns or a custom dataset's values name
    /// them (found unmapped in the fifteenth session on issue 9, reading TS038, TS039 and TS077
    /// as baselines: "no population for sexuality group Heterosexual").
    #[test]
    fn census_categories_of_disability_care_and_sexual_orientation() {
        let h = h(&["disability", "carer", "sexuality"]);
        for (d, raw, want) in [
            (0, "Disabled under the Equality Act: Day-to-day activities limited a lot", "Yes"),
            (0, "Disabled under the Equality Act", "Yes"),
            (0, "Not disabled under the Equality Act: No long term physical or mental health conditions", "No"),
            (1, "Provides no unpaid care", "No"),
            (1, "Provides 19 or less hours unpaid care a week", "Yes"),
            (1, "Provides 50 or more hours unpaid care a week", "Yes"),
            (2, "Straight or Heterosexual", "Heterosexual"),
            (2, "Gay or Lesbian", "Gay or lesbian"),
            (2, "All other sexual orientations: Pansexual", "Other"),
            (2, "Not answered", "not_stated"),
        ] {
            assert_eq!(h.group(d, Some(raw), None), want, "{raw}");
        }
    }

    #[test]
    fn sexual_orientation_codes() {
        let h = h(&["sexuality"]);
        for (raw, want) in [
            ("1", "Heterosexual"),
            ("2", "Gay or lesbian"),
            ("3", "Bisexual"),
            ("4", "Other"),
            ("U", "not_stated"),
            ("Z", "not_stated"),
            ("9", "missing"),
            ("Heterosexual or Straight", "Heterosexual"),
            ("Other sexual orientation not listed", "Other"),
            ("B", "Bisexual"),
        ] {
            assert_eq!(h.group(0, Some(raw), None), want, "sexuality {raw}");
        }
    }

    #[test]
    fn religion_codes() {
        let h = h(&["religion"]);
        for (raw, want) in [
            ("A", "Other"),
            ("B", "Buddhist"),
            ("C", "Christian"),
            ("D", "Hindu"),
            ("E", "Other"),
            ("F", "Jewish"),
            ("G", "Muslim"),
            ("H", "Other"),
            ("I", "Sikh"),
            ("J", "Other"),
            ("K", "Other"),
            ("L", "No religion"),
            ("M", "not_stated"),
            ("N", "missing"),
            ("C22", "Christian"),
            ("B8", "Buddhist"),
            ("Z", "not_stated"),
            ("99", "missing"),
            ("Any other religion", "Other"),
            ("No religion", "No religion"),
            ("Cx1", "unmapped"),
        ] {
            assert_eq!(h.group(0, Some(raw), None), want, "religion {raw}");
        }
    }

    #[test]
    fn disability_and_yes_no_codes() {
        let h = h(&["disability", "carer"]);
        for (raw, want) in [
            ("Y", "Yes"),
            ("N", "No"),
            ("1", "Yes"),
            ("2", "No"),
            ("yes", "Yes"),
            ("01", "Yes"),
            ("10", "Yes"),
            ("XX", "Yes"),
            ("NN", "No"),
            ("ZZ", "not_stated"),
            ("9", "missing"),
            ("8", "missing"),
        ] {
            assert_eq!(h.group(0, Some(raw), None), want, "disability {raw}");
        }
        assert_eq!(h.group(1, Some("01"), None), "unmapped", "disability codes are not carer codes");
        assert_eq!(h.group(1, Some("N"), None), "No");
    }
}
