//! Export layouts as data: the column plans of real exports, each naming the columns an export
//! has and what each maps to. The pipeline file names one with `layout = "NAME"`; reading an
//! export with one, and telling which fits a header, is `crate::ingest::layout`'s.

use crate::record::Question;

/// The question a free-text column or a question value stands for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Asks {
    /// A trust-specific question, `nonspecific` unless `--question SLOT=...` (or the source's
    /// `question_values`) says otherwise.
    Slot(&'static str),
    /// A known wording.
    Fixed(Question),
}

/// What a layout column maps to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// A canonical field or demographic dimension.
    Field(&'static str),
    /// Free text answering a question.
    Text(Asks),
    /// Carried through into `records` as `x_<name>`.
    Carried,
}

/// One column of a layout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// Header as the export writes it.
    pub header: &'static str,
    /// What it maps to.
    pub target: Target,
    /// Detection needs it; a forced layout without it is an error.
    pub required: bool,
}

/// An export layout.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Name for `--layout` and `layout = "..."`.
    pub name: &'static str,
    /// One line on what exports it reads.
    pub description: &'static str,
    /// Its columns, in groups (layouts share some).
    pub columns: &'static [&'static [Column]],
    /// Values of its question column and the question each stands for.
    pub question_values: &'static [(&'static str, Asks)],
    /// Date formats tried in order (`|`-separated, see `parse_date`) unless the source sets one.
    pub date_format: Option<&'static str>,
}

const fn col(header: &'static str, target: Target, required: bool) -> Column {
    Column { header, target, required }
}

use Target::{Carried, Field, Text};

/// Demographic and extra columns of both experiencesdashboard layouts.
const DASHBOARD_PEOPLE: &[Column] = &[
    col("sex", Field("sex"), false),
    col("gender", Field("gender"), false),
    col("age", Field("age_band"), false),
    col("ethnicity", Field("ethnicity"), false),
    col("sexuality", Field("sexuality"), false),
    col("disability", Field("disability"), false),
    col("religion", Field("religion"), false),
    col("extra_variable_1", Carried, false),
    col("extra_variable_2", Carried, false),
    col("extra_variable_3", Carried, false),
];

const UPLOAD: Layout = Layout {
    name: "experiencesdashboard-upload",
    description: "experiencesdashboard (NHS R Shiny app) upload template: one row per response, two comment columns",
    columns: &[
        &[
            col("date", Field("received_date"), true),
            col("location_1", Field("org_level_1"), false),
            col("location_2", Field("org_level_2"), false),
            col("location_3", Field("org_level_3"), false),
            col("fft_score", Field("rating"), false),
            col("question_1", Text(Asks::Slot("question_1")), true),
            col("question_2", Text(Asks::Slot("question_2")), false),
        ],
        DASHBOARD_PEOPLE,
    ],
    question_values: &[],
    date_format: Some("%Y-%m-%d|%d/%m/%Y"),
};

const DB: Layout = Layout {
    name: "experiencesdashboard-db",
    description: "experiencesdashboard database table: one row per comment",
    columns: &[
        &[
            col("comment_id", Field("record_id"), true),
            col("date", Field("received_date"), true),
            col("pt_id", Field("response_id"), true),
            col("location_1", Field("org_level_1"), false),
            col("location_2", Field("org_level_2"), false),
            col("location_3", Field("org_level_3"), false),
            col("comment_type", Field("question"), true),
            col("comment_txt", Field("text"), true),
            col("fft", Field("rating"), false),
        ],
        DASHBOARD_PEOPLE,
        &[col("category", Carried, false), col("super_category", Carried, false), col("sentiment", Carried, false)],
    ],
    question_values: &[
        ("question_1", Asks::Slot("question_1")),
        ("question_2", Asks::Slot("question_2")),
        ("comment_1", Asks::Slot("question_1")),
        ("comment_2", Asks::Slot("question_2")),
    ],
    date_format: Some("%Y-%m-%d|%d/%m/%Y"),
};

const FFT_LABELLED: Layout = Layout {
    name: "fft-labelled",
    description: "labelled FFT export (pxtextmining): one row per comment, label columns after the answer",
    columns: &[&[
        col("Comment ID", Field("record_id"), true),
        col("Trust", Field("org_level_1"), false),
        col("Respondent ID", Field("response_id"), true),
        col("Date", Field("received_date"), true),
        col("Service type 1", Field("org_level_2"), false),
        col("Service type 2", Field("org_level_3"), false),
        col("FFT categorical answer", Field("rating"), true),
        col("FFT question", Field("question"), true),
        col("FFT answer", Field("text"), true),
    ]],
    question_values: &[(
        "Please describe any things about the 111 service that you were particularly satisfied and/or dissatisfied with",
        Asks::Fixed(Question::Nonspecific),
    )],
    // the export mixes dd/mm/yyyy with m/d/yyyy: a date that cannot be day-first is month-first
    date_format: Some("%d/%m/%Y|%m/%d/%Y|%Y-%m-%d"),
};

pub(crate) const CANONICAL: Layout = Layout {
    name: "canonical",
    description: "canonical column names, recognised without any mapping (case and punctuation ignored)",
    columns: &[],
    question_values: &[],
    date_format: None,
};

impl Layout {
    /// Its columns in order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &'static Column> {
        self.columns.iter().flat_map(|g| g.iter())
    }
}

/// Every layout, `canonical` first.
pub(crate) const LAYOUTS: [&Layout; 4] = [&CANONICAL, &UPLOAD, &DB, &FFT_LABELLED];

/// The layout of this name.
#[must_use]
pub(crate) fn find(name: &str) -> Option<&'static Layout> {
    LAYOUTS.iter().copied().find(|l| l.name == name)
}

/// The names, for messages.
#[must_use]
pub(crate) fn names() -> String {
    LAYOUTS.iter().map(|l| l.name).collect::<Vec<_>>().join(", ")
}
