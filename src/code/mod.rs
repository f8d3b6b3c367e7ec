//! Code: turns text into themes. A [`Codebook`] of rules matched on stems, multi-label,
//! each theme with its evidence (the rule, the respondent's words, the character span); the
//! learned coder ([`model`]), whose themes join or replace the codebook's as `[coder] policy` says.

mod codebook;
pub(crate) mod engine;
pub mod model;
pub(crate) mod sentiment;

pub use codebook::{
    is_negator, Codebook, CodebookError, Coder, Finding, Improvement, Mention, Negation, Severity, Theme, ThemeHit,
};
pub use engine::{Coded, CodedTheme, Engine, Origin};
