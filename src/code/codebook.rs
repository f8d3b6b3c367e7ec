//! The codebook: TOML rules compiled into one trie over stems.
//!
//! A term is one or more words; each word is normalised and stemmed like the text, so
//! `"waiting times"` matches "Waited time" and "WAITING TIME". A word ending in `*` matches
//! any word that starts with it (before stemming). A theme's `exclude` terms veto include
//! matches they overlap (`"waiting room"` keeps "wait" out of Timeliness). `questions`
//! limits a theme to some questions.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::record::Question;
use crate::text::{char_offset, Analyzer, Tokens};

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
    exclude: Vec<String>,
    #[serde(default)]
    questions: Vec<String>,
}

/// A codebook error, naming the file, the line and the theme.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{file}: line {line}: {}{message}", theme.as_ref().map(|t| format!("theme {t}: ")).unwrap_or_default())]
pub struct CodebookError {
    /// File (or `<builtin>`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// Theme code, when the error is in a theme.
    pub theme: Option<String>,
    /// What is wrong.
    pub message: String,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Elem {
    Stem(u32),
    Prefix(u32),
}

#[derive(Debug, Clone)]
struct Pattern {
    theme: u16,
    exclude: bool,
    len: usize,
    term: String,
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
    analyzer: Analyzer,
    vocab: HashMap<String, u32>,
    prefixes: Vec<String>,
    /// trie: (node, elem) -> node; node 0 is the root
    edges: HashMap<(u32, Elem), u32>,
    /// patterns ending at a node
    accepts: HashMap<u32, Vec<u32>>,
    patterns: Vec<Pattern>,
    has_excludes: bool,
}

/// A theme found in a text, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeHit {
    /// Index into [`Codebook::themes`].
    pub theme: u16,
    /// How many rule matches (after exclusions).
    pub hits: u32,
    /// The first matching rule, as written.
    pub rule: String,
    /// The respondent's words of every match, `; `-separated, in text order.
    pub matched: String,
    /// Character span of the first match in the original text (start inclusive, end exclusive).
    pub span: (u32, u32),
}

/// Per-worker scratch space for coding (clone one per thread).
#[derive(Debug, Default, Clone)]
pub struct Coder {
    tokens: Tokens,
    elems: Vec<(u32, Elem)>,
    found: Vec<(u32, u32, u32)>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

impl Codebook {
    /// Loads a codebook file.
    ///
    /// # Errors
    /// Unreadable file, bad TOML, or an invalid theme.
    pub fn from_file(path: &Path) -> Result<Codebook, CodebookError> {
        let text = std::fs::read_to_string(path).map_err(|e| CodebookError {
            file: path.display().to_string(),
            line: 1,
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
        let mut book = Codebook {
            name: parsed.codebook.name,
            version: parsed.codebook.version,
            sha256: crate::ingest::hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
            themes: Vec::new(),
            analyzer,
            vocab: HashMap::new(),
            prefixes: Vec::new(),
            edges: HashMap::new(),
            accepts: HashMap::new(),
            patterns: Vec::new(),
            has_excludes: false,
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
            if def.terms.is_empty() {
                return Err(err("the theme has no terms, so it can never fire".to_owned()));
            }
            let questions = def
                .questions
                .iter()
                .map(|q| Question::parse(q).ok_or_else(|| err(format!("unknown question {q:?}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let theme = u16::try_from(book.themes.len()).map_err(|_| err("more than 65,535 themes".to_owned()))?;
            for (exclude, term) in def.terms.iter().map(|t| (false, t)).chain(def.exclude.iter().map(|t| (true, t))) {
                let elems = book.compile_term(term).ok_or_else(|| err(format!("term {term:?} has no words")))?;
                let mut node = 0u32;
                for e in &elems {
                    node = *book.edges.entry((node, *e)).or_insert_with(|| {
                        next_node += 1;
                        next_node - 1
                    });
                }
                let id = u32::try_from(book.patterns.len()).unwrap_or(u32::MAX);
                book.patterns.push(Pattern { theme, exclude, len: elems.len(), term: term.clone() });
                book.accepts.entry(node).or_default().push(id);
                book.has_excludes |= exclude;
            }
            book.themes.push(Theme {
                code: def.code.clone(),
                name: def.name.clone(),
                category: def.category.clone(),
                description: def.description.clone().unwrap_or_default(),
                framework: def.framework.clone().unwrap_or_default(),
                questions,
                terms: def.terms.clone(),
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

    fn compile_term(&mut self, term: &str) -> Option<Vec<Elem>> {
        let mut elems = Vec::new();
        for word in term.split_whitespace() {
            if let Some(prefix) = word.strip_suffix('*') {
                let p = Analyzer::normalize_word(prefix).into_owned();
                if p.is_empty() {
                    return None;
                }
                let idx = self.prefixes.iter().position(|x| *x == p).unwrap_or_else(|| {
                    self.prefixes.push(p);
                    self.prefixes.len() - 1
                });
                elems.push(Elem::Prefix(u32::try_from(idx).unwrap_or(u32::MAX)));
            } else {
                for stem in self.analyzer.stems_of(word) {
                    let n = u32::try_from(self.vocab.len()).unwrap_or(u32::MAX);
                    elems.push(Elem::Stem(*self.vocab.entry(stem).or_insert(n)));
                }
            }
        }
        (!elems.is_empty()).then_some(elems)
    }

    /// The analyzer the codebook was compiled with.
    #[must_use]
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Codes one text. Themes come out in codebook order.
    pub fn code(&self, text: &str, question: Question, coder: &mut Coder) -> Vec<ThemeHit> {
        let Coder { tokens, elems, found } = coder;
        self.analyzer.analyze(text, tokens);
        // elements of each token: its stem id (if the codebook knows it) and prefix matches
        elems.clear();
        for i in 0..tokens.len() {
            let pos = i as u32;
            if let Some(&id) = self.vocab.get(tokens.stem(i)) {
                elems.push((pos, Elem::Stem(id)));
            }
            if !self.prefixes.is_empty() {
                let w = tokens.word(i);
                for (p, prefix) in self.prefixes.iter().enumerate() {
                    if w.starts_with(prefix.as_str()) {
                        elems.push((pos, Elem::Prefix(p as u32)));
                    }
                }
            }
        }
        // walk the trie from every token position
        found.clear();
        let mut frontier: Vec<u32> = Vec::new();
        let mut next: Vec<u32> = Vec::new();
        let mut start_idx = 0;
        while start_idx < elems.len() {
            let start = elems[start_idx].0;
            frontier.clear();
            frontier.push(0);
            let mut pos = start;
            let mut k = start_idx;
            loop {
                next.clear();
                while k < elems.len() && elems[k].0 == pos {
                    let e = elems[k].1;
                    for &node in &frontier {
                        if let Some(&n) = self.edges.get(&(node, e)) {
                            next.push(n);
                            if let Some(ps) = self.accepts.get(&n) {
                                for &p in ps {
                                    found.push((p, start, pos + 1));
                                }
                            }
                        }
                    }
                    k += 1;
                }
                if next.is_empty() || k >= elems.len() || elems[k].0 != pos + 1 {
                    break;
                }
                std::mem::swap(&mut frontier, &mut next);
                pos += 1;
            }
            while start_idx < elems.len() && elems[start_idx].0 == start {
                start_idx += 1;
            }
        }
        // exclusions veto overlapping includes of the same theme
        let mut hits: Vec<ThemeHit> = Vec::new();
        found.sort_unstable_by_key(|&(p, s, _)| (self.patterns[p as usize].theme, s, p));
        for &(p, s, e) in found.iter() {
            let pat = &self.patterns[p as usize];
            if pat.exclude {
                continue;
            }
            let theme = &self.themes[pat.theme as usize];
            if !theme.questions.is_empty() && !theme.questions.contains(&question) {
                continue;
            }
            if self.has_excludes
                && found.iter().any(|&(q, qs, qe)| {
                    let qp = &self.patterns[q as usize];
                    qp.exclude && qp.theme == pat.theme && qs < e && s < qe
                })
            {
                continue;
            }
            let (bs, _) = tokens.span(s as usize);
            let (_, be) = tokens.span(e as usize - 1);
            let words = &text[bs..be];
            match hits.last_mut() {
                Some(h) if h.theme == pat.theme => {
                    h.hits += 1;
                    h.matched.push_str("; ");
                    h.matched.push_str(words);
                }
                _ => {
                    let cs = char_offset(text, bs);
                    let ce = cs + text[bs..be].chars().count();
                    hits.push(ThemeHit {
                        theme: pat.theme,
                        hits: 1,
                        rule: pat.term.clone(),
                        matched: words.to_owned(),
                        span: (cs as u32, ce as u32),
                    });
                }
            }
            let _ = pat.len;
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &str = r#"
[codebook]
name = "test"
version = "1"

[[theme]]
code = "WAIT01"
name = "Waiting"
category = "Access"
terms = ["wait", "waiting times", "took ages", "delay*"]
exclude = ["waiting room"]

[[theme]]
code = "STF01"
name = "Staff manner"
category = "Staff"
terms = ["rude", "friendly", "lovely staff"]

[[theme]]
code = "IMP01"
name = "Improvement only"
category = "Other"
terms = ["parking"]
questions = ["could_improve"]
"#;

    fn code(text: &str, q: Question) -> Vec<(String, u32, String, (u32, u32))> {
        let book = Codebook::from_toml(BOOK, "test.toml").unwrap();
        book.code(text, q, &mut Coder::default())
            .into_iter()
            .map(|h| (book.themes[h.theme as usize].code.clone(), h.hits, h.matched, h.span))
            .collect()
    }

    #[test]
    fn multi_label_with_evidence() {
        let got = code("Lovely staff but the WAIT was long 😡 and delays", Question::Nonspecific);
        assert_eq!(
            got,
            vec![
                ("WAIT01".to_owned(), 2, "WAIT; delays".to_owned(), (21, 25)),
                ("STF01".to_owned(), 1, "Lovely staff".to_owned(), (0, 12)),
            ]
        );
    }

    #[test]
    fn phrases_need_consecutive_stems_and_excludes_veto() {
        assert_eq!(code("sat in the waiting room", Question::Nonspecific), vec![]);
        let got = code("waiting times were long", Question::Nonspecific);
        assert_eq!(got[0].1, 2, "both `wait` and `waiting times` match: {got:?}");
        assert_eq!(code("lovely nice staff", Question::Nonspecific).len(), 0, "a phrase needs its stems in a row");
    }

    #[test]
    fn question_scope() {
        assert!(code("parking was hard", Question::WhatGood).is_empty());
        assert_eq!(code("parking was hard", Question::CouldImprove).len(), 1);
    }

    #[test]
    fn errors_name_line_and_theme() {
        let bad = "[codebook]\nname='x'\nversion='1'\n\n[[theme]]\ncode='A01'\nname='a'\ncategory='c'\nterms=['x']\n\n[[theme]]\ncode='A01'\nname='b'\ncategory='c'\nterms=['y']\n";
        let err = Codebook::from_toml(bad, "cb.toml").unwrap_err();
        assert_eq!(err.line, 11);
        assert_eq!(err.theme.as_deref(), Some("A01"));
        let bad_key = "[codebook]\nname='x'\nversion='1'\n[[theme]]\ncode='A01'\nname='a'\ncategory='c'\nterms=['x']\nterm=['y']\n";
        let err = Codebook::from_toml(bad_key, "cb.toml").unwrap_err();
        assert_eq!(err.line, 9, "{err}");
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
