//! Output: Parquet to one BI-safe profile, the atomic commit of a run, the manifest.
//! Computes no statistics.

pub mod commit;
pub mod parquet;
pub mod tables;

pub use commit::Staging;
pub use parquet::{write_table, Col, ColumnData, OutputError, Table};
