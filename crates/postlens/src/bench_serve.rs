//! `postlens bench-serve`: the postlens side of `make bench-compare`
//! (`scripts/bench_compare.py`). It loads each model once, then answers one JSON request per
//! stdin line with one JSON line of timings, so the script can alternate between this process
//! and the Python peers' process on the same inputs and the same core. Only the work a peer
//! also does is inside the timed region; inputs are prepared before it.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::Context;
use serde::Deserialize;
use serde_json::{json, Value};

use postlens_analysis::slop::ScoreOptions;
use postlens_models::smollm2::Token;
use postlens_models::{RgbView, SentenceEmbedder, SmolLm2, YoloxNano};
use postlens_runtime::metrics::elapsed_ms;

#[derive(Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
enum Request {
    /// Splits `text` into the sentences the text scorer embeds (no timing).
    Sentences { text: String },
    /// SmolLM2 token ids of `text`, at most `limit` (no timing).
    Tokenize { text: String, limit: usize },
    /// Each rep embeds every text alone, one forward pass per text (a lone SQS record).
    EmbedEach { texts: Vec<String>, reps: usize },
    /// Each rep embeds all texts in one call (a document's sentences).
    EmbedBatch { texts: Vec<String>, reps: usize },
    /// Each rep scores every position of `ids` (the document start is prepended).
    Surprisal { ids: Vec<u32>, reps: usize },
    /// Writes the detector's 416x416 letterboxed BGR input (f32, planar, 0..255) of an RGB
    /// frame to `out`, for a peer to run on exactly the same values (no timing).
    DetectorInput {
        rgb: PathBuf,
        width: usize,
        height: usize,
        out: PathBuf,
    },
    /// Each rep runs the detector network once on the frame's prepared input.
    DetectorForward {
        rgb: PathBuf,
        width: usize,
        height: usize,
        reps: usize,
    },
    /// Each rep picks and crops thumbnails from the clip (the Lambda's work minus S3).
    Thumbnail { video: PathBuf, reps: usize },
    /// Each rep scores every text with both models (the Lambda's work minus S3 and SNS).
    Score {
        texts: Vec<String>,
        domain: String,
        reps: usize,
    },
}

/// Models, loaded on first use: a comparison that skips a peer does not pay for its model.
struct Models {
    dir: PathBuf,
    embedder: OnceLock<SentenceEmbedder>,
    language_model: OnceLock<SmolLm2>,
    detector: OnceLock<YoloxNano>,
    scorer: OnceLock<text_scorer::Models>,
}

impl Models {
    fn embedder(&self) -> anyhow::Result<&SentenceEmbedder> {
        get_or_load(&self.embedder, || {
            SentenceEmbedder::load(&self.dir.join("minilm-l6-v2"))
        })
    }

    fn language_model(&self) -> anyhow::Result<&SmolLm2> {
        get_or_load(&self.language_model, || {
            SmolLm2::load(&self.dir.join("smollm2-135m"))
        })
    }

    fn detector(&self) -> anyhow::Result<&YoloxNano> {
        get_or_load(&self.detector, || {
            YoloxNano::load(&self.dir.join("yolox-nano"))
        })
    }

    fn scorer(&self) -> anyhow::Result<&text_scorer::Models> {
        get_or_load(&self.scorer, || text_scorer::Models::load(&self.dir))
    }
}

fn get_or_load<T>(
    cell: &OnceLock<T>,
    load: impl FnOnce() -> Result<T, postlens_models::ModelError>,
) -> anyhow::Result<&T> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = load()?;
    Ok(cell.get_or_init(|| value))
}

/// Serves requests from stdin until it closes.
pub fn run(model_dir: &Path) -> anyhow::Result<()> {
    let models = Models {
        dir: model_dir.to_owned(),
        embedder: OnceLock::new(),
        language_model: OnceLock::new(),
        detector: OnceLock::new(),
        scorer: OnceLock::new(),
    };
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading a request")?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                answer(&models, request).unwrap_or_else(|e| json!({"error": format!("{e:#}")}))
            }
            Err(e) => json!({"error": format!("bad request: {e}")}),
        };
        let mut out = stdout.lock();
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    Ok(())
}

/// Milliseconds of each of `reps` runs of `work`.
fn time_reps(reps: usize, mut work: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Value> {
    let mut ms = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let started = Instant::now();
        work()?;
        ms.push(elapsed_ms(started));
    }
    Ok(json!({ "ms": ms }))
}

fn read_frame(rgb: &Path, width: usize, height: usize) -> anyhow::Result<Vec<u8>> {
    let pixels = std::fs::read(rgb).with_context(|| format!("reading {}", rgb.display()))?;
    anyhow::ensure!(
        pixels.len() == width * height * 3,
        "{} holds {} bytes, not {width}x{height} RGB",
        rgb.display(),
        pixels.len()
    );
    Ok(pixels)
}

fn answer(models: &Models, request: Request) -> anyhow::Result<Value> {
    match request {
        Request::Sentences { text } => {
            Ok(json!({ "sentences": postlens_analysis::slop::sentences(&text) }))
        }
        Request::Tokenize { text, limit } => {
            let mut tokens = models.language_model()?.tokenize(&text)?;
            tokens.truncate(limit);
            let ids: Vec<u32> = tokens.iter().map(|token| token.id).collect();
            Ok(json!({ "ids": ids }))
        }
        Request::EmbedEach { texts, reps } => {
            let embedder = models.embedder()?;
            time_reps(reps, || {
                for text in &texts {
                    embedder.embed(&[text.as_str()])?;
                }
                Ok(())
            })
        }
        Request::EmbedBatch { texts, reps } => {
            let embedder = models.embedder()?;
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            time_reps(reps, || {
                embedder.embed(&refs)?;
                Ok(())
            })
        }
        Request::Surprisal { ids, reps } => {
            let language_model = models.language_model()?;
            // Byte ranges only label the output; the pass does not read them.
            let tokens: Vec<Token> = ids
                .iter()
                .map(|&id| Token {
                    id,
                    start: 0,
                    end: 0,
                })
                .collect();
            time_reps(reps, || {
                language_model.surprisals(&tokens)?;
                Ok(())
            })
        }
        Request::DetectorInput {
            rgb,
            width,
            height,
            out,
        } => {
            let pixels = read_frame(&rgb, width, height)?;
            let (focus, scale) = postlens_models::yolox::focus_input(RgbView {
                width,
                height,
                pixels: &pixels,
            })?;
            let planar = unfocus(&focus.flatten_all()?.to_vec1::<f32>()?);
            let bytes: Vec<u8> = planar.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            Ok(json!({ "scale": scale, "size": postlens_models::yolox::INPUT_SIZE }))
        }
        Request::DetectorForward {
            rgb,
            width,
            height,
            reps,
        } => {
            let detector = models.detector()?;
            let pixels = read_frame(&rgb, width, height)?;
            let (focus, _) = postlens_models::yolox::focus_input(RgbView {
                width,
                height,
                pixels: &pixels,
            })?;
            time_reps(reps, || {
                detector.forward(&focus)?;
                Ok(())
            })
        }
        Request::Thumbnail { video, reps } => {
            let detector = models.detector()?;
            let clip =
                std::fs::read(&video).with_context(|| format!("reading {}", video.display()))?;
            let settings = thumbnail_generator::Settings::default();
            time_reps(reps, || {
                thumbnail_generator::generate(
                    thumbnail_generator::Media::Video(&clip),
                    detector,
                    &settings,
                )?;
                Ok(())
            })
        }
        Request::Score {
            texts,
            domain,
            reps,
        } => {
            let scorer = models.scorer()?;
            let options = ScoreOptions::default();
            let inputs: Vec<text_scorer::TextSubmitted> = texts
                .iter()
                .enumerate()
                .map(|(i, text)| text_scorer::TextSubmitted {
                    doc_id: format!("bench-{i}"),
                    domain: domain.clone(),
                    text: Some(text.clone()),
                    s3_uri: None,
                    prompt: None,
                    references: Vec::new(),
                    options: None,
                })
                .collect();
            time_reps(reps, || {
                for (text, input) in texts.iter().zip(&inputs) {
                    text_scorer::score_document(scorer, text, input, &options)?;
                }
                Ok(())
            })
        }
    }
}

/// The Focus stem's 12-channel space-to-depth layout back to a planar 3x416x416 BGR image
/// (the inverse of `focus_input`'s rearrangement: channel `(quadrant * 3 + bgr)` holds pixel
/// `(2 * col + quadrant / 2, 2 * row + quadrant % 2)`).
fn unfocus(focus: &[f32]) -> Vec<f32> {
    let size = postlens_models::yolox::INPUT_SIZE;
    let half = size / 2;
    let plane = half * half;
    let mut planar = vec![0.0; 3 * size * size];
    for y in 0..size {
        for x in 0..size {
            let quadrant = (x % 2) * 2 + (y % 2);
            let offset = (y / 2) * half + x / 2;
            for bgr in 0..3 {
                planar[bgr * size * size + y * size + x] =
                    focus[(quadrant * 3 + bgr) * plane + offset];
            }
        }
    }
    planar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfocus_inverts_the_focus_layout() {
        // A frame already 416x416 is not rescaled, so the letterboxed BGR image is the frame.
        let size = postlens_models::yolox::INPUT_SIZE;
        let pixels: Vec<u8> = (0..size * size * 3).map(|i| (i * 7 % 251) as u8).collect();
        let (focus, scale) = postlens_models::yolox::focus_input(RgbView {
            width: size,
            height: size,
            pixels: &pixels,
        })
        .expect("focus input");
        assert_eq!(scale, 1.0);
        let planar = unfocus(&focus.flatten_all().unwrap().to_vec1::<f32>().unwrap());
        for (y, x) in [(0, 0), (1, 0), (0, 1), (200, 317), (size - 1, size - 1)] {
            for (bgr, rgb) in [(0, 2), (1, 1), (2, 0)] {
                assert_eq!(
                    planar[bgr * size * size + y * size + x],
                    pixels[(y * size + x) * 3 + rgb] as f32,
                    "pixel ({x}, {y}) channel {bgr}"
                );
            }
        }
    }
}
