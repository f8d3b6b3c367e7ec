//! The learned theme coder: a linear, one-vs-rest model over sparse features from the
//! project's own analyzer ([`features`]), trained with dual coordinate descent ([`solver`])
//! and per-label thresholds chosen by cross-validation ([`train`]).
//!
//! A model is a JSON file (gzip when its name ends in `.gz`): a format `version`, the analyzer
//! id, the labels with their thresholds and weights, the feature settings with the vocabulary
//! and idf, the training file's sha256 and the cross-validated metrics. A model made with
//! another analyzer, or in an unknown format version, is refused with an error naming the file.

pub(crate) mod features;
pub(crate) mod solver;
pub mod train;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use self::features::{FeatureSettings, Space};
use self::solver::Linear;
use crate::code::{Codebook, Coder};
use crate::record::Question;
use crate::text::ANALYZER_ID;

/// The model file format this build writes and reads.
pub const MODEL_VERSION: u32 = 1;

/// Weights are stored as integers in units of this.
const WEIGHT_SCALE: f64 = 1e-5;

/// Model errors, each naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Not a model, or a model this build cannot use.
    #[error("{path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// What.
        message: String,
    },
}

/// The codebook whose themes are features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodebookRef {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// sha256 of its text.
    pub sha256: String,
    /// Theme codes in codebook order (feature order).
    pub themes: Vec<String>,
}

/// How the model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// The labelled file, as given.
    pub file: String,
    /// Its sha256.
    pub sha256: String,
    /// Records trained on.
    pub records: usize,
    /// Options.
    pub options: train::TrainOptions,
    /// Seconds the training took.
    pub seconds: f64,
}

/// Cross-validated scores kept in the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    /// How they were measured.
    pub method: String,
    /// Labels left out of the averages.
    pub excluded_labels: Vec<String>,
    /// Micro F1.
    pub micro_f1: f64,
    /// Micro precision.
    pub micro_precision: f64,
    /// Micro recall.
    pub micro_recall: f64,
    /// Macro F1 over labels with ≥ 5 positives.
    pub macro_f1_support5: f64,
    /// 3-class sentiment accuracy, when learned.
    pub sentiment3_accuracy: Option<f64>,
    /// 5-class sentiment accuracy, when learned.
    pub sentiment5_accuracy: Option<f64>,
    /// Per label: (label, support, F1).
    pub per_label: Vec<(String, u64, f64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HeadFile {
    name: String,
    bias: f32,
    /// dense weights in units of `weight_scale`
    weights: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LabelFile {
    #[serde(flatten)]
    head: HeadFile,
    threshold: f32,
    positives: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FeaturesFile {
    settings: FeatureSettings,
    /// term features, in index order, with their idf
    vocabulary: Vec<(String, f32)>,
    /// question features, in index order after the vocabulary
    questions: Vec<String>,
    /// codebook theme features, after the questions
    codebook: CodebookRef,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelFile {
    version: u32,
    analyzer: String,
    unheard_version: String,
    training: TrainingInfo,
    cv: CvSummary,
    features: FeaturesFile,
    weight_scale: f64,
    labels: Vec<LabelFile>,
    sentiment5: Vec<HeadFile>,
    sentiment3: Vec<HeadFile>,
}

#[derive(Deserialize)]
struct Header {
    version: Option<u32>,
    analyzer: Option<String>,
}

/// A trained model, ready to predict.
#[derive(Debug, Clone)]
pub struct Model {
    /// Label names.
    pub labels: Vec<String>,
    /// Per-label thresholds on the margin.
    pub thresholds: Vec<f32>,
    /// Training positives per label.
    pub positives: Vec<u64>,
    /// Feature space.
    pub space: Space,
    /// The codebook whose themes are features.
    pub codebook: CodebookRef,
    /// Training facts.
    pub training: TrainingInfo,
    /// Cross-validated scores.
    pub cv: CvSummary,
    /// One scorer per label.
    pub heads: Vec<Linear>,
    /// Sentiment 1…5 (empty when not learned).
    pub sentiment5: Vec<Linear>,
    /// Sentiment positive, neutral, negative (empty when not learned).
    pub sentiment3: Vec<Linear>,
    /// Feature-major weights of the label heads (`features × labels`), for prediction.
    wt: Vec<f32>,
    bias: Vec<f32>,
}

/// Per-thread scratch space for prediction.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    /// Coder for the model's own codebook, when the run uses another one.
    pub coder: Option<Box<Coder>>,
    buf: String,
    /// The last predicted labels.
    pub predicted: Vec<bool>,
    /// The last feature row.
    pub row: Vec<(u32, f32)>,
    /// The last label margins.
    pub scores: Vec<f32>,
}

impl Model {
    /// Builds a model from its parts.
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        labels: Vec<String>,
        thresholds: Vec<f32>,
        positives: Vec<u64>,
        space: Space,
        codebook: CodebookRef,
        training: TrainingInfo,
        heads: Vec<Linear>,
        sentiment5: Vec<Linear>,
        sentiment3: Vec<Linear>,
    ) -> Model {
        let f = space.len();
        let l = heads.len();
        let mut wt = vec![0f32; f * l];
        for (j, h) in heads.iter().enumerate() {
            for (i, &w) in h.w.iter().enumerate() {
                wt[i * l + j] = w;
            }
        }
        let bias = heads.iter().map(|h| h.bias).collect();
        Model {
            labels,
            thresholds,
            positives,
            space,
            codebook,
            training,
            cv: CvSummary::default(),
            heads,
            sentiment5,
            sentiment3,
            wt,
            bias,
        }
    }

    /// Margins of every label for a feature row.
    pub fn scores(&self, row: &[(u32, f32)], out: &mut Vec<f32>) {
        out.clear();
        out.extend_from_slice(&self.bias);
        let l = self.labels.len();
        for &(i, v) in row {
            let w = &self.wt[i as usize * l..(i as usize + 1) * l];
            for (o, &wi) in out.iter_mut().zip(w) {
                *o += wi * v;
            }
        }
    }

    /// Which labels are predicted from the margins: those above their threshold; an
    /// informative record with none gets the one furthest above (or least below) its threshold.
    pub fn decide(&self, scores: &[f32], informative: bool, out: &mut Vec<bool>) {
        out.clear();
        out.extend(scores.iter().zip(&self.thresholds).map(|(s, t)| s > t));
        if informative && !out.iter().any(|&p| p) {
            if let Some(j) = (0..scores.len())
                .max_by(|&a, &b| (scores[a] - self.thresholds[a]).total_cmp(&(scores[b] - self.thresholds[b])))
            {
                out[j] = true;
            }
        }
    }

    /// The argmax class of a set of heads (`None` when the heads are empty).
    #[must_use]
    pub fn classify(heads: &[Linear], row: &[(u32, f32)]) -> Option<usize> {
        let (idx, val): (Vec<u32>, Vec<f32>) = row.iter().copied().unzip();
        (0..heads.len()).max_by(|&a, &b| heads[a].margin(&idx, &val).total_cmp(&heads[b].margin(&idx, &val)))
    }

    /// The feature row of analysed tokens (`themes`: indices of the model's codebook themes found).
    pub fn row(&self, tokens: &crate::text::Tokens, question: Question, themes: &[u16], scratch: &mut Scratch) {
        self.space.row(tokens, question, themes, &mut scratch.buf, &mut scratch.row);
    }

    /// Writes the model (gzip when the name ends in `.gz`).
    ///
    /// # Errors
    /// Unwritable file.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io { path: path.to_path_buf(), source };
        let q = |h: &Linear, name: &str| HeadFile {
            name: name.to_owned(),
            bias: h.bias,
            weights: h.w.iter().map(|&w| (f64::from(w) / WEIGHT_SCALE).round() as i32).collect(),
        };
        let mut vocabulary: Vec<(String, f32)> = vec![(String::new(), 0.0); self.space.idf.len()];
        for (t, &i) in &self.space.vocab {
            vocabulary[i as usize] = (t.clone(), self.space.idf[i as usize]);
        }
        let file = ModelFile {
            version: MODEL_VERSION,
            analyzer: ANALYZER_ID.to_owned(),
            unheard_version: env!("CARGO_PKG_VERSION").to_owned(),
            training: self.training.clone(),
            cv: self.cv.clone(),
            features: FeaturesFile {
                settings: self.space.settings.clone(),
                vocabulary,
                questions: Question::ALL.iter().map(|q| q.as_str().to_owned()).collect(),
                codebook: self.codebook.clone(),
            },
            weight_scale: WEIGHT_SCALE,
            labels: self
                .heads
                .iter()
                .enumerate()
                .map(|(j, h)| LabelFile {
                    head: q(h, &self.labels[j]),
                    threshold: self.thresholds[j],
                    positives: self.positives[j],
                })
                .collect(),
            sentiment5: self.sentiment5.iter().enumerate().map(|(k, h)| q(h, &(k + 1).to_string())).collect(),
            sentiment3: self.sentiment3.iter().zip(["positive", "neutral", "negative"]).map(|(h, n)| q(h, n)).collect(),
        };
        let json = serde_json::to_vec(&file).map_err(|e| io(e.into()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let f = std::fs::File::create(path).map_err(io)?;
        if is_gz(path) {
            let mut enc = flate2::GzBuilder::new().mtime(0).write(f, flate2::Compression::default());
            enc.write_all(&json).map_err(io)?;
            enc.finish().map_err(io)?;
        } else {
            let mut f = std::io::BufWriter::new(f);
            f.write_all(&json).map_err(io)?;
            f.flush().map_err(io)?;
        }
        Ok(())
    }

    /// Reads a model.
    ///
    /// # Errors
    /// Unreadable file, not a model, an unknown format version, or another analyzer.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let io = |source| ModelError::Io { path: path.to_path_buf(), source };
        let invalid = |message: String| ModelError::Invalid { path: path.to_path_buf(), message };
        let raw = crate::files::read(path).map_err(io)?;
        let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(io)?;
            out
        } else {
            raw
        };
        let header: Header = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(format!("not an unheard model (expected JSON with a `version`): {e}")))?;
        match header.version {
            Some(MODEL_VERSION) => {}
            Some(v) => {
                return Err(invalid(format!(
                    "model format version {v} is not known to this unheard (it reads version {MODEL_VERSION}); retrain with `unheard train`"
                )))
            }
            None => return Err(invalid("not an unheard model: no `version`".to_owned())),
        }
        let analyzer = header.analyzer.unwrap_or_default();
        if analyzer != ANALYZER_ID {
            return Err(invalid(format!(
                "the model was trained with analyzer {analyzer:?} but this unheard uses {ANALYZER_ID:?}; retrain it with `unheard train`"
            )));
        }
        let file: ModelFile =
            serde_json::from_slice(&bytes).map_err(|e| invalid(format!("not a valid model file: {e}")))?;
        let space =
            Space::new(file.features.settings.clone(), &file.features.vocabulary, file.features.codebook.themes.len());
        let n = space.len();
        let head = |h: &HeadFile| -> Result<Linear, ModelError> {
            if h.weights.len() != n {
                return Err(invalid(format!("head {:?} has {} weights for {n} features", h.name, h.weights.len())));
            }
            Ok(Linear {
                w: h.weights.iter().map(|&w| (f64::from(w) * file.weight_scale) as f32).collect(),
                bias: h.bias,
            })
        };
        let heads = file.labels.iter().map(|l| head(&l.head)).collect::<Result<Vec<_>, _>>()?;
        let s5 = file.sentiment5.iter().map(head).collect::<Result<Vec<_>, _>>()?;
        let s3 = file.sentiment3.iter().map(head).collect::<Result<Vec<_>, _>>()?;
        let mut m = Model::new(
            file.labels.iter().map(|l| l.head.name.clone()).collect(),
            file.labels.iter().map(|l| l.threshold).collect(),
            file.labels.iter().map(|l| l.positives).collect(),
            space,
            file.features.codebook,
            file.training,
            heads,
            s5,
            s3,
        );
        m.cv = file.cv;
        Ok(m)
    }
}

/// A model as a run's engine uses it: its labels mapped to the run's codebook themes.
#[derive(Debug, Clone)]
pub struct ThemeModel {
    /// The model.
    pub model: Model,
    /// How its themes combine with the codebook's.
    pub policy: crate::config::Policy,
    /// Per model label, the run codebook's theme (labels with no theme are not coded).
    pub theme_of_label: Vec<Option<u16>>,
    /// The model's codebook features come from the run's own hits (same codebook) …
    pub same_book: bool,
    /// … or from this codebook (the built-in one), run again.
    pub feature_book: Option<Codebook>,
    /// Theme index of the codebook that supplies hits → the model's theme feature.
    feature_of_theme: Vec<Option<u16>>,
}

impl ThemeModel {
    /// Loads a model and maps its labels to the themes of `book` with a `theme_code,label` map.
    ///
    /// # Errors
    /// Unusable model, unreadable map, or a map naming a theme the codebook lacks or a label
    /// the model lacks.
    pub fn load(
        path: &Path,
        label_map: &Path,
        book: &Codebook,
        policy: crate::config::Policy,
    ) -> Result<ThemeModel, ModelError> {
        let model = Model::load(path)?;
        let invalid = |message: String| ModelError::Invalid { path: label_map.to_path_buf(), message };
        let map = crate::evaluate::read_label_map(label_map).map_err(|e| invalid(e.to_string()))?;
        let mut theme_of_label = vec![None; model.labels.len()];
        for (code, label) in &map {
            let t = book
                .themes
                .iter()
                .position(|t| &t.code == code)
                .ok_or_else(|| invalid(format!("theme {code:?} is not in the codebook {}", book.name)))?;
            let j =
                model.labels.iter().position(|l| l == label).ok_or_else(|| {
                    invalid(format!("label {label:?} is not a label of the model {}", path.display()))
                })?;
            theme_of_label[j] = u16::try_from(t).ok();
        }
        let same_book = book.sha256 == model.codebook.sha256;
        let feature_book = (!same_book).then(train::builtin_codebook);
        let hit_book = feature_book.as_ref().unwrap_or(book);
        let feature_of_theme = hit_book
            .themes
            .iter()
            .map(|t| model.codebook.themes.iter().position(|c| c == &t.code).and_then(|p| u16::try_from(p).ok()))
            .collect();
        Ok(ThemeModel { model, policy, theme_of_label, same_book, feature_book, feature_of_theme })
    }

    /// The run codebook's themes the model predicts for a text (sorted, distinct).
    /// `hits` are the run codebook's themes and `tokens` the text's tokens.
    pub fn themes(
        &self,
        safe: &str,
        question: Question,
        hits: &[u16],
        tokens: &crate::text::Tokens,
        informative: bool,
        scratch: &mut Scratch,
    ) -> Vec<u16> {
        let mut features: Vec<u16> = Vec::new();
        let tokens = if let Some(book) = &self.feature_book {
            let coder = scratch.coder.get_or_insert_with(Box::default);
            features.extend(
                book.code(safe, question, coder).iter().filter_map(|h| self.feature_of_theme[usize::from(h.theme)]),
            );
            &coder.tokens
        } else {
            features.extend(hits.iter().filter_map(|&h| self.feature_of_theme[usize::from(h)]));
            tokens
        };
        self.model.space.row(tokens, question, &features, &mut scratch.buf, &mut scratch.row);
        self.model.scores(&scratch.row, &mut scratch.scores);
        self.model.decide(&scratch.scores, informative, &mut scratch.predicted);
        let mut out: Vec<u16> = scratch
            .predicted
            .iter()
            .zip(&self.theme_of_label)
            .filter_map(|(&p, t)| if p { *t } else { None })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// sha256 of a file, in hex.
///
/// # Errors
/// Unreadable file.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    Ok(format!("{:x}", Sha256::digest(crate::files::read(path)?)))
}
