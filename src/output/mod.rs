//! Output: Parquet to one BI-safe profile, the atomic commit of a run, the manifest
//! ([`manifest`]).
//! Computes no statistics.

pub(crate) mod commit;
pub mod interrupt;
pub mod manifest;
pub(crate) mod parquet;
pub(crate) mod report;
pub(crate) mod tables;
pub(crate) mod write;

pub use crate::table::{Col, ColumnData, Table};
pub use commit::{check_out, Holds, OutputLock, Staging};
pub use parquet::{write_table, OutputError};
