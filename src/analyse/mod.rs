//! Analyse: every statistic, computed on polars frames. Reads no files.

pub mod counts;
pub mod differencing;
pub mod setup;
pub mod stats;
pub mod who;

/// Analysis errors (polars reports its own).
#[derive(Debug, thiserror::Error)]
pub enum AnalyseError {
    /// polars failed.
    #[error("analysis failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
}
