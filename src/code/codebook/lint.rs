//! Linting a codebook: duplicate or overlapping terms, themes that can never fire, terms whose
//! stems may surprise their author.

use std::collections::HashMap;

use super::{Codebook, Elem, Pattern};
use crate::text::{Analyzer, STOP_WORDS};

/// What makes two patterns match the same words: exclude or not, elements, gaps.
type PatternKey = (bool, Vec<Elem>, Vec<usize>);

impl Codebook {
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
        let mut seen: HashMap<PatternKey, (u16, &str)> = HashMap::new();
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
            // found: `(wait|delay)` was taken as the phrase "wait delay", unsaid
            let mut pattern_chars: Vec<char> = pat.term.chars().filter(|c| "|()[]{}^$\\+?".contains(*c)).collect();
            pattern_chars.dedup();
            if !pattern_chars.is_empty() {
                out.push(Finding {
                    severity: Severity::Warning,
                    theme: Some(theme.code.clone()),
                    line: theme.line,
                    message: format!(
                        "term {:?} holds pattern characters ({}): terms are words and phrases, not regular expressions; the characters are dropped, so it matches the words \"{}\" in that order: give each alternative as its own term",
                        pat.term,
                        pattern_chars.iter().collect::<String>(),
                        show(&pat.elems)
                    ),
                });
            }
            let one_word = pat.rest.is_empty() && pat.term.split_whitespace().count() == 1 && !pat.term.ends_with('*');
            if one_word && !pat.exclude && pat.max_words.is_none() {
                let word = Analyzer::normalize_word(pat.term.trim());
                if STOP_WORDS.binary_search(&word.as_ref()).is_ok() {
                    out.push(Finding {
                        severity: Severity::Warning,
                        theme: Some(theme.code.clone()),
                        line: theme.line,
                        message: format!(
                            "term {:?} is a common word: alone it codes most comments; use it in a phrase, or among short_terms (short answers only)",
                            pat.term
                        ),
                    });
                }
            }
            if !pat.exclude && one_word {
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
        // a term redaction rewrites can never match: comments are redacted before they are
        // coded ("Dr Patel" is "Dr [NAME]" by then), and the term itself would be published in
        // `themes`, where it is written redacted
        let redactor = crate::text::redact::Redactor::shared();
        for theme in &self.themes {
            for term in theme.terms.iter().chain(&theme.short_terms).chain(&theme.exclude) {
                let (redacted, found) = redactor.redact(term);
                if !found.is_empty() {
                    out.push(Finding {
                        severity: Severity::Warning,
                        theme: Some(theme.code.clone()),
                        line: theme.line,
                        message: format!(
                            "a term holds personal data that comments have redacted before they are coded (it reads {redacted:?} by then): it can never match, and `themes` publishes it redacted"
                        ),
                    });
                }
            }
        }
        for (t, earlier) in self.copied_themes() {
            let (theme, other) = (&self.themes[t], &self.themes[earlier]);
            out.push(Finding {
                severity: Severity::Warning,
                theme: Some(theme.code.clone()),
                line: theme.line,
                message: format!(
                    "matches exactly the words {} ({}) matches: every comment coded with one is coded with the other",
                    other.code, other.name
                ),
            });
        }
        out.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
        out
    }

    /// Themes that match exactly the words an earlier one matches — the same terms, short terms
    /// and excludes as stems, for the same questions — each with the first such theme: a theme
    /// copied (found: a codebook of 488 themes, the built-in one eight times over, coded each
    /// comment eight times with nothing said).
    #[must_use]
    pub(crate) fn copied_themes(&self) -> Vec<(usize, usize)> {
        type Rule = (bool, Option<usize>, Vec<Elem>, Vec<usize>);
        let mut rules: Vec<Vec<Rule>> = vec![Vec::new(); self.themes.len()];
        for p in &self.patterns {
            rules[p.theme as usize].push((
                p.exclude,
                p.max_words,
                p.elems.clone(),
                p.rest.iter().map(|r| r.0).collect(),
            ));
        }
        let mut first: HashMap<(Vec<Rule>, Vec<crate::record::Question>), usize> = HashMap::new();
        let mut out = Vec::new();
        for (t, mut r) in rules.into_iter().enumerate() {
            if r.is_empty() {
                continue;
            }
            r.sort();
            r.dedup();
            let mut questions = self.themes[t].questions.clone();
            questions.sort();
            match first.entry((r, questions)) {
                std::collections::hash_map::Entry::Occupied(e) => out.push((t, *e.get())),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(t);
                }
            }
        }
        out
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
    fn lint_names_pattern_syntax_and_a_common_word_alone() {
        // found: `(wait|delay)` was read as the phrase "wait delay" and `the` coded most
        // comments, both unsaid
        let text = "[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='A1'\nname='a'\ncategory='c'\nterms=['(wait|delay)', 'the', 'the ward', 'a&e']\nshort_terms=['no']\nexclude=['not']\n";
        let findings = Codebook::from_toml(text, "t").unwrap().check();
        let warned = |needle: &str| {
            findings.iter().filter(|f| f.severity == Severity::Warning && f.message.contains(needle)).count()
        };
        assert_eq!(warned("\"(wait|delay)\" holds pattern characters ((|))"), 1, "{findings:#?}");
        assert_eq!(warned("matches the words \"wait delay\""), 1, "{findings:#?}");
        assert_eq!(
            warned("is a common word"),
            1,
            "only `the` alone: not in a phrase, a short term or an exclude: {findings:#?}"
        );
        assert_eq!(warned("\"a&e\""), 0, "an ampersand is a word's: {findings:#?}");
        let builtin = Codebook::from_toml(crate::config::DEFAULT_CODEBOOK, "<builtin>").unwrap().check();
        // a run does not check it (`pipeline::codebook_warnings`): it has no error
        assert!(!builtin.iter().any(|f| f.severity == Severity::Error), "{builtin:#?}");
        assert!(
            !builtin.iter().any(|f| f.message.contains("pattern characters") || f.message.contains("common word")),
            "{builtin:#?}"
        );
    }

    #[test]
    fn a_term_that_redaction_rewrites_is_said_never_to_match() {
        let book = Codebook::from_toml(
            "[codebook]\nname='t'\nversion='1'\n[[theme]]\ncode='D1'\nname='d'\ncategory='c'\nterms=['Dr Patel', 'doctor']\n",
            "t",
        )
        .unwrap();
        let said: Vec<String> = book.check().into_iter().map(|f| f.message).collect();
        let hit: Vec<&String> = said.iter().filter(|m| m.contains("can never match")).collect();
        assert_eq!(hit.len(), 1, "{said:?}");
        assert!(hit[0].contains("Dr [NAME]") && !hit[0].contains("Patel"), "the message names no one: {}", hit[0]);
    }

    #[test]
    fn a_theme_matching_exactly_the_words_of_another_is_a_copy() {
        let theme = |code: &str, terms: &str, rest: &str| {
            format!("[[theme]]\ncode='{code}'\nname='n{code}'\ncategory='c'\nterms=[{terms}]\n{rest}")
        };
        let text = [
            "[codebook]\nname='t'\nversion='1'\n".to_owned(),
            theme("A", "'waiting', 'car park'", ""),
            // the same stems in another order and spelling: a copy of A
            theme("B", "'car parks', 'waited', 'wait'", ""),
            // one exclude more, or another question: not a copy
            theme("C", "'waiting', 'car park'", "exclude=['no wait']\n"),
            theme("D", "'waiting', 'car park'", "questions=['what_good']\n"),
            theme("E", "'car park', 'waiting'", ""),
        ]
        .concat();
        let book = Codebook::from_toml(&text, "t").unwrap();
        assert_eq!(book.copied_themes(), vec![(1, 0), (4, 0)]);
        let warned: Vec<String> = book
            .check()
            .into_iter()
            .filter(|f| f.severity == Severity::Warning && f.message.starts_with("matches exactly"))
            .filter_map(|f| f.theme)
            .collect();
        assert_eq!(warned, ["B", "E"]);
        let builtin = Codebook::from_toml(crate::config::DEFAULT_CODEBOOK, "<builtin>").unwrap();
        assert!(builtin.copied_themes().is_empty());
    }
}
