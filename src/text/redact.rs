//! Redaction of personal data from free text, before anything is written.
//!
//! [`Redactor::redact`] finds six kinds of personal data ([`PiiKind`]) and replaces each
//! with its placeholder, such as `[PHONE]`:
//!
//! - **NHS numbers**: 10 digits, plain (`9434765919`), in groups of 3-3-4, 4-3-3 or 3-4-3 or
//!   one by one, parted by up to three spaces, dashes or dots, not inside a longer digit run,
//!   and only when the mod-11 check digit is valid ([`nhs_number_is_valid`]).
//! - **UK phone numbers**: geographic (`01…`, `02…`) and mobile (`07…`), national or
//!   international (`+44`, `0044`, `+44 (0)`), grouped by spaces or dashes (up to three between
//!   groups), or with a bracketed area code (`(01632) 960123`). Service numbers (`0800…`,
//!   `0300…`, `111`, `999`) are kept.
//! - **Email addresses**.
//! - **UK postcodes**: full unit postcodes in any case, with or without the space
//!   (`SO14 0YN`, `so140yn`). An outward code alone (`SO14`, `B12`) is kept.
//! - **Dates of birth**: a date a few filler words after `DOB`, `D.O.B`, `date of birth` or
//!   `born` (`born on the 3rd of March 1956`). Only the date is replaced: `DOB [DOB]`.
//! - **Names** after a title or role (`Dr`, `Mrs`, `Nurse`, `Sister`, `Consultant`, …, in
//!   capitals, capitalised or lower case): one or two capitalised words, with initials
//!   (`Dr J. Smith`, `Mr A.B. Smith`) and particles (`Dr van der Berg`) before them. The title
//!   is kept: `Nurse [NAME] was lovely`.
//!
//! Line breaks are read as spaces: a quoted CSV field keeps them, inside a number or after a
//! title.
//!
//! Overlapping matches are settled by kind (email, NHS number, date of birth, phone, postcode,
//! name, in that order), then by length. One byte scan first counts what each kind needs (ten
//! digits for an NHS or phone number, an `@` for an email, two digits and three letters for a
//! postcode, a digit and a `b` for a date of birth, a space, tab, line break or dot for a name
//! after a title):
//! a pattern runs only where it could match, so a short value such as `65-74` or `S0000001`
//! costs that scan alone, and text with nothing found comes back borrowed.
//!
//! # Known limits
//! - Names are found only after a title (`Dr Smith`, `dr Smith`, `Dr SMITH`) or an all-capitals
//!   one followed by an all-capitals name (`DR SMITH`, not `DR Smith`, so that `MS Society`
//!   survives). Kept: lowercase names ("nurse jones", "Dr fennimore"), "Jones was lovely", names
//!   behind a role word ("Nurse Practitioner Smith") or another word (`GP Smith`, `Dr: Smith`)
//!   and words in the stop list ("Dr Will"); a third name word stays ("Dr Mary Ann Smith"
//!   becomes "Dr [NAME] Smith").
//! - Only ASCII and full-width digits are read; digits parted by `/` or `_` are kept.
//! - Phones: only 01/02/07 numbers of 10 (or, for 01, 9) national digits; other groupings of
//!   digits (e.g. `0 7 7 0 0 …`), extensions and foreign numbers are kept.
//! - Postcodes: the special `GIR 0AA` and BFPO codes are kept; a lowercase ordinal inward part
//!   is taken for a word ("the A1 2nd exit"); unrelated codes shaped like postcodes are redacted.
//! - Dates of birth need a full numeric date or a day and month name; "born in 1956" is kept.
//! - Addresses, ages, hospital numbers and other identifiers are not looked for in text; a column
//!   whose header names them is not carried at all (`personal_column`).
//!
//! # Example
//! ```
//! use unheard::text::redact::{PiiKind, Redactor};
//! let redactor = Redactor::new();
//! let text = "Dr Smith rang 07700 900123 about my DOB 12/03/1956.";
//! let (clean, found) = redactor.redact(text);
//! assert_eq!(clean, "Dr [NAME] rang [PHONE] about my DOB [DOB].");
//! assert_eq!(found[1].kind, PiiKind::Phone);
//! assert_eq!(&text[found[1].start..found[1].end], "07700 900123");
//! ```
use std::borrow::Cow;
use std::cmp::Reverse;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

/// A kind of personal data that [`Redactor`] replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// A 10-digit NHS number with a valid check digit.
    NhsNumber,
    /// A UK geographic or mobile phone number.
    Phone,
    /// An email address.
    Email,
    /// A full UK unit postcode.
    Postcode,
    /// A date introduced as a date of birth.
    Dob,
    /// A name following a title or role.
    Name,
}

impl PiiKind {
    /// Every kind, in declaration order.
    pub const ALL: [PiiKind; 6] =
        [PiiKind::NhsNumber, PiiKind::Phone, PiiKind::Email, PiiKind::Postcode, PiiKind::Dob, PiiKind::Name];

    /// The `snake_case` name, as serialised (`"nhs_number"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::NhsNumber => "nhs_number",
            PiiKind::Phone => "phone",
            PiiKind::Email => "email",
            PiiKind::Postcode => "postcode",
            PiiKind::Dob => "dob",
            PiiKind::Name => "name",
        }
    }

    /// The text that replaces a match (`"[NHS_NUMBER]"`).
    #[must_use]
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::NhsNumber => "[NHS_NUMBER]",
            PiiKind::Phone => "[PHONE]",
            PiiKind::Email => "[EMAIL]",
            PiiKind::Postcode => "[POSTCODE]",
            PiiKind::Dob => "[DOB]",
            PiiKind::Name => "[NAME]",
        }
    }

    /// Precedence when matches overlap: lower wins.
    fn rank(self) -> usize {
        const ORDER: [PiiKind; 6] =
            [PiiKind::Email, PiiKind::NhsNumber, PiiKind::Dob, PiiKind::Phone, PiiKind::Postcode, PiiKind::Name];
        ORDER.iter().position(|&k| k == self).unwrap_or(ORDER.len())
    }
}

/// One replaced span: `start..end` are byte offsets into the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redaction {
    /// What was found.
    pub kind: PiiKind,
    /// Byte offset of the first byte replaced.
    pub start: usize,
    /// Byte offset just past the last byte replaced.
    pub end: usize,
}

/// Titles and roles after which capitalised words are taken for a name (also matched in capitals,
/// and in lower case but for `Miss`, a verb: "I miss Home").
const TITLES: &str = "Dr Doctor Mr Mrs Ms Miss Mx Prof Professor Nurse Sister Matron Consultant Midwife Physio \
    Receptionist Paramedic Sr";

/// The titles written with a dot (`Dr.`, `Mrs.`); a role word followed by one ends a sentence.
const ABBREVIATED: &str = "Dr Mr Mrs Ms Mx Prof Sr";

/// Lowercase words of a surname between a title and its capitalised part (`Dr van der Berg`).
const PARTICLES: &str = "van der den de la le du da di von al el bin ibn ter ten";

/// Capitalised words that follow a title without being a name (compared ignoring ASCII case).
const NOT_NAMES: &str = "The A An And Or But So Was Were Is Are Be Been Who What When Where Why How Which I We They \
    He She It You My Our His Her Their Your This That These Those On In At To For From With Of By As If Not No Yes \
    Said Says Told Asked Has Had Have Did Does Do Came Gave Will Would Could Should Can Just Also Then There Here All \
    Practitioner Practitioners Team Teams Station Ward Unit Led Lead Associate Assistant Manager Specialist Staff Care \
    Service Services Department Clinic Surgery Home Visit Appointment Practice Surgeon Physician Registrar \
    Anaesthetist Desk Office Role Nurses Doctors Scan Scans";

/// An address, with up to two spaces either side of its `@` (`jane @ example.org`, or a line
/// break there: published as written until the twenty-sixth session on issue 9).
const EMAIL: &str = r"[\p{L}\p{N}._%+\-]+ {0,2}@ {0,2}(?:[\p{L}\p{N}\-]+\.)+\p{L}{2,}";
/// Ten digits, plain or in groups of 3-3-4 (as the NHS prints them), 4-3-3 or 3-4-3, or one by
/// one (a form's boxes), the groups parted by up to three spaces, dashes or dots: `943  476
/// 5919`, `943 - 476 - 5919`, `943-476 5919`, `9434 765 919`, `9 4 3 4 7 6 5 9 1 9` were
/// published as written (found by a reader in the twenty-sixth session on issue 9).
const NHS: &str = r"[0-9]{3}(?:[0-9]{7}|[ \-.]{1,3}[0-9]{3}[ \-.]{1,3}[0-9]{4}|[ \-.]{1,3}[0-9]{4}[ \-.]{1,3}[0-9]{3})|[0-9]{4}[ \-.]{1,3}[0-9]{3}[ \-.]{1,3}[0-9]{3}|[0-9](?:[ \-.][0-9]){9}";
const PHONE: &str =
    r"(?:(?:\+|00)44 ?(?:\(0\) ?)?[127][0-9]{1,4}|0[127][0-9]{1,4}|\(0[127][0-9]{1,4}\))(?:[ \-.]{0,3}[0-9]{2,6}){1,3}";
const POSTCODE: &str = r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]?(?: {1,2}|-)?[0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}";
const MONTH: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?";

/// Finds and replaces personal data; build once and share (cloning copies compiled patterns).
#[derive(Debug, Clone)]
pub struct Redactor {
    email: Regex,
    nhs: Regex,
    phone: Regex,
    postcode: Regex,
    dob: Regex,
    titles: AhoCorasick,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

/// `text` with its personal data replaced, owned: for names that are written out (a file's path,
/// a source named after its file — `pals 943 476 5919.csv`, a PALS case saved under the patient's
/// NHS number, found trying it).
#[must_use]
pub(crate) fn scrubbed(text: &str) -> String {
    Redactor::shared().redact(text).0.into_owned()
}

/// Serialises `texts` redacted, each as [`scrubbed`] gives it (names a user typed, written out).
pub(crate) fn scrubbed_seq<S: serde::Serializer>(texts: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(texts.iter().map(|t| scrubbed(t)))
}

/// Whether `text[start..end]` is the word of a redaction's marker (`[NAME]`: the analyzer's
/// token `NAME`, its brackets left out).
#[must_use]
pub(crate) fn in_marker(text: &str, start: usize, end: usize) -> bool {
    text.get(..start).is_some_and(|t| t.ends_with('[')) && text.get(end..).is_some_and(|t| t.starts_with(']'))
}

/// What a column's header says it holds, when that is personal data about the respondent: a
/// survey tool's `First Name`, `Email Address`, `IP Address`; a PALS or complaints export's
/// `Patient Name`, `Address`, `Date of Birth`, `NHS Number`, `Hospital Number`. Such a column is
/// not carried into `records` (its values are whole identifiers, which no pattern over text
/// finds: "Jane", "Doe", "81.2.69.160", "12 High Street" were published as they were, found
/// trying a SurveyMonkey export in the fourteenth session on issue 9).
///
/// Read as the header's words (case and punctuation ignored), after a question number (`Q14.`)
/// and a word saying whose (`Patient`, `Your`, `Respondent`, `Contact`…), with `optional` after:
/// the header *is* one of the names below. A header that only mentions one inside a question
/// ("Did staff call you by your preferred name?") is not; the phrases that cannot be anything
/// else (`date of birth`, `email address`, `phone number`, `nhs number`, `first name`, …) are
/// found anywhere in it ("If you would like a reply, please give your email address").
#[must_use]
pub(crate) fn personal_column(header: &str) -> Option<&'static str> {
    const WHOLE: [(&str, &[&str]); 9] = [
        (
            "names",
            &[
                "name",
                "names",
                "first name",
                "firstname",
                "forename",
                "forenames",
                "given name",
                "given names",
                "last name",
                "lastname",
                "surname",
                "family name",
                "full name",
                "fullname",
                "middle name",
                "middle names",
                "preferred name",
            ],
        ),
        ("email addresses", &["email", "e mail", "email address", "e mail address", "emailaddress"]),
        (
            "phone numbers",
            &[
                "phone",
                "phone number",
                "phone no",
                "telephone",
                "telephone number",
                "telephone no",
                "tel",
                "tel no",
                "mobile",
                "mobile number",
                "mobile no",
                "mobile phone",
                "contact number",
            ],
        ),
        (
            "addresses",
            &[
                "address",
                "home address",
                "postal address",
                "street",
                "street address",
                "address line 1",
                "address line 2",
                "address line 3",
                "address 1",
                "address 2",
                "address 3",
                "address1",
                "address2",
                "address3",
            ],
        ),
        ("dates of birth", &["date of birth", "dob", "d o b", "birth date", "birthdate"]),
        ("IP addresses", &["ip address", "ip"]),
        ("locations", &["location latitude", "location longitude", "latitude", "longitude", "geolocation"]),
        ("NHS numbers", &["nhs number", "nhs no", "nhs num", "nhsnumber"]),
        (
            "hospital numbers",
            &["hospital number", "hospital no", "mrn", "medical record number", "case note number", "unit number"],
        ),
    ];
    const WHOSE: [&str; 15] = [
        "patient s",
        "patients",
        "patient",
        "respondent s",
        "respondents",
        "respondent",
        "service user s",
        "service user",
        "your",
        "contact",
        "caller",
        "complainant",
        "customer",
        "person s",
        "recipient",
    ];
    const ANYWHERE: [(&str, &str); 12] = [
        ("first name", "names"),
        ("last name", "names"),
        ("full name", "names"),
        ("surname", "names"),
        ("email address", "email addresses"),
        ("e mail address", "email addresses"),
        ("phone number", "phone numbers"),
        ("telephone number", "phone numbers"),
        ("mobile number", "phone numbers"),
        ("date of birth", "dates of birth"),
        ("nhs number", "NHS numbers"),
        ("ip address", "IP addresses"),
    ];
    // words run together in camel case are words (Qualtrics' `RecipientLastName`, `IPAddress`)
    let mut spaced = String::with_capacity(header.len() + 8);
    let chars: Vec<char> = header.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let lower_before = prev.is_some_and(char::is_lowercase);
        let acronym_ends = prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase());
        if c.is_uppercase() && (lower_before || acronym_ends) {
            spaced.push(' ');
        }
        spaced.push(c);
    }
    let lower = spaced.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    // a question number first (`Q14.`, `14.`)
    let start = usize::from(words.first().is_some_and(|w| {
        let digits = w.strip_prefix('q').unwrap_or(w);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    }));
    let end = words.len() - usize::from(words.len() > start && words.last() == Some(&"optional"));
    let core = words.get(start..end).unwrap_or_default().join(" ");
    let owner = WHOSE.iter().find_map(|whose| core.strip_prefix(whose)?.strip_prefix(' '));
    for core in std::iter::once(core.as_str()).chain(owner) {
        if let Some((kind, _)) = WHOLE.iter().find(|(_, names)| names.contains(&core)) {
            return Some(kind);
        }
    }
    // a person named by their role (`Staff name`, `Consultant name`, `Name of GP`): staff are
    // people too; a ward's, team's or service's name is not a person's
    const ROLES: [&str; 16] = [
        "staff",
        "staff member",
        "member of staff",
        "consultant",
        "clinician",
        "doctor",
        "nurse",
        "gp",
        "midwife",
        "therapist",
        "practitioner",
        "carer",
        "parent",
        "next of kin",
        "relative",
        "advocate",
    ];
    let role = core.strip_suffix(" name").or_else(|| core.strip_prefix("name of "));
    if role.is_some_and(|r| ROLES.contains(&r)) {
        return Some("names");
    }
    let all = format!(" {} ", words.join(" "));
    ANYWHERE.iter().find(|(phrase, _)| all.contains(&format!(" {phrase} "))).map(|(_, kind)| *kind)
}

impl Redactor {
    /// The process's one redactor, compiled on first use: the patterns are fixed, so every
    /// stage shares it (each compile cost about 30 million instructions).
    #[must_use]
    pub fn shared() -> &'static Redactor {
        static REDACTOR: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();
        REDACTOR.get_or_init(Redactor::new)
    }

    /// Compiles the patterns (a few milliseconds: build one and reuse it).
    ///
    /// # Panics
    /// Never in practice: the patterns are fixed, and compiled by every test.
    #[must_use]
    pub fn new() -> Redactor {
        let re = |pattern: &str| Regex::new(pattern).expect("built-in redaction pattern compiles");
        let (day, year) = (r"[0-9]{1,2}(?:st|nd|rd|th)?", r"(?:,?\s+[0-9]{4})?");
        let date = [
            r"[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-](?:[0-9]{4}|[0-9]{2})".to_string(), // 12/03/1956, 12-03-56
            r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}".to_string(),                        // 1956-03-12
            format!(r"{day}(?:\s+of)?\s+{MONTH}{year}"),                          // 3rd of March 1956
            format!(r"{MONTH}\s+{day}{year}"),                                    // March 3rd, 1956
        ]
        .join("|");
        let cue = r"(?i)(?:d\.? ?o\.? ?b\.?|date\s+of\s+birth|born)[\s:,\-]*(?:(?:is|was|on|the|of)\s+){0,3}";
        let dob = format!("{cue}({date})");
        let titles: Vec<String> = TITLES
            .split_whitespace()
            .flat_map(|t| [t.to_string(), t.to_uppercase()].into_iter().chain((t != "Miss").then(|| t.to_lowercase())))
            .collect();
        let titles = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&titles)
            .expect("built-in title list compiles");
        Redactor { email: re(EMAIL), nhs: re(NHS), phone: re(PHONE), postcode: re(POSTCODE), dob: re(&dob), titles }
    }

    /// Redacted text (borrowed when nothing was found) and what was replaced, in text order,
    /// non-overlapping, with spans into `text`.
    #[must_use]
    pub fn redact<'a>(&self, text: &'a str) -> (Cow<'a, str>, Vec<Redaction>) {
        let shape = Shape::of(text);
        if shape.odd {
            if let Some(view) = Spaced::of(text) {
                // found in the text as the patterns read it, replaced in the text as written
                let kept = self.find(&view.text, &Shape::of(&view.text));
                let kept: Vec<Redaction> = kept.into_iter().map(|r| view.original(r, text.len())).collect();
                return replaced(text, kept);
            }
        }
        replaced(text, self.find(text, &shape))
    }

    /// What [`Redactor::redact`] replaces, running only the patterns that `shape` leaves possible.
    fn find(&self, text: &str, shape: &Shape) -> Vec<Redaction> {
        let mut found = Vec::new();
        if shape.at {
            scan(&self.email, text, PiiKind::Email, &mut found, |s, e| Some((s, e)));
        }
        if shape.digits >= 10 {
            scan(&self.nhs, text, PiiKind::NhsNumber, &mut found, |s, e| {
                let mut digits = [0u8; 10];
                let mut n = 0;
                for b in text[s..e].bytes().filter(u8::is_ascii_digit) {
                    *digits.get_mut(n)? = b;
                    n += 1;
                }
                (n == 10 && digit_free(text, s, e) && nhs_number_is_valid(&digits)).then_some((s, e))
            });
            scan(&self.phone, text, PiiKind::Phone, &mut found, |s, mut e| {
                // A greedy match may run into a following number ("07700 900123 12 times"):
                // drop trailing groups until what is left is a phone number.
                loop {
                    if digit_free(text, s, e) && phone_is_valid(&text[s..e]) {
                        return Some((s, e));
                    }
                    e = s + text[s..e].rfind([' ', '-', '.'])?;
                    e = s + text[s..e].trim_end_matches([' ', '-', '.']).len();
                }
            });
        }
        if shape.digits >= 2 && shape.letters >= 3 {
            scan(&self.postcode, text, PiiKind::Postcode, &mut found, |s, e| {
                let ordinal = matches!(text.get(e - 2..e), Some("st" | "nd" | "rd" | "th"));
                (word_free(text, s, e) && !ordinal).then_some((s, e))
            });
        }
        if shape.digits >= 1 && shape.b {
            scan(&self.dob, text, PiiKind::Dob, &mut found, |s, _| {
                let date = self.dob.captures_at(text, s)?.get(1)?;
                let bounded = !prev_char(text, s).is_some_and(blocks_before)
                    && !next_char(text, date.end()).is_some_and(blocks_after);
                bounded.then(|| (date.start(), date.end()))
            });
        }
        if shape.gap {
            self.find_names(text, &mut found);
        }
        if found.is_empty() {
            return found;
        }
        resolve(found)
    }

    /// Names: one or two capitalised words after a title, the title itself not replaced; initials
    /// before them (`Dr J. Smith`, `Mr A.B. Smith`, `Dr A Smith`) and particles (`Dr van der
    /// Berg`, `Dr de Silva`) are part of the name, and a name may follow a title's dot with no
    /// space (`Dr.Smith`). Each of those was published as written, with a lowercase title (`dr
    /// Smith`, `nurse Jane Smith`), found by a reader in the twenty-sixth session on issue 9.
    fn find_names(&self, text: &str, found: &mut Vec<Redaction>) {
        let bytes = text.as_bytes();
        for m in self.titles.find_iter(text) {
            let (s, e) = (m.start(), m.end());
            if prev_char(text, s).is_some_and(blocks_before) || next_char(text, e).is_some_and(blocks_after) {
                continue;
            }
            let title = &text[s..e];
            let caps = !title.bytes().any(|b| b.is_ascii_lowercase());
            // a dot after a role word, or after a title in lower case, ends a sentence ("the
            // nurse. Every month", "a call off a dr. However": each read as a name once lower
            // case titles were, in 3 of the 5,974 comments of a real export)
            let abbreviated = ABBREVIATED.split_whitespace().any(|a| a.eq_ignore_ascii_case(title));
            let lower = !title.bytes().any(|b| b.is_ascii_uppercase());
            let dot = bytes.get(e) == Some(&b'.');
            if dot && (!abbreviated || lower) {
                continue;
            }
            let mut i = e + usize::from(dot);
            let gap = spaces(bytes, i);
            if gap == 0 && !(dot && bytes.get(i).is_some_and(u8::is_ascii_uppercase)) {
                continue;
            }
            i += gap;
            let start = i;
            // initials: a capital and a dot (`J.`, `A.B.`), or a capital alone before a name
            let mut initials = 0;
            while initials < 3 && bytes.get(i).is_some_and(u8::is_ascii_uppercase) {
                let after = bytes.get(i + 1).copied();
                if after == Some(b'.') && !bytes.get(i + 2).is_some_and(u8::is_ascii_alphabetic) {
                    i += 2 + spaces(bytes, i + 2);
                } else if after == Some(b'.') || (after == Some(b' ') && name_word(text, i + 2, caps).is_some()) {
                    i += 2;
                } else {
                    break;
                }
                initials += 1;
            }
            // particles of a surname: `van`, `de`, `van der`
            let named = i;
            let mut k = i;
            while let Some(len) = PARTICLES.split_whitespace().find_map(|p| {
                let after = k + p.len();
                (text.get(k..after) == Some(p) && bytes.get(after) == Some(&b' ')).then_some(p.len() + 1)
            }) {
                k += len;
            }
            if k > i && name_word(text, k, caps).is_some() {
                i = k;
            }
            let Some(end) = name_word(text, i, caps) else {
                if initials > 0 {
                    // `Dr J. was lovely`: the initial is the name
                    let end = start + text[start..named].trim_end().len();
                    found.push(Redaction { kind: PiiKind::Name, start, end });
                }
                continue;
            };
            found.push(Redaction { kind: PiiKind::Name, start, end });
            // Two words as well as one, so that the first survives if the pair overlaps a better match.
            if bytes.get(end) == Some(&b' ') {
                if let Some(end) = name_word(text, end + 1, caps) {
                    found.push(Redaction { kind: PiiKind::Name, start, end });
                }
            }
        }
    }
}

/// Spaces and tabs at `i`.
fn spaces(bytes: &[u8], i: usize) -> usize {
    bytes.get(i..).unwrap_or_default().iter().take_while(|&&b| b == b' ' || b == b'\t').count()
}

/// `text` with the spans of `kept` (in text order, not overlapping) replaced by their placeholders.
fn replaced(text: &str, kept: Vec<Redaction>) -> (Cow<'_, str>, Vec<Redaction>) {
    if kept.is_empty() {
        return (Cow::Borrowed(text), kept);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in &kept {
        out.push_str(&text[last..r.start]);
        out.push_str(r.kind.placeholder());
        last = r.end;
    }
    out.push_str(&text[last..]);
    (Cow::Owned(out), kept)
}

/// A text as the patterns read it: the spaces a word processor, a web form or a spreadsheet
/// puts between the parts of a number or after a title (a no-break space, a thin or figure
/// space, a tab) read as a space, invisible characters (zero-width spaces and joiners, a
/// stray byte-order mark, a soft hyphen) as nothing, a full-width `＠` as `@`. Found in the
/// twenty-fourth session on issue 9: `07700 900123`, `943 476 5919` and `Mrs Jones` with a
/// no-break space (what Word and Outlook paste) were published as written, in `records`,
/// `quotes`, the manifest and the report.
struct Spaced {
    text: String,
    /// Where each byte of `text` comes from in the original.
    from: Vec<usize>,
}

impl Spaced {
    /// The view of `text`, or `None` when it holds none of those characters.
    fn of(text: &str) -> Option<Spaced> {
        let mapped = |c: char| match c {
            '\t' | '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => Some(Some(' ')),
            // a line break inside a quoted field: `Dr\nSmith`, `07700\n900111`, `SO16\n6YD` were
            // published as written (found by a reader in the twenty-sixth session on issue 9)
            '\n' | '\r' => Some(Some(' ')),
            '\u{ff20}' => Some(Some('@')),
            // the dashes Word's autocorrect and web forms put between digits, and full-width
            // digits: `943–476–5919`, `DOB 01–02–1960` were published as written (found by a
            // reader in the twenty-fourth session on issue 9)
            '\u{2010}'..='\u{2013}' | '\u{2212}' | '\u{fe63}' | '\u{ff0d}' => Some(Some('-')),
            '\u{ff10}'..='\u{ff19}' => char::from_u32(u32::from(c) - 0xff10 + u32::from('0')).map(Some),
            c if super::invisible(c) => Some(None),
            _ => None,
        };
        if !text.chars().any(|c| mapped(c).is_some()) {
            return None;
        }
        let mut view = Spaced { text: String::with_capacity(text.len()), from: Vec::with_capacity(text.len()) };
        for (i, c) in text.char_indices() {
            let c = match mapped(c) {
                Some(Some(as_read)) => as_read,
                Some(None) => continue,
                None => c,
            };
            view.text.push(c);
            view.from.extend((0..c.len_utf8()).map(|k| i + k));
        }
        Some(view)
    }

    /// A span found in the view, as a span of the original (of `len` bytes).
    fn original(&self, r: Redaction, len: usize) -> Redaction {
        let at = |i: usize| self.from.get(i).copied().unwrap_or(len);
        Redaction { kind: r.kind, start: at(r.start), end: at(r.end) }
    }
}

/// What a text holds that each kind of personal data needs, counted in one pass: a pattern
/// runs only on text that has what every match of it (and every match accepted) must have.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    /// ASCII digits: an NHS number has 10; an accepted phone number has at least 10 (a `0`, or
    /// `+44`/`0044`, and 9 or 10 national digits); a postcode has 2; every date pattern has 1.
    digits: usize,
    /// ASCII letters: a postcode has at least 3.
    letters: usize,
    /// An `@`, which every email address has.
    at: bool,
    /// A `b` or `B`, which every date-of-birth cue has (`DOB`, `date of birth`, `born`; no other
    /// character folds to `b`).
    b: bool,
    /// A space, tab, line break or dot, one of which must follow a title before a name.
    gap: bool,
    /// A tab, a line break or a character past ASCII: the text may hold spaces the patterns read
    /// otherwise ([`Spaced`]).
    odd: bool,
}

impl Shape {
    fn of(text: &str) -> Shape {
        let mut shape = Shape::default();
        for &c in text.as_bytes() {
            match c {
                b'0'..=b'9' => shape.digits += 1,
                b'b' | b'B' => {
                    shape.b = true;
                    shape.letters += 1;
                }
                b'a'..=b'z' | b'A'..=b'Z' => shape.letters += 1,
                b'@' => shape.at = true,
                b' ' | b'.' => shape.gap = true,
                b'\t' | b'\n' | b'\r' => {
                    shape.gap = true;
                    shape.odd = true;
                }
                0x80.. => shape.odd = true,
                _ => {}
            }
        }
        shape
    }
}

/// NHS number check on ten ASCII digits (`b"9434765919"`): weights 10 down to 2 on the first
/// nine, check digit `11 - (sum mod 11)`, where 11 means 0 and 10 means no valid number.
/// Anything but ASCII digits is invalid.
#[must_use]
pub fn nhs_number_is_valid(digits: &[u8; 10]) -> bool {
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits[..9].iter().zip((2..=10).rev()).map(|(d, w)| u32::from(d - b'0') * w).sum();
    match 11 - sum % 11 {
        10 => false,
        11 => digits[9] == b'0',
        check => u32::from(digits[9] - b'0') == check,
    }
}

/// Offers each match of `re` to `accept`, which may narrow it; a rejected match is retried one
/// character later, so a bad candidate cannot hide a good one that overlaps it.
fn scan(
    re: &Regex,
    text: &str,
    kind: PiiKind,
    found: &mut Vec<Redaction>,
    mut accept: impl FnMut(usize, usize) -> Option<(usize, usize)>,
) {
    let mut at = 0;
    while let Some(m) = re.find_at(text, at) {
        match accept(m.start(), m.end()) {
            Some((start, end)) if start < end => {
                found.push(Redaction { kind, start, end });
                at = end;
            }
            _ => at = m.start() + next_char(text, m.start()).map_or(1, char::len_utf8),
        }
        if at >= text.len() {
            break;
        }
    }
}

/// National significant number (after `0`, `+44` or `0044`) of 10 digits, or of 9 starting 1.
fn phone_is_valid(candidate: &str) -> bool {
    let mut digits = [0u8; 16];
    let mut n = 0;
    for b in candidate.bytes().filter(u8::is_ascii_digit) {
        let Some(slot) = digits.get_mut(n) else { return false };
        *slot = b;
        n += 1;
    }
    let skip = if candidate.starts_with('+') {
        2 + usize::from(candidate.contains("(0)"))
    } else if candidate.starts_with("00") {
        4 + usize::from(candidate.contains("(0)"))
    } else {
        1
    };
    // The pattern has already required the first national digit to be 1, 2 or 7.
    match digits.get(skip..n) {
        Some(nsn) => nsn.len() == 10 || (nsn.len() == 9 && nsn[0] == b'1'),
        None => false,
    }
}

/// End of a capitalised name word starting at `start` (a trailing possessive `'s` left out),
/// or `None` when there is none or it is a common word. With `caps`, only all-capital words.
fn name_word(text: &str, start: usize, caps: bool) -> Option<usize> {
    let rest = text.get(start..)?;
    let mut chars = rest.char_indices().peekable();
    let (_, first) = chars.next()?;
    if !first.is_uppercase() {
        return None;
    }
    let (mut end, mut last_join) = (first.len_utf8(), None);
    while let Some((i, c)) = chars.next() {
        let joined = matches!(c, '\'' | '’' | '-') && chars.peek().is_some_and(|&(_, n)| n.is_alphabetic());
        if !(c.is_alphabetic() || joined) {
            break;
        }
        last_join = if joined { Some(i) } else { last_join };
        end = i + c.len_utf8();
    }
    // "Smith-Jones2": fall back to "Smith"; a word running into digits is no name.
    if next_char(rest, end).is_some_and(blocks_after) {
        end = last_join?;
    }
    let mut word = &rest[..end];
    if let Some(stem) = word.strip_suffix("'s").or_else(|| word.strip_suffix("’s")) {
        word = stem;
    }
    let common = NOT_NAMES.split_whitespace().chain(TITLES.split_whitespace()).any(|w| w.eq_ignore_ascii_case(word));
    let shouted_only = caps && word.chars().any(char::is_lowercase);
    (!common && !shouted_only).then_some(start + word.len())
}

/// Keeps the best of overlapping candidates (by kind, then length) and sorts them by position.
fn resolve(mut candidates: Vec<Redaction>) -> Vec<Redaction> {
    candidates.sort_by_key(|r| (r.kind.rank(), Reverse(r.end - r.start), r.start));
    let mut kept: Vec<Redaction> = Vec::with_capacity(candidates.len());
    for c in candidates {
        let i = kept.partition_point(|k| k.start < c.start);
        let clear_before = i == 0 || kept.get(i - 1).is_some_and(|k| k.end <= c.start);
        let clear_after = kept.get(i).is_none_or(|k| c.end <= k.start);
        if clear_before && clear_after {
            kept.insert(i, c);
        }
    }
    kept
}

fn prev_char(text: &str, i: usize) -> Option<char> {
    text.get(..i)?.chars().next_back()
}

fn next_char(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

/// A word may not start right after this character (a letter, digit or a placeholder's `]`).
fn blocks_before(c: char) -> bool {
    c.is_alphanumeric() || c == ']'
}

/// A word may not end right before this character (a letter, digit or a placeholder's `[`).
fn blocks_after(c: char) -> bool {
    c.is_alphanumeric() || c == '['
}

/// `start..end` is not part of a longer digit run (nor next to a placeholder, which may have
/// replaced digits).
fn digit_free(text: &str, start: usize, end: usize) -> bool {
    !prev_char(text, start).is_some_and(|c| c.is_ascii_digit() || c == ']')
        && !next_char(text, end).is_some_and(|c| c.is_ascii_digit() || c == '[')
}

/// `start..end` is a whole word (placeholders count as words, so redacting twice finds nothing new).
fn word_free(text: &str, start: usize, end: usize) -> bool {
    !prev_char(text, start).is_some_and(blocks_before) && !next_char(text, end).is_some_and(blocks_after)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_header_naming_personal_data_is_known_and_a_question_mentioning_it_is_not() {
        for (h, kind) in [
            ("First Name", "names"),
            ("Last Name", "names"),
            ("Patient Name", "names"),
            ("Q14. Your name (optional)", "names"),
            ("Surname", "names"),
            ("Email Address", "email addresses"),
            ("E-mail", "email addresses"),
            ("If you would like a reply, please give your email address", "email addresses"),
            ("Telephone number", "phone numbers"),
            ("Contact Number", "phone numbers"),
            ("Address Line 1", "addresses"),
            ("Patient's address", "addresses"),
            ("Date of Birth", "dates of birth"),
            ("D.O.B.", "dates of birth"),
            ("IP Address", "IP addresses"),
            ("NHS Number", "NHS numbers"),
            ("Hospital No.", "hospital numbers"),
            ("MRN", "hospital numbers"),
            ("Staff name", "names"),
            ("Consultant Name", "names"),
            ("Name of GP", "names"),
            ("Next of kin name", "names"),
            // Qualtrics' names, run together
            ("RecipientLastName", "names"),
            ("RecipientFirstName", "names"),
            ("RecipientEmail", "email addresses"),
            ("IPAddress", "IP addresses"),
            ("LocationLatitude", "locations"),
            ("LocationLongitude", "locations"),
        ] {
            assert_eq!(personal_column(h), Some(kind), "{h}");
        }
        for h in [
            "Did staff call you by your preferred name?",
            "Name of ward",
            "Ward name",
            "Team",
            "Respondent ID",
            "What is your age?",
            "Email sent",
            "Date",
            "Ethnicity",
            "Custom Data 1",
            "Collector ID",
            "Postcode district",
            "Addressed your concerns?",
            "Team name",
            "Service Name",
            "Name of hospital",
            "ResponseId",
            "ExternalReference",
            "DistributionChannel",
            "UserLanguage",
            "StartDate",
        ] {
            assert_eq!(personal_column(h), None, "{h}");
        }
    }

    use super::*;
    use PiiKind::*;

    /// Redacted text and (kind, original text) of each redaction.
    fn redact(text: &str) -> (String, Vec<(PiiKind, &str)>) {
        let (out, found) = Redactor::shared().redact(text);
        (out.into_owned(), found.iter().map(|r| (r.kind, &text[r.start..r.end])).collect())
    }

    fn assert_kept(text: &str) {
        let (out, found) = Redactor::shared().redact(text);
        assert!(matches!(out, Cow::Borrowed(_)) && found.is_empty(), "{text:?} became {out:?}");
    }

    /// `{}` in `template` filled with `pii`, then with the placeholder of `kind`.
    fn assert_one(template: &str, pii: &str, kind: PiiKind) {
        let text = template.replace("{}", pii);
        let expected = template.replace("{}", kind.placeholder());
        assert_eq!(redact(&text), (expected, vec![(kind, pii)]), "in {text:?}");
    }

    #[test]
    fn kinds_have_names_and_placeholders() {
        let names: Vec<_> = PiiKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["nhs_number", "phone", "email", "postcode", "dob", "name"]);
        assert!(PiiKind::ALL.iter().all(|k| k.placeholder() == format!("[{}]", k.as_str().to_uppercase())));
    }

    #[test]
    fn nhs_check_digit() {
        assert!(nhs_number_is_valid(b"9434765919"));
        assert!(nhs_number_is_valid(b"9434765900")); // 11 - 0 = 11 -> check digit 0
        assert!(!nhs_number_is_valid(b"9434765901"));
        for bad in (b'0'..=b'8').map(|d| [b'9', b'4', b'3', b'4', b'7', b'6', b'5', b'9', b'1', d]) {
            assert!(!nhs_number_is_valid(&bad));
        }
        // 943476551: weighted sum 287, 11 - 287 % 11 = 10, so no check digit is valid.
        for c in b'0'..=b'9' {
            assert!(!nhs_number_is_valid(&[b'9', b'4', b'3', b'4', b'7', b'6', b'5', b'5', b'1', c]));
        }
        assert!(!nhs_number_is_valid(b"94347659 9"));
    }

    #[test]
    fn nhs_numbers_with_valid_check_digit_only() {
        for n in ["9434765919", "943 476 5919", "943-476-5919"] {
            assert_one("My NHS number is {}.", n, NhsNumber);
        }
        for n in ["9434765918", "943 476 5917", "943-476-5911", "943 476 5510", "19434765919", "94347659190"] {
            assert_kept(&format!("My NHS number is {n}."));
        }
    }

    #[test]
    fn phones_in_every_format() {
        let phones = "07700 900123|07700900123|07700 900 123|+44 7700 900123|+447700900123|+44 (0)7700 900123|\
            (07700) 900 123|020 7946 0958|+44 20 7946 0958|0113 496 0000|01632 960123|(01632) 960123|0161-496-0000";
        for p in phones.split('|') {
            assert_one("Please call {} after 5.", p, Phone);
        }
        assert_one("rang {} 12 times", "07700 900123", Phone);
        assert_kept("rang 07700 90012 and 07700 9001234");
    }

    #[test]
    fn service_numbers_times_dates_and_counts_survive() {
        assert_kept("Ring 111 or 999, or 0800 123 4567, or 0300 123 4567.");
        assert_kept("waited 3 hours at 10:30 on 12/03/2025");
        assert_kept("paid £1,250.50 in 2024 after 2 weeks; ward 7 at 07:30, 01/02/2025 and 02-03-2025");
    }

    #[test]
    fn valid_nhs_number_beats_phone_and_invalid_one_is_a_phone() {
        // 016329601x would also read as a 9-digit 01 phone number.
        assert_eq!(redact("ref 0163296014").1, [(NhsNumber, "0163296014")]);
        assert_eq!(redact("ref 0163296012").1, [(Phone, "0163296012")]);
    }

    #[test]
    fn emails() {
        assert_one("Write to {}.", "jane.doe+nhs@example.com", Email);
        assert_one("({})", "ops@mail.example.com", Email);
        assert_one("contact {} now", "josé@example.com", Email);
        assert_one("ask Dr {}", "Smith@example.com", Email); // not "Dr [NAME]@example.com"
        assert_one("ask {} now", "9434765919@example.com", Email);
        assert_kept("rated @ 5 out of 10");
    }

    #[test]
    fn postcodes_in_any_case_with_or_without_space() {
        for pc in
            ["SO14 0YN", "so14 0yn", "SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB", "SO140YN"]
        {
            assert_one("I live at {}, near the park", pc, Postcode);
        }
        for text in ["B12 injection", "the A1 road", "covid19 jab", "SO14 area", "took the A1 2nd exit", "XSO14 0YN"] {
            assert_kept(text);
        }
    }

    #[test]
    fn dates_of_birth_only_after_a_cue() {
        assert_one("DOB {}", "12/03/1956", Dob);
        assert_one("date of birth: {} thanks", "12-03-56", Dob);
        assert_one("born on {}.", "3rd March 1956", Dob);
        assert_one("D.O.B. {}", "1956-03-12", Dob);
        assert_one("she was born on the {} in Leeds", "3rd of March 1956", Dob);
        assert_one("Date Of Birth is {}", "12.03.1956", Dob);
        for text in ["seen on 12/03/2025", "born and bred here, seen 12/03/2025", "stubborn 12/03/2025", "born in 1956"]
        {
            assert_kept(text);
        }
    }

    #[test]
    fn names_after_titles() {
        for title in TITLES.split_whitespace().chain(["Dr.", "DR", "NURSE"]) {
            let name = if title.chars().nth(1).is_some_and(char::is_uppercase) { "SMITH" } else { "Smith" };
            assert_one(&format!("{title} {{}} was kind"), name, Name);
        }
        assert_one("Dr. {} saw me", "Ahmed Khan", Name);
        assert_one("Nurse {} was lovely", "Jones", Name);
        assert_one("Dr {}'s team", "Smith", Name);
        assert_one("Mrs {} rang", "O'Neill-Brown", Name);
        for text in ["Nurse Practitioner", "nurse jones", "Doctor Who", "Nurse The", "the Nurse was", "MS Society"] {
            assert_kept(text);
        }
        assert_kept("Drive home, Mrs.");
    }

    #[test]
    fn overlaps_go_to_the_stronger_kind_then_the_longer_match() {
        let r = |kind, start, end| Redaction { kind, start, end };
        let kept = resolve(vec![r(Name, 0, 4), r(Name, 0, 9), r(Email, 6, 12), r(Postcode, 11, 15), r(Phone, 13, 20)]);
        assert_eq!(kept, [r(Name, 0, 4), r(Email, 6, 12), r(Phone, 13, 20)]);
        let kept = resolve(vec![r(Phone, 0, 10), r(Dob, 5, 15), r(NhsNumber, 12, 22), r(Email, 21, 30)]);
        assert_eq!(kept, [r(Dob, 5, 15), r(Email, 21, 30)]);
        let mut candidates = vec![r(Dob, 0, 10), r(NhsNumber, 8, 18), r(Name, 30, 34), r(Name, 30, 40)];
        candidates.extend([r(Postcode, 39, 45), r(Name, 50, 54), r(Name, 50, 60)]);
        let kept = [r(NhsNumber, 8, 18), r(Name, 30, 34), r(Postcode, 39, 45), r(Name, 50, 60)];
        assert_eq!(resolve(candidates), kept);
    }

    #[test]
    fn several_kinds_with_spans() {
        let text =
            "Dr Patel (NHS 943 476 5919) said call 07700 900123 or a.patel@example.com, SO14 0YN, DOB 01/02/1970.";
        let (out, found) = redact(text);
        assert_eq!(out, "Dr [NAME] (NHS [NHS_NUMBER]) said call [PHONE] or [EMAIL], [POSTCODE], DOB [DOB].");
        assert_eq!(
            found,
            [
                (Name, "Patel"),
                (NhsNumber, "943 476 5919"),
                (Phone, "07700 900123"),
                (Email, "a.patel@example.com"),
                (Postcode, "SO14 0YN"),
                (Dob, "01/02/1970"),
            ]
        );
    }

    /// Names after a title with initials, particles, no space after its dot or in lower case;
    /// numbers with two spaces, spaced dashes or mixed separators between their parts, or in
    /// other groups; line breaks inside any of them (a quoted CSV field keeps them): each was
    /// published as written until a reader tried them in the twenty-sixth session on issue 9.
    #[test]
    fn names_and_numbers_written_as_people_write_them() {
        for (text, want) in [
            ("Dr. J. Harrowgate was rude", "Dr. [NAME] was rude"),
            ("Nurse J. Smith helped", "Nurse [NAME] helped"),
            ("Dr. K. L. Pennyworth saw me", "Dr. [NAME] saw me"),
            ("Mr A.B. Harrowgate rang", "Mr [NAME] rang"),
            ("Mrs. A. Harrowgate rang", "Mrs. [NAME] rang"),
            ("Dr A Smith was kind", "Dr [NAME] was kind"),
            ("Dr J. was lovely", "Dr [NAME] was lovely"),
            ("Dr.Dotterel was kind", "Dr.[NAME] was kind"),
            ("Dr van Vanderpool sorted it", "Dr [NAME] sorted it"),
            ("Dr van der Berg and Dr de Silva", "Dr [NAME] and Dr [NAME]"),
            ("then dr Lowerby came", "then dr [NAME] came"),
            ("the nurse Jane Smithwick", "the nurse [NAME]"),
            ("Dr\nGallowglass rang", "Dr\n[NAME] rang"),
            ("Dr\r\nGallowglass rang", "Dr\r\n[NAME] rang"),
            ("nhs 943  476  5919", "nhs [NHS_NUMBER]"),
            ("ref 943 - 476 - 5919 ok", "ref [NHS_NUMBER] ok"),
            ("ref 943-476 5919", "ref [NHS_NUMBER]"),
            ("ref 9434 765 919", "ref [NHS_NUMBER]"),
            ("ref 943 4765 919", "ref [NHS_NUMBER]"),
            ("boxes 9 4 3 4 7 6 5 9 1 9 done", "boxes [NHS_NUMBER] done"),
            ("nhs 943 476\n5919", "nhs [NHS_NUMBER]"),
            ("call 07700  900111", "call [PHONE]"),
            ("call 07700 - 900111 now", "call [PHONE] now"),
            ("call 07700\n900111", "call [PHONE]"),
            ("call 07700\r\n900111", "call [PHONE]"),
            ("at SO16  6YD", "at [POSTCODE]"),
            ("at SO16-6YD", "at [POSTCODE]"),
            ("at SO16\n6YD", "at [POSTCODE]"),
            ("mail jane @ example.org", "mail [EMAIL]"),
            ("mail jane.doe@\nexample.org", "mail [EMAIL]"),
            ("call 07700 900123 - 12 times", "call [PHONE] - 12 times"),
        ] {
            assert_eq!(Redactor::shared().redact(text).0, want, "{text:?}");
        }
        for text in [
            "I miss Home",
            "nurse jones",
            "the doctor I saw",
            "Dr A and E",
            "waited 10 - 12 hours",
            "rated 5 5 4 and 3",
            "the nurse\nThe food was cold",
            "Dr. was kind",
            "rated @ 5 out of 10",
            "a call off a dr. However it was fine",
            "More nurse. Every month a newsletter",
            "talking to the nurse. Palpitations.",
            "I thanked the Nurse. Brilliant care",
        ] {
            assert_kept(text);
        }
    }

    /// The spaces a word processor or a web form puts between the parts of a number or after a
    /// title, invisible characters inside an address, and a full-width at sign: found as
    /// personal data, and replaced in the text as written (each was published as written).
    #[test]
    fn pasted_spaces_and_invisible_characters_hide_nothing() {
        for (text, want, found) in [
            ("Mrs\u{a0}Jones on ward 3", "Mrs\u{a0}[NAME] on ward 3", (Name, "Jones")),
            ("call 07700\u{a0}900123 today", "call [PHONE] today", (Phone, "07700\u{a0}900123")),
            ("NHS 943\u{a0}476\u{a0}5919.", "NHS [NHS_NUMBER].", (NhsNumber, "943\u{a0}476\u{a0}5919")),
            ("at SW1A\u{a0}1AA now", "at [POSTCODE] now", (Postcode, "SW1A\u{a0}1AA")),
            ("ring 07700\t900123", "ring [PHONE]", (Phone, "07700\t900123")),
            ("ring 07700\u{2009}900123", "ring [PHONE]", (Phone, "07700\u{2009}900123")),
            ("ring 07700\u{2007}900123", "ring [PHONE]", (Phone, "07700\u{2007}900123")),
            ("ring 077\u{200b}00 900123", "ring [PHONE]", (Phone, "077\u{200b}00 900123")),
            ("mail jane\u{200b}.doe@example.com", "mail [EMAIL]", (Email, "jane\u{200b}.doe@example.com")),
            ("mail jane.doe\u{ff20}example.com", "mail [EMAIL]", (Email, "jane.doe\u{ff20}example.com")),
            ("Café: Dr\u{202f}Zoë Ørsted", "Café: Dr\u{202f}[NAME]", (Name, "Zoë Ørsted")),
            ("NHS 943\u{2013}476\u{2013}5919", "NHS [NHS_NUMBER]", (NhsNumber, "943\u{2013}476\u{2013}5919")),
            ("NHS 943\u{2011}476\u{2011}5919", "NHS [NHS_NUMBER]", (NhsNumber, "943\u{2011}476\u{2011}5919")),
            ("NHS ９４３ ４７６ ５９１９.", "NHS [NHS_NUMBER].", (NhsNumber, "９４３ ４７６ ５９１９")),
            ("DOB 01\u{2013}02\u{2013}1960", "DOB [DOB]", (Dob, "01\u{2013}02\u{2013}1960")),
            ("nhs 943.476.5919 wait", "nhs [NHS_NUMBER] wait", (NhsNumber, "943.476.5919")),
            ("call 07700.900.123.", "call [PHONE].", (Phone, "07700.900.123")),
        ] {
            assert_eq!(redact(text), (want.to_owned(), vec![found]), "{text:?}");
        }
        // what holds none of them is left as it is
        assert_kept("Le café\u{a0}: très bien, 10\u{a0}minutes");
    }

    #[test]
    fn unicode_around_pii() {
        let text = "😀 Café — Sister Zoë Ørsted ☕ rang 07700 900123 from so14 0yn 🎉 naïve";
        let (out, found) = redact(text);
        assert_eq!(out, "😀 Café — Sister [NAME] ☕ rang [PHONE] from [POSTCODE] 🎉 naïve");
        assert_eq!(found, [(Name, "Zoë Ørsted"), (Phone, "07700 900123"), (Postcode, "so14 0yn")]);
    }

    #[test]
    fn random_text_never_panics_and_spans_are_sound() {
        let parts: Vec<&str> = "Dr |Nurse| |  |Smith|Zoë|07700 900123|9434765919|943-476-5919|0161|-|SO14| 0YN|a.b|@|\
            example.com|DOB |12/03/1956|born on |March|😀|é|[NAME]|]|[|.|(|)|+44|0|7|9|\n|'s|Ms|A|1|st|’|2|B|C|\
            N|x|the |of |Mr|DR|SMITH|1AA|(0)|0044|\t|20|7946|\u{a0}|\u{200b}|\u{2009}|\u{ff20}|\u{feff}|\u{ad}"
            .split('|')
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut text, mut total) = (String::new(), 0);
        for _ in 0..30_000 {
            text.clear();
            for _ in 0..next() % 20 {
                text.push_str(parts[(next() % parts.len() as u64) as usize]);
            }
            let (out, found) = Redactor::shared().redact(&text);
            total += found.len();
            let mut rebuilt = String::new();
            let mut last = 0;
            for r in &found {
                assert!(last <= r.start && r.start < r.end, "{text:?}: {found:?}");
                assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                rebuilt.push_str(&text[last..r.start]);
                rebuilt.push_str(r.kind.placeholder());
                last = r.end;
            }
            rebuilt.push_str(&text[last..]);
            assert_eq!(out, rebuilt);
            let (again, more) = Redactor::shared().redact(&out);
            assert!(more.is_empty(), "{text:?} -> {out:?} -> {again:?}");
        }
        // Found by longer runs of this loop: a placeholder must not make its neighbours look new.
        for text in ["07700 900123+447946500442", "Ms SMITH-SO141AA", ".DOB 0\tMarch943-476-5919", "Dr SMITH's7 0YN"] {
            let (out, _) = Redactor::shared().redact(text);
            assert_eq!(Redactor::shared().redact(&out).1, [], "{text:?} -> {out:?}");
        }
        assert!(total > 5_000, "the generator should plant plenty of PII, found {total}");
    }

    #[test]
    fn patterns_skipped_by_shape_would_have_found_nothing() {
        // every pattern run, whatever the text holds
        let all = Shape { digits: usize::MAX, letters: usize::MAX, at: true, b: true, gap: true, odd: true };
        let parts: Vec<&str> = "Dr |Nurse| |\t|Smith|07700 900123|0770090012|+44 7700 900123|9434765919|943 476 5919|\
            SO14 0YN|so140yn|M1 1AE|a.b@example.com|@|DOB |born on |date of birth |12/03/1956|3rd March 1956|1|7|\
            0|B|b|x|yz|-|(0)|0044|Sr.|MS|S0000001|65-74|White British|Prefer not to say|Mrs.|é"
            .split('|')
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut text, mut skipped) = (String::new(), 0);
        for _ in 0..30_000 {
            text.clear();
            for _ in 0..next() % 12 {
                text.push_str(parts[(next() % parts.len() as u64) as usize]);
            }
            let shape = Shape::of(&text);
            skipped += usize::from(shape.digits < 10 || shape.letters < 3 || !shape.b || !shape.gap || !shape.at);
            assert_eq!(Redactor::shared().find(&text, &shape), Redactor::shared().find(&text, &all), "{text:?}");
        }
        assert!(skipped > 10_000, "the generator should make texts that skip patterns, made {skipped}");
        // the date-of-birth cue is matched ignoring case: only `b` and `B` fold to `b`
        let b = Regex::new("(?i)b").expect("compiles");
        let folds: Vec<char> = (0..=char::MAX as u32)
            .filter_map(char::from_u32)
            .filter(|c| b.is_match(c.encode_utf8(&mut [0; 4])))
            .collect();
        assert_eq!(folds, ['B', 'b']);
    }
}
