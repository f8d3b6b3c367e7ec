use std::borrow::Cow;
use std::collections::HashMap;

use foldhash::fast::RandomState as Fast;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Tokens of one text, in reusable buffers (no allocation per token once warmed up).
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    stems: String,
    stem_ends: Vec<u32>,
    spans: Vec<(u32, u32)>,
    words: String,
    word_ends: Vec<u32>,
}

impl Tokens {
    /// Number of tokens.
    #[must_use]
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// No tokens.
    #[must_use]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Stem of token `i`.
    #[must_use]
    #[inline]
    pub fn stem(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.stem_ends[i - 1] as usize };
        &self.stems[start..self.stem_ends[i] as usize]
    }

    /// Normalised (lowercased, folded) word of token `i`, before stemming.
    #[must_use]
    #[inline]
    pub fn word(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.word_ends[i - 1] as usize };
        &self.words[start..self.word_ends[i] as usize]
    }

    /// Byte span of token `i` in the original text.
    #[must_use]
    #[inline]
    pub fn span(&self, i: usize) -> (usize, usize) {
        let (s, e) = self.spans[i];
        (s as usize, e as usize)
    }

    pub(crate) fn clear(&mut self) {
        self.stems.clear();
        self.stem_ends.clear();
        self.spans.clear();
        self.words.clear();
        self.word_ends.clear();
    }

    pub(crate) fn push(&mut self, word: &str, stem: &str, start: usize, end: usize) {
        self.words.push_str(word);
        self.word_ends.push(u32::try_from(self.words.len()).unwrap_or(u32::MAX));
        self.stems.push_str(stem);
        self.stem_ends.push(u32::try_from(self.stems.len()).unwrap_or(u32::MAX));
        self.spans.push((u32::try_from(start).unwrap_or(u32::MAX), u32::try_from(end).unwrap_or(u32::MAX)));
    }
}

/// Words met before, with their normalised form and stem: a per-thread memo for
/// [`Analyzer::analyze_cached`]. Each word gets a slot (0, 1, 2, … in the order met) that callers
/// may key their own per-word memos by, while [`StemCache::generation`] stays the same. Bounded:
/// a text that finds [`StemCache::CAPACITY`] words held starts it again (a new generation), so
/// memory stays flat however much text passes through.
#[derive(Debug, Default, Clone)]
pub struct StemCache {
    algorithm: Option<Algorithm>,
    /// word as written -> where it is in `arena`, and its slot
    words: HashMap<Box<str>, (Place, u32), Fast>,
    arena: String,
    generation: u64,
    /// the slot of each token of the last text analysed
    slots: Vec<u32>,
}

/// Start of a word's normalised form, start of its stem, end, in the arena.
type Place = (u32, u32, u32);

impl StemCache {
    /// Words held at once, at most, before a text begins.
    pub const CAPACITY: usize = 1 << 15;

    /// Changes whenever the slots start again.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The slot of each token of the last text analysed.
    #[must_use]
    pub fn slots(&self) -> &[u32] {
        &self.slots
    }

    fn clear(&mut self) {
        self.words.clear();
        self.arena.clear();
        self.generation += 1;
    }

    /// Where `word`'s normalised form and stem are in the arena, and its slot; on a miss, `fill`
    /// appends them to the arena and returns where the stem starts.
    fn get_or_insert(&mut self, word: &str, fill: impl FnOnce(&mut String) -> usize) -> (Place, u32) {
        if let Some(&found) = self.words.get(word) {
            return found;
        }
        let s = self.arena.len();
        let m = fill(&mut self.arena);
        let found = ((s as u32, m as u32, self.arena.len() as u32), self.words.len() as u32);
        self.words.insert(word.into(), found);
        found
    }
}

/// The analyzer: Unicode word segmentation (UAX #29), lowercase, fold curly apostrophes and
/// accents, Snowball stem. Cheap to clone; `Send + Sync`.
pub struct Analyzer {
    stemmer: Stemmer,
    algorithm: Algorithm,
}

impl Clone for Analyzer {
    fn clone(&self) -> Self {
        Analyzer { stemmer: Stemmer::create(self.algorithm), algorithm: self.algorithm }
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("algorithm", &format!("{:?}", self.algorithm)).finish()
    }
}

/// The analyzer's identity, stored with anything (codebooks, models) that depends on it.
pub const ANALYZER_ID: &str = "uax29-lower-fold-snowball/1";

impl Analyzer {
    /// English (Porter2) analyzer.
    #[must_use]
    pub fn english() -> Analyzer {
        Analyzer { stemmer: Stemmer::create(Algorithm::English), algorithm: Algorithm::English }
    }

    /// Analyzer for a Snowball language name (`english`, `french`, …).
    #[must_use]
    pub fn for_language(name: &str) -> Option<Analyzer> {
        let algorithm = match name.to_ascii_lowercase().as_str() {
            "english" | "en" => Algorithm::English,
            "french" | "fr" => Algorithm::French,
            "german" | "de" => Algorithm::German,
            "spanish" | "es" => Algorithm::Spanish,
            "portuguese" | "pt" => Algorithm::Portuguese,
            "italian" | "it" => Algorithm::Italian,
            "dutch" | "nl" => Algorithm::Dutch,
            _ => return None,
        };
        Some(Analyzer { stemmer: Stemmer::create(algorithm), algorithm })
    }

    /// Normalises one word: lowercase, curly apostrophes to `'`, accents removed.
    #[must_use]
    pub fn normalize_word(word: &str) -> Cow<'_, str> {
        if word.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
            return Cow::Borrowed(word);
        }
        if word.is_ascii() {
            return Cow::Owned(word.to_ascii_lowercase());
        }
        let folded: String = word
            .nfkd()
            .filter(|c| !is_combining_mark(*c))
            .map(|c| if matches!(c, '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`') { '\'' } else { c })
            .flat_map(char::to_lowercase)
            .collect();
        Cow::Owned(folded)
    }

    /// Stems a normalised word.
    #[must_use]
    pub fn stem_word<'a>(&self, word: &'a str) -> Cow<'a, str> {
        self.stemmer.stem(word)
    }

    /// Splits `text` into tokens (replacing what `tokens` held).
    pub fn analyze(&self, text: &str, tokens: &mut Tokens) {
        tokens.clear();
        for_each_word(text, |start, end, word| {
            let norm = Analyzer::normalize_word(word);
            let norm = norm.trim_matches('\'');
            if !norm.is_empty() {
                tokens.push(norm, &self.stemmer.stem(norm), start, end);
            }
        });
    }

    /// As [`Analyzer::analyze`], looking each word up in `cache` first (the same tokens, without
    /// normalising and stemming a word again).
    pub fn analyze_cached(&self, text: &str, tokens: &mut Tokens, cache: &mut StemCache) {
        tokens.clear();
        cache.slots.clear();
        let full = cache.words.len() >= StemCache::CAPACITY || cache.arena.len() > u32::MAX as usize / 4;
        if full || cache.algorithm != Some(self.algorithm) {
            cache.clear();
            cache.algorithm = Some(self.algorithm);
        }
        for_each_word(text, |start, end, word| {
            let ((s, m, e), slot) = cache.get_or_insert(word, |arena| {
                let norm = Analyzer::normalize_word(word);
                let norm = norm.trim_matches('\'');
                arena.push_str(norm);
                let mid = arena.len();
                if !norm.is_empty() {
                    arena.push_str(&self.stemmer.stem(norm));
                }
                mid
            });
            if s < m {
                let arena = &cache.arena;
                tokens.push(&arena[s as usize..m as usize], &arena[m as usize..e as usize], start, end);
                cache.slots.push(slot);
            }
        });
    }

    /// The stems of a term as a codebook author writes it (`"waiting room"` → `["wait", "room"]`).
    #[must_use]
    pub fn stems_of(&self, term: &str) -> Vec<String> {
        let mut t = Tokens::default();
        self.analyze(term, &mut t);
        (0..t.len()).map(|i| t.stem(i).to_owned()).collect()
    }
}

/// The words of `text` with their byte span in it, as Unicode's word boundaries (UAX #29) give
/// them: `unicode_word_indices`, with a plain scan for ASCII text (most feedback): 1.1% fewer
/// instructions in a whole run. Invisible characters ([`super::invisible`]) are read past: a
/// zero-width space pasted inside "pa\u{200b}in" split it into "pa" and "in", and a soft hyphen
/// in "waiting" kept it from its stem, so neither was coded (found in an earlier session on issue
/// 9, read past since the twenty-sixth). The word is given without them; its span is still that
/// of the text as written.
fn for_each_word(text: &str, mut each: impl FnMut(usize, usize, &str)) {
    if text.is_ascii() {
        for (s, e) in (AsciiWords { text: text.as_bytes(), at: 0 }) {
            each(s, e, &text[s..e]);
        }
    } else if !text.chars().any(super::invisible) {
        for (s, word) in text.unicode_word_indices() {
            each(s, s + word.len(), word);
        }
    } else {
        // the text without them, and where each of its bytes was in the text
        let mut seen = String::with_capacity(text.len());
        let mut from = Vec::with_capacity(text.len());
        for (i, c) in text.char_indices().filter(|&(_, c)| !super::invisible(c)) {
            seen.push(c);
            from.extend((i..).take(c.len_utf8()));
        }
        for (s, word) in seen.unicode_word_indices() {
            // a word's last character is in the text as it is in `seen`
            let end = from[s + word.len() - 1] + 1;
            each(from[s], end, word);
        }
    }
}

/// UAX #29 word segments of ASCII text that hold a letter or digit, as byte ranges. In ASCII,
/// letters, digits and `_` always join (WB5, WB8–WB10, WB13a–b); `:` (MidLetter) joins two
/// letters, `,` and `;` (MidNum) two digits, and `.` and `'` (MidNumLet, Single_Quote) either
/// (WB6–7, WB11–12); everything else breaks.
struct AsciiWords<'a> {
    text: &'a [u8],
    at: usize,
}

impl Iterator for AsciiWords<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let t = self.text;
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        loop {
            let start = self.at + t.get(self.at..)?.iter().position(|&b| word(b))?;
            let mut end = start + 1;
            let mut alnum = t[start].is_ascii_alphanumeric();
            loop {
                match t.get(end) {
                    Some(&b) if word(b) => {
                        alnum |= b != b'_';
                        end += 1;
                    }
                    Some(&mid @ (b':' | b'.' | b'\'' | b',' | b';')) => {
                        let (before, after) = (t[end - 1], t.get(end + 1).copied().unwrap_or(0));
                        let letters = before.is_ascii_alphabetic()
                            && after.is_ascii_alphabetic()
                            && matches!(mid, b':' | b'.' | b'\'');
                        let digits = before.is_ascii_digit()
                            && after.is_ascii_digit()
                            && matches!(mid, b',' | b';' | b'.' | b'\'');
                        if !(letters || digits) {
                            break;
                        }
                        end += 2;
                    }
                    _ => break,
                }
            }
            self.at = end;
            if alnum {
                return Some((start, end));
            }
        }
    }
}

/// Byte offset → character offset in `text` (for outputs read by BI tools and Python).
#[must_use]
pub fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count()
}

#[cfg(test)]
mod tests {

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The ASCII scan reads the words Unicode's rules read.
        #[test]
        fn ascii_words_are_unicode_words(text in "[aZq09_:.',; \\n\\r!\"()-]{0,40}") {
            let mut ours: Vec<(usize, String)> = Vec::new();
            for_each_word(&text, |s, e, w| {
                assert_eq!(&text[s..e], w);
                ours.push((s, w.to_owned()));
            });
            let theirs: Vec<(usize, String)> = text.unicode_word_indices().map(|(s, w)| (s, w.to_owned())).collect();
            prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn ascii_words_on_the_hard_cases() {
        for text in [
            "don't",
            "e.g. 3.5",
            "1,000,000 and 1;2",
            "a:b a::b",
            "_ __ _a a_ 3_x",
            "'quoted' x'",
            "a.",
            ".a",
            "U.K.",
            "10.30am",
            "x,y 1,a",
            "a.b 1.a a.1 a'1",
            "wait...long",
            "a'b'c",
            "9:30",
            "",
        ] {
            let mut ours: Vec<(usize, String)> = Vec::new();
            for_each_word(text, |s, _, w| ours.push((s, w.to_owned())));
            let theirs: Vec<(usize, String)> = text.unicode_word_indices().map(|(s, w)| (s, w.to_owned())).collect();
            assert_eq!(ours, theirs, "{text:?}");
        }
    }
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        Analyzer::english().stems_of(text)
    }

    #[test]
    fn words_are_read_past_invisible_characters_their_spans_in_the_text() {
        let analyzer = Analyzer::english();
        for text in ["long pa\u{200b}in", "long wait\u{ad}ing", "\u{feff}long p\u{2060}a\u{200d}in\u{200b}"] {
            let mut tokens = Tokens::default();
            analyzer.analyze(text, &mut tokens);
            let mut cached = Tokens::default();
            analyzer.analyze_cached(text, &mut cached, &mut StemCache::default());
            assert_eq!(tokens.len(), 2, "{text:?}");
            assert_eq!(tokens.stem(0), "long");
            assert!(["pain", "wait"].contains(&tokens.stem(1)), "{text:?}: {}", tokens.stem(1));
            for i in 0..tokens.len() {
                assert_eq!((tokens.stem(i), tokens.span(i)), (cached.stem(i), cached.span(i)));
            }
            // the span is the word as written, invisible characters inside it included
            let (s, e) = tokens.span(1);
            let written: String = text[s..e].chars().filter(|&c| !crate::text::invisible(c)).collect();
            assert_eq!(Analyzer::normalize_word(&written), tokens.word(1), "{text:?}");
            assert!(!text[e..].chars().any(char::is_alphanumeric));
        }
    }

    #[test]
    fn lowercases_folds_and_stems() {
        assert_eq!(stems("WAITING Waited waits"), ["wait", "wait", "wait"]);
        assert_eq!(stems("Café naïve"), ["cafe", "naiv"]);
        assert_eq!(stems("didn\u{2019}t"), stems("didn't"));
    }

    #[test]
    fn offsets_point_at_the_original_words() {
        let text = "😊 Très  bien, the NURSE!";
        let mut t = Tokens::default();
        Analyzer::english().analyze(text, &mut t);
        let words: Vec<&str> = (0..t.len())
            .map(|i| {
                let (s, e) = t.span(i);
                &text[s..e]
            })
            .collect();
        assert_eq!(words, ["Très", "bien", "the", "NURSE"]);
        assert_eq!(t.word(0), "tres");
    }

    /// Every token of `t`, as (word, stem, span).
    fn all(t: &Tokens) -> Vec<(String, String, (usize, usize))> {
        (0..t.len()).map(|i| (t.word(i).to_owned(), t.stem(i).to_owned(), t.span(i))).collect()
    }

    #[test]
    fn the_cache_gives_the_same_tokens_as_analyzing_afresh() {
        let english = Analyzer::english();
        let french = Analyzer::for_language("french").unwrap();
        let mut cache = StemCache::default();
        let (mut plain, mut cached) = (Tokens::default(), Tokens::default());
        let texts = ["Waiting WAITING waited 'quoted' '' Café naïve didn\u{2019}t", "😡 -- n/a", "", "nurses nursing"];
        for round in 0..3 {
            for analyzer in [&english, &french] {
                for text in texts {
                    analyzer.analyze(text, &mut plain);
                    analyzer.analyze_cached(text, &mut cached, &mut cache);
                    assert_eq!(all(&cached), all(&plain), "round {round}, {text:?}");
                }
            }
        }
        // past its capacity the cache starts again and stays right
        // the same word, the same slot, within a generation
        english.analyze_cached("wait waiting Wait wait", &mut cached, &mut cache);
        let s = cache.slots().to_vec();
        assert_eq!((s.len(), s[0] == s[3], s[0] == s[1], s[0] == s[2]), (4, true, false, false));
        let many: String = (0..StemCache::CAPACITY + 10).map(|i| format!("word{i}ing ")).collect();
        english.analyze(&many, &mut plain);
        english.analyze_cached(&many, &mut cached, &mut cache);
        assert_eq!(all(&cached), all(&plain));
        assert_eq!(cache.slots().len(), cached.len());
        let generation = cache.generation();
        english.analyze(texts[0], &mut plain);
        english.analyze_cached(texts[0], &mut cached, &mut cache);
        assert_eq!(all(&cached), all(&plain));
        assert!(cache.words.len() < StemCache::CAPACITY, "past its capacity the cache starts again");
        assert_ne!(cache.generation(), generation);
    }

    #[test]
    fn emoji_and_punctuation_make_no_tokens() {
        assert!(stems("😡👍 -- !!! ...").is_empty());
        assert_eq!(stems("n/a"), ["n", "a"]);
    }
}
