//! The analyse stage at one trust's year (35,000 records) and one national month of FFT
//! (1.2 million records), 8 dimensions × 8 groups × 61 themes × 12 months: the run's counters
//! fed batch by batch (`analyse::counts::Counter`, 32,768 records a batch as a run feeds them)
//! and every who-is-missing statistic from them.
//!
//! `cargo bench --bench analyse`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use unheard::analyse::counts::{BatchCounts, Counted, Counter};
use unheard::analyse::who::{analyse, DimBaseline, WhoInput, WhoSettings};

const DIMS: usize = 8;
const GROUPS: usize = 8;
const THEMES: usize = 61;
const MONTHS: usize = 12;

struct Data {
    month: Vec<u32>,
    groups: Vec<Vec<u32>>,
    first: Vec<bool>,
    themes: Vec<Vec<(u32, bool)>>,
}

fn data(n: usize) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let month = (0..n).map(|_| rng.random_range(0..MONTHS as u32)).collect();
    let groups = (0..DIMS).map(|_| (0..n).map(|_| rng.random_range(0..GROUPS as u32)).collect()).collect();
    let first = (0..n).map(|i| i % 3 != 1).collect();
    let themes = (0..n)
        .map(|_| {
            let k = rng.random_range(0..4u32);
            let mut ts: Vec<u32> = (0..k).map(|_| rng.random_range(0..THEMES as u32)).collect();
            ts.sort_unstable();
            ts.dedup();
            ts.into_iter().map(|t| (t, rng.random_bool(0.4))).collect()
        })
        .collect();
    Data { month, groups, first, themes }
}

/// The counters fed as a run feeds them, in batches of 32,768 records.
fn count(d: &Data, raking: &[usize]) -> Counted {
    let n = d.month.len();
    let mut counter = Counter::new(DIMS, THEMES, raking.to_vec());
    let mut start = 0;
    while start < n {
        let end = (start + 32_768).min(n);
        let groups: Vec<Vec<u32>> = d.groups.iter().map(|g| g[start..end].to_vec()).collect();
        counter.add(&BatchCounts {
            month: &d.month[start..end],
            groups: &groups,
            first_of_response: &d.first[start..end],
            // (a response's records share a month here)
            first_in_month: &d.first[start..end],
            themes: &d.themes[start..end],
        });
        start = end;
    }
    let months: Vec<u32> = (0..MONTHS as u32).collect();
    let groups: Vec<Vec<u32>> = (0..DIMS).map(|_| (0..GROUPS as u32).collect()).collect();
    counter.finish(&months, MONTHS, &groups, &[GROUPS; DIMS])
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyse");
    group.sample_size(10);
    let dims: Vec<String> = (0..DIMS).map(|d| format!("d{d}")).collect();
    let names: Vec<Vec<String>> = (0..DIMS).map(|_| (0..GROUPS).map(|g| format!("g{g}")).collect()).collect();
    let baselines: Vec<Option<DimBaseline>> = (0..DIMS)
        .map(|_| {
            Some(DimBaseline {
                population: (0..GROUPS).map(|g| Some(1000.0 + 100.0 * g as f64)).collect(),
                unseen: Vec::new(),
            })
        })
        .collect();
    let periods: Vec<String> =
        std::iter::once("all".to_owned()).chain((0..MONTHS).map(|m| format!("2025-{:02}", m + 1))).collect();
    let raking: Vec<String> = dims[..3].to_vec();
    for n in [35_000usize, 1_200_000] {
        let d = data(n);
        let raking_dims = [0usize, 1, 2];
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("counters", n), &n, |b, _| {
            b.iter(|| assert_eq!(count(&d, &raking_dims).dims.len(), DIMS));
        });
        group.bench_with_input(BenchmarkId::new("counters_and_statistics", n), &n, |b, _| {
            b.iter(|| {
                let counted = count(&d, &raking_dims);
                let out = analyse(
                    &WhoInput {
                        dimensions: &dims,
                        names: &names,
                        counts: &counted.dims,
                        periods: &periods,
                        baselines: &baselines,
                        totals: &counted.totals,
                        cells: &counted.cells,
                        cell_dimensions: &raking_dims,
                        n_themes: THEMES,
                        raking: &raking,
                        changes: Default::default(),
                        spc: &Default::default(),
                        pairs: &Default::default(),
                    },
                    &WhoSettings::default(),
                );
                assert_eq!(out.theme_by_group.len(), DIMS * (MONTHS + 1) * GROUPS * THEMES);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
