//! The same analysis built on Hugging Face `tokenizers` (BERT normaliser + BERT
//! pre-tokenizer), kept so that the two can be measured against each other
//! (`cargo bench --bench analyzer`). The hot path uses [`super::Analyzer`], which measured
//! faster; see the README's throughput table.

use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

use super::{Analyzer, Tokens};

/// Tokens from `tokenizers`, stemmed with the same Snowball stemmer.
#[derive(Debug, Clone)]
pub struct HfAnalyzer {
    normalizer: BertNormalizer,
    stemmer: Analyzer,
}

/// Errors from `tokenizers` are boxed trait objects; keep them as the source.
#[derive(Debug, thiserror::Error)]
#[error("tokenizers failed on a text")]
pub struct HfError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl Default for HfAnalyzer {
    fn default() -> Self {
        HfAnalyzer { normalizer: BertNormalizer::new(true, false, Some(true), true), stemmer: Analyzer::english() }
    }
}

impl HfAnalyzer {
    /// Analyzes `text` into `tokens` (punctuation-only pieces are skipped).
    ///
    /// # Errors
    /// When `tokenizers` reports one.
    pub fn analyze(&self, text: &str, tokens: &mut Tokens) -> Result<(), HfError> {
        let mut pre = PreTokenizedString::from(text);
        pre.normalize(|n| self.normalizer.normalize(n)).map_err(HfError)?;
        BertPreTokenizer.pre_tokenize(&mut pre).map_err(HfError)?;
        tokens.clear();
        for (piece, (start, end), _) in pre.get_splits(OffsetReferential::Original, OffsetType::Byte) {
            if !piece.chars().any(char::is_alphanumeric) {
                continue;
            }
            let stem = self.stemmer.stem_word(piece);
            tokens.push(piece, &stem, start, end);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_main_analyzer_on_plain_text() {
        let text = "The Nurses were lovely but waiting was AWFUL";
        let (mut a, mut b) = (Tokens::default(), Tokens::default());
        Analyzer::english().analyze(text, &mut a);
        HfAnalyzer::default().analyze(text, &mut b).unwrap();
        assert_eq!(a.len(), b.len());
        for i in 0..a.len() {
            assert_eq!(a.stem(i), b.stem(i));
            assert_eq!(a.span(i), b.span(i));
        }
    }
}
