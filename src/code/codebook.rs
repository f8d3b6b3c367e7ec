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

use std::collections::{BTreeSet, HashMap};

use foldhash::fast::RandomState as Fast;
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
    /// trie: (node, elem) -> node; node 0 is the root
    edges: HashMap<(u32, Elem), u32, Fast>,
    /// patterns ending at a node
    accepts: HashMap<u32, Vec<u32>, Fast>,
    patterns: Vec<Pattern>,
    has_excludes: bool,
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
    /// The first matching rule, as written.
    pub rule: String,
    /// The respondent's words of every match, `; `-separated, in text order.
    pub matched: String,
    /// Character span of the first match in the original text (start inclusive, end exclusive).
    pub span: (u32, u32),
    /// Every counted match, in text order.
    pub mentions: Vec<Mention>,
}

/// Per-worker scratch space for coding (clone one per thread).
#[derive(Debug, Default, Clone)]
pub struct Coder {
    /// The tokens of the last text coded.
    pub tokens: Tokens,
    /// Scratch space of a learned model.
    pub model: crate::code::model::Scratch,
    elems: Vec<(u32, Elem)>,
    starts: Vec<u32>,
    found: Vec<(u32, u32, u32)>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Is this normalised word a negator?
#[must_use]
pub fn is_negator(word: &str) -> bool {
    matches!(
        word,
        "no" | "not"
            | "never"
            | "nothing"
            | "none"
            | "nobody"
            | "noone"
            | "without"
            | "hardly"
            | "neither"
            | "nor"
            | "cannot"
    ) || word.ends_with("n't")
        || matches!(
            word,
            "dont"
                | "didnt"
                | "cant"
                | "wasnt"
                | "werent"
                | "couldnt"
                | "wouldnt"
                | "wont"
                | "isnt"
                | "arent"
                | "doesnt"
                | "hasnt"
                | "havent"
        )
}

impl Codebook {
    /// Loads a codebook file.
    ///
    /// # Errors
    /// Unreadable file, bad TOML, or an invalid theme.
    pub fn from_file(path: &Path) -> Result<Codebook, CodebookError> {
        let text = crate::files::read_to_string(path).map_err(|e| CodebookError {
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
            sha256: format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
            themes: Vec::new(),
            negation_window: parsed.codebook.negation_window.unwrap_or(3),
            short_answer_words: parsed.codebook.short_answer_words.unwrap_or(6),
            file: file.to_owned(),
            analyzer,
            vocab: HashMap::default(),
            prefixes: Vec::new(),
            prefix_index: vec![Vec::new(); 256],
            edges: HashMap::default(),
            accepts: HashMap::default(),
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
                let segments = book.compile_term(term).map_err(|m| err(format!("term {term:?}: {m}")))?;
                let mut segs = segments.into_iter();
                let (_, first) = segs.next().ok_or_else(|| err(format!("term {term:?} has no words")))?;
                let mut node = 0u32;
                for e in &first {
                    node = *book.edges.entry((node, *e)).or_insert_with(|| {
                        next_node += 1;
                        next_node - 1
                    });
                }
                let rest: Vec<(usize, Vec<Elem>)> = segs.collect();
                let elems = first.iter().chain(rest.iter().flat_map(|(_, s)| s.iter())).copied().collect();
                let id = u32::try_from(book.patterns.len()).unwrap_or(u32::MAX);
                book.patterns.push(Pattern { theme, exclude, max_words, term: term.clone(), rest, elems });
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

    /// Compiles a term into segments `(gap before, elements)`; the first gap is 0.
    fn compile_term(&mut self, term: &str) -> Result<Vec<(usize, Vec<Elem>)>, String> {
        let mut segments: Vec<(usize, Vec<Elem>)> = vec![(0, Vec::new())];
        for word in term.split_whitespace() {
            if let Some(n) = word.strip_prefix('~') {
                let gap: usize = n.parse().map_err(|_| format!("{word:?} is not a gap: write ~N, e.g. ~3"))?;
                if segments.last().is_some_and(|s| s.1.is_empty()) {
                    return Err("a gap ~N must stand between two words".to_owned());
                }
                segments.push((gap, Vec::new()));
            } else if let Some(prefix) = word.strip_suffix('*') {
                let p = Analyzer::normalize_word(prefix).into_owned();
                if p.is_empty() {
                    return Err("a wildcard needs a prefix, e.g. recept*".to_owned());
                }
                let idx = self.prefixes.iter().position(|x| *x == p).unwrap_or_else(|| {
                    self.prefix_index[usize::from(p.as_bytes()[0])].push(self.prefixes.len() as u32);
                    self.prefixes.push(p);
                    self.prefixes.len() - 1
                });
                if let Some(s) = segments.last_mut() {
                    s.1.push(Elem::Prefix(u32::try_from(idx).unwrap_or(u32::MAX)))
                }
            } else {
                for stem in self.analyzer.stems_of(word) {
                    let n = u32::try_from(self.vocab.len()).unwrap_or(u32::MAX);
                    let id = *self.vocab.entry(stem).or_insert(n);
                    if let Some(s) = segments.last_mut() {
                        s.1.push(Elem::Stem(id))
                    }
                }
            }
        }
        if segments.iter().any(|s| s.1.is_empty()) {
            return Err(if segments.len() == 1 {
                "it has no words".to_owned()
            } else {
                "a gap ~N must stand between two words".to_owned()
            });
        }
        Ok(segments)
    }

    /// The analyzer the codebook was compiled with.
    #[must_use]
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Does token `pos` carry element `e`?
    fn has(elems: &[(u32, Elem)], starts: &[u32], pos: usize, e: Elem) -> bool {
        match (starts.get(pos), starts.get(pos + 1)) {
            (Some(&a), Some(&b)) => elems[a as usize..b as usize].iter().any(|&(_, x)| x == e),
            _ => false,
        }
    }

    /// Codes one text. Themes come out in codebook order; `coder.tokens` holds the text's
    /// tokens afterwards.
    pub fn code(&self, text: &str, question: Question, coder: &mut Coder) -> Vec<ThemeHit> {
        let Coder { tokens, elems, starts, found, .. } = coder;
        self.analyzer.analyze(text, tokens);
        // elements of each token: its stem id (if the codebook knows it) and prefix matches
        elems.clear();
        starts.clear();
        for i in 0..tokens.len() {
            starts.push(elems.len() as u32);
            let pos = i as u32;
            if let Some(&id) = self.vocab.get(tokens.stem(i)) {
                elems.push((pos, Elem::Stem(id)));
            }
            let w = tokens.word(i);
            if let Some(candidates) = w.as_bytes().first().map(|&b| &self.prefix_index[usize::from(b)]) {
                for &p in candidates {
                    if w.starts_with(self.prefixes[p as usize].as_str()) {
                        elems.push((pos, Elem::Prefix(p)));
                    }
                }
            }
        }
        starts.push(elems.len() as u32);
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
                                    if let Some(end) = self.extend(p, pos + 1, elems, starts) {
                                        found.push((p, start, end));
                                    }
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
        found.sort_unstable_by_key(|&(p, s, e)| (self.patterns[p as usize].theme, s, std::cmp::Reverse(e), p));
        for &(p, s, e) in found.iter() {
            let pat = &self.patterns[p as usize];
            if pat.exclude || pat.max_words.is_some_and(|m| tokens.len() > m) {
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
            let window_start = (s as usize).saturating_sub(self.negation_window);
            let negated = (window_start..s as usize).any(|i| is_negator(tokens.word(i)));
            if negated && theme.negation == Negation::Exclude {
                continue;
            }
            let mention = Mention { tokens: (s, e), negated };
            let (bs, _) = tokens.span(s as usize);
            let (_, be) = tokens.span(e as usize - 1);
            let words = &text[bs..be];
            match hits.last_mut() {
                Some(h) if h.theme == pat.theme => {
                    // two rules matching the same words are one mention
                    if h.mentions.iter().any(|m| m.tokens.0 < e && s < m.tokens.1) {
                        continue;
                    }
                    h.hits += 1;
                    h.matched.push_str("; ");
                    h.matched.push_str(words);
                    h.mentions.push(mention);
                }
                _ => {
                    let cs = char_offset(text, bs);
                    let ce = cs + words.chars().count();
                    hits.push(ThemeHit {
                        theme: pat.theme,
                        hits: 1,
                        rule: pat.term.clone(),
                        matched: words.to_owned(),
                        span: (cs as u32, ce as u32),
                        mentions: vec![mention],
                    });
                }
            }
        }
        hits
    }

    /// Matches the further segments of pattern `p` from token `pos`; returns the end.
    fn extend(&self, p: u32, mut pos: u32, elems: &[(u32, Elem)], starts: &[u32]) -> Option<u32> {
        let n = starts.len().saturating_sub(1);
        for (gap, seg) in &self.patterns[p as usize].rest {
            let found = (pos as usize..=(pos as usize + gap)).find(|&q| {
                q + seg.len() <= n && seg.iter().enumerate().all(|(j, &e)| Codebook::has(elems, starts, q + j, e))
            })?;
            pos = (found + seg.len()) as u32;
        }
        Some(pos)
    }

    /// Lints the codebook: duplicate or overlapping terms, themes that can never fire, terms
    /// whose stems may surprise their author.
    #[must_use]
    pub fn check(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let stems_by_id: HashMap<u32, &str> = self.vocab.iter().map(|(s, &i)| (i, s.as_str())).collect();
        let show = |elems: &[Elem]| -> String {
            elems
                .iter()
                .map(|e| match e {
                    Elem::Stem(i) => stems_by_id.get(i).copied().unwrap_or("?").to_owned(),
                    Elem::Prefix(i) => format!("{}*", self.prefixes[*i as usize]),
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut seen: HashMap<(bool, Vec<Elem>, Vec<usize>), (u16, &str)> = HashMap::new();
        for pat in &self.patterns {
            let gaps: Vec<usize> = pat.rest.iter().map(|r| r.0).collect();
            let theme = &self.themes[pat.theme as usize];
            let key = (pat.exclude, pat.elems.clone(), gaps);
            if let Some(&(other, other_term)) = seen.get(&key) {
                let ot = &self.themes[other as usize];
                let (severity, message) = if other == pat.theme {
                    (
                        Severity::Warning,
                        format!(
                            "term {:?} matches the same words as {other_term:?} (stems: {})",
                            pat.term,
                            show(&pat.elems)
                        ),
                    )
                } else {
                    (
                        Severity::Info,
                        format!(
                            "term {:?} also codes {} ({}) through {other_term:?}: the same words give both themes",
                            pat.term, ot.code, ot.name
                        ),
                    )
                };
                out.push(Finding { severity, theme: Some(theme.code.clone()), line: theme.line, message });
            } else {
                seen.insert(key, (pat.theme, &pat.term));
            }
            for (i, prefix) in self.prefixes.iter().enumerate() {
                if pat.elems.contains(&Elem::Prefix(i as u32)) && prefix.chars().count() < 3 {
                    out.push(Finding {
                        severity: Severity::Warning,
                        theme: Some(theme.code.clone()),
                        line: theme.line,
                        message: format!(
                            "term {:?}: the wildcard {prefix:?}* is shorter than 3 letters and will match many words",
                            pat.term
                        ),
                    });
                }
            }
            if !pat.exclude
                && pat.rest.is_empty()
                && pat.term.split_whitespace().count() == 1
                && !pat.term.ends_with('*')
            {
                let word = Analyzer::normalize_word(pat.term.trim()).into_owned();
                if let [Elem::Stem(id)] = pat.elems.as_slice() {
                    let stem = stems_by_id.get(id).copied().unwrap_or("");
                    if stem.chars().count() < 3 && stem != word {
                        out.push(Finding {
                            severity: Severity::Warning,
                            theme: Some(theme.code.clone()),
                            line: theme.line,
                            message: format!(
                                "term {:?} stems to {stem:?}, which is very short and may match unrelated words",
                                pat.term
                            ),
                        });
                    } else if !word.starts_with(stem) {
                        out.push(Finding {
                            severity: Severity::Info,
                            theme: Some(theme.code.clone()),
                            line: theme.line,
                            message: format!(
                                "term {:?} stems to {stem:?}: it matches every word with that stem",
                                pat.term
                            ),
                        });
                    }
                }
            }
        }
        // includes that an exclude of the same theme always vetoes
        for (t, theme) in self.themes.iter().enumerate() {
            let pats: Vec<&Pattern> = self.patterns.iter().filter(|p| p.theme as usize == t).collect();
            let includes: Vec<&&Pattern> = pats.iter().filter(|p| !p.exclude).collect();
            let vetoed = |inc: &Pattern| {
                pats.iter().any(|ex| {
                    ex.exclude && ex.rest.is_empty() && inc.rest.is_empty() && contains(&inc.elems, &ex.elems)
                })
            };
            let dead: Vec<&str> = includes.iter().filter(|p| vetoed(p)).map(|p| p.term.as_str()).collect();
            if !dead.is_empty() && dead.len() == includes.len() {
                out.push(Finding {
                    severity: Severity::Error,
                    theme: Some(theme.code.clone()),
                    line: theme.line,
                    message: "every term is vetoed by an exclude of the same theme: the theme can never fire"
                        .to_owned(),
                });
            } else {
                for term in dead {
                    out.push(Finding {
                        severity: Severity::Warning,
                        theme: Some(theme.code.clone()),
                        line: theme.line,
                        message: format!("term {term:?} can never fire: an exclude of the same theme covers it"),
                    });
                }
            }
        }
        out.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
        out
    }

    /// The file the codebook was read from.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }
}

/// Does `outer` contain `inner` as a run?
fn contains(inner: &[Elem], outer: &[Elem]) -> bool {
    !outer.is_empty() && inner.windows(outer.len()).any(|w| w == outer)
}

/// How serious a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// For information: the codebook works, but the author may want to know.
    Info,
    /// Probably a mistake.
    Warning,
    /// The codebook does not do what it says.
    Error,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Theme code.
    pub theme: Option<String>,
    /// Line of the theme.
    pub line: usize,
    /// What was found.
    pub message: String,
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
        assert_eq!(
            (got[0].1, got[0].2.as_str()),
            (1, "waiting times"),
            "`wait` and `waiting times` on the same words are one mention, the longer: {got:?}"
        );
        assert_eq!(code("lovely nice staff", Question::Nonspecific).len(), 0, "a phrase needs its stems in a row");
    }

    #[test]
    fn gaps_allow_words_in_between() {
        let book = Codebook::from_toml("[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='W1'\nname='w'\ncategory='c'\nterms=['wait ~3 hours']\n", "t").unwrap();
        let n = |t: &str| book.code(t, Question::Nonspecific, &mut Coder::default()).len();
        assert_eq!(n("waited nearly four long hours"), 1);
        assert_eq!(n("waited hours"), 1);
        assert_eq!(n("waited for a very long six hours"), 0, "more than 3 words between");
        assert_eq!(n("hours of waiting"), 0, "order matters");
    }

    #[test]
    fn negation_marks_or_excludes() {
        let book = Codebook::from_toml("[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='P1'\nname='p'\ncategory='c'\nterms=['pain']\nnegation='exclude'\n[[theme]]\ncode='S1'\nname='s'\ncategory='c'\nterms=['rude']\nimprovement='decrease'\n", "t").unwrap();
        let hits = book.code(
            "I was not in pain and the staff were not rude at all",
            Question::Nonspecific,
            &mut Coder::default(),
        );
        assert_eq!(hits.len(), 1, "the negated pain match is excluded: {hits:?}");
        assert_eq!(book.themes[hits[0].theme as usize].code, "S1");
        assert!(hits[0].mentions[0].negated);
        let hits = book.code("rude receptionist", Question::Nonspecific, &mut Coder::default());
        assert!(!hits[0].mentions[0].negated);
        assert_eq!(book.themes[1].improvement, Improvement::Decrease);
    }

    #[test]
    fn lint_finds_duplicates_overlaps_dead_terms_and_short_stems() {
        let text = "[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='A1'\nname='a'\ncategory='c'\nterms=['waiting', 'waited', 'awful', 'car park']\nexclude=['car park']\n[[theme]]\ncode='B1'\nname='b'\ncategory='c'\nterms=['wait', 'x*']\n";
        let book = Codebook::from_toml(text, "t").unwrap();
        let findings = book.check();
        let has = |sev: Severity, code: &str, needle: &str| {
            findings.iter().any(|f| f.severity == sev && f.theme.as_deref() == Some(code) && f.message.contains(needle))
        };
        assert!(has(Severity::Warning, "A1", "\"waited\" matches the same words as \"waiting\""), "{findings:#?}");
        assert!(has(Severity::Info, "B1", "also codes A1"), "{findings:#?}");
        assert!(has(Severity::Warning, "A1", "\"car park\" can never fire"), "{findings:#?}");
        assert!(has(Severity::Warning, "A1", "very short"), "{findings:#?}");
        assert!(has(Severity::Warning, "B1", "shorter than 3 letters"), "{findings:#?}");
        assert!(!findings.iter().any(|f| f.severity == Severity::Error));
    }

    #[test]
    fn short_terms_count_only_in_short_answers() {
        let book = Codebook::from_toml("[codebook]\nname='t'\nversion='1'\nshort_answer_words=4\n[[theme]]\ncode='G1'\nname='g'\ncategory='c'\nshort_terms=['nothing']\n", "t").unwrap();
        let n = |t: &str| book.code(t, Question::CouldImprove, &mut Coder::default()).len();
        assert_eq!(n("Nothing, all good"), 1);
        assert_eq!(n("nothing was explained to me at all"), 0);
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
