//! Analyse: every statistic, computed on polars frames. Reads no files.

pub mod common;
pub mod counts;
pub mod differencing;
pub mod ranking;
pub mod representation;
pub mod setup;
pub mod stats;
pub mod theme_by_group;
pub mod underheard;
pub mod who;

/// Analysis errors (polars reports its own).
#[derive(Debug, thiserror::Error)]
pub enum AnalyseError {
    /// polars failed.
    #[error("analysis failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
}
