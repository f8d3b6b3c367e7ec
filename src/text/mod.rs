//! Text: one analyzer that normalises, splits into words and stems, keeping offsets into
//! the original text so that every theme hit points back at the respondent's own words.
//!
//! ```
//! use unheard::text::Analyzer;
//! let analyzer = Analyzer::english();
//! let mut tokens = unheard::text::Tokens::default();
//! analyzer.analyze("The nurses were LOVELY", &mut tokens);
//! assert_eq!(tokens.len(), 4);
//! assert_eq!(tokens.stem(1), "nurs");
//! assert_eq!(tokens.span(3), (16, 22)); // byte offsets of "LOVELY"
//! ```

mod analyzer;
pub mod hf;
pub(crate) mod informative;
pub mod redact;

pub use analyzer::{char_offset, Analyzer, StemCache, Tokens, ANALYZER_ID};
