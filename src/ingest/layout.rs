//! Export layouts, applied: the column plans of real exports (the data itself is
//! [`crate::config::layouts`], which the pipeline file names) turned into a source's mapping.
//!
//! A layout names the columns an export has and what each maps to. It does not map rows
//! itself: [`apply`] turns it into the `columns`, `[[source.text]]`, `question_values` and
//! `date_format` a pipeline would have written, and the one [`super::Mapper`] does the rest.
//! Columns a layout does not name are carried through as `x_<name>`, as for any source.
//!
//! A source with no layout and no column mapping gets the layout whose required columns are
//! all in its header (names compared as `key()` does: case and punctuation ignored); when no
//! layout or more than one fits, `canonical`.

use std::borrow::Cow;

use super::map::key;
use super::IngestError;
pub(crate) use crate::config::layouts::{find, names, Asks, Layout, LAYOUTS};
use crate::config::layouts::{
    Target::{Carried, Field, Text},
    CANONICAL,
};
use crate::config::{DateFormat, SourceSettings};
use crate::record::{Question, CANONICAL_DIMENSIONS, CANONICAL_FIELDS};

/// The layout a header fits: the one whose required columns are all there, else `canonical`.
#[must_use]
pub(crate) fn detect(headers: &[String]) -> &'static Layout {
    let keys: Vec<String> = headers.iter().map(|h| key(h)).collect();
    let fits: Vec<&'static Layout> = LAYOUTS[1..]
        .iter()
        .copied()
        .filter(|l| l.columns().filter(|c| c.required).all(|c| keys.contains(&key(c.header))))
        .collect();
    match fits.as_slice() {
        [one] => one,
        _ => &CANONICAL,
    }
}

/// The source as the mapper should read it, and the layout's name.
///
/// A forced layout (`--layout`, `layout = "..."`) applies whatever the source maps itself
/// (its own `columns` and `[[source.text]]` win); detection only runs on a source with no
/// mapping of its own.
///
/// # Errors
/// A forced layout whose required columns are not all in the header, or an unknown layout.
pub(crate) fn apply<'a>(
    source: &'a SourceSettings,
    headers: &[String],
) -> Result<(Cow<'a, SourceSettings>, &'static str), IngestError> {
    let layout = match &source.layout {
        Some(name) => find(name).ok_or_else(|| IngestError::Columns {
            path: source.path.clone(),
            message: format!("unknown layout {name:?}; the layouts are {}", names()),
        })?,
        None if source.columns.is_empty() && source.texts.is_empty() => detect(headers),
        None => &CANONICAL,
    };
    if layout.columns.is_empty() {
        return Ok((Cow::Borrowed(source), layout.name));
    }
    let found = |name: &str| -> Option<&String> {
        headers.iter().find(|h| *h == name).or_else(|| {
            let k = key(name);
            headers.iter().find(|h| key(h) == k)
        })
    };
    let missing: Vec<String> = layout
        .columns()
        .filter(|c| c.required && found(c.header).is_none())
        .map(|c| format!("{:?}", c.header))
        .collect();
    if !missing.is_empty() {
        return Err(IngestError::Columns {
            path: source.path.clone(),
            message: format!(
                "layout {} needs the column{} {} which {} not in the header; the header has: {}",
                layout.name,
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                super::header_list(headers)
            ),
        });
    }
    let user = |raw: &str| -> Option<Question> {
        let k = key(raw);
        source.question_values.iter().find(|(r, _)| key(r) == k).map(|(_, q)| *q)
    };
    let asked = |raw: &str, asks: Asks| -> Question {
        match asks {
            Asks::Slot(slot) => user(raw).or_else(|| user(slot)).unwrap_or(Question::Nonspecific),
            Asks::Fixed(q) => user(raw).unwrap_or(q),
        }
    };
    let mut out = source.clone();
    let mut texts = Vec::new();
    for c in layout.columns() {
        let Some(header) = found(c.header) else { continue };
        match c.target {
            Field(f) => {
                out.columns.entry(f.to_owned()).or_insert_with(|| header.clone());
            }
            Text(asks) => texts.push((header.clone(), asked(c.header, asks))),
            Carried => {}
        }
    }
    if source.texts.is_empty() && !source.columns.contains_key("text") {
        out.texts = texts;
    }
    for (raw, asks) in layout.question_values {
        if !out.question_values.keys().any(|r| key(r) == key(raw)) {
            out.question_values.insert((*raw).to_owned(), asked(raw, *asks));
        }
    }
    if let Some(f) = layout.date_format {
        if source.date_format == DateFormat::default() {
            out.date_format = DateFormat(f.to_owned());
        }
    }
    Ok((Cow::Owned(out), layout.name))
}

/// What `unheard layouts` prints: each layout, how it is detected, its columns and targets.
#[must_use]
pub(crate) fn describe() -> String {
    let mut out = String::new();
    for l in LAYOUTS {
        out.push_str(&format!("{}\n  {}\n", l.name, l.description));
        if l.columns.is_empty() {
            out.push_str("  columns (any of, each maps to itself):\n");
            for f in CANONICAL_FIELDS.iter().chain(CANONICAL_DIMENSIONS.iter()) {
                out.push_str(&format!("    {f}\n"));
            }
            out.push_str("    any other column → carried as x_<name>\n");
            continue;
        }
        let required: Vec<&str> = l.columns().filter(|c| c.required).map(|c| c.header).collect();
        out.push_str(&format!("  detected when the header has: {}\n  columns:\n", required.join(", ")));
        let width = l.columns().map(|c| c.header.chars().count()).max().unwrap_or(0);
        for c in l.columns() {
            let target = match c.target {
                Field(f) => f.to_owned(),
                Text(Asks::Slot(s)) => format!("text, question nonspecific unless --question {s}=QUESTION"),
                Text(Asks::Fixed(q)) => format!("text, question {q}"),
                Carried => format!("carried as x_{}", key(c.header)),
            };
            let req = if c.required { " (required)" } else { "" };
            out.push_str(&format!("    {:width$} → {target}{req}\n", c.header));
        }
        for (raw, asks) in l.question_values {
            let q = match asks {
                Asks::Slot(s) => format!("nonspecific unless --question {s}=QUESTION"),
                Asks::Fixed(q) => q.to_string(),
            };
            out.push_str(&format!("    question value {raw:?} → {q}\n"));
        }
        if let Some(f) = l.date_format {
            out.push_str(&format!("    dates: {}\n", f.replace('|', " or ")));
        }
        out.push_str("    any other column → carried as x_<name>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Format;

    fn headers(s: &str) -> Vec<String> {
        s.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn detection_ignores_case_and_punctuation_and_needs_one_fit() {
        assert_eq!(detect(&headers("Date,FFT Score,Question 1,Question 2")).name, "experiencesdashboard-upload");
        assert_eq!(detect(&headers("comment id,pt_id,DATE,comment-type,comment_txt")).name, "experiencesdashboard-db");
        assert_eq!(
            detect(&headers("comment_id,Respondent ID,date,fft categorical answer,FFT question,fft_answer")).name,
            "fft-labelled"
        );
        assert_eq!(detect(&headers("date,fft_score,question_2")).name, "canonical", "question_1 is required");
        assert_eq!(detect(&headers("Date,Question 1")).name, "experiencesdashboard-upload", "a rating is optional");
        assert_eq!(
            detect(&headers("date,fft_score,question_1,comment_id,pt_id,comment_type,comment_txt")).name,
            "canonical",
            "two layouts fit: ambiguous"
        );
    }

    #[test]
    fn a_source_that_maps_its_own_columns_is_not_detected_and_its_mapping_wins() {
        let h = headers("date,fft_score,question_1,question_2,age");
        let mut s = SourceSettings::plain("s", Path::new("s.csv"), Format::Csv);
        s.columns.insert("text".to_owned(), "question_2".to_owned());
        let (out, name) = apply(&s, &h).unwrap();
        assert_eq!((name, out.columns.len()), ("canonical", 1));
        s.layout = Some("experiencesdashboard-upload".to_owned());
        s.columns.insert("age_band".to_owned(), "date".to_owned());
        let (out, name) = apply(&s, &h).unwrap();
        assert_eq!(name, "experiencesdashboard-upload");
        assert_eq!(out.columns["age_band"], "date", "the source's own mapping wins");
        assert_eq!(out.columns["rating"], "fft_score");
        assert!(out.texts.is_empty(), "columns.text replaces the layout's text columns");
        assert_eq!(out.date_format.0, "%Y-%m-%d|%d/%m/%Y");
    }

    #[test]
    fn question_slots_take_the_named_question_or_nonspecific() {
        let h = headers("Date,FFT_Score,Question_1,Question_2");
        let mut s = SourceSettings::plain("s", Path::new("s.csv"), Format::Csv);
        s.question_values.insert("QUESTION 2".to_owned(), Question::WhatGood);
        let (out, _) = apply(&s, &h).unwrap();
        assert_eq!(
            out.texts,
            [("Question_1".to_owned(), Question::Nonspecific), ("Question_2".to_owned(), Question::WhatGood)]
        );
        let (out, _) = apply(&s, &headers("comment_id,date,pt_id,comment_type,comment_txt")).unwrap();
        assert_eq!(out.question_values["comment_2"], Question::WhatGood, "comment_2 is question_2");
        assert_eq!(out.question_values["comment_1"], Question::Nonspecific);
    }

    #[test]
    fn every_layout_target_is_a_canonical_name() {
        for l in LAYOUTS {
            for c in l.columns() {
                if let Field(f) = c.target {
                    assert!(CANONICAL_FIELDS.contains(&f) || CANONICAL_DIMENSIONS.contains(&f), "{}: {f}", l.name);
                }
            }
            assert!(l.columns().any(|c| c.required) || l.columns.is_empty(), "{} can be detected", l.name);
        }
    }
}
