//! Compiling terms: each word normalised and stemmed like the text (or kept as a `*`
//! prefix), `~N` gaps splitting a term into segments, the first segment a path in the trie.

use super::{Codebook, Elem, Pattern};
use crate::text::Analyzer;

impl Codebook {
    /// Adds one term of theme `theme` to the trie (`next_node` is the next free node); the
    /// error completes "term \"…\"".
    pub(super) fn add_term(
        &mut self,
        theme: u16,
        exclude: bool,
        max_words: Option<usize>,
        term: &str,
        next_node: &mut u32,
    ) -> Result<(), String> {
        let segments = self.compile_term(term).map_err(|m| format!(": {m}"))?;
        let mut segs = segments.into_iter();
        let (_, first) = segs.next().ok_or_else(|| " has no words".to_owned())?;
        let mut node = 0u32;
        for &e in &first {
            let child = match (node, e) {
                (0, Elem::Stem(i)) => grow(&mut self.root_stems, i),
                (0, Elem::Prefix(i)) => grow(&mut self.root_prefixes, i),
                _ => self.edges.entry((node, e)).or_insert(0),
            };
            if *child == 0 {
                *child = *next_node;
                *next_node += 1;
            }
            node = *child;
        }
        let rest: Vec<(usize, Vec<Elem>)> = segs.collect();
        let elems = first.iter().chain(rest.iter().flat_map(|(_, s)| s.iter())).copied().collect();
        let id = u32::try_from(self.patterns.len()).unwrap_or(u32::MAX);
        self.patterns.push(Pattern { theme, exclude, max_words, term: term.to_owned(), rest, elems });
        grow(&mut self.accepts, node).push(id);
        self.has_excludes |= exclude;
        Ok(())
    }

    /// The child of trie node `node` through element `e`.
    pub(super) fn child(&self, node: u32, e: Elem) -> Option<u32> {
        let found = match (node, e) {
            (0, Elem::Stem(i)) => self.root_stems.get(i as usize),
            (0, Elem::Prefix(i)) => self.root_prefixes.get(i as usize),
            _ => self.edges.get(&(node, e)),
        };
        found.copied().filter(|&n| n != 0)
    }

    /// The patterns ending at trie node `node`.
    pub(super) fn accepts(&self, node: u32) -> &[u32] {
        self.accepts.get(node as usize).map_or(&[], Vec::as_slice)
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
}

/// Slot `i` of `v`, growing `v` with defaults to hold it.
fn grow<T: Default>(v: &mut Vec<T>, i: u32) -> &mut T {
    let i = i as usize;
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}
