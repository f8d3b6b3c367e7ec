//! The analyse stage at one trust's year (35,000 records) and one national month of FFT
//! (1.2 million records), 8 dimensions × 8 groups × 61 themes × 12 months: the grouped counts
//! (polars) and every who-is-missing statistic from them. A plain counting loop is measured
//! beside the polars counts, so the README can say what polars costs.
//!
//! `cargo bench --bench analyse`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use unheard::analyse::counts::{count, CountInput};
use unheard::analyse::who::{analyse, DimBaseline, WhoInput, WhoSettings};

const DIMS: usize = 8;
const GROUPS: usize = 8;
const THEMES: usize = 61;
const MONTHS: usize = 12;

struct Data {
    month: Vec<u32>,
    groups: Vec<Vec<u32>>,
    first: Vec<bool>,
    pairs: Vec<(u32, u32, bool)>,
}

fn data(n: usize) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let month = (0..n).map(|_| rng.random_range(0..MONTHS as u32)).collect();
    let groups = (0..DIMS).map(|_| (0..n).map(|_| rng.random_range(0..GROUPS as u32)).collect()).collect();
    let first = (0..n).map(|i| i % 3 != 1).collect();
    let mut pairs = Vec::new();
    for r in 0..n as u32 {
        let k = rng.random_range(0..4u32);
        let mut ts: Vec<u32> = (0..k).map(|_| rng.random_range(0..THEMES as u32)).collect();
        ts.sort_unstable();
        ts.dedup();
        pairs.extend(ts.into_iter().map(|t| (r, t, rng.random_bool(0.4))));
    }
    Data { month, groups, first, pairs }
}

fn plain(d: &Data) -> usize {
    let mut cells = 0;
    for g in &d.groups {
        let mut counts = vec![0i64; (MONTHS + 1) * GROUPS * THEMES];
        for &(r, t, _) in &d.pairs {
            let (m, grp) = (d.month[r as usize] as usize + 1, g[r as usize] as usize);
            counts[grp * THEMES + t as usize] += 1;
            counts[(m * GROUPS + grp) * THEMES + t as usize] += 1;
        }
        cells += counts.len();
    }
    cells
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
        let input = CountInput {
            month: &d.month,
            months: MONTHS,
            groups: &d.groups,
            n_groups: &[GROUPS; DIMS],
            first_of_response: &d.first,
            pairs: &d.pairs,
            n_themes: THEMES,
        };
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("counts_polars", n), &n, |b, _| {
            b.iter(|| assert_eq!(count(&input).unwrap().len(), DIMS));
        });
        group.bench_with_input(BenchmarkId::new("counts_plain_loop", n), &n, |b, _| {
            b.iter(|| assert_eq!(plain(&d), DIMS * (MONTHS + 1) * GROUPS * THEMES));
        });
        group.bench_with_input(BenchmarkId::new("counts_and_statistics", n), &n, |b, _| {
            b.iter(|| {
                let counts = count(&input).unwrap();
                let out = analyse(
                    &WhoInput {
                        dimensions: &dims,
                        names: &names,
                        ids: &d.groups,
                        counts: &counts,
                        periods: &periods,
                        baselines: &baselines,
                        pairs: &d.pairs,
                        n_records: n,
                        n_themes: THEMES,
                        raking: &raking,
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
