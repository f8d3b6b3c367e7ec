//! People: raw demographic values to groups, and population baselines.
//!
//! Three absent values stay distinct: [`MISSING`] (the field was empty), [`NOT_STATED`]
//! (the person chose not to say) and [`UNMAPPED`] (a value no mapping knows).
//! This first version keeps stated values as written (trimmed, whitespace folded) and
//! recognises the common not-stated wordings; full harmonisation to Census 2021 groups
//! builds on it.

pub mod baseline;
pub mod harmonise;

/// The field was empty.
pub const MISSING: &str = "missing";
/// The person chose not to say.
pub const NOT_STATED: &str = "not_stated";
/// A value no mapping knows.
pub const UNMAPPED: &str = "unmapped";

/// The group of a raw value.
#[must_use]
pub fn group_of(raw: Option<&str>) -> String {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return MISSING.to_owned();
    };
    let key: String = raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    match key.as_str() {
        "" | "na" | "null" | "none" | "missing" => MISSING.to_owned(),
        "prefernottosay" | "notstated" | "declined" | "notknown" | "unknown" | "z" | "99" | "refused"
        | "notdisclosed" | "prefernotto" | "dontknow" | "notsaid" => NOT_STATED.to_owned(),
        _ => raw.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_values_stay_distinct() {
        assert_eq!(group_of(None), MISSING);
        assert_eq!(group_of(Some("  ")), MISSING);
        assert_eq!(group_of(Some("Prefer not to say")), NOT_STATED);
        assert_eq!(group_of(Some("Z")), NOT_STATED);
        assert_eq!(group_of(Some(" White   British ")), "White British");
    }
}
