//! The canonical record: one row per piece of free text.
//!
//! An FFT response with two free-text questions becomes two [`Record`]s that share a
//! `response_id`. Every record keeps its provenance ([`RowRef`]) so that any output row can
//! be traced back to the file and row it came from.
//!
//! It also holds the few values every stage may read without importing another stage: a
//! record's month ([`month_of`]), an IMD decile as a quintile ([`quintile_of_decile`]) and an
//! age band ([`AgeBand`]), and a record's fingerprints across runs ([`Record::key`],
//! [`Record::content`]). It imports no other module of the crate.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The question a piece of text answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// "What was good?"
    WhatGood,
    /// "What could we do better?"
    CouldImprove,
    /// A single "why did you give that rating?" question.
    Nonspecific,
    /// Notes of a conversation held with a community group.
    Conversation,
    /// A complaint or PALS contact.
    Complaint,
}

impl Question {
    /// Every question, in a fixed order.
    pub const ALL: [Question; 5] = [
        Question::WhatGood,
        Question::CouldImprove,
        Question::Nonspecific,
        Question::Conversation,
        Question::Complaint,
    ];

    /// The snake_case name used in files and outputs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Question::WhatGood => "what_good",
            Question::CouldImprove => "could_improve",
            Question::Nonspecific => "nonspecific",
            Question::Conversation => "conversation",
            Question::Complaint => "complaint",
        }
    }

    /// Parses a question value as it appears in exports: the canonical name or a common
    /// wording of the FFT questions (case and punctuation are ignored).
    #[must_use]
    pub fn parse(raw: &str) -> Option<Question> {
        let key: String = raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        let q = match key.as_str() {
            "whatgood" | "whatwasgood" | "good" | "positive" | "whatwentwell" => Question::WhatGood,
            "couldimprove"
            | "whatcouldwedobetter"
            | "howcouldweimprove"
            | "improve"
            | "dobetter"
            | "whatcouldbeimproved" => Question::CouldImprove,
            "nonspecific" | "fftwhy" | "why" | "comment" | "comments" | "general" => Question::Nonspecific,
            "conversation" | "conversations" | "communityconversation" => Question::Conversation,
            "complaint" | "complaints" | "pals" => Question::Complaint,
            _ => return Question::worded(&key),
        };
        Some(q)
    }

    /// A question in the FFT's own words, as surveys put them in a question column ("What was
    /// good about your experience?", "Is there anything that could have been better?", "Please
    /// can you tell us why you gave your answer?": each row was quarantined as an unknown
    /// question, found trying a long export). The draft pipeline's cues: *what was good* or *went
    /// well*; *better* or *improve*; *why*, *tell us*, *describe*, *satisfied* or *comment* (found:
    /// the 111 service's "Please describe any things … you were particularly satisfied and/or
    /// dissatisfied with", 409 rows of the labelled export quarantined once its question column
    /// was named in a pipeline, where the layout knew it). A wording with cues of both the first
    /// two is not read. `key` is the value lowercased, letters and digits only.
    fn worded(key: &str) -> Option<Question> {
        let good = key.contains("whatwasgood") || key.contains("wentwell");
        let improve = key.contains("better") || key.contains("improve");
        match (good, improve) {
            (true, false) => Some(Question::WhatGood),
            (false, true) => Some(Question::CouldImprove),
            (false, false) if ["why", "tellus", "describe", "satisf", "comment"].iter().any(|c| key.contains(c)) => {
                Some(Question::Nonspecific)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A short string held without a heap allocation up to 24 bytes (ids, organisation and
/// demographic values, carried columns): most of a record's fields are that short.
pub type Str = compact_str::CompactString;

/// Where a record came from: the source (index into the run's sources) and the row number
/// as a person would see it (spreadsheet numbering: the header is row 1; JSONL: line number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowRef {
    /// Index of the source in the pipeline.
    pub source: u32,
    /// Row number within the source file.
    pub row: u64,
}

/// One piece of free text with everything known about who wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Stable id: the source's id (+ question when a row holds several texts), else a hash.
    pub record_id: Str,
    /// Groups the records of one response.
    pub response_id: Str,
    /// Configured source name.
    pub source: std::sync::Arc<str>,
    /// Date received, when the source has one.
    pub received_date: Option<NaiveDate>,
    /// The question answered.
    pub question: Question,
    /// FFT rating 1–5, 6 = don't know.
    pub rating: Option<u8>,
    /// The original text (never written unredacted unless configured).
    pub text: String,
    /// Service / directorate / team.
    pub org: [Option<Str>; 3],
    /// Raw demographic values, one per dimension of the run (see `Settings::dimensions`).
    pub demographics: Vec<Option<Str>>,
    /// Columns carried through untouched, one per `Settings::extra_columns`.
    pub extra: Vec<Option<Str>>,
    /// Provenance.
    pub origin: RowRef,
}

impl Record {
    /// A 128-bit fingerprint of what identifies the record across runs: its source and id.
    #[must_use]
    pub fn key(&self) -> u128 {
        fingerprint(&(&*self.source, self.record_id.as_str()))
    }

    /// A 64-bit fingerprint of everything read for the record (ids, date, question, rating,
    /// text, organisation, demographic and carried values): two versions of a record differ
    /// here when anything a table shows of it could differ (a change goes unseen with odds of
    /// 1 in 2⁶⁴; one pass over the text, where the key's 128 bits take two).
    #[must_use]
    pub fn content(&self) -> u128 {
        self.content_in(self.extra.len()).unwrap_or(0)
    }

    /// [`Record::content`] as a state of `width` carried columns holds it (this run's columns
    /// are the state's, then the ones it adds): `None` when the record has a value in an added
    /// column, which the state's copy cannot have.
    #[must_use]
    pub fn content_in(&self, width: usize) -> Option<u128> {
        use std::hash::BuildHasher;
        let width = width.min(self.extra.len());
        if self.extra[width..].iter().any(Option::is_some) {
            return None;
        }
        let extra = &self.extra[..width];
        Some(u128::from(foldhash::quality::FixedState::with_seed(0x2545_F491_4F6C_DD1D).hash_one((
            &*self.source,
            self.record_id.as_str(),
            self.response_id.as_str(),
            self.received_date,
            self.question.as_str(),
            self.rating,
            self.text.as_str(),
            &self.org,
            &self.demographics,
            extra,
        ))))
    }
}

/// Two 64-bit hashes of `value` under fixed seeds (stable from run to run).
pub(crate) fn fingerprint<T: std::hash::Hash + ?Sized>(value: &T) -> u128 {
    use std::hash::BuildHasher;
    let h = |seed: u64| foldhash::quality::FixedState::with_seed(seed).hash_one(value);
    (u128::from(h(0x9E37_79B9_7F4A_7C15)) << 64) | u128::from(h(0xC2B2_AE3D_27D4_EB4F))
}

/// The canonical demographic dimensions, in output order.
pub const CANONICAL_DIMENSIONS: [&str; 10] = [
    "sex",
    "gender",
    "age_band",
    "ethnicity",
    "ethnicity_detail",
    "disability",
    "religion",
    "sexuality",
    "imd_quintile",
    "carer",
];

/// Canonical non-demographic fields a source column can map to.
pub const CANONICAL_FIELDS: [&str; 11] = [
    "record_id",
    "response_id",
    "received_date",
    "question",
    "text",
    "rating",
    "org_level_1",
    "org_level_2",
    "org_level_3",
    "imd_decile",
    "imd_key",
];

/// The month partition key of a record (`YYYY-MM`, or `unknown` without a date).
#[must_use]
pub fn month_of(r: &Record) -> String {
    r.received_date.map_or_else(|| "unknown".to_owned(), |d| d.format("%Y-%m").to_string())
}

/// The IMD quintile (1–5) of an IMD decile value (1–10); `None` for anything else.
#[must_use]
pub fn quintile_of_decile(raw: &str) -> Option<Str> {
    let d: u8 = raw.trim().parse().ok()?;
    (1..=10).contains(&d).then(|| compact_str::ToCompactString::to_compact_string(&d.div_ceil(2)))
}

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
    /// Parses `25-34`, `18 - 25`, `25 to 34`, `75+`, `75 and over`, `Over 65`, `Under 16`,
    /// `16 and under`, the ONS `Aged 16 to 24 years`, `Aged 4 years and under`; the label is normalised (`lo-hi`, or `lo+` for an open band), so
    /// "18 - 25" is "18-25", "Over 65" and "65 and over" are "65+" and "Under 16" is "0-15".
    #[must_use]
    pub fn parse(label: &str) -> Option<AgeBand> {
        let s = label.trim().to_ascii_lowercase();
        let nums: Vec<u32> =
            s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect();
        let (lo, hi) = match nums.as_slice() {
            [a, b] if a <= b && *b < 150 => (*a, Some(*b)),
            [a] if *a < 150
                && (s.contains('+')
                    || s.contains("over")
                    || s.contains("plus")
                    || s.contains("older")
                    || s.contains("above")) =>
            {
                (*a, None)
            }
            [a] if *a < 150 && ["under", "below", "younger", "<"].iter().any(|w| s.contains(w)) => {
                // "15 and under", "Aged 15 years and under" (ONS), "15 or younger", "<=15" hold
                // 15; "Under 16", "younger than 16", "<16" do not hold 16 (the ONS wording was
                // read as "under 15", its band 0-14, found on a census table)
                let inclusive = ["and under", "or under", "and below", "or below", "and younger", "or younger", "<="]
                    .iter()
                    .any(|w| s.contains(w));
                if inclusive {
                    (0, Some(*a))
                } else {
                    (0, Some(a.checked_sub(1)?))
                }
            }
            _ => return None,
        };
        let label = match hi {
            Some(h) => format!("{lo}-{h}"),
            None => format!("{lo}+"),
        };
        Some(AgeBand { label, lo, hi })
    }

    pub(crate) fn contains(&self, lo: u32, hi: Option<u32>) -> bool {
        lo >= self.lo
            && match (self.hi, hi) {
                (None, _) => true,
                (Some(h), Some(x)) => x <= h,
                (Some(_), None) => false,
            }
    }

    /// Width for choosing the narrowest band that holds a value (open bands are widest).
    pub(crate) fn width(&self) -> u32 {
        self.hi.map_or(u32::MAX, |h| h.saturating_sub(self.lo))
    }
}

/// SQL reserved words of the dialects BI tools speak (SQL:2016, DuckDB, PostgreSQL, MySQL 8,
/// T-SQL, Spark SQL's ANSI mode): no column may be one of them, quoted or not, so no dimension
/// may be named by one (found: a dimension `group` made `select group from …` a parse error).
pub const SQL_RESERVED: &[&str] = &[
    "all",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "between",
    "both",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "cube",
    "current",
    "current_date",
    "date",
    "default",
    "delete",
    "desc",
    "describe",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "filter",
    "for",
    "foreign",
    "from",
    "full",
    "function",
    "grant",
    "group",
    "groups",
    "having",
    "in",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "key",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "of",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "partition",
    "percent",
    "pivot",
    "primary",
    "qualify",
    "range",
    "rank",
    "references",
    "returning",
    "right",
    "row",
    "rows",
    "select",
    "set",
    "some",
    "table",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "unpivot",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
    "year",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_parses_fft_wordings() {
        assert_eq!(Question::parse("What was good?"), Some(Question::WhatGood));
        assert_eq!(Question::parse("What could we do better?"), Some(Question::CouldImprove));
        assert_eq!(Question::parse("How could we improve?"), Some(Question::CouldImprove));
        assert_eq!(Question::parse("FFT Why?"), Some(Question::Nonspecific));
        assert_eq!(Question::parse("could_improve"), Some(Question::CouldImprove));
        for (wording, q) in [
            ("Q2. What was good about your experience?", Some(Question::WhatGood)),
            ("Is there anything that could have been better?", Some(Question::CouldImprove)),
            ("Please can you tell us why you gave your answer?", Some(Question::Nonspecific)),
            (
                "Please describe any things about the 111 service that\nyou were particularly satisfied and/or dissatisfied with",
                Some(Question::Nonspecific),
            ),
            ("Any other comments?", Some(Question::Nonspecific)),
            ("Were you satisfied with the care you received?", Some(Question::Nonspecific)),
            ("What went well, and what could be improved?", None),
            ("How old are you?", None),
        ] {
            assert_eq!(Question::parse(wording), q, "{wording}");
        }
        assert_eq!(Question::parse("banana"), None);
        for q in Question::ALL {
            assert_eq!(Question::parse(q.as_str()), Some(q), "round trip of {q}");
        }
    }
}
