//! The output tables of the records, the codebook and the rows set aside, each defined once:
//! names, types and documentation of their columns. The analysis tables (`representation`,
//! `theme_by_group`, `underheard_concerns`, `theme_ranking`) are defined next to their statistics,
//! in their modules under `analyse`. The data dictionary (`DATA_DICTIONARY.md` in every run
//! folder) is generated from all of these definitions ([`data_dictionary`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Col, ColumnData, Table};
use crate::code::{Codebook, Coded};
use crate::ingest::{FieldIssue, Quarantined};
use crate::record::{month_of, Record};

fn s(v: impl Into<String>) -> Option<String> {
    Some(v.into())
}

/// A batch of records as the stages left it, for `records` and `record_themes`.
#[derive(Clone, Copy)]
pub(crate) struct RecordsBatch<'a> {
    /// The records.
    pub records: &'a [Record],
    /// Each record's coding.
    pub coded: &'a [Coded],
    /// Dimension names.
    pub dimensions: &'a [String],
    /// Per dimension, the group names by id.
    pub names: &'a [Vec<String>],
    /// Per dimension, each record's group id.
    pub ids: &'a [Vec<u32>],
    /// Source columns carried into `records`.
    pub extra_columns: &'a [String],
    /// Each source's file, by source index.
    pub source_files: &'a [String],
    /// Whether `records` keeps the original (unredacted) text.
    pub keep_original_text: bool,
}

/// The batch's record indices by month (`YYYY-MM`, `unknown` without a date), in month order.
#[must_use]
pub(crate) fn by_month(records: &[Record]) -> BTreeMap<String, Vec<usize>> {
    // by (year, month) while the records pass: a month's label is written once, not per record
    let mut by_key: Vec<(Option<(i32, u32)>, String, Vec<usize>)> = Vec::new();
    let mut last = usize::MAX;
    for (i, r) in records.iter().enumerate() {
        let key = r.received_date.map(|d| (chrono::Datelike::year(&d), chrono::Datelike::month(&d)));
        if by_key.get(last).is_none_or(|m| m.0 != key) {
            last = match by_key.iter().position(|m| m.0 == key) {
                Some(at) => at,
                None => {
                    by_key.push((key, month_of(r), Vec::new()));
                    by_key.len() - 1
                }
            };
        }
        by_key[last].2.push(i);
    }
    by_key.into_iter().map(|(_, label, idx)| (label, idx)).collect()
}

/// `records` rows of the batch's records `idx` (all of one month).
#[must_use]
pub(crate) fn records(b: &RecordsBatch<'_>, month: &str, idx: &[usize]) -> Table {
    let (records, coded, extra_columns, source_files) = (b.records, b.coded, b.extra_columns, b.source_files);
    let pick = |f: &dyn Fn(&Record) -> Option<&str>| ColumnData::strs(idx.iter().map(|&i| f(&records[i])));
    let mut columns = vec![
                Col::new("record_id", "stable id of the piece of text: the source's id (`<source>:<id>` when the source's ids are unique only within it, `ids_per_file`; + `:question` when a row holds several texts, `:question:column` when two of them answer the same question), else a hash of source, file, row and the same", pick(&|r| Some(&r.record_id))),
                Col::new("response_id", "groups the records of one response (an FFT response with two free-text answers is two records)", pick(&|r| Some(&r.response_id))),
                Col::new("source", "configured name of the source", pick(&|r| Some(&*r.source))),
                Col::new("received_date", "date the feedback was received", ColumnData::Date(idx.iter().map(|&i| records[i].received_date).collect())),
                Col::new("question", "what_good, could_improve, nonspecific, conversation or complaint", pick(&|r| Some(r.question.as_str()))),
                Col::new("rating", "FFT rating 1 (very good) to 5 (very poor), 6 = don't know", ColumnData::I32(idx.iter().map(|&i| records[i].rating.map(i32::from)).collect())),
                Col::new("org_level_1", "organisation level 1 (e.g. trust or service)", pick(&|r| r.org[0].as_deref())),
                Col::new("org_level_2", "organisation level 2 (e.g. directorate)", pick(&|r| r.org[1].as_deref())),
                Col::new("org_level_3", "organisation level 3 (e.g. team)", pick(&|r| r.org[2].as_deref())),
            ];
    for (d, dim) in b.dimensions.iter().enumerate() {
        columns.push(Col::new(
            dim.clone(),
            format!("{dim} group: as stated, or missing / not_stated / unmapped"),
            ColumnData::strs(idx.iter().map(|&i| Some(b.names[d][b.ids[d][i] as usize].as_str()))),
        ));
    }
    for (e, name) in extra_columns.iter().enumerate() {
        columns.push(Col::new(
            name.clone(),
            "column carried through from the source, untouched (the header it comes from, per source: the manifest's inputs[].carried_from)",
            ColumnData::strs(idx.iter().map(|&i| records[i].extra.get(e).and_then(Option::as_deref))),
        ));
    }
    columns.push(Col::new("text", "the free text with personal data redacted ([NHS_NUMBER], [PHONE], [EMAIL], [POSTCODE], [DOB], [NAME]); evidence spans index this text", ColumnData::strs(idx.iter().map(|&i| Some(coded[i].text(&records[i].text))))));
    if b.keep_original_text {
        columns.push(Col::new(
            "original_text",
            "the unredacted text (written only when the pipeline sets keep_original_text = true)",
            pick(&|r| Some(&r.text)),
        ));
    }
    columns.push(Col::new(
        "redactions_n",
        "pieces of personal data redacted from the text",
        ColumnData::I32(idx.iter().map(|&i| i32::try_from(coded[i].redactions.len()).ok()).collect()),
    ));
    columns.push(Col::new(
        "polarity",
        "record sentiment: positive, negative, neutral or mixed",
        ColumnData::strs(idx.iter().map(|&i| Some(coded[i].polarity.as_str()))),
    ));
    columns.push(Col::new(
        "sentiment_score",
        "sentiment score (below 0 negative), rating prior included",
        ColumnData::F64(idx.iter().map(|&i| Some(f64::from(coded[i].score))).collect()),
    ));
    columns.push(Col::new(
        "is_non_informative",
        "true for answers like \"nothing\", \"n/a\", \"no comment\", \"-\"",
        ColumnData::Bool(idx.iter().map(|&i| Some(coded[i].reading.is_some())).collect()),
    ));
    columns.push(Col::new(
        "non_informative_reading",
        "how a non-informative answer reads under its question: satisfied, dissatisfied or no_content",
        ColumnData::strs(idx.iter().map(|&i| coded[i].reading.map(|r| r.as_str()))),
    ));
    columns.push(Col::new(
        "themes_n",
        "number of themes coded",
        ColumnData::I32(idx.iter().map(|&i| i32::try_from(coded[i].themes.len()).ok()).collect()),
    ));
    columns.push(Col::new(
        "concerns_n",
        "number of themes coded as concerns",
        ColumnData::I32(
            idx.iter().map(|&i| i32::try_from(coded[i].themes.iter().filter(|t| t.is_concern).count()).ok()).collect(),
        ),
    ));
    columns.push(Col::new(
        "text_chars_n",
        "length of the text in characters",
        ColumnData::I32(idx.iter().map(|&i| i32::try_from(coded[i].chars).ok()).collect()),
    ));
    columns.push(Col::new(
        "source_file",
        "file the record was read from",
        ColumnData::strs(idx.iter().map(|&i| source_files.get(records[i].origin.source as usize).map(String::as_str))),
    ));
    columns.push(Col::new(
        "source_row",
        "row in that file (header = row 1; JSONL: line number)",
        ColumnData::I64(idx.iter().map(|&i| i64::try_from(records[i].origin.row).ok()).collect()),
    ));
    let _ = month;
    Table {
        name: "records".to_owned(),
        grain: "one piece of free text; partitioned in `month=YYYY-MM` folders (`unknown` without a date), which every hive-aware reader adds as a `month` column".to_owned(),
        columns,
    }
}

/// `keys`: one row per record, beside `records` in the same month and order.
#[must_use]
pub(crate) fn keys(b: &RecordsBatch<'_>, contents: &[u128], idx: &[usize]) -> Table {
    // each fingerprint as two 64-bit halves (high, low)
    let half = |v: u128, high: bool| Some((if high { v >> 64 } else { v & u128::from(u64::MAX) }) as u64 as i64);
    let key: Vec<u128> = idx.iter().map(|&i| b.records[i].key()).collect();
    let content: Vec<u128> = idx.iter().map(|&i| contents.get(i).copied().unwrap_or(0)).collect();
    let mut columns = vec![
        Col::new(
            "key_hi",
            "fingerprint of the record's source and id, high 64 bits",
            ColumnData::I64(key.iter().map(|&k| half(k, true)).collect()),
        ),
        Col::new("key_lo", "low 64 bits", ColumnData::I64(key.iter().map(|&k| half(k, false)).collect())),
        Col::new(
            "content_hi",
            "fingerprint of everything read of the record, high 64 bits",
            ColumnData::I64(content.iter().map(|&c| half(c, true)).collect()),
        ),
        Col::new("content_lo", "low 64 bits", ColumnData::I64(content.iter().map(|&c| half(c, false)).collect())),
        Col::new(
            "redacted_spans",
            "personal data redacted from the text: `kind start end` (byte offsets in the original), `;`-separated",
            ColumnData::strs(idx.iter().map(|&i| {
                let r = &b.coded[i].redactions;
                (!r.is_empty()).then(|| {
                    r.iter().map(|x| format!("{} {} {}", x.kind.as_str(), x.start, x.end)).collect::<Vec<_>>().join(";")
                })
            })),
        ),
    ];
    for (d, dim) in b.dimensions.iter().enumerate() {
        columns.push(Col::new(
            format!("raw_{dim}"),
            "the demographic value as read",
            ColumnData::strs(idx.iter().map(|&i| b.records[i].demographics.get(d).and_then(Option::as_deref))),
        ));
    }
    Table { name: "keys".to_owned(), grain: "one record of the state".to_owned(), columns }
}

/// `record_themes`: one row per record × theme, of the batch's records `idx` (all of one month).
#[must_use]
pub(crate) fn record_themes(b: &RecordsBatch<'_>, idx: &[usize], book: &Codebook) -> Table {
    let n: usize = idx.iter().map(|&i| b.coded[i].themes.len()).sum();
    let mut id = Vec::with_capacity(n);
    let mut code = Vec::with_capacity(n);
    let mut category = Vec::with_capacity(n);
    let mut rule = Vec::with_capacity(n);
    let mut matched = Vec::with_capacity(n);
    let mut start = Vec::with_capacity(n);
    let mut end = Vec::with_capacity(n);
    let mut hits = Vec::with_capacity(n);
    let mut polarity = Vec::with_capacity(n);
    let mut concern = Vec::with_capacity(n);
    let mut negated = Vec::with_capacity(n);
    let mut origin = Vec::with_capacity(n);
    for (r, c) in idx.iter().map(|&i| (&b.records[i], &b.coded[i])) {
        for t in &c.themes {
            let h = &t.hit;
            polarity.push(Some(t.polarity.as_str()));
            concern.push(Some(t.is_concern));
            negated.push(Some(h.mentions.first().is_some_and(|m| m.negated)));
            origin.push(Some(t.origin.as_str()));
            // a theme only the model found has no rule and no span: null evidence
            let evidence = !h.mentions.is_empty();
            let t = &book.themes[h.theme as usize];
            id.push(Some(r.record_id.as_str()));
            code.push(Some(t.code.as_str()));
            category.push(Some(t.category.as_str()));
            rule.push(evidence.then_some(h.rule.as_str()));
            matched.push(evidence.then_some(h.matched.as_str()));
            start.push(i32::try_from(h.span.0).ok().filter(|_| evidence));
            end.push(i32::try_from(h.span.1).ok().filter(|_| evidence));
            hits.push(i32::try_from(h.hits).ok());
        }
    }
    Table {
        name: "record_themes".to_owned(),
        grain: "one theme coded on one record".to_owned(),
        columns: vec![
            Col::new("record_id", "the record (joins to records.record_id)", ColumnData::strs(id.into_iter())),
            Col::new(
                "theme_code",
                "stable theme code (joins to themes.theme_code)",
                ColumnData::strs(code.into_iter()),
            ),
            Col::new("category", "the theme's category", ColumnData::strs(category.into_iter())),
            Col::new(
                "origin",
                "what assigned the theme: codebook (rules), model (the learned coder; no evidence span) or both",
                ColumnData::strs(origin.into_iter()),
            ),
            Col::new("rule", "the first codebook term that matched, as written", ColumnData::strs(rule.into_iter())),
            Col::new(
                "matched_words",
                "the respondent's words of every match, `; `-separated",
                ColumnData::strs(matched.into_iter()),
            ),
            Col::new(
                "evidence_start",
                "character offset where the first match starts in the text (0-based)",
                ColumnData::I32(start),
            ),
            Col::new("evidence_end", "character offset where the first match ends (exclusive)", ColumnData::I32(end)),
            Col::new("hits_n", "number of matches of the theme's terms in the text", ColumnData::I32(hits)),
            Col::new(
                "polarity",
                "polarity of the clause carrying the theme: positive, negative or neutral (negative if any mention is)",
                ColumnData::strs(polarity.into_iter()),
            ),
            Col::new(
                "is_concern",
                "a negative mention, or a non-positive mention under could_improve; never for non-informative answers",
                ColumnData::Bool(concern),
            ),
            Col::new(
                "is_negated",
                "a negator (no, not, never, didn't…) stands just before the first match",
                ColumnData::Bool(negated),
            ),
        ],
    }
}

/// `themes`: the dimension table of themes.
#[must_use]
pub(crate) fn themes(book: &Codebook) -> Table {
    let t = &book.themes;
    // written redacted, as every text unheard writes: a codebook's term may name a member of
    // staff (`Dr Patel`), which `codebook check` says can never match
    let col = |f: &dyn Fn(&crate::code::Theme) -> String| {
        ColumnData::Str(t.iter().map(|x| Some(crate::text::redact::scrubbed(&f(x)))).collect())
    };
    Table {
        name: "themes".to_owned(),
        grain: "one theme of the codebook".to_owned(),
        columns: vec![
            Col::new("theme_code", "stable theme code", col(&|x| x.code.clone())),
            Col::new("theme_name", "theme name", col(&|x| x.name.clone())),
            Col::new("category", "category", col(&|x| x.category.clone())),
            Col::new("description", "what the theme covers", col(&|x| x.description.clone())),
            Col::new(
                "framework",
                "origin of the theme: v7 (NHS framework), v6, inclusion",
                col(&|x| x.framework.clone()),
            ),
            Col::new(
                "questions",
                "questions the theme applies to (empty = all)",
                col(&|x| x.questions.iter().map(|q| q.as_str()).collect::<Vec<_>>().join(";")),
            ),
            Col::new("terms", "include terms, `; `-separated", col(&|x| x.terms.join("; "))),
            Col::new(
                "short_terms",
                "terms that count only in short answers, `; `-separated",
                col(&|x| x.short_terms.join("; ")),
            ),
            Col::new("exclude", "exclude terms, `; `-separated", col(&|x| x.exclude.join("; "))),
            Col::new(
                "improvement",
                "which way is better: decrease (fewer mentions) or increase",
                col(&|x| x.improvement.as_str().to_owned()),
            ),
            Col::new(
                "negation",
                "what a negated match does: polarity (codes the theme; the clause's polarity carries it) or exclude",
                col(&|x| match x.negation {
                    crate::code::Negation::Polarity => "polarity".to_owned(),
                    crate::code::Negation::Exclude => "exclude".to_owned(),
                }),
            ),
            Col::new("codebook", "codebook name and version", col(&|_| format!("{} {}", book.name, book.version))),
        ],
    }
}

/// `quarantine`: rows set aside, with why; raw fields as a JSON object.
#[must_use]
pub(crate) fn quarantine(rows: &[Quarantined]) -> Table {
    Table {
        name: "quarantine".to_owned(),
        grain: "one input row that could not be used".to_owned(),
        columns: vec![
            Col::new("source", "configured source name", ColumnData::Str(rows.iter().map(|q| s(&q.source)).collect())),
            Col::new("source_file", "file", ColumnData::Str(rows.iter().map(|q| s(&q.file)).collect())),
            Col::new("source_row", "row (header = row 1; JSONL: line number)", ColumnData::I64(rows.iter().map(|q| i64::try_from(q.row).ok()).collect())),
            Col::new("source_column", "column at fault, if one is", ColumnData::Str(rows.iter().map(|q| q.column.clone()).collect())),
            Col::new("stage", "stage that set the row aside", ColumnData::Str(rows.iter().map(|_| s("ingest")).collect())),
            Col::new("reason", "reason code: empty_text, invalid_date, date_out_of_window, field_too_long, undecodable_bytes, missing_required, invalid_rating, unknown_question, invalid_value, wrong_type, duplicate_id, malformed_row, quote_spans_rows", ColumnData::Str(rows.iter().map(|q| s(q.reason.as_str())).collect())),
            Col::new("message", "what is wrong, naming file, row and column (personal data redacted)", ColumnData::Str(rows.iter().map(|q| s(&q.message)).collect())),
            Col::new("text_cells_n", "free-text cells the row held (for the manifest's reconcile)", ColumnData::I64(rows.iter().map(|q| i64::try_from(q.text_cells).ok()).collect())),
            Col::new("raw", "the row's fields as read, as a JSON object", ColumnData::Str(rows.iter().map(|q| {
                s(serde_json::Value::Object(raw_object(&q.raw)).to_string())
            }).collect())),
        ],
    }
}

/// A raw row as a JSON object: a name met again (two "Notes" columns, or two headers that are
/// both redacted to `[NHS_NUMBER]`) is told apart as `Notes (2)`, so that no value is lost.
fn raw_object(raw: &[(String, String)]) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (k, v) in raw {
        let mut name = k.clone();
        let mut n = 1;
        while map.contains_key(&name) {
            n += 1;
            name = format!("{k} ({n})");
        }
        map.insert(name, serde_json::Value::String(v.clone()));
    }
    map
}

/// `field_issues`: fields that could not be used in records that were kept.
#[must_use]
pub(crate) fn field_issues(rows: &[FieldIssue]) -> Table {
    Table {
        name: "field_issues".to_owned(),
        grain: "one field of an input row that could not be used as written (the row's records were kept)".to_owned(),
        columns: vec![
            Col::new("source", "configured source name", ColumnData::Str(rows.iter().map(|f| s(&f.source)).collect())),
            Col::new("source_file", "file", ColumnData::Str(rows.iter().map(|f| s(&f.file)).collect())),
            Col::new("source_row", "row (header = row 1; JSONL: line number)", ColumnData::I64(rows.iter().map(|f| i64::try_from(f.row).ok()).collect())),
            Col::new("source_column", "column header in the file", ColumnData::Str(rows.iter().map(|f| s(&f.column)).collect())),
            Col::new("field", "what the column feeds: a canonical field (rating, received_date, org_level_1, …), a demographic dimension, `text` or an `x_` carried column", ColumnData::Str(rows.iter().map(|f| s(&f.field)).collect())),
            Col::new("reason", "reason code: invalid_rating, invalid_date, date_out_of_window, missing_required, unknown_question, wrong_type, field_too_long, invalid_value, unmapped_value, personal_data", ColumnData::Str(rows.iter().map(|f| s(f.reason.as_str())).collect())),
            Col::new("action", "what was done: null (the field is empty in records), unmapped (the group is `unmapped`), blank (a free-text cell counted as blank), redacted (personal data replaced), hashed_id (an id holding personal data replaced by a hash of source, file and row), default_question", ColumnData::Str(rows.iter().map(|f| s(f.action)).collect())),
            Col::new("raw_value", "the value as read, with personal data redacted", ColumnData::Str(rows.iter().map(|f| s(&f.value)).collect())),
            Col::new("message", "what is wrong, naming file, row and column (personal data redacted)", ColumnData::Str(rows.iter().map(|f| s(&f.message)).collect())),
            Col::new("response_id", "the response whose records were kept (joins records.response_id)", ColumnData::Str(rows.iter().map(|f| f.response_id.clone()).collect())),
        ],
    }
}

/// The data dictionary, in Markdown, from the tables' own definitions.
#[must_use]
pub(crate) fn data_dictionary(tables: &[&Table]) -> String {
    let mut out =
        format!("# Data dictionary\n\nSchema version {}. Generated by unheard from the same definitions that write the tables.\n\nNaming: counts end in `_n`; yes/no columns start with `is_`; intervals are `<figure>_low` and `<figure>_high`; `period_type` tells the whole run (`all`) from its months; no column is named with an SQL reserved word.\n", super::manifest::SCHEMA_VERSION);
    for t in tables {
        let _ =
            write!(out, "\n## `{}`\n\nOne row: {}.\n\n| column | type | meaning |\n|---|---|---|\n", t.name, t.grain);
        for c in &t.columns {
            let _ = writeln!(out, "| `{}` | {} | {} |", c.name, c.data.type_name(), c.doc.replace('|', "\\|"));
        }
    }
    out
}
