//! Learned coder: prediction throughput (records/s) on the synthetic feedback, one core and
//! all cores, from the tokens to the labels (features, margins, thresholds). The model is
//! trained on `../shared/eval/fft-labelled-dev.csv` when it is there; otherwise the bench
//! says so and stops (benches are not tests; `UNHEARD_LABELLED=FILE` points elsewhere).
//! Training time is measured too.
//!
//! `cargo bench --bench model`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use unheard::code::model::train::{analyse, fit, Targets, TrainOptions};
use unheard::code::model::Scratch;
use unheard::code::{Codebook, Coder};
use unheard::config::DEFAULT_CODEBOOK;
use unheard::evaluate::{read_labelled, Columns};

#[path = "corpus.rs"]
mod corpus;

const LABELLED: &str = "../shared/eval/fft-labelled-dev.csv";

fn bench(c: &mut Criterion) {
    // UNHEARD_LABELLED points elsewhere (e.g. from a git worktree outside the project folder)
    let file = std::env::var("UNHEARD_LABELLED").unwrap_or_else(|_| LABELLED.to_owned());
    let path = std::path::Path::new(&file);
    if !path.exists() {
        println!("model bench skipped: {file} is not here (set UNHEARD_LABELLED)");
        return;
    }
    let cols = Columns {
        text: "FFT answer".into(),
        question: Some("FFT question".into()),
        labels_from: "Not assigned".into(),
        id: Some("Comment ID".into()),
        sentiment: Some("Comment sentiment".into()),
        rating: None,
        group: Some("Respondent ID".into()),
    };
    let set = read_labelled(path, &cols).unwrap();
    let opts = TrainOptions::default();
    let rows: Vec<usize> = (0..set.texts.len()).collect();
    let targets = Targets { labels: &set.labels, y: &set.y, sentiment: &set.sentiment, groups: &set.groups };
    let mut group = c.benchmark_group("model");
    group.sample_size(10);
    group.bench_function("train_fft_labelled", |b| {
        b.iter(|| {
            let a = analyse(&set.texts, &set.questions, &opts.features);
            fit(&a, &targets, &rows, &opts).labels.len()
        });
    });
    let a = analyse(&set.texts, &set.questions, &opts.features);
    let model = fit(&a, &targets, &rows, &opts);

    // prediction as the engine does it: codebook hits (features), then the model
    let texts = corpus::texts();
    let book = Codebook::from_toml(DEFAULT_CODEBOOK, "builtin").unwrap();
    let predict = |coder: &mut Coder, scratch: &mut Scratch, text: &str, q| {
        let hits: Vec<u16> = book.code(text, q, coder).iter().map(|h| h.theme).collect();
        model.row(&coder.tokens, q, &hits, scratch);
        let mut scores = std::mem::take(&mut scratch.scores);
        model.scores(&scratch.row, &mut scores);
        let mut p = std::mem::take(&mut scratch.predicted);
        model.decide(&scores, true, &mut p);
        let n = p.iter().filter(|&&x| x).count();
        scratch.scores = scores;
        scratch.predicted = p;
        n
    };
    group.throughput(Throughput::Elements(texts.len() as u64));
    let (mut coder, mut scratch) = (Coder::default(), Scratch::default());
    group.bench_function("predict_one_core", |b| {
        b.iter(|| texts.iter().map(|(t, q)| predict(&mut coder, &mut scratch, t, *q)).sum::<usize>());
    });
    group.bench_function("predict_all_cores", |b| {
        b.iter(|| {
            texts
                .par_iter()
                .with_min_len(512)
                .map_init(|| (Coder::default(), Scratch::default()), |(c, s), (t, q)| predict(c, s, t, *q))
                .sum::<usize>()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
