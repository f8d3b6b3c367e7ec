//! Coder throughput (records/s, one core) on the synthetic feedback: the codebook alone,
//! and the whole per-record engine (redaction, codebook, sentiment, non-informative).
//!
//! `cargo bench --bench code`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use unheard::code::{Codebook, Coder, Engine};
use unheard::config::DEFAULT_CODEBOOK;

#[path = "corpus.rs"]
mod corpus;

/// Theme mentions the built-in codebook finds in the bench corpus (`code/one_core`).
const CODEBOOK_THEMES: usize = 63_986;
/// Theme mentions the whole engine keeps, at rating 2 (`code/engine_one_core`).
const ENGINE_THEMES: usize = 64_017;

fn bench(c: &mut Criterion) {
    let texts = corpus::texts();
    let book = Codebook::from_toml(DEFAULT_CODEBOOK, "builtin").unwrap();
    let mut coder = Coder::default();
    // fixed answers, not ones taken from a warm-up: the bench must measure the same work
    let expected = CODEBOOK_THEMES;
    let warm: usize = texts.iter().map(|(t, q)| book.code(t, *q, &mut coder).len()).sum();
    assert_eq!(warm, expected, "codebook theme mentions in the bench corpus");
    let mut group = c.benchmark_group("code");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.sample_size(10);
    group.bench_function("one_core", |b| {
        b.iter(|| {
            let n: usize = texts.iter().map(|(t, q)| book.code(t, *q, &mut coder).len()).sum();
            assert_eq!(n, expected);
        });
    });
    let engine = Engine::new(book.clone());
    let concerns = ENGINE_THEMES;
    let warm: usize = texts.iter().map(|(t, q)| engine.process(t, *q, Some(2), &mut coder).themes.len()).sum();
    assert_eq!(warm, concerns, "engine theme mentions in the bench corpus");
    group.bench_function("engine_one_core", |b| {
        // redaction + codebook + clause sentiment + non-informative reading, as `run` does
        b.iter(|| {
            let n: usize = texts.iter().map(|(t, q)| engine.process(t, *q, Some(2), &mut coder).themes.len()).sum();
            assert_eq!(n, concerns);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
