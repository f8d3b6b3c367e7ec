//! Pipeline configuration: a TOML file ([`options`]) resolved once into [`Settings`].
//!
//! Stages only ever see `&Settings`. Paths in a pipeline file are relative to that file.
//! Every error names the file, the line and the key.

pub(crate) mod layouts;
pub(crate) mod options;
mod settings;

pub(crate) use settings::iso_date;
pub(crate) use settings::{
    date_format_valid, parse_delimiter, DEFAULT_MAX_GROUPS, DEFAULT_MAX_PAIRS, MONTHS_OF_THE_DEFAULT,
    THEMES_OF_THE_DEFAULT,
};
pub use settings::{
    AnalysisSettings, BaselineSettings, Carry, Change, CodebookSource, CoderSettings, ConfigError, DateFormat,
    DateWindow, Encoding, Format, OnInvalid, Overrides, Policy, Settings, SourceSettings, SpcChart, SpcPeriod,
    DEFAULT_CODEBOOK, DEFAULT_MAX_FIELD_CHARS, ON_INVALID_FIELDS,
};
