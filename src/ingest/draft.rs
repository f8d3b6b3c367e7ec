//! A draft pipeline for an export whose columns `--input` cannot place: guessed from the
//! header's words (the FFT's question wordings, "date", "age", "ethnic"…) and printed with the
//! error, for a person to check — never applied. Found trying a vendor's FFT export
//! (`Q2. What was good about your experience?`), which `--input` refused with only the header.

use std::path::Path;

/// The `[[source]]` block a pipeline for `path` could begin with, or `None` when no column reads
/// like free text.
pub(crate) fn draft(
    path: &Path,
    headers: &[String],
    first: &[Vec<String>],
    window: &crate::config::DateWindow,
) -> Option<String> {
    let quoted = |s: &str| toml::Value::String(s.to_owned()).to_string();
    // words split at punctuation and at a camelCase join (a JSON API's `dateOfPublication`,
    // `author.ageGroup`: found drafted as nothing, each one word)
    let words = |h: &str| -> Vec<String> {
        let mut spaced = String::with_capacity(h.len() + 4);
        let mut last_lower = false;
        for c in h.chars() {
            if c.is_uppercase() && last_lower {
                spaced.push(' ');
            }
            last_lower = c.is_lowercase() || c.is_ascii_digit();
            spaced.push(c);
        }
        spaced
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut texts: Vec<(&str, &str)> = Vec::new();
    let mut columns: Vec<(&str, &str)> = Vec::new();
    let mut org = ["org_level_1", "org_level_2", "org_level_3"].into_iter();
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_lowercase();
    let complaints = ["complaint", "pals", "concern"].iter().any(|k| file.contains(k));
    for h in headers {
        let lower = h.to_lowercase();
        let w = words(h);
        let has = |k: &str| w.iter().any(|x| x == k);
        let taken = |f: &str| columns.iter().any(|c| c.0 == f);
        // a question asking why (`Please tell us why you gave that rating`) is free text, though
        // it names the rating (found: Microsoft Forms' export drafted it as the rating, and with
        // no free text left, no draft at all)
        let asks_why = has("why") || lower.contains("tell us");
        let field = if !asks_why
            && (lower.contains("how was your experience")
                || has("rating")
                || has("score")
                || has("rate")
                || lower.contains("recommend"))
        {
            Some("rating")
        } else if lower.contains("what was good") || lower.contains("went well") {
            texts.push((h, "what_good"));
            None
        } else if has("better") || lower.contains("improve") {
            texts.push((h, "could_improve"));
            None
        } else if has("comment") || has("comments") || asks_why || has("feedback") {
            texts.push((h, "nonspecific"));
            None
        } else if ["description", "details", "narrative", "summary", "body", "story"].iter().any(|k| has(k))
            || lower.contains("what happened")
        {
            // a complaints or PALS export's account of the case (Datix's `Description`), a story
            // platform's `body` (Care Opinion's API): a complaint when the header or the file's
            // name says so (found refused with no draft)
            texts.push((h, if complaints || lower.contains("complaint") { "complaint" } else { "nonspecific" }));
            None
        } else if has("question") {
            // a long export: one row per answer, the question it answers in a column
            Some("question")
        } else if (has("date") && !has("birth"))
            || has("timestamp")
            || (has("time") && (has("start") || has("completion") || has("submitted") || has("submission")))
            || (["submitted", "received"].contains(&w.first().map_or("", |x| x.as_str()))
                && w.get(1).is_none_or(|x| x == "at" || x == "on")
                && w.len() <= 2)
        {
            // Google Forms' `Timestamp`, Microsoft Forms' `Start time`, a form's `Submitted`
            // or `Submitted at` (found drafted with no date, a QI team's attacker)
            Some("received_date")
        } else if has("id")
            && (w.len() == 1 || has("response") || has("respondent") || has("survey") || has("submission"))
        {
            Some("response_id")
        } else if has("ref") || has("reference") || lower == "case number" {
            // a case's reference (complaints, PALS): one account a row
            Some("record_id")
        } else if has("age") {
            Some("age_band")
        } else if has("sex") {
            Some("sex")
        } else if has("gender") {
            Some("gender")
        } else if lower.contains("ethnic") {
            Some("ethnicity")
        } else if lower.contains("disab") {
            Some("disability")
        } else if lower.contains("religio") || has("faith") {
            Some("religion")
        } else if lower.contains("sexual") {
            Some("sexuality")
        } else if has("carer") {
            Some("carer")
        } else if [
            "trust",
            "site",
            "hospital",
            "ward",
            "service",
            "department",
            "directorate",
            "team",
            "location",
            "unit",
            "clinic",
        ]
        .iter()
        .any(|k| has(k))
        {
            org.next()
        } else {
            None
        };
        if let Some(f) = field.filter(|f| !taken(f)) {
            columns.push((f, h));
        }
    }
    if texts.is_empty() {
        return None;
    }
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("export");
    let mut s = format!(
        "[[source]]\nname = {}\npath = {}\n{}",
        quoted(&crate::text::redact::scrubbed(name)),
        quoted(&crate::ingest::shown(path)),
        date_lines(headers, &columns, first, window)
    );
    // columns naming personal data about the respondent are withheld by any run; listed, a
    // nightly run withholds them unsaid (a header itself holding personal data is left out: it
    // is said each run, redacted)
    let withheld: Vec<String> = headers
        .iter()
        .filter(|h| crate::text::redact::personal_column(h).is_some())
        .filter(|h| !columns.iter().any(|c| c.1 == h.as_str()) && !texts.iter().any(|t| t.0 == h.as_str()))
        .filter(|h| crate::text::redact::scrubbed(h) == **h)
        .map(|h| quoted(h))
        .collect();
    if !withheld.is_empty() {
        s.push_str(&format!(
            "# columns naming personal data about the respondent: never carried into records\nwithheld = [{}]\n",
            withheld.join(", ")
        ));
    }
    // with a question column, one free-text column answers whichever question its row names
    // (a draft that fixed it to `nonspecific` lost every row's question, found trying it)
    let by_row = columns.iter().any(|c| c.0 == "question") && texts.len() == 1;
    if by_row {
        columns.push(("text", texts[0].0));
        texts.clear();
    }
    if !columns.is_empty() {
        s.push_str("[source.columns]\n");
        for (f, h) in &columns {
            s.push_str(&format!("{f} = {}\n", quoted(h)));
        }
    }
    for (h, q) in &texts {
        s.push_str(&format!("[[source.text]]\ncolumn = {}\nquestion = \"{q}\"\n", quoted(h)));
    }
    Some(s)
}

/// The draft's `date_format`, from the first rows' dates in the column drafted as the date: the
/// one usual format that reads them all, a choice to check when no date tells day first from
/// month first (a survey tool's `03/01/2025 09:12:44 AM` was drafted day first, and every row was
/// then read as January's or quarantined).
fn date_lines(
    headers: &[String],
    columns: &[(&str, &str)],
    first: &[Vec<String>],
    window: &crate::config::DateWindow,
) -> String {
    use super::map::{DateGuess, Guessed};
    const UNSURE: &str = "# dates written day first (13/01/2025): remove the # below\n# date_format = \"%d/%m/%Y\"\n";
    let Some(at) = columns.iter().find(|c| c.0 == "received_date").and_then(|c| headers.iter().position(|h| h == c.1))
    else {
        return UNSURE.to_owned();
    };
    let mut guess = DateGuess::default();
    for row in first {
        guess.add(row.get(at).map_or("", String::as_str), window);
    }
    match guess.guessed() {
        Guessed::Every(formats, _) if formats[0] == "%Y-%m-%d" => String::new(),
        Guessed::Every(formats, n) if formats.len() == 1 => {
            format!("# the dates of the first {n} rows read in this format\ndate_format = {:?}\n", formats[0])
        }
        Guessed::Every(formats, n) => format!(
            "# the dates of the first {n} rows read as any of {}: no day among them is past 12 to tell day \
             first from month first; check one against the export, and keep the one that reads it\ndate_format = {:?}\n",
            formats.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", "),
            formats[0]
        ),
        Guessed::Most(..) | Guessed::Nothing => UNSURE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> crate::config::DateWindow {
        crate::config::DateWindow {
            from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
        }
    }

    /// The draft holds every one of `lines`.
    fn has_lines(d: &str, lines: &[&str]) {
        for line in lines {
            assert!(d.contains(line), "{line:?} in\n{d}");
        }
    }

    /// The draft is a pipeline unheard reads.
    fn reads_as_a_pipeline(d: &str) {
        let options: Result<crate::config::options::PipelineOptions, _> = toml::from_str(d);
        assert!(options.is_ok(), "{d}: {options:?}");
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|h| (*h).to_owned()).collect()
    }

    /// A story platform's JSON (Care Opinion's API: `id`, `title`, `body`, `dateOfPublication`,
    /// `author.ageGroup`): refused with no draft, its camelCase keys each read as one word and
    /// `body` as nothing.
    #[test]
    fn a_story_platform_s_json_keys_are_drafted() {
        let h = strings(&["id", "title", "body", "dateOfPublication", "author.role", "author.ageGroup", "tags"]);
        let rows = [strings(&[
            "1001",
            "Kind staff",
            "The nurses were kind",
            "2024-03-05T10:15:00Z",
            "patient",
            "65-74",
            "[]",
        ])];
        let d = draft(Path::new("stories.json"), &h, &rows, &window()).expect("a draft");
        has_lines(
            &d,
            &[
                "response_id = \"id\"",
                "received_date = \"dateOfPublication\"",
                "age_band = \"author.ageGroup\"",
                "column = \"body\"\nquestion = \"nonspecific\"",
            ],
        );
        reads_as_a_pipeline(&d);
    }

    /// A complaints export (Datix's `Ref`, `Date received`, `Description`, with the patient's
    /// name and date of birth): refused with no draft, since no header read as free text.
    #[test]
    fn a_complaints_export_s_account_is_drafted_as_the_complaint() {
        let h = strings(&[
            "Ref",
            "Date received",
            "Date closed",
            "Subject",
            "Description",
            "Ethnicity",
            "Date of birth",
            "Patient name",
        ]);
        let rows = [strings(&[
            "C1",
            "02/01/2025",
            "20/02/2025",
            "Communication",
            "Discharged without a word",
            "White British",
            "12/03/1941",
            "A P",
        ])];
        let d = draft(Path::new("datix.csv"), &h, &rows, &window()).expect("a draft");
        has_lines(
            &d,
            &[
                "record_id = \"Ref\"",
                "received_date = \"Date received\"",
                "column = \"Description\"\nquestion = \"nonspecific\"",
                "date_format = \"%d/%m/%Y\"",
            ],
        );
        assert!(!d.contains("= \"Date of birth\"") && !d.contains("= \"Patient name\""), "not read as fields: {d}");
        // listed as withheld, so that a nightly run withholds them unsaid
        has_lines(&d, &["withheld = [\"Date of birth\", \"Patient name\"]"]);
        // named as complaints (the file, or the header): the complaint question
        let d = draft(Path::new("complaints 2025.csv"), &h, &rows, &window()).expect("a draft");
        assert!(d.contains("column = \"Description\"\nquestion = \"complaint\""), "{d}");
        reads_as_a_pipeline(&d);
    }

    /// Survey tools' exports: Google Forms' `Timestamp` (year first, with a time and a zone),
    /// Microsoft Forms' `ID` and `Start time` (month first, two-digit years), SurveyMonkey's
    /// `Start Date` (month first with a time): the draft reads each one's dates, from its rows.
    #[test]
    fn a_survey_tool_s_dates_are_drafted_in_the_format_its_rows_are_in() {
        let google = strings(&["Timestamp", "Overall how was your experience?", "Please tell us why"]);
        let rows = [
            strings(&["2025/03/01 10:15:32 AM GMT", "Very good", "Kind"]),
            strings(&["2025/03/13 9:01:02 AM GMT", "Poor", "Slow"]),
        ];
        let d = draft(Path::new("g.csv"), &google, &rows, &window()).expect("a draft");
        assert!(d.contains("received_date = \"Timestamp\"") && d.contains("\ndate_format = \"%Y/%m/%d\"\n"), "{d}");
        let forms = strings(&[
            "ID",
            "Start time",
            "Completion time",
            "Email",
            "Name",
            "How would you rate your experience?",
            "Please tell us why you gave that rating",
        ]);
        let rows = [
            strings(&["1", "3/1/25 10:15:32", "3/1/25 10:16:40", "", "", "Very good", "Kind"]),
            strings(&["2", "3/13/25 11:15:32", "", "", "", "Poor", "Slow"]),
        ];
        // a form's `Submitted` column is the date, month first read off a day past 12 (found
        // drafted with no date and a day-first suggestion)
        let submitted = strings(&["Ref", "Submitted", "Comments"]);
        let dated = [strings(&["1", "03/01/2025", "Kind"]), strings(&["2", "09/16/2025", "Slow"])];
        let d = draft(Path::new("f.csv"), &submitted, &dated, &window()).expect("a draft");
        has_lines(&d, &["received_date = \"Submitted\"", "\ndate_format = \"%m/%d/%Y\"\n"]);
        let d = draft(Path::new("f.csv"), &forms, &rows, &window()).expect("a draft");
        has_lines(
            &d,
            &[
                "response_id = \"ID\"",
                "received_date = \"Start time\"",
                "\ndate_format = \"%m/%d/%y\"\n",
                "rating = \"How would you rate your experience?\"",
                "column = \"Please tell us why you gave that rating\"\nquestion = \"nonspecific\"",
            ],
        );
        assert!(!d.contains("Completion time"), "one date: {d}");
        // no day past 12: a choice, said as one
        let monkey = strings(&["Respondent ID", "Start Date", "What was good about your experience?"]);
        let rows =
            [strings(&["1", "03/01/2025 09:12:44 AM", "Kind"]), strings(&["2", "03/02/2025 10:01:13 AM", "Slow"])];
        let d = draft(Path::new("m.csv"), &monkey, &rows, &window()).expect("a draft");
        assert!(d.contains("no day among them is past 12") && d.contains("\ndate_format = \"%d/%m/%Y\"\n"), "{d}");
        // ISO dates need no line; no rows, the commented hint
        let rows = [strings(&["1", "2025-03-01", "Kind"])];
        assert!(!draft(Path::new("m.csv"), &monkey, &rows, &window()).unwrap().contains("date_format"));
        assert!(draft(Path::new("m.csv"), &monkey, &[], &window()).unwrap().contains("# date_format = \"%d/%m/%Y\""));
        let d = draft(Path::new("g.csv"), &google, &[], &window()).unwrap();
        reads_as_a_pipeline(&d);
    }

    #[test]
    fn a_long_export_s_question_column_is_drafted_as_the_question() {
        let headers: Vec<String> =
            ["Response ID", "Date", "Question", "Comment", "Rating"].iter().map(|h| (*h).to_owned()).collect();
        let d = draft(Path::new("long.xlsx"), &headers, &[], &window()).expect("a draft");
        assert!(d.contains("question = \"Question\"\n") && d.contains("text = \"Comment\"\n"), "{d}");
        assert!(!d.contains("[[source.text]]") && !d.contains("nonspecific"), "{d}");
        reads_as_a_pipeline(&d);
    }

    #[test]
    fn a_vendor_s_fft_export_is_drafted_from_its_header() {
        let headers: Vec<String> = [
            "Response ID",
            "Date of response",
            "Ward",
            "Q1. Overall how was your experience of our service?",
            "Q2. What was good about your experience?",
            "Q3. Is there anything we could have done better?",
            "Age",
            "Gender",
            "Ethnicity",
            "Date of birth",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
        let d = draft(Path::new("exports/fft \"march\".csv"), &headers, &[], &window()).expect("a draft");
        has_lines(
            &d,
            &[
                "response_id = \"Response ID\"",
                "received_date = \"Date of response\"",
                "org_level_1 = \"Ward\"",
                "rating = \"Q1. Overall how was your experience of our service?\"",
                "column = \"Q2. What was good about your experience?\"\nquestion = \"what_good\"",
                "column = \"Q3. Is there anything we could have done better?\"\nquestion = \"could_improve\"",
                "age_band = \"Age\"",
                "gender = \"Gender\"",
                "ethnicity = \"Ethnicity\"",
            ],
        );
        assert!(!d.contains("= \"Date of birth\""), "not read as a field: {d}");
        has_lines(&d, &["withheld = [\"Date of birth\"]"]);
        // the draft is a pipeline unheard reads (the file's name with its quote escaped)
        reads_as_a_pipeline(&d);
        // nothing that reads as free text: no draft
        assert!(draft(Path::new("a.csv"), &["Date".to_owned(), "Ward".to_owned()], &[], &window()).is_none());
    }
}
