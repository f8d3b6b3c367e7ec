//! Analyse: every statistic, computed on polars frames. Reads no files.

pub(crate) mod common;
pub mod comparisons;
pub mod cooccurrence;
pub mod counts;
pub(crate) mod differencing;
pub mod emerging;
pub mod quotes;
pub(crate) mod ranking;
pub(crate) mod representation;
pub(crate) mod setup;
pub mod spc;
pub(crate) mod stats;
pub(crate) mod theme_by_group;
pub(crate) mod underheard;
pub mod who;

/// Analysis errors (polars reports its own).
#[derive(Debug, thiserror::Error)]
pub enum AnalyseError {
    /// polars failed.
    #[error("analysis failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
}
