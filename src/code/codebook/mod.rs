//! The codebook: TOML rules compiled into one trie over stems.
//!
//! A term is one or more words; each word is normalised and stemmed like the text, so
//! `"waiting times"` matches "Waited time" and "WAITING TIME". A word ending in `*` matches
//! any word that starts with it (before stemming). `~N` between words allows up to N other
//! words in between (`"wait ~3 hours"` matches "waited nearly four hours"). A theme's
//! `exclude` terms veto include matches they overlap (`"waiting room"` keeps "wait" out of
//! Timeliness). `questions` limits a theme to some questions. A match preceded by a negator
//! ("no", "not", "never", "didn't", …) within the codebook's `negation_window` is marked
//! negated: with `negation = "polarity"` (the default) it still codes the theme and the
//! sentiment of its clause carries the negation; with `negation = "exclude"` it does not count.
//! `improvement` says which way is better for the theme: `decrease` (default: fewer mentions
//! is better) or `increase` (e.g. gratitude).

mod compile;
mod lint;
mod matcher;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use foldhash::fast::RandomState as Fast;
use serde::Deserialize;
use toml::Spanned;

use crate::record::Question;
use crate::text::{Analyzer, StemCache, Tokens};

pub use lint::{Finding, Severity};
pub use matcher::is_negator;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodebookFile {
    codebook: Header,
    #[serde(rename = "theme", default)]
    themes: Vec<Spanned<ThemeDef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    version: String,
    #[serde(default = "english")]
    language: String,
    description: Option<String>,
    negation_window: Option<usize>,
    short_answer_words: Option<usize>,
}

fn english() -> String {
    "english".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeDef {
    code: String,
    name: String,
    category: String,
    description: Option<String>,
    framework: Option<String>,
    #[serde(default)]
    terms: Vec<String>,
    #[serde(default)]
    short_terms: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    questions: Vec<String>,
    improvement: Option<String>,
    negation: Option<String>,
    notes: Option<String>,
}

/// A codebook error, naming the file, the line and the theme.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error(
    "{file}: {}{}{message}",
    if *line > 0 { format!("line {line}: ") } else { String::new() },
    theme.as_ref().map(|t| format!("theme {t}: ")).unwrap_or_default()
)]
pub struct CodebookError {
    /// File (or `<builtin>`).
    pub file: String,
    /// 1-based line (0: the file as a whole, which could not be read or is not a codebook).
    pub line: usize,
    /// Theme code, when the error is in a theme.
    pub theme: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Which way is better for a theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Improvement {
    /// Fewer mentions is better (most themes: they are raised as concerns).
    Decrease,
    /// More mentions is better (gratitude, praise).
    Increase,
}

impl Improvement {
    /// Name used in files and outputs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Improvement::Decrease => "decrease",
            Improvement::Increase => "increase",
        }
    }
}

/// What a negated match does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negation {
    /// It codes the theme; the polarity of its clause carries the negation.
    Polarity,
    /// It does not count.
    Exclude,
}

/// One theme of the codebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Stable code, e.g. `ACC03`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Category.
    pub category: String,
    /// Description.
    pub description: String,
    /// Framework the theme comes from (`v7`, `v6`, `inclusion`, …).
    pub framework: String,
    /// Questions it applies to (empty = all).
    pub questions: Vec<Question>,
    /// Include terms as written.
    pub terms: Vec<String>,
    /// Terms that count only in short answers.
    pub short_terms: Vec<String>,
    /// Exclude terms as written.
    pub exclude: Vec<String>,
    /// Which way is better.
    pub improvement: Improvement,
    /// What a negated match does.
    pub negation: Negation,
    /// Line of the theme in the codebook file.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Elem {
    Stem(u32),
    Prefix(u32),
}

#[derive(Debug, Clone)]
struct Pattern {
    theme: u16,
    exclude: bool,
    /// counts only in answers of at most this many words
    max_words: Option<usize>,
    term: String,
    /// the first segment is in the trie; each further segment may start up to `gap` words later
    rest: Vec<(usize, Vec<Elem>)>,
    /// every element, for the linter
    elems: Vec<Elem>,
}

/// A compiled codebook.
#[derive(Debug, Clone)]
pub struct Codebook {
    /// Name from the file.
    pub name: String,
    /// Version from the file.
    pub version: String,
    /// sha256 of the file's text.
    pub sha256: String,
    /// Themes, in file order.
    pub themes: Vec<Theme>,
    /// Words before a match that negate it.
    pub negation_window: usize,
    /// Longest answer, in words, in which `short_terms` count.
    pub short_answer_words: usize,
    file: String,
    analyzer: Analyzer,
    vocab: HashMap<String, u32, Fast>,
    prefixes: Vec<String>,
    /// prefix indices by the prefix's first byte
    prefix_index: Vec<Vec<u32>>,
    /// trie: the root's children by stem id and by prefix id (0: none; node 0 is the root)
    root_stems: Vec<u32>,
    root_prefixes: Vec<u32>,
    /// trie below the root: (node, elem) -> node
    edges: HashMap<(u32, Elem), u32, Fast>,
    /// patterns ending at each node, by node
    accepts: Vec<Vec<u32>>,
    patterns: Vec<Pattern>,
    has_excludes: bool,
    /// Tells compiled codebooks apart (clones share it), for the [`Coder`]'s memo of words.
    id: u64,
}

/// One counted match of a theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    /// Token range of the match.
    pub tokens: (u32, u32),
    /// A negator stands just before it.
    pub negated: bool,
}

/// A theme found in a text, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeHit {
    /// Index into [`Codebook::themes`].
    pub theme: u16,
    /// How many rule matches (after exclusions).
    pub hits: u32,
    /// The first matching rule, as written (inline when short: no allocation a hit).
    pub rule: crate::record::Str,
    /// The respondent's words of every match, `; `-separated, in text order.
    pub matched: crate::record::Str,
    /// Character span of the first match in the original text (start inclusive, end exclusive).
    pub span: (u32, u32),
    /// Every counted match, in text order (most themes are mentioned once or twice: inline).
    pub mentions: smallvec::SmallVec<[Mention; 2]>,
}

/// Per-worker scratch space for coding (clone one per thread).
#[derive(Debug, Default, Clone)]
pub struct Coder {
    /// The tokens of the last text coded.
    pub tokens: Tokens,
    /// Scratch space of a learned model.
    pub model: crate::code::model::Scratch,
    /// Words seen before and their stems.
    stems: StemCache,
    /// Words seen before and their elements in the codebook.
    memo: matcher::WordMemo,
    elems: Vec<(u32, Elem)>,
    starts: Vec<u32>,
    found: Vec<(u32, u32, u32)>,
    frontier: Vec<u32>,
    next: Vec<u32>,
}

/// The next [`Codebook`] id (0 is no codebook).
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

impl Codebook {
    /// Loads a codebook file.
    ///
    /// # Errors
    /// Unreadable file, bad TOML, or an invalid theme.
    pub fn from_file(path: &Path) -> Result<Codebook, CodebookError> {
        // (`--codebook export.csv` was read as TOML: "line 1: key with no value")
        if crate::files::is_data_file(path) {
            return Err(CodebookError {
                file: path.display().to_string(),
                line: 0,
                theme: None,
                message: "a data file, not a codebook (a .toml file: see pipelines/codebooks/README.md)".to_owned(),
            });
        }
        let text = crate::files::read_to_string(path).map_err(|e| CodebookError {
            file: path.display().to_string(),
            line: 0,
            theme: None,
            message: format!("cannot read codebook: {e}"),
        })?;
        Codebook::from_toml(&text, &path.display().to_string())
    }

    /// Compiles a codebook from TOML text; `file` names errors.
    ///
    /// # Errors
    /// Bad TOML, unknown keys, duplicate codes, unknown questions, empty terms.
    pub fn from_toml(text: &str, file: &str) -> Result<Codebook, CodebookError> {
        let parsed: CodebookFile = toml::from_str(text).map_err(|e| CodebookError {
            file: file.to_owned(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            theme: None,
            message: e.message().trim().replace('\n', "; "),
        })?;
        let analyzer = Analyzer::for_language(&parsed.codebook.language).ok_or_else(|| CodebookError {
            file: file.to_owned(),
            line: 1,
            theme: None,
            message: format!("unknown language {:?}", parsed.codebook.language),
        })?;
        // names and categories are written out (every table that names a theme, the manifest):
        // redacted as they are read (`themes` alone wrote them redacted: found by a reader in the
        // twenty-sixth session on issue 9)
        let scrub = crate::text::redact::scrubbed;
        let mut book = Codebook {
            name: scrub(&parsed.codebook.name),
            version: parsed.codebook.version,
            sha256: format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
            themes: Vec::new(),
            negation_window: parsed.codebook.negation_window.unwrap_or(3),
            short_answer_words: parsed.codebook.short_answer_words.unwrap_or(6),
            file: file.to_owned(),
            analyzer,
            vocab: HashMap::default(),
            prefixes: Vec::new(),
            prefix_index: vec![Vec::new(); 256],
            root_stems: Vec::new(),
            root_prefixes: Vec::new(),
            edges: HashMap::default(),
            accepts: Vec::new(),
            patterns: Vec::new(),
            has_excludes: false,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
        let _ = parsed.codebook.description;
        let mut codes = BTreeSet::new();
        let mut next_node = 1u32;
        for spanned in &parsed.themes {
            let line = line_of(text, spanned.span().start);
            let def = spanned.get_ref();
            let err =
                |message: String| CodebookError { file: file.to_owned(), line, theme: Some(def.code.clone()), message };
            if def.code.is_empty()
                || !def.code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(err("a code is capital letters and digits, e.g. ACC03".to_owned()));
            }
            if !codes.insert(def.code.clone()) {
                return Err(err("this code is used by an earlier theme".to_owned()));
            }
            if def.terms.is_empty() && def.short_terms.is_empty() {
                return Err(err("the theme has no terms, so it can never fire".to_owned()));
            }
            let questions = def
                .questions
                .iter()
                .map(|q| Question::parse(q).ok_or_else(|| err(format!("unknown question {q:?}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let improvement = match def.improvement.as_deref() {
                None | Some("decrease") => Improvement::Decrease,
                Some("increase") => Improvement::Increase,
                Some(other) => {
                    return Err(err(format!("improvement {other:?}: expected \"decrease\" or \"increase\"")))
                }
            };
            let negation = match def.negation.as_deref() {
                None | Some("polarity") => Negation::Polarity,
                Some("exclude") => Negation::Exclude,
                Some(other) => return Err(err(format!("negation {other:?}: expected \"polarity\" or \"exclude\""))),
            };
            let _ = &def.notes;
            let theme = u16::try_from(book.themes.len()).map_err(|_| err("more than 65,535 themes".to_owned()))?;
            let short = book.short_answer_words;
            let all = def
                .terms
                .iter()
                .map(|t| (false, None, t))
                .chain(def.short_terms.iter().map(|t| (false, Some(short), t)))
                .chain(def.exclude.iter().map(|t| (true, None, t)));
            for (exclude, max_words, term) in all {
                book.add_term(theme, exclude, max_words, term, &mut next_node)
                    .map_err(|m| err(format!("term {term:?}{m}")))?;
            }
            book.themes.push(Theme {
                code: def.code.clone(),
                name: scrub(&def.name),
                category: scrub(&def.category),
                description: scrub(def.description.as_deref().unwrap_or_default()),
                framework: def.framework.clone().unwrap_or_default(),
                questions,
                terms: def.terms.clone(),
                short_terms: def.short_terms.clone(),
                exclude: def.exclude.clone(),
                improvement,
                negation,
                line,
            });
        }
        if book.themes.is_empty() {
            return Err(CodebookError {
                file: file.to_owned(),
                line: 1,
                theme: None,
                message: "the codebook has no [[theme]]".to_owned(),
            });
        }
        Ok(book)
    }

    /// The analyzer the codebook was compiled with.
    #[must_use]
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The file the codebook was read from.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_and_theme() {
        let bad = "[codebook]\nname='x'\nversion='1'\n\n[[theme]]\ncode='A01'\nname='a'\ncategory='c'\nterms=['x']\n\n[[theme]]\ncode='A01'\nname='b'\ncategory='c'\nterms=['y']\n";
        let err = Codebook::from_toml(bad, "cb.toml").unwrap_err();
        assert_eq!(err.line, 11);
        assert_eq!(err.theme.as_deref(), Some("A01"));
        let bad_key = "[codebook]\nname='x'\nversion='1'\n[[theme]]\ncode='A01'\nname='a'\ncategory='c'\nterms=['x']\nterm=['y']\n";
        let err = Codebook::from_toml(bad_key, "cb.toml").unwrap_err();
        assert_eq!(err.line, 9, "{err}");
        let bad_gap =
            "[codebook]\nname='x'\nversion='1'\n[[theme]]\ncode='A01'\nname='a'\ncategory='c'\nterms=['~2 wait']\n";
        let err = Codebook::from_toml(bad_gap, "cb.toml").unwrap_err();
        assert!(err.to_string().contains("cb.toml: line 4: theme A01: term \"~2 wait\""), "{err}");
    }
    #[test]
    fn builtin_codebook_compiles_and_covers_the_framework() {
        let book = Codebook::from_toml(crate::config::DEFAULT_CODEBOOK, "<builtin>").unwrap();
        let framework = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/framework-v7-subcategories.txt"
        ))
        .unwrap();
        for name in framework.lines().filter(|l| !l.trim().is_empty()) {
            assert!(book.themes.iter().any(|t| t.name == name.trim()), "no theme for framework sub-category {name:?}");
        }
    }
}
