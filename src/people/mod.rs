//! People: raw demographic values to groups, and population baselines.
//!
//! Three absent values stay distinct: [`MISSING`] (the field was empty, or "not known / not
//! recorded"), [`NOT_STATED`] (the person was asked and chose not to say) and [`UNMAPPED`] (a
//! value no mapping knows). [`harmonise`] maps raw values (wordings, NHS Data Dictionary codes,
//! ages and bands) to groups; [`baseline`] reads population baselines and checks them against
//! the records' groups.

pub mod baseline;
pub mod groups;
pub mod harmonise;
pub mod setup;

pub use groups::{
    field_issues, group_records, publishable, unmapped_shares, unmapped_values, DimValues, Groups, ValueCounts,
    UNMAPPED_WARN_SHARE,
};
pub use setup::{age_bands, baseline_populations, harmoniser, AgeBands};

/// The field was empty, or the value is "not known".
pub const MISSING: &str = "missing";
/// The person chose not to say.
pub const NOT_STATED: &str = "not_stated";
/// A value no mapping knows.
pub const UNMAPPED: &str = "unmapped";
