//! A draft pipeline for an export whose columns `--input` cannot place: guessed from the
//! header's words (the FFT's question wordings, "date", "age", "ethnic"…) and printed with the
//! error, for a person to check — never applied. Found trying a vendor's FFT export
//! (`Q2. What was good about your experience?`), which `--input` refused with only the header.

use std::path::Path;

/// The `[[source]]` block a pipeline for `path` could begin with, or `None` when no column reads
/// like free text.
pub(crate) fn draft(path: &Path, headers: &[String]) -> Option<String> {
    let quoted = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let words = |h: &str| -> Vec<String> {
        h.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
    };
    let mut texts: Vec<(&str, &str)> = Vec::new();
    let mut columns: Vec<(&str, &str)> = Vec::new();
    let mut org = ["org_level_1", "org_level_2", "org_level_3"].into_iter();
    for h in headers {
        let lower = h.to_lowercase();
        let w = words(h);
        let has = |k: &str| w.iter().any(|x| x == k);
        let taken = |f: &str| columns.iter().any(|c| c.0 == f);
        let field = if lower.contains("how was your experience")
            || has("rating")
            || has("score")
            || lower.contains("recommend")
        {
            Some("rating")
        } else if lower.contains("what was good") || lower.contains("went well") {
            texts.push((h, "what_good"));
            None
        } else if has("better") || lower.contains("improve") {
            texts.push((h, "could_improve"));
            None
        } else if has("comment") || has("comments") || has("why") || lower.contains("tell us") || has("feedback") {
            texts.push((h, "nonspecific"));
            None
        } else if has("question") {
            // a long export: one row per answer, the question it answers in a column
            Some("question")
        } else if has("date") && !has("birth") {
            Some("received_date")
        } else if has("id") && (has("response") || has("respondent") || has("survey") || has("submission")) {
            Some("response_id")
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
        "[[source]]\nname = {}\npath = {}\n# dates written day first (13/01/2025): remove the # below\n# date_format = \"%d/%m/%Y\"\n",
        quoted(&crate::text::redact::scrubbed(name)),
        quoted(&crate::ingest::shown(path))
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_export_s_question_column_is_drafted_as_the_question() {
        let headers: Vec<String> =
            ["Response ID", "Date", "Question", "Comment", "Rating"].iter().map(|h| (*h).to_owned()).collect();
        let d = draft(Path::new("long.xlsx"), &headers).expect("a draft");
        assert!(d.contains("question = \"Question\"\n") && d.contains("text = \"Comment\"\n"), "{d}");
        assert!(!d.contains("[[source.text]]") && !d.contains("nonspecific"), "{d}");
        let options: Result<crate::config::options::PipelineOptions, _> = toml::from_str(&d);
        assert!(options.is_ok(), "{d}");
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
        let d = draft(Path::new("exports/fft \"march\".csv"), &headers).expect("a draft");
        for line in [
            "response_id = \"Response ID\"",
            "received_date = \"Date of response\"",
            "org_level_1 = \"Ward\"",
            "rating = \"Q1. Overall how was your experience of our service?\"",
            "column = \"Q2. What was good about your experience?\"\nquestion = \"what_good\"",
            "column = \"Q3. Is there anything we could have done better?\"\nquestion = \"could_improve\"",
            "age_band = \"Age\"",
            "gender = \"Gender\"",
            "ethnicity = \"Ethnicity\"",
        ] {
            assert!(d.contains(line), "{line:?} in\n{d}");
        }
        assert!(!d.contains("Date of birth"), "{d}");
        // the draft is a pipeline unheard reads (the file's name with its quote escaped)
        let options: Result<crate::config::options::PipelineOptions, _> = toml::from_str(&d);
        assert!(options.is_ok(), "{d}: {options:?}");
        // nothing that reads as free text: no draft
        assert!(draft(Path::new("a.csv"), &["Date".to_owned(), "Ward".to_owned()]).is_none());
    }
}
