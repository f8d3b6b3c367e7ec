//! Analyzer throughput (MB/s): the hot-path analyzer (unicode-segmentation +
//! unicode-normalization + rust-stemmers) against Hugging Face `tokenizers` (BERT normaliser
//! + pre-tokenizer + the same stemmer), on the synthetic feedback text.
//!
//! `cargo bench --bench analyzer`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use unheard::text::hf::HfAnalyzer;
use unheard::text::{Analyzer, Tokens};

#[path = "corpus.rs"]
mod corpus;

/// Tokens the analyzer finds in the 35,000 comments of `data-samples/feedback.csv.gz`.
const CORPUS_TOKENS: usize = 316_407;

fn bench(c: &mut Criterion) {
    let texts: Vec<String> = corpus::texts().into_iter().map(|t| t.0).collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let ours = Analyzer::english();
    let hf = HfAnalyzer::default();
    let mut tokens = Tokens::default();
    // a fixed answer, not one taken from a warm-up: the analyzer must still split the corpus
    // into this many tokens, or the figures measure something else
    let expected = CORPUS_TOKENS;
    let warm: usize = texts
        .iter()
        .map(|t| {
            ours.analyze(t, &mut tokens);
            tokens.len()
        })
        .sum();
    assert_eq!(warm, expected, "token count of the bench corpus");
    let mut group = c.benchmark_group("analyzer");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function("unicode-segmentation+rust-stemmers", |b| {
        b.iter(|| {
            let n: usize = texts
                .iter()
                .map(|t| {
                    ours.analyze(t, &mut tokens);
                    tokens.len()
                })
                .sum();
            assert_eq!(n, expected);
        });
    });
    group.bench_function("tokenizers-bert+rust-stemmers", |b| {
        b.iter(|| {
            let n: usize = texts
                .iter()
                .map(|t| {
                    hf.analyze(t, &mut tokens).unwrap();
                    tokens.len()
                })
                .sum();
            assert!(n > 0);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
