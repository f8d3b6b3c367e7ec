//! The analyse stage: theme × group crosstab with polars, at one trust's year (35,000
//! records) and one national month of FFT (1.2 million records), 8 dimensions. A plain
//! counting loop is measured beside it, so the README can say what polars costs.
//!
//! `cargo bench --bench analyse`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DIMS: usize = 8;
const GROUPS: u32 = 8;
const THEMES: u32 = 61;

fn data(n: usize) -> (Vec<Vec<u32>>, Vec<(u32, u32)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let groups = (0..DIMS).map(|_| (0..n).map(|_| rng.random_range(0..GROUPS)).collect()).collect();
    let mut pairs = Vec::new();
    for r in 0..n as u32 {
        let k = rng.random_range(0..4u32);
        let mut ts: Vec<u32> = (0..k).map(|_| rng.random_range(0..THEMES)).collect();
        ts.sort_unstable();
        ts.dedup();
        pairs.extend(ts.into_iter().map(|t| (r, t)));
    }
    (groups, pairs)
}

fn plain(groups: &[Vec<u32>], pairs: &[(u32, u32)]) -> usize {
    let mut cells = 0;
    for g in groups {
        let mut totals = vec![0i64; GROUPS as usize];
        let mut counts = vec![0i64; (GROUPS * THEMES) as usize];
        for &x in g {
            totals[x as usize] += 1;
        }
        for &(r, t) in pairs {
            counts[(g[r as usize] * THEMES + t) as usize] += 1;
        }
        assert_eq!(totals.iter().sum::<i64>(), g.len() as i64);
        cells += counts.len();
    }
    cells
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("theme_by_group");
    group.sample_size(10);
    for n in [35_000usize, 1_200_000] {
        let (groups, pairs) = data(n);
        let expected = DIMS * (GROUPS * THEMES) as usize;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("polars", n), &n, |b, _| {
            b.iter(|| {
                let rows = unheard::analyse::theme_by_group(&groups, &pairs, THEMES).unwrap();
                assert_eq!(rows.len(), expected);
            });
        });
        group.bench_with_input(BenchmarkId::new("plain_loop", n), &n, |b, _| {
            b.iter(|| assert_eq!(plain(&groups, &pairs), expected));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
