//! Coder throughput (records/s, one core) with the default codebook on the synthetic
//! feedback, and the whole parallel coding stage.
//!
//! `cargo bench --bench code`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use unheard::code::{Codebook, Coder};
use unheard::config::DEFAULT_CODEBOOK;

#[path = "corpus.rs"]
mod corpus;

fn bench(c: &mut Criterion) {
    let texts = corpus::texts();
    let book = Codebook::from_toml(DEFAULT_CODEBOOK, "builtin").unwrap();
    let mut coder = Coder::default();
    let expected: usize = texts.iter().map(|(t, q)| book.code(t, *q, &mut coder).len()).sum();
    let mut group = c.benchmark_group("code");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.sample_size(10);
    group.bench_function("one_core", |b| {
        b.iter(|| {
            let n: usize = texts.iter().map(|(t, q)| book.code(t, *q, &mut coder).len()).sum();
            assert_eq!(n, expected);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
