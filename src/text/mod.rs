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

/// Characters that show nothing: zero-width spaces and (non-)joiners, a word joiner, a byte-order
/// mark, a soft hyphen. Pasted text and web forms put them inside words and numbers; every
/// reader of text (the blank-comment check, the redactor, the analyzer) reads past them.
#[must_use]
#[inline]
pub(crate) fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}')
}

/// Words that say nothing alone (sorted): an emerging term made of these only is not counted,
/// and a codebook term of one of them is linted.
pub(crate) const STOP_WORDS: [&str; 60] = [
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by",
    "can", "could", "did", "do", "for", "from", "had", "has", "have", "he", "her", "i", "if", "in", "is", "it", "just",
    "me", "my", "no", "not", "of", "on", "or", "our", "she", "so", "that", "the", "their", "them", "there", "they",
    "this", "to", "very", "was", "we", "were", "what", "when", "with", "would", "you",
];
