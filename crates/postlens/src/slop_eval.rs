//! `postlens eval-slop`: how well slop scores separate Sloposcope's own test texts.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use postlens_analysis::slop::{Axis, ScoreOptions, SlopResult, CALIBRATION, PRIOR_WEIGHTS};
use serde::Deserialize;
use text_scorer::{score_document, Models, TextSubmitted};

#[derive(Deserialize)]
struct DatasetText {
    doc_id: String,
    text: String,
    domain: String,
    expected_slop_range: f64,
}

/// fixtures/slop/calibration.jsonl (texts written for fitting) and zero-shot.jsonl (issue
/// 30's held-out set): labelled `slop` or `human`; the held-out set names each text's kind.
#[derive(Deserialize)]
struct LabelledText {
    doc_id: String,
    text: String,
    domain: String,
    label: String,
    #[serde(default)]
    kind: String,
}

impl LabelledText {
    fn is_slop(&self) -> bool {
        self.label == "slop"
    }
}

fn read_labelled(path: &Path) -> anyhow::Result<Vec<LabelledText>> {
    std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).with_context(|| format!("{}: {line}", path.display()))
        })
        .collect()
}

/// The probability that a random slop text scores above a random human one (ties count
/// half): the area under the ROC curve.
fn auroc(slop: &[f64], human: &[f64]) -> f64 {
    let pairs = (slop.len() * human.len()).max(1) as f64;
    let wins: f64 = slop
        .iter()
        .flat_map(|s| human.iter().map(move |h| (s, h)))
        .map(|(s, h)| match s.total_cmp(h) {
            std::cmp::Ordering::Greater => 1.0,
            std::cmp::Ordering::Equal => 0.5,
            std::cmp::Ordering::Less => 0.0,
        })
        .sum();
    wins / pairs
}

/// The share of slop texts flagged at the strictest threshold that lets at most `fpr` of the
/// human texts through (with fewer than 100 human texts at 1 %, none may be above it).
fn tpr_at_fpr(slop: &[f64], human: &[f64], fpr: f64) -> f64 {
    let mut sorted = human.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = (fpr * human.len() as f64).floor() as usize;
    let threshold = sorted.get(allowed).copied().unwrap_or(f64::MIN);
    slop.iter().filter(|s| **s > threshold).count() as f64 / slop.len().max(1) as f64
}

#[derive(Deserialize)]
struct InlineCase {
    name: String,
    text: String,
    expected: String,
    domain: String,
}

/// Scores texts and, with `--dump`, keeps every result (metrics and their sub-fields, no
/// spans) beside its set and label, so that ranges and weights can be explored offline.
struct Scorer<'a> {
    models: &'a Models,
    dumped: Option<std::cell::RefCell<Vec<serde_json::Value>>>,
}

impl Scorer<'_> {
    fn score(
        &self,
        set: &str,
        label: f64,
        doc_id: &str,
        text: &str,
        domain: &str,
    ) -> anyhow::Result<SlopResult> {
        let result = score(self.models, doc_id, text, domain)?;
        if let Some(dumped) = &self.dumped {
            dumped.borrow_mut().push(serde_json::json!({
                "set": set,
                "label": label,
                "doc_id": doc_id,
                "domain": domain,
                "slop_score": result.slop_score,
                "metrics": result.metrics,
            }));
        }
        Ok(result)
    }

    fn write_dump(&self, path: &Path) -> anyhow::Result<()> {
        let Some(dumped) = &self.dumped else {
            return Ok(());
        };
        let lines: Vec<String> = dumped.borrow().iter().map(|v| v.to_string()).collect();
        std::fs::write(path, lines.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }
}

fn score(models: &Models, doc_id: &str, text: &str, domain: &str) -> anyhow::Result<SlopResult> {
    let input = TextSubmitted {
        doc_id: doc_id.to_owned(),
        domain: domain.to_owned(),
        text: Some(text.to_owned()),
        s3_uri: None,
        prompt: None,
        references: Vec::new(),
        options: None,
    };
    Ok(score_document(models, text, &input, &ScoreOptions::default())?.result)
}

/// Spearman's rank correlation (average ranks for ties).
fn spearman(xs: &[f64], ys: &[f64]) -> f64 {
    fn ranks(values: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut ranks = vec![0.0; values.len()];
        let mut i = 0;
        while i < order.len() {
            let mut j = i;
            while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
                j += 1;
            }
            let average = (i + j) as f64 / 2.0 + 1.0;
            for k in i..=j {
                ranks[order[k]] = average;
            }
            i = j + 1;
        }
        ranks
    }
    let (rx, ry) = (ranks(xs), ranks(ys));
    let n = xs.len() as f64;
    let mean = (n + 1.0) / 2.0;
    let cov: f64 = rx
        .iter()
        .zip(&ry)
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum();
    let var_x: f64 = rx.iter().map(|a| (a - mean).powi(2)).sum();
    let var_y: f64 = ry.iter().map(|b| (b - mean).powi(2)).sum();
    cov / (var_x * var_y).sqrt()
}

/// Non-negative least squares, `y ≈ intercept + Σ β_i x_i` with β ≥ 0, by coordinate
/// descent on centred data with a small ridge (the axes are correlated).
fn nnls(rows: &[[f64; 11]], y: &[f64]) -> ([f64; 11], f64) {
    let n = rows.len() as f64;
    let mut means = [0.0; 11];
    for row in rows {
        for (m, v) in means.iter_mut().zip(row) {
            *m += v / n;
        }
    }
    let y_mean = y.iter().sum::<f64>() / n;
    let x: Vec<[f64; 11]> = rows
        .iter()
        .map(|row| std::array::from_fn(|j| row[j] - means[j]))
        .collect();
    let mut residual: Vec<f64> = y.iter().map(|v| v - y_mean).collect();
    let mut beta = [0.0f64; 11];
    let ridge = 0.05;
    for _ in 0..2000 {
        for j in 0..11 {
            let norm: f64 = x.iter().map(|r| r[j] * r[j]).sum();
            if norm == 0.0 {
                continue;
            }
            let along: f64 = x.iter().zip(&residual).map(|(r, e)| r[j] * e).sum();
            let updated = ((along + norm * beta[j]) / (norm + ridge)).max(0.0);
            let change = updated - beta[j];
            if change != 0.0 {
                for (e, r) in residual.iter_mut().zip(&x) {
                    *e -= change * r[j];
                }
                beta[j] = updated;
            }
        }
    }
    let intercept = y_mean - beta.iter().zip(&means).map(|(b, m)| b * m).sum::<f64>();
    (beta, intercept)
}

/// The `general` weights fitted to the expected scores, checked on domains held out of the
/// fit (the dataset's texts come in same-domain triples and sextuples that share a style and
/// an expected score, so a row-wise split would leak), next to the prior weights.
/// Each result's 11 axis values in `Axis::ALL` order; an axis not measured on a text (too short
/// for coherence) takes that axis's mean.
fn axis_rows<'a>(results: impl IntoIterator<Item = &'a SlopResult>) -> Vec<[f64; 11]> {
    let mut rows: Vec<[f64; 11]> = results
        .into_iter()
        .map(|r| {
            std::array::from_fn(|j| {
                r.metrics
                    .get(Axis::ALL[j].name())
                    .and_then(|m| m.value)
                    .map_or(f64::NAN, f64::from)
            })
        })
        .collect();
    // An axis not measured on a text (too short for coherence) takes the axis mean.
    for j in 0..11 {
        let present: Vec<f64> = rows.iter().map(|r| r[j]).filter(|v| !v.is_nan()).collect();
        let mean = present.iter().sum::<f64>() / present.len().max(1) as f64;
        rows.iter_mut()
            .filter(|r| r[j].is_nan())
            .for_each(|r| r[j] = mean);
    }
    rows
}

fn fit_weights(
    out: &mut String,
    dataset: &[DatasetText],
    results: &[SlopResult],
    expected: &[f64],
    calibration: &[(SlopResult, f64)],
) -> anyhow::Result<()> {
    let rows = axis_rows(results);
    // Each axis alone: positive means higher values go with more expected slop.
    let directions: Vec<String> = (0..11)
        .map(|j| {
            let column: Vec<f64> = rows.iter().map(|r| r[j]).collect();
            format!(
                "{} {:+.2}",
                Axis::ALL[j].name(),
                spearman(&column, expected)
            )
        })
        .collect();
    writeln!(
        out,
        "each axis alone, Spearman rho with expected: {}",
        directions.join(", ")
    )?;
    let hand: [f64; 11] = std::array::from_fn(|j| f64::from(PRIOR_WEIGHTS.0[j]));
    let weighted = |w: &[f64; 11], row: &[f64; 11]| {
        let total: f64 = w.iter().sum();
        w.iter().zip(row).map(|(a, b)| a * b).sum::<f64>() / total.max(f64::EPSILON)
    };
    let mut domains: Vec<&str> = dataset.iter().map(|d| d.domain.as_str()).collect();
    domains.sort();
    domains.dedup();
    let (mut fitted_rho, mut hand_rho) = (Vec::new(), Vec::new());
    for fold in 0..2 {
        let held_out = |i: usize| {
            domains
                .iter()
                .position(|d| *d == dataset[i].domain)
                .is_some_and(|p| p % 2 == fold)
        };
        let (train, test): (Vec<usize>, Vec<usize>) = (0..rows.len()).partition(|&i| !held_out(i));
        let train_rows: Vec<[f64; 11]> = train.iter().map(|&i| rows[i]).collect();
        let train_y: Vec<f64> = train.iter().map(|&i| expected[i]).collect();
        let (beta, _) = nnls(&train_rows, &train_y);
        let test_y: Vec<f64> = test.iter().map(|&i| expected[i]).collect();
        let fitted: Vec<f64> = test.iter().map(|&i| weighted(&beta, &rows[i])).collect();
        let by_hand: Vec<f64> = test.iter().map(|&i| weighted(&hand, &rows[i])).collect();
        fitted_rho.push(spearman(&fitted, &test_y));
        hand_rho.push(spearman(&by_hand, &test_y));
    }
    // Weights fitted on texts written for calibration (slop 1, human 0), then scored on the
    // whole dataset, which the fit never saw.
    let calibration_rows = axis_rows(calibration.iter().map(|(r, _)| r));
    let labels: Vec<f64> = calibration.iter().map(|(_, label)| *label).collect();
    let (own, _) = nnls(&calibration_rows, &labels);
    let on_dataset = |w: &[f64; 11]| {
        let scores: Vec<f64> = rows.iter().map(|r| weighted(w, r)).collect();
        spearman(&scores, expected)
    };
    writeln!(
        out,
        "weights fitted on {} calibration texts, scored on all of test_dataset.json: Spearman rho {:.3} (prior {:.3}); weights: {}",
        calibration.len(),
        on_dataset(&own),
        on_dataset(&hand),
        Axis::ALL
            .iter()
            .zip(&own)
            .map(|(axis, b)| format!("{} {:.2}", axis.name(), b / own.iter().sum::<f64>().max(f64::EPSILON) * 11.0))
            .collect::<Vec<_>>()
            .join(", ")
    )?;

    // Shrunk halfway toward the prior (24 texts are few; the fit zeroes axes that
    // its texts happen not to need).
    let scale = |w: &[f64; 11]| -> [f64; 11] {
        let total = w.iter().sum::<f64>().max(f64::EPSILON);
        std::array::from_fn(|j| w[j] / total * 11.0)
    };
    let (own_scaled, hand_scaled) = (scale(&own), scale(&hand));
    let blend: [f64; 11] = std::array::from_fn(|j| 0.5 * own_scaled[j] + 0.5 * hand_scaled[j]);
    writeln!(
        out,
        "halfway between fitted and prior: Spearman rho {:.3}; weights: {}",
        on_dataset(&blend),
        Axis::ALL
            .iter()
            .zip(&blend)
            .map(|(axis, w)| format!("{} {w:.2}", axis.name()))
            .collect::<Vec<_>>()
            .join(", ")
    )?;

    let (beta, intercept) = nnls(&rows, expected);
    let total: f64 = beta.iter().sum();
    writeln!(
        out,
        "weights fitted on the dataset itself, checked on held-out domains (two folds), Spearman rho: fitted {:.3} / {:.3}, prior {:.3} / {:.3}",
        fitted_rho[0], fitted_rho[1], hand_rho[0], hand_rho[1]
    )?;
    writeln!(
        out,
        "fitted on all texts (non-negative least squares; weights scaled to sum 11, line = sum of coefficients, intercept):"
    )?;
    for (axis, b) in Axis::ALL.iter().zip(&beta) {
        writeln!(
            out,
            "  {:<12} {:.2}",
            axis.name(),
            b / total.max(f64::EPSILON) * 11.0
        )?;
    }
    writeln!(out, "  line: slope {total:.3} intercept {intercept:.3}")?;
    Ok(())
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn run(
    data: &Path,
    calibration: &Path,
    held_out: &Path,
    dump: Option<&Path>,
    models: &Models,
) -> anyhow::Result<String> {
    let scorer = Scorer {
        models,
        dumped: dump.map(|_| Default::default()),
    };
    let read = |name: &str| {
        let path = data.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let dataset: Vec<DatasetText> = serde_json::from_str(&read("test_dataset.json")?)?;
    let cases: Vec<InlineCase> = serde_json::from_str(&read("inline_cases.json")?)?;
    let mut out = String::new();

    let mut expected = Vec::new();
    let mut results = Vec::new();
    for item in &dataset {
        expected.push(item.expected_slop_range);
        results.push(scorer.score(
            "test_dataset",
            item.expected_slop_range,
            &item.doc_id,
            &item.text,
            &item.domain,
        )?);
    }
    let scores: Vec<f64> = results.iter().map(|r| f64::from(r.slop_score)).collect();
    writeln!(
        out,
        "test_dataset.json: {} texts, Spearman rho(score, expected) = {:.3}",
        dataset.len(),
        spearman(&scores, &expected)
    )?;
    let mut buckets: Vec<f64> = expected.clone();
    buckets.sort_by(f64::total_cmp);
    buckets.dedup();
    for bucket in buckets {
        let in_bucket: Vec<f64> = scores
            .iter()
            .zip(&expected)
            .filter(|(_, e)| **e == bucket)
            .map(|(s, _)| *s)
            .collect();
        let mean = in_bucket.iter().sum::<f64>() / in_bucket.len() as f64;
        writeln!(
            out,
            "  expected {bucket:.1}: {} texts, mean score {mean:.3}",
            in_bucket.len()
        )?;
    }

    // The calibration slop::CALIBRATION holds: a least-squares line from raw score to
    // expected score, fitted on even-numbered texts and checked on odd ones.
    let raw: Vec<f64> = scores
        .iter()
        .map(|s| CALIBRATION.invert(*s as f32) as f64)
        .collect();
    let fit = |indices: &[usize]| {
        let n = indices.len() as f64;
        let mx = indices.iter().map(|&i| raw[i]).sum::<f64>() / n;
        let my = indices.iter().map(|&i| expected[i]).sum::<f64>() / n;
        let sxy: f64 = indices
            .iter()
            .map(|&i| (raw[i] - mx) * (expected[i] - my))
            .sum();
        let sxx: f64 = indices.iter().map(|&i| (raw[i] - mx).powi(2)).sum();
        let slope = sxy / sxx.max(f64::EPSILON);
        (slope, my - slope * mx)
    };
    let even: Vec<usize> = (0..raw.len()).step_by(2).collect();
    let odd: Vec<usize> = (1..raw.len()).step_by(2).collect();
    let all: Vec<usize> = (0..raw.len()).collect();
    let (slope, intercept) = fit(&even);
    let held_out_error = odd
        .iter()
        .map(|&i| ((slope * raw[i] + intercept).clamp(0.0, 1.0) - expected[i]).abs())
        .sum::<f64>()
        / odd.len() as f64;
    let (slope_all, intercept_all) = fit(&all);
    writeln!(
        out,
        "calibration: fitted on even texts slope {slope:.3} intercept {intercept:.3} (mean abs error on odd texts {held_out_error:.3}); on all texts slope {slope_all:.3} intercept {intercept_all:.3}"
    )?;

    let calibration_texts = read_labelled(calibration)?;
    let mut calibration_set = Vec::new();
    for text in &calibration_texts {
        let label = if text.is_slop() { 1.0 } else { 0.0 };
        calibration_set.push((
            scorer.score("calibration", label, &text.doc_id, &text.text, &text.domain)?,
            label,
        ));
    }
    let held_out_texts = read_labelled(held_out)?;
    let mut held_out_set = Vec::new();
    for text in &held_out_texts {
        let label = if text.is_slop() { 1.0 } else { 0.0 };
        held_out_set.push((
            scorer.score("held_out", label, &text.doc_id, &text.text, &text.domain)?,
            label,
        ));
    }
    language_model_statistics(
        &mut out,
        &results,
        &expected,
        &calibration_set,
        &held_out_set,
    )?;
    fit_weights(&mut out, &dataset, &results, &expected, &calibration_set)?;

    let mut high = Vec::new();
    let mut low = Vec::new();
    for case in &cases {
        let s = f64::from(
            scorer
                .score(
                    "inline",
                    if case.expected == "high" { 1.0 } else { 0.0 },
                    &case.name,
                    &case.text,
                    &case.domain,
                )?
                .slop_score,
        );
        if case.expected == "high" {
            high.push((s, &case.name))
        } else {
            low.push((s, &case.name))
        }
    }
    // At the default Sloppy threshold, and at the best single threshold (an upper bound).
    let agree = |threshold: f64| {
        high.iter().filter(|(s, _)| *s >= threshold).count()
            + low.iter().filter(|(s, _)| *s < threshold).count()
    };
    let best = (0..100)
        .map(|t| t as f64 / 100.0)
        .map(|t| (agree(t), t))
        .max_by_key(|(n, _)| *n)
        .unwrap_or((0, 0.5));
    writeln!(
        out,
        "inline_cases.json: {}/{} right at the Sloppy threshold 0.50; {}/{} at the best threshold {:.2}",
        agree(0.5),
        cases.len(),
        best.0,
        cases.len(),
        best.1
    )?;
    for (s, name) in high.iter().chain(&low) {
        writeln!(out, "  {s:.3}  {name}")?;
    }

    // examples/: its README says AI examples should score > 0.70 and human ones < 0.50.
    const AI_EXAMPLES: [&str; 3] = ["ai_slop", "corporate_slop", "extreme_ai_slop"];
    let mut names: Vec<String> = std::fs::read_dir(data.join("examples"))
        .with_context(|| format!("reading {}", data.join("examples").display()))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".txt").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut example_scores = Vec::new();
    for name in &names {
        let text = read(&format!("examples/{name}.txt"))?;
        let result = scorer.score(
            "examples",
            if AI_EXAMPLES.contains(&name.as_str()) {
                1.0
            } else {
                0.0
            },
            name,
            &text,
            "general",
        )?;
        let ai = AI_EXAMPLES.contains(&name.as_str());
        example_scores.push((ai, f64::from(result.slop_score)));
        writeln!(
            out,
            "  example {name:<18} {} {:.3} {}",
            if ai { "AI   " } else { "human" },
            result.slop_score,
            result.level.as_str()
        )?;
    }
    let lowest_ai = example_scores
        .iter()
        .filter(|(ai, _)| *ai)
        .map(|(_, s)| *s)
        .fold(f64::MAX, f64::min);
    let highest_human = example_scores
        .iter()
        .filter(|(ai, _)| !*ai)
        .map(|(_, s)| *s)
        .fold(f64::MIN, f64::max);
    writeln!(
        out,
        "examples/: {} AI above 0.70, {} human below 0.50 (of {} / {}); every AI example above every human one: {}",
        example_scores.iter().filter(|(ai, s)| *ai && *s > 0.70).count(),
        example_scores.iter().filter(|(ai, s)| !*ai && *s < 0.50).count(),
        example_scores.iter().filter(|(ai, _)| *ai).count(),
        example_scores.iter().filter(|(ai, _)| !*ai).count(),
        lowest_ai > highest_human
    )?;
    // The fitting set first (where weights were chosen), then the held-out one.
    labelled_separation(
        &mut out,
        calibration,
        &calibration_texts,
        &calibration_set,
        false,
    )?;
    labelled_separation(&mut out, held_out, &held_out_texts, &held_out_set, true)?;
    if let Some(path) = dump {
        scorer.write_dump(path)?;
    }
    Ok(out)
}

/// A density sub-field of a result, when the language model measured it.
fn density_detail(result: &SlopResult, field: &str) -> Option<f64> {
    result
        .metrics
        .get("density")?
        .details
        .get(field)
        .copied()
        .flatten()
}

/// Each language-model statistic on its own: its spread over test_dataset.json and rank
/// correlation with the expected scores there, and its AUROC (higher value = slop) on the
/// calibration set, where ranges and weights may be fitted, and on the held-out set, where
/// they may not.
fn language_model_statistics(
    out: &mut String,
    results: &[SlopResult],
    expected: &[f64],
    calibration: &[(SlopResult, f64)],
    held_out: &[(SlopResult, f64)],
) -> anyhow::Result<()> {
    let labelled_auroc = |set: &[(SlopResult, f64)], field: &str| {
        let of_label = |label: f64| -> Vec<f64> {
            set.iter()
                .filter(|(_, l)| *l == label)
                .filter_map(|(r, _)| density_detail(r, field))
                .collect()
        };
        auroc(&of_label(1.0), &of_label(0.0))
    };
    for (field, use_) in [
        ("lm_mean_surprisal_bits", "reported only"),
        ("lm_surprisal_cv", "reported only"),
        ("lm_curvature", "Fast-DetectGPT, reported only"),
        (
            "lm_surprisal_to_entropy",
            "Binoculars with one model, reported only",
        ),
        ("lm_mean_log2_rank", "log-rank, LOG2_RANK_RANGE"),
        (
            "lm_sentence_surprisal_sd",
            "burstiness, BURSTINESS_BITS_RANGE",
        ),
    ] {
        let (values, paired): (Vec<f64>, Vec<f64>) = results
            .iter()
            .zip(expected)
            .filter_map(|(r, e)| Some((density_detail(r, field)?, *e)))
            .unzip();
        if values.is_empty() {
            writeln!(out, "{field}: no language model")?;
            continue;
        }
        writeln!(
            out,
            "{field} ({use_}): p10 {:.2}, p50 {:.2}, p90 {:.2}; Spearman rho with expected {:.3}; AUROC calibration {:.3}, held-out {:.3}",
            percentile(&values, 0.1),
            percentile(&values, 0.5),
            percentile(&values, 0.9),
            spearman(&values, &paired),
            labelled_auroc(calibration, field),
            labelled_auroc(held_out, field),
        )?;
    }
    Ok(())
}

/// How well the score separates a labelled set (issue 30's held-out zero-shot.jsonl, written
/// before any tuning: AI text that avoids clichés against human text that sounds formulaic),
/// overall and for each kind of text against the other label; `ranked` lists every text.
fn labelled_separation(
    out: &mut String,
    path: &Path,
    texts: &[LabelledText],
    results: &[(SlopResult, f64)],
    ranked: bool,
) -> anyhow::Result<()> {
    let scored: Vec<(&LabelledText, f64)> = texts
        .iter()
        .zip(results)
        .map(|(text, (result, _))| (text, f64::from(result.slop_score)))
        .collect();
    let scores_where = |keep: &dyn Fn(&LabelledText) -> bool| -> Vec<f64> {
        scored
            .iter()
            .filter(|(t, _)| keep(t))
            .map(|(_, s)| *s)
            .collect()
    };
    let slop = scores_where(&|t| t.is_slop());
    let human = scores_where(&|t| !t.is_slop());
    writeln!(
        out,
        "{}: {} slop / {} human texts: AUROC {:.3}, TPR at 1% FPR {:.3}, TPR at 5% FPR {:.3}",
        path.display(),
        slop.len(),
        human.len(),
        auroc(&slop, &human),
        tpr_at_fpr(&slop, &human, 0.01),
        tpr_at_fpr(&slop, &human, 0.05)
    )?;
    // A kind holds one label; the calibration set's first 24 texts have no kind.
    let mut kinds: Vec<(&str, bool)> = texts
        .iter()
        .filter(|t| !t.kind.is_empty())
        .map(|t| (t.kind.as_str(), t.is_slop()))
        .collect();
    kinds.sort();
    kinds.dedup();
    for (kind, slop_kind) in kinds {
        let of_kind = scores_where(&|t| t.kind == kind);
        let (area, against) = if slop_kind {
            (auroc(&of_kind, &human), "all human")
        } else {
            (auroc(&slop, &of_kind), "all slop")
        };
        let mean = of_kind.iter().sum::<f64>() / of_kind.len().max(1) as f64;
        writeln!(
            out,
            "  {kind:<16} {} texts, mean score {mean:.3}, AUROC against {against} {area:.3}",
            of_kind.len()
        )?;
    }
    if !ranked {
        return Ok(());
    }
    let mut by_score: Vec<&(&LabelledText, f64)> = scored.iter().collect();
    by_score.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (text, s) in by_score {
        writeln!(
            out,
            "    {s:.3} {:<5} {}",
            if text.is_slop() { "slop" } else { "human" },
            text.doc_id
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_counts_ordered_pairs_and_ties_half() {
        assert_eq!(auroc(&[0.9, 0.8], &[0.1, 0.2]), 1.0);
        assert_eq!(auroc(&[0.1], &[0.9]), 0.0);
        // (0.5 vs 0.5) ties, (0.5 vs 0.1) wins: 1.5 of 2 pairs.
        assert_eq!(auroc(&[0.5], &[0.5, 0.1]), 0.75);
    }

    #[test]
    fn tpr_at_one_percent_fpr_lets_no_human_text_through_below_a_hundred() {
        let human = [0.2, 0.6, 0.3];
        // Only slop strictly above the highest human score counts.
        assert_eq!(tpr_at_fpr(&[0.7, 0.6, 0.5, 0.9], &human, 0.01), 0.5);
        // With 40 % allowed, one human text (0.6) may pass: the threshold is 0.3.
        assert_eq!(tpr_at_fpr(&[0.7, 0.6, 0.5, 0.2], &human, 0.4), 0.75);
    }
}
