//! Linear solver: dual coordinate descent for the L2-regularised, L2-loss (squared hinge)
//! linear SVM, with shrinking — liblinear's solver 1 (Hsieh et al., ICML 2008), the loss
//! scikit-learn's `LinearSVC` uses by default. The bias is a feature of value 1 (regularised,
//! as in liblinear).

/// Sparse rows (CSR): row `i` is `indices[indptr[i]..indptr[i + 1]]` with its `values`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Csr {
    /// Row starts (one more than the rows).
    pub indptr: Vec<usize>,
    /// Feature indices.
    pub indices: Vec<u32>,
    /// Values.
    pub values: Vec<f32>,
    /// Number of features (columns).
    pub cols: usize,
}

impl Csr {
    /// An empty matrix with `cols` columns.
    #[must_use]
    pub(crate) fn new(cols: usize) -> Csr {
        Csr { indptr: vec![0], indices: Vec::new(), values: Vec::new(), cols }
    }

    /// Appends a row.
    pub(crate) fn push(&mut self, row: &[(u32, f32)]) {
        for &(i, v) in row {
            self.indices.push(i);
            self.values.push(v);
        }
        self.indptr.push(self.indices.len());
    }

    /// Rows.
    #[must_use]
    pub(crate) fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Row `i`.
    #[must_use]
    pub(crate) fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[s..e], &self.values[s..e])
    }
}

/// A linear scorer: `w·x + bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Weights, one per feature.
    pub w: Vec<f32>,
    /// Bias.
    pub bias: f32,
}

impl Linear {
    /// The margin of a sparse row.
    #[must_use]
    pub fn margin(&self, idx: &[u32], val: &[f32]) -> f32 {
        let mut s = self.bias;
        for (&i, &v) in idx.iter().zip(val) {
            s += self.w[i as usize] * v;
        }
        s
    }
}

/// Solver settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SolverOptions {
    /// Inverse regularisation strength.
    pub c: f64,
    /// Stopping tolerance on the projected gradient's spread (liblinear's default 0.1).
    pub eps: f64,
    /// Most passes over the data.
    pub max_iter: usize,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions { c: 0.5, eps: 0.1, max_iter: 300 }
    }
}

/// A small, fast, deterministic generator (splitmix64) for the visiting order.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// Trains one binary L2-loss SVM on the rows `x` with labels `y` (true = positive).
/// Deterministic for a seed.
#[must_use]
pub(crate) fn train_binary(x: &Csr, y: &[bool], opts: &SolverOptions, seed: u64) -> Linear {
    let n = x.rows();
    let mut w = vec![0f64; x.cols];
    let mut b = 0f64;
    if n == 0 {
        return Linear { w: vec![0.0; x.cols], bias: 0.0 };
    }
    let diag = 0.5 / opts.c;
    let sign: Vec<f64> = y.iter().map(|&p| if p { 1.0 } else { -1.0 }).collect();
    let qd: Vec<f64> = (0..n)
        .map(|i| {
            let (_, v) = x.row(i);
            diag + 1.0 + v.iter().map(|&a| f64::from(a) * f64::from(a)).sum::<f64>()
        })
        .collect();
    let mut alpha = vec![0f64; n];
    let mut index: Vec<usize> = (0..n).collect();
    let mut active = n;
    let mut rng = SplitMix(seed);
    let mut pg_max_old = f64::INFINITY;
    for _ in 0..opts.max_iter {
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for i in 0..active {
            let j = i + rng.below(active - i);
            index.swap(i, j);
        }
        let mut s = 0;
        while s < active {
            let i = index[s];
            let (idx, val) = x.row(i);
            let yi = sign[i];
            let mut wx = b;
            for (&k, &v) in idx.iter().zip(val) {
                wx += w[k as usize] * f64::from(v);
            }
            let g = yi * wx - 1.0 + diag * alpha[i];
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    // shrink: this point stays at its bound
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qd[i]).max(0.0);
                let d = (alpha[i] - old) * yi;
                for (&k, &v) in idx.iter().zip(val) {
                    w[k as usize] += d * f64::from(v);
                }
                b += d;
            }
            s += 1;
        }
        if pg_max - pg_min <= opts.eps {
            if active == n {
                break;
            }
            // check once more on everything before stopping
            active = n;
            pg_max_old = f64::INFINITY;
            continue;
        }
        // (no upper bound on alpha for the L2 loss, so only the lower side shrinks)
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
    }
    Linear { w: w.into_iter().map(|v| v as f32).collect(), bias: b as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Csr, Vec<bool>) {
        // positives have feature 0, negatives feature 1; feature 2 is noise on both
        let mut x = Csr::new(3);
        let mut y = Vec::new();
        for i in 0..40 {
            let pos = i % 2 == 0;
            let noise = if i % 3 == 0 { 0.5 } else { 0.0 };
            x.push(&[(if pos { 0 } else { 1 }, 1.0), (2, noise)]);
            y.push(pos);
        }
        (x, y)
    }

    #[test]
    fn learns_a_separable_set() {
        let (x, y) = toy();
        let m = train_binary(&x, &y, &SolverOptions::default(), 7);
        for (i, &yi) in y.iter().enumerate() {
            let (idx, val) = x.row(i);
            assert_eq!(m.margin(idx, val) > 0.0, yi, "row {i}");
        }
        assert!(m.w[0] > 0.5 && m.w[1] < -0.5, "{:?}", m.w);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (x, y) = toy();
        let o = SolverOptions::default();
        assert_eq!(train_binary(&x, &y, &o, 3), train_binary(&x, &y, &o, 3));
    }
}
