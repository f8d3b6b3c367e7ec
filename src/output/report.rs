//! `report.html`: one self-contained page a person reads without a BI tool — the run at a
//! glance, who is missing, what the under-heard groups are worried about in their own (redacted)
//! words, the themes ranked raw and population-weighted, change over time, themes that travel
//! together, emerging terms, and the methods.
//!
//! Everything it shows comes from the published tables (so disclosure control holds as it does
//! there); every piece of text goes through [`esc`]; nothing is fetched (styles inline, charts are
//! SVG written here); the palette is Okabe–Ito's (colour-blind safe); every chart carries a text
//! alternative (`role="img"`, `<title>`, `aria-label`); print styles keep it readable on paper.

use std::fmt::Write as _;

use crate::analyse::comparisons::{ComparisonRow, Measure};
use crate::analyse::cooccurrence::PairRow;
use crate::analyse::emerging::TermRow;
use crate::analyse::quotes::QuoteRow;
use crate::analyse::setup::Who;
use crate::code::Codebook;
use crate::config::Change;
use crate::people::Groups;

/// Okabe–Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue, grey.
const BLUE: &str = "#0072B2";
const VERMILLION: &str = "#D55E00";
const GREEN: &str = "#009E73";
const ORANGE: &str = "#E69F00";
const GREY: &str = "#6b6b6b";

/// Escapes text for HTML (element content and attribute values alike). Characters that set the
/// direction of the text after them (a right-to-left override, embeddings, isolates, marks) are
/// shown as their code point, never obeyed: a group value starting with U+202E turned the rest
/// of its line around, so a representation ratio of 0.51 read as 15.0 (found in the
/// twenty-fourth session on issue 9). Right-to-left scripts themselves are shown as written.
#[must_use]
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "[U+{:04X}]", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// What the report shows.
pub(crate) struct ReportInput<'a> {
    /// The run's name.
    pub run: &'a str,
    /// Rows read, kept, quarantined, dropped; records; field issues; whether they reconcile.
    pub counts: [u64; 6],
    /// Whether rows read = kept + quarantined + dropped.
    pub reconcile: bool,
    /// Quarantine reasons and their rows.
    pub quarantine: Vec<(String, u64)>,
    /// Field-issue reasons and their fields.
    pub field_issues: Vec<(String, u64)>,
    /// Sources: name, file, rows read.
    pub sources: Vec<(String, String, u64)>,
    /// The analysis.
    pub who: &'a Who,
    /// Groups' names.
    pub groups: &'a Groups,
    /// The codebook.
    pub book: &'a Codebook,
    /// Declared changes.
    pub changes: &'a [Change],
    /// Quotes.
    pub quotes: &'a [QuoteRow],
    /// Emerging terms.
    pub terms: &'a [TermRow],
    /// The run's warnings (how the inputs were read, unmapped values, the baseline).
    pub warnings: &'a [String],
    /// Per declared change: why it was not compared (`None`: compared).
    pub not_compared: &'a [Option<String>],
    /// The run's disclosure rule: field issues are shown under it (an unmapped value is one of
    /// a demographic group's records, whose count `theme_by_group` suppresses).
    pub rule: &'a crate::analyse::stats::DisclosureRule,
}

/// One value with its interval, labelled, for [`interval_chart`].
struct Mark {
    label: String,
    value: f64,
    low: f64,
    high: f64,
    colour: &'static str,
}

/// A dot-and-interval chart (one row a mark) with a reference line: representation ratios
/// against parity, differences against 0, lifts against 1.
fn interval_chart(title: &str, marks: &[Mark], reference: f64, unit: &str) -> String {
    if marks.is_empty() {
        return String::new();
    }
    let (w, left, row) = (760.0, 300.0, 22.0);
    let h = 30.0 + row * marks.len() as f64;
    let lo = marks.iter().map(|m| m.low).fold(reference, f64::min);
    let hi = marks.iter().map(|m| m.high).fold(reference, f64::max);
    let pad = (hi - lo).max(1e-9) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| left + (v - lo) / (hi - lo) * (w - left - 20.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><title>{t}</title>"#,
        t = esc(title)
    );
    let _ = write!(
        s,
        r#"<line x1="{rx:.1}" y1="10" x2="{rx:.1}" y2="{b:.1}" stroke="{GREY}" stroke-dasharray="4 3"/><text x="{rx:.1}" y="{ty:.1}" font-size="11" text-anchor="middle" fill="{GREY}">{r}{unit}</text>"#,
        rx = x(reference),
        b = h - 16.0,
        ty = h - 4.0,
        r = reference,
        unit = esc(unit)
    );
    for (i, m) in marks.iter().enumerate() {
        let y = 20.0 + row * i as f64;
        let _ = write!(
            s,
            r#"<g class="mark"><title>{alt}</title><text x="{lx:.1}" y="{ty:.1}" font-size="12" text-anchor="end">{label}</text><line x1="{a:.1}" y1="{y:.1}" x2="{b:.1}" y2="{y:.1}" stroke="{c}" stroke-width="2"/><circle cx="{v:.1}" cy="{y:.1}" r="4" fill="{c}"/></g>"#,
            alt = esc(&format!("{}: {:.3} ({:.3} to {:.3})", m.label, m.value, m.low, m.high)),
            lx = left - 8.0,
            ty = y + 4.0,
            label = esc(&short(&m.label, 44)),
            a = x(m.low),
            b = x(m.high),
            v = x(m.value),
            c = m.colour,
        );
    }
    s.push_str("</svg>");
    s
}

/// `s` cut to `n` characters, with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    s.chars().take(n - 1).chain(std::iter::once('…')).collect()
}

/// An SPC chart: the points, the centre line and the limits of each segment, special-cause
/// points marked (improvement blue, concern orange).
fn spc_chart(title: &str, points: &[&crate::analyse::spc::SpcRow]) -> String {
    let plotted: Vec<(usize, f64)> = points.iter().enumerate().filter_map(|(i, p)| Some((i, p.point.value?))).collect();
    if plotted.len() < 2 {
        return String::new();
    }
    let (w, h, left) = (720.0, 200.0, 50.0);
    let values = points.iter().flat_map(|p| {
        [p.point.value, p.point.limits.map(|l| l.lower), p.point.limits.map(|l| l.upper)].into_iter().flatten()
    });
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = ((lo - (hi - lo) * 0.05).max(0.0), hi + (hi - lo) * 0.05 + 1e-9);
    let x = |i: usize| left + i as f64 / (points.len().max(2) - 1) as f64 * (w - left - 20.0);
    let y = |v: f64| 10.0 + (hi - v) / (hi - lo) * (h - 40.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart spc" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><title>{t}</title>"#,
        t = esc(title)
    );
    for (label, v) in [(format!("{:.1}%", hi * 100.0), hi), (format!("{:.1}%", lo * 100.0), lo)] {
        let _ = write!(s, r#"<text x="4" y="{:.1}" font-size="10" fill="{GREY}">{}</text>"#, y(v) + 3.0, esc(&label));
    }
    // centre and limits drawn segment by segment: a rebased chart starts new lines
    let line = |s: &mut String, f: &dyn Fn(&crate::analyse::spc::SpcRow) -> Option<f64>, colour: &str, dash: &str| {
        let mut segment = usize::MAX;
        let mut pts: Vec<String> = Vec::new();
        let flush = |s: &mut String, pts: &mut Vec<String>| {
            if pts.len() > 1 {
                let _ = write!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-dasharray="{dash}"/>"#,
                    pts.join(" ")
                );
            }
            pts.clear();
        };
        for (i, p) in points.iter().enumerate() {
            if p.point.segment != segment {
                flush(s, &mut pts);
                segment = p.point.segment;
            }
            if let Some(v) = f(p) {
                pts.push(format!("{:.1},{:.1}", x(i), y(v)));
            }
        }
        flush(s, &mut pts);
    };
    line(&mut s, &|p| p.point.limits.map(|l| l.upper), GREY, "4 3");
    line(&mut s, &|p| p.point.limits.map(|l| l.lower), GREY, "4 3");
    line(&mut s, &|p| p.point.value.and(p.point.centre), GREEN, "");
    // the data line breaks where a period has no point (its count withheld by disclosure
    // control, or no records): a line drawn across the gap showed a trend through months
    // nobody may see (found looking at the report of a real export)
    for run in plotted.chunk_by(|a, b| b.0 == a.0 + 1).filter(|run| run.len() > 1) {
        let pts: Vec<String> = run.iter().map(|&(i, v)| format!("{:.1},{:.1}", x(i), y(v))).collect();
        let _ = write!(s, r#"<polyline points="{}" fill="none" stroke="{BLUE}" stroke-width="1.5"/>"#, pts.join(" "));
    }
    for &(i, v) in &plotted {
        let p = points[i];
        let colour = match p.point.label(p.direction).map(|l| l.name()) {
            Some("improvement") => BLUE,
            Some("concern") => ORANGE,
            Some(_) => GREY,
            None => "#ffffff",
        };
        let _ = write!(
            s,
            r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}" stroke="{BLUE}"><title>{}</title></circle>"#,
            x(i),
            y(v),
            esc(&format!(
                "{}: {:.2}%{}",
                p.period_start,
                v * 100.0,
                p.point.signal.map_or(String::new(), |sig| format!(" — {}", sig.package_type()))
            ))
        );
    }
    let (first, last) = (points[0].period_start, points[points.len() - 1].period_start);
    let _ = write!(
        s,
        r#"<text x="{left}" y="{:.1}" font-size="10" fill="{GREY}">{first}</text><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="{GREY}">{last}</text></svg>"#,
        h - 6.0,
        w - 20.0,
        h - 6.0
    );
    s
}

/// The Making Data Count icons of a series, drawn small: variation (a grey circle for common
/// cause; blue for special cause improvement, orange for concern, purple for neither, with H or L
/// for the side) and, with a target, assurance (P consistently passes, F consistently fails, ?
/// hit and miss).
fn mdc_icons(sm: &crate::analyse::spc::SpcSummaryRow) -> String {
    use crate::analyse::stats::spc::{Assurance, Side, Variation};
    let Some(summary) = sm.summary else { return String::new() };
    let (fill, letter) = match (summary.variation, summary.side) {
        (Variation::CommonCause, _) => (GREY, "~"),
        (v, side) => (
            match v {
                Variation::SpecialCauseImprovement => BLUE,
                Variation::SpecialCauseConcern => ORANGE,
                _ => "#CC79A7",
            },
            if side == Some(Side::Low) { "L" } else { "H" },
        ),
    };
    let mut out = format!(
        r#"<svg class="icon" role="img" aria-label="{t}" width="26" height="26" viewBox="0 0 26 26"><title>{t}</title><circle cx="13" cy="13" r="12" fill="{fill}"/><text x="13" y="18" font-size="14" font-weight="bold" text-anchor="middle" fill="white">{letter}</text></svg>"#,
        t = esc(&format!("variation: {}", summary.variation.name().replace('_', " ")))
    );
    if let Some(a) = summary.assurance {
        let (fill, letter) = match a {
            Assurance::ConsistentlyPasses => (BLUE, "P"),
            Assurance::ConsistentlyFails => (ORANGE, "F"),
            Assurance::Inconsistent => (GREY, "?"),
        };
        let _ = write!(
            out,
            r#"<svg class="icon" role="img" aria-label="{t}" width="26" height="26" viewBox="0 0 26 26"><title>{t}</title><rect x="1" y="1" width="24" height="24" rx="5" fill="{fill}"/><text x="13" y="18" font-size="14" font-weight="bold" text-anchor="middle" fill="white">{letter}</text></svg>"#,
            t = esc(&format!("assurance: {}", a.name().replace('_', " ")))
        );
    }
    out
}

fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// A table, or when it has no rows the sentence that says why (found: the report of a small
/// run showed the bare headers of three empty tables).
fn table_or(head: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p>{}</p>", esc(empty));
    }
    table(head, rows)
}

fn num(v: Option<u64>) -> String {
    v.map_or_else(|| "suppressed".to_owned(), |v| v.to_string())
}

fn fig(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(
        || "—".to_owned(),
        |v| {
            let shown = format!("{v:.digits$}");
            // a value that rounds to zero reads 0.00, not -0.00 (a rising z of -0.001 did)
            match shown.strip_prefix('-') {
                Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_owned(),
                _ => shown,
            }
        },
    )
}

/// A share as a percentage to one decimal; `—` without one (not `—%`, as a run without a
/// baseline showed every weighted share, found looking at the report).
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}h1{font-size:1.7em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#eef4f9}blockquote{margin:.4em 0 .4em 1em;padding-left:.8em;border-left:3px solid #009E73;font-style:italic}.note{color:#555;font-size:.9em}.flag{font-weight:bold;color:#D55E00}svg.chart{max-width:100%;height:auto;display:block;margin:.5em 0}svg.icon{vertical-align:middle}@media print{body{max-width:none;margin:0}h2{page-break-after:avoid}svg.chart,table{page-break-inside:avoid}}";

/// The report, as one HTML document.
#[must_use]
pub(crate) fn report(r: &ReportInput<'_>) -> String {
    let who = r.who;
    let book = r.book;
    let theme_name = |t: usize| book.themes.get(t).map_or_else(String::new, |t| format!("{} {}", t.code, t.name));
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>unheard: {}</title><style>{STYLE}</style></head><body>",
        esc(r.run)
    );
    let _ = write!(s, "<h1>Who is missing from this conversation? — {}</h1>", esc(r.run));
    // at a glance
    let [read, kept, quarantined, dropped, records, issues] = r.counts;
    // field issues under disclosure control: with one dimension's values unmapped, their exact
    // count was the size of its `unmapped` group, which `theme_by_group` suppresses (found by an
    // attack in the twenty-fourth session on issue 9)
    let shown = |n: u64| match crate::analyse::common::publish(i64::try_from(n).unwrap_or(i64::MAX), r.rule).value {
        Some(v) => v.to_string(),
        None => "1 to 7".to_owned(),
    };
    let issues = shown(issues);
    s.push_str("<h2 id=\"glance\">The run at a glance</h2>");
    let _ = write!(
        s,
        "<p>{read} rows read from {} source(s): {kept} kept, {quarantined} set aside (quarantine), {dropped} dropped on purpose — {}. {records} comments analysed; {issues} fields could not be used as written.</p>",
        r.sources.len(),
        if r.reconcile { "every row accounted for" } else { "<strong>the counts do not reconcile</strong>" }
    );
    s.push_str(&table(
        &["source", "file", "rows read"],
        &r.sources.iter().map(|(n, f, k)| vec![n.clone(), f.clone(), k.to_string()]).collect::<Vec<_>>(),
    ));
    if !r.quarantine.is_empty() {
        s.push_str(&table(
            &["quarantine reason", "rows"],
            &r.quarantine.iter().map(|(k, v)| vec![k.clone(), v.to_string()]).collect::<Vec<_>>(),
        ));
    }
    if !r.field_issues.is_empty() {
        s.push_str(&table(
            &["field issue", "fields"],
            &r.field_issues.iter().map(|(k, v)| vec![k.clone(), shown(*v)]).collect::<Vec<_>>(),
        ));
    }
    if !r.warnings.is_empty() {
        s.push_str("<p><strong>Read these figures with care:</strong></p><ul class=\"warnings\">");
        for w in r.warnings {
            let _ = write!(s, "<li>{}</li>", esc(w));
        }
        s.push_str("</ul>");
    }
    // who is missing
    s.push_str("<h2 id=\"missing\">Who is missing</h2><p class=\"note\">Each group's share of the feedback over its share of the population, with its 95% interval; 1 is parity, below 0.8 is under-represented. Groups flagged first.</p>");
    let mut dims: Vec<&str> = Vec::new();
    for row in who.representation.iter().filter(|x| x.period == "all") {
        if !dims.contains(&row.dimension.as_str()) {
            dims.push(&row.dimension);
        }
    }
    if records == 0 {
        s.push_str("<p>No comments in this run: nothing to measure.</p>");
    } else if !who.representation.iter().any(|x| x.period == "all" && x.ratio.is_some()) {
        // a baseline met (a population share) but no ratio: the counts were too small to publish
        // (a small run was told it needed a baseline it had: found in the twenty-fourth session)
        if who.representation.iter().any(|x| x.period == "all" && x.population_share.is_some()) {
            s.push_str("<p>Who is missing cannot be measured in this run: the baseline is there, but every group's count of comments is suppressed (1 to 7) or withheld, too few to publish a share. A longer period, or more comments, gives counts that can be published.</p>");
        } else {
            s.push_str("<p>Who is missing cannot be measured in this run: it needs demographic columns mapped from the export and a population baseline to set them against (<code>--baseline</code>, or <code>[[baseline]]</code> in the pipeline).</p>");
        }
    }
    for dim in dims {
        let mut rows: Vec<_> = who
            .representation
            .iter()
            .filter(|x| x.period == "all" && x.dimension == dim && x.ratio.is_some())
            .collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|x| (!matches!(x.flag.as_str(), "under_represented" | "below_parity"), x.group.clone()));
        let marks: Vec<Mark> = rows
            .iter()
            .filter_map(|x| {
                let colour = match x.flag.as_str() {
                    "under_represented" | "below_parity" => VERMILLION,
                    "over_represented" | "above_parity" => BLUE,
                    _ => GREY,
                };
                Some(Mark { label: x.group.clone(), value: x.ratio?, low: x.ratio_low?, high: x.ratio_high?, colour })
            })
            .collect();
        let _ = write!(s, "<h3>{}</h3>", esc(dim));
        s.push_str(&interval_chart(
            &format!("Representation by {dim}: ratio of feedback share to population share, with 95% intervals"),
            &marks,
            1.0,
            "",
        ));
        let flagged: Vec<String> = rows
            .iter()
            .filter(|x| matches!(x.flag.as_str(), "under_represented" | "below_parity"))
            .map(|x| format!("{} ({}, ratio {})", x.group, x.flag.replace('_', " "), fig(x.ratio, 2)))
            .collect();
        if !flagged.is_empty() {
            let _ = write!(s, "<p class=\"flag\">Under-heard: {}</p>", esc(&flagged.join("; ")));
        }
    }
    // what the under-heard are worried about
    s.push_str("<h2 id=\"worries\">What the under-heard groups are worried about</h2><p class=\"note\">Concerns distinctive to each flagged group (weighted log-odds z against the rest of its dimension; lift with its interval), in their own words — redacted, never from a suppressed cell.</p>");
    let mut any = false;
    for u in who.underheard.iter().filter(|u| u.distinctive && !u.suppressed).take(40) {
        any = true;
        let (dim, group) = (&r.groups.dimensions[u.dimension], &r.groups.names[u.dimension][u.group]);
        // z weighs the theme's part of the group's concerns; lift, its part of the group's
        // comments: the two can disagree, and the page says so when they do (a "distinctive"
        // concern with a lift of 0.94 was shown with nothing said: found in the twenty-fourth
        // session on issue 9)
        let lift = match u.lift {
            None => "— (no other group's counts are published to set it against)".to_owned(),
            Some(l) if l.2 < 1.0 => format!(
                "{:.2} ({:.2} to {:.2}): a larger part of this group's concerns than of the others', though not of its comments",
                l.0, l.1, l.2
            ),
            Some(l) if l.1 <= 1.0 => format!(
                "{:.2} ({:.2} to {:.2}): a larger part of this group's concerns; of its comments, not clearly more",
                l.0, l.1, l.2
            ),
            Some(l) => format!("{:.2} ({:.2} to {:.2})", l.0, l.1, l.2),
        };
        let _ = write!(
            s,
            "<h3>{} — {}</h3><p>{} concerns among {} comments; z {}, lift {}.</p>",
            esc(&format!("{dim}: {group}")),
            esc(&theme_name(u.theme)),
            esc(&num(u.group_concerns.value)),
            esc(&num(u.group_n.value)),
            esc(&fig(u.z, 2)),
            esc(&lift)
        );
        for q in r.quotes.iter().filter(|q| q.theme == u.theme && q.group == Some((u.dimension, u.group))) {
            let _ = write!(s, "<blockquote>{}</blockquote>", esc(&q.quote.text));
        }
    }
    if !any {
        s.push_str("<p>No concern stands out for a flagged group (or no group is flagged).</p>");
    }
    // ranking
    s.push_str("<h2 id=\"ranking\">Themes ranked: as heard, and weighted to the population</h2>");
    // weighted when the run has a baseline to weigh by; else as heard, said so
    let weighted = who.ranking.iter().any(|x| x.weighted_rank.is_some());
    let mut ranked: Vec<_> = who.ranking.iter().filter(|x| x.measure == "concerns" && x.raw_rank.is_some()).collect();
    ranked.sort_by_key(|x| if weighted { x.weighted_rank } else { x.raw_rank });
    if !weighted && who.ranking.iter().any(|x| x.raked_n.is_some()) {
        s.push_str("<p>No population weighting in this run: the baseline is there, but no theme's count can be published weighted (suppressed, or too few records raked): the concerns as heard.</p>");
    } else if !weighted {
        s.push_str("<p>No population weighting in this run (it needs a baseline): the concerns as heard.</p>");
    }
    let unranked = who.ranking.iter().filter(|x| x.measure == "concerns" && x.suppressed).count();
    if unranked > 0 && !ranked.is_empty() {
        let _ = write!(s, "<p class=\"note\">{unranked} theme(s) raised by 1 to 7 comments are suppressed, so not ranked; themes nobody raised are not listed.</p>");
    }
    s.push_str(&table_or(
        &["theme", "raw share", "weighted share", "raw rank", "weighted rank"],
        &ranked
            .iter()
            .take(15)
            .map(|x| {
                vec![
                    theme_name(x.theme),
                    percent(x.raw_prevalence),
                    percent(x.weighted_prevalence),
                    fig(x.raw_rank.map(|v| v as f64), 0),
                    fig(x.weighted_rank.map(|v| v as f64), 0),
                ]
            })
            .collect::<Vec<_>>(),
        "No theme's concerns can be ranked: no comment was coded with a concern, or every theme's count is 1 to 7, which is not published (disclosure control).",
    ));
    // change over time
    s.push_str("<h2 id=\"change\">Change over time</h2>");
    for (k, c) in r.changes.iter().enumerate() {
        let mut rows: Vec<&ComparisonRow> = who
            .comparisons
            .iter()
            .filter(|x| x.change == k && x.group.is_none() && x.measure == Measure::Concerns && x.diff.is_some())
            // a theme no comment raised on either side has nothing to show: past the few themes
            // that moved, such themes (q = 1, in codebook order) filled the chart, and themes that
            // changed were left out (found in the twenty-fourth session on issue 9)
            .filter(|x| !(x.before_x.value == Some(0) && x.after_x.value == Some(0)))
            .collect();
        // smallest q, then smallest p, then the largest change
        let p = |x: &ComparisonRow| x.p.map_or(1.0, |p| p.0);
        let size = |x: &ComparisonRow| x.diff.map_or(0.0, |d| d.diff.abs());
        rows.sort_by(|a, b| {
            a.q.unwrap_or(1.0)
                .total_cmp(&b.q.unwrap_or(1.0))
                .then(p(a).total_cmp(&p(b)))
                .then(size(b).total_cmp(&size(a)))
        });
        let marks: Vec<Mark> = rows
            .iter()
            .take(12)
            .filter_map(|x| {
                let d = x.diff?;
                let colour = if x.significant() == Some(true) {
                    if d.diff < 0.0 {
                        BLUE
                    } else {
                        ORANGE
                    }
                } else {
                    GREY
                };
                Some(Mark {
                    label: theme_name(x.theme),
                    value: d.diff * 100.0,
                    low: d.lower * 100.0,
                    high: d.upper * 100.0,
                    colour,
                })
            })
            .collect();
        if let Some(Some(why)) = r.not_compared.get(k) {
            let _ = write!(s, "<h3>{} ({})</h3><p>Not compared: {}.</p>", esc(&c.name), c.date, esc(why));
            continue;
        }
        let _ = write!(s, "<h3>{} ({})</h3><p class=\"note\">Share of comments with each concern, after minus before, in percentage points with the Newcombe 95% interval; the 12 with the smallest q-values (then p-values), themes no comment raised on either side left out. Blue: a significant fall; orange: a significant rise (Benjamini–Hochberg q ≤ 0.05).</p>", esc(&c.name), c.date);
        s.push_str(&interval_chart(&format!("Change in concerns at {}", c.name), &marks, 0.0, " pp"));
    }
    if r.changes.is_empty() {
        s.push_str(
            "<p>No service change declared (<code>[[change]]</code> or <code>--change NAME=YYYY-MM-DD</code>).</p>",
        );
    }
    let mut series: Vec<_> =
        who.spc_summary.iter().filter(|x| x.measure == Measure::Concerns && x.points >= 2).collect();
    series.sort_by(|a, b| b.centre.unwrap_or(0.0).total_cmp(&a.centre.unwrap_or(0.0)));
    if series.is_empty() {
        s.push_str("<p>No SPC chart: a chart needs a theme's concerns in two periods or more.</p>");
    } else {
        s.push_str("<p class=\"note\">Statistical process control (Making Data Count): each point is a period's share of comments with the concern; the green line is the centre, the dashed lines the process limits; blue points signal improvement, orange points concern.</p>");
    }
    for sm in series.iter().take(6) {
        let points: Vec<_> = who.spc.iter().filter(|p| p.theme == sm.theme && p.measure == Measure::Concerns).collect();
        let icon = sm.summary.map_or("—", |x| x.variation.name()).replace('_', " ");
        let _ = write!(s, "<h3>{} {} — {}</h3>", mdc_icons(sm), esc(&theme_name(sm.theme)), esc(&icon));
        s.push_str(&spc_chart(&format!("{}: concerns per period, {}", theme_name(sm.theme), icon), &points));
    }
    // together
    s.push_str("<h2 id=\"together\">Themes that travel together</h2>");
    let mut pairs: Vec<&PairRow> = who
        .cooccurrence
        .iter()
        .filter(|p| p.group.is_none() && p.lift.is_some() && p.both_n.value.is_some_and(|v| v >= 20))
        .collect();
    pairs.sort_by(|a, b| b.lift.map_or(0.0, |l| l.0).total_cmp(&a.lift.map_or(0.0, |l| l.0)));
    s.push_str(&table_or(
        &["theme", "with theme", "comments with both", "lift (95% interval)"],
        &pairs
            .iter()
            .take(12)
            .map(|p| {
                let l = p.lift.map_or_else(|| "—".to_owned(), |l| format!("{:.2} ({:.2} to {:.2})", l.0, l.1, l.2));
                vec![theme_name(p.themes.0), theme_name(p.themes.1), num(p.both_n.value), l]
            })
            .collect::<Vec<_>>(),
        "No pair of themes to show: a pair is shown when 20 comments or more carry both.",
    ));
    // emerging
    s.push_str("<h2 id=\"emerging\">What people talk about that no theme codes</h2>");
    let mut rising: Vec<&TermRow> = r.terms.iter().filter(|t| t.z.is_some_and(|z| z > 1.96)).collect();
    rising.sort_by(|a, b| b.z.unwrap_or(0.0).total_cmp(&a.z.unwrap_or(0.0)));
    let term_rows = |list: &[&TermRow]| -> Vec<Vec<String>> {
        list.iter()
            .take(12)
            .map(|t| vec![t.surfaces.clone(), num(t.uncoded_n.value), num(t.recent_n.value), fig(t.z, 2)])
            .collect()
    };
    if r.terms.is_empty() {
        s.push_str("<p>No words to show: every comment was coded with a theme, or no term of the others is in enough of them to be published.</p>");
    } else if rising.is_empty() {
        s.push_str("<p>No term is rising in the comments no theme codes. The most frequent:</p>");
        let frequent: Vec<&TermRow> = r.terms.iter().collect();
        s.push_str(&table(&["words", "comments", "recent", "rising z"], &term_rows(&frequent)));
    } else {
        s.push_str(&table(&["words", "comments", "recent", "rising z"], &term_rows(&rising)));
    }
    if !r.terms.is_empty() {
        s.push_str("<p class=\"note\"><code>unheard codebook suggest</code> turns these into codebook entries.</p>");
    }
    // methods
    s.push_str("<h2 id=\"methods\">Methods</h2><ul class=\"note\">\
<li>Every count is published under NHS disclosure control (1–7 suppressed, others rounded to the nearest 5), and every figure comes from the published counts; counts that tables set against each other could pin are withheld.</li>\
<li>Representation: Wilson score intervals of the feedback share against the population share (four-fifths rule for the flag).</li>\
<li>Distinctive concerns: weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi &amp; Quinn 2008); lift with the Katz log interval.</li>\
<li>Weighted ranking: raking to the population margins (iterative proportional fitting), weights capped.</li>\
<li>Before and after: Newcombe hybrid score interval (1998, method 10); pooled z-test or Fisher's exact test; Benjamini–Hochberg q-values.</li>\
<li>SPC: XmR charts and the Making Data Count rules (NHS England; NHSRplotthedots).</li>\
<li>Quotes are the respondents' words with personal data redacted; none names a person, none comes from a suppressed cell, and none with a redaction is shown for a rare group.</li>\
</ul></body></html>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let chart = interval_chart(
            "<img src=x onerror=alert(1)>",
            &[Mark { label: "<b>group</b>".to_owned(), value: 1.0, low: 0.5, high: 1.5, colour: BLUE }],
            1.0,
            "",
        );
        assert!(!chart.contains("<img") && !chart.contains("<b>") && chart.contains("&lt;b&gt;group"));
        assert_eq!(chart.matches("class=\"mark\"").count(), 1);
        // a direction override is shown, not obeyed; Arabic and Hebrew are shown as written
        assert_eq!(esc("\u{202e}RLO group (ratio 0.51)"), "[U+202E]RLO group (ratio 0.51)");
        assert_eq!(esc("a\u{2067}b\u{2069}c\u{200f}"), "a[U+2067]b[U+2069]c[U+200F]");
        assert_eq!(esc("عربي עברית"), "عربي עברית");
    }

    #[test]
    fn a_withheld_period_breaks_the_spc_line_and_no_share_reads_dash_percent() {
        use crate::analyse::stats::disclosure::Published;
        use crate::analyse::stats::spc::{Direction, Point};
        let row = |month: u32, value: Option<f64>| crate::analyse::spc::SpcRow {
            theme: 0,
            measure: crate::analyse::comparisons::Measure::Concerns,
            chart: "p",
            period_start: chrono::NaiveDate::from_ymd_opt(2025, month, 1).unwrap(),
            periods: 1,
            n: Published { value: Some(100), suppressed: false },
            x: Published { value: value.map(|_| 10), suppressed: value.is_none() },
            point: Point {
                value,
                segment: 0,
                centre: Some(0.1),
                limits: None,
                relative_to_mean: 0,
                outside_limits: false,
                close_to_limits: false,
                signal: None,
            },
            trial_limits: true,
            rebased_at: None,
            direction: Direction::Decrease,
        };
        // months 1-2 shown, 3 withheld, 4-5 shown, 6 withheld, 7 shown alone
        let values = [Some(0.1), Some(0.2), None, Some(0.15), Some(0.12), None, Some(0.11)];
        let rows: Vec<_> = values.iter().enumerate().map(|(i, &v)| row(i as u32 + 1, v)).collect();
        let chart = spc_chart("t", &rows.iter().collect::<Vec<_>>());
        let data_lines = chart.matches(&format!("stroke=\"{BLUE}\" stroke-width=\"1.5\"")).count();
        assert_eq!(data_lines, 2, "one line per run of shown periods: {chart}");
        assert_eq!(chart.matches("class=\"point\"").count(), 5, "every shown period is a point");
        assert_eq!((percent(None), percent(Some(0.1234))), ("—".to_owned(), "12.3%".to_owned()));
        assert_eq!([fig(Some(-0.001), 2), fig(Some(-0.0), 0), fig(Some(-0.5), 2)], ["0.00", "0", "-0.50"]);
    }
}
