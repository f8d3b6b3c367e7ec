//! People: raw demographic values to groups, and population baselines.
//!
//! Three absent values stay distinct: [`MISSING`] (the field was empty, or "not known / not
//! recorded"), [`NOT_STATED`] (the person was asked and chose not to say) and [`UNMAPPED`] (a
//! value no mapping knows). [`harmonise`] maps raw values (wordings, NHS Data Dictionary codes,
//! ages and bands) to groups; [`baseline`] reads population baselines and checks them against
//! the records' groups.

pub(crate) mod baseline;
pub(crate) mod groups;
pub(crate) mod harmonise;
pub(crate) mod setup;

pub(crate) use groups::{field_issues, publishable, raw_values, unmapped_shares, unmapped_values, Groups};
pub(crate) use setup::{age_bands, ages_written, baseline_populations, harmoniser, AgeBands};

/// The field was empty, or the value is "not known".
pub(crate) const MISSING: &str = "missing";
/// The person chose not to say.
pub(crate) const NOT_STATED: &str = "not_stated";
/// A value no mapping knows.
pub(crate) const UNMAPPED: &str = "unmapped";
